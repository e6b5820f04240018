"""A dataset's profile: what a planner (and a person) sees instead of the rows.

Its size depends on the column count, never on the row count.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from docagent.engine.data.catalog import NUMERIC, TEMPORAL, Catalog, Dataset
from docagent.engine.data.ordinal import period_columns
from docagent.engine.data.roles import Stats, role_of, weight_of
from docagent.engine.data.sql import quote

TOP_VALUES = 5
SAMPLE_ROWS = 3
MAX_TEXT = 60


class ColumnProfile(BaseModel):
    name: str
    type: str
    nulls: int
    distinct: int
    min: Any = None
    max: Any = None
    mean: float | None = None
    top: list[tuple[str, int]] = []
    order: list[str] | None = None  # natural order of an ordinal text key
    role: str = "text"  # how it may be aggregated: docagent.engine.data.roles
    weight: str | None = None  # the column an average role is weighted by, where evident


class Profile(BaseModel):
    dataset: str
    source: str
    format: str
    joins: list[str] = []  # columns another dataset could join on: "region = team.region (100% match)"
    rows: int
    columns: list[ColumnProfile]
    sample: list[dict[str, Any]]
    notes: list[str] = []  # what ingestion left out, e.g. totals rows
    period_columns: list[str] = []  # number columns named as periods (Q1..Q4, 2024..), in order
    sheet: str | None = None  # the worksheet's name, for a workbook of several sheets

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.name == name), None)


def _plain(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, str) and len(v) > MAX_TEXT:
        return v[: MAX_TEXT - 1] + "…"
    return v


def profile(catalog: Catalog, ds: Dataset) -> Profile:
    t = quote(ds.table)
    parts = []
    for c in ds.columns:
        q = quote(c.name)
        parts.append(f"count(*) - count({q})")
        if c.type in NUMERIC or c.type in TEMPORAL:
            mean = f"avg({q})" if c.type in NUMERIC else "NULL"
            parts.append(f"min({q}), max({q}), {mean}")
        else:
            parts.append("NULL, NULL, NULL")
    row = catalog.con.execute(f"SELECT {', '.join(parts)} FROM {t}").fetchone()
    assert row is not None
    cols = []
    for i, c in enumerate(ds.columns):
        nulls, lo, hi, mean = row[i * 4 : i * 4 + 4]
        # a query of its own per column: one query of ten DISTINCT counts beside the rest takes 1.5-2x longer
        found = catalog.con.execute(f"SELECT count(DISTINCT {quote(c.name)}) FROM {t}").fetchone()
        distinct = found[0] if found else 0
        top: list[tuple[str, int]] = []
        if c.type in ("text", "boolean"):
            top = [
                (str(_plain(v)), int(n))
                for v, n in catalog.con.execute(
                    f"SELECT {quote(c.name)}, count(*) AS n FROM {t} WHERE {quote(c.name)} "
                    f"IS NOT NULL GROUP BY 1 ORDER BY n DESC, 1 LIMIT {TOP_VALUES}"
                ).fetchall()
            ]
        cols.append(
            ColumnProfile(
                name=c.name,
                type=c.type,
                nulls=int(nulls),
                distinct=int(distinct),
                min=_plain(lo),
                max=_plain(hi),
                mean=None if mean is None else round(float(mean), 6),
                top=top,
                order=c.order,
            )
        )
    for col in cols:
        col.role = role_of(col.name, Stats(col.type, col.distinct, col.nulls, ds.rows, col.min, col.max))
        if col.role == "category" and col.top and all(v.startswith(("[", "{")) for v, _ in col.top):
            col.role = "text"  # nested JSON kept as text (an order's items) is no dimension to group by
    for col in cols:
        col.weight = weight_of(col.name, col.role, [(o.name, o.role) for o in cols])
    names = [c.name for c in ds.columns]
    sample = [
        {n: _plain(v) for n, v in zip(names, r, strict=True)}
        for r in catalog.con.execute(f"SELECT * FROM {t} ORDER BY rowid LIMIT {SAMPLE_ROWS}").fetchall()
    ]
    return Profile(
        dataset=ds.name,
        source=ds.source,
        format=ds.format,
        rows=ds.rows,
        columns=cols,
        sample=sample,
        notes=list(ds.notes),
        period_columns=period_columns([c.name for c in ds.columns if c.type in NUMERIC]),
        sheet=ds.sheet,
    )


JOIN_OVERLAP = 0.8  # share of the smaller side's distinct values found on the other side
JOIN_TYPES = {"text": "text", "integer": "integer", "date": "date", "datetime": "date"}


def _overlap(catalog: Catalog, a: Dataset, b: Dataset, column: str) -> float:
    qa, qb, col = quote(a.table), quote(b.table), quote(column)
    row = catalog.con.execute(
        f"SELECT (SELECT count(DISTINCT {col}) FROM {qa} WHERE {col} IN (SELECT {col} FROM {qb})),"
        f" (SELECT count(DISTINCT {col}) FROM {qa}), (SELECT count(DISTINCT {col}) FROM {qb})"
    ).fetchone()
    if row is None or not row[1] or not row[2]:
        return 0.0
    return float(row[0]) / min(row[1], row[2])


def add_joins(catalog: Catalog, profiles: list[Profile]) -> None:
    """Tell the planner which columns could join two datasets: same name, compatible type, shared values."""
    for p in profiles:
        a = catalog.get(p.dataset)
        for q in profiles:
            b = catalog.get(q.dataset)
            if a is None or b is None or a is b:
                continue
            for c in a.columns:
                d = b.column(c.name)
                kind = JOIN_TYPES.get(c.type)
                if d is None or kind is None or kind != JOIN_TYPES.get(d.type):
                    continue
                share = _overlap(catalog, a, b, c.name)
                if share >= JOIN_OVERLAP:
                    p.joins.append(f"{c.name} = {b.name}.{d.name} ({share:.0%} of values match)")
