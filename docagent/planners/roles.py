"""What each column is for, read from a profile: measures, rates, revenue and cost, time, categories.

The rules planner asks these questions; the answers depend on names and on the
profile's statistics, never on rows.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from docagent.data.catalog import NUMERIC, TEMPORAL
from docagent.data.profile import ColumnProfile, Profile
from docagent.plan import Bucket

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
REVENUE = re.compile(
    r"revenue|sales|turnover|income|chiffre|^ca\b|umsatz|ventas|ingresos|fatturato|receita|收入|营收|销售额|销售",
    re.I,
)
COST = re.compile(r"cost|cogs|expense|co[uû]t|charges|kosten|costo|custo|gastos|成本|费用|支出", re.I)
# Rates, ratios and percentages: summing them means nothing (9.5% + 7.2% is not 16.7%).
RATE = re.compile(
    r"rate|ratio|pct|percent|%|margin|marge|margen|share|yield|taux|quote|tasa|tasso|score|avg|average"
    r"|mean|moyenne|率|比例|占比|比率|均",
    re.I,
)
SALES_RATE = re.compile(r"margin|marge|margen|markup|discount|remise|rabatt|sconto|descuento|毛利|利润率|折扣", re.I)
BUCKET_WORDS = [
    (Bucket.quarter, r"quarter|季度|季报|trimest|quartal"),
    (Bucket.month, r"month|月度|月报|mensuel|monat"),
    (Bucket.week, r"week|周报|hebdo|woche"),
    (Bucket.year, r"annual|yearly|year-over-year|年度|年报|annuel|jahres"),
]


def readable(name: str) -> str:
    """'total_bill' -> 'Total bill', 'orderDate' -> 'Order date'; 'Chiffre d'affaires' as it is."""
    text = re.sub(r"(?<=[a-z])([A-Z])(?=[a-z])", lambda m: " " + m.group(1).lower(), name)
    text = " ".join(text.replace("_", " ").split()) or name
    return text[:1].upper() + text[1:]


def phrase(name: str) -> str:
    """A column's name inside a sentence: 'total_bill' -> 'total bill'; 'Chiffre d'affaires', 'CA' kept."""
    text = readable(name)
    return text[:1].lower() + text[1:] if name == name.lower() else text


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


def is_rate(c: ColumnProfile) -> bool:
    """A column of rates, ratios or percentages: averaged, never summed."""
    return bool(RATE.search(c.name))


def measures(p: Profile) -> list[ColumnProfile]:
    """Additive number columns, most telling first (no ids, no rates, no period columns)."""
    periods = set(p.period_columns)
    cols = [
        c
        for c in p.columns
        if c.type in NUMERIC
        and not ID_HINTS.search(c.name)
        and not (c.type == "integer" and c.distinct == p.rows and p.rows > 20)
        and c.distinct > 1
        and not is_rate(c)
        and c.name not in periods
    ]

    def rank(c: ColumnProfile) -> int:
        name = c.name.lower()
        return next((i for i, h in enumerate(MEASURE_HINTS) if h in name), len(MEASURE_HINTS))

    return sorted(cols, key=rank)


def rates(p: Profile) -> list[ColumnProfile]:
    return [c for c in p.columns if c.type in NUMERIC and is_rate(c) and c.distinct > 1]


def revenue_and_cost(ms: list[ColumnProfile]) -> tuple[ColumnProfile, ColumnProfile] | None:
    rev = next((c for c in ms if REVENUE.search(c.name) and not COST.search(c.name)), None)
    cost = next((c for c in ms if COST.search(c.name)), None)
    return (rev, cost) if rev and cost else None


def base_of(rate: ColumnProfile, ms: list[ColumnProfile]) -> ColumnProfile | None:
    """The measure a rate is a share of, where evident: a margin or a discount is a share of revenue."""
    if not SALES_RATE.search(rate.name):
        return None
    return next((c for c in ms if REVENUE.search(c.name)), None)


def category(p: Profile) -> ColumnProfile | None:
    cands = [c for c in p.columns if c.type == "text" and 2 <= c.distinct <= 50 and c.nulls < p.rows]
    # prefer plain categories to ordinal keys (a time axis), a handful of groups, complete columns
    return min(cands, key=lambda c: (c.order is not None, abs(c.distinct - 8), c.nulls), default=None)


def ordinal_axis(p: Profile) -> ColumnProfile | None:
    """A text key with a natural order (months, T1..T4) to draw a trend along when there is no date."""
    return next((c for c in p.columns if c.type == "text" and c.order), None)


def span_days(c: ColumnProfile) -> int:
    return (dt.date.fromisoformat(str(c.max)[:10]) - dt.date.fromisoformat(str(c.min)[:10])).days


def time_axis(p: Profile, prompt: str = "") -> tuple[ColumnProfile, Bucket] | None:
    """The first date column and a bucket: the one the request names, else one fitting the span."""
    for c in p.columns:
        if c.type in TEMPORAL and c.distinct > 1 and c.min and c.max:
            days = span_days(c)
            asked = next((b for b, pattern in BUCKET_WORDS if re.search(pattern, prompt, re.I)), None)
            limits = {Bucket.year: 730, Bucket.quarter: 180, Bucket.month: 60, Bucket.week: 14}
            if asked and days >= limits.get(asked, 0):
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
            return c, bucket
    return None
