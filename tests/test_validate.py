"""The semantic validator names every problem precisely (its messages go back to the model)."""

from __future__ import annotations

import pytest

from docagent.engine.plan import Plan
from docagent.engine.validate import problems, validate
from docagent.errors import PlanError
from tests.conftest import EXAMPLE


@pytest.fixture
def sales(catalog):
    catalog.ingest(EXAMPLE)
    return catalog


def plan(*blocks, metrics=()):
    return Plan.model_validate({"meta": {"title": "t"}, "metrics": list(metrics), "blocks": list(blocks)})


def table(select, **q):
    return {"type": "table", "title": "t", "query": {"dataset": "sales", "select": select, **q}}


def test_a_sound_plan_has_no_problems(sales):
    p = plan(
        {"type": "paragraph", "text": "Revenue was {rev}."},
        table(
            [{"column": "region"}, {"column": "revenue", "agg": "sum"}],
            sort=[{"by": "sum_revenue", "desc": True}],
        ),
        metrics=[{"name": "rev", "label": "Revenue", "dataset": "sales", "agg": "sum", "column": "revenue"}],
    )
    assert problems(p, sales) == []


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            table([{"column": "regoin"}]),
            "block 1 (table 't'), select 'regoin': column 'regoin' does not exist in 'sales'; columns: "
            "'order_date' (date), 'region' (text)",
        ),
        (
            table([{"column": "region", "agg": "sum"}]),
            "block 1 (table 't'), select 'sum_region': cannot sum column 'region' of type text; "
            "sum needs a number column (use count or count_distinct)",
        ),
        (
            table([{"column": "region", "bucket": "month"}, {"agg": "count"}]),
            "block 1 (table 't'): 'region' is text that does not read as periods (e.g. 'Central'); "
            "time needs a date column, an integer year, or text such as 2025-03 or 2025 Q1",
        ),
        (
            {"type": "paragraph", "text": "Total is {total_revenue}."},
            "block 1 (paragraph): placeholder {total_revenue} does not name a metric",
        ),
        (
            {**table([{"column": "region"}]), "query": {"dataset": "sale", "select": [{"column": "x"}]}},
            "block 1 (table 't'): unknown dataset 'sale'; available: 'sales'",
        ),
        (
            table([{"column": "region"}], sort=[{"by": "revenue"}]),
            "block 1 (table 't'): sort by 'revenue' is not an output name; outputs: ['region']",
        ),
        (
            {
                "type": "chart",
                "kind": "pie",
                "title": "c",
                "x": "region",
                "y": ["a", "b"],
                "query": {
                    "dataset": "sales",
                    "select": [
                        {"column": "region"},
                        {"column": "units", "agg": "sum", "label": "a"},
                        {"column": "cost", "agg": "sum", "label": "b"},
                    ],
                },
            },
            "block 1 (chart 'c'): a pie chart shows exactly one value series in y, and no y2",
        ),
        (
            {
                "type": "chart",
                "kind": "bar",
                "title": "c",
                "x": "region",
                "y": ["revenue"],
                "query": {"dataset": "sales", "select": [{"column": "region"}, {"agg": "count"}]},
            },
            "block 1 (chart 'c'): chart encodes 'revenue', which is not a column of its data ['region', 'count']",
        ),
        (
            {"type": "kpis", "items": [{"metric": "nope"}]},
            "block 1 (kpis): KPI refers to unknown metric 'nope'; metrics: []",
        ),
        (
            {"type": "table", "title": "t", "columns": ["a", "b"], "rows": [["x"]]},
            "block 1 (table 't'): rows [1] do not have 2 cells like columns",
        ),
    ],
)
def test_each_problem_has_a_specific_message(sales, block, message):
    found = problems(plan(block), sales)
    assert len(found) == 1, found
    assert found[0].startswith(message)


def test_metric_problems(sales):
    p = plan(
        {"type": "paragraph", "text": "x"},
        metrics=[
            {"name": "a", "label": "A", "dataset": "sales", "agg": "avg", "column": "channel"},
            {
                "name": "b",
                "label": "B",
                "dataset": "sales",
                "agg": "sum",
                "column": "units",
                "period": "change",
                "time_column": "region",
                "bucket": "month",
            },
        ],
    )
    assert problems(p, sales) == [
        "metric 'a': cannot avg column 'channel' of type text; avg needs a number column (use count or count_distinct)",
        "metric 'b': 'region' is text that does not read as periods (e.g. 'Central'); time needs a date column, "
        "an integer year, or text such as 2025-03 or 2025 Q1",
    ]


def test_all_problems_at_once_and_raised_together(sales):
    p = plan(table([{"column": "nope"}]), {"type": "paragraph", "text": "{x} and {y}"})
    with pytest.raises(PlanError) as e:
        validate(p, sales)
    assert len(e.value.problems) == 3
    assert "placeholder {y}" in str(e.value)
