"""The coffee-shop workbook is a living model: change an input, LibreOffice recalculates what docagent predicts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from tests.conftest import ROOT, needs_soffice

COFFEE = ROOT / "examples" / "plans" / "coffee_shop.json"
MODEL_SHEETS = ("Assumptions", "Revenue", "P&L", "Cash flow")
BLUE, BLACK, GREEN = "FF0000FF", "FF000000", "FF008000"


def coffee(**inputs: float) -> Plan:
    """The example plan, with some inputs set to other values."""
    data = json.loads(COFFEE.read_text())
    for block in data["blocks"]:
        for x in block.get("inputs", []):
            x["value"] = inputs.pop(x["name"], x["value"])
    assert not inputs, f"no such inputs: {inputs}"
    return Plan.model_validate(data)


def write(plan: Plan, out: Path) -> Path:
    bound = bind(validate(plan, catalog=None), catalog=None)  # type: ignore[arg-type]  # models need no data
    out.mkdir(parents=True, exist_ok=True)
    files, _ = render_all(bound, "corporate", out, "coffee", ["xlsx"])
    return files["xlsx"]


def recalculate(path: Path, out: Path, profile: Path) -> Path:
    """Drop cached values (openpyxl keeps formulas), then let LibreOffice compute every formula."""
    stripped = out / "stripped" / path.name
    stripped.parent.mkdir(parents=True, exist_ok=True)
    openpyxl.load_workbook(path).save(stripped)
    done = out / "recalculated"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(done),
            str(stripped),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return done / path.name


def cells(path: Path) -> dict[tuple[str, str], Any]:
    """Every value on the model sheets, by (sheet, coordinate)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    return {
        (s, c.coordinate): c.value for s in MODEL_SHEETS for r in wb[s].iter_rows() for c in r if c.value is not None
    }


def formulas(path: Path) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(path)
    return {
        (s, c.coordinate): c.value
        for s in MODEL_SHEETS
        for r in wb[s].iter_rows()
        for c in r
        if isinstance(c.value, str) and c.value.startswith("=")
    }


def close(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


@pytest.fixture(scope="module")
def calc(tmp_path_factory) -> Path:
    """A LibreOffice profile with Calc known to work (it is a separate package from Writer)."""
    tmp = tmp_path_factory.mktemp("calc")
    probe = tmp / "probe.csv"
    probe.write_text("a\n1\n")
    profile = tmp / "lo"
    cmd = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "xlsx"]
    subprocess.run([*cmd, "--outdir", str(tmp), str(probe)], capture_output=True, timeout=240)
    if not (tmp / "probe.xlsx").exists():
        pytest.skip("LibreOffice Calc is not installed (Debian: libreoffice-calc-nogui)")
    return profile


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return write(coffee(), tmp_path_factory.mktemp("coffee"))


def test_every_model_cell_is_a_formula_and_inputs_are_defined_names(book):
    wb = openpyxl.load_workbook(book)
    assert [ws.title for ws in wb.worksheets][:5] == ["Summary", *MODEL_SHEETS]
    names = set(wb.defined_names)
    inputs = {x.name for b in coffee().blocks if b.type == "model" for x in b.inputs}  # type: ignore[union-attr]
    assert inputs <= names
    for name in inputs:
        (sheet, ref), *_ = wb.defined_names[name].destinations
        assert sheet == "Assumptions" and ref.startswith("$B$")
    fx = formulas(book)
    assert len(fx) == 3 * (7 + 14 + 8)  # three periods of every row
    assert fx[("P&L", "C3")] == "='Revenue'!C9"  # a link to another statement
    assert "revenue_growth" in fx[("Revenue", "C6")]  # a named input


def test_finance_colours_inputs_blue_formulas_black_links_green(book):
    wb = openpyxl.load_workbook(book)
    inputs = [c for r in wb["Assumptions"].iter_rows(min_col=2, max_col=2, min_row=3) for c in r if c.value is not None]
    assert inputs and all(c.font.color.rgb == BLUE for c in inputs)
    colours: dict[str, set[str]] = {"link": set(), "local": set()}
    for (sheet, coord), text in formulas(book).items():
        kind = "link" if "!" in text else "local"
        colours[kind].add(wb[sheet][coord].font.color.rgb)
    assert colours == {"link": {GREEN}, "local": {BLACK}}


def test_totals_are_bold_with_a_rule_and_panes_are_frozen(book):
    wb = openpyxl.load_workbook(book)
    ws = wb["P&L"]
    label = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    total = ws.cell(label["Net income"], 2)
    assert total.font.bold and total.border.top.style == "thin"
    assert not ws.cell(label["Rent"], 2).font.bold
    assert ws.freeze_panes == "B3"
    assert ws.cell(label["Net margin"], 2).number_format == "0.0%"
    cf = wb["Cash flow"]
    check_row = next(r for r in range(1, cf.max_row + 1) if str(cf.cell(r, 1).value).startswith("Check"))
    (rng,) = list(cf.conditional_formatting)
    assert str(rng.sqref) == f"B{check_row}:D{check_row}"
    (rule,) = rng.rules
    assert (rule.type, rule.operator) == ("cellIs", "notBetween")
    assert rule.dxf.font.color.rgb.endswith("9C0006")  # red text when the check is not zero


@needs_soffice
def test_cached_values_are_what_libreoffice_computes_and_nothing_is_an_error(book, calc, tmp_path):
    again = recalculate(book, tmp_path, calc)
    cached, fresh = cells(book), cells(again)
    assert set(fresh) >= set(formulas(book))
    errors = {k: v for k, v in fresh.items() if isinstance(v, str) and v.startswith("#")}
    assert errors == {}
    different = {k: (cached[k], fresh.get(k)) for k in formulas(book) if not close(cached[k], fresh.get(k))}
    assert different == {}


@needs_soffice
def test_changing_an_input_moves_every_dependent_row_as_the_evaluator_predicts(book, calc, tmp_path):
    wb = openpyxl.load_workbook(book)
    (sheet, ref), *_ = wb.defined_names["new_stores_per_year"].destinations
    wb[sheet][ref.replace("$", "")] = 3
    edited = tmp_path / "edited" / book.name
    edited.parent.mkdir()
    wb.save(edited)
    fresh = cells(recalculate(edited, tmp_path, calc))
    predicted = cells(write(coffee(new_stores_per_year=3), tmp_path / "predicted"))
    before = cells(book)
    fx = formulas(book)
    wrong = {k: (predicted[k], fresh.get(k)) for k in fx if not close(predicted[k], fresh.get(k))}
    assert wrong == {}
    moved = {k for k in fx if not close(before[k], fresh[k])}
    rows_moved = {(s, wb[s][c].row) for s, c in moved}
    label = {(s, r): wb[s].cell(r, 1).value for s, r in rows_moved}
    assert {"Stores at year end", "Total revenue", "Net income", "Cash at year end"} <= set(label.values())
    assert "Head-office overhead" not in label.values()  # does not depend on store count
