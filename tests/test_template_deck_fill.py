"""Fill mode for decks: an account review deck a designer made in PowerPoint (here with python-pptx),
one per customer, its placeholders filled in their own formatting, its table rows repeated."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Emu, Pt

from docagent.errors import RenderError
from docagent.pipeline.generate import render_plan
from tests.conftest import needs_soffice
from tests.orgtemplates import INVOICES, LETTER_PLAN, soffice_convert

BALANCES = {"Acme Corp": "$300.50", "Birch & Co": "$75.25", "Cedar Ltd": "$60.00"}
INVOICE_COUNT = {"Acme Corp": 2, "Birch & Co": 1, "Cedar Ltd": 3}


def review_deck(tmp: Path) -> Path:
    """A title slide whose {{customer}} is typed in two runs (bold, then plain), a slide with the balance
    in a text box and an invoice table whose second row repeats, and speaker notes naming the balance."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(12_192_000), Emu(6_858_000)
    title = prs.slides.add_slide(prs.slide_layouts[0])
    p = title.shapes.title.text_frame.paragraphs[0]
    first, second, rest = p.add_run(), p.add_run(), p.add_run()
    first.text, second.text, rest.text = "{{cust", "omer}}", " account review"
    first.font.bold = True
    body = prs.slides.add_slide(prs.slide_layouts[5])
    body.shapes.title.text = "Open balance"
    box = body.shapes.add_textbox(Emu(600_000), Emu(1_500_000), Emu(6_000_000), Emu(600_000))
    box.text_frame.text = "You owe {{balance}} today."
    box.text_frame.paragraphs[0].runs[0].font.size = Pt(28)
    table = body.shapes.add_table(2, 2, Emu(600_000), Emu(2_500_000), Emu(6_000_000), Emu(800_000)).table
    for k, (head, ph) in enumerate([("Invoice", "invoice"), ("Amount", "amount")]):
        table.cell(0, k).text = head
        table.cell(1, k).text = "{{table:invoices." + ph + "}}"
    body.notes_slide.notes_text_frame.text = "Thank them; the balance is {{balance}}."
    path = tmp / "review.pptx"
    prs.save(str(path))
    return path


def plan(template: str = "review.pptx") -> dict:
    p = copy.deepcopy(LETTER_PLAN)
    p["meta"].update(title="Account reviews", template=template,
                     burst={"by": "customer", "dataset": "invoices", "filename": "review-{customer}"})  # fmt: skip
    return p


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("reviews")
    template = review_deck(tmp)
    (tmp / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    files = render_plan(plan(), [tmp / "invoices.csv"], ["pptx"], tmp / "out", templates=[template])
    assert files["zip"].is_file()
    return {p.stem.removeprefix("review-"): p for p in (tmp / "out" / "burst").iterdir()}


def texts(path: Path) -> tuple[list[str], str]:
    prs = Presentation(str(path))
    shown = [sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame]
    notes = prs.slides[1].notes_slide.notes_text_frame.text
    return shown, notes


def test_each_deck_names_its_customer_in_the_runs_formatting_and_says_its_balance(decks):
    assert sorted(decks) == sorted(BALANCES)
    for customer, balance in BALANCES.items():
        shown, notes = texts(decks[customer])
        assert shown[0] == f"{customer} account review"
        assert f"You owe {balance} today." in shown and notes == f"Thank them; the balance is {balance}."
        runs = Presentation(str(decks[customer])).slides[0].shapes.title.text_frame.paragraphs[0].runs
        assert runs[0].text == customer and runs[0].font.bold  # the value takes the run it starts in


def test_the_invoice_row_repeats_per_invoice(decks):
    for customer, n in INVOICE_COUNT.items():
        table = next(sh.table for sh in Presentation(str(decks[customer])).slides[1].shapes if sh.has_table)
        rows = [[c.text for c in row.cells] for row in table.rows]
        assert rows[0] == ["Invoice", "Amount"] and len(rows) == 1 + n
        assert all(r[0].startswith("INV-") and r[1].startswith("$") for r in rows[1:]), rows


@needs_soffice
def test_a_filled_deck_passes_the_ooxml_audit_and_converts(decks, tmp_path):
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("openxml-audit")), str(decks["Acme Corp"])], capture_output=True, text=True
    )
    assert "Errors: 0" in audit.stdout, audit.stdout[-2000:]
    pdf = soffice_convert(decks["Acme Corp"], "pdf", tmp_path)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
    assert "Acme Corp account review" in text and "You owe $300.50 today." in text and "INV-2 $200.00" in text


def test_a_placeholder_nothing_fills_is_a_plan_problem_and_never_shipped(tmp_path):
    from docagent.engine.templatefiles.binding import FillValues
    from docagent.renderers.deckfill import DeckFiller

    template = review_deck(tmp_path)
    (tmp_path / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    bare = plan()
    bare["metrics"] = []
    with pytest.raises(Exception, match=r"placeholder \{\{balance\}\} is not filled by anything"):
        render_plan(bare, [tmp_path / "invoices.csv"], ["pptx"], tmp_path / "out", templates=[template])
    with pytest.raises(RenderError, match=r"\{\{balance\}\}"):
        DeckFiller(template.read_bytes()).write(FillValues({"customer": "X"}), tmp_path / "x.pptx")
    assert not (tmp_path / "x.pptx").exists()
