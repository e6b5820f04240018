"""What each column is for, read from a profile: measures, rates, revenue and cost, time, categories.

The rules planner asks these questions; the answers depend on names and on the
profile's statistics, never on rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from docagent.engine.data.catalog import TEMPORAL
from docagent.engine.data.profile import ColumnProfile, Profile
from docagent.engine.plan import Bucket

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
REVENUE = re.compile(
    r"revenue|sales|turnover|income|chiffre|^ca\b|umsatz|ventas|ingresos|fatturato|receita|收入|营收|销售额|销售|売上",
    re.I,
)
COST = re.compile(r"cost|cogs|expense|co[uû]t|charges|kosten|costo|custo|gastos|成本|费用|支出|原価|費用", re.I)


# Names data sets abbreviate, as a person would write them (whole names first, then single words).
SPELLED = {
    "life exp": "life expectancy",
    "lifeexp": "life expectancy",
    "gdp percap": "GDP per capita",
    "gdppercap": "GDP per capita",
    "pop": "population",
    "temp max": "maximum temperature",
    "temp min": "minimum temperature",
    "tmax": "maximum temperature",
    "tmin": "minimum temperature",
    "prcp": "precipitation",
}
WORDS = {"qty": "quantity", "amt": "amount", "pct": "%", "avg": "average", "temp": "temperature", "gdp": "GDP"}


def readable(name: str) -> str:
    """'total_bill' -> 'Total bill', 'orderDate' -> 'Order date', 'Customer.name' -> 'Customer name',
    'lifeExp' -> 'Life expectancy'; 'Chiffre d'affaires' as it is."""
    text = re.sub(r"(?<=[a-z])([A-Z])(?=[a-z])", lambda m: " " + m.group(1).lower(), name)
    text = re.sub(r"(?<=[^\W\d_])\.(?=[^\W\d_])", " ", text)  # a nested JSON key, not a decimal point
    text = " ".join(text.replace("_", " ").split()) or name
    spelled = SPELLED.get(text.lower())
    if spelled is None and text.isascii():
        spelled = " ".join(WORDS.get(word.lower(), word) for word in text.split())
    text = spelled or text
    return text[:1].upper() + text[1:]


def phrase(name: str) -> str:
    """A column's name inside a sentence: 'total_bill' -> 'total bill'; 'Chiffre d'affaires', 'CA' kept."""
    text = readable(name)
    acronym = re.match(r"[A-Z]{2}", text) is not None
    return text[:1].lower() + text[1:] if name[:1].islower() and not acronym else text


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


def _numbers(p: Profile, role: str, named: list[str]) -> list[ColumnProfile]:
    """Number columns of one role, those the request names first, then the most telling."""
    periods = set(p.period_columns)
    cols = [c for c in p.columns if c.role == role and c.distinct > 1 and c.name not in periods]

    def rank(c: ColumnProfile) -> tuple[int, int]:
        name = c.name.lower()
        hint = next((i for i, h in enumerate(MEASURE_HINTS) if h in name), len(MEASURE_HINTS))
        return (named.index(c.name) if c.name in named else len(named), hint)

    return sorted(cols, key=rank)


def measures(p: Profile, named: list[str] = []) -> list[ColumnProfile]:  # noqa: B006 - never mutated
    """Additive number columns (amounts, counts, quantities): summed."""
    return _numbers(p, "additive", named)


def stocks(p: Profile, named: list[str] = []) -> list[ColumnProfile]:  # noqa: B006
    """Levels (headcount, balances, inventory): one time's value, never summed over time."""
    return _numbers(p, "stock", named)


def rates(p: Profile, named: list[str] = []) -> list[ColumnProfile]:  # noqa: B006
    """Rates, ratios, prices, temperatures, ages, scores: averaged, never summed."""
    return _numbers(p, "average", named)


def revenue_and_cost(ms: list[ColumnProfile]) -> tuple[ColumnProfile, ColumnProfile] | None:
    rev = next((c for c in ms if REVENUE.search(c.name) and not COST.search(c.name)), None)
    cost = next((c for c in ms if COST.search(c.name)), None)
    return (rev, cost) if rev and cost else None


def base_of(rate: ColumnProfile, p: Profile) -> ColumnProfile | None:
    """The column an average is weighted by, where the profile found one (a margin by revenue)."""
    return p.column(rate.weight) if rate.weight else None


def category(p: Profile, named: list[str] = []) -> ColumnProfile | None:  # noqa: B006
    """The dimension to break down by: one the request names, else a handful of plain groups."""
    cands = [c for c in p.columns if c.role == "category" and 2 <= c.distinct <= 50 and c.nulls < p.rows]
    asked = [c for c in cands if c.name in named]
    if asked:
        return min(asked, key=lambda c: named.index(c.name))
    # prefer plain categories to ordinal keys (a time axis), a handful of groups, complete columns
    return min(cands, key=lambda c: (c.order is not None, abs(c.distinct - 8), c.nulls), default=None)


def ordinal_axis(p: Profile) -> ColumnProfile | None:
    """A key with a natural order to draw a trend along when there is no date: a year column, months, T1..T4."""
    year = next((c for c in p.columns if c.role == "time" and c.type == "integer" and c.distinct > 1), None)
    return year or next((c for c in p.columns if c.type == "text" and c.order), None)


def _day(v: object) -> dt.date:
    return dt.date.fromisoformat(str(v)[:10])


def span_days(c: ColumnProfile) -> int:
    return (_day(c.max) - _day(c.min)).days


BUCKET_DAYS = {Bucket.day: 1, Bucket.week: 7, Bucket.month: 30, Bucket.quarter: 91, Bucket.year: 365}
# The shortest span worth a view by each bucket: two of them at least.
MIN_SPAN = {Bucket.year: 366, Bucket.quarter: 92, Bucket.month: 31, Bucket.week: 8, Bucket.day: 1}


def cadence(c: ColumnProfile) -> Bucket:
    """How often the data is dated: monthly headcount, daily prices (from the span and the distinct dates)."""
    step = span_days(c) / max(c.distinct - 1, 1)
    return next((b for b, days in BUCKET_DAYS.items() if step <= days * 1.2), Bucket.year)


def bucket_start(d: dt.date, b: Bucket) -> dt.date:
    if b == Bucket.day:
        return d
    if b == Bucket.week:
        return d - dt.timedelta(days=d.weekday())
    month = {Bucket.month: d.month, Bucket.quarter: (d.month - 1) // 3 * 3 + 1, Bucket.year: 1}[b]
    return dt.date(d.year, month, 1)


def next_start(d: dt.date, b: Bucket) -> dt.date:
    if b in (Bucket.day, Bucket.week):
        return d + dt.timedelta(days=BUCKET_DAYS[b])
    months = {Bucket.month: 1, Bucket.quarter: 3, Bucket.year: 12}[b]
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


def partial_latest(c: ColumnProfile, b: Bucket) -> bool:
    """Whether the data's latest `b` is still running: its rows reach less than 90% of the way through it."""
    if b == Bucket.day:
        return False
    last = _day(c.max)
    start = bucket_start(last, b)
    step = min(BUCKET_DAYS[cadence(c)], BUCKET_DAYS[b])
    reach = (last - start).days + step
    return reach < 0.9 * (next_start(start, b) - start).days


def time_axis(p: Profile, asked: Bucket | None = None) -> tuple[ColumnProfile, Bucket] | None:
    """The first date column and a bucket: the one the request names if the data spans two, else one fitting
    the span (never finer than the data's own cadence)."""
    for c in p.columns:
        if c.type in TEMPORAL and c.distinct > 1 and c.min and c.max:
            days = span_days(c)
            if asked and days >= MIN_SPAN[asked] and BUCKET_DAYS[asked] >= BUCKET_DAYS[cadence(c)]:
                return c, asked
            bucket = (
                Bucket.quarter
                if days > 1100
                else Bucket.month
                if days > 90
                else Bucket.week
                if days > 21
                else Bucket.day
            )
            if BUCKET_DAYS[bucket] < BUCKET_DAYS[cadence(c)]:
                bucket = cadence(c)
            return c, bucket
    return None
