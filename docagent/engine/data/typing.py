"""Infer column types of a staged all-text table and cast it into a typed one.

A sample proposes candidate types per column; one full pass over the table
confirms them, so a stray value in row 900,000 turns a column back into text
instead of into NULLs.

Most files take a faster road first (`read_typed`): DuckDB's parallel reader types the columns
it reads as `infer` would (plain numbers, ISO dates and times) and refuses the file if a later
value does not fit; only its text columns are inferred here, and typed in place (`settle`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from docagent.engine.data.sql import quote

US_NUMBER = r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|[-+]?\.\d+"
EU_NUMBER = r"[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"
US_INT = r"[-+]?(\d{1,3}(,\d{3})+|\d+)"
EU_INT = r"[-+]?(\d{1,3}(\.\d{3})+|\d+)"
BOOLS = ("true", "false", "yes", "no")

# Order matters: the first format that reads every value wins; ambiguous
# day/month pairs are resolved by the file's decimal-comma hint.
DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b, %Y",
    "%b %Y",
    "%B %Y",
    "%b-%Y",
    "%b-%y",
    "%Y-%m",
    "%Y/%m",
    "%m/%Y",
    "%m.%Y",
    "%Y年%m月%d日",
    "%Y年%m月",
    "%Y年%m月%d号",
]
# "2024 Q1", "2024-Q1", "Q1 2024", "T1 2024" (trimestre): the quarter's first day.
QUARTER_FIRST = r"(\d{4})\s*[-/ ]?\s*[QqTt]([1-4])"
QUARTER_LAST = r"[QqTt]([1-4])\s*[-/ ]?\s*(\d{4})"
# A number in a column named as a date is an Excel serial day (1 = 1900-01-01); 20000-80000 is 1954-2119.
DATE_NAME = re.compile(
    r"^(date|datum|fecha|data|jour|tag|day|día|dia|period|période|month|mois|monat|mes|日期|日付|年月日)$"
    r"|(^|[\s_])date$|^(date|fecha|data)[\s_]|datum$|日期$",
    re.I,
)
SERIAL_MIN, SERIAL_MAX = 20000, 80000
DATETIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M",
]
SAMPLE_ROWS = 2000
HEAD_ROWS = 20  # a first, cheap test of every candidate


@dataclass(frozen=True)
class Candidate:
    type: str  # integer | number | date | datetime | boolean | text
    expr: str  # SQL over the trimmed value, written as @V
    test: str  # SQL that is true when @V fits

    def on(self, sql: str, value: str) -> str:
        return sql.replace("@V", value)


def _number(kind: str, integer: bool) -> Candidate:
    if kind == "us":
        pattern, clean = (US_INT if integer else US_NUMBER), "replace(@V, ',', '')"
        test = f"regexp_full_match(@V, '{pattern}')"
        if not integer:  # also plain DOUBLE syntax such as 1e-3
            test = f"({test} OR TRY_CAST(@V AS DOUBLE) IS NOT NULL)"
    else:
        pattern = EU_INT if integer else EU_NUMBER
        clean = "replace(replace(@V, '.', ''), ',', '.')"
        test = f"regexp_full_match(@V, '{pattern}')"
    target = "BIGINT" if integer else "DOUBLE"
    cast = f"TRY_CAST({clean} AS {target})"
    if integer:  # 24 digits fit the pattern but not BIGINT: a number then, not an empty cell
        test = f"({test} AND {cast} IS NOT NULL)"
    return Candidate("integer" if integer else "number", cast, test)


def _time(fmt: str, kind: str) -> Candidate:
    parsed = f"try_strptime(@V, '{fmt}')"
    expr = f"CAST({parsed} AS DATE)" if kind == "date" else parsed
    # "01-Jan-00" read with %Y is the year 0: a four-digit year format must find four digits
    return Candidate(kind, expr, f"coalesce(year({parsed}) BETWEEN 1000 AND 9999, false)")


def _quarter(pattern: str, year: int, quarter: int) -> Candidate:
    def part(group: int) -> str:
        return f"CAST(regexp_extract(@V, '^{pattern}$', {group}) AS INTEGER)"

    expr = f"make_date({part(year)}, {part(quarter)} * 3 - 2, 1)"
    return Candidate("date", expr, f"regexp_full_match(@V, '{pattern}')")


QUARTERS = [_quarter(QUARTER_FIRST, 1, 2), _quarter(QUARTER_LAST, 2, 1)]
EXCEL_SERIAL = Candidate(
    "date",
    "CAST(DATE '1899-12-30' + CAST(floor(TRY_CAST(@V AS DOUBLE)) AS INTEGER) AS DATE)",
    f"coalesce(TRY_CAST(@V AS DOUBLE) BETWEEN {SERIAL_MIN} AND {SERIAL_MAX}, false)",
)


def candidates(decimal_comma: bool) -> list[Candidate]:
    numbers = ["eu", "us"] if decimal_comma else ["us", "eu"]
    dates = [_time(f, "date") for f in DATE_FORMATS]
    if decimal_comma:  # European files write day first
        dates.sort(key=lambda c: "%m/%d" in c.test or "%m-%d" in c.test)  # stable
    return [
        Candidate("boolean", "lower(@V) IN ('true', 'yes')", f"lower(@V) IN {BOOLS!r}"),
        *(_number(k, True) for k in numbers),
        *(_number(k, False) for k in numbers),
        *dates,
        *QUARTERS,
        *(_time(f, "datetime") for f in DATETIME_FORMATS),
        Candidate("datetime", "TRY_CAST(@V AS TIMESTAMP)", "TRY_CAST(@V AS TIMESTAMP) IS NOT NULL"),
    ]


def _v(col: str) -> str:
    return f"NULLIF(trim({quote(col)}), '')"


def infer(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], decimal_comma: bool
) -> list[Candidate | None]:
    """For each column, the first candidate that fits every non-empty value (None: text)."""
    every = candidates(decimal_comma)
    # the file's first rows: a LIMIT alone takes whichever rows a thread reads first
    sample = f"(SELECT * FROM {quote(table)} ORDER BY rowid LIMIT {SAMPLE_ROWS})"
    head = f"(SELECT * FROM {quote(table)} ORDER BY rowid LIMIT {HEAD_ROWS})"
    # Every candidate but yes/no needs a digit in each value, or a value DuckDB casts without one (nan,
    # inf, epoch): a column with any other value without a digit (names, regions, products) is tried as
    # yes/no only. One cheap query spares it some forty tests.
    inner = ", ".join(f"{_v(col)} AS v{i}" for i, col in enumerate(columns))
    wordy = ", ".join(
        f"count(*) FILTER (WHERE v{i} IS NOT NULL AND NOT regexp_matches(v{i}, '[0-9]') "
        f"AND TRY_CAST(v{i} AS DOUBLE) IS NULL AND TRY_CAST(v{i} AS TIMESTAMP) IS NULL)"
        for i in range(len(columns))
    )
    words = con.execute(f"SELECT {wordy} FROM (SELECT {inner} FROM {sample})").fetchone() if columns else ()
    assert words is not None
    proposals: list[list[Candidate]] = []
    for col, has_words in zip(columns, words, strict=True):
        cands = [EXCEL_SERIAL, *every] if DATE_NAME.search(col) else every
        if has_words:
            cands = [c for c in cands if c.type == "boolean"]
        # the first rows rule most candidates out cheaply; what fits them is tried on the whole sample
        _, cands = _fitting(con, col, cands, head)
        found, fits = _fitting(con, col, cands, sample) if cands else (1, [])
        proposals.append(fits if found else [])
    # One full pass confirms the first few proposals of every column at once.
    owners = [(i, c) for i, props in enumerate(proposals) for c in props[:4]]
    chosen: list[Candidate | None] = [None] * len(columns)
    if owners:
        misses = ", ".join(_misses(c, f"v{i}") for i, c in owners)
        inner = ", ".join(f"{_v(col)} AS v{i}" for i, col in enumerate(columns))
        row = con.execute(f"SELECT {misses} FROM (SELECT {inner} FROM {quote(table)})").fetchone()
        assert row is not None
        for (i, c), m in zip(owners, row, strict=True):
            if m == 0 and chosen[i] is None:
                chosen[i] = c
    return chosen


def _fitting(
    con: duckdb.DuckDBPyConnection, col: str, cands: list[Candidate], source: str
) -> tuple[int, list[Candidate]]:
    """How many values of `col` in `source` are not empty, and the candidates that fit all of them."""
    misses = "".join(", " + _misses(c, "v") for c in cands)
    row = con.execute(f"SELECT count(v){misses} FROM (SELECT {_v(col)} AS v FROM {source})").fetchone()
    assert row is not None
    return row[0], [c for c, m in zip(cands, row[1:], strict=True) if m == 0]


def _misses(c: Candidate, v: str) -> str:
    return f"count(*) FILTER (WHERE {v} IS NOT NULL AND NOT ({c.on(c.test, v)}))"


# What DuckDB's typed reader may decide: the types it parses exactly as the candidates above do.
# Yes/no, "1,234", "1/2/2024" and the like arrive as text and are inferred like any text column.
TYPED_READ = "['BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'VARCHAR']"
TYPED_READ_DECIMAL_COMMA = "['BIGINT', 'DATE', 'TIMESTAMP', 'VARCHAR']"  # there "1.234" is a thousand
SQL_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "date": "DATE", "datetime": "TIMESTAMP", "boolean": "BOOLEAN"}
DUCK_NUMBERS = ("BIGINT", "DOUBLE")


def read_typed(con: duckdb.DuckDBPyConnection, path: str, delimiter: str, decimal_comma: bool, table: str) -> bool:
    """Read a CSV into `table` with DuckDB's parallel typed reader; False (and no table) when it refuses.

    It refuses what the one-threaded all-text read takes: a value past its sample that does not fit
    the type the sample gave ("n/a" in row 900,000 of numbers), a short row, a newline inside quotes.
    """
    types = TYPED_READ_DECIMAL_COMMA if decimal_comma else TYPED_READ
    keep = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = true")  # rowids in file order, read in parallel
    try:
        con.execute(
            f"CREATE TABLE {quote(table)} AS SELECT * FROM read_csv(?, delim = ?, header = true, "
            f"quote = '\"', escape = '\"', parallel = true, auto_type_candidates = {types}, "
            "dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S')",
            [path, delimiter],
        )
    except duckdb.Error:
        con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
        return False
    finally:
        con.execute(f"SET preserve_insertion_order = {bool(keep and keep[0])}")
    return True


def settle(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[str],
    names: list[str],
    read_as: list[str],
    inferred: dict[str, Candidate | None],
) -> None:
    """Type a table `read_typed` wrote as ingestion types a text table, in place (no copy).

    `read_as`: DuckDB's type per column; `inferred`: what `infer` chose for its text columns.
    """
    t = quote(table)
    # the text read trims every cell and reads '' as empty: a column staying text is tidied if it needs it
    kept = [c for c, cand in inferred.items() if cand is None]
    untidy: dict[str, int] = {}
    if kept:
        counts = f"SELECT {', '.join(f'count(*) FILTER (WHERE {quote(c)} IS DISTINCT FROM {_v(c)})' for c in kept)}"
        untidy = dict(zip(kept, con.execute(f"{counts} FROM {t}").fetchone() or (), strict=True))
    for col, duck in zip(columns, read_as, strict=True):
        q = quote(col)
        if col in inferred:
            cand = inferred[col]
            if cand is not None:
                typed = cand.on(cand.expr, f"({_v(col)})")
                con.execute(f"ALTER TABLE {t} ALTER {q} SET DATA TYPE {SQL_TYPES[cand.type]} USING {typed}")
            elif untidy[col]:
                con.execute(f"ALTER TABLE {t} ALTER {q} SET DATA TYPE VARCHAR USING {_v(col)}")
        elif duck in DUCK_NUMBERS and DATE_NAME.search(col) and _serial_days(con, t, q):
            con.execute(f"ALTER TABLE {t} ALTER {q} SET DATA TYPE DATE USING {EXCEL_SERIAL.on(EXCEL_SERIAL.expr, q)}")
    if names != columns:  # through names of our own, so a new name never meets an old one
        for i, col in enumerate(columns):
            con.execute(f"ALTER TABLE {t} RENAME {quote(col)} TO {quote(f'__column_{i}')}")
        for i, name in enumerate(names):
            con.execute(f"ALTER TABLE {t} RENAME {quote(f'__column_{i}')} TO {quote(name)}")


def _serial_days(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Every value of a number column is an Excel serial day, by the test `EXCEL_SERIAL` puts to text."""
    row = con.execute(f"SELECT count({column}), {_misses(EXCEL_SERIAL, column)} FROM {table}").fetchone()
    return bool(row and row[0] and not row[1])


def cast_table(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    target: str,
    columns: list[str],
    names: list[str],
    types: list[Candidate | None],
) -> None:
    selects = []
    for col, name, t in zip(columns, names, types, strict=True):
        v = _v(col)
        expr = v if t is None else t.on(t.expr, f"({v})")
        selects.append(f"{expr} AS {quote(name)}")
    # the staged table holds the file's rows in file order (read in one thread); with insertion
    # order off, only an ORDER BY keeps that order, so "the first rows" stay the file's first rows
    source = quote(staged)
    con.execute(f"CREATE TABLE {quote(target)} AS SELECT {', '.join(selects)} FROM {source} ORDER BY {source}.rowid")
