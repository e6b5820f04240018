"""The plan language's wider constructs: each compiles to parameterised SQL whose figures match
hand-written DuckDB, renders to every format, and keeps live formulas LibreOffice recalculates."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.query import compile_query
from docagent.engine.plan import Plan, Query
from docagent.engine.validate import problems, validate
from docagent.renderers import render_all
from tests.conftest import needs_poppler, needs_soffice

MONTHS = [dt.date(2024, m, 1) for m in range(1, 13)] + [dt.date(2025, m, 1) for m in range(1, 7)]


def _rows() -> str:
    lines = ["month,category,store,revenue,cost,staff"]
    for i, d in enumerate(MONTHS):
        lines.append(f"{d},Coffee,North,{100 + 7 * i},{40 + 2 * i},{10 + i % 4}")
        lines.append(f"{d},Tea,{'South' if i % 3 else 'North'},{60 + 5 * (i % 5)},{30 + i % 3},{5 + i % 3}")
        if i % 2:
            lines.append(f"{d},coffee,South,{3 + i},1,1")  # another case: = 'Coffee' must not match it
    return "\n".join(lines) + "\n"


# Each construct as a plan would write it, and the same figures in SQL written by hand.
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "conditional sum": (
        {
            "select": [
                {"column": "month", "bucket": "quarter", "label": "Quarter"},
                {"expr": "sum(if(category = 'Coffee', revenue, 0))", "label": "Coffee", "format": "currency"},
                {"expr": "sum(if(category != 'Coffee' and revenue >= 70, revenue, 0))", "label": "Big tea"},
            ]
        },
        "SELECT date_trunc('quarter', month)::DATE q, sum(CASE WHEN category = 'Coffee' THEN revenue ELSE 0 END),"
        " sum(CASE WHEN category <> 'Coffee' AND revenue >= 70 THEN revenue ELSE 0 END) FROM s GROUP BY 1 ORDER BY 1",
    ),
    "status by case": (
        {
            "select": [
                {"column": "month", "bucket": "quarter", "label": "Quarter"},
                {"expr": "(sum(revenue) - sum(cost)) / sum(revenue)", "label": "Margin", "format": "percent"},
                {
                    "expr": "case(sum(cost) / sum(revenue) > 0.41, 'Red', sum(cost) / sum(revenue) > 0.37, 'Amber', 'Green')",
                    "label": "Status",
                },
            ]
        },
        "SELECT date_trunc('quarter', month)::DATE, (sum(revenue) - sum(cost)) / sum(revenue),"
        " CASE WHEN sum(cost) / sum(revenue) > 0.41 THEN"
        " 'Red' WHEN sum(cost) / sum(revenue) > 0.37 THEN 'Amber' ELSE 'Green' END FROM s GROUP BY 1 ORDER BY 1",
    ),
    "latest quarter": (
        {
            "select": [{"column": "category"}, {"agg": "sum", "column": "revenue", "label": "Revenue"}],
            "period": {"span": "latest", "n": None, "time_column": "month", "bucket": "quarter"},
            "sort": [{"by": "Revenue", "desc": True}],
        },
        "SELECT category, sum(revenue) r FROM s WHERE month >= DATE '2025-04-01' GROUP BY 1 ORDER BY 2 DESC",
    ),
    "year-ago quarter": (
        {
            "select": [{"column": "category"}, {"agg": "sum", "column": "revenue", "label": "Revenue"}],
            "period": {"span": "year_ago", "n": None, "time_column": "month", "bucket": "quarter"},
        },
        "SELECT category, sum(revenue) FROM s WHERE month >= DATE '2024-04-01' AND month < DATE '2024-07-01'"
        " GROUP BY 1 ORDER BY 1",
    ),
    "last 4 months by month": (
        {
            "select": [
                {"column": "month", "bucket": "month", "label": "Month"},
                {"agg": "sum", "column": "revenue", "label": "Revenue"},
            ],
            "period": {"span": "last_n", "n": 4, "time_column": "month", "bucket": "month"},
            "filters": [{"column": "category", "op": "eq", "value": "Tea"}],
        },
        "SELECT month, sum(revenue) FROM s WHERE category = 'Tea' AND month >= DATE '2025-03-01' GROUP BY 1 ORDER BY 1",
    ),
    "year to date": (
        {
            "select": [{"agg": "sum", "column": "revenue", "label": "Revenue"}],
            "period": {"span": "to_date", "n": None, "time_column": "month", "bucket": None},
        },
        "SELECT sum(revenue) FROM s WHERE month >= DATE '2025-01-01'",
    ),
    "last of quarter": (
        {
            "select": [
                {"column": "month", "bucket": "quarter", "label": "Quarter"},
                {"agg": "last", "column": "staff", "label": "Staff at end"},
                {"agg": "first", "column": "staff", "label": "Staff at start"},
            ]
        },
        "SELECT date_trunc('quarter', month)::DATE q,"
        " sum(staff) FILTER (WHERE month = (SELECT max(month) FROM s x WHERE date_trunc('quarter', x.month) ="
        " date_trunc('quarter', s.month))), sum(staff) FILTER (WHERE month = (SELECT min(month) FROM s x WHERE"
        " date_trunc('quarter', x.month) = date_trunc('quarter', s.month))) FROM s GROUP BY 1 ORDER BY 1",
    ),
    "last by category": (
        {
            "select": [{"column": "category"}, {"agg": "last", "column": "staff", "label": "Staff"}],
            "period": {"span": "previous", "n": None, "time_column": "month", "bucket": "quarter"},
        },
        # each row's own latest month: 'coffee' has rows in February only
        "SELECT category, sum(staff) FILTER (WHERE month = (SELECT max(month) FROM s x WHERE x.category = s.category"
        " AND x.month < DATE '2025-04-01')) FROM s"
        " WHERE month >= DATE '2025-01-01' AND month < DATE '2025-04-01' GROUP BY 1 ORDER BY 1",
    ),
    "share and rank within a quarter": (
        {
            "select": [
                {"column": "month", "bucket": "quarter", "label": "Quarter"},
                {"column": "month", "bucket": "month", "label": "Month"},
                {"agg": "sum", "column": "revenue", "label": "Revenue"},
                {"agg": "sum", "column": "revenue", "label": "Share", "transform": "share", "within": "Quarter"},
                {"agg": "sum", "column": "revenue", "label": "Rank", "transform": "rank", "within": "Quarter"},
            ]
        },
        "SELECT q, m, r, r / sum(r) OVER (PARTITION BY q), rank() OVER (PARTITION BY q ORDER BY r DESC) FROM"
        " (SELECT date_trunc('quarter', month)::DATE q, month m, sum(revenue) r FROM s GROUP BY 1, 2) ORDER BY 1, 2",
    ),
    "margin change in points": (
        {
            "select": [
                {"column": "month", "bucket": "year", "label": "Year"},
                {"expr": "(sum(revenue) - sum(cost)) / sum(revenue)", "label": "Margin", "format": "percent"},
                {
                    "expr": "(sum(revenue) - sum(cost)) / sum(revenue)",
                    "label": "Change",
                    "format": "percent",
                    "transform": "diff",
                },
            ]
        },
        "WITH y AS (SELECT date_trunc('year', month)::DATE y, (sum(revenue) - sum(cost)) / sum(revenue) m FROM s"
        " GROUP BY 1) SELECT y, m, m - lag(m) OVER (ORDER BY y) FROM y ORDER BY 1",
    ),
}


MEASURES = [
    {"name": "margin", "label": "Margin", "expr": "(sum(revenue) - sum(cost)) / sum(revenue)", "format": "percent"}
]
PARAMS = [{"name": "target", "label": "Margin target", "value": 0.62, "format": "percent"}]
MEASURED = {
    "type": "table",
    "title": "Margin against target",
    "query": {
        "dataset": "s",
        "select": [
            {"column": "month", "bucket": "quarter", "label": "Quarter"},
            {"expr": "margin"},
            {"expr": "margin - target", "label": "Gap", "format": "pp"},
            {"expr": "case(margin < target, 'Below', 'On target')", "label": "Status"},
        ],
    },
    "highlight": [{"column": "Margin", "op": "lt", "value": "target", "style": "bad"}],
}


PIVOT = {
    "type": "table",
    "title": "Revenue by quarter and store",
    "query": {
        "dataset": "s",
        "select": [
            {"column": "month", "bucket": "quarter", "label": "Quarter"},
            {"column": "store"},
            {"agg": "sum", "column": "revenue", "label": "Revenue", "format": "currency"},
        ],
    },
    "pivot": "store",
    "totals": True,
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Any:
    path = tmp_path_factory.mktemp("data") / "s.csv"
    path.write_text(_rows())
    with Catalog() as c:
        c.ingest(path)
        yield c


def _table(name: str) -> dict[str, Any]:
    query, _ = CASES[name]
    return {"type": "table", "title": name.capitalize(), "query": {"dataset": "s", **query}}


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return bool(a == b)


@pytest.mark.parametrize("name", list(CASES))
def test_each_construct_gives_the_figures_duckdb_gives(shop, name):
    plan = Plan.model_validate({"meta": {"title": "t"}, "blocks": [_table(name)]})
    assert problems(plan, shop) == []
    got = bind(plan, shop).results[0].rows
    want = shop.con.execute(CASES[name][1]).fetchall()
    assert len(got) == len(want) and got, (got, want)
    for g, w in zip(got, want, strict=True):
        assert all(_close(a, b) for a, b in zip(g, w, strict=True)), (g, w)


@pytest.mark.parametrize("name", ["conditional sum", "status by case", "latest quarter"])
def test_text_in_an_expression_is_a_parameter_never_pasted(shop, name):
    q = Query.model_validate({"dataset": "s", **CASES[name][0]})
    sql, params = compile_query(q, shop.get("s"))
    texts = [p for p in params if isinstance(p, str)]
    assert all(f"'{t}'" not in sql for t in texts)
    assert "Coffee" in texts or "Red" in texts or not texts


REFUSED = [
    ({"expr": "sum(if(category, revenue, 0))"}, "if() needs a condition such as region = 'North'"),
    ({"expr": "sum(if(category = 'Tea', revenue, 'none'))"}, "branches must all be numbers, or all text"),
    ({"expr": "case(sum(revenue) > 1, 'a', 'b', 'c')"}, "takes pairs then one else value"),
    ({"expr": "sum(if(category = 3, revenue, 0))"}, "compares text with integer"),
    ({"agg": "last", "column": "staff"}, "needs a date group key (with a bucket) or the query's period"),
    ({"agg": "last", "column": "category"}, "last needs a number column"),
    ({"agg": "sum", "column": "revenue", "within": "region"}, "within applies to a transform"),
]


@pytest.mark.parametrize(("select", "says"), REFUSED)
def test_a_construct_that_does_not_fit_is_refused_with_what_is_supported(shop, select, says):
    plan = Plan.model_validate(
        {
            "meta": {"title": "t"},
            "blocks": [{"type": "table", "title": "Bad", "query": {"dataset": "s", "select": [select]}}],
        }
    )
    found = problems(plan, shop)
    assert found and all(f.startswith("block 1 (table 'Bad'), select ") for f in found), found
    assert says in found[0]


PERIOD_REFUSED = [
    ({"span": "latest", "n": None, "time_column": "month", "bucket": None}, "period latest: needs bucket"),
    ({"span": "last_n", "n": None, "time_column": "month", "bucket": "month"}, "last_n: needs n"),
    ({"span": "latest", "n": None, "time_column": "category", "bucket": "month"}, "text that does not read as periods"),
    ({"span": "latest", "n": None, "time_column": "mnth", "bucket": "month"}, "column 'mnth' does not exist"),
]


@pytest.mark.parametrize(("period", "says"), PERIOD_REFUSED)
def test_a_period_that_does_not_fit_says_why(shop, period, says):
    query = {"dataset": "s", "select": [{"agg": "sum", "column": "revenue"}], "period": period}
    plan = Plan.model_validate({"meta": {"title": "t"}, "blocks": [{"type": "table", "title": "P", "query": query}]})
    found = problems(plan, shop)
    assert len(found) == 1 and says in found[0], found


def test_a_difference_of_percentages_is_shown_in_points(shop):
    margin = {"dataset": "s", "expr": "(sum(revenue) - sum(cost)) / sum(revenue)", "format": "percent"}
    metric = {
        "name": "m",
        "label": "Margin change",
        **margin,
        "period": "latest",
        "time_column": "month",
        "bucket": "quarter",
        "compare": "year_ago",
        "result": "diff",
    }
    plan = Plan.model_validate(
        {"meta": {"title": "t"}, "metrics": [metric], "blocks": [{"type": "paragraph", "text": "Margin {m}."}]}
    )
    bound = bind(plan, shop)
    value = bound.metrics["m"]
    assert value is not None
    assert bound.metric_text["m"] == f"{value * 100:+.1f}\u00a0pp"


def test_a_measure_is_written_once_and_a_param_is_a_number_of_the_request(shop):
    plan = Plan.model_validate({"meta": {"title": "t"}, "measures": MEASURES, "params": PARAMS, "blocks": [MEASURED]})
    assert problems(plan, shop) == []
    bound = bind(plan, shop)
    res = bound.results[0]
    assert [c.name for c in res.columns] == ["Quarter", "Margin", "Gap", "Status"]
    assert res.columns[1].format == "percent" and res.columns[2].format == "pp"
    want = shop.con.execute(
        "SELECT date_trunc('quarter', month)::DATE, (sum(revenue) - sum(cost)) / sum(revenue) m, m - 0.62,"
        " CASE WHEN m < 0.62 THEN 'Below' ELSE 'On target' END FROM s GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert all(_close(a, b) for g, w in zip(res.rows, want, strict=True) for a, b in zip(g, w, strict=True))
    assert {"Below", "On target"} <= {r[3] for r in res.rows}
    assert bound.plan.blocks[-1].text == "Margin target: 62.0%."  # listed for the reader


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"params": [*PARAMS, {"name": "margin", "label": "x", "value": 1}]}, "the name 'margin' is used by a"),
        ({"measures": [{"name": "margin", "label": "M", "expr": "sum(revenue) / margin"}]}, "in a cycle"),
        ({"params": []}, "highlight value 'target' is neither a number nor a param"),
    ],
)
def test_a_measure_or_param_that_does_not_resolve_says_why(shop, change, says):
    plan = Plan.model_validate(
        {"meta": {"title": "t"}, "measures": MEASURES, "params": PARAMS, "blocks": [MEASURED], **change}
    )
    found = problems(plan, shop)
    assert any(says in f for f in found), found


def test_a_param_must_be_a_number_the_request_states():
    from docagent.engine.planners.numbers import allowed_numbers, unstated_params

    plan = Plan.model_validate(
        {
            "meta": {"title": "t"},
            "params": [*PARAMS, {"name": "budget", "label": "Budget", "value": 1200000}],
            "blocks": [{"type": "paragraph", "text": "x"}],
        }
    )
    stated = allowed_numbers("Flag quarters under a 62% margin; budget $1.2M.", [], [])
    assert unstated_params(plan, stated) == []
    found = unstated_params(plan, allowed_numbers("Flag quarters under target.", [], []))
    assert [f.split(":")[0] for f in found] == ["param 'target'", "param 'budget'"]


def test_a_pivot_spreads_one_key_across_with_row_and_column_totals(shop):
    plan = Plan.model_validate({"meta": {"title": "t"}, "blocks": [PIVOT]})
    assert problems(plan, shop) == []
    res = bind(plan, shop).results[0]
    assert [c.name for c in res.columns] == ["Quarter", "North", "South", "Total"]
    want = shop.con.execute(
        "SELECT date_trunc('quarter', month)::DATE q, sum(revenue) FILTER (WHERE store = 'North'),"
        " sum(revenue) FILTER (WHERE store = 'South'), sum(revenue) FROM s GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [tuple(r) for r in res.rows] == [tuple(w) for w in want]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"pivot": "region"}, "pivot names 'region', which is not a group key"),
        ({"formats": ["text", "currency", "currency"]}, "with pivot the columns come from the data"),
    ],
)
def test_a_pivot_that_does_not_fit_says_why(shop, change, says):
    plan = Plan.model_validate({"meta": {"title": "t"}, "blocks": [{**PIVOT, **change}]})
    found = problems(plan, shop)
    assert any(f.startswith("block 1 (table 'Revenue by quarter and store')") and says in f for f in found), found


@pytest.fixture(scope="module")
def rendered(shop, tmp_path_factory) -> dict[str, Path]:
    margin = {"dataset": "s", "expr": "(sum(revenue) - sum(cost)) / sum(revenue)", "format": "percent"}
    metrics = [
        {
            "name": "margin_change",
            "label": "Margin vs a year ago",
            **margin,
            "period": "latest",
            "time_column": "month",
            "bucket": "quarter",
            "compare": "year_ago",
            "result": "diff",
        },
        {
            "name": "staff_now",
            "label": "Staff now",
            "dataset": "s",
            "agg": "last",
            "column": "staff",
            "time_column": "month",
            "format": "integer",
        },
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "paragraph", "text": "Margin moved {margin_change} (target {target}); staff stands at {staff_now}."},
        {"type": "kpis", "items": [{"metric": "margin_change"}, {"metric": "staff_now"}]},
        *(_table(n) for n in CASES),
        MEASURED,
        PIVOT,
        {
            "type": "chart",
            "kind": "bar",
            "title": "Latest quarter",
            "query": {"dataset": "s", **CASES["latest quarter"][0]},
            "x": "category",
            "y": ["Revenue"],
        },
    ]
    plan = validate(
        Plan.model_validate(
            {
                "meta": {"title": "Plan language"},
                "measures": MEASURES,
                "params": PARAMS,
                "metrics": metrics,
                "blocks": blocks,
            }
        ),
        shop,
    )
    out = tmp_path_factory.mktemp("out")
    files, _ = render_all(bind(plan, shop), "corporate", out, "language", ["docx", "xlsx", "pdf", "pptx"])
    return files


def test_every_format_is_written(rendered):
    assert set(rendered) == {"docx", "xlsx", "pdf", "pptx"}
    assert all(p.stat().st_size > 2000 for p in rendered.values())


@needs_poppler
def test_the_pdf_shows_statuses_and_points(rendered):
    text = subprocess.run(["pdftotext", str(rendered["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Amber" in text or "Red" in text or "Green" in text
    assert " pp" in text or "\u00a0pp" in text


def _formulas(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)["Summary"]
    return {c.coordinate: c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str) and c.value[:1] == "="}


def test_the_workbook_keeps_live_formulas_for_each_construct(rendered):
    found = " ".join(_formulas(rendered["xlsx"]).values())
    assert "EXACT(" in found  # text equality, case-sensitive as in DuckDB
    assert "MAXIFS(" in found  # periods and last-of-period values anchor on the latest date
    assert "IF(" in found  # the status
    assert "=100*(" in found  # points
    assert "COUNTIFS($A$" in found or "COUNTIFS(A$" in found  # rank within a group
    assert ',"North")' in found and "=SUM(B" in found  # a pivoted column's key value; the total column


@needs_soffice
def test_libreoffice_recalculates_what_docagent_cached(rendered, tmp_path):
    source = rendered["xlsx"]
    cached = openpyxl.load_workbook(source, data_only=True)["Summary"]
    live = _formulas(source)
    stripped = tmp_path / "stripped.xlsx"
    openpyxl.load_workbook(source).save(stripped)  # formulas without cached values
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "re"),
            str(stripped),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    again = openpyxl.load_workbook(tmp_path / "re" / "stripped.xlsx", data_only=True)["Summary"]
    assert len(live) > 40
    for ref in live:
        want, got = cached[ref].value, again[ref].value
        if want in (None, ""):
            assert got in (None, ""), ref
        else:
            assert _close(got, want), (ref, live[ref], want, got)


def test_a_union_stacks_datasets_with_the_same_columns_and_names_each(tmp_path):
    (tmp_path / "opex.csv").write_text("month,centre,amount\n2025-01-01,IT,10\n2025-02-01,HR,20\n2025-02-01,IT,4\n")
    (tmp_path / "capex.csv").write_text("centre,month,amount\nIT,2025-01-01,5\nHR,2025-02-01,7\n")
    query = {
        "dataset": "opex",
        "union": ["capex"],
        "select": [{"column": "centre"}, {"column": "dataset"}, {"agg": "sum", "column": "amount", "label": "Spend"}],
    }
    block = {"type": "table", "title": "Spend by centre", "query": query, "pivot": "dataset", "totals": True}
    with Catalog() as c:
        c.ingest(tmp_path / "opex.csv")
        c.ingest(tmp_path / "capex.csv")
        plan = Plan.model_validate({"meta": {"title": "t"}, "blocks": [block]})
        assert problems(plan, c) == []
        sql, params = compile_query(Query.model_validate(query), c.get("opex"), c)
        assert params[:2] == ["opex", "capex"] and "'opex'" not in sql
        bound = bind(plan, c)
        res = bound.results[0]
        assert [col.name for col in res.columns] == ["centre", "opex", "capex", "Total"]
        assert res.rows == [("HR", 20, 7, 27), ("IT", 14, 5, 19)]
        files, _ = render_all(bound, "corporate", tmp_path, "u", ["docx", "xlsx", "pdf", "pptx"])
        assert len(files) == 4
        bad = {**query, "union": ["opex_typo"]}
        plan = Plan.model_validate({"meta": {"title": "t"}, "blocks": [{**block, "query": bad}]})
        assert any("union: 'opex_typo' is not a dataset" in f for f in problems(plan, c))


def _staff(values: list[str]) -> list[tuple[str, str, int]]:
    return [(v, team, 10 * (i + 1) + k) for i, v in enumerate(values) for k, team in enumerate("AB")]


@pytest.mark.parametrize(
    ("column", "values", "bucket", "latest"),
    [
        ("year", ["2023", "2024", "2025"], "year", "2025"),
        ("month", ["2024-11", "2024-12", "2025-01"], "month", "2025-01"),
        ("quarter", ["2024 Q3", "2024 Q4", "2025 Q1"], "quarter", "2025 Q1"),
    ],
)
def test_years_and_period_text_drive_relative_periods(tmp_path, column, values, bucket, latest):
    rows = "".join(f"{v},{team},{staff}\n" for v, team, staff in _staff(values))
    (tmp_path / "hc.csv").write_text(f"{column},team,staff\n{rows}")
    period = {"span": "latest", "n": None, "time_column": column, "bucket": bucket}
    block = {
        "type": "table",
        "title": "Latest",
        "query": {"dataset": "hc", "period": period, "select": [{"column": "team"}, {"agg": "sum", "column": "staff"}]},
    }
    trend = {
        "type": "table",
        "title": "Trend",
        "query": {
            "dataset": "hc",
            "select": [
                {"column": column, "bucket": bucket, "label": "Period"},
                {"agg": "last", "column": "staff", "label": "Staff"},
                {"agg": "sum", "column": "staff", "label": "Growth", "transform": "pct_change"},
            ],
        },
    }
    metric = {
        "name": "now",
        "label": "Staff now",
        "dataset": "hc",
        "agg": "sum",
        "column": "staff",
        "period": "latest",
        "time_column": column,
        "bucket": bucket,
        "compare": "previous",
        "result": "diff",
    }
    with Catalog() as c:
        c.ingest(tmp_path / "hc.csv")
        plan = Plan.model_validate({"meta": {"title": "t"}, "metrics": [metric], "blocks": [block, trend]})
        assert problems(plan, c) == []
        bound = bind(plan, c)
        latest_rows = [(team, staff) for v, team, staff in _staff(values) if v == latest]
        assert bound.results[0].rows == latest_rows == [("A", 30), ("B", 31)]
        assert [r[1] for r in bound.results[1].rows] == [21, 41, 61]  # each period: both teams at its one date
        assert bound.metrics["now"] == 10 + 10  # both teams grew by 10
        files, _ = render_all(bound, "corporate", tmp_path, "p", ["docx", "xlsx", "pdf", "pptx"])
        assert len(files) == 4


def test_period_text_reads_as_the_first_day_of_its_month_or_quarter():
    from docagent.engine.data.query import time_sql

    con = duckdb.connect()
    got = con.execute(
        f"SELECT {time_sql('x', 'text')} FROM (VALUES ('2025-03'), ('2025 Q2'), ('2025-Q4'), ('soon')) AS v(x)"
    ).fetchall()
    assert [r[0] for r in got] == [dt.date(2025, 3, 1), dt.date(2025, 4, 1), dt.date(2025, 10, 1), None]


def test_a_measure_named_after_its_column_sums_the_column(shop):
    measures = [{"name": "revenue", "label": "Revenue", "expr": "sum(revenue)", "format": "currency"}]
    measures.append({"name": "margin", "label": "Margin", "expr": "(sum(revenue) - sum(cost)) / revenue"})
    block = {
        "type": "table",
        "title": "M",
        "query": {"dataset": "s", "select": [{"expr": "revenue"}, {"expr": "margin"}]},
    }
    plan = Plan.model_validate({"meta": {"title": "t"}, "measures": measures, "blocks": [block]})
    assert problems(plan, shop) == []
    assert (
        bind(plan, shop).results[0].rows
        == shop.con.execute("SELECT sum(revenue), (sum(revenue) - sum(cost)) / sum(revenue) FROM s").fetchall()
    )


@needs_poppler
def test_a_caption_names_the_dates_a_period_covered(rendered):
    text = subprocess.run(["pdftotext", str(rendered["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Latest quarter (2025 Q2)" in text
    assert "Last 4 months by month (Mar 2025 – Jun 2025)" in text


@pytest.mark.parametrize("name", ["board_qbr", "store_matrix_zh", "budget_vs_actual", "headcount"])
def test_the_bench_plans_are_valid_against_their_data(tmp_path, name):
    from bench.economy import PLANS, make_data

    with Catalog() as c:
        for f in make_data(tmp_path):
            c.ingest(f)
        plan = Plan.model_validate_json((PLANS / f"{name}.json").read_text(encoding="utf-8"))
        assert problems(plan, c) == []
        assert bind(plan, c).results
