"""Ordinal text keys (months, weekdays, quarters) are recognised at profiling, in their natural order."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from docagent.engine.data.catalog import Catalog
from docagent.engine.data.ordinal import natural_order, period_columns
from docagent.engine.data.profile import profile
from docagent.engine.data.query import run_query
from docagent.engine.plan import Query, Select


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Q3", "Q1", "Q4", "Q2"], ["Q1", "Q2", "Q3", "Q4"]),
        (["T2", "T4", "T1", "T3"], ["T1", "T2", "T3", "T4"]),
        (["三季度", "一季度", "四季度", "二季度"], ["一季度", "二季度", "三季度", "四季度"]),
        (["12月", "1月", "10月", "2月"], ["1月", "2月", "10月", "12月"]),
        (["April", "January", "March", "February"], ["January", "February", "March", "April"]),
        (["Sep", "Dec", "Jan", "May"], ["Jan", "May", "Sep", "Dec"]),
        (["mars", "janvier", "février"], ["janvier", "février", "mars"]),
        (["Sun", "Thur", "Sat", "Fri"], ["Thur", "Fri", "Sat", "Sun"]),
        (["星期日", "星期一", "星期三"], ["星期一", "星期三", "星期日"]),
        (["2024 Q1", "2023 Q4", "2024 Q2"], ["2023 Q4", "2024 Q1", "2024 Q2"]),
        (["Q1 2025", "Q4 2024"], ["Q4 2024", "Q1 2025"]),
        (["2024年二季度", "2024年一季度"], ["2024年一季度", "2024年二季度"]),
        (["第3四半期", "第1四半期"], ["第1四半期", "第3四半期"]),
        (["2분기", "1분기"], ["1분기", "2분기"]),
        (["10월", "2월"], ["2월", "10월"]),
        (["金曜日", "月曜日"], ["月曜日", "金曜日"]),
        (["일요일", "월요일"], ["월요일", "일요일"]),
    ],
)
def test_ordinal_keys_sort_in_their_natural_order(values, expected):
    assert natural_order(values) == expected


@pytest.mark.parametrize(
    "values",
    [["North", "South"], ["Q1", "January"], ["Q1"], ["Marketing", "Sales", "Ops"], ["Q1", "Q2", "Total"]],
)
def test_other_text_has_no_natural_order(values):
    assert natural_order(values) is None


def test_period_column_names_are_found_in_order():
    assert period_columns(["Department", "Q2", "Q1", "Q4", "Q3", "Total"]) == ["Q1", "Q2", "Q3", "Q4"]
    assert period_columns(["team", "2026", "2024", "2025"]) == ["2024", "2025", "2026"]
    assert period_columns(["region", "revenue", "cost"]) == []


def test_profile_shows_the_order_of_chinese_quarters_and_english_months(tmp_path: Path):
    path = tmp_path / "q.csv"
    quarters = ["三季度", "一季度", "四季度", "二季度"]
    months = ["March", "January", "December", "February"]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["季度", "month", "region", "收入"])
        for i in range(8):
            w.writerow([quarters[i % 4], months[i % 4], f"r{i % 2}", 10 + i])
    with Catalog() as c:
        (ds,) = c.ingest(path)
        p = profile(c, ds)
    assert ds.column("季度").order == ["一季度", "二季度", "三季度", "四季度"]  # type: ignore[union-attr]
    assert p.column("month").order == ["January", "February", "March", "December"]  # type: ignore[union-attr]
    assert p.column("region").order is None  # type: ignore[union-attr]


def test_queries_group_ordinal_keys_in_their_natural_order_without_a_sort(tmp_path: Path):
    path = tmp_path / "q.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["季度", "month", "收入"])
        for i, (q, m) in enumerate(
            zip(["三季度", "一季度", "四季度", "二季度"] * 2, ["March", "January", "December"] * 3, strict=False)
        ):
            w.writerow([q, m, i])
    with Catalog() as c:
        (ds,) = c.ingest(path)
        by_quarter = run_query(
            c, Query(dataset=ds.name, select=[Select(column="季度"), Select(column="收入", agg="sum")])
        )
        by_month = run_query(c, Query(dataset=ds.name, select=[Select(column="month"), Select(agg="count")]))
    assert [r[0] for r in by_quarter.rows] == ["一季度", "二季度", "三季度", "四季度"]
    assert [r[0] for r in by_month.rows] == ["January", "March", "December"]
