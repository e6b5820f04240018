"""Bursting: one document per value of a column, each plan narrowed to that value.

The plan is made once and the data ingested once; each document binds the same plan with one more
filter on every metric and query that reads the burst dataset. Nothing is re-planned per document.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from docagent.engine.data.sql import quote
from docagent.engine.plan import Burst, Filter, Op, Plan, Query
from docagent.errors import RenderError

MAX_DOCUMENTS = 20_000
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def burst_values(catalog: Any, burst: Burst) -> list[Any]:
    """The column's distinct values, in order (nulls last): one document each."""
    ds = catalog.get(burst.dataset)
    if ds is None:
        raise RenderError(f"meta.burst: no dataset {burst.dataset!r}")
    col = quote(burst.by)
    sql = f"SELECT DISTINCT {col} FROM {quote(ds.table)} ORDER BY {col} NULLS LAST LIMIT {MAX_DOCUMENTS + 1}"
    values = [r[0] for r in catalog.con.execute(sql).fetchall()]
    if len(values) > MAX_DOCUMENTS:
        raise RenderError(f"meta.burst: {burst.by!r} has over {MAX_DOCUMENTS:,} values; one document each is too many")
    return values


def _filter(by: str, value: Any) -> Filter:
    if value is None:
        return Filter(column=by, op=Op.is_null)
    if isinstance(value, dt.date | dt.datetime):
        value = value.isoformat()
    elif not isinstance(value, str | int | float | bool):
        value = str(value)
    return Filter(column=by, op=Op.eq, value=value)


def narrowed(plan: Plan, value: Any) -> Plan:
    """The plan with every metric and query on the burst dataset filtered to one value."""
    burst = plan.meta.burst
    assert burst is not None
    f = _filter(burst.by, value)
    metrics = [
        m.model_copy(update={"filters": [*m.filters, f]}) if m.dataset == burst.dataset else m for m in plan.metrics
    ]
    blocks = []
    for b in plan.blocks:
        q: Query | None = getattr(b, "query", None)
        if q is not None and q.dataset == burst.dataset:
            b = b.model_copy(update={"query": q.model_copy(update={"filters": [*q.filters, f]})})
        blocks.append(b)
    return plan.model_copy(update={"metrics": metrics, "blocks": blocks})


def shown(value: Any) -> str:
    """A burst value as a placeholder and a file name show it."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def file_stem(pattern: str, scalars: dict[str, str], taken: set[str]) -> str:
    """The pattern filled in, made safe as a file name, unique among those already taken."""
    text = PLACEHOLDER.sub(lambda m: scalars.get(m.group(1), m.group(0)), pattern)
    text = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", text).strip(" .")[:120] or "document"
    stem, n = text, 2
    while stem.lower() in taken:
        stem, n = f"{text}-{n}", n + 1
    taken.add(stem.lower())
    return stem
