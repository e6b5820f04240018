"""Style mode for decks: our slides on an organisation's .pptx masters and layouts, in its colours."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pptx import Presentation

from docagent.errors import PlanError
from docagent.pipeline.generate import render_plan
from tests.conftest import EXAMPLE, needs_soffice
from tests.orgtemplates import BRAND_ACCENT, deck_from_python_pptx, soffice_convert

PLAN = {
    # contents: true asks for agenda and section slides (a deck has none unless asked)
    "meta": {"title": "Regional sales", "subtitle": "Quarterly review", "template": "brand.pptx", "contents": True},
    "blocks": [
        {"type": "heading", "text": "Where we sell", "level": 1},
        {"type": "paragraph", "text": "Five regions sell five products through three channels."},
        {"type": "chart", "kind": "bar", "title": "Revenue by region", "x": "region", "y": ["revenue"],
         "query": {"dataset": "sales", "select": [{"column": "region"},
                                                  {"column": "revenue", "agg": "sum", "label": "revenue"}]}},
        {"type": "heading", "text": "Detail", "level": 1},
        {"type": "table", "title": "Units by channel",
         "query": {"dataset": "sales", "select": [{"column": "channel"},
                                                  {"column": "units", "agg": "sum", "label": "units"}]}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def deck(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("deck")
    template = deck_from_python_pptx(tmp)
    files = render_plan(PLAN, [EXAMPLE], ["pptx"], tmp / "out", templates=[template])
    return template, files["pptx"]


def test_slides_use_the_templates_layouts_by_role_and_its_sample_slides_go(deck):
    _, out = deck
    prs = Presentation(str(out))
    layouts = [s.slide_layout.name for s in prs.slides]
    assert layouts[0] == "Acme Title"
    assert "Acme Section" in layouts  # the template's section layout (type secHead) for a section slide
    assert set(layouts) == {"Acme Title", "Acme Section", "Title Only"}  # content on its title-only layout
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    assert titles[0] == "Regional sales" and "Sample slide from the designer" not in titles
    sub = prs.slides[0].placeholders[1]
    assert sub.text_frame.text == "Quarterly review"


def test_the_master_keeps_its_footer_and_titles_keep_the_masters_formatting(deck):
    _, out = deck
    prs = Presentation(str(out))
    assert "Acme Confidential" in [s.text_frame.text for s in prs.slide_master.shapes if s.has_text_frame]
    for slide in prs.slides:
        title = slide.shapes.title
        if title is not None:  # no font, size or colour of ours on the run: the master's title style applies
            runs = [r for p in title.text_frame.paragraphs for r in p.runs]
            assert all(r.font.size is None and r.font.name is None for r in runs)
    assert not any(s.name == "Footer" for slide in prs.slides for s in slide.shapes)  # no running footer of ours


def test_charts_take_the_templates_accent_colour(deck):
    _, out = deck
    prs = Presentation(str(out))
    chart = next(s.chart for slide in prs.slides for s in slide.shapes if s.has_chart)
    series = chart.plots[0].series[0]
    assert str(series.format.fill.fore_color.rgb) == BRAND_ACCENT


def test_a_four_by_three_template_is_a_plan_problem(tmp_path):
    template = deck_from_python_pptx(tmp_path, widescreen=False)
    with pytest.raises(PlanError) as e:
        render_plan(PLAN, [EXAMPLE], ["pptx"], tmp_path / "out", templates=[template])
    assert any("style mode needs 16:9 slides" in p for p in e.value.problems), e.value.problems


@needs_soffice
def test_the_deck_passes_the_audit_and_converts(deck, tmp_path):
    _, out = deck
    audit = subprocess.run(
        [str(Path(sys.executable).with_name("openxml-audit")), str(out)], capture_output=True, text=True
    )
    assert "Errors: 0" in audit.stdout, audit.stdout[-3000:]
    assert soffice_convert(out, "pdf", tmp_path).stat().st_size > 5000


def test_the_example_brand_deck_carries_the_example_plan(tmp_path):
    examples = Path(__file__).resolve().parent.parent / "examples"
    files = render_plan(
        json.loads((examples / "plans" / "brand_deck.json").read_text(encoding="utf-8")),
        [EXAMPLE], ["pptx"], tmp_path, templates=[examples / "templates" / "brand-deck.pptx"],
    )  # fmt: skip
    prs = Presentation(str(files["pptx"]))
    assert {s.slide_layout.name for s in prs.slides} <= {
        "Northwind Title Slide", "Northwind Section Header", "Northwind Title Only"
    }  # fmt: skip
    assert "Sample slide" not in [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
