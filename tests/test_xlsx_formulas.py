"""Workbook formulas for computed measures: live where faithful, the computed value where not."""

from __future__ import annotations

import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.plan import Plan
from docagent.renderers.common import formula_text
from docagent.renderers.excel import render_xlsx
from docagent.renderers.theme import load_theme


@pytest.fixture
def shop(catalog, write):
    catalog.ingest(
        write(
            "shop.csv",
            "day,region,revenue,cost\n2024-01-05,North,100,40\n2024-02-05,South,50,10\n2024-04-05,North,80,20\n"
            '2024-05-05,"Say ""hi""",30,5\n2024-07-05,South,20,2\n',
        )
    )
    return catalog


def table(title: str, **query) -> dict:
    return {"type": "table", "title": title, "query": {"dataset": "shop", **query}}


def cells(shop, tmp_path, *blocks) -> list[list]:
    plan = Plan.model_validate({"meta": {"title": "t"}, "blocks": list(blocks)})
    path = render_xlsx(bind(plan, shop), load_theme("corporate"), tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path)["Summary"]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=5)]  # row 5: the header


def test_text_enters_a_formula_only_as_an_escaped_string_literal():
    assert formula_text('Say "hi"') == '"Say ""hi"""'


def test_a_filter_value_with_quotes_is_escaped_in_the_criteria(shop, tmp_path):
    rows = cells(
        shop,
        tmp_path,
        table(
            "Quoted",
            select=[{"agg": "sum", "column": "revenue"}],
            filters=[{"column": "region", "op": "eq", "value": 'Say "hi"'}],
        ),
    )
    assert rows[1][0] == '=SUMIFS(shop!$C$2:$C$6,shop!$B$2:$B$6,"Say ""hi""")'


def test_share_divides_by_the_measure_over_every_group(shop, tmp_path):
    rows = cells(
        shop,
        tmp_path,
        table(
            "Share",
            select=[{"column": "region"}, {"agg": "sum", "column": "revenue", "transform": "share", "label": "s"}],
        ),
    )
    assert rows[1][1] == ('=IFERROR((SUMIFS(shop!$C$2:$C$6,shop!$B$2:$B$6,$A6))/(SUM(shop!$C$2:$C$6)),"")')


def test_the_other_row_is_the_total_less_the_rows_listed(shop, tmp_path):
    rows = cells(
        shop,
        tmp_path,
        table(
            "Top",
            select=[{"column": "region"}, {"agg": "sum", "column": "revenue", "label": "r"}],
            limit=1,
            other=True,
        ),
    )
    assert rows[1][0] == "North" and rows[2][0] == "Other"
    assert rows[2][1] == "=SUM(shop!$C$2:$C$6)-SUM(B6:B6)"


def test_growth_without_every_row_on_the_sheet_keeps_the_computed_value(shop, tmp_path):
    rows = cells(
        shop,
        tmp_path,
        table(
            "Cut",
            select=[
                {"column": "day", "bucket": "quarter", "label": "q"},
                {"agg": "sum", "column": "revenue", "transform": "pct_change", "label": "g"},
            ],
            sort=[{"by": "q", "desc": True}],
            limit=2,
        ),
    )
    assert rows[1][1] == pytest.approx((20 - 110) / 110)  # a value: the quarter before is not on the sheet


def test_a_margin_with_row_arithmetic_is_a_sumproduct(shop, tmp_path):
    rows = cells(
        shop,
        tmp_path,
        table("Gross", select=[{"column": "region"}, {"expr": "sum(revenue - cost) / sum(revenue)", "label": "m"}]),
    )
    assert rows[1][1] == (
        "=IFERROR((SUMPRODUCT(((shop!$C$2:$C$6-shop!$D$2:$D$6))*(shop!$B$2:$B$6=$A6)))/"
        '(SUMIFS(shop!$C$2:$C$6,shop!$B$2:$B$6,$A6)),"")'
    )


def test_rank_is_a_rank_over_the_measure_cells(shop, tmp_path):
    revenue = {"agg": "sum", "column": "revenue", "label": "r"}
    rows = cells(
        shop,
        tmp_path,
        table("Rank", select=[{"column": "region"}, revenue, {**revenue, "label": "k", "transform": "rank"}]),
    )
    assert [r[2] for r in rows[1:4]] == ["=RANK(B6,B$6:B$8)", "=RANK(B7,B$6:B$8)", "=RANK(B8,B$6:B$8)"]
