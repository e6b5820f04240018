"""The analysis language: expressions, transforms, relative periods, order, Other rows, joins, series."""

from __future__ import annotations

import datetime as dt

import pytest

from docagent.engine.bind import bind
from docagent.engine.data.metrics import partial_period, run_metric
from docagent.engine.data.query import compile_query, run_query
from docagent.engine.plan import Metric, Plan, Query
from docagent.engine.validate import problems

D = dt.date


@pytest.fixture
def shop(catalog, write):
    """Two years of quarterly sales for two regions, and a team table to join."""
    lines = ["day,region,revenue,cost"]
    for year in (2024, 2025):
        for q, month in enumerate((2, 5, 8, 11), 1):
            lines.append(f"{year}-{month:02d}-15,North,{100 * q + (year - 2024) * 50},{40 * q}")
            lines.append(f"{year}-{month:02d}-20,South,{10 * q},0")
    catalog.ingest(write("shop.csv", "\n".join(lines) + "\n"))
    catalog.ingest(write("team.csv", "region,reps\nNorth,4\nSouth,2\n"))
    return catalog


def q(*select, **kw) -> Query:
    return Query.model_validate({"dataset": "shop", "select": list(select), **kw})


def metric(**kw) -> Metric:
    return Metric.model_validate({"name": "m", "label": "M", "dataset": "shop", **kw})


QUARTER = {"column": "day", "bucket": "quarter", "label": "Quarter"}
REVENUE = {"agg": "sum", "column": "revenue", "label": "Revenue"}


def plan(*blocks, metrics=()) -> Plan:
    return Plan.model_validate({"meta": {"title": "t"}, "metrics": list(metrics), "blocks": list(blocks)})


# --- expressions ---


def test_margin_is_an_expression_over_aggregates(shop):
    r = run_query(shop, q({"column": "region"}, {"expr": "(sum(revenue) - sum(cost)) / sum(revenue)", "label": "m"}))
    north_rev = sum(100 * k + y for k in range(1, 5) for y in (0, 50))
    north_cost = 2 * sum(40 * k for k in range(1, 5))
    assert dict(r.rows)["North"] == pytest.approx((north_rev - north_cost) / north_rev)
    assert dict(r.rows)["South"] == pytest.approx(1.0)


def test_row_level_arithmetic_inside_an_aggregate(shop):
    a = run_query(shop, q({"expr": "sum(revenue - cost)", "label": "g"})).rows[0][0]
    b = run_query(shop, q({"expr": "sum(revenue) - sum(cost)", "label": "g"})).rows[0][0]
    assert a == b == 2 * (100 + 200 + 300 + 400) + 4 * 50 + 2 * 100 - 2 * 400


def test_division_by_zero_is_null_not_an_error(shop):
    r = run_query(shop, q({"column": "region"}, {"expr": "sum(revenue) / sum(cost)", "label": "x"}))
    assert dict(r.rows)["South"] is None


def test_numbers_are_parameters_and_quoted_names_are_identifiers(catalog, write):
    catalog.ingest(write("fr.csv", 'ville,"Chiffre d\'affaires","a""b"\nParis,10,1\nLyon,30,2\n'))
    query = Query.model_validate(
        {"dataset": "fr", "select": [{"expr": 'round(sum("Chiffre d\'affaires") * 1.5 + sum("a""b"), 1)'}]}
    )
    sql, params = compile_query(query, catalog.get("fr"))
    assert "1.5" not in sql and 1.5 in params
    assert '"Chiffre d\'affaires"' in sql and '"a""b"' in sql
    assert run_query(catalog, query).rows == [(63.0,)]


HOSTILE = [
    ("sum(revenue); DROP TABLE shop", "unexpected character ';'"),
    ("__import__('os')", "'__'"),
    ("(" * 300 + "sum(revenue)" + ")" * 300, "nested too deeply"),
    ("sum(revenue) + " * 7000 + "1", "longer than"),
    ("exec(revenue)", "unknown function exec(); supported: aggregates sum(x)"),
    ("sum(sum(revenue))", "aggregates cannot be nested"),
    ("sum(region)", "needs numbers, got text"),
    ("sum(revnue)", "column 'revnue' does not exist in 'shop'"),
    ('sum("re""venue")', "column 're\"venue' does not exist"),
    ("sum(revenue) + cost", "column 'cost' is outside an aggregate"),
    ("sum(region > 3)", "'>' compares text with integer"),
    ("sum('x')", "sum() needs numbers, got text"),
    ("sum(if(region, revenue, 0))", "if() needs a condition such as region = 'North'"),
]


@pytest.mark.parametrize(("expr", "message"), HOSTILE)
def test_hostile_expressions_are_validation_errors_never_executed(shop, expr, message):
    p = plan({"type": "table", "title": "Hostile", "query": {"dataset": "shop", "select": [{"expr": expr}]}})
    found = problems(p, shop)
    assert len(found) == 1 and found[0].startswith("block 1 (table 'Hostile'), select 'value': "), found
    assert message in found[0]
    assert shop.con.execute('SELECT count(*) FROM "shop"').fetchone() == (16,)


def test_a_metric_expression_is_checked_too(shop):
    found = problems(plan({"type": "paragraph", "text": "x"}, metrics=[metric(expr="sum(revenue) + nope(1)")]), shop)
    assert len(found) == 1
    assert found[0].startswith("metric 'm': unknown function nope(); supported: aggregates sum(x) avg(x)")


# --- transforms ---


def test_transforms_over_the_grouped_result_before_limit(shop):
    r = run_query(
        shop,
        q(
            QUARTER,
            REVENUE,
            {**REVENUE, "label": "share", "transform": "share"},
            {**REVENUE, "label": "pct", "transform": "pct_change"},
            {**REVENUE, "label": "diff", "transform": "diff"},
            {**REVENUE, "label": "yoy", "transform": "yoy_pct_change"},
            {**REVENUE, "label": "run", "transform": "running_total"},
            {**REVENUE, "label": "rank", "transform": "rank"},
            sort=[{"by": "Quarter", "desc": True}],
            limit=3,
        ),
    )
    quarters = [(100 * k + 10 * k, 100 * k + 50 + 10 * k) for k in range(1, 5)]
    series = [a for a, _ in quarters] + [b for _, b in quarters]  # 2024 Q1..Q4, 2025 Q1..Q4
    total = sum(series)
    assert [row[0] for row in r.rows] == [D(2025, 10, 1), D(2025, 7, 1), D(2025, 4, 1)]
    latest = r.rows[0]
    assert latest[1] == series[7]
    assert latest[2] == pytest.approx(series[7] / total)
    assert latest[3] == pytest.approx((series[7] - series[6]) / series[6])
    assert latest[4] == series[7] - series[6]
    assert latest[5] == pytest.approx((series[7] - series[3]) / series[3])
    assert latest[6] == total  # the running total in time order, though the rows are shown newest first
    assert latest[7] == 1


def test_pct_change_without_a_time_key_follows_the_sort_order(shop):
    r = run_query(
        shop,
        q({"column": "region"}, {**REVENUE, "transform": "pct_change"}, sort=[{"by": "region", "desc": True}]),
    )
    south, north = r.rows
    assert south == ("South", None)
    assert north[1] == pytest.approx((2200 - 200) / 200)


def test_transforms_partition_by_the_other_keys(shop):
    r = run_query(shop, q(QUARTER, {"column": "region"}, {**REVENUE, "transform": "yoy_pct_change", "label": "y"}))
    south_2025_q1 = next(v for d, reg, v in r.rows if d == D(2025, 1, 1) and reg == "South")
    assert south_2025_q1 == pytest.approx(0.0)
    assert all(v is None for d, _, v in r.rows if d.year == 2024)


def test_yoy_without_a_date_key_says_what_it_needs(shop):
    p = plan(
        {
            "type": "table",
            "title": "Regions",
            "query": {"dataset": "shop", "select": [{"column": "region"}, {**REVENUE, "transform": "yoy_pct_change"}]},
        }
    )
    assert problems(p, shop) == [
        "block 1 (table 'Regions'), select 'Revenue': yoy_pct_change needs a date group key "
        "(a date column with a bucket)"
    ]


# --- relative periods ---


@pytest.mark.parametrize(
    ("period", "compare", "result", "expected"),
    [
        ("latest", None, "value", 400 + 50 + 40),
        ("previous", None, "value", 300 + 50 + 30),
        ("year_ago", None, "value", 400 + 40),
        ("to_date", None, "value", sum(100 * k + 50 + 10 * k for k in range(1, 5))),
        ("latest", "previous", "pct_change", (490 - 380) / 380),
        ("latest", "year_ago", "diff", 50),
        ("to_date", "year_ago", "pct_change", 200 / 1100),
        ("change", None, "value", (490 - 110) / 110),
    ],
)
def test_relative_periods_follow_the_latest_date_in_the_data(shop, period, compare, result, expected):
    m = metric(
        agg="sum", column="revenue", time_column="day", bucket="quarter", period=period, compare=compare, result=result
    )
    assert problems(plan({"type": "paragraph", "text": "{m}"}, metrics=[m]), shop) == []
    assert run_metric(shop, m) == pytest.approx(expected)


def test_a_plan_written_today_moves_with_new_data(shop):
    latest = metric(expr="sum(revenue)", time_column="day", bucket="quarter", period="latest")
    previous = latest.model_copy(update={"period": "previous"})
    assert (run_metric(shop, latest), run_metric(shop, previous)) == (490, 380)
    shop.con.execute("INSERT INTO shop VALUES (DATE '2026-01-05', 'North', 7, 1)")  # next month's data
    assert (run_metric(shop, latest), run_metric(shop, previous)) == (7, 490)


def test_a_latest_period_still_running_is_noted_when_compared_with_a_whole_one(shop):
    m = metric(expr="sum(revenue)", time_column="day", bucket="quarter", period="latest", compare="previous")
    assert partial_period(shop, m) is None  # both quarters reach 50 days in
    shop.con.execute("INSERT INTO shop VALUES (DATE '2026-01-05', 'North', 7, 1)")  # four days into a quarter
    note = partial_period(shop, m)
    assert note is not None
    assert "up to 2026-01-05 only" in note and "runs to 2025-11-20" in note
    assert bind(plan({"type": "paragraph", "text": "{m}"}, metrics=[m]), shop).notes == [note]
    assert partial_period(shop, m.model_copy(update={"compare": None, "result": "value"})) is None


def test_metric_period_problems(shop):
    ms = [
        metric(agg="sum", column="revenue", period="latest"),
        metric(name="b", agg="sum", column="revenue", result="pct_change"),
        metric(name="c", agg="sum", column="revenue", time_column="day", bucket="month", compare="previous"),
        metric(name="d", label="D"),
    ]
    assert problems(plan({"type": "paragraph", "text": "x"}, metrics=ms), shop) == [
        "metric 'm': period latest needs time_column (a date column) and bucket",
        "metric 'b': result pct_change needs compare: previous or year_ago",
        "metric 'c': compare needs period latest, previous, year_ago or to_date, not all",
        "metric 'd': give agg (with column) or expr",
    ]


# --- order, Other, joins ---


def test_sort_order_lists_the_values_of_a_text_key(shop):
    r = run_query(shop, q({"column": "region"}, REVENUE, sort=[{"by": "region", "order": ["South", "North"]}]))
    assert [x for x, _ in r.rows] == ["South", "North"]


def test_an_ordinal_key_sorts_in_its_natural_order_by_default(catalog, write):
    catalog.ingest(write("q.csv", "季度,收入\n一季度,1\n三季度,3\n二季度,2\n四季度,4\n"))
    catalog.get("q").column("季度").order = ["一季度", "二季度", "三季度", "四季度"]  # set by profiling
    r = run_query(
        catalog, Query.model_validate({"dataset": "q", "select": [{"column": "季度"}, {"expr": "sum(收入)"}]})
    )
    assert [x for x, _ in r.rows] == ["一季度", "二季度", "三季度", "四季度"]


def test_other_folds_the_rows_past_the_limit(shop):
    r = run_query(
        shop,
        q({"column": "region"}, REVENUE, {**REVENUE, "label": "s", "transform": "share"}, limit=1, other=True),
    )
    assert r.folded and [x for x, *_ in r.rows] == ["North", "Other"]
    assert r.rows[1][1] == 200 and sum(row[2] for row in r.rows) == pytest.approx(1.0)


def test_other_refuses_values_that_do_not_add_up(shop):
    p = plan(
        {
            "type": "table",
            "title": "Top",
            "query": {
                "dataset": "shop",
                "select": [{"column": "region"}, {"agg": "avg", "column": "revenue", "label": "a"}],
                "limit": 1,
                "other": True,
            },
        }
    )
    assert problems(p, shop) == [
        "block 1 (table 'Top'): other: true adds up the folded rows, so every value must be a sum, "
        "a count or a share; not additive: ['a']"
    ]


def test_join_references_columns_as_dataset_dot_column(shop):
    r = run_query(
        shop,
        q(
            {"column": "region"},
            {"expr": "sum(revenue) / max(team.reps)", "label": "per rep"},
            {"column": "team.reps", "agg": "max", "label": "reps"},
            join=[{"dataset": "team", "on": [["region", "region"]]}],
        ),
    )
    assert r.rows == [("North", 2200 / 4, 4), ("South", 200 / 2, 2)]


def test_join_problems_name_what_is_wrong(shop):
    p = plan(
        {
            "type": "table",
            "title": "J",
            "query": {
                "dataset": "shop",
                "select": [{"column": "region"}, {"expr": "sum(team.nope)"}],
                "join": [{"dataset": "team", "on": [["region", "area"]]}],
            },
        }
    )
    assert problems(p, shop) == [
        "block 1 (table 'J'): join 'team': 'region' must be a column of 'shop' and 'area' a column of 'team'"
    ]


# --- series ---


def chart(**kw):
    return {
        "type": "chart",
        "kind": "line",
        "title": "Trend",
        "x": "Quarter",
        "y": ["Revenue"],
        "query": {"dataset": "shop", "select": [QUARTER, {"column": "region"}, REVENUE]},
        **kw,
    }


def test_a_group_key_that_is_neither_x_nor_series_is_an_error(shop):
    found = problems(plan({"type": "heading", "text": "Growth"}, chart()), shop)
    assert found == [
        "block 2 (chart 'Trend' under 'Growth'): the query groups by ['region'], which is neither x nor series; "
        "set series: 'region' for one series per value, or drop it from select"
    ]


def test_series_turns_long_rows_into_one_series_per_value(shop):
    p = plan(chart(series="region"))
    assert problems(p, shop) == []
    bound = bind(p, shop)
    wide = bound.plan.blocks[0]
    assert wide.y == ["North", "South"]
    res = bound.results[0]
    assert [c.name for c in res.columns] == ["Quarter", "North", "South"]
    assert res.rows[0] == (D(2024, 1, 1), 100, 10) and len(res.rows) == 8


def test_profiles_show_which_columns_could_join(shop, write):
    from docagent.engine.data.profile import add_joins, profile

    shop.ingest(write("other.csv", "region,x\nMars,1\nVenus,2\nNorth,3\n"))
    profiles = [profile(shop, shop.get(n)) for n in ("shop", "team", "other")]
    add_joins(shop, profiles)
    assert profiles[0].joins == ["region = team.region (100% of values match)"]
    assert profiles[2].joins == []  # one value in three is shared: not a key to join on


def test_the_prompt_example_teaches_the_analysis_language_and_fits_the_example_data(catalog):
    from docagent.engine.llm.prompt import system_prompt
    from tests.conftest import EXAMPLE

    text = system_prompt()
    line = text.split('Example for a dataset "sales"', 1)[1].split("\n")[1]
    example = Plan.model_validate_json(line)
    catalog.ingest(EXAMPLE)
    assert problems(example, catalog) == []
    for construct in ('"expr":"(sum(revenue)', '"transform":"pct_change"', '"compare":"previous"', '"series":"region"'):
        assert construct in line
    assert len(text) < 19_600  # 5,853 tokens with a real tokenizer (bench/prompt.py); budget 6,000


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        ("季度,收入\n三季度,3\n一季度,1\n四季度,4\n二季度,2\n", ["一季度", "二季度", "三季度", "四季度"]),
        ("month,sales\nMarch,3\nJanuary,1\nDecember,12\nFebruary,2\n", ["January", "February", "March", "December"]),
    ],
)
def test_ingested_ordinal_keys_sort_naturally_in_tables_and_charts(catalog, write, csv, expected):
    (ds,) = catalog.ingest(write("t.csv", csv))
    key, value = (c.name for c in ds.columns)
    query = {"dataset": ds.name, "select": [{"column": key}, {"agg": "sum", "column": value, "label": "v"}]}
    p = plan(
        {"type": "table", "title": "T", "query": query},
        {"type": "chart", "kind": "line", "title": "C", "x": key, "y": ["v"], "query": query},
    )
    bound = bind(p, catalog)
    assert [r[0] for r in bound.results[0].rows] == expected
    assert [r[0] for r in bound.results[1].rows] == expected


def test_problems_name_a_block_by_its_title_and_heading_path():
    from docagent.engine.texts import block_names

    p = plan(
        {"type": "heading", "text": "Results", "level": 1},
        {"type": "heading", "text": "Growth", "level": 2},
        {"type": "chart", "kind": "bar", "title": "By region", "x": "a", "y": ["b"], "columns": ["a", "b"], "rows": []},
        {"type": "heading", "text": "Outlook", "level": 1},
        {"type": "paragraph", "text": "x"},
    )
    assert block_names(p.blocks) == [
        "block 1 (heading 'Results')",
        "block 2 (heading 'Growth' under 'Results')",
        "block 3 (chart 'By region' under 'Results › Growth')",
        "block 4 (heading 'Outlook')",
        "block 5 (paragraph under 'Outlook')",
    ]
