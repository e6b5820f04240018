"""Top-level `measures` and `params`, resolved before anything compiles: one expansion, one meaning.

A measure is an expression defined once (`margin`); any `expr` may name it alone (its label and format
become the defaults) or use it inside a larger expression (`margin - target`). A param is a number the
request states; inside an expression it is a number literal (so a SQL parameter), in a highlight its
value, in prose its formatted text. Names of measures and params shadow dataset columns of the same
name, which the validator reports.
"""

from __future__ import annotations

from docagent.engine.data.expressions import AGGREGATES
from docagent.engine.expr import Binary, Call, Name, Node, Num, Unary, parse, unparse
from docagent.engine.plan import Chart, Highlight, Metric, Plan, Query, Select, Table
from docagent.errors import ExprError

MAX_NESTING = 8  # measures using measures; deeper is a cycle in practice


def _substitute(
    node: Node, trees: dict[str, Node], values: dict[str, float], depth: int = 0, in_agg: bool = False
) -> Node:
    """Names of measures and params written out. Inside an aggregate a name is a column (a measure
    aggregates, so it cannot sit there): {"name": "revenue", "expr": "sum(revenue)"} sums the column."""
    match node:
        case Name(parts=(name,)) if name in trees and not in_agg:
            if depth >= MAX_NESTING:
                raise ExprError(name, "measures refer to each other in a cycle")
            return _substitute(trees[name], trees, values, depth + 1)
        case Name(parts=(name,)) if name in values:
            v = values[name]
            return Num(v, repr(v).removesuffix(".0"))
        case Call(func=func, args=args):
            inner = in_agg or func in AGGREGATES
            return Call(func, tuple(_substitute(a, trees, values, depth, inner) for a in args))
        case Unary(op=op, operand=x):
            return Unary(op, _substitute(x, trees, values, depth, in_agg))
        case Binary(op=op, left=a, right=b):
            return Binary(
                op, _substitute(a, trees, values, depth, in_agg), _substitute(b, trees, values, depth, in_agg)
            )
    return node


class Resolver:
    def __init__(self, plan: Plan) -> None:
        self.measures = {m.name: m for m in plan.measures}
        self.values = {p.name: p.value for p in plan.params}
        self.trees: dict[str, Node] = {}
        self.problems: list[str] = []
        for m in plan.measures:
            try:
                self.trees[m.name] = parse(m.expr)
            except ExprError as e:
                self.problems.append(f"measure {m.name!r}: expression {e.message}")

    def expr(self, text: str | None) -> str | None:
        if text is None or not (self.trees or self.values):
            return text
        try:
            tree = parse(text)
        except ExprError:
            return text  # reported where the expression is compiled
        try:
            return unparse(_substitute(tree, self.trees, self.values))
        except ExprError as e:
            self.problems.append(f"expression {text[:60]!r}: {e.message}")
            return text

    def select(self, s: Select) -> Select:
        if s.expr is None:
            return s
        named = self.measures.get(s.expr.strip())
        update: dict[str, object] = {"expr": self.expr(s.expr)}
        if named is not None:
            update["label"] = s.label or named.label
            update["format"] = s.format or named.format
        return s.model_copy(update=update)

    def query(self, q: Query) -> Query:
        return q.model_copy(update={"select": [self.select(s) for s in q.select]})

    def metric(self, m: Metric) -> Metric:
        if m.expr is None:
            return m
        named = self.measures.get(m.expr.strip())
        update: dict[str, object] = {"expr": self.expr(m.expr)}
        if named is not None and named.format is not None and "format" not in m.model_fields_set:
            update["format"] = named.format
        return m.model_copy(update=update)

    def highlight(self, h: Highlight) -> Highlight:
        if isinstance(h.value, str) and h.value in self.values:
            return h.model_copy(update={"value": self.values[h.value]})
        return h


def resolve(plan: Plan) -> tuple[Plan, list[str]]:
    """The plan with measures and params written out, and what could not be resolved."""
    if not plan.measures and not plan.params:
        return plan, []
    r = Resolver(plan)
    blocks = []
    for b in plan.blocks:
        if isinstance(b, Table | Chart) and b.query is not None:
            b = b.model_copy(update={"query": r.query(b.query)})
        if isinstance(b, Table) and b.highlight:
            b = b.model_copy(update={"highlight": [r.highlight(h) for h in b.highlight]})
        blocks.append(b)
    metrics = [r.metric(m) for m in plan.metrics]
    return plan.model_copy(update={"blocks": blocks, "metrics": metrics}), r.problems


__all__ = ["resolve"]
