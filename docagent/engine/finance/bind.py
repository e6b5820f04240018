"""Bind model blocks: evaluate them once, then fill model metrics and model charts from the values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from docagent.engine.data.query import OutColumn, Result
from docagent.engine.finance.models import ModelMathError, Models, RowRef
from docagent.engine.finance.use import first_positive, metric_period
from docagent.engine.formatting import format_value
from docagent.engine.plan import Chart, Fmt, Model
from docagent.errors import PlanError

if TYPE_CHECKING:
    from docagent.engine.bind import Bound


@dataclass
class ModelValues:
    models: Models
    values: dict[RowRef, list[Decimal]]

    def block(self, i: int) -> Model:
        return self.models.blocks[i]

    def labels(self, i: int) -> list[str]:
        return self.models.labels[i]

    def row(self, i: int, name: str) -> list[Decimal]:
        return self.values[RowRef(i, name)]

    def legend(self, chart: Chart) -> dict[str, str]:
        """Row name -> label for the rows a chart of this model draws."""
        i = self.models.by_title(chart.model or "")
        return {} if i is None else {r.name: r.label for r in self.block(i).rows}


def bind_models(bound: Bound) -> ModelValues | None:
    plan = bound.plan
    models = Models.of(plan)
    if not models.blocks:
        return None
    if models.problems:  # validate() reports these first; this guards direct callers
        raise PlanError(models.problems)
    try:
        mv = ModelValues(models, models.evaluate())
    except ModelMathError as e:
        raise PlanError([str(e)]) from e
    currency = plan.meta.currency
    for m in plan.metrics:
        if m.model is None or m.row is None:
            continue
        i = models.by_title(m.model)
        assert i is not None
        values = mv.row(i, m.row)
        if m.find == "first_positive":
            t = first_positive(values)
            labels = mv.labels(i)
            bound.metrics[m.name] = None if t is None else float(t + 1)
            bound.metric_text[m.name] = labels[t] if t is not None else f"after {labels[-1]}"
            continue
        value = float(values[metric_period(m, models)])
        bound.metrics[m.name] = value
        bound.metric_text[m.name] = format_value(value, m.format, currency, language=plan.meta.language)
    for k, b in enumerate(plan.blocks):
        if isinstance(b, Chart) and b.model is not None:
            bound.results[k] = chart_result(mv, b)
    return mv


def chart_result(mv: ModelValues, chart: Chart) -> Result:
    """A chart of model rows: one category per period, one series per row (named by its label)."""
    i = mv.models.by_title(chart.model or "")
    assert i is not None
    names = [*chart.y, *(chart.y2 or [])]
    fmts = {r.name: r.format for r in mv.block(i).rows}
    cols = [OutColumn("period", "text")]
    cols += [OutColumn(n, "number", Fmt(fmts[n]), None, True) for n in names]
    rows = [(label, *(float(mv.row(i, n)[t]) for n in names)) for t, label in enumerate(mv.labels(i))]
    return Result(cols, rows)
