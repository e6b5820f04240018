"""Documents people ask for: lists and worksheets, formatted and highlighted tables, images,
brand kits, the whole document in the workbook, and compact KPI figures."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
from PIL import Image as PILImage

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.images import read_image
from docagent.engine.llm.client import ModelClient
from docagent.engine.llm.fake import FakeModel, reply
from docagent.engine.plan import Plan
from docagent.engine.planners import PlanRequest
from docagent.engine.planners.llm import LLMPlanner
from docagent.engine.validate import problems, validate
from docagent.errors import PlanError, UnreadableData
from docagent.renderers import render_all
from docagent.settings import Settings
from tests.conftest import EXAMPLE

NAVY, ORANGE = "#1B2A4A", "#F28C28"
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
    '<rect width="200" height="100" fill="#F28C28"/><circle cx="50" cy="50" r="30" fill="#1B2A4A"/></svg>'
)


def png_bytes(w: int = 120, h: int = 60, color: str = "#1B2A4A") -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def xml(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode()


def parts(path: Path, prefix: str) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode(errors="replace") for n in z.namelist() if n.startswith(prefix)}


def pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def render(plan: dict[str, Any], tmp: Path, files: dict[str, bytes] | None = None, data: bool = False):
    with Catalog() as c:
        if data:
            c.ingest(EXAMPLE)
        for name, content in (files or {}).items():
            (tmp / name).write_bytes(content)
            c.ingest(tmp / name)
        bound = bind(validate(Plan.model_validate(plan), c), c)
    out, _ = render_all(bound, "corporate", tmp, "doc", ["docx", "xlsx", "pdf"])
    return out, bound


WORKSHEET: dict[str, Any] = {
    "meta": {"title": "Fractions", "kind": "lesson_plan"},
    "blocks": [
        {"type": "heading", "text": "Worksheet", "level": 1},
        {"type": "bullets", "ordered": True, "lines": 2, "items": ["Add 1/2 and 1/4.", "Simplify 6/8."]},
        {"type": "heading", "text": "Answer key", "level": 1},
        {"type": "bullets", "ordered": True, "items": ["3/4", "3/4"]},
        {"type": "bullets", "ordered": True, "start": 3, "items": ["Extra: 5/10"]},
        {"type": "callout", "style": "info", "title": "Tip", "text": "Find a common denominator."},
        {
            "type": "table",
            "title": "Requirements",
            "columns": ["ID", "Requirement", "Stores", "Price"],
            "rows": [
                ["R1", "The checkout accepts gift cards and store credit in one payment.", 2, 350],
                ["R2", "Receipts are emailed within one minute of payment.", 14, 1200.5],
                ["Subtotal", "", 16, 1550.5],
            ],
            "formats": [None, None, None, "currency"],
            "emphasis": [2],
            "highlight": [{"column": "Stores", "op": "gt", "value": 10, "style": "bad"}],
        },
        {"type": "paragraph", "text": "The figure below shows the layout."},
        {"type": "image", "source": None, "alt": "Classroom layout", "caption": "Seating plan", "aspect": "4:3"},
    ],
}


@pytest.fixture(scope="module")
def worksheet(tmp_path_factory):
    out, _ = render(WORKSHEET, tmp_path_factory.mktemp("ws"))
    return out


def test_each_ordered_docx_list_restarts_with_its_own_numbering(worksheet):
    body = xml(worksheet["docx"], "word/document.xml")
    numbering = xml(worksheet["docx"], "word/numbering.xml")
    ids = re.findall(r'<w:numId w:val="(\d+)"/>', body)
    assert len(ids) == 5 and len(set(ids)) == 3  # three lists, each its own w:num
    for num_id, start in zip(dict.fromkeys(ids), ["1", "1", "3"], strict=True):
        num = re.search(rf'<w:num w:numId="{num_id}">(.*?)</w:num>', numbering, re.S)
        assert num and f'<w:startOverride w:val="{start}"/>' in num.group(1)


def test_pdf_and_xlsx_number_lists_like_the_docx(worksheet):
    text = pdf_text(worksheet["pdf"])
    numbers = re.findall(r"^\s*(\d+)\. ", text, re.M)
    assert numbers == ["1", "2", "1", "2", "3"] and "3. Extra: 5/10" in text
    ws = openpyxl.load_workbook(worksheet["xlsx"])["Summary"]
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert cells.count("1. 3/4") == 1 and "3. Extra: 5/10" in cells


def test_writing_lines_are_drawn_after_each_exercise(worksheet):
    body = xml(worksheet["docx"], "word/document.xml")
    assert body.count("<w:pBdr><w:bottom") == 4  # 2 exercises x 2 lines
    ws = openpyxl.load_workbook(worksheet["xlsx"])["Summary"]
    ruled = [r for r in ws.iter_rows() if all(c.border.bottom.style == "thin" for c in r[:6]) and not r[0].value]
    assert len(ruled) == 4


def test_table_formats_emphasis_and_integer_columns(worksheet):
    d = __import__("docx").Document(str(worksheet["docx"]))
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "ID")
    assert [c.text for c in table.rows[1].cells] == [
        "R1",
        "The checkout accepts gift cards and store credit in one payment.",
        "2",
        "$350.00",
    ]
    subtotal = table.rows[3].cells[2].paragraphs[0].runs[0]
    assert subtotal.bold and not table.rows[1].cells[2].paragraphs[0].runs[0].bold
    widths = [c.width for c in table.rows[0].cells]
    assert widths[1] > 2 * max(widths[0], widths[2], widths[3])  # short columns stay narrow; text gets the room


def test_highlight_fills_docx_and_pdf_and_is_a_native_rule_in_xlsx(worksheet):
    d = __import__("docx").Document(str(worksheet["docx"]))
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "ID")
    fills = [re.findall(r'w:fill="(\w+)"', r.cells[2]._tc.xml) for r in table.rows[1:]]
    assert fills[1] == ["F8D7DA"] and "F8D7DA" not in fills[0] and "F8D7DA" not in fills[2]  # never the subtotal
    ws = openpyxl.load_workbook(worksheet["xlsx"])["Summary"]
    rules = [(str(rng.sqref), r.type, r.operator, r.formula) for rng in ws.conditional_formatting for r in rng.rules]
    assert len(rules) == 1 and rules[0][1:] == ("cellIs", "greaterThan", ["10"])
    assert rules[0][0].startswith("C")
    content = b"".join(p.get_contents().get_data() for p in pypdf.PdfReader(worksheet["pdf"]).pages)
    assert b".972549 .843137 .854902 rg" in content  # #F8D7DA


def test_workbook_carries_the_prose(worksheet):
    ws = openpyxl.load_workbook(worksheet["xlsx"])["Summary"]
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for text in ["Worksheet", "Answer key", "1. Add 1/2 and 1/4.", "Tip\nFind a common denominator.",
                 "The figure below shows the layout."]:  # fmt: skip
        assert text in cells, text
    assert len(ws._images) == 1  # the placeholder


def test_placeholder_is_drawn_at_its_aspect_ratio_in_every_format(worksheet):
    d = __import__("docx").Document(str(worksheet["docx"]))
    (shape,) = d.inline_shapes
    assert abs(shape.width / shape.height - 4 / 3) < 0.01
    assert "Seating plan." in [p.text for p in d.paragraphs]
    assert "Seating plan." in pdf_text(worksheet["pdf"])


def test_unknown_theme_and_bad_fields_are_problems_the_model_can_fix(catalog):
    plan = Plan.model_validate(
        {
            "meta": {"title": "t", "theme": "navy_orange", "brand": {"primary": "navy", "accent": ORANGE}},
            "blocks": [
                {"type": "image", "source": "logo.png", "alt": "Logo", "aspect": "wide"},
                {"type": "bullets", "items": ["a"], "start": 2},
                {"type": "table", "title": "T", "columns": ["a"], "rows": [[1]], "formats": [None, None],
                 "emphasis": [3], "highlight": [{"column": "b", "op": "top", "value": 2}]},
            ],
        }
    )  # fmt: skip
    found = problems(plan, catalog)
    assert found == [
        "meta.theme: unknown theme 'navy_orange'; themes: classic, corporate (for other colours keep a theme and "
        "set meta.brand)",
        "meta.brand.primary: 'navy' is not a colour; write #RRGGBB, like #1B2A4A",
        "block 1 (image): no image file 'logo.png' was given with the job; images given: none "
        "(use source null for a placeholder)",
        "block 1 (image): aspect 'wide' must be width:height, like 16:9, 4:3 or 1:1",
        "block 2 (bullets): start applies to ordered lists only",
        "block 3 (table 'T'): formats has 2 entries for 1 columns ['a']",
        "block 3 (table 'T'): emphasis rows [3] do not exist (rows are numbered 0-0)",
        "block 3 (table 'T'): highlight names 'b', which is not a column ['a']",
    ]


def test_a_model_that_picks_an_unknown_theme_repairs_it_and_the_job_succeeds(catalog):
    (ds,) = catalog.ingest(EXAMPLE)
    request = PlanRequest("Sales in our colours", [profile(catalog, ds)], catalog, "en")
    good: dict[str, Any] = {
        "meta": {"title": "Sales", "theme": "corporate", "brand": {"primary": NAVY, "accent": ORANGE}},
        "blocks": [{"type": "heading", "text": "Summary"}],
    }
    bad = json.dumps({**good, "meta": {**good["meta"], "theme": "navy_orange"}})
    fake = FakeModel(reply(bad), reply(json.dumps(good)))
    s = Settings(llm_base_url="http://model.test/v1", llm_agentic="off")
    planned = LLMPlanner(s, ModelClient(s, http_client=fake.http_client(), sleep=lambda _: None)).plan(request)
    assert planned.planner == "llm" and planned.usage.repairs == 1
    assert "unknown theme 'navy_orange'; themes: classic, corporate" in fake.requests[1]["messages"][-1]["content"]
    assert planned.plan.meta.theme == "corporate"
    assert "meta.theme: classic, corporate or null" in fake.requests[0]["messages"][0]["content"]


def test_the_model_is_told_which_images_it_may_place(catalog, tmp_path):
    (tmp_path / "logo.svg").write_text(SVG)
    catalog.ingest(tmp_path / "logo.svg")
    request = PlanRequest("A one-pager with our logo", [], catalog, "en")
    good = {"meta": {"title": "One pager"}, "blocks": [{"type": "image", "source": "logo.svg", "alt": "Logo"}]}
    fake = FakeModel(reply(json.dumps(good)))
    s = Settings(llm_base_url="http://model.test/v1", llm_agentic="off")
    planned = LLMPlanner(s, ModelClient(s, http_client=fake.http_client(), sleep=lambda _: None)).plan(request)
    assert planned.planner == "llm" and planned.plan.blocks[0].source == "logo.svg"
    assert "Image files given with the job: logo.svg." in fake.requests[0]["messages"][-1]["content"]


def test_rendering_an_unknown_theme_never_happens_after_validation(catalog):
    plan = Plan.model_validate({"meta": {"title": "t", "theme": "nope"}, "blocks": [{"type": "page_break"}]})
    with pytest.raises(PlanError, match="unknown theme 'nope'"):
        validate(plan, catalog)


# --- images ---


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
         "SVG with <script> is refused"),
        ("xxe.svg", '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&x;</text></svg>',
         "SVG with a DTD or entities is refused"),
        ("huge.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="50000" height="50000"></svg>',
         "50000x50000 exceeds the limit of 10,000 per side"),
        ("hook.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="x()"></svg>',
         "SVG with an event handler (onload) is refused"),
        ("link.svg", '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
         'width="10" height="10"><image xlink:href="http://evil.test/a.png"/></svg>',
         "SVG referring to 'http://evil.test/a.png' is refused"),
        ("fake.png", b"GIF89a this is not a png", "not a PNG image (its content is something else)"),
        ("wide.png", png_bytes(12_000, 2), "12000x2 pixels exceeds the limit"),
    ],
)  # fmt: skip
def test_hostile_or_false_images_are_refused_clearly(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(UnreadableData, match=re.escape(message)) as e:
        read_image(path)
    assert str(e.value).startswith(f"{name}: ")


def test_real_png_and_svg_images_render_in_every_format(tmp_path):
    plan = {
        "meta": {"title": "Pictures"},
        "blocks": [
            {"type": "image", "source": "photo.png", "alt": "A photo", "caption": "A photo", "width": 0.5},
            {"type": "image", "source": "diagram.svg", "alt": "A diagram", "caption": None},
        ],
    }
    out, _ = render(plan, tmp_path, {"photo.png": png_bytes(), "diagram.svg": SVG.encode()})
    d = __import__("docx").Document(str(out["docx"]))
    photo, diagram = d.inline_shapes
    assert abs(photo.width / photo.height - 2.0) < 0.01 and abs(diagram.width / diagram.height - 2.0) < 0.01
    assert photo.width < diagram.width  # half the text width, then the full width
    assert len(parts(out["docx"], "word/media/")) == 2
    assert len(openpyxl.load_workbook(out["xlsx"])["Summary"]._images) == 2
    page = pypdf.PdfReader(out["pdf"]).pages[0]
    assert len(page.images) == 1  # the PNG; the SVG is drawn as vectors
    assert b".105882 .164706 .290196 rg" in page.get_contents().get_data()  # the SVG's navy circle


# --- brand kits ---


@pytest.fixture(scope="module")
def branded(tmp_path_factory):
    plan = {
        "meta": {"title": "Sponsorship", "brand": {"primary": NAVY, "accent": ORANGE, "logo": "logo.png"}},
        "blocks": [
            {"type": "heading", "text": "Packages", "level": 1},
            {"type": "table", "title": "Tiers", "columns": ["Tier", "Price"], "rows": [["Gold", 5000], ["Silver", 2500]]},
            {"type": "chart", "kind": "bar", "title": "Reach", "columns": ["Channel", "People"],
             "rows": [["Web", 1000], ["Print", 400]], "x": "Channel", "y": ["People"]},
        ],
    }  # fmt: skip
    out, _ = render(plan, tmp_path_factory.mktemp("brand"), {"logo.png": png_bytes(300, 100, ORANGE)})
    return out


def test_brand_colours_reach_the_docx_styles_and_header_logo(branded):
    styles = xml(branded["docx"], "word/styles.xml")
    heading = re.search(r'w:styleId="Heading1".*?</w:style>', styles, re.S)
    assert heading and 'w:color w:val="1B2A4A"' in heading.group(0)
    body = xml(branded["docx"], "word/document.xml")
    assert 'w:fill="1B2A4A"' in body  # table header
    header = "".join(parts(branded["docx"], "word/header").values())
    assert "<pic:pic" in header


def test_brand_colours_reach_xlsx_header_fills_and_chart_series(branded):
    ws = openpyxl.load_workbook(branded["xlsx"])["Summary"]
    heads = [c for row in ws.iter_rows() for c in row if c.value == "Tier"]
    assert heads[0].fill.fgColor.rgb == "FF1B2A4A"
    chart = "".join(parts(branded["xlsx"], "xl/charts/chart").values())
    assert '<a:srgbClr val="1B2A4A"/>' in chart
    assert len(ws._images) == 1  # the logo


def test_brand_colours_reach_the_pdf(branded):
    reader = pypdf.PdfReader(branded["pdf"])
    content = b"".join(p.get_contents().get_data() for p in reader.pages)
    assert b".105882 .164706 .290196 rg" in content  # navy fills and heading text
    assert any(len(p.images) for p in reader.pages)  # the logo


# --- compact KPIs ---

FOUR_KPIS: dict[str, Any] = {
    "meta": {"title": "KPIs"},
    "metrics": [
        {
            "name": f"m{k}",
            "label": "Revenue",
            "dataset": "sales",
            "agg": "sum",
            "column": "revenue",
            "format": "currency",
        }
        for k in range(4)
    ],
    "blocks": [{"type": "kpis", "items": [{"metric": f"m{k}"} for k in range(4)]}],
}


def test_kpi_figures_too_wide_for_four_cards_switch_to_short_form(tmp_path):
    out, bound = render(FOUR_KPIS, tmp_path, data=True)
    assert bound.metric_text["m0"] == "$13,379,834.92"
    text = pdf_text(out["pdf"])
    assert text.count("$13.4M") == 4 and "13,379,834" not in text
    ws = openpyxl.load_workbook(out["xlsx"], data_only=True)["Summary"]
    assert ws["A4"].value == pytest.approx(13379834.92)  # the exact value stays in the workbook


@pytest.mark.parametrize(
    ("value", "fmt", "currency", "language", "text"),
    [
        (2130607.58, "currency", "USD", "en", "$2.13M"),
        (13379834.92, "currency", "EUR", "en", "€13.4M"),
        (-45230.0, "number", "USD", "en", "-45.2K"),
        (950.0, "integer", "USD", "en", "950"),
        (21306.0, "number", "CNY", "zh", "2.13万"),
        (213060000.0, "currency", "CNY", "zh", "¥2.13亿"),
        (0.153, "percent", "USD", "en", "15%"),
    ],
)
def test_short_figures_keep_three_significant_digits_and_their_currency(value, fmt, currency, language, text):
    from docagent.engine.formatting import short

    assert short(value, fmt, currency, language) == text


def test_a_header_logo_and_body_pictures_have_distinct_drawing_ids(tmp_path):
    from docagent.renderers.qa import ooxml

    plan = {
        "meta": {"title": "Logo and photo", "brand": {"primary": NAVY, "accent": ORANGE, "logo": "logo.png"}},
        "blocks": [{"type": "image", "source": "photo.png", "alt": "A photo"}],
    }
    out, _ = render(plan, tmp_path, {"logo.png": png_bytes(300, 100, ORANGE), "photo.png": png_bytes()})
    ids = re.findall(r'<wp:docPr id="(\d+)"', "".join(parts(out["docx"], "word/").values()))
    assert len(ids) == 2 and len(set(ids)) == 2
    assert ooxml(out["docx"]) == []
