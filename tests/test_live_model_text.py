"""A financial model's summary moves with its inputs: the KPI and the prose that quote a found period
are formulas, and LibreOffice's recalculation after an input edit gives what docagent's evaluator gives."""

from __future__ import annotations

import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.formatting import SIGNIFICANT
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from tests.conftest import needs_soffice

COFFEE = Path(__file__).resolve().parent.parent / "examples" / "plans" / "coffee_shop.json"
LABOUR = "Store labour per store-year"


def coffee(labour: float) -> dict:
    plan = json.loads(COFFEE.read_text(encoding="utf-8"))
    for block in plan["blocks"]:
        for item in block.get("inputs", []):
            if item["label"] == LABOUR:
                item["value"] = labour
    return plan


def rendered(plan: dict, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with Catalog() as c:
        bound = bind(validate(Plan.model_validate(plan), c), c)
    files, _ = render_all(bound, "corporate", folder, "coffee", ["xlsx"])
    return files["xlsx"], bound


def summary_sentence(path: Path) -> str:
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    return next(c.value for row in ws.iter_rows() for c in row if str(c.value).startswith("The chain grows"))


def as_printed(plan: dict, bound) -> str:
    """The summary paragraph as docagent writes it, each {metric} replaced by the metric's text."""
    text = next(b["text"] for b in plan["blocks"] if b["type"] == "paragraph" and "{y3_revenue}" in b["text"])
    return re.sub(r"\{(\w+)\}", lambda m: bound.metric_text[m.group(1)], text)


def tile(path: Path, label: str) -> str:
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    at = next(c for row in ws.iter_rows() for c in row if c.value == label)
    return ws.cell(at.row - 1, at.column).value  # a KPI's value sits above its label


def break_even_cells(path: Path) -> tuple[str, str]:
    ws = openpyxl.load_workbook(path, data_only=True)["Summary"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    prose = next(c.value for c in cells if c.value.startswith("Break-even:"))
    label = next(c for c in cells if c.value == "Break-even year (net income)")
    return ws.cell(label.row - 1, label.column).value, prose  # the KPI's value sits above its label


@needs_soffice
@pytest.mark.parametrize("labour", [150_000, 330_000])
def test_the_break_even_kpi_and_sentence_follow_an_input_edit_as_the_evaluator_predicts(tmp_path, labour):
    path, before = rendered(coffee(200_000), tmp_path / "before")
    assert break_even_cells(path) == (
        before.metric_text["break_even_period"],
        f"Break-even: net income first turns positive in {before.metric_text['break_even_period']}. "
        f"Cash payback (cumulative free cash flow above zero): {before.metric_text['payback_period']}.",
    )
    wb = openpyxl.load_workbook(path)  # saved by openpyxl: formulas without cached values
    ws = wb["Assumptions"]
    cell = next(row[1] for row in ws.iter_rows() if row[0].value == LABOUR)
    cell.value = labour
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "lo"),
            str(edited),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    _, after = rendered(coffee(labour), tmp_path / "after")
    # the compact figures in the summary (revenue, net income, ending cash) move too, printed as docagent prints
    assert summary_sentence(path) == as_printed(coffee(200_000), before)
    assert summary_sentence(tmp_path / "lo" / "edited.xlsx") == as_printed(coffee(labour), after)
    assert after.metric_text["y3_net_income"] != before.metric_text["y3_net_income"]
    assert tile(tmp_path / "lo" / "edited.xlsx", "Net income 2028") == after.metric_text["y3_net_income"]  # 33.8K
    kpi, prose = break_even_cells(tmp_path / "lo" / "edited.xlsx")
    assert kpi == after.metric_text["break_even_period"] != before.metric_text["break_even_period"]
    assert prose.endswith(f"{after.metric_text['payback_period']}.") and after.metric_text["break_even_period"] in prose


def tie(v: float) -> bool:
    """Whether v, as written, ends in a 5 just after its third significant digit (34.15, 12,350)."""
    digits = Decimal(repr(abs(v))).normalize().as_tuple().digits
    return len(digits) == SIGNIFICANT + 1 and digits[-1] == 5


@needs_soffice
def test_the_workbooks_compact_text_is_what_docagent_prints_after_libreoffice_recalculates(tmp_path):
    import random

    from docagent.engine.formatting import compact
    from docagent.renderers.modelsheet import compact_text

    rng = random.Random(7)
    values = [0, 7, -0.125, 950, 999.4, 999.6, 1234, 99_960, 999_499, 999_501, -2_130_000, 5_300_010, 4.2e12]
    values += [round(rng.uniform(-1, 1) * 10 ** rng.uniform(0, 13), rng.choice([0, 2])) for _ in range(80)]
    values = [v for v in values if not tie(v)]  # compact_text's docstring: Excel halves away from zero
    path = tmp_path / "compact.xlsx"
    wb = openpyxl.Workbook()  # formulas without cached values: LibreOffice computes each
    for n, v in enumerate(values, 1):
        wb.active.append([v, "=" + compact_text(f"A{n}")])
    wb.save(path)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "lo"),
         str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    ws = openpyxl.load_workbook(tmp_path / "lo" / "compact.xlsx", data_only=True).active
    got = [ws.cell(n + 1, 2).value for n in range(len(values))]
    assert got == [compact(v) for v in values]
