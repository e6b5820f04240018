"""Style mode: the plan written into an organisation's .docx, which keeps its look."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from docx.shared import RGBColor

from docagent.engine.templatefiles import read_template
from docagent.pipeline.generate import render_plan
from tests.conftest import EXAMPLE, needs_soffice
from tests.orgtemplates import report_from_libreoffice, soffice_convert

pytestmark = needs_soffice

PLAN = {
    "meta": {"title": "Regional sales", "template": "house.docx"},
    "metrics": [{"name": "revenue", "label": "Revenue", "dataset": "sales", "agg": "sum", "column": "revenue",
                 "format": "currency"}],
    "blocks": [
        {"type": "heading", "text": "Summary", "level": 1},
        {"type": "paragraph", "text": "Revenue was {revenue}."},
        {"type": "bullets", "items": ["North led", "South grew"]},
        {"type": "bullets", "items": ["First", "Second"], "ordered": True},
        {"type": "heading", "text": "By region", "level": 2},
        {"type": "table", "title": "Revenue by region",
         "query": {"dataset": "sales", "select": [{"column": "region"}, {"column": "revenue", "agg": "sum", "label": "revenue"}]}},
        {"type": "chart", "kind": "bar", "title": "Revenue by region", "x": "region", "y": ["revenue"],
         "query": {"dataset": "sales", "select": [{"column": "region"}, {"column": "revenue", "agg": "sum", "label": "revenue"}]}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def styled(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("style")
    template = report_from_libreoffice(tmp)
    files = render_plan(PLAN, [EXAMPLE], ["docx", "pdf"], tmp / "out", templates=[template])
    return template, files["docx"]


def test_a_template_with_only_body_is_a_style_template(styled):
    template, _ = styled
    assert read_template(template).profile["placeholders"] == ["body"]


def test_the_document_keeps_the_templates_margins_header_footer_and_heading_look(styled):
    template, out = styled
    before, doc = Document(str(template)), Document(str(out))
    s0, s1 = before.sections[0], doc.sections[0]
    assert (s1.left_margin, s1.right_margin, s1.page_width) == (s0.left_margin, s0.right_margin, s0.page_width)
    assert [p.text for p in s1.header.paragraphs if p.text] == ["Northwind Research - Confidential"]
    assert [p.text for p in s1.footer.paragraphs if p.text] == ["Northwind Research, 12 Quay Road"]
    h1 = doc.styles["Heading 1"]
    assert h1.font.color.rgb == RGBColor(0x7A, 0x1F, 0x3D)
    (original,) = [s for s in before.styles if s.name.lower() == "heading 1"]  # LibreOffice writes "Heading 1"
    assert h1.font.name == original.font.name == "DejaVu Serif"
    summary = next(p for p in doc.paragraphs if p.text == "Summary")
    assert summary.style.name == "Heading 1"


def test_the_content_replaces_body_between_the_templates_own_lines(styled):
    _, out = styled
    texts = [p.text for p in Document(str(out)).paragraphs]
    assert "{{body}}" not in " ".join(texts)
    first, last = (
        texts.index("Prepared by the Northwind analytics team"),
        texts.index("Questions: analytics@northwind.example"),
    )
    inside = texts[first + 1 : last]
    assert "Regional sales" in inside and "Summary" in inside and any(t.startswith("Revenue was $") for t in inside)
    assert first == 0 and last == len(texts) - 1


def test_lists_the_template_lacked_get_their_styles_and_numbering(styled):
    _, out = styled
    doc = Document(str(out))
    items = [p for p in doc.paragraphs if p.text in ("North led", "First")]
    assert [p.style.name for p in items] == ["List Bullet", "List Number"]
    assert all(p.style.element.pPr.numPr is not None for p in items)


def test_the_styled_file_passes_the_audit_and_converts(styled, tmp_path):
    _, out = styled
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("openxml-audit")), str(out)], capture_output=True, text=True
    )
    assert "Errors: 0" in audit.stdout, audit.stdout[-3000:]
    assert soffice_convert(out, "pdf", tmp_path).stat().st_size > 5000
