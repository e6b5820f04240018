"""Compile a plan expression (`docagent.engine.expr` tree) to parameterised DuckDB SQL, type-checked.

Only whitelisted functions exist; column names become quoted identifiers and
numbers become parameters, so nothing the model wrote is pasted into SQL.
Division is `a / nullif(b, 0)`: dividing by zero gives null, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docagent.engine.data.catalog import NUMERIC, TEMPORAL, Column, Dataset
from docagent.engine.data.sql import quote
from docagent.engine.expr import Binary, Call, Name, Node, Num, Str, Unary, parse
from docagent.errors import ExprError

AGGREGATES = ("sum", "avg", "min", "max", "count", "count_distinct", "median")
SCALARS = ("abs", "round", "coalesce", "nullif")
CONDITIONALS = ("if", "case")
SUPPORTED = (
    "aggregates sum(x) avg(x) min(x) max(x) count(x) count() count_distinct(x) median(x); "
    "+ - * / with parentheses; abs(x) round(x, digits) coalesce(x, y) nullif(x, y); "
    "if(cond, a, b) case(cond1, v1, cond2, v2, ..., else); = != < <= > >= and or not; "
    "'text' literals and null, e.g. sum(if(category = 'Coffee', revenue, 0))"
)
COMPARE_SQL = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_AGG_SQL = {"count_distinct": "count(DISTINCT {})"}


class ExprProblem(Exception):
    """An expression that parses but does not fit the data; the message says what is supported."""


@dataclass
class Scope:
    """Which datasets a name may refer to: the query's own and the joined ones (`dataset.column`)."""

    main: Dataset
    joined: dict[str, Dataset] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # dataset name -> SQL alias, when joined

    def known(self) -> str:
        names = [f"{c.name!r} ({c.type})" for c in self.main.columns]
        for ds in self.joined.values():
            names += [f"{ds.name + '.' + c.name!r} ({c.type})" for c in ds.columns]
        return ", ".join(names)

    def missing(self, name: str) -> ExprProblem:
        where = repr(self.main.name) + "".join(f" or {n!r}" for n in self.joined)
        return ExprProblem(f"column {name!r} does not exist in {where}; columns: {self.known()}")

    def _sql(self, ds: Dataset, col: Column) -> str:
        alias = self.aliases.get(ds.name)
        return f"{alias}.{quote(col.name)}" if alias else quote(col.name)

    def lookup(self, parts: tuple[str, ...]) -> tuple[Dataset, Column] | None:
        if len(parts) == 1:
            col = self.main.column(parts[0])
            return (self.main, col) if col else None
        if len(parts) == 2:
            ds = self.joined.get(parts[0]) or (self.main if parts[0] == self.main.name else None)
            col = ds.column(parts[1]) if ds else None
            return (ds, col) if ds and col else None
        return None

    def find(self, name: str) -> tuple[Dataset, Column] | None:
        """A column named in a plan field: the query's own first, else `dataset.column` of a join."""
        found = self.lookup((name,))
        if found is None and "." in name:
            head, _, tail = name.partition(".")
            found = self.lookup((head, tail))
        return found

    def column(self, parts: tuple[str, ...]) -> tuple[str, Column]:
        found = self.lookup(parts)
        if found is None:
            raise self.missing(".".join(parts))
        return self._sql(*found), found[1]

    def ref(self, name: str) -> tuple[str, Column]:
        found = self.find(name)
        if found is None:
            raise self.missing(name)
        return self._sql(*found), found[1]


@dataclass
class Compiled:
    sql: str
    params: list[Any]
    type: str  # integer | number | date | datetime | text | boolean
    aggregate: bool  # contains an aggregate call
    additive: bool  # only sums and counts joined by + and -: an "Other" row may add it up


def _number(c: Compiled, what: str) -> None:
    if c.type not in NUMERIC and c.type != "null":
        raise ExprProblem(f"{what} needs numbers, got {c.type}; supported: {SUPPORTED}")


def _condition(c: Compiled, what: str) -> None:
    if c.type != "boolean":
        raise ExprProblem(f"{what} needs a condition such as region = 'North' or revenue > 100, got {c.type}")


def _family(typ: str) -> str:
    return "number" if typ in NUMERIC else "date" if typ in TEMPORAL else typ


def _common(values: list[Compiled], what: str) -> str:
    """The one type the branches of if()/case() share (integers widen to numbers; null fits any)."""
    types = {v.type for v in values if v.type != "null"}
    if not types:
        return "null"
    if len({_family(t) for t in types}) > 1:
        raise ExprProblem(f"{what} branches must all be numbers, or all text, or all dates; got {sorted(types)}")
    if types <= set(NUMERIC):
        return "integer" if types == {"integer"} else "number"
    return types.pop()


class _Compiler:
    def __init__(self, scope: Scope, grouped: bool) -> None:
        self.scope, self.grouped = scope, grouped

    def node(self, n: Node, in_agg: bool) -> Compiled:
        match n:
            case Num(value=value):
                v: Any = int(value) if value.is_integer() and abs(value) < 2**53 else value
                return Compiled("?", [v], "integer" if isinstance(v, int) else "number", False, False)
            case Str(value=value):
                return Compiled("?", [value], "text", False, False)
            case Name(parts=("null",)) if self.scope.lookup(("null",)) is None:
                return Compiled("NULL", [], "null", False, False)
            case Name(parts=parts):
                sql, col = self.scope.column(parts)
                if self.grouped and not in_agg:
                    raise ExprProblem(
                        f"column {'.'.join(parts)!r} is outside an aggregate; a measure aggregates its "
                        f"columns, e.g. sum({'.'.join(parts)}) or sum(a - b)"
                    )
                return Compiled(sql, [], col.type, False, False)
            case Call(func=func, args=args):
                if func in AGGREGATES:
                    return self.aggregate(func, args, in_agg)
                if func in SCALARS:
                    return self.scalar(func, args, in_agg)
                if func in CONDITIONALS:
                    return self.conditional(func, args, in_agg)
                raise ExprProblem(f"unknown function {func}(); supported: {SUPPORTED}")
            case Unary(op=op, operand=operand):
                c = self.node(operand, in_agg)
                if op == "not":
                    _condition(c, "'not'")
                    return Compiled(f"(NOT {c.sql})", c.params, "boolean", c.aggregate, False)
                _number(c, f"unary {op}")
                return Compiled(f"({op}{c.sql})", c.params, c.type, c.aggregate, c.additive)
            case Binary(op=op, left=left, right=right):
                a, b = self.node(left, in_agg), self.node(right, in_agg)
                if op in ("and", "or"):
                    _condition(a, f"'{op}'")
                    _condition(b, f"'{op}'")
                    sql = f"({a.sql} {op.upper()} {b.sql})"
                    return Compiled(sql, a.params + b.params, "boolean", a.aggregate or b.aggregate, False)
                if op in COMPARE_SQL:
                    return self.compare(op, a, b)
                _number(a, f"'{op}'")
                _number(b, f"'{op}'")
                typ = "integer" if a.type == b.type == "integer" and op != "/" else "number"
                params = a.params + b.params
                agg = a.aggregate or b.aggregate
                if op == "/":
                    return Compiled(f"({a.sql} / nullif({b.sql}, 0))", params, "number", agg, False)
                additive = op in "+-" and a.additive and b.additive
                return Compiled(f"({a.sql} {op} {b.sql})", params, typ, agg, additive)
        raise ExprProblem("unsupported expression")  # pragma: no cover - the parser makes no other nodes

    def compare(self, op: str, a: Compiled, b: Compiled) -> Compiled:
        if "null" in (a.type, b.type):
            raise ExprProblem(f"'{op}' with null is never true; to test for missing values use coalesce(x, 0) = 0")
        fa, fb = _family(a.type), _family(b.type)
        if fa != fb and {fa, fb} != {"text", "date"}:  # a date compares with text such as '2025-01-01'
            raise ExprProblem(f"'{op}' compares {a.type} with {b.type}; compare numbers with numbers, text with text")
        sql = f"({a.sql} {COMPARE_SQL[op]} {b.sql})"
        return Compiled(sql, a.params + b.params, "boolean", a.aggregate or b.aggregate, False)

    def conditional(self, func: str, args: tuple[Node, ...], in_agg: bool) -> Compiled:
        if func == "if" and len(args) != 3:
            raise ExprProblem(f"if(cond, a, b) takes 3 arguments, got {len(args)}")
        if func == "case" and (len(args) < 3 or len(args) % 2 == 0):
            raise ExprProblem(
                f"case(cond1, v1, cond2, v2, ..., else) takes pairs then one else value (an odd number, "
                f"at least 3), got {len(args)}"
            )
        parts = [self.node(a, in_agg) for a in args]
        conds, values = parts[:-1:2], [*parts[1:-1:2], parts[-1]]
        for c in conds:
            _condition(c, f"{func}()")
        typ = _common(values, f"{func}()")
        sql = "CASE" + "".join(f" WHEN {c.sql} THEN {v.sql}" for c, v in zip(conds, values, strict=False))
        sql += f" ELSE {values[-1].sql} END"
        params = [p for x in parts for p in x.params]  # the SQL names them in argument order
        return Compiled(sql, params, typ, any(p.aggregate for p in parts), False)

    def aggregate(self, func: str, args: tuple[Node, ...], in_agg: bool) -> Compiled:
        if in_agg:
            raise ExprProblem(f"{func}() inside another aggregate; aggregates cannot be nested")
        if func == "count" and not args:
            return Compiled("count(*)", [], "integer", True, True)
        if len(args) != 1:
            raise ExprProblem(f"{func}() takes one argument, got {len(args)}")
        inner = self.node(args[0], True)
        if func in ("sum", "avg", "median"):
            _number(inner, f"{func}()")
        elif func in ("min", "max") and inner.type not in NUMERIC + TEMPORAL:
            raise ExprProblem(f"{func}() needs numbers or dates, got {inner.type}")
        sql = _AGG_SQL.get(func, func + "({})").format(inner.sql)
        if func in ("count", "count_distinct"):
            typ = "integer"
        elif func in ("avg", "median"):
            typ = "number"
        else:
            typ = inner.type
        return Compiled(sql, inner.params, typ, True, func in ("sum", "count"))

    def scalar(self, func: str, args: tuple[Node, ...], in_agg: bool) -> Compiled:
        arity = {"abs": (1, 1), "round": (1, 2), "coalesce": (2, 8), "nullif": (2, 2)}[func]
        if not arity[0] <= len(args) <= arity[1]:
            want = arity[0] if arity[0] == arity[1] else f"{arity[0]} to {arity[1]}"
            raise ExprProblem(f"{func}() takes {want} arguments, got {len(args)}")
        if func == "round" and len(args) == 2:
            digits = args[1]
            if not (isinstance(digits, Num) and digits.value.is_integer() and 0 <= digits.value <= 12):
                raise ExprProblem("round(x, digits): digits must be a whole number from 0 to 12")
            x = self.node(args[0], in_agg)
            _number(x, "round()")
            return Compiled(f"round({x.sql}, {int(digits.value)})", x.params, "number", x.aggregate, False)
        parts = [self.node(a, in_agg) for a in args]
        for p in parts:
            _number(p, f"{func}()")
        sql = f"{func}({', '.join(p.sql for p in parts)})"
        params = [v for p in parts for v in p.params]
        typ = "integer" if all(p.type == "integer" for p in parts) else "number"
        return Compiled(sql, params, typ, any(p.aggregate for p in parts), False)


def compile_expr(text: str, scope: Scope, grouped: bool = True) -> Compiled:
    """Parse and type-check `text`; raises ExprProblem (or ExprError from the parser)."""
    return compile_node(parse(text), scope, grouped)


def compile_node(node: Node, scope: Scope, grouped: bool = True) -> Compiled:
    return _Compiler(scope, grouped).node(node, False)


def expr_problem(text: str, scope: Scope, grouped: bool = True) -> str | None:
    """The one-line reason an expression cannot be used, or None when it compiles."""
    try:
        c = compile_expr(text, scope, grouped)
    except ExprError as e:
        return f"expression {e.message}"
    except ExprProblem as e:
        return str(e)
    if grouped and not c.aggregate:
        return f"expr {text[:80]!r} has no aggregate; a measure aggregates, e.g. sum(x) / count()"
    return None


__all__ = ["SUPPORTED", "Compiled", "ExprProblem", "Scope", "compile_expr", "compile_node", "expr_problem"]
