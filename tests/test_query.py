"""Bindings compile to parameterised SQL and compute what they say."""

from __future__ import annotations

import datetime as dt

import pytest

from docagent.engine.data.metrics import run_metric
from docagent.engine.data.query import compile_query, run_query
from docagent.engine.plan import Metric, Query


@pytest.fixture
def shop(catalog, write):
    catalog.ingest(
        write(
            "shop.csv",
            (
                "day,region,amount\n2024-01-03,North,10\n2024-01-20,South,5\n2024-02-02,North,7\n"
                '2024-03-09,"O\'Brien""; DROP TABLE shop; --",1\n'
            ),
        )
    )
    return catalog


def q(**kw) -> Query:
    return Query.model_validate({"dataset": "shop", **kw})


def test_group_by_month_bucket(shop):
    r = run_query(shop, q(select=[{"column": "day", "bucket": "month"}, {"column": "amount", "agg": "sum"}]))
    assert [(d.date() if isinstance(d, dt.datetime) else d, v) for d, v in r.rows] == [
        (dt.date(2024, 1, 1), 15),
        (dt.date(2024, 2, 1), 7),
        (dt.date(2024, 3, 1), 1),
    ]


def test_hostile_values_are_parameters_never_sql(shop):
    evil = "O'Brien\"; DROP TABLE shop; --"
    query = q(select=[{"agg": "count"}], filters=[{"column": "region", "op": "eq", "value": evil}])
    sql, params = compile_query(query, shop.get("shop"))
    assert evil not in sql and params == [evil]
    assert run_query(shop, query).rows == [(1,)]
    assert shop.con.execute('SELECT count(*) FROM "shop"').fetchone() == (4,)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"column": "region", "op": "in", "values": ["North", "South"]}], 22),
        ([{"column": "region", "op": "not_in", "values": ["North"]}], 6),
        ([{"column": "region", "op": "contains", "value": "drop"}], 1),
        ([{"column": "amount", "op": "ge", "value": 7}], 17),
        ([{"column": "day", "op": "lt", "value": "2024-02-01"}], 15),
    ],
)
def test_filters(shop, filters, expected):
    r = run_query(shop, q(select=[{"column": "amount", "agg": "sum"}], filters=filters))
    assert r.rows == [(expected,)]


def test_sort_and_limit(shop):
    r = run_query(
        shop,
        q(
            select=[{"column": "region"}, {"column": "amount", "agg": "sum", "label": "total"}],
            sort=[{"by": "total", "desc": True}],
            limit=1,
        ),
    )
    assert r.rows == [("North", 17)]


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ({"agg": "sum", "column": "amount"}, 23.0),
        ({"agg": "median", "column": "amount"}, 6.0),
        ({"agg": "count_distinct", "column": "region"}, 3.0),
        (
            {"agg": "sum", "column": "amount", "period": "first", "time_column": "day", "bucket": "month"},
            15.0,
        ),
        ({"agg": "sum", "column": "amount", "period": "last", "time_column": "day", "bucket": "month"}, 1.0),
        (
            {"agg": "sum", "column": "amount", "period": "change", "time_column": "day", "bucket": "month"},
            (1 - 15) / 15,
        ),
    ],
)
def test_metrics(shop, metric, value):
    m = Metric.model_validate({"name": "m", "label": "M", "dataset": "shop", **metric})
    assert run_metric(shop, m) == pytest.approx(value)
