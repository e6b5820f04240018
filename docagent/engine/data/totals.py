"""A spreadsheet's own totals are not data: drop them before typing, and say so.

A "Total" row summed again with the rows it totals doubles every figure, and a
year column holding "Total" would be typed as text. Rows are dropped while the
table is still all text, so the columns are typed from the real rows only.
"""

from __future__ import annotations

import re

import duckdb

from docagent.engine.data.ordinal import natural_order
from docagent.engine.data.sql import quote

# The label cell: the first text cell of the row.
TOTAL_LABEL = re.compile(
    r"^(?:(?:grand|sub)[\s-]?)?totals?\b|\btotals?:?$|^(?:合计|總計|总计|小计|小計|合計|总和)"
    r"|^(?:gesamt|summe|zwischensumme|insgesamt|totale|somme|suma)\b",
    re.IGNORECASE,
)
# A prefilter DuckDB runs (ILIKE, several times faster than a regular expression over the rows):
# only the few rows holding one of these words are checked in Python.
PREFILTER = ("total", "合计", "總計", "总计", "小计", "小計", "合計", "总和", "gesamt", "summe", "somme", "suma")
NUMBER = re.compile(r"^[-+(]?[$€£¥]?\s?\d[\d,.\s]*%?\)?$")
MAX_SHARE = 1 / 2  # more "Total" rows than this: it is a category, not a totals row
MAX_ORDERED = 60  # distinct values looked at for a natural order


def is_total_label(text: str) -> bool:
    return bool(TOTAL_LABEL.search(" ".join(text.split())))


def total_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], searched: list[str] | None = None
) -> list[tuple[int, str]]:
    """The totals rows of `table` (rowid and label), read as text; [] when they look like a category.

    `searched` names the columns a label can be in (all by default): a typed table's numbers and
    dates hold none, so only its text columns are scanned.
    """
    if not columns:
        return []
    cells = [f"NULLIF(trim(CAST({quote(c)} AS VARCHAR)), '')" for c in columns]
    scanned = [quote(c) for c in columns if searched is None or c in searched]
    if not scanned:
        return []
    t = quote(table)
    found = " OR ".join(f"CAST({c} AS VARCHAR) ILIKE ?" for c in scanned for _ in PREFILTER)
    candidates = con.execute(
        f"SELECT rowid, {', '.join(cells)} FROM {t} WHERE {found}", [f"%{w}%" for _ in scanned for w in PREFILTER]
    ).fetchall()
    if not candidates:
        return []
    total_row = con.execute(f"SELECT count(*) FROM {t}").fetchone()
    total = int(total_row[0]) if total_row else 0
    drop = []
    for rowid, *values in candidates:
        # the label: the first text cell ("2024 | Total | 120" is the 2024 subtotal)
        first = next((i for i, v in enumerate(values) if v is not None and not NUMBER.match(v)), None)
        if first is None:
            continue
        has_number = any(v is not None and NUMBER.match(v) for v in values[first + 1 :])
        if is_total_label(values[first]) and has_number:
            drop.append((rowid, values[first]))
    if not drop or len(drop) > MAX_SHARE * total or len(drop) >= total:
        return []
    return drop


def drop_total_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[str]:
    """Delete totals rows from an all-text staged table; returns notes for the profile."""
    drop = total_rows(con, table, columns)
    if not drop:
        return []
    t = quote(table)
    con.execute(f"DELETE FROM {t} WHERE rowid IN ({', '.join('?' for _ in drop)})", [r for r, _ in drop])
    labels = ", ".join(repr(x) for x in dict.fromkeys(text for _, text in drop))
    n = len(drop)
    return [f"{n} totals row{'s' if n > 1 else ''} ({labels}) excluded: they repeat the sum of other rows"]


def text_order(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[str] | None:
    """The natural order of a text column's values (months, quarters...), or None."""
    q = quote(column)
    values = con.execute(
        f"SELECT DISTINCT {q} FROM {quote(table)} WHERE {q} IS NOT NULL LIMIT {MAX_ORDERED + 1}"
    ).fetchall()
    if len(values) > MAX_ORDERED:
        return None
    return natural_order(str(v[0]) for v in values)
