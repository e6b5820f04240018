"""Model blocks: names resolve, cells evaluate exactly, and every mistake gets a repairable message."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from docagent.engine.bind import bind
from docagent.engine.finance.models import Models, RowRef, period_labels
from docagent.engine.plan import Plan
from docagent.engine.validate import problems, validate
from docagent.errors import PlanError
from docagent.renderers.modelformula import Place, Writer, defined_name
from tests.conftest import ROOT

COFFEE = ROOT / "examples" / "plans" / "coffee_shop.json"


def row(name: str, formula: str, first: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"name": name, "label": name.replace("_", " ").title(), "formula": formula, "first": first, **kw}


def model(title: str = "Plan", rows: list[dict[str, Any]] | None = None, inputs=None, **periods: Any) -> dict:
    return {
        "type": "model",
        "title": title,
        "periods": {"start": "2026", "count": 3, "unit": "year", **periods},
        "inputs": inputs if inputs is not None else [{"name": "price", "label": "Price", "value": 2.5}],
        "rows": rows or [row("units", "100 * period_index()"), row("revenue", "units * price")],
    }


def plan(*blocks: dict[str, Any], metrics=()) -> Plan:
    return Plan.model_validate({"meta": {"title": "t"}, "metrics": list(metrics), "blocks": list(blocks)})


def values(p: Plan) -> dict[str, list[Decimal]]:
    m = Models.of(p)
    assert m.problems == []
    return {f"{m.blocks[r.block].title}.{r.row}": v for r, v in m.evaluate().items()}


def test_rows_read_inputs_other_rows_and_the_period_index():
    assert values(plan(model()))["Plan.revenue"] == [Decimal("250.0"), Decimal("500.0"), Decimal("750.0")]


def test_prev_reads_the_previous_period_and_first_gives_the_first():
    rows = [row("stores", "prev(stores) + 2", first="1"), row("growth", "stores - prev(stores)", first="0")]
    got = values(plan(model(rows=rows)))
    assert got["Plan.stores"] == [1, 3, 5]
    assert got["Plan.growth"] == [0, 2, 2]


def test_sum_and_cumsum_run_along_the_row():
    rows = [row("x", "period_index() * 10"), row("total", "sum(x)"), row("running", "cumsum(x)")]
    got = values(plan(model(rows=rows)))
    assert got["Plan.total"] == [60, 60, 60]
    assert got["Plan.running"] == [10, 30, 60]


def test_functions_and_comparisons_compute_as_a_spreadsheet_does():
    rows = [
        row("a", "period_index() - 2"),  # -1, 0, 1
        row("pos", "if(a > 0, 1, 0) + (a = 0) * 10"),
        row("clip", "max(0, min(a, 0.5))"),
        row("r", "round(2.345 * period_index(), 2)"),
        row("neg", "abs(a) + (not a < 0)"),
    ]
    got = values(plan(model(rows=rows)))
    assert got["Plan.pos"] == [0, 10, 1]
    assert got["Plan.clip"] == [0, 0, Decimal("0.5")]
    assert got["Plan.r"] == [Decimal("2.35"), Decimal("4.69"), Decimal("7.04")]  # half away from zero
    assert got["Plan.neg"] == [1, 1, 2]


def test_decimals_are_exact_where_floats_are_not():
    rows = [row("x", "0.1 + 0.2 - 0.3")]
    assert values(plan(model(rows=rows)))["Plan.x"] == [0, 0, 0]


def test_another_models_row_is_read_with_its_title():
    other = model("P&L", rows=[row("profit", '"Plan".revenue * 0.5')], inputs=[])
    assert values(plan(model(), other))["P&L.profit"] == [125, 250, 375]


@pytest.mark.parametrize(
    ("start", "unit", "count", "labels"),
    [
        ("2026", "year", 3, ["2026", "2027", "2028"]),
        ("2026-Q3", "quarter", 3, ["2026 Q3", "2026 Q4", "2027 Q1"]),
        ("2026-11", "month", 3, ["Nov 2026", "Dec 2026", "Jan 2027"]),
    ],
)
def test_period_labels(start, unit, count, labels):
    m = plan(model(start=start, unit=unit, count=count)).blocks[0]
    assert period_labels(m) == labels  # type: ignore[arg-type]


def messages(p: Plan) -> str:
    return "\n".join(problems(p, catalog=None))  # type: ignore[arg-type]  # model checks need no data


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        pytest.param(
            [model(rows=[row("a", "b + 1"), row("b", "a * 2")])],
            "model rows depend on each other in a cycle: 'Plan'.a, 'Plan'.b; a row cannot use its own value in the "
            "same period (directly, through other rows or through sum()); use prev(row) or an input",
            id="cycle",
        ),
        pytest.param(
            [model(rows=[row("a", "sum(b)"), row("b", "prev(a) + 1", first="0")])],
            "model rows depend on each other in a cycle: 'Plan'.a, 'Plan'.b",
            id="cycle-through-sum-and-prev",
        ),
        pytest.param(
            [model(rows=[row("revenue", "units * prise"), row("units", "10")])],
            "model 'Plan', row 'revenue' formula: unknown name 'prise'; rows of 'Plan': ['revenue', 'units']; "
            "inputs: ['price']",
            id="unknown-name",
        ),
        pytest.param(
            [model(rows=[row("cash", "prev(cash) + 10")])],
            "model 'Plan', row 'cash' formula: the formula uses prev() but the row has no 'first'; give 'first', "
            "its value in 2026 (which has no previous period)",
            id="prev-without-first",
        ),
        pytest.param(
            [model(), model("P&L", rows=[row("profit", '"Plan".margin * 2')], inputs=[])],
            "model 'P&L', row 'profit' formula: model 'Plan' has no row 'margin'; its rows: ['revenue', 'units']",
            id="cross-block-missing-row",
        ),
        pytest.param(
            [model(), model("P&L", rows=[row("profit", '"Budget".revenue')], inputs=[])],
            "model 'P&L', row 'profit' formula: 'Budget.revenue' names no model block; model titles: ['Plan', 'P&L']",
            id="cross-block-missing-model",
        ),
        pytest.param(
            [model(), model("P&L", rows=[row("profit", '"Plan".revenue')], inputs=[], unit="month", start="2026-01")],
            "model 'P&L', row 'profit' formula: refers to 'Plan.revenue' but model 'Plan' has other periods "
            "(2026 x3 year) than 'P&L' (2026-01 x3 month); give both the same periods",
            id="mismatched-periods",
        ),
        pytest.param(
            [model(unit="quarter")],
            "model 'Plan': periods.start '2026' does not fit unit 'quarter'; write it like '2026-Q1'",
            id="start-does-not-fit-unit",
        ),
        pytest.param(
            [model(rows=[row("x", "__import__('os')")])],
            "model 'Plan', row 'x' formula \"__import__('os')\": names may not start with '__'",
            id="hostile-dunder",
        ),
        pytest.param(
            [model(rows=[row("x", "price; DROP TABLE t")])],
            "model 'Plan', row 'x' formula 'price; DROP TABLE t': unexpected character ';' at position 6",
            id="hostile-statement",
        ),
        pytest.param(
            [model(rows=[row("x", "exec(price)")])],
            "model 'Plan', row 'x' formula: unknown function exec(); supported: prev(row), sum(row), cumsum(row)",
            id="hostile-function",
        ),
        pytest.param(
            [model(rows=[row("x", "'=cmd|calc'!A1")])],
            "model 'Plan', row 'x' formula",
            id="hostile-formula-injection",
        ),
        pytest.param(
            [model(rows=[row("x", "'HYPERLINK' + 1")])],
            "model 'Plan', row 'x' formula: text 'HYPERLINK' has no place in a model formula; use numbers",
            id="text-literal",
        ),
        pytest.param(
            [model(rows=[row("x", "(" * 60 + "1" + ")" * 60)])],
            "expression is nested too deeply",
            id="hostile-depth",
        ),
        pytest.param(
            [model(rows=[row("x", "prev(price)", first="0")])],
            "model 'Plan', row 'x' formula: 'price' is an input; prev, sum and cumsum take a row",
            id="prev-of-an-input",
        ),
        pytest.param(
            [model(rows=[row("x", "prev(x * 2)", first="0")])],
            "model 'Plan', row 'x' formula: prev() takes a row name, e.g. prev(revenue)",
            id="prev-of-an-expression",
        ),
        pytest.param(
            [model(rows=[row("x", "max()")])],
            "model 'Plan', row 'x' formula: max() takes 1 or more argument(s), got 0",
            id="arity",
        ),
        pytest.param(
            [model(rows=[row("x", "1", first="prev(x)")])],
            "model 'Plan', row 'x' first: 'first' cannot use prev(); the first period has no previous one",
            id="prev-in-first",
        ),
        pytest.param(
            [model(rows=[row("x", "1 / (period_index() - 2)")])],
            "model 'Plan', row 'x' formula in 2027: division by zero; guard it, e.g. if(d = 0, 0, n / d)",
            id="division-by-zero",
        ),
        pytest.param(
            [model(), model("Other", rows=[row("y", "price")])],
            "model 'Other': input 'price' is also defined in model 'Plan'; input names are shared by all models",
            id="duplicate-input",
        ),
        pytest.param(
            [model(rows=[row("Net Income", "1")])],
            "model 'Plan': name 'Net Income' must be lowercase letters, digits and _ (starting with a letter)",
            id="row-name-not-an-identifier",
        ),
        pytest.param(
            [model(rows=[row("price", "1")])],
            "model 'Plan': 'price' is both an input and a row; rename one",
            id="input-and-row-share-a-name",
        ),
    ],
)
def test_each_mistake_gets_a_message_that_names_the_block(blocks, expected):
    assert expected in messages(plan(*blocks))


def test_a_mistake_never_crashes_validate_it_raises_plan_error():
    with pytest.raises(PlanError) as e:
        validate(plan(model(rows=[row("a", "b"), row("b", "a")])), catalog=None)  # type: ignore[arg-type]
    assert "cycle" in str(e.value)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ({"model": "Nope", "row": "revenue", "period": "last"}, "model 'Nope' is not a model block's title"),
        ({"model": "Plan", "row": "profit", "period": "last"}, "row 'profit' is not a row of model 'Plan'"),
        ({"model": "Plan", "row": "revenue", "period": 4}, "period must be 'first', 'last' or an index from 1 to 3"),
        ({"model": "Plan", "row": "revenue"}, "period must be 'first', 'last' or an index from 1 to 3"),
    ],
)
def test_model_metrics_are_checked(metric, expected):
    p = plan(model(), metrics=[{"name": "m", "label": "M", **metric}])
    assert f"metric 'm': {expected}" in messages(p)


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        ({"y": ["revenue", "cost"]}, "'cost' is not a row of model 'Plan'; rows: ['revenue', 'units']"),
        ({"model": "Budget"}, "model 'Budget' is not a model block's title; model titles: ['Plan']"),
        ({"x": "year"}, "a chart of a model has x 'period' (its columns), not 'year'"),
        ({"kind": "pie"}, "a chart of a model is one of bar, grouped_bar, stacked_bar, hbar, line, area, combo"),
        ({"columns": ["a"], "rows": [[1]]}, "a chart of a model takes its data from the model"),
        ({"kind": "combo"}, "y2 (rows drawn as a line on a second axis) goes with kind combo"),
    ],
)
def test_a_chart_of_a_model_is_checked(chart, expected):
    base = {"type": "chart", "kind": "line", "title": "C", "x": "period", "y": ["revenue"], "model": "Plan"}
    assert f"chart 'C': {expected}" in messages(plan(model(), {**base, **chart}))


def test_model_metrics_bind_to_cells_and_find_the_first_positive_period():
    rows = [
        row("units", "100 * period_index()"),
        row("revenue", "units * price"),
        row("cash", "revenue - 600"),  # -350, -100, 150
        row("loss", "0 - revenue"),
    ]
    metrics = [
        {"name": "last_rev", "label": "R", "model": "Plan", "row": "revenue", "period": "last", "format": "currency"},
        {"name": "second", "label": "U", "model": "Plan", "row": "units", "period": 2, "format": "integer"},
        {"name": "even", "label": "B", "model": "Plan", "row": "cash", "find": "first_positive"},
        {"name": "never", "label": "N", "model": "Plan", "row": "loss", "find": "first_positive"},
    ]
    b = bind(plan(model(rows=rows), metrics=metrics), catalog=None)  # type: ignore[arg-type]
    assert b.metric_text == {"last_rev": "$750.00", "second": "200", "even": "2028", "never": "after 2028"}
    assert b.metrics["last_rev"] == 750


def test_formulas_reference_cells_names_and_other_sheets():
    p = plan(
        model(
            rows=[
                row("units", "100"),
                row("cash", "prev(cash) + units * price", first="units"),
                row("t", "sum(units) + cumsum(units)"),
            ]
        ),
        model("P&L", rows=[row("x", '"Plan".cash > 0 and not ("Plan".units < 0)')], inputs=[]),
    )
    m = Models.of(p)
    places = {"units": Place("Plan", 2), "cash": Place("Plan", 3), "t": Place("Plan", 4), "x": Place("P&L", 2)}
    w = Writer(m, lambda ref: places[ref.row])
    assert w.formula(RowRef(0, "cash"), 0).text == "=B3"
    assert w.formula(RowRef(0, "cash"), 2).text == "=C4+D3*price"
    assert w.formula(RowRef(0, "t"), 1).text == "=SUM($B$3:$D$3)+SUM($B$3:C3)"
    f = w.formula(RowRef(1, "x"), 1)
    assert f.text == "=IF(AND('Plan'!C4>0,NOT('Plan'!C3<0)),1,0)"
    assert f.link


def test_inputs_that_read_as_cell_references_get_a_prefix():
    assert defined_name("fy2026") == "in_fy2026"
    assert defined_name("r") == "in_r"
    assert defined_name("price") == "price"


def test_the_coffee_shop_example_is_valid_and_balances():
    p = Plan.model_validate(json.loads(COFFEE.read_text()))
    got = values(p)
    assert got["Cash flow.cash_check"] == [0, 0, 0]
    assert got["Revenue build.stores"] == [3, 5, 7]


def test_the_prompts_model_example_is_a_valid_model():
    prompt = (ROOT / "templates" / "prompts" / "planner_system.md").read_text()
    line = next(ln for ln in prompt.splitlines() if ln.startswith('{"type":"model"'))
    m = Models.of(plan(json.loads(line)))
    assert m.problems == []
    profit = m.evaluate()[RowRef(0, "profit")]
    assert profit[0] == Decimal("4.5") * 90000 - 250000  # revenue - fixed_costs in year 1


def test_the_model_planner_repairs_a_model_from_the_message(catalog):
    """A cycle goes back to the model in words it can act on; the repaired plan is used."""
    from docagent.engine.data.profile import profile
    from docagent.engine.llm.fake import FakeModel, reply
    from docagent.engine.planners import PlanRequest
    from tests.conftest import EXAMPLE
    from tests.test_llm_planner import planner, with_block

    (ds,) = catalog.ingest(EXAMPLE)
    request = PlanRequest("A 3-year plan", [profile(catalog, ds)], catalog, "en")
    bad = model(rows=[row("units", "revenue / price"), row("revenue", "units * price")])
    good = model(rows=[row("units", "100"), row("revenue", "units * price")])
    fake = FakeModel(reply(with_block(bad)), reply(with_block(good)))
    planned = planner(fake).plan(request)
    assert planned.planner == "llm" and planned.usage.repairs == 1
    assert (
        "model rows depend on each other in a cycle: 'Plan'.revenue, 'Plan'.units"
        in (fake.requests[1]["messages"][-1]["content"])
    )
    assert planned.plan.blocks[-1].type == "model"
