"""Wide period columns become a key and a value (DuckDB UNPIVOT), validated like any query."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.query import run_query
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.errors import PlanError
from docagent.renderers import render_all


def budget(tmp_path: Path) -> Path:
    path = tmp_path / "budget.csv"
    path.write_text(
        "Department,Q1,Q2,Q3,Q4,Owner\nSales,100,110,120,130,Ann\nOps,50,55,60,65,Bo\nR&D,80,80,90,95.5,Cy\n",
        encoding="utf-8",
    )
    return path


def plan_with(query: dict[str, object], x: str = "quarter") -> Plan:
    return Plan.model_validate({
        "meta": {"title": "Budget"},
        "blocks": [{"type": "chart", "kind": "line", "title": "Budget by quarter", "query": query,
                    "x": x, "y": ["Budget"]}],
    })  # fmt: skip


UNPIVOT = {"columns": ["Q1", "Q2", "Q3", "Q4"], "name": "quarter", "value": "budget"}


def test_quarter_columns_unpivot_into_a_quarter_key_and_a_value(tmp_path):
    query = {
        "dataset": "budget",
        "unpivot": UNPIVOT,
        "select": [{"column": "quarter"}, {"column": "budget", "agg": "sum", "label": "Budget"}],
    }
    with Catalog() as c:
        c.ingest(budget(tmp_path))
        plan = validate(plan_with(query), c)
        res = run_query(c, plan.blocks[0].query)  # type: ignore[union-attr,arg-type]
    assert res.rows == [("Q1", 230), ("Q2", 245), ("Q3", 270), ("Q4", 290.5)]
    assert "UNPIVOT" in res.sql


def test_unpivot_keeps_the_other_columns_as_keys(tmp_path):
    query = {
        "dataset": "budget",
        "unpivot": UNPIVOT,
        "select": [{"column": "Department"}, {"column": "budget", "agg": "sum", "label": "Budget"}],
        "sort": [{"by": "Budget", "desc": True}],
    }
    with Catalog() as c:
        c.ingest(budget(tmp_path))
        res = run_query(c, validate(plan_with(query, "Department"), c).blocks[0].query)  # type: ignore[union-attr,arg-type]
    assert res.rows[0] == ("Sales", 460)


@pytest.mark.parametrize(
    ("unpivot", "message"),
    [
        ({"columns": ["Q1", "Q5"], "name": "quarter", "value": "budget"}, "no column ['Q5']"),
        ({"columns": ["Q1", "Owner"], "name": "quarter", "value": "budget"}, "are not numbers"),
        ({"columns": ["Q1", "Q2"], "name": "Department", "value": "budget"}, "already used"),
        ({"columns": ["Q1", "Q2"], "name": "v", "value": "v"}, "distinct"),
    ],
)
def test_a_bad_unpivot_is_a_validation_error_that_says_why(tmp_path, unpivot, message):
    query = {"dataset": "budget", "unpivot": unpivot, "select": [{"column": "Department"}]}
    with Catalog() as c:
        c.ingest(budget(tmp_path))
        with pytest.raises(PlanError) as e:
            validate(plan_with(query), c)
    assert message in str(e.value) and "unpivot" in str(e.value)


def test_an_unpivoted_table_reaches_the_workbook_as_the_values_duckdb_computed(tmp_path):
    plan = Plan.model_validate({
        "meta": {"title": "Budget"},
        "blocks": [{"type": "table", "title": "Budget by department", "query": {
            "dataset": "budget", "unpivot": UNPIVOT,
            "select": [{"column": "Department"}, {"column": "budget", "agg": "sum", "label": "Budget"},
                       {"agg": "count", "label": "Cells"}],
            "sort": [{"by": "Budget", "desc": True}]}}],
    })  # fmt: skip
    with Catalog() as c:
        c.ingest(budget(tmp_path))
        bound = bind(validate(plan, c), c)
    files, _ = render_all(bound, "corporate", tmp_path, "budget", ["xlsx"])
    ws = openpyxl.load_workbook(files["xlsx"])["Summary"]
    cells = {r[0].value: (r[1].value, r[2].value) for r in ws.iter_rows() if r[0].value in ("Sales", "Ops", "R&D")}
    # plain numbers: a COUNTIFS over the data sheet would count one row per department, not four cells
    assert cells == {"Sales": (460, 4), "R&D": (345.5, 4), "Ops": (230, 4)}
