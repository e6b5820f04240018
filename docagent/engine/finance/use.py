"""What reads a model block: metrics of model cells, charts of model rows, and the plan-wide check."""

from __future__ import annotations

from decimal import Decimal

from docagent.engine.finance.models import ModelMathError, Models
from docagent.engine.plan import Chart, Metric, Plan


def metric_problems(m: Metric, models: Models) -> list[str]:
    where = f"metric {m.name!r}"
    assert m.model is not None
    i = models.by_title(m.model)
    if i is None:
        titles = [b.title for b in models.blocks.values()]
        return [f"{where}: model {m.model!r} is not a model block's title; model titles: {titles}"]
    out = []
    if m.row is None or m.row not in models.rows(i):
        out.append(f"{where}: row {m.row!r} is not a row of model {m.model!r}; rows: {sorted(models.rows(i))}")
    count = models.blocks[i].periods.count
    if m.find is None and not (m.period in ("first", "last") or isinstance(m.period, int) and 1 <= m.period <= count):
        out.append(f"{where}: period must be 'first', 'last' or an index from 1 to {count} (or use find)")
    return out


def metric_period(m: Metric, models: Models) -> int:
    """0-based period a (non-find) model metric reads."""
    i = models.by_title(m.model or "")
    assert i is not None
    if m.period == "first":
        return 0
    if m.period == "last":
        return models.blocks[i].periods.count - 1
    assert isinstance(m.period, int)
    return m.period - 1


def first_positive(values: list[Decimal]) -> int | None:
    return next((t for t, v in enumerate(values) if v > 0), None)


MODEL_CHARTS = ("bar", "grouped_bar", "stacked_bar", "hbar", "line", "area", "combo")


def chart_problems(models: Models, chart: Chart) -> list[str]:
    where = f"chart {chart.title!r}"
    i = models.by_title(chart.model or "")
    if i is None:
        titles = [b.title for b in models.blocks.values()]
        return [f"{where}: model {chart.model!r} is not a model block's title; model titles: {titles}"]
    out = []
    if chart.query is not None or chart.columns is not None or chart.rows is not None:
        out.append(f"{where}: a chart of a model takes its data from the model; query, columns and rows stay null")
    if chart.kind not in MODEL_CHARTS:
        out.append(f"{where}: a chart of a model is one of {', '.join(MODEL_CHARTS)}, not {chart.kind}")
    if chart.x != "period":
        out.append(f"{where}: a chart of a model has x 'period' (its columns), not {chart.x!r}")
    if (chart.kind == "combo") != bool(chart.y2):
        out.append(f"{where}: y2 (rows drawn as a line on a second axis) goes with kind combo, and only with it")
    rows = models.rows(i)
    for y in [*chart.y, *(chart.y2 or [])]:
        if y not in rows:
            out.append(f"{where}: {y!r} is not a row of model {chart.model!r}; rows: {sorted(rows)}")
    return out


def model_problems(plan: Plan) -> list[str]:
    """Every problem of the plan's model blocks, model metrics and model charts."""

    models = Models.of(plan)
    out = list(models.problems)
    for m in plan.metrics:
        if m.model is not None:
            out += metric_problems(m, models)
    for b in plan.blocks:
        if isinstance(b, Chart) and b.model is not None:
            out += chart_problems(models, b)
    if not out and models.blocks:
        try:
            models.evaluate()
        except ModelMathError as e:
            out.append(str(e))
    return out
