"""Financial `model` blocks: rows of formulas over periods, checked and evaluated exactly.

A model block is logic, not figures: inputs are the only numbers a planner
writes; every row is an expression (docagent.engine.expr) over inputs, other rows of
the same period, `prev(row)`, `sum(row)`, `cumsum(row)` and rows of other model
blocks (`"Block title".row`). This module resolves the names, orders the cells
(row, period) so that each is computed after what it reads, and evaluates them
with `Decimal`, so a cached value is the exact figure the formula gives. The
.xlsx renderer turns the same trees into spreadsheet formulas.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from docagent.engine.expr import Binary, Call, Name, Node, Num, Str, Unary, parse, walk
from docagent.engine.plan import NAME_PATTERN, Model, Plan
from docagent.errors import ExprError

# name -> (fewest, most) arguments; None: any number
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "prev": (1, 1),
    "sum": (1, 1),
    "cumsum": (1, 1),
    "period_index": (0, 0),
    "if": (3, 3),
    "min": (1, None),
    "max": (1, None),
    "round": (1, 2),
    "abs": (1, 1),
}
ROW_FUNCTIONS = {"prev", "sum", "cumsum"}  # their one argument is a row, not a value
SUPPORTED = "prev(row), sum(row), cumsum(row), period_index(), if(cond, a, b), min(...), max(...), round(x, n), abs(x)"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
START_FORMS = {
    "year": ("2026", r"(\d{4})"),
    "quarter": ("2026-Q1", r"(\d{4})-Q([1-4])"),
    "month": ("2026-01", r"(\d{4})-(0[1-9]|1[0-2])"),
}


class ModelMathError(Exception):
    """A value cannot be computed (division by zero); carries where."""


@dataclass(frozen=True)
class RowRef:
    block: int  # index of the model block in plan.blocks
    row: str


@dataclass(frozen=True)
class InputRef:
    name: str


Ref = RowRef | InputRef
Cell = tuple[RowRef, int]  # period -1: the whole row (what sum() reads)


def period_labels(block: Model) -> list[str] | None:
    """'2026', '2026 Q1' or 'Jan 2026' for each period; None when start does not fit the unit."""
    p = block.periods
    m = re.fullmatch(START_FORMS[p.unit][1], p.start.strip())
    if m is None:
        return None
    year = int(m.group(1))
    if p.unit == "year":
        return [str(year + k) for k in range(p.count)]
    if p.unit == "quarter":
        q0 = year * 4 + int(m.group(2)) - 1
        return [f"{(q0 + k) // 4} Q{(q0 + k) % 4 + 1}" for k in range(p.count)]
    m0 = year * 12 + int(m.group(2)) - 1
    return [f"{MONTHS[(m0 + k) % 12]} {(m0 + k) // 12}" for k in range(p.count)]


def _where(block: Model, row: str | None = None, part: str = "formula") -> str:
    where = f"model {block.title!r}"
    return f"{where}, row {row!r} {part}" if row else where


@dataclass
class Models:
    """Every model block of a plan, with names resolved; build with `Models.of(plan)`."""

    plan: Plan
    blocks: dict[int, Model] = field(default_factory=dict)
    labels: dict[int, list[str]] = field(default_factory=dict)
    inputs: dict[str, Decimal] = field(default_factory=dict)
    input_block: dict[str, int] = field(default_factory=dict)
    trees: dict[tuple[RowRef, str], Node] = field(default_factory=dict)  # (row, "formula"|"first")
    refs: dict[tuple[int, Name], Ref] = field(default_factory=dict)  # (block, name node) -> what it names
    problems: list[str] = field(default_factory=list)
    order: list[Cell] = field(default_factory=list)

    @classmethod
    def of(cls, plan: Plan) -> Models:
        m = cls(plan, {i: b for i, b in enumerate(plan.blocks) if isinstance(b, Model)})
        m._declare()
        if not m.problems:
            m._resolve()
        if not m.problems:
            m._order()
        return m

    def by_title(self, title: str) -> int | None:
        return next((i for i, b in self.blocks.items() if b.title == title), None)

    def rows(self, i: int) -> dict[str, int]:
        return {r.name: k for k, r in enumerate(self.blocks[i].rows)}

    # --- names ---

    def _declare(self) -> None:
        out = self.problems
        titles = [b.title for b in self.blocks.values()]
        for t in sorted({t for t in titles if titles.count(t) > 1}):
            out.append(f"two model blocks are titled {t!r}; model titles must be unique (rows refer to them)")
        for i, b in self.blocks.items():
            labels = period_labels(b)
            if labels is None:
                example, _ = START_FORMS[b.periods.unit]
                out.append(
                    f"{_where(b)}: periods.start {b.periods.start!r} does not fit unit {b.periods.unit!r}; "
                    f"write it like {example!r} (year: '2026', quarter: '2026-Q1', month: '2026-01')"
                )
            else:
                self.labels[i] = labels
            names = [r.name for r in b.rows]
            for n in [*names, *(x.name for x in b.inputs)]:
                if not re.fullmatch(NAME_PATTERN, n):
                    out.append(
                        f"{_where(b)}: name {n!r} must be lowercase letters, digits and _ (starting with a letter)"
                    )
            for n in sorted({n for n in names if names.count(n) > 1}):
                out.append(f"{_where(b)}: row name {n!r} is used twice; row names must be unique in a model")
            for inp in b.inputs:
                if inp.name in self.input_block:
                    other = self.blocks[self.input_block[inp.name]].title
                    out.append(
                        f"{_where(b)}: input {inp.name!r} is also defined in model {other!r}; "
                        "input names are shared by all models (one Assumptions sheet), so give each a unique name"
                    )
                    continue
                if inp.name in names:
                    out.append(f"{_where(b)}: {inp.name!r} is both an input and a row; rename one")
                self.input_block[inp.name] = i
                self.inputs[inp.name] = Decimal(repr(float(inp.value)))

    def _resolve(self) -> None:
        for i, b in self.blocks.items():
            for r in b.rows:
                ref = RowRef(i, r.name)
                for part, text in (("formula", r.formula), ("first", r.first)):
                    if text is None:
                        continue
                    where = _where(b, r.name, part)
                    try:
                        tree = parse(text)
                    except ExprError as e:
                        self.problems.append(f"{where} {text!r}: {e.message}")
                        continue
                    if self._check_tree(i, tree, where, part):
                        self.trees[(ref, part)] = tree
                uses_prev = (ref, "formula") in self.trees and any(
                    isinstance(n, Call) and n.func == "prev" for n in walk(self.trees[(ref, "formula")])
                )
                if uses_prev and r.first is None:
                    first = self.labels.get(i, ["the first period"])[0]
                    self.problems.append(
                        f"{_where(b, r.name)}: the formula uses prev() but the row has no 'first'; "
                        f"give 'first', its value in {first} (which has no previous period), e.g. \"0\" or an input"
                    )

    def _check_tree(self, i: int, tree: Node, where: str, part: str) -> bool:
        before = len(self.problems)
        row_args: set[int] = set()
        for n in walk(tree):
            if isinstance(n, Str):
                self.problems.append(f"{where}: text {n.value!r} has no place in a model formula; use numbers")
            elif isinstance(n, Call):
                self._check_call(i, n, where, part, row_args)
            elif isinstance(n, Name):
                ref = self._lookup(i, n, where)
                if ref is None:
                    continue
                if id(n) in row_args and not isinstance(ref, RowRef):
                    self.problems.append(f"{where}: {n.dotted!r} is an input; prev, sum and cumsum take a row")
                if isinstance(ref, RowRef) and ref.block != i and self.labels.get(ref.block) != self.labels.get(i):
                    a, o = self.blocks[i], self.blocks[ref.block]
                    self.problems.append(
                        f"{where}: refers to {n.dotted!r} but model {o.title!r} has other periods "
                        f"({o.periods.start} x{o.periods.count} {o.periods.unit}) than {a.title!r} "
                        f"({a.periods.start} x{a.periods.count} {a.periods.unit}); give both the same periods"
                    )
        return len(self.problems) == before

    def _check_call(self, i: int, n: Call, where: str, part: str, row_args: set[int]) -> None:
        arity = FUNCTIONS.get(n.func)
        if arity is None:
            self.problems.append(f"{where}: unknown function {n.func}(); supported: {SUPPORTED}")
            return
        lo, hi = arity
        if len(n.args) < lo or (hi is not None and len(n.args) > hi):
            want = f"{lo}" if lo == hi else f"{lo} or more" if hi is None else f"{lo} to {hi}"
            self.problems.append(f"{where}: {n.func}() takes {want} argument(s), got {len(n.args)}")
            return
        if n.func in ROW_FUNCTIONS:
            if not isinstance(n.args[0], Name):
                self.problems.append(f"{where}: {n.func}() takes a row name, e.g. {n.func}(revenue)")
            else:
                row_args.add(id(n.args[0]))
        if n.func == "prev" and part == "first":
            self.problems.append(f"{where}: 'first' cannot use prev(); the first period has no previous one")
        if n.func == "round" and len(n.args) == 2 and not _integer_literal(n.args[1]):
            self.problems.append(f"{where}: round()'s digits must be a whole number, e.g. round(x, 0)")

    def _lookup(self, i: int, n: Name, where: str) -> Ref | None:
        b = self.blocks[i]
        ref: Ref | None = None
        if len(n.parts) == 1:
            name = n.parts[0]
            if name in self.rows(i):
                ref = RowRef(i, name)
            elif name in self.inputs:
                ref = InputRef(name)
            else:
                self.problems.append(
                    f"{where}: unknown name {name!r}; rows of {b.title!r}: {sorted(self.rows(i))}; "
                    f'inputs: {sorted(self.inputs)}; another model\'s row: "Model title".row'
                )
        elif len(n.parts) == 2:
            title, name = n.parts
            j = self.by_title(title)
            if j is None:
                titles = [x.title for x in self.blocks.values()]
                self.problems.append(f"{where}: {n.dotted!r} names no model block; model titles: {titles}")
            elif name in self.rows(j):
                ref = RowRef(j, name)
            elif name in self.inputs:
                ref = InputRef(name)
            else:
                self.problems.append(f"{where}: model {title!r} has no row {name!r}; its rows: {sorted(self.rows(j))}")
        else:
            self.problems.append(f'{where}: {n.dotted!r} has too many parts; use row or "Model title".row')
        if ref is not None:
            self.refs[(i, n)] = ref
        return ref

    # --- order ---

    def tree(self, ref: RowRef, t: int) -> Node:
        if t == 0 and (ref, "first") in self.trees:
            return self.trees[(ref, "first")]
        return self.trees[(ref, "formula")]

    def reads(self, ref: RowRef, t: int) -> set[Cell]:
        """The cells the value of `ref` in period t is computed from."""
        out: set[Cell] = set()
        inside: set[int] = set()
        for n in walk(self.tree(ref, t)):
            if isinstance(n, Call) and n.func in ROW_FUNCTIONS and isinstance(n.args[0], Name):
                inside.add(id(n.args[0]))
                target = self.refs.get((ref.block, n.args[0]))
                if not isinstance(target, RowRef):
                    continue
                if n.func == "prev":
                    out.add((target, t - 1))
                elif n.func == "sum":
                    out.add((target, -1))
                else:
                    out.update((target, k) for k in range(t + 1))
            elif isinstance(n, Name) and id(n) not in inside:
                target = self.refs.get((ref.block, n))
                if isinstance(target, RowRef):
                    out.add((target, t))
        return out

    def _order(self) -> None:
        """Kahn's algorithm over (row, period) cells; what is left over is a cycle."""
        deps: dict[Cell, set[Cell]] = {}
        for i, b in self.blocks.items():
            count = b.periods.count
            for r in b.rows:
                ref = RowRef(i, r.name)
                for t in range(count):
                    deps[(ref, t)] = self.reads(ref, t)
                deps[(ref, -1)] = {(ref, t) for t in range(count)}
        users: dict[Cell, list[Cell]] = {c: [] for c in deps}
        for c, ds in deps.items():
            for d in ds:
                users[d].append(c)
        waiting = {c: len(ds) for c, ds in deps.items()}
        ready = deque(c for c, k in waiting.items() if k == 0)
        while ready:
            c = ready.popleft()
            self.order.append(c)
            for u in users[c]:
                waiting[u] -= 1
                if waiting[u] == 0:
                    ready.append(u)
        stuck = sorted({c[0] for c, k in waiting.items() if k > 0}, key=lambda r: (r.block, r.row))
        if stuck:
            names = ", ".join(f"{self.blocks[r.block].title!r}.{r.row}" for r in stuck)
            self.problems.append(
                f"model rows depend on each other in a cycle: {names}; a row cannot use its own value in the "
                "same period (directly, through other rows or through sum()); use prev(row) or an input"
            )
            self.order = []

    # --- values ---

    def evaluate(self) -> dict[RowRef, list[Decimal]]:
        """Every row's value per period; raises ModelMathError (e.g. division by zero)."""
        values: dict[RowRef, list[Decimal]] = {
            RowRef(i, r.name): [Decimal(0)] * b.periods.count for i, b in self.blocks.items() for r in b.rows
        }
        for ref, t in self.order:
            if t < 0:
                continue
            try:
                values[ref][t] = _value(self, values, ref.block, self.tree(ref, t), t)
            except ZeroDivisionError as e:
                b = self.blocks[ref.block]
                raise ModelMathError(
                    f"{_where(b, ref.row)} in {self.labels[ref.block][t]}: division by zero; guard it, "
                    "e.g. if(d = 0, 0, n / d)"
                ) from e
            except ArithmeticError as e:  # decimal Overflow, InvalidOperation (absurd round digits)
                b = self.blocks[ref.block]
                raise ModelMathError(
                    f"{_where(b, ref.row)} in {self.labels[ref.block][t]}: the value is out of range; "
                    "check the formula and the inputs it reads"
                ) from e
        return values


def _integer_literal(n: Node) -> bool:
    if isinstance(n, Unary) and n.op in "+-":
        n = n.operand
    return isinstance(n, Num) and float(n.value).is_integer()


def _truth(v: Decimal) -> bool:
    return v != 0


def _num(b: bool) -> Decimal:
    return Decimal(1) if b else Decimal(0)


COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _value(m: Models, values: dict[RowRef, list[Decimal]], i: int, n: Node, t: int) -> Decimal:
    def ev(x: Node) -> Decimal:
        return _value(m, values, i, x, t)

    def row(x: Node) -> list[Decimal]:
        ref = m.refs[(i, x)]  # type: ignore[index]
        assert isinstance(ref, RowRef)
        return values[ref]

    match n:
        case Num(text=text):
            return Decimal(text)
        case Name():
            ref = m.refs[(i, n)]
            return m.inputs[ref.name] if isinstance(ref, InputRef) else values[ref][t]
        case Unary(op="not", operand=a):
            return _num(not _truth(ev(a)))
        case Unary(op=op, operand=a):
            return -ev(a) if op == "-" else ev(a)
        case Binary(op="and", left=a, right=b):
            x, y = ev(a), ev(b)  # both sides, as AND() does
            return _num(_truth(x) and _truth(y))
        case Binary(op="or", left=a, right=b):
            x, y = ev(a), ev(b)
            return _num(_truth(x) or _truth(y))
        case Binary(op=op, left=a, right=b) if op in COMPARE:
            return _num(COMPARE[op](ev(a), ev(b)))
        case Binary(op=op, left=a, right=b):
            x, y = ev(a), ev(b)
            if op == "+":
                return x + y
            if op == "-":
                return x - y
            if op == "*":
                return x * y
            return x / y
        case Call(func="if", args=(c, a, b)):
            return ev(a) if _truth(ev(c)) else ev(b)  # only the branch taken, as IF() does
        case Call(func="min", args=args):
            return min(ev(a) for a in args)
        case Call(func="max", args=args):
            return max(ev(a) for a in args)
        case Call(func="abs", args=(a,)):
            return abs(ev(a))
        case Call(func="round", args=args):
            digits = int(ev(args[1])) if len(args) == 2 else 0
            return ev(args[0]).scaleb(digits).quantize(Decimal(1), ROUND_HALF_UP).scaleb(-digits)
        case Call(func="period_index"):
            return Decimal(t + 1)
        case Call(func="prev", args=(a,)):
            return row(a)[t - 1]
        case Call(func="sum", args=(a,)):
            return sum(row(a), Decimal(0))
        case Call(func="cumsum", args=(a,)):
            return sum(row(a)[: t + 1], Decimal(0))
    raise AssertionError(f"unchecked expression node {n!r}")
