"""Model expressions as spreadsheet formulas: the same trees the evaluator reads, as cell references.

Inputs become defined names, rows become references to the row's cell in the
same period column (`prev` the column before; `sum`/`cumsum` a range along the
row), rows on another sheet become quoted cross-sheet references. Only node
types the validator accepted reach here, so nothing a planner wrote is pasted
into a formula: names are looked up, numbers are re-printed from `Decimal`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from docagent.engine.expr import Binary, Call, Name, Node, Num, Unary
from docagent.engine.finance.models import InputRef, Models, RowRef

FIRST_COLUMN = 1  # period 1 is column B; column A holds the labels
CELL_LIKE = re.compile(r"[a-z]{1,3}[0-9]+|r[0-9]*c?[0-9]*|c[0-9]*|true|false")
EXCEL_OP = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
FUNCS = {"min": "MIN", "max": "MAX", "abs": "ABS", "round": "ROUND", "if": "IF"}
PREC = {"+": 5, "-": 5, "*": 6, "/": 6}
LOGICAL = {"and", "or", *EXCEL_OP}


def col_name(c: int) -> str:
    out = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        out = chr(65 + r) + out
    return out


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def defined_name(input_name: str) -> str:
    """The workbook name of an input; prefixed where the bare name reads as a cell (e.g. fy26)."""
    return f"in_{input_name}" if CELL_LIKE.fullmatch(input_name) else input_name


def number(n: Decimal) -> str:
    text = format(n.normalize(), "f")
    return text if text != "-0" else "0"


@dataclass(frozen=True)
class Place:
    sheet: str
    row: int  # 0-based worksheet row


Locate = Callable[[RowRef], Place]


@dataclass
class Formula:
    text: str  # with the leading '='
    link: bool  # reads a cell on another sheet (shown green)


class Writer:
    """Formulas for one model block's cells; `locate` says where every row lives."""

    def __init__(self, models: Models, locate: Locate) -> None:
        self.models, self.locate = models, locate

    def formula(self, ref: RowRef, t: int) -> Formula:
        self.sheet = self.locate(ref).sheet
        self.block = ref.block
        self.t = t
        self.link = False
        tree = self.models.tree(ref, t)
        text, _ = self.fx(tree)
        if _logical(tree):  # a TRUE/FALSE would be skipped by SUM(); keep rows numeric as the evaluator does
            text = f"IF({text},1,0)"
        return Formula("=" + text, self.link)

    def cell(self, target: RowRef, t: int, absolute: bool = False) -> str:
        place = self.locate(target)
        d = "$" if absolute else ""
        ref = f"{d}{col_name(FIRST_COLUMN + t)}{d}{place.row + 1}"
        if place.sheet != self.sheet:
            self.link = True
            return f"{quote_sheet(place.sheet)}!{ref}"
        return ref

    def span(self, target: RowRef, last: int) -> str:
        """$B5:D5 - from the first period to `last`, on the row's own sheet."""
        place = self.locate(target)
        ref = f"${col_name(FIRST_COLUMN)}${place.row + 1}:{col_name(FIRST_COLUMN + last)}{place.row + 1}"
        if place.sheet != self.sheet:
            self.link = True
            return f"{quote_sheet(place.sheet)}!{ref}"
        return ref

    def row_of(self, n: Node) -> RowRef:
        ref = self.models.refs[(self.block, n)]  # type: ignore[index]
        assert isinstance(ref, RowRef)
        return ref

    def fx(self, n: Node) -> tuple[str, int]:
        """(text, precedence): 9 atoms and calls, 7 negation, 6 * /, 5 + -, 4 comparisons."""
        match n:
            case Num(text=text):
                return number(Decimal(text)), 9
            case Name():
                ref = self.models.refs[(self.block, n)]
                if isinstance(ref, InputRef):
                    return defined_name(ref.name), 9
                return self.cell(ref, self.t), 9
            case Unary(op="not", operand=a):
                return f"NOT({self.fx(a)[0]})", 9
            case Unary(op=op, operand=a):
                inner = self.wrap(a, 7)
                return (f"-{inner}", 7) if op == "-" else (inner, self.fx(a)[1])
            case Binary(op="and" | "or", left=a, right=b):
                return f"{n.op.upper()}({self.fx(a)[0]},{self.fx(b)[0]})", 9
            case Binary(op=op, left=a, right=b) if op in EXCEL_OP:
                return f"{self.wrap(a, 5)}{EXCEL_OP[op]}{self.wrap(b, 5)}", 4
            case Binary(op=op, left=a, right=b):
                p = PREC[op]
                return f"{self.wrap(a, p)}{op}{self.wrap(b, p + 1)}", p
            case Call(func="period_index"):
                return str(self.t + 1), 9
            case Call(func="prev", args=(a,)):
                return self.cell(self.row_of(a), self.t - 1), 9
            case Call(func="sum", args=(a,)):
                ref = self.row_of(a)
                count = self.models.blocks[ref.block].periods.count
                first, last = (
                    self.cell(ref, 0, True),
                    f"${col_name(FIRST_COLUMN + count - 1)}${self.locate(ref).row + 1}",
                )
                return f"SUM({first}:{last})", 9
            case Call(func="cumsum", args=(a,)):
                return f"SUM({self.span(self.row_of(a), self.t)})", 9
            case Call(func="round", args=(a,)):
                return f"ROUND({self.fx(a)[0]},0)", 9
            case Call(func=func, args=args):
                return f"{FUNCS[func]}({','.join(self.fx(x)[0] for x in args)})", 9
        raise AssertionError(f"unchecked expression node {n!r}")

    def wrap(self, n: Node, need: int) -> str:
        text, p = self.fx(n)
        return text if p >= need else f"({text})"


def _logical(n: Node) -> bool:
    return (isinstance(n, Binary) and n.op in LOGICAL) or (isinstance(n, Unary) and n.op == "not")
