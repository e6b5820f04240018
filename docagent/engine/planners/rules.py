"""The embedded planner: a useful report from profiles alone, deterministic, no model.

It reads each column's role from the profile (docagent.engine.data.roles): additive
measures are summed, averages (rates, prices, temperatures) averaged, stocks
(headcount, balances) read at one time and never added over time, identifiers
never aggregated. It reads the request (docagent.engine.planners.request) for periods,
the columns it names, comparisons and thresholds, and says in the notes what it
could not do. Every figure is bound to a metric or a query; wording that depends
on a figure's sign uses sign-following placeholders, so a plan stays true on
next month's data. A latest period still running is never set against a whole one.
"""

from __future__ import annotations

import re

from docagent.engine.data.profile import ColumnProfile, Profile
from docagent.engine.data.roles import Stats, role_of
from docagent.engine.formatting import format_value
from docagent.engine.plan import (
    Agg,
    Block,
    Bucket,
    Bullets,
    Chart,
    ChartKind,
    DocKind,
    Filter,
    Fmt,
    Heading,
    Highlight,
    Kpi,
    Kpis,
    Meta,
    Metric,
    Op,
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
from docagent.engine.planners.request import Ask, grouped_by, names_in, read, short_title
from docagent.engine.planners.roles import (
    base_of,
    cadence,
    category,
    ident,
    measures,
    ordinal_axis,
    partial_latest,
    phrase,
    rates,
    readable,
    revenue_and_cost,
    span_days,
    stocks,
    time_axis,
)
from docagent.engine.planners.words import words
from docagent.errors import NothingToPlan

YEAR_DAYS = 366  # more than a year of data: compare with a year ago


def title_from(prompt: str, fallback: str) -> str:
    """A short title a person would write, from the request; `fallback` when the request gives none."""
    return short_title(prompt) or fallback


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
    w, ask = words(language), read(prompt)
    taken: set[str] = set()
    metrics: list[Metric] = []
    blocks: list[Block] = []
    sections = []
    for n, p in enumerate(profiles[:3]):
        section = _Section(p, w, taken, prompt, ask, multi=len(profiles) > 1)
        blocks += section.build(first=n == 0)
        metrics += section.metrics
        sections.append(section)
    notes = list(dict.fromkeys(x for s in sections for x in s.unmet))
    if notes:
        blocks += [Heading(text=w["notes"], level=1), Bullets(items=notes)]
    if ask.kind != DocKind.memo:
        blocks += _appendix(profiles, w, language)
    meta = Meta(
        title=title_from(prompt, w["title"].format(name=sections[0].theme())),
        subtitle=w["subtitle"].format(source=", ".join(dict.fromkeys(p.source for p in profiles))),
        language=language,
        kind=ask.kind,
    )
    return Plan(meta=meta, metrics=metrics, blocks=blocks)


class _Section:
    """One dataset's part of the report."""

    def __init__(self, p: Profile, w: dict[str, str], taken: set[str], prompt: str, ask: Ask, multi: bool) -> None:
        self.p, self.w, self.taken, self.ask, self.multi, self.prompt = p, w, taken, ask, multi, prompt
        self.ds = p.dataset
        self.named = names_in(prompt, [c.name for c in p.columns])
        self.ms, self.stocks, self.rates = measures(p, self.named), stocks(p, self.named), rates(p, self.named)
        numbers = self.ms + self.stocks + self.rates
        asked = sorted((c for c in numbers if c.name in self.named), key=lambda c: self.named.index(c.name))
        self.m = asked[0] if asked else next(iter(numbers), None)
        # Other columns the request names: each gets a figure for the latest period and a place in the tables.
        self.extra = [c for c in asked[1:4] if c.role in ("additive", "stock")]
        self.cats = self._categories()
        self.cat = self.cats[0] if self.cats else None
        self.ms = [x for x in self.ms if x not in self.cats]
        # Prices of four symbols, life expectancy of five continents: averages the request splits by a category
        # are shown per category, never as one mixed average.
        self.split = (
            self.m is not None
            and self.m.role == "average"
            and self.cat is not None
            and grouped_by(prompt, self.cat.name)  # "by symbol"; not "weather" in "Weather summary"
            and self.cat.distinct <= 8
        )
        self.axis = time_axis(p, ask.bucket)
        self.cad = cadence(self.axis[0]) if self.axis else None
        self.partial = self.axis is not None and partial_latest(*self.axis)
        self.pair = revenue_and_cost(self.ms)
        self.unpivot: Unpivot | None = None
        self.value = ""  # the unpivoted value's name: the sheet's name, else the file's
        if len(p.period_columns) >= 2:
            taken = {c.name for c in p.columns}
            own = p.sheet or p.source.rsplit(".", 1)[0]
            self.value = _fresh(readable(own) or w["value"], taken)
            self.unpivot = Unpivot(columns=p.period_columns, name=_fresh(w["period"], taken), value=self.value)
        self.metrics: list[Metric] = []
        self.kpis: list[Kpi] = []
        self.sentences: list[str] = []
        self.unmet: list[str] = []
        self._check_request()

    def _categories(self) -> list[ColumnProfile]:
        lead = self.m.name if self.m is not None else None
        named = [
            c for n in self.named if (c := self.p.column(n)) is not None and 2 <= c.distinct <= 50
            and (c.role == "category" or (c.type == "integer" and c.distinct <= 12 and c.name != lead
                                          and grouped_by(self.prompt, c.name)))
        ]  # fmt: skip  # "tips by party size": a small whole number the request groups by is a dimension
        if named:  # those the request groups by ("by region") first
            return sorted(named, key=lambda c: not grouped_by(self.prompt, c.name))[:2]
        cat = category(self.p, self.named)
        return [cat] if cat else []

    def _check_request(self) -> None:
        """What the request asks that this data cannot give goes to the notes, not silently away."""
        ask, w = self.ask, self.w
        if ask.bucket is not None and self.axis is None and not self.p.period_columns and ordinal_axis(self.p) is None:
            self.unmet.append(w["no_dates"])
        elif ask.bucket is not None and self.axis is not None and self.axis[1] != ask.bucket:
            self.unmet.append(w["no_bucket"].format(asked=w[ask.bucket], used=w[self.axis[1]]))
        if ask.yoy and (self.axis is None or span_days(self.axis[0]) <= YEAR_DAYS):
            self.unmet.append(w["no_yoy"])

    def theme(self) -> str:
        """What the data is about, for a title: the sheet's name, else its lead measure."""
        if self.p.sheet:
            return self.p.sheet
        return readable(self.m.name) if self.m is not None else readable(self.ds)

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
            blocks.append(Heading(text=w["dataset"].format(name=self.p.sheet or self.p.source), level=1))
        blocks.append(Heading(text=w["summary"], level=self.level))
        rows = self.metric("records", label=w["records"], agg=Agg.count, format=Fmt.integer)
        self.sentences.append(w["covers"].format(rows=f"{{{rows}}}", source=self.p.source))
        self._headline()
        self._period_metrics()
        self._latest()
        self._to_date()
        self._extras()
        self._margin()
        self._rates()
        if self.partial and self.axis is not None and self.m is not None and self.m.role != "stock":
            self.sentences.append(w["partial_note"].format(bucket=w[self.axis[1]]))
        self.sentences += [w["note"].format(note=n) for n in self.p.notes]
        self.kpis.append(Kpi(metric=rows, label=w["records"]))
        blocks.append(Paragraph(text=w["sep"].join(self.sentences)))
        if first or self.multi:
            blocks.append(Kpis(items=self.kpis[:6]))
        blocks += self._trend()
        blocks += self._periods()
        blocks += self._drivers()
        for cat in self.cats:
            blocks += self._breakdown(cat)
        limit = self.ask.below if self.ask.below is not None else self.ask.above
        marked = any(isinstance(b, Table) and b.highlight for b in blocks)
        note = w["no_threshold"].format(value=f"{(limit or 0) * 100:g}%")
        if limit is not None and not marked and note not in self.unmet:
            self.unmet.append(note)
        if self.m is None and self.cat is None and not self.p.period_columns:
            blocks.append(Bullets(items=[w["no_measure"]]))
        return blocks

    # -- how each role aggregates ---------------------------------------------------------

    def agg_of(self, c: ColumnProfile) -> dict[str, object]:
        """Select or Metric fields for one column: sums, (weighted) averages; a stock's sum is only ever
        taken within one time (a bucket of the data's own cadence, or the latest one)."""
        if c.role == "average":
            base = base_of(c, self.p)
            if base is not None:
                return {"expr": f"sum({q(c.name)} * {q(base.name)}) / sum({q(base.name)})"}
            return {"agg": Agg.avg, "column": c.name}
        return {"agg": Agg.sum, "column": c.name}

    def label(self, c: ColumnProfile) -> str:
        return self.w["average"].format(m=phrase(c.name)) if c.role == "average" else readable(c.name)

    def _fmt(self, c: ColumnProfile) -> Fmt:
        if c.role == "average":
            return Fmt.number
        times = max(self.axis[0].distinct, 1) if self.axis and c.role == "stock" else 1
        big = (c.mean or 0) * self.p.rows / times >= 1e6
        whole = c.type == "integer" or abs(c.mean or 0) >= 1000  # 55,229 employed, not 55,229.00
        return Fmt.compact if big else Fmt.integer if whole else Fmt.number

    def _bucket_of(self, c: ColumnProfile) -> Bucket:
        """A stock is read per period of the data's own cadence (the level in each month); others per the
        report's bucket."""
        assert self.axis is not None
        return self.cad if c.role == "stock" and self.cad is not None else self.axis[1]

    # -- metrics and prose -------------------------------------------------------------

    def _headline(self) -> None:
        if self.m is None:
            return
        m, w = self.m, self.w
        if m.role == "stock" and self.axis is not None:
            return  # its headline is the latest level (_latest): a level summed over time means nothing
        if m.role == "average" and self.split:
            return
        if m.role == "average":
            avg = self.metric(f"avg_{m.name}", label=self.label(m), format=Fmt.number, **self.agg_of(m))
            self.kpis.append(Kpi(metric=avg))
            base = base_of(m, self.p)
            how = w["weighted"].format(base=phrase(base.name)) if base is not None else ""
            self.sentences.append(w["mean_sentence"].format(m=readable(m.name), avg=f"{{{avg}}}", how=how))
            return
        already = re.match(
            r"(grand\s+)?total\b|合计|总计", phrase(m.name), re.I
        )  # "total_bill": not "Total total bill"
        label = readable(m.name) if already else w["total"].format(m=phrase(m.name))
        total = self.metric(
            m.name if already else f"total_{m.name}", label=label, agg=Agg.sum, column=m.name, format=self._fmt(m)
        )
        self.kpis.append(Kpi(metric=total))
        self.sentences.append(w["total_sentence"].format(label=label, total=f"{{{total}}}"))
        if self.axis is None and self.unpivot is None:  # no time to follow: the typical record says more
            typical = w["average"].format(m=phrase(m.name))
            avg = self.metric(f"avg_{m.name}", label=typical, agg=Agg.avg, column=m.name, format=Fmt.number)
            self.kpis.append(Kpi(metric=avg))
            self.sentences.append(w["total_sentence"].format(label=_cap(typical), total=f"{{{avg}}}"))

    def _relative(self, key: str, label: str, period: Period, bucket: Bucket, **kw: object) -> str:
        assert self.axis is not None
        return self.metric(key, label=label, time_column=self.axis[0].name, bucket=bucket, period=period, **kw)

    def _latest(self) -> None:
        year = ordinal_axis(self.p)
        if self.m is not None and self.axis is None and self.split and year is not None and year.role == "time":
            self._latest_each(self.m, Bucket.year, year)  # life expectancy of each continent in the latest year
        if self.m is None or self.axis is None:
            return
        m, w = self.m, self.w
        bucket = self._bucket_of(m)
        b, label = w[bucket], readable(m.name)
        if self.split:
            self._latest_each(m, bucket)
            return
        # A latest period still running is left out: the last full one is compared with the one before.
        full = self.partial and m.role != "stock" and bucket == self.axis[1]
        period = Period.previous if full else Period.latest
        names = (
            ("full_latest", "full_vs_previous", "full_vs_year_ago")
            if full
            else ("latest", "vs_previous", "vs_year_ago")
        )
        if m.role == "stock":
            names = ("level", "vs_previous", "vs_year_ago")
        latest = self._relative(
            f"latest_{m.name}",
            w[names[0]].format(m=label, bucket=b),
            period,
            bucket,
            format=self._fmt(m),
            **self.agg_of(m),
        )
        self.kpis.insert(0, Kpi(metric=latest)) if m.role == "stock" else None
        # an average moves by points, not by a percentage of itself (2 °C to 4 °C is not +100%)
        result, fmt = ("diff", Fmt.number) if m.role == "average" else ("pct_change", Fmt.percent)
        change = {"format": fmt, "result": result, **self.agg_of(m)}
        prev = self._relative(
            f"{m.name}_vs_previous", w[names[1]].format(bucket=b), period, bucket, compare="previous", **change
        )
        self.kpis.append(Kpi(metric=prev, label=w[names[1]].format(bucket=b)))
        sentence = w["full_sentence" if full else "latest_sentence"]
        text = sentence.format(bucket=b, m=phrase(m.name), latest=f"{{{latest}}}", change=_moved(prev, w))
        if span_days(self.axis[0]) > YEAR_DAYS and bucket != Bucket.year:
            yoy = self._relative(
                f"{m.name}_vs_year_ago", w[names[2]].format(bucket=b), period, bucket, compare="year_ago", **change
            )
            self.kpis.append(Kpi(metric=yoy, label=w[names[2]].format(bucket=b)))
            text += w["yoy_clause"].format(bucket=b, change=_moved(yoy, w))
        self.sentences.append(text + w["stop"])

    def _latest_each(self, m: ColumnProfile, bucket: Bucket, year: ColumnProfile | None = None) -> None:
        """The latest period's value for each value of the category (each symbol's price); with a whole-number
        year column instead of dates, the latest year's."""
        assert self.cat is not None
        full = self.axis is not None and self.partial and bucket == self.axis[1]
        period = Period.previous if full else Period.latest
        key = "full_latest" if full else "latest"
        w, items = self.w, []
        for value, _ in self.cat.top[:5]:
            only = [Filter(column=self.cat.name, op=Op.eq, value=value)]
            kw = {"format": self._fmt(m), **self.agg_of(m)}
            if year is not None:
                label = f"{value}, {year.max}"
                only.append(Filter(column=year.name, op=Op.eq, value=year.max))
                name = self.metric(f"latest_{value}", label=label, filters=only, **kw)
            else:
                label = w[key].format(m=value, bucket=w[bucket])
                name = self._relative(f"latest_{value}", label, period, bucket, filters=only, **kw)
            self.kpis.append(Kpi(metric=name))
            items.append(w["split_item"].format(value=f"{{{name}}}", name=value))
        if period == Period.latest and self.cat.distinct <= len(self.cat.top):  # every value named
            m_text = _noun(self.label(m), w) if m.role == "average" else phrase(m.name)
            self.sentences.append(
                w["split_sentence"].format(bucket=w[bucket], m=m_text, items=w["list_sep"].join(items))
            )

    def _to_date(self) -> None:
        """Year to date against the same span a year earlier, when the request asks for it."""
        m, w = self.m, self.w
        if not self.ask.ytd or m is None or self.axis is None or m.role != "additive":
            return
        label = readable(m.name)
        ytd = self._relative(
            f"ytd_{m.name}",
            w["ytd"].format(m=label),
            Period.to_date,
            Bucket.year,
            format=self._fmt(m),
            **self.agg_of(m),
        )
        self.kpis.insert(1, Kpi(metric=ytd))
        text = w["ytd_sentence"]
        if span_days(self.axis[0]) > YEAR_DAYS:
            vs = self._relative(
                f"ytd_{m.name}_vs_year_ago", w["ytd_vs"], Period.to_date, Bucket.year, compare="year_ago",
                result="pct_change", format=Fmt.percent, **self.agg_of(m),
            )  # fmt: skip
            self.kpis.insert(2, Kpi(metric=vs))
            self.sentences.append(text.format(m=phrase(m.name), ytd=f"{{{ytd}}}", change=_moved(vs, w)))
        else:
            self.sentences.append(w["total_sentence"].format(label=w["ytd"].format(m=label), total=f"{{{ytd}}}"))

    def _extras(self) -> None:
        """Further columns the request names (leavers, sick days): their latest figure, like for like."""
        if self.axis is None:
            return
        w = self.w
        for c in self.extra:
            bucket = self._bucket_of(c)
            full = self.partial and c.role != "stock" and bucket == self.axis[1]
            key = "full_latest" if full else "level" if c.role == "stock" else "latest"
            label = w[key].format(m=readable(c.name), bucket=w[bucket])
            period = Period.previous if full else Period.latest
            name = self._relative(f"latest_{c.name}", label, period, bucket, format=self._fmt(c), **self.agg_of(c))
            self.kpis.insert(1, Kpi(metric=name))
            self.sentences.append(w["total_sentence"].format(label=label, total=f"{{{name}}}"))

    def _margin(self) -> None:
        if self.pair is None:
            return
        rev, cost = self.pair
        w, expr = self.w, margin_expr(rev.name, cost.name)
        gm = self.metric("gross_margin", label=w["margin"], expr=expr, format=Fmt.percent)
        self.kpis.insert(1, Kpi(metric=gm))
        text = w["margin_sentence"].format(rev=phrase(rev.name), cost=phrase(cost.name), gm=f"{{{gm}}}")
        if self.axis is not None:
            bucket = self.axis[1]
            b = w[bucket]
            pct = {"expr": expr, "format": Fmt.percent}
            last = self._relative(
                "gross_margin_latest", w["margin_latest"].format(bucket=b), Period.latest, bucket, **pct
            )
            before = self._relative(
                "gross_margin_previous", w["margin_previous"].format(bucket=b), Period.previous, bucket, **pct
            )
            text += w["margin_trend"].format(bucket=b, last=f"{{{last}}}", before=f"{{{before}}}")
        self.sentences.append(text + w["stop"])

    def _rates(self) -> None:
        """Rates are averaged (weighted by their base where evident), never summed."""
        for r in [r for r in self.rates if r is not self.m][:2]:
            base = base_of(r, self.p)
            w, label = self.w, readable(r.name)
            how = w["weighted"].format(base=phrase(base.name)) if base is not None else ""
            avg = self.metric(f"avg_{r.name}", label=w["average"].format(m=label), format=Fmt.number, **self.agg_of(r))
            self.sentences.append(w["mean_sentence"].format(m=label, avg=f"{{{avg}}}", how=how))

    # -- charts and tables -------------------------------------------------------------

    def _trend(self) -> list[Block]:
        w, m = self.w, self.m
        if m is None:
            return []
        if self.axis is None:
            return self._ordinal_trend(m)
        col, bucket = self.axis[0], self._bucket_of(m)
        b = w[bucket]
        period = Select(column=col.name, bucket=bucket, label=w["period"])
        sel = [period, Select(label=self.label(m), **self.agg_of(m))]
        second = None
        if m.role == "additive":
            second = self.pair[1] if self.pair else self.ms[1] if len(self.ms) > 1 else None
        if second is not None:
            sel.append(Select(column=second.name, agg=Agg.sum, label=readable(second.name)))
        shown = [m, second] if second else [m]
        title = w["trend_title"].format(m=" & ".join(self.label(x) for x in shown), bucket=b)
        series = None
        if self.split and self.cat is not None:
            series = readable(self.cat.name)
            sel.insert(1, Select(column=self.cat.name, label=series))
        caption = {"stock": "level_caption", "average": "avg_caption"}.get(m.role, "trend_caption")
        # revenue and cost share one axis (their gap is the margin); other pairs get a line on their own axis
        same_axis = self.pair is not None
        ys = [self.label(m)] + ([readable(second.name)] if same_axis and second else [])
        blocks: list[Block] = [
            Heading(text=w["trend"], level=self.level),
            Chart(
                kind=ChartKind.combo if second and not same_axis else ChartKind.line,
                title=title,
                caption=(w["series_caption"].format(c=phrase(self.cat.name)) + " " if series and self.cat else "")
                + w[caption].format(bucket=b)
                + (" " + w["partial_note"].format(bucket=b) if self.partial and bucket == self.axis[1] else ""),
                query=Query(dataset=self.ds, select=sel),
                x=w["period"],
                y=ys,
                y2=[readable(second.name)] if second and not same_axis else None,
                series=series,
            ),
        ]
        blocks += self._period_table()
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

    def _period_table(self) -> list[Block]:
        """The report's periods (the quarters a quarterly request asks for) with every measure it names: flows
        summed, levels at the period's end (the last date's level, categories added; never added up over time)."""
        assert self.axis is not None and self.m is not None
        col, bucket = self.axis
        if not self.extra and not (self.m.role == "stock" and bucket != self.cad):
            return []
        w = self.w
        select = [Select(column=col.name, bucket=bucket, label=w["period"])]
        for c in [self.m, *self.extra]:
            if c.role == "stock":
                label = w["level_end"].format(m=readable(c.name))
                select.append(Select(column=c.name, agg=Agg.last, label=label, format=Fmt.number))
            else:
                select.append(Select(label=self.label(c), format=self._fmt(c), **self.agg_of(c)))
        title = w["trend_title"].format(m=", ".join(readable(c.name) for c in [self.m, *self.extra]), bucket=w[bucket])
        return [Table(title=title, caption=None, query=Query(dataset=self.ds, select=select))]

    def _ordinal_trend(self, m: ColumnProfile) -> list[Block]:
        """No date column but a key with a natural order (years, months, T1..T4): a trend along it."""
        key = ordinal_axis(self.p)
        if key is None:
            return []
        w, label = self.w, self.label(m)
        as_text = Fmt.text if key.type == "integer" else None  # 2007, not 2,007
        select = [
            Select(column=key.name, label=readable(key.name), format=as_text),
            Select(label=label, **self.agg_of(m)),
        ]
        if any(key is c for c in self.cats):
            return []  # "tips by day": the breakdown by day shows it
        series = None
        if self.split and self.cat is not None:
            series = readable(self.cat.name)
            select.insert(1, Select(column=self.cat.name, label=series))
        query = Query(dataset=self.ds, select=select, sort=[Sort(by=readable(key.name), order=key.order)])
        title = w["rank_title"].format(m=label, c=phrase(key.name))
        caption = w["series_caption"].format(c=phrase(self.cat.name)) if series and self.cat else None
        return [
            Heading(text=w["trend"], level=self.level),
            Chart(
                kind=ChartKind.line,
                title=title,
                caption=caption,
                query=query,
                x=readable(key.name),
                y=[label],
                series=series,
            ),
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
                title=w["trend_title"].format(m=u.value, bucket=_noun(u.name, w)),
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
        """With no other measure, the period columns' total (a level: the last period's) and the last period
        against the one before."""
        u, w = self.unpivot, self.w
        if u is None or self.m is not None:
            return
        sums = [f"sum({q(c)})" for c in u.columns]
        level = role_of(u.value, Stats("number", 2, 0, 2)) == "stock"  # a headcount sheet: never add years up
        label = w["total"].format(m=_noun(u.value, w)) if u.value.isascii() else u.value
        if level:
            label = w["level"].format(m=u.value, bucket=u.columns[-1]).replace(f"({u.columns[-1]})", u.columns[-1])
        cols = [c for c in self.p.columns if c.name in u.columns]
        whole = all(c.type == "integer" for c in cols)
        big = sum(abs(c.mean or 0) for c in cols) * self.p.rows >= 1e6
        fmt = Fmt.compact if big else Fmt.integer if whole else Fmt.number
        expr = sums[-1] if level else " + ".join(sums)
        total = self.metric(f"total_{u.value}", label=_cap(label), expr=expr, format=fmt)
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
        """Which categories moved the latest period's change most (left out while that period is running)."""
        if self.m is None or self.axis is None or self.cat is None:
            return []
        col, bucket = self.axis[0], self._bucket_of(self.m)
        w, m, c = self.w, self.label(self.m), readable(self.cat.name)
        ct = phrase(self.cat.name)
        if self.partial and bucket == self.axis[1] and self.m.role != "stock":
            self.unmet.append(w["partial_drivers"].format(bucket=w[bucket], c=ct))
            return []
        change = w["change_col"].format(bucket=w[bucket])
        value = self.agg_of(self.m)
        pct = self.m.role == "additive"  # an average moves by points; a level's change is a count (+5 people)
        select = [
            Select(column=col.name, bucket=bucket, label=w["period"]),
            Select(column=self.cat.name, label=c),
            Select(label=m, **value),
            Select(transform=Transform.diff, label=change, **value),
        ]
        if pct:
            select.append(Select(transform=Transform.pct_change, label=w["change_pct"], format=Fmt.percent, **value))
        if self.ask.yoy and span_days(col) > YEAR_DAYS and bucket != Bucket.year:
            label = w["vs_year_ago"].format(bucket=w[bucket])
            select.append(Select(transform=Transform.yoy_pct_change, label=label, format=Fmt.percent, **value))
        select += [Select(label=self.label(x), **self.agg_of(x)) for x in self.extra]
        query = Query(
            dataset=self.ds,
            select=select,
            sort=[Sort(by=w["period"], desc=True), Sort(by=change, desc=True)],
            limit=min(self.cat.distinct, 12),
        )
        return [
            Heading(text=w["drivers"].format(bucket=w[bucket]), level=self.level),
            Table(
                title=w["drivers_title"].format(m=m, c=ct, bucket=w[bucket]),
                caption=w["drivers_caption"].format(bucket=w[bucket]),
                query=query,
            ),
        ]

    def _breakdown(self, cat: ColumnProfile) -> list[Block]:
        w = self.w
        c, ct = readable(cat.name), phrase(cat.name)  # a column's label; its name inside a title
        counted = Select(agg=Agg.count, label=w["records"], format=Fmt.integer)
        key = Select(column=cat.name, label=c)
        top = self.ask.top or 12
        if self.m is not None and self.m.role == "stock" and self.axis is not None:
            return self._levels(cat)
        if self.m is not None:
            ylabel = self.label(self.m)
            value = Select(label=ylabel, **self.agg_of(self.m))
            sel = [key, value]
            if self.m.role == "additive":
                share = Select(
                    column=self.m.name, agg=Agg.sum, transform=Transform.share, label=w["share"], format=Fmt.percent
                )
                sel.append(share)
                if self.axis is None:
                    typical = w["average"].format(m=phrase(self.m.name))
                    sel.append(Select(column=self.m.name, agg=Agg.avg, label=typical, format=Fmt.number))
                sel += [Select(column=x.name, agg=Agg.sum, label=readable(x.name)) for x in self.ms[1:3]]
            if self.pair is not None:
                expr = margin_expr(self.pair[0].name, self.pair[1].name)
                sel.append(Select(expr=expr, label=w["margin"], format=Fmt.percent))
            sel += [self._rate_select(r) for r in self.rates[:2] if r is not self.m]
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
        # a number used as a dimension (party size 1-6) keeps its own order
        sort = [Sort(by=c)] if cat.type in ("integer", "number") else [Sort(by=ylabel, desc=True)]
        marks, note = self._highlights(sel)
        summed = self.m is None or self.m.role == "additive"
        return [
            Heading(text=w["by"].format(c=ct), level=self.level),
            Chart(
                kind=ChartKind.hbar if cat.distinct > 6 else ChartKind.bar,
                title=w["rank_title"].format(m=ylabel, c=ct),
                caption=w["rank_caption" if cat.distinct > top else "rank_caption_all"].format(c=ct),
                query=Query(dataset=self.ds, unpivot=u, select=chart_sel, sort=sort, limit=top),
                x=c,
                y=[ylabel],
            ),
            Table(
                title=w["table_title" if summed else "rank_title"].format(c=ct, m=ylabel),
                caption=(w["table_caption"] if summed and cat.type == "text" else "") + note or None,
                query=Query(
                    dataset=self.ds, unpivot=u, select=sel, sort=sort, limit=max(top, 50) if not self.ask.top else top
                ),
                totals=summed,
                highlight=marks,
            ),
        ]

    def _levels(self, cat: ColumnProfile) -> list[Block]:
        """A stock by category: each category's level in the latest period of the data's cadence (for the
        first category the 'what moved' table shows it, with the change)."""
        assert self.m is not None and self.axis is not None and self.cad is not None
        if cat is self.cat:
            return []
        w, c, m = self.w, readable(cat.name), readable(self.m.name)
        b = w[self.cad]
        select = [
            Select(column=self.axis[0].name, bucket=self.cad, label=w["period"]),
            Select(column=cat.name, label=c),
            Select(column=self.m.name, agg=Agg.sum, label=m),
            *(Select(label=self.label(x), **self.agg_of(x)) for x in self.extra),
        ]
        sort = [Sort(by=w["period"], desc=True), Sort(by=m, desc=True)]
        query = Query(dataset=self.ds, select=select, sort=sort, limit=min(cat.distinct, self.ask.top or 12))
        return [
            Heading(text=w["by"].format(c=c), level=self.level),
            Table(
                title=w["drivers_title"].format(m=m, c=c, bucket=b),
                caption=w["level_caption"].format(bucket=b),
                query=query,
            ),
        ]

    def _highlights(self, sel: list[Select]) -> tuple[list[Highlight], str]:
        """'Stores below 20% margin': the request's threshold marks the margin (or rate) column."""
        ask, w = self.ask, self.w
        limit = ask.below if ask.below is not None else ask.above
        if limit is None:
            return [], ""
        shown = f"{limit * 100:g}%"
        percents = [s.label for s in sel if s.label and s.format == Fmt.percent and s.transform is None]
        labels = {s.label for s in sel}
        rate = next((r for r in self.rates if self.label(r) in labels), None)
        if percents:
            column, value = percents[0], limit
        elif rate is not None:
            column = self.label(rate)
            value = limit * 100 if (rate.max or 0) > 1.5 else limit  # a rate written as 12.5, not 0.125
        else:
            self.unmet.append(w["no_threshold"].format(value=shown))
            return [], ""
        op = "lt" if ask.below is not None else "gt"
        phrase_ = w["highlight_below" if op == "lt" else "highlight_above"].format(value=shown)
        return [Highlight(column=column, op=op, value=value, style="bad" if op == "lt" else "good")], phrase_

    def _rate_select(self, r: ColumnProfile) -> Select:
        return Select(label=self.label(r), format=Fmt.number, **self.agg_of(r))


def _fresh(name: str, taken: set[str]) -> str:
    """A new column name for an unpivot's key or value, clear of the dataset's own."""
    out, n = name, 2
    while out in taken:
        out, n = f"{name} {n}", n + 1
    taken.add(out)
    return out


def _noun(text: str, w: dict[str, str]) -> str:
    """A word inside a sentence: lower case, except in languages that capitalise nouns (German)."""
    return text if w["quarter"][:1].isupper() else text.lower()


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _moved(metric: str, w: dict[str, str]) -> str:
    """'rose by 5.2%' / 'fell by 3.1%' / 'changed by 0.0%', following the bound value's sign, in the
    language's order ('4.1%増加' in Japanese)."""
    word = f"{{{metric}|{w['rose']}|{w['fell']}|{w['flat']}}}"
    return w["moved"].format(word=word, amount=f"{{{metric}:abs}}")


def _shown(v: object, language: str) -> str:
    """A range end as the document's language writes numbers (129 996,53 in French); dates and text as they are."""
    return format_value(v, language=language) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def _appendix(profiles: list[Profile], w: dict[str, str], language: str) -> list[Block]:
    blocks: list[Block] = [Heading(text=w["appendix"], level=1)]
    for p in profiles:
        rows: list[list[str | float | int | bool | None]] = []
        for c in p.columns:
            if c.order:
                example = ", ".join(c.order[:3]) + (" …" if len(c.order) > 3 else "")
            elif c.top:
                example = ", ".join(v for v, _ in c.top[:3])
            elif c.min is not None:
                example = f"{_shown(c.min, language)} – {_shown(c.max, language)}"
            else:
                example = ""
            rows.append([c.name, w[f"type_{c.type}"], w[f"role_{c.role}"], example])
        blocks.append(
            Table(
                title=w["dictionary"].format(source=p.source),
                caption=None,
                columns=[w["column"], w["type"], w["role"], w["examples"]],
                rows=rows,
            )
        )
    return blocks


__all__ = ["plan_report", "title_from"]
