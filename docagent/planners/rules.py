"""The embedded planner: a useful report from profiles alone, deterministic, no model.

It picks a measure, a time axis and a category from the profile, and binds every
figure it mentions to a metric or a query.
"""

from __future__ import annotations

import re
import unicodedata

from docagent.data.catalog import NUMERIC
from docagent.data.profile import ColumnProfile, Profile
from docagent.errors import NothingToPlan
from docagent.plan import (
    Agg,
    Block,
    Bucket,
    Bullets,
    Chart,
    ChartKind,
    Fmt,
    Heading,
    Kpi,
    Kpis,
    Meta,
    Metric,
    Paragraph,
    Period,
    Plan,
    Query,
    Select,
    Sort,
    Table,
)
from docagent.planners.words import words

# Most telling first: a report on sales leads with revenue, not with units.
MEASURE_HINTS = [
    "revenue",
    "sales",
    "销售",
    "收入",
    "amount",
    "金额",
    "income",
    "profit",
    "利润",
    "total",
    "value",
    "spend",
    "cost",
    "price",
    "units",
    "qty",
    "quantity",
    "数量",
]
ID_HINTS = re.compile(r"(^|_|\b)(id|code|zip|postcode|phone|year|no|number)($|_|\b)", re.I)
TEMPORAL = ("date", "datetime")


def ident(text: str, taken: set[str], fallback: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_).strip("_")
    if not name or not name[0].isalpha():
        name = fallback
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def title_from(prompt: str, fallback: str) -> str:
    first = re.split(r"(?<=[.!?。！？])\s*|\n", prompt.strip(), maxsplit=1)[0].strip(" .。")
    first = re.sub(
        r"^(please\s+)?(write|create|make|generate|build|produce|prepare)\s+(me\s+)?(an?|the)?\s*",
        "",
        first,
        flags=re.I,
    )
    first = re.sub(r"^(请)?(帮我)?(写|生成|制作|做)(一份|一个)?", "", first)
    if not first:
        return fallback
    if len(first) > 90:
        first = first[:87].rsplit(" ", 1)[0] + "…"
    return first[0].upper() + first[1:]


def measures(p: Profile) -> list[ColumnProfile]:
    cols = [
        c
        for c in p.columns
        if c.type in NUMERIC
        and not ID_HINTS.search(c.name)
        and not (c.type == "integer" and c.distinct == p.rows and p.rows > 20)
        and c.distinct > 1
    ]

    def rank(c: ColumnProfile) -> int:
        name = c.name.lower()
        return next((i for i, h in enumerate(MEASURE_HINTS) if h in name), len(MEASURE_HINTS))

    return sorted(cols, key=rank)


def category(p: Profile) -> ColumnProfile | None:
    cands = [c for c in p.columns if c.type == "text" and 2 <= c.distinct <= 50 and c.nulls < p.rows]
    # prefer a handful of groups over two or fifty, and complete columns
    return min(cands, key=lambda c: (abs(c.distinct - 8), c.nulls), default=None)


def time_axis(p: Profile) -> tuple[ColumnProfile, Bucket] | None:
    for c in p.columns:
        if c.type in TEMPORAL and c.distinct > 1 and c.min and c.max:
            days = _days(str(c.min), str(c.max))
            bucket = (
                Bucket.quarter
                if days > 1100
                else Bucket.month
                if days > 90
                else Bucket.week
                if days > 21
                else Bucket.day
            )
            return c, bucket
    return None


def _days(lo: str, hi: str) -> int:
    from datetime import date

    return (date.fromisoformat(hi[:10]) - date.fromisoformat(lo[:10])).days


def plan_report(profiles: list[Profile], prompt: str, language: str = "en") -> Plan:
    if not profiles:
        raise NothingToPlan(
            "the rules planner needs data to write a document: attach a CSV, TSV, XLSX, JSON "
            "or Parquet file, or configure a model endpoint (DOCAGENT_LLM_BASE_URL) so that "
            "documents can be written from a prompt alone"
        )
    w = words(language)
    main = profiles[0]
    title = title_from(prompt, w["title"].format(name=main.dataset.replace("_", " ").title()))
    taken: set[str] = set()
    metrics: list[Metric] = []
    blocks: list[Block] = []
    for n, p in enumerate(profiles[:3]):
        sec_metrics, sec_blocks = _section(p, w, taken, multi=len(profiles) > 1, first=n == 0)
        metrics += sec_metrics
        blocks += sec_blocks
    blocks += _appendix(profiles, w)
    meta = Meta(
        title=title,
        subtitle=w["subtitle"].format(source=", ".join(p.source for p in profiles)),
        author="docagent",
        language=language,
        kind="report",
    )
    return Plan(meta=meta, metrics=metrics, blocks=blocks)


def _section(
    p: Profile, w: dict[str, str], taken: set[str], multi: bool, first: bool
) -> tuple[list[Metric], list[Block]]:
    ds = p.dataset
    ms, cat, axis = measures(p), category(p), time_axis(p)
    rows = ident(f"{ds}_records" if multi else "records", taken, "records")
    metrics = [Metric(name=rows, label=w["records"], dataset=ds, agg=Agg.count, format=Fmt.integer)]
    blocks: list[Block] = []
    if multi:
        blocks.append(Heading(text=w["dataset"].format(name=p.source), level=1))
    blocks.append(Heading(text=w["summary"], level=2 if multi else 1))
    sentences = [w["covers"].format(rows=f"{{{rows}}}", source=p.source)]
    kpis = [Kpi(metric=rows, label=w["records"])]
    m = ms[0] if ms else None
    if m is not None:
        big = (m.mean or 0) * p.rows >= 1e6
        fmt = Fmt.compact if big else Fmt.integer if m.type == "integer" else Fmt.number
        total = ident(f"total_{m.name}", taken, f"total_{len(taken)}")
        avg = ident(f"avg_{m.name}", taken, f"avg_{len(taken)}")
        metrics += [
            Metric(
                name=total,
                label=w["total"].format(m=m.name),
                dataset=ds,
                agg=Agg.sum,
                column=m.name,
                format=fmt,
            ),
            Metric(
                name=avg,
                label=w["average"].format(m=m.name),
                dataset=ds,
                agg=Agg.avg,
                column=m.name,
                format=Fmt.number,
            ),
        ]
        kpis += [Kpi(metric=total), Kpi(metric=avg)]
        sentences.append(w["total_sentence"].format(m=m.name, total=f"{{{total}}}", avg=f"{{{avg}}}"))
        if axis:
            col, bucket = axis
            change = ident(f"change_{m.name}", taken, f"change_{len(taken)}")
            metrics.append(
                Metric(
                    name=change,
                    label=w["change"].format(bucket=w[bucket]),
                    dataset=ds,
                    agg=Agg.sum,
                    column=m.name,
                    period=Period.change,
                    time_column=col.name,
                    bucket=bucket,
                    format=Fmt.percent,
                )
            )
            kpis.append(Kpi(metric=change))
            sentences.append(w["change_sentence"].format(m=m.name, bucket=w[bucket], change=f"{{{change}}}"))
    blocks.append(Paragraph(text=" ".join(sentences)))
    if first or multi:
        blocks.append(Kpis(items=kpis[:4]))
    if axis and m is not None:
        col, bucket = axis
        blocks.append(Heading(text=w["trend"], level=2 if multi else 1))
        sel = [
            Select(column=col.name, bucket=bucket, label=w["period"]),
            Select(column=m.name, agg=Agg.sum, label=m.name),
        ]
        if len(ms) > 1:
            sel.append(Select(column=ms[1].name, agg=Agg.sum, label=ms[1].name))
        kind = ChartKind.combo if len(ms) > 1 else ChartKind.line
        blocks.append(
            Chart(
                kind=kind,
                title=w["trend_title"].format(m=_cap(" & ".join(x.name for x in ms[:2])), bucket=w[bucket]),
                caption=w["trend_caption"].format(bucket=w[bucket]),
                query=Query(dataset=ds, select=sel),
                x=w["period"],
                y=[m.name],
                y2=[ms[1].name] if len(ms) > 1 else None,
            )
        )
    if cat is not None:
        blocks.append(Heading(text=w["by"].format(c=cat.name), level=2 if multi else 1))
        if m is not None:
            value = Select(column=m.name, agg=Agg.sum, label=m.name)
            chart_q = Query(
                dataset=ds,
                select=[Select(column=cat.name), value],
                sort=[Sort(by=m.name, desc=True)],
                limit=12,
            )
            sel = [Select(column=cat.name), value]
            sel += [Select(column=x.name, agg=Agg.sum, label=x.name) for x in ms[1:3]]
            sel.append(Select(agg=Agg.count, label=w["records"], format=Fmt.integer))
            sort = [Sort(by=m.name, desc=True)]
            ylabel = m.name
        else:
            counted = Select(agg=Agg.count, label=w["records"], format=Fmt.integer)
            chart_q = Query(
                dataset=ds,
                select=[Select(column=cat.name), counted],
                sort=[Sort(by=w["records"], desc=True)],
                limit=12,
            )
            sel, sort, ylabel = (
                [Select(column=cat.name), counted],
                [Sort(by=w["records"], desc=True)],
                w["records"],
            )
        blocks.append(
            Chart(
                kind=ChartKind.hbar if cat.distinct > 6 else ChartKind.bar,
                title=w["rank_title"].format(m=_cap(ylabel), c=cat.name),
                caption=w["rank_caption" if cat.distinct > 12 else "rank_caption_all"].format(c=cat.name),
                query=chart_q,
                x=cat.name,
                y=[ylabel],
            )
        )
        blocks.append(
            Table(
                title=w["table_title"].format(c=cat.name),
                caption=w["table_caption"],
                query=Query(dataset=ds, select=sel, sort=sort, limit=50),
                totals=True,
            )
        )
    if m is None and cat is None:
        blocks.append(Bullets(items=[w["no_measure"]]))
    return metrics, blocks


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _appendix(profiles: list[Profile], w: dict[str, str]) -> list[Block]:
    blocks: list[Block] = [Heading(text=w["appendix"], level=1)]
    for p in profiles:
        rows: list[list[str | float | int | bool | None]] = []
        for c in p.columns:
            if c.top:
                example = ", ".join(v for v, _ in c.top[:3])
            elif c.min is not None:
                example = f"{c.min} – {c.max}"
            else:
                example = ""
            rows.append([c.name, w[f"type_{c.type}"], example])
        blocks.append(
            Table(
                title=w["dictionary"].format(source=p.source),
                caption=None,
                columns=[w["column"], w["type"], w["examples"]],
                rows=rows,
            )
        )
    return blocks
