"""The rules planner on data shaped like ten public data sets: what it sums, averages and reads at one time."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict

import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import Profile, profile
from docagent.engine.plan import Chart, Metric, Plan, Select, Table
from docagent.engine.planners.request import names_in, read, short_title
from docagent.engine.planners.roles import readable
from docagent.engine.planners.rules import plan_report
from docagent.engine.validate import validate
from tests.analyst_data import DATASETS, SITES, headcount_workbook, nested_orders


def planned(tmp_path, key):
    make, prompt, language = DATASETS[key]
    path = make(tmp_path)
    c = Catalog()
    profiles = [profile(c, ds) for ds in c.ingest(path)]
    plan = plan_report(profiles, prompt, language)
    validate(plan, c)
    return c, profiles, plan


def selects(plan: Plan) -> list[Select]:
    return [s for b in plan.blocks if isinstance(b, Table | Chart) and b.query for s in b.query.select]


def sums_of(text: str | None) -> set[str]:
    """Columns an expression adds up on their own: sum("x"), not sum("x" * "w") (a weighted average)."""
    return set(re.findall(r'sum\("((?:[^"]|"")+)"\)', text or ""))


@pytest.mark.parametrize("key", list(DATASETS))
def test_no_average_or_identifier_column_is_ever_summed(key, tmp_path):
    c, profiles, plan = planned(tmp_path, key)
    with c:
        bind(plan, c)
    roles = {col.name: col.role for p in profiles for col in p.columns}
    items: list[Select | Metric] = [*selects(plan), *plan.metrics]
    summed = {x.column for x in items if x.agg == "sum" and x.column} | {n for x in items for n in sums_of(x.expr)}
    assert not {n for n in summed if roles.get(n) in ("average", "id")}


def stock_sums_are_within_one_time(plan: Plan, profiles: list[Profile]) -> None:
    """A stock is summed only per period of the data's own cadence (or as the latest such period)."""
    stock = {col.name for p in profiles for col in p.columns if col.role == "stock"}
    for m in plan.metrics:
        if m.column in stock and m.agg == "sum":
            assert m.period in ("latest", "previous", "year_ago") and m.bucket == "month", m
    for b in plan.blocks:
        if isinstance(b, Table | Chart) and b.query:
            sels = b.query.select
            for s in sels:
                if (s.agg == "sum" and s.column in stock) or (
                    sums_of(s.expr) & stock and "count_distinct" not in (s.expr or "")
                ):
                    assert any(k.bucket == "month" for k in sels), b.title


@pytest.mark.parametrize("key", ["employment", "headcount"])
def test_stocks_are_read_at_one_time_never_added_over_time(key, tmp_path):
    c, profiles, plan = planned(tmp_path, key)
    c.close()
    stock_sums_are_within_one_time(plan, profiles)


def test_the_german_headcount_workbook_reports_the_last_months_level_and_the_quarters_it_asks_for(tmp_path):
    path = headcount_workbook(tmp_path)
    ws = openpyxl.load_workbook(path)["Personal"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    last = max(r[0] for r in rows)
    level = sum(r[2] for r in rows if r[0] == last)
    quarter_start = dt.datetime(last.year, (last.month - 1) // 3 * 3 + 1, 1)
    leavers = sum(r[4] for r in rows if r[0] >= quarter_start)
    c, profiles, plan = planned(tmp_path, "headcount")
    with c:
        bound = bind(plan, c)
    assert {p.sheet for p in profiles} == {"Personal", "Budget"}
    assert plan.meta.title == "Vierteljährlicher Personalbericht"
    headcount = next(m for m in plan.metrics if m.column == "Mitarbeiter" and m.period == "latest" and not m.compare)
    assert bound.metrics[headcount.name] == level  # the latest month across sites, not three months added
    austritte = next(m for m in plan.metrics if m.column == "Austritte")
    assert (austritte.bucket, bound.metrics[austritte.name]) == ("quarter", leavers)
    quarterly = [b for b in plan.blocks if isinstance(b, Table) and b.query and b.query.select[0].bucket == "quarter"]
    assert quarterly, "a quarterly request gets quarters"
    labels = [s.label for s in quarterly[0].query.select]  # type: ignore[union-attr]
    assert "Austritte" in labels and "Krankheitstage" in labels and "Mitarbeiter zum Periodenende" in labels
    table = bound.results[plan.blocks.index(quarterly[0])]
    at_end = [col.name for col in table.columns].index("Mitarbeiter zum Periodenende")
    assert table.rows[-1][at_end] == level  # the last quarter's level is its last month's, not an average or a sum
    headings = [b.text for b in plan.blocks if b.type == "heading"]  # type: ignore[union-attr]
    assert "Datensatz: Personal" in headings and not any("multisheet" in h.lower() for h in headings)
    assert any(
        isinstance(b, Table) and b.query and any(s.column == "Standort" for s in b.query.select) for b in plan.blocks
    )
    assert sum(SITES.values()) < level < 3 * sum(SITES.values())


@pytest.mark.parametrize(
    ("prompt", "bucket"),
    [
        ("Quarterly sales report", "quarter"),
        ("Vierteljährlicher Umsatzbericht", "quarter"),
        ("Quartalsbericht Umsatz", "quarter"),
        ("Rapport trimestriel des ventes", "quarter"),
        ("Informe trimestral de ventas", "quarter"),
        ("Relatório trimestral de vendas", "quarter"),
        ("季度销售报告", "quarter"),
        ("四半期の売上レポート", "quarter"),
        ("Monthly sales report", "month"),
        ("Monatlicher Umsatzbericht", "month"),
        ("Rapport mensuel des ventes", "month"),
        ("Informe mensual de ventas", "month"),
        ("Relatório mensal de vendas", "month"),
        ("月度销售报告", "month"),
        ("月次売上レポート", "month"),
        ("Weekly sales report", "week"),
        ("Wöchentlicher Umsatzbericht", "week"),
        ("Rapport hebdomadaire", "week"),
        ("Annual sales report", "year"),
        ("Jährlicher Umsatzbericht", "year"),
        ("Rapport annuel", "year"),
        ("年度销售报告", "year"),
        ("Sales growth year-on-year by region", None),  # a comparison with last year, not a yearly report
        ("各门店同比增长", None),
    ],
)
def test_period_words_are_read_in_every_language(prompt, bucket):
    assert read(prompt).bucket == bucket


def test_the_german_quarterly_prompt_gives_quarters(tmp_path):
    path = tmp_path / "umsatz.csv"
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(366)]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(
            [["Datum", "Region", "Umsatz"], *([d.isoformat(), "Nord", 100 + i % 7] for i, d in enumerate(days))]
        )
    for prompt in ("Vierteljährlicher Umsatzbericht", "Quartalsbericht"):
        with Catalog() as c:
            plan = plan_report([profile(c, ds) for ds in c.ingest(path)], prompt, "de")
        trend = next(b for b in plan.blocks if isinstance(b, Chart) and b.query and b.query.select[0].bucket)
        assert trend.query.select[0].bucket == "quarter"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("prompt", "asks"),
    [
        ("Sales growth year-on-year by region", {"yoy": True, "growth": True}),
        ("请写一份报告：各门店同比增长、品类占比，以及毛利率低于20%的门店", {"yoy": True, "share": True, "below": 0.2}),
        ("Top 5 customers by revenue, YTD", {"top": 5, "ytd": True}),
        ("Les 10 premiers clients, marge inférieure à 12,5 %", {"top": 10, "below": 0.125}),
        ("Filialen mit einer Marge über 30 %", {"above": 0.3}),
        ("A memo on store sales", {"kind": "memo"}),
        ("年初至今的销售", {"ytd": True}),
    ],
)
def test_comparisons_thresholds_and_the_kind_of_document_are_read(prompt, asks):
    ask = read(prompt)
    assert {k: getattr(ask, k) for k in asks} == asks


@pytest.mark.parametrize(
    ("prompt", "columns", "named"),
    [
        ("Vierteljährlicher Personalbericht: Mitarbeiterzahl, Fluktuation und Krankheitstage nach Standort",
         ["Monat", "Standort", "Mitarbeiter", "Eintritte", "Austritte", "Krankheitstage"],
         ["Mitarbeiter", "Austritte", "Krankheitstage", "Standort"]),
        ("各门店同比增长、品类占比", ["日期", "门店", "品类", "销售额"], ["门店", "品类"]),
        ("Rapport des ventes par région", ["Date", "Région", "CA"], ["CA", "Région"]),
        ("Tips by day and party size", ["total_bill", "tip", "day", "size"], ["tip", "day", "size"]),
        ("Headcount by department", ["month", "dept", "employees"], ["employees"]),
    ],
)  # fmt: skip
def test_measures_and_dimensions_named_in_the_request_are_matched_to_columns(prompt, columns, named):
    assert names_in(prompt, columns) == named


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("Please write a quarterly sales report with margins by region", "Quarterly sales report"),
        ("Vierteljährlicher Personalbericht: Mitarbeiterzahl, Fluktuation und Krankheitstage", "Vierteljährlicher Personalbericht"),
        ("Erstelle bitte einen Quartalsbericht mit Umsatz nach Region", "Quartalsbericht"),
        ("Rédige un rapport trimestriel des ventes, avec la marge", "Rapport trimestriel des ventes"),
        ("请写一份季度销售报告", "季度销售报告"),
        ("请写一份报告：各门店同比增长、品类占比，以及毛利率低于20%的门店", None),
    ],
)  # fmt: skip
def test_a_title_is_what_a_person_would_write_not_the_prompt(prompt, title):
    assert short_title(prompt) == title


@pytest.mark.parametrize(
    ("name", "label"),
    [("Customer.name", "Customer name"), ("lifeExp", "Life expectancy"), ("gdpPercap", "GDP per capita"),
     ("total_bill", "Total bill"), ("Chiffre d'affaires", "Chiffre d'affaires"), ("temp_max", "Maximum temperature")],
)  # fmt: skip
def test_column_labels_are_humanised(name, label):
    assert readable(name) == label


def test_a_running_latest_month_is_compared_like_with_like_never_16_days_against_a_month(tmp_path):
    path = nested_orders(tmp_path)  # 2024-01-01 .. 2024-06-16
    import json

    per_month: dict[tuple[int, int], float] = defaultdict(float)
    for o in json.loads(path.read_text()):
        d = dt.date.fromisoformat(o["date"])
        per_month[(d.year, d.month)] += o["amount"]
    with Catalog() as c:
        plan = plan_report([profile(c, ds) for ds in c.ingest(path)], "Monthly orders report", "en")
        bound = bind(validate(plan, c), c)
    changes = [m for m in plan.metrics if m.compare]
    assert changes and all(m.period == "previous" for m in changes)  # the last full month, against the one before
    (vs,) = [m for m in changes if m.compare == "previous"]
    assert bound.metrics[vs.name] == pytest.approx(per_month[(2024, 5)] / per_month[(2024, 4)] - 1)
    prose = " ".join(bound.text(b.text) for b in plan.blocks if b.type == "paragraph")  # type: ignore[union-attr]
    assert "still running" in prose and "In the last full month" in prose
    assert not any(b.type == "table" and "latest month" in b.title for b in plan.blocks)  # type: ignore[union-attr]


def test_a_stock_price_file_with_jan_1_2000_dates_gets_one_line_per_symbol(tmp_path):
    c, profiles, plan = planned(tmp_path, "stocks")
    c.close()
    assert profiles[0].column("date").type == "date"  # type: ignore[union-attr]
    trend = next(b for b in plan.blocks if isinstance(b, Chart) and b.query and b.query.select[0].bucket)
    assert trend.series == "Symbol" and trend.query.select[2].agg == "avg"  # type: ignore[union-attr]
    assert not [m for m in plan.metrics if m.column == "price" and not m.filters]  # never one price for four stocks


def test_what_the_request_asks_and_the_data_cannot_give_is_in_the_notes(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("day,store,sales\n" + "".join(f"2024-03-{d:02d},A,{d}\n" for d in range(1, 29)), encoding="utf-8")
    with Catalog() as c:
        plan = plan_report(
            [profile(c, ds) for ds in c.ingest(path)], "Quarterly sales, year-on-year, stores below 20% margin"
        )
        validate(plan, c)
    notes = next(b for i, b in enumerate(plan.blocks) if b.type == "bullets" and plan.blocks[i - 1].text == "Notes")  # type: ignore[union-attr]
    text = " ".join(notes.items)  # type: ignore[union-attr]
    assert "view by quarter" in text and "a year earlier" in text and "threshold in the request (20%)" in text
