"""Spreadsheet formulas for measures, transforms and metrics, as text over a data sheet.

The same expression tree DuckDB ran is written as SUMIFS/COUNTIFS/... (or
SUMPRODUCT for row-level arithmetic inside a sum), so a workbook recomputes
what the documents show. Criteria values are cell references, numbers, DATE()
calls or strings through `formula_text`; nothing is pasted. Whatever has no
faithful formula returns None and the caller writes the computed value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docagent.engine.data.metrics import year_back
from docagent.engine.data.query import OutColumn
from docagent.engine.expr import Binary, Call, Name, Node, Num, Str, Unary, parse
from docagent.engine.plan import Agg, Select
from docagent.renderers.common import formula_text
from docagent.renderers.modelformula import col_name

IFS = {"sum": "SUMIFS", "avg": "AVERAGEIFS", "min": "MINIFS", "max": "MAXIFS"}
PLAIN = {"sum": "SUM", "avg": "AVERAGE", "min": "MIN", "max": "MAX"}
UNSAFE_CRITERIA = tuple("=<>")  # a text criterion starting with these would be read as an operator
COMPARE = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class Crit:
    """One condition on a data-sheet column: `range op value` (value is formula text)."""

    range: str
    op: str  # = <> > >= < <=
    value: str

    def ifs(self) -> str:
        return f"{self.range},{self.value}" if self.op == "=" else f'{self.range},"{self.op}"&{self.value}'

    def test(self) -> str:
        return f"({self.range}{self.op}{self.value})"


Ranges = Callable[[tuple[str, ...]], str | None]  # column name parts -> data-sheet range, or None


def text_value(v: object) -> str | None:
    """A criterion value as formula text, or None when SUMIFS would misread it."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return repr(float(v)).removesuffix(".0")
    if isinstance(v, dt.datetime):
        return date_value(v)
    if isinstance(v, dt.date):
        return date_value(v)
    s = str(v)
    if not s or s.startswith(UNSAFE_CRITERIA) or any(ch in s for ch in "*?~"):
        return None
    try:
        return formula_text(s)
    except ValueError:  # control characters or over 255 characters: no literal can hold it
        return None


def date_value(d: dt.date | dt.datetime) -> str:
    text = f"DATE({d.year},{d.month},{d.day})"
    if isinstance(d, dt.datetime) and d.time() != dt.time():
        text += f"+TIME({d.hour},{d.minute},{d.second})"
    return text


def _number(n: Num) -> str:
    return repr(n.value).removesuffix(".0")


class _Writer:
    def __init__(self, ranges: Ranges, crit: list[Crit]) -> None:
        self.ranges, self.crit = ranges, crit

    def node(self, n: Node) -> str | None:
        match n:
            case Num():
                return _number(n)
            case Call(func=func, args=args) if func in ("sum", "avg", "min", "max", "count", "last", "first"):
                return self.aggregate(func, args)
            case Call(func="abs", args=(x,)):
                a = self.node(x)
                return None if a is None else f"ABS({a})"
            case Call(func="round", args=(x, Num() as digits)):
                a = self.node(x)
                return None if a is None else f"ROUND({a},{_number(digits)})"
            case Unary(op="-" | "+", operand=x):
                a = self.node(x)
                return None if a is None else f"{n.op}({a})"
            case Binary(op="+" | "-" | "*" | "/", left=left, right=right):
                a, b = self.node(left), self.node(right)
                if a is None or b is None:
                    return None
                if n.op == "/":
                    return f'IFERROR(({a})/({b}),"")'  # DuckDB: x / 0 is null
                return f"({a}{n.op}{b})"
            case Str(value=value):
                return _text(value)
            case Binary(op="and" | "or", left=left, right=right):
                a, b = self.node(left), self.node(right)
                return None if a is None or b is None else f"{n.op.upper()}({a},{b})"
            case Unary(op="not", operand=x):
                a = self.node(x)
                return None if a is None else f"NOT({a})"
            case Binary(op=op, left=left, right=right) if op in COMPARE:
                if isinstance(left, Str) or isinstance(right, Str):
                    return None  # Excel compares text without case, DuckDB with it
                a, b = self.node(left), self.node(right)
                return None if a is None or b is None else f"({a}{COMPARE[op]}{b})"
            case Call(func="if" | "case", args=args):
                parts = [self.node(a) for a in args]
                if any(p is None for p in parts) or len(parts) < 3 or len(parts) % 2 == 0:
                    return None
                out = str(parts[-1])
                for c, v in reversed(list(zip(parts[:-1:2], parts[1:-1:2], strict=True))):
                    out = f"IF({c},{v},{out})"
                return out
        return None

    def aggregate(self, func: str, args: tuple[Node, ...]) -> str | None:
        ifs = ",".join(c.ifs() for c in self.crit)
        if func in ("last", "first"):  # args: the value column and the time column (see measure_node)
            if len(args) != 2 or not all(isinstance(a, Name) for a in args):
                return None
            rng, t = self.ranges(args[0].parts), self.ranges(args[1].parts)  # type: ignore[union-attr]
            if rng is None or t is None:
                return None
            edge = ("MAXIFS" if func == "last" else "MINIFS") if ifs else ("MAX" if func == "last" else "MIN")
            at = f"{edge}({t}{',' + ifs if ifs else ''})"
            return f"SUMIFS({rng}{',' + ifs if ifs else ''},{t},{at})"
        if func == "count":
            if not args:
                if ifs:
                    return f"COUNTIFS({ifs})"
                any_range = self.ranges(())
                return None if any_range is None else f"ROWS({any_range})"
            if not isinstance(args[0], Name):
                return None
            rng = self.ranges(args[0].parts)
            return None if rng is None else f'COUNTIFS({rng},"<>"{"," + ifs if ifs else ""})'
        if len(args) != 1:
            return None
        arg = args[0]
        if isinstance(arg, Name):
            rng = self.ranges(arg.parts)
            if rng is None:
                return None
            return f"{IFS[func]}({rng},{ifs})" if ifs else f"{PLAIN[func]}({rng})"
        if func != "sum":
            return None
        row = _RowWriter(self.ranges).node(arg)  # row-level arithmetic: one product per row
        if row is None:
            return None
        return f"SUMPRODUCT({'*'.join([f'({row})', *(c.test() for c in self.crit)])})"


def _text(value: str) -> str | None:
    try:
        return formula_text(value)
    except ValueError:  # control characters or over 255 characters: no literal can hold it
        return None


class _RowWriter:
    """Arithmetic over whole columns, for SUMPRODUCT; division is left out (x/0 would poison the sum).

    Conditions are 0/1 arrays: `and` multiplies, `or` adds and tests > 0, `not` is 1 - x, and
    if(c, a, b) is c*a + (1-c)*b, so no array IF is needed. Text equality is EXACT (DuckDB's `=` is
    case-sensitive; Excel's is not); other text comparisons have no faithful formula.
    """

    def __init__(self, ranges: Ranges) -> None:
        self.ranges = ranges

    def node(self, n: Node) -> str | None:
        match n:
            case Num():
                return _number(n)
            case Name(parts=parts):
                return self.ranges(parts)
            case Unary(op="-", operand=x):
                a = self.node(x)
                return None if a is None else f"-({a})"
            case Binary(op="+" | "-" | "*", left=left, right=right):
                a, b = self.node(left), self.node(right)
                return None if a is None or b is None else f"({a}{n.op}{b})"
            case Binary(op="and", left=left, right=right):
                a, b = self.node(left), self.node(right)
                return None if a is None or b is None else f"(({a})*({b}))"
            case Binary(op="or", left=left, right=right):
                a, b = self.node(left), self.node(right)
                return None if a is None or b is None else f"((({a})+({b}))>0)"
            case Unary(op="not", operand=x):
                a = self.node(x)
                return None if a is None else f"(1-({a}))"
            case (
                Binary(op="=" | "!=", left=left, right=Str(value=value))
                | Binary(op="=" | "!=", left=Str(value=value), right=left)
            ):
                a, t = self.node(left), _text(value)
                if a is None or t is None:
                    return None
                return f"EXACT({a},{t})" if n.op == "=" else f"(1-EXACT({a},{t}))"
            case Binary(op=op, left=left, right=right) if op in COMPARE and not _has_text(n):
                a, b = self.node(left), self.node(right)
                return None if a is None or b is None else f"({a}{COMPARE[op]}{b})"
            case Call(func="if" | "case", args=args) if len(args) >= 3 and len(args) % 2 == 1:
                if any(isinstance(v, Str) for v in args[1::2]) or isinstance(args[-1], Str):
                    return None  # a text value cannot be summed
                terms = [self.node(a) for a in args]
                if any(t is None for t in terms):
                    return None
                out = f"({terms[-1]})"
                for c, v in reversed(list(zip(terms[:-1:2], terms[1:-1:2], strict=True))):
                    out = f"(({c})*({v})+(1-({c}))*{out})"
                return out
        return None


def _has_text(n: Node) -> bool:
    return any(isinstance(x, Str) for x in (n.left, n.right)) if isinstance(n, Binary) else False


def measure_node(s: Select, time: str | None = None) -> Node | None:
    """The expression a select item computes, as a tree (agg + column is sum(column) etc.);
    last/first carry their time column as a second argument: last(headcount, month)."""
    if s.expr is not None:
        return parse(s.expr)
    if s.agg in (Agg.last, Agg.first):
        return None if time is None or s.column is None else Call(str(s.agg), (Name((s.column,)), Name((time,))))
    if s.agg is None or Agg(s.agg) not in (Agg.sum, Agg.avg, Agg.min, Agg.max, Agg.count):
        return None
    args = (Name((s.column,)),) if s.column else ()
    return Call(str(s.agg), args)


def measure_formula(node: Node, ranges: Ranges, crit: list[Crit]) -> str | None:
    """Formula text (without '=') of an aggregate expression over the rows matching `crit`."""
    return _Writer(ranges, crit).node(node)


MONTHS = {"month": 1, "quarter": 3, "year": 12}
TRUNC = {
    "day": "INT({x})",
    "week": "({x}-WEEKDAY({x},3))",  # ISO weeks start on Monday, as DuckDB's date_trunc
    "month": "DATE(YEAR({x}),MONTH({x}),1)",
    "quarter": "DATE(YEAR({x}),INT((MONTH({x})-1)/3)*3+1,1)",
    "year": "DATE(YEAR({x}),1,1)",
}


def _shift(x: str, bucket: str, n: int) -> str:
    if bucket in MONTHS:
        return f"EDATE({x},{n * MONTHS[bucket]})"
    return f"({x}{n * (7 if bucket == 'week' else 1):+d})"


def _year_back(x: str, bucket: str) -> str:
    return _shift(x, "week", -52) if bucket == "week" else f"EDATE({x},-12)"


Bounds = tuple[str, str, bool]  # start, end, end inclusive


def period_bounds(
    period: str, compare: str | None, bucket: str, t: str, crit: list[Crit], n: int = 1
) -> tuple[Bounds, Bounds | None]:
    """A metric's period (and the one it is compared with) as formulas over the data sheet's dates,
    anchored like `docagent.engine.data.metrics.windows`: on the latest date of the rows the filters keep.
    A query's `last_n` span is the latest bucket and the n - 1 before it."""
    ifs = "".join("," + c.ifs() for c in crit)
    latest = f"MAXIFS({t}{ifs})" if ifs else f"MAX({t})"
    if period == "to_date":
        start = f"DATE(YEAR({latest}),1,1)"
        back = (f"EDATE({start},-12)", f"(EDATE({latest},-12)+MOD({latest},1))", True)
        return (start, latest, True), back if compare else None
    if period == "first":
        start = TRUNC[bucket].format(x=f"MINIFS({t}{ifs})" if ifs else f"MIN({t})")
    else:
        start = TRUNC[bucket].format(x=latest)
        if period == "previous":
            start = _shift(start, bucket, -1)
        elif period == "year_ago":
            start = _year_back(start, bucket)
        elif period == "last_n" and n > 1:
            start = _shift(start, bucket, 1 - n)
    win = (start, _shift(start, bucket, n if period == "last_n" else 1), False)
    if compare is None:
        return win, None
    other = _shift(start, bucket, -1) if compare == "previous" else _year_back(start, bucket)
    return win, (other, _shift(other, bucket, 1), False)


def cell(row: int, col: int) -> str:
    return f"{col_name(col)}{row + 1}"


def additive(node: Node) -> bool:
    """Sums and counts joined by + and -: the value over all rows is the sum over groups."""
    match node:
        case Call(func="sum" | "count"):
            return True
        case Binary(op="+" | "-", left=left, right=right):
            return additive(left) and additive(right)
        case Unary(op="-" | "+", operand=x):
            return additive(x)
    return False


class RowFormulas:
    """Formulas for the measure cells of one result written at (top, left).

    Transforms follow the SQL windows: share divides by the measure over every
    group (criteria of the filters alone); pct_change, diff and running_total
    refer to the row before in the same partition, and yoy_pct_change to the row a
    year earlier - only when every group is on the sheet (`whole`), else the row
    before may be missing and the cell keeps its computed value.
    """

    def __init__(
        self,
        cols: list[OutColumn],
        rows: list[tuple[Any, ...]],
        crits: list[list[Crit]],
        ranges: Ranges,
        base: list[Crit],
        top: int,
        left: int,
        whole: bool,
        key_crits: list[dict[str, list[Crit]]] | None = None,
        column_crits: dict[int, list[Crit]] | None = None,
    ) -> None:
        self.cols, self.rows, self.crits, self.ranges, self.base = cols, rows, crits, ranges, base
        self.top, self.left, self.whole = top, left, whole
        self.key_crits = key_crits or [{} for _ in rows]  # each row's criteria per group key
        self.column_crits = column_crits or {}  # a pivoted column's own key value
        self.keys = [k for k, c in enumerate(cols) if not c.measure]
        self.time = next((k for k in self.keys if cols[k].type in ("date", "datetime")), None)
        self.others = [k for k in self.keys if k != self.time]

    def _plain(self, k: int) -> int | None:
        """A column holding the same measure without a transform, to refer to instead of recomputing."""
        s = self.cols[k].select
        for j, c in enumerate(self.cols):
            t = c.select
            same = t is not None and s is not None and (t.expr, t.agg, t.column) == (s.expr, s.agg, s.column)
            if c.measure and same and t is not None and t.transform is None and j != k:
                return j
        return None

    def _measure(self, k: int, i: int) -> str | None:
        """The measure of column k in row i: a cell reference when a plain sibling exists."""
        j = self._plain(k)
        if j is not None:
            return cell(self.top + i, self.left + j)
        select = self.cols[k].select
        node = measure_node(select.model_copy(update={"transform": None}), self.cols[k].time) if select else None
        return None if node is None else measure_formula(node, self.ranges, self.crits[i])

    def _before(self, i: int, yoy: bool) -> int | None:
        """Row index of the window predecessor of row i (None when it has none)."""
        r = self.rows[i]
        same = [j for j, o in enumerate(self.rows) if all(o[k] == r[k] for k in self.others)]
        tk = self.time
        if tk is None:
            return i - 1 if i > 0 else None
        t = r[tk]
        if yoy:
            target = year_back(t, self.cols[tk].bucket or "day")
            return next((j for j in same if self.rows[j][tk] == target), None)
        earlier = [j for j in same if self.rows[j][tk] is not None and self.rows[j][tk] < t]
        return max(earlier, key=lambda j: self.rows[j][tk]) if earlier else None

    def value(self, k: int, i: int) -> str | None:
        s = self.cols[k].select
        if s is None:
            return None
        if s.transform is None:
            node = measure_node(s, self.cols[k].time)
            crit = [*self.crits[i], *self.column_crits.get(k, [])]
            f = None if node is None else measure_formula(node, self.ranges, crit)
            return None if f is None else f"={f}"
        if k in self.column_crits:
            return None  # a transform over pivoted columns runs across the long rows; its value stays
        node = measure_node(s.model_copy(update={"transform": None}), self.cols[k].time)
        t = str(s.transform)
        m = self._measure(k, i)
        if m is None or node is None:
            return None
        if s.within is not None:
            return self._within(k, i, t, m, node)
        if t == "share":
            total = measure_formula(node, self.ranges, self.base) if additive(node) else None
            return None if total is None else f'=IFERROR(({m})/({total}),"")'
        if not self.whole or (t == "yoy_pct_change" and self.time is None):
            return None
        if t == "rank":
            return self._rank(k, i)
        j = self._before(i, t == "yoy_pct_change")
        if t == "running_total":
            if j is None:
                return f"={m}"
            return f"={cell(self.top + j, self.left + k)}+{m}"
        if j is None:
            return None  # no row before: the value is null
        prev = self._measure(k, j)
        if t == "diff":
            return f"=({m})-({prev})"
        return f'=IFERROR((({m})-({prev}))/ABS({prev}),"")'

    def _within(self, k: int, i: int, t: str, m: str, node: Node) -> str | None:
        """share of the row's group (the measure over the filters and the group's key), or rank in it."""
        s = self.cols[k].select
        assert s is not None and s.within is not None
        group = self.key_crits[i].get(s.within)
        if t == "share" and group is not None and additive(node):
            total = measure_formula(node, self.ranges, [*self.base, *group])
            return None if total is None else f'=IFERROR(({m})/({total}),"")'
        j = self._plain(k)
        w = next((n for n, c in enumerate(self.cols) if c.name == s.within and not c.measure), None)
        if t != "rank" or j is None or w is None or not self.whole or any(r[k] is None for r in self.rows):
            return None
        last = self.top + len(self.rows)
        wc, mc = col_name(self.left + w), col_name(self.left + j)
        span = f"{wc}${self.top + 1}:{wc}${last},{cell(self.top + i, self.left + w)}"
        return f'=COUNTIFS({span},{mc}${self.top + 1}:{mc}${last},">"&{cell(self.top + i, self.left + j)})+1'

    def _rank(self, k: int, i: int) -> str | None:
        """RANK over the plain measure's cells, when one ranking covers every row (SQL: no partition)."""
        j = self._plain(k)
        if j is None or (self.time is not None and self.others) or any(r[k] is None for r in self.rows):
            return None
        col = col_name(self.left + j)
        return f"=RANK({cell(self.top + i, self.left + j)},{col}${self.top + 1}:{col}${self.top + len(self.rows)})"

    def row(self, i: int) -> list[str | None]:
        return [self.value(k, i) if c.measure else None for k, c in enumerate(self.cols)]

    def other_row(self, i: int) -> list[str | None]:
        """The folded "Other" row: what the listed rows leave of the total."""
        out: list[str | None] = []
        for k, c in enumerate(self.cols):
            s = c.select
            node = measure_node(s.model_copy(update={"transform": None})) if c.measure and s else None
            if node is None or not additive(node) or (s and s.transform not in (None, "share")):
                out.append(None)
                continue
            above = f"SUM({cell(self.top, self.left + k)}:{cell(self.top + i - 1, self.left + k)})"
            if s and s.transform == "share":
                out.append(f"=1-{above}")
                continue
            total = measure_formula(node, self.ranges, self.base)
            out.append(None if total is None else f"={total}-{above}")
        return out


__all__ = [
    "Crit",
    "RowFormulas",
    "period_bounds",
    "additive",
    "date_value",
    "measure_formula",
    "measure_node",
    "text_value",
]
