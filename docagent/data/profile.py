"""A dataset's profile: what a planner (and a person) sees instead of the rows.

Its size depends on the column count, never on the row count.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from docagent.data.catalog import NUMERIC, TEMPORAL, Catalog, Dataset
from docagent.data.ordinal import period_columns
from docagent.data.sql import quote

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


class Profile(BaseModel):
    dataset: str
    source: str
    format: str
    rows: int
    columns: list[ColumnProfile]
    sample: list[dict[str, Any]]
    notes: list[str] = []  # what ingestion left out, e.g. totals rows
    period_columns: list[str] = []  # number columns named as periods (Q1..Q4, 2024..), in order

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
        parts.append(f"count(*) - count({q}), count(DISTINCT {q})")
        if c.type in NUMERIC or c.type in TEMPORAL:
            mean = f"avg({q})" if c.type in NUMERIC else "NULL"
            parts.append(f"min({q}), max({q}), {mean}")
        else:
            parts.append("NULL, NULL, NULL")
    row = catalog.con.execute(f"SELECT {', '.join(parts)} FROM {t}").fetchone()
    assert row is not None
    cols = []
    for i, c in enumerate(ds.columns):
        nulls, distinct, lo, hi, mean = row[i * 5 : i * 5 + 5]
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
    names = [c.name for c in ds.columns]
    sample = [
        {n: _plain(v) for n, v in zip(names, r, strict=True)}
        for r in catalog.con.execute(f"SELECT * FROM {t} LIMIT {SAMPLE_ROWS}").fetchall()
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
    )
