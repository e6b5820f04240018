"""The embedded planner: a useful report from profiles alone, deterministic, no model.

It reads each column's role from the profile (`roles`): a measure, a time axis,
categories, revenue and cost, rates, period columns; and binds every figure it
mentions to a metric or a query. Wording that depends on a figure's sign uses
sign-following placeholders, so a plan stays true on next month's data.
"""

from __future__ import annotations

import re

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
    Transform,
    Unpivot,
)
from docagent.planners.roles import (
    base_of,
    category,
    ident,
    measures,
    ordinal_axis,
    phrase,
    rates,
    readable,
    revenue_and_cost,
    span_days,
    time_axis,
)
from docagent.planners.words import words

YEAR_DAYS = 366  # more than a year of data: compare with a year ago


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


def q(name: str) -> str:
    """A column name as the expression grammar reads it: always double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def margin_expr(rev: str, cost: str) -> str:
    return f"(sum({q(rev)}) - sum({q(cost)})) / sum({q(rev)})"


def plan_report(profiles: list[Profile], prompt: str, language: str = "en") -> Plan:
    if not profiles:
        raise NothingToPlan(
            "the rules planner needs data to write a document: attach a CSV, TSV, XLSX, JSON "
            "or Parquet file, or configure a model endpoint (DOCAGENT_LLM_BASE_URL) so that "
            "documents can be written from a prompt alone"
        )
    w = words(language)
    main = profiles[0]
    title = title_from(prompt, w["title"].format(name=readable(main.dataset)))
    taken: set[str] = set()
    metrics: list[Metric] = []
    blocks: list[Block] = []
    for n, p in enumerate(profiles[:3]):
        section = _Section(p, w, taken, prompt, multi=len(profiles) > 1)
        blocks += section.build(first=n == 0)
        metrics += section.metrics
    blocks += _appendix(profiles, w)
    meta = Meta(
        title=title,
        subtitle=w["subtitle"].format(source=", ".join(p.source for p in profiles)),
        language=language,
        kind="report",
    )
    return Plan(meta=meta, metrics=metrics, blocks=blocks)


class _Section:
    """One dataset's part of the report."""

    def __init__(self, p: Profile, w: dict[str, str], taken: set[str], prompt: str, multi: bool) -> None:
        self.p, self.w, self.taken, self.multi = p, w, taken, multi
        self.ds = p.dataset
        self.ms = measures(p)
        self.m = self.ms[0] if self.ms else None
        self.cat = category(p)
        self.axis = time_axis(p, prompt)
        self.pair = revenue_and_cost(self.ms)
        self.rates = rates(p)
        self.unpivot: Unpivot | None = None
        self.value = ""  # the unpivoted value's name, e.g. "Budget" from budget.xlsx
        if len(p.period_columns) >= 2:
            taken = {c.name for c in p.columns}
            self.value = _fresh(readable(p.source.rsplit(".", 1)[0]) or w["value"], taken)
            self.unpivot = Unpivot(columns=p.period_columns, name=_fresh(w["period"], taken), value=self.value)
        self.metrics: list[Metric] = []
        self.kpis: list[Kpi] = []
        self.sentences: list[str] = []

    def name(self, text: str) -> str:
        return ident(f"{self.ds}_{text}" if self.multi else text, self.taken, f"m_{len(self.taken)}")

    def metric(self, key: str, **kw: object) -> str:
        name = self.name(key)
        self.metrics.append(Metric(name=name, dataset=self.ds, **kw))
        return name

    @property
    def level(self) -> int:
        return 2 if self.multi else 1

    def build(self, first: bool) -> list[Block]:
        w = self.w
        blocks: list[Block] = []
        if self.multi:
            blocks.append(Heading(text=w["dataset"].format(name=self.p.source), level=1))
        blocks.append(Heading(text=w["summary"], level=self.level))
        rows = self.metric("records", label=w["records"], agg=Agg.count, format=Fmt.integer)
        self.sentences.append(w["covers"].format(rows=f"{{{rows}}}", source=self.p.source))
        self._totals()
        self._period_metrics()
        self._latest()
        self._margin()
        self._rates()
        self.sentences += [w["note"].format(note=n) for n in self.p.notes]
        self.kpis.append(Kpi(metric=rows, label=w["records"]))
        blocks.append(Paragraph(text=w["sep"].join(self.sentences)))
        if first or self.multi:
            blocks.append(Kpis(items=self.kpis[:6]))
        blocks += self._trend()
        blocks += self._periods()
        blocks += self._drivers()
        blocks += self._breakdown()
        if self.m is None and self.cat is None and not self.p.period_columns:
            blocks.append(Bullets(items=[w["no_measure"]]))
        return blocks

    # -- metrics and prose -------------------------------------------------------------

    def _fmt(self, c: ColumnProfile) -> Fmt:
        big = (c.mean or 0) * self.p.rows >= 1e6
        return Fmt.compact if big else Fmt.integer if c.type == "integer" else Fmt.number

    def _totals(self) -> None:
        if self.m is None:
            return
        m, w = self.m, self.w
        already = re.match(
            r"(grand\s+)?total\b|合计|总计", phrase(m.name), re.I
        )  # "total_bill": not "Total total bill"
        label = readable(m.name) if already else w["total"].format(m=phrase(m.name))
        total = self.metric(
            m.name if already else f"total_{m.name}", label=label, agg=Agg.sum, column=m.name, format=self._fmt(m)
        )
        self.kpis.append(Kpi(metric=total))
        self.sentences.append(w["total_sentence"].format(label=label, total=f"{{{total}}}"))

    def _relative(self, key: str, label: str, period: Period, **kw: object) -> str:
        assert self.axis is not None
        col, bucket = self.axis
        return self.metric(key, label=label, time_column=col.name, bucket=bucket, period=period, **kw)

    def _latest(self) -> None:
        if self.m is None or self.axis is None:
            return
        m, w = self.m, self.w
        col, bucket = self.axis
        b, label = w[bucket], readable(m.name)
        value = {"agg": Agg.sum, "column": m.name}
        latest = self._relative(
            f"latest_{m.name}", w["latest"].format(m=label, bucket=b), Period.latest, format=self._fmt(m), **value
        )
        change = {"format": Fmt.percent, "result": "pct_change", **value}
        prev = self._relative(
            f"{m.name}_vs_previous", w["vs_previous"].format(bucket=b), Period.latest, compare="previous", **change
        )
        self.kpis.append(Kpi(metric=prev, label=w["vs_previous"].format(bucket=b)))
        text = w["latest_sentence"].format(bucket=b, m=phrase(m.name), latest=f"{{{latest}}}", change=_moved(prev, w))
        if span_days(col) > YEAR_DAYS and bucket != Bucket.year:
            yoy = self._relative(
                f"{m.name}_vs_year_ago", w["vs_year_ago"].format(bucket=b), Period.latest, compare="year_ago", **change
            )
            self.kpis.append(Kpi(metric=yoy, label=w["vs_year_ago"].format(bucket=b)))
            text += w["yoy_clause"].format(bucket=b, change=_moved(yoy, w))
        self.sentences.append(text + w["stop"])

    def _margin(self) -> None:
        if self.pair is None:
            return
        rev, cost = self.pair
        w, expr = self.w, margin_expr(rev.name, cost.name)
        gm = self.metric("gross_margin", label=w["margin"], expr=expr, format=Fmt.percent)
        self.kpis.insert(1, Kpi(metric=gm))
        text = w["margin_sentence"].format(rev=phrase(rev.name), cost=phrase(cost.name), gm=f"{{{gm}}}")
        if self.axis is not None:
            b = w[self.axis[1]]
            pct = {"expr": expr, "format": Fmt.percent}
            last = self._relative("gross_margin_latest", w["margin_latest"].format(bucket=b), Period.latest, **pct)
            before = self._relative(
                "gross_margin_previous", w["margin_previous"].format(bucket=b), Period.previous, **pct
            )
            text += w["margin_trend"].format(bucket=b, last=f"{{{last}}}", before=f"{{{before}}}")
        self.sentences.append(text + w["stop"])

    def _rates(self) -> None:
        """Rates are averaged (weighted by their base where evident), never summed."""
        for r in self.rates[:2]:
            base = base_of(r, self.ms)
            w, label = self.w, readable(r.name)
            if base is not None:
                expr = f"sum({q(r.name)} * {q(base.name)}) / sum({q(base.name)})"
                how = w["weighted"].format(base=phrase(base.name))
                how_kw: dict[str, object] = {"expr": expr}
            else:
                how, how_kw = "", {"agg": Agg.avg, "column": r.name}
            avg = self.metric(f"avg_{r.name}", label=w["average"].format(m=label), format=Fmt.number, **how_kw)
            self.sentences.append(w["rate_sentence"].format(m=label, avg=f"{{{avg}}}", how=how))

    # -- charts and tables -------------------------------------------------------------

    def _trend(self) -> list[Block]:
        w, m = self.w, self.m
        if m is None:
            return []
        if self.axis is None:
            return self._ordinal_trend(m)
        col, bucket = self.axis
        b = w[bucket]
        period = Select(column=col.name, bucket=bucket, label=w["period"])
        sel = [period, Select(column=m.name, agg=Agg.sum, label=readable(m.name))]
        second = self.pair[1] if self.pair else self.ms[1] if len(self.ms) > 1 else None
        if second is not None:
            sel.append(Select(column=second.name, agg=Agg.sum, label=readable(second.name)))
        shown = [m, second] if second else [m]
        title = w["trend_title"].format(m=" & ".join(readable(x.name) for x in shown), bucket=b)
        # revenue and cost share one axis (their gap is the margin); other pairs get a line on their own axis
        same_axis = self.pair is not None
        ys = [readable(m.name)] + ([readable(second.name)] if same_axis and second else [])
        blocks: list[Block] = [
            Heading(text=w["trend"], level=self.level),
            Chart(
                kind=ChartKind.combo if second and not same_axis else ChartKind.line,
                title=title,
                caption=w["trend_caption"].format(bucket=b),
                query=Query(dataset=self.ds, select=sel),
                x=w["period"],
                y=ys,
                y2=[readable(second.name)] if second and not same_axis else None,
            ),
        ]
        if self.pair is not None:
            expr = margin_expr(self.pair[0].name, self.pair[1].name)
            blocks.append(
                Chart(
                    kind=ChartKind.line,
                    title=w["margin_title"].format(bucket=b),
                    caption=w["margin_caption"].format(
                        rev=readable(self.pair[0].name), cost=readable(self.pair[1].name)
                    ),
                    query=Query(
                        dataset=self.ds,
                        select=[period, Select(expr=expr, label=w["margin"], format=Fmt.percent)],
                    ),
                    x=w["period"],
                    y=[w["margin"]],
                )
            )
        return blocks

    def _ordinal_trend(self, m: ColumnProfile) -> list[Block]:
        """No date column but a key with a natural order (months, T1..T4): a trend along it."""
        key = ordinal_axis(self.p)
        if key is None:
            return []
        w, label = self.w, readable(m.name)
        query = Query(
            dataset=self.ds,
            select=[Select(column=key.name), Select(column=m.name, agg=Agg.sum, label=label)],
            sort=[Sort(by=key.name, order=key.order)],
        )
        title = w["rank_title"].format(m=label, c=readable(key.name))
        return [
            Heading(text=w["trend"], level=self.level),
            Chart(kind=ChartKind.line, title=title, query=query, x=key.name, y=[label]),
        ]

    def _periods(self) -> list[Block]:
        """Period columns (Q1..Q4, 2024..2026) unpivoted into one key and one value."""
        u, w = self.unpivot, self.w
        if u is None:
            return []
        total = Select(column=u.value, agg=Agg.sum, label=u.value)
        blocks: list[Block] = [
            Heading(text=w["periods"], level=self.level),
            Chart(
                kind=ChartKind.line if len(u.columns) > 4 else ChartKind.bar,
                title=w["trend_title"].format(m=u.value, bucket=u.name.lower()),
                caption=w["periods_caption"].format(n=len(u.columns)),
                query=Query(dataset=self.ds, unpivot=u, select=[Select(column=u.name), total]),
                x=u.name,
                y=[u.value],
            ),
        ]
        if self.cat is not None:
            c = readable(self.cat.name)
            blocks.append(
                Chart(
                    kind=ChartKind.grouped_bar,
                    title=w["rank_title"].format(m=u.value, c=c),
                    caption=w["series_caption"].format(c=c),
                    query=Query(
                        dataset=self.ds,
                        unpivot=u,
                        select=[Select(column=u.name), Select(column=self.cat.name, label=c), total],
                    ),
                    x=u.name,
                    y=[u.value],
                    series=c,
                )
            )
        return blocks

    def _period_metrics(self) -> None:
        """With no other measure, the period columns' total and the last period against the one before."""
        u, w = self.unpivot, self.w
        if u is None or self.m is not None:
            return
        sums = [f"sum({q(c)})" for c in u.columns]
        label = w["total"].format(m=u.value.lower()) if u.value.isascii() else u.value
        cols = [c for c in self.p.columns if c.name in u.columns]
        whole = all(c.type == "integer" for c in cols)
        big = sum(abs(c.mean or 0) for c in cols) * self.p.rows >= 1e6
        fmt = Fmt.compact if big else Fmt.integer if whole else Fmt.number
        total = self.metric(f"total_{u.value}", label=_cap(label), expr=" + ".join(sums), format=fmt)
        last, before = sums[-1], sums[-2]
        change = self.metric(
            f"{u.columns[-1]}_vs_{u.columns[-2]}",
            label=w["vs_column"].format(last=u.columns[-1], before=u.columns[-2]),
            expr=f"({last} - {before}) / {before}",
            format=Fmt.percent,
        )
        self.kpis += [Kpi(metric=total), Kpi(metric=change)]
        self.sentences.append(w["total_sentence"].format(label=_cap(label), total=f"{{{total}}}"))
        moved = _moved(change, w)
        self.sentences.append(w["column_sentence"].format(last=u.columns[-1], before=u.columns[-2], change=moved))

    def _drivers(self) -> list[Block]:
        """Which categories moved the latest period's change most."""
        if self.m is None or self.axis is None or self.cat is None:
            return []
        col, bucket = self.axis
        w, m, c = self.w, readable(self.m.name), readable(self.cat.name)
        change = w["change_col"].format(bucket=w[bucket])
        select = [
            Select(column=col.name, bucket=bucket, label=w["period"]),
            Select(column=self.cat.name, label=c),
            Select(column=self.m.name, agg=Agg.sum, label=m),
            Select(column=self.m.name, agg=Agg.sum, transform=Transform.diff, label=change),
            Select(
                column=self.m.name,
                agg=Agg.sum,
                transform=Transform.pct_change,
                label=w["change_pct"],
                format=Fmt.percent,
            ),
        ]
        query = Query(
            dataset=self.ds,
            select=select,
            sort=[Sort(by=w["period"], desc=True), Sort(by=change, desc=True)],
            limit=min(self.cat.distinct, 12),
        )
        return [
            Heading(text=w["drivers"].format(bucket=w[bucket]), level=self.level),
            Table(
                title=w["drivers_title"].format(m=m, c=c, bucket=w[bucket]),
                caption=w["drivers_caption"].format(bucket=w[bucket]),
                query=query,
            ),
        ]

    def _breakdown(self) -> list[Block]:
        cat, w = self.cat, self.w
        if cat is None:
            return []
        c = readable(cat.name)
        counted = Select(agg=Agg.count, label=w["records"], format=Fmt.integer)
        key = Select(column=cat.name, label=c)
        if self.m is not None:
            ylabel = readable(self.m.name)
            value = Select(column=self.m.name, agg=Agg.sum, label=ylabel)
            share = Select(
                column=self.m.name, agg=Agg.sum, transform=Transform.share, label=w["share"], format=Fmt.percent
            )
            sel = [key, value, share]
            sel += [Select(column=x.name, agg=Agg.sum, label=readable(x.name)) for x in self.ms[1:3]]
            if self.pair is not None:
                expr = margin_expr(self.pair[0].name, self.pair[1].name)
                sel.append(Select(expr=expr, label=w["margin"], format=Fmt.percent))
            sel += [self._rate_select(r) for r in self.rates[:2]]
            sel.append(counted)
            chart_sel = [key, value]
        elif self.unpivot is not None:  # a wide sheet: the categories' totals over every period column
            ylabel = self.unpivot.value
            value = Select(column=ylabel, agg=Agg.sum, label=ylabel)
            share = Select(column=ylabel, agg=Agg.sum, transform=Transform.share, label=w["share"], format=Fmt.percent)
            sel, chart_sel = [key, value, share], [key, value]
        else:
            ylabel = w["records"]
            sel = chart_sel = [key, counted]
        u = self.unpivot if self.m is None else None
        sort = [Sort(by=ylabel, desc=True)]
        return [
            Heading(text=w["by"].format(c=c), level=self.level),
            Chart(
                kind=ChartKind.hbar if cat.distinct > 6 else ChartKind.bar,
                title=w["rank_title"].format(m=ylabel, c=c),
                caption=w["rank_caption" if cat.distinct > 12 else "rank_caption_all"].format(c=c),
                query=Query(dataset=self.ds, unpivot=u, select=chart_sel, sort=sort, limit=12),
                x=c,
                y=[ylabel],
            ),
            Table(
                title=w["table_title"].format(c=c),
                caption=w["table_caption"],
                query=Query(dataset=self.ds, unpivot=u, select=sel, sort=sort, limit=50),
                totals=True,
            ),
        ]

    def _rate_select(self, r: ColumnProfile) -> Select:
        base = base_of(r, self.ms)
        label = self.w["average"].format(m=readable(r.name))
        if base is None:
            return Select(column=r.name, agg=Agg.avg, label=label, format=Fmt.number)
        expr = f"sum({q(r.name)} * {q(base.name)}) / sum({q(base.name)})"
        return Select(expr=expr, label=label, format=Fmt.number)


def _fresh(name: str, taken: set[str]) -> str:
    """A new column name for an unpivot's key or value, clear of the dataset's own."""
    out, n = name, 2
    while out in taken:
        out, n = f"{name} {n}", n + 1
    taken.add(out)
    return out


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _moved(metric: str, w: dict[str, str]) -> str:
    """'rose by 5.2%' / 'fell by 3.1%' / 'changed by 0.0%', following the bound value's sign, in the
    language's order ('4.1%増加' in Japanese)."""
    word = f"{{{metric}|{w['rose']}|{w['fell']}|{w['flat']}}}"
    return w["moved"].format(word=word, amount=f"{{{metric}:abs}}")


def _appendix(profiles: list[Profile], w: dict[str, str]) -> list[Block]:
    blocks: list[Block] = [Heading(text=w["appendix"], level=1)]
    for p in profiles:
        rows: list[list[str | float | int | bool | None]] = []
        for c in p.columns:
            if c.order:
                example = ", ".join(c.order[:3]) + (" …" if len(c.order) > 3 else "")
            elif c.top:
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


__all__ = ["plan_report", "title_from"]
