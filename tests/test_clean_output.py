"""Every example plan and every plan of the test suite, in all four formats, read as a reader reads
them: no placeholder left, no product name, no number broken across lines, every PDF font embedded."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from pptx import Presentation

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.pipeline.generate import render_plan
from docagent.renderers import FORMATS, render_all
from tests.conftest import EXAMPLE, needs_poppler, needs_soffice
from tests.plans import every_block
from tests.test_documents import FOUR_KPIS, WORKSHEET

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DATA = {
    "budget": [EXAMPLES / "budget.csv"],
    "qbr": [EXAMPLE, EXAMPLES / "team.csv"],
    "balance_letters": [EXAMPLES / "invoices.csv"],
    "brand_deck": [EXAMPLE],
}
TEMPLATES = {
    "balance_letters": [EXAMPLES / "templates" / "balance-letter.docx"],
    "brand_deck": [EXAMPLES / "templates" / "brand-deck.pptx"],
}
SUITE: dict[str, Any] = {"every_block": every_block().model_dump(mode="json"), "four_kpis": FOUR_KPIS}
SUITE["worksheet"] = WORKSHEET
PLANS = [p.stem for p in sorted((EXAMPLES / "plans").glob("*.json"))] + sorted(SUITE)

PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?:[:|][^{}\n]*)?\}")
# A number cut by a line end: "8,935,\n081", "4\n.5", "$\n120", "-\n45".
SPLIT_NUMBER = re.compile(r"\d,\n\d|\d\n[.,]\d|[$€£¥]\n\d|(?<![\w-])-\n\d")


def plan_of(name: str) -> dict[str, Any]:
    if name in SUITE:
        return SUITE[name]
    return json.loads((EXAMPLES / "plans" / f"{name}.json").read_text(encoding="utf-8"))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def unembedded(pdf: Path) -> list[str]:
    rows = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return [r for r in rows if r.split()[-5] != "yes"]  # pdffonts' "emb" column


def office_text(path: Path) -> str:
    """The text of a .docx, .pptx or .xlsx as its XML holds it."""
    if path.suffix == ".docx":
        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
        for s in d.sections:
            parts += [p.text for p in (*s.header.paragraphs, *s.footer.paragraphs)]
        return "\n".join([*parts, d.core_properties.author or ""])
    if path.suffix == ".pptx":
        deck = Presentation(str(path))
        shapes = [s for slide in deck.slides for s in slide.shapes]
        texts = [s.text_frame.text for s in shapes if s.has_text_frame]
        texts += [c.text for s in shapes if s.has_table for r in s.table.rows for c in r.cells]
        texts += [slide.notes_slide.notes_text_frame.text for slide in deck.slides if slide.has_notes_slide]
        return "\n".join([*texts, deck.core_properties.author or ""])
    wb = openpyxl.load_workbook(path)
    cells = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    comments = [c.comment.text for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.comment]
    return "\n".join([*cells, *comments, wb.properties.creator or ""])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, Path]]:
    out: dict[str, dict[str, Path]] = {}
    for name in PLANS:
        folder = tmp_path_factory.mktemp(name)
        if name in TEMPLATES:  # written into the organisation's template: the burst's letters are what a reader gets
            files = render_plan(plan_of(name), DATA[name], list(FORMATS), folder, templates=TEMPLATES[name])
            out[name] = {k.removeprefix("burst/"): v for k, v in files.items() if k != "zip"}
            continue
        plan = Plan.model_validate(plan_of(name))
        with Catalog() as catalog:
            for path in DATA.get(name, [EXAMPLE] if name in SUITE else []):
                catalog.ingest(path)
            bound = bind(validate(plan, catalog), catalog)
        out[name], _ = render_all(bound, plan.meta.theme or "corporate", folder, name, list(FORMATS))
    return out


@needs_poppler
@pytest.mark.parametrize("name", PLANS)
def test_no_placeholder_no_product_name_no_split_number(rendered, name):
    files = rendered[name]
    texts = {fmt: office_text(path) for fmt, path in files.items() if fmt != "pdf"}
    texts["pdf"] = pdf_text(files["pdf"]) if "pdf" in files else ""
    for fmt, text in texts.items():
        assert not PLACEHOLDER.findall(text), (fmt, PLACEHOLDER.findall(text))
        assert "docagent" not in text.lower(), (fmt, text[text.lower().find("docagent") - 80 :][:160])
    assert not SPLIT_NUMBER.findall(texts["pdf"]), [
        texts["pdf"][m.start() - 30 : m.end() + 30] for m in SPLIT_NUMBER.finditer(texts["pdf"])
    ]


@needs_poppler
@pytest.mark.parametrize("name", PLANS)
def test_every_pdf_font_is_embedded(rendered, name):
    if "pdf" not in rendered[name]:
        pytest.skip("a burst of letters into a .docx template: one .docx per customer, no PDF")
    assert unembedded(rendered[name]["pdf"]) == []


@needs_soffice
@needs_poppler
def test_no_number_breaks_across_lines_in_word_or_powerpoint_as_laid_out(rendered, tmp_path):
    sources = [p for files in rendered.values() for p in files.values() if p.suffix in (".docx", ".pptx")]
    for p in sources:  # one name per file: the .docx and .pptx of a plan share a stem
        shutil.copy(p, tmp_path / f"{p.stem.replace(' ', '-')}-{p.suffix[1:]}{p.suffix}")
    copies = sorted(str(p) for p in tmp_path.iterdir())
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), *copies],
        check=True,
        capture_output=True,
        timeout=600,
    )
    found = {}
    for pdf in sorted((tmp_path / "pdf").glob("*.pdf")):
        text = pdf_text(pdf)
        if hits := [text[m.start() - 30 : m.end() + 30] for m in SPLIT_NUMBER.finditer(text)]:
            found[pdf.name] = hits
    assert len(list((tmp_path / "pdf").glob("*.pdf"))) == len(sources) and found == {}
