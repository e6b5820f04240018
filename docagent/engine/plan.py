"""The document plan: what a planner produces and every renderer consumes.

A plan never carries a figure computed from data. Data-driven blocks carry a
`Query` (a binding) that our code compiles and runs; prose refers to named
`Metric`s through `{name}` placeholders.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
# {name} a metric's text; {name:abs} without its sign; {name|rose|fell|was flat} the word that
# follows the sign of the metric as shown (positive | negative | zero); a missing value shows as –.
HIDDEN = "x-hand-written"  # kept out of the model's schema (docagent.engine.schema)
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?:(:abs)|((?:\|[^{}|\n]*){3}))?\}")
# Anything that looks like a placeholder with options; those PLACEHOLDER rejects are errors.
PLACEHOLDER_LIKE = re.compile(r"\{[a-z][a-z0-9_]*[|:][^{}]*\}")

Cell = str | float | int | bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        """A model writes null for a field it leaves alone: that is the field's default, not an error.
        The schema a model is given is unchanged (it still says which fields take null)."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        unset = {k for k, v in data.items() if v is None and k in fields and not fields[k].is_required()}
        return {k: v for k, v in data.items() if k not in unset} if unset else data


class Agg(StrEnum):
    sum = "sum"
    avg = "avg"
    min = "min"
    max = "max"
    count = "count"  # type: ignore[assignment]  # shadows str.count, by design
    count_distinct = "count_distinct"
    median = "median"
    last = "last"  # the value at the latest date in each row's period, summed over its other keys (stocks)
    first = "first"


class Bucket(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class Fmt(StrEnum):
    """integer 1,235; number 1,234.50; currency $1,234.50; percent (a ratio) 12.3%;
    pp (difference of ratios) +1.2 pp; compact 1.2K; text as is."""

    integer = "integer"
    number = "number"
    currency = "currency"
    percent = "percent"
    pp = "pp"
    compact = "compact"
    text = "text"


class Op(StrEnum):
    eq = "eq"
    ne = "ne"
    gt = "gt"
    ge = "ge"
    lt = "lt"
    le = "le"
    in_ = "in"
    not_in = "not_in"
    contains = "contains"
    is_null = "is_null"
    not_null = "not_null"


class Filter(_Strict):
    column: str
    op: Op
    value: str | float | int | bool | None = None
    values: list[str | float | int] | None = None


class Transform(StrEnum):  # computed over the whole grouped result, before limit
    share = "share"
    pct_change = "pct_change"
    diff = "diff"
    yoy_pct_change = "yoy_pct_change"
    running_total = "running_total"
    rank = "rank"


class Select(_Strict):
    """One output column: a raw or bucketed column (a group key) or an aggregation."""

    # The system prompt explains these (rules 3 and 4); the schema sent with every request does not repeat it.
    column: str | None = None  # dataset column; null only with agg=count
    agg: Agg | None = None
    expr: str | None = None  # aggregate expression, instead of agg+column
    bucket: Bucket | None = None  # time bucket, date columns only
    transform: Transform | None = None
    within: str | None = None  # a group key's output name: the transform runs within each of its values
    label: str | None = None  # output name; referenced by sort and charts
    format: Fmt | None = None


class Sort(_Strict):
    by: str = Field(description="an output name")
    desc: bool = False
    order: list[str] | None = None  # text key values in order


class Join(_Strict):
    dataset: str
    on: list[list[str]] = Field(min_length=1, description="[[column, joined column]]")
    how: Literal["left", "inner"] = "left"


class Unpivot(_Strict):
    """Period columns to rows: name gets the column names, value their values."""

    columns: list[str] = Field(min_length=2)
    name: str
    value: str


class Span(StrEnum):
    latest = "latest"
    previous = "previous"
    year_ago = "year_ago"
    to_date = "to_date"
    last_n = "last_n"


class QueryPeriod(_Strict):
    """Rows inside one span, anchored on the latest date the filters keep (as a metric's period)."""

    span: Span
    n: int | None = None  # last_n: how many buckets, 1-120
    time_column: str
    bucket: Bucket | None = None  # null only with to_date


class Query(_Strict):
    """A binding. If any select item aggregates, the others are group keys."""

    dataset: str
    union: list[str] = []  # further datasets with the same columns, stacked; a "dataset" column names each
    period: QueryPeriod | None = None
    unpivot: Unpivot | None = None
    select: list[Select] = Field(min_length=1)
    filters: list[Filter] = []
    sort: list[Sort] = []
    limit: int | None = Field(None, ge=1, le=100000)
    other: bool = False  # rows past limit as one Other row (rule 4 of the system prompt)
    join: list[Join] = []  # joined columns: dataset.column


class Period(StrEnum):
    all = "all"
    first = "first"
    last = "last"
    change = "change"
    latest = "latest"
    previous = "previous"
    year_ago = "year_ago"
    to_date = "to_date"


class Metric(_Strict):
    """A named scalar for prose and KPIs. Periods need time_column and bucket;
    change is (last - first) / first; latest, previous, year_ago, to_date: relative to the latest date."""

    name: str = Field(pattern=NAME_PATTERN)
    label: str
    dataset: str | None = None
    agg: Agg | None = None
    column: str | None = None
    expr: str | None = None
    filters: list[Filter] = []
    period: Period | int = Period.all
    time_column: str | None = None
    bucket: Bucket | None = None
    compare: Literal["previous", "year_ago"] | None = None
    result: Literal["value", "diff", "pct_change"] = "value"
    format: Fmt = Fmt.number
    # A model cell instead of a dataset aggregate (issue 14).
    model: str | None = None  # a model block's title: then row, and period or find
    row: str | None = None
    find: Literal["first_positive"] | None = None


class ModelPeriods(_Strict):
    start: str  # 2026, 2026-Q1 or 2026-01
    count: int = Field(ge=1, le=120)
    unit: Literal["year", "quarter", "month"] = "year"


class ModelInput(_Strict):
    name: str  # checked by docagent.engine.finance.models (a defined name in .xlsx)
    label: str
    value: float
    format: Fmt = Fmt.number
    note: str | None = None


class ModelRow(_Strict):
    name: str
    label: str
    formula: str
    first: str | None = None  # the first period's value, where formula uses prev()
    format: Fmt = Fmt.number
    style: Literal["normal", "subtotal", "total", "check"] = "normal"
    sheet: str | None = None


class Model(_Strict):
    # A financial model: inputs drive one value per period for each row (live formulas in .xlsx).
    type: Literal["model"] = "model"
    title: str
    sheet: str | None = None
    periods: ModelPeriods
    inputs: list[ModelInput] = []
    rows: list[ModelRow] = Field(min_length=1)


class Heading(_Strict):
    type: Literal["heading"] = "heading"
    text: str
    level: int = Field(1, ge=1, le=3)


class Paragraph(_Strict):
    type: Literal["paragraph"] = "paragraph"
    text: str  # may contain {metric_name} placeholders (rule 2 of the system prompt)


class Bullets(_Strict):
    type: Literal["bullets"] = "bullets"
    items: list[str] = Field(min_length=1)
    ordered: bool = False
    start: int = Field(1, json_schema_extra={HIDDEN: True})  # lists restart at 1; hand-written plans may continue
    lines: int = 0  # writing lines per item, 0-12 (checked by the validator)


class Highlight(_Strict):
    # top/bottom: the `value` largest/smallest

    column: str
    op: Literal["gt", "lt", "ge", "le", "eq", "top", "bottom"]
    value: float | str  # a number, or a param's name
    style: Literal["bad", "good", "warn"] = "bad"


class Table(_Strict):
    """Rows from `query`, or literal `columns` + `rows` for documents without data."""

    type: Literal["table"] = "table"
    title: str
    headline: str | None = None  # the finding, a slide's title (the prompt says so: rule 10)
    caption: str | None = None
    query: Query | None = None
    columns: list[str] | None = None
    rows: list[list[Cell]] | None = None
    pivot: str | None = None  # a group key whose values become columns (one value per cell)
    totals: bool = False
    formats: list[Fmt | None] = []  # one per column; null: automatic
    emphasis: list[int] = []  # bold rows, from 0
    highlight: list[Highlight] = []
    sheet: str | None = None
    slide: bool = True  # false keeps it out of a .pptx deck (rule 10 of the system prompt)


class ChartKind(StrEnum):
    bar = "bar"
    grouped_bar = "grouped_bar"
    stacked_bar = "stacked_bar"
    hbar = "hbar"
    line = "line"
    area = "area"
    pie = "pie"
    donut = "donut"
    scatter = "scatter"
    combo = "combo"


class Chart(_Strict):
    """x and y name output columns of `query` (or of literal `columns`).
    combo: y as bars, y2 as a line on a secondary axis."""

    type: Literal["chart"] = "chart"
    kind: ChartKind
    title: str
    headline: str | None = None  # the finding, a slide's title (the prompt says so: rule 10)
    caption: str | None = None
    query: Query | None = None
    columns: list[str] | None = None
    rows: list[list[Cell]] | None = None
    x: str
    y: list[str] = Field(min_length=1)
    y2: list[str] | None = None
    series: str | None = None  # group key: one series per value (rule 5 of the system prompt)
    model: str | None = None  # a model block's title: x is "period", y its row names
    sheet: str | None = None
    slide: bool = True


class Kpi(_Strict):
    metric: str
    label: str | None = None


class Kpis(_Strict):
    type: Literal["kpis"] = "kpis"
    items: list[Kpi] = Field(min_length=1, max_length=6)


class Callout(_Strict):
    type: Literal["callout"] = "callout"
    style: Literal["info", "warning", "success"] = "info"
    title: str | None = None
    text: str


class PageBreak(_Strict):
    type: Literal["page_break"] = "page_break"


class Image(_Strict):
    # source: an image file given with the job; null draws a placeholder box labelled with alt
    type: Literal["image"] = "image"
    source: str | None
    alt: str
    caption: str | None = None
    width: float = 1.0  # fraction of the text width, 0.1-1 (checked by the validator)
    aspect: str = Field("16:9", json_schema_extra={HIDDEN: True})  # of a placeholder; checked by the validator


Block = Annotated[
    Heading | Paragraph | Bullets | Table | Chart | Kpis | Callout | PageBreak | Model | Image,
    Field(discriminator="type"),
]


class DocKind(StrEnum):
    report = "report"
    financial_model = "financial_model"
    proposal = "proposal"
    prd = "prd"
    lesson_plan = "lesson_plan"
    memo = "memo"
    letter = "letter"
    worksheet = "worksheet"
    scorecard = "scorecard"
    other = "other"


class Brand(_Strict):
    # overrides the theme's colours, chart palette, heading font and header logo (an image file name)
    primary: str  # #RRGGBB, like accent and palette; checked by the validator
    accent: str
    palette: list[str] = Field([], json_schema_extra={HIDDEN: True})  # else primary, accent, then the theme's
    font: str = ""
    logo: str | None = None
    organisation: str | None = Field(None, json_schema_extra={HIDDEN: True})  # footer and author when no author


class Burst(_Strict):
    # one document per value of column `by` of `dataset`, each binding on it filtered to that value;
    # filename like "letter-{customer}"
    by: str
    dataset: str
    filename: str


class Meta(_Strict):
    title: str = Field(min_length=1)
    subtitle: str | None = None
    author: str | None = None
    language: str = "en"
    theme: str | None = None
    kind: DocKind = DocKind.report
    currency: str = "USD"  # ISO 4217
    brand: Brand | None = None
    slides: Literal["auto", "sections", "none"] = "auto"  # deck layout, rule 10 of the system prompt
    template: str | None = None  # a template given with the job: its {{placeholders}} filled, or its look
    burst: Burst | None = None
    cover: Literal["auto"] | bool = "auto"  # a title page; auto: none for 3 pages or less (renderers/common.py)
    contents: Literal["auto"] | bool = "auto"  # a contents list (a deck's agenda); auto: as cover


class Param(_Strict):
    """A number the request states (a target, a threshold): usable by name in expressions,
    highlights and prose ({name}); not a figure from the data."""

    name: str = Field(pattern=NAME_PATTERN)
    label: str
    value: float
    format: Fmt = Fmt.number


class Measure(_Strict):
    """An expression defined once: any expr may be just its name; its label and format are the defaults."""

    name: str = Field(pattern=NAME_PATTERN)
    label: str
    expr: str
    format: Fmt | None = None


class Plan(_Strict):
    meta: Meta
    params: list[Param] = []
    measures: list[Measure] = []
    metrics: list[Metric] = []
    blocks: list[Block] = Field(min_length=1)


def is_templated(plan: Plan) -> bool:
    """Written into an organisation's template, or burst into one document per value."""
    return plan.meta.template is not None or plan.meta.burst is not None


def placeholders(text: str) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def malformed_placeholders(text: str) -> list[str]:
    return [m.group(0) for m in PLACEHOLDER_LIKE.finditer(text) if not PLACEHOLDER.fullmatch(m.group(0))]
