"""A .pptx deck from the same plan: native editable charts bound to the data, tables split, text never cut."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Pt

from docagent.engine.bind import Bound, bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import ChartKind, Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from docagent.renderers.deck import CELL_CHARS
from docagent.renderers.slidecheck import check_deck
from tests.conftest import EXAMPLE, needs_soffice
from tests.plans import CHARTS, every_block

NATIVE = {
    ChartKind.bar: XL_CHART_TYPE.COLUMN_CLUSTERED,
    ChartKind.grouped_bar: XL_CHART_TYPE.COLUMN_CLUSTERED,
    ChartKind.stacked_bar: XL_CHART_TYPE.COLUMN_STACKED,
    ChartKind.hbar: XL_CHART_TYPE.BAR_CLUSTERED,
    ChartKind.line: XL_CHART_TYPE.LINE_MARKERS,
    ChartKind.area: XL_CHART_TYPE.AREA,
    ChartKind.pie: XL_CHART_TYPE.PIE,
    ChartKind.donut: XL_CHART_TYPE.DOUGHNUT,
    ChartKind.scatter: XL_CHART_TYPE.XY_SCATTER,
    ChartKind.combo: XL_CHART_TYPE.COLUMN_CLUSTERED,
}
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def render(plan: Plan | dict[str, Any], tmp: Path, theme: str = "corporate") -> tuple[Path, Bound]:
    with Catalog() as catalog:
        catalog.ingest(EXAMPLE)
        plan = validate(plan if isinstance(plan, Plan) else Plan.model_validate(plan), catalog)
        bound = bind(plan, catalog)
    tmp.mkdir(parents=True, exist_ok=True)
    files, _ = render_all(bound, theme, tmp, "deck", ["pptx"])
    return files["pptx"], bound


@pytest.fixture(scope="module")
def every(tmp_path_factory) -> tuple[Path, Bound]:
    return render(every_block(), tmp_path_factory.mktemp("deck"))


def title_of(slide: Any) -> str:
    return slide.shapes.title.text_frame.text if slide.shapes.title is not None else ""


def by_title(path: Path) -> dict[str, Any]:
    return {title_of(s): s for s in Presentation(str(path)).slides}


def notes(slide: Any) -> str:
    return slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""


def body_text(slide: Any) -> str:
    """The slide's content: its text boxes, KPI cards and subtitle, not the title or the footer."""
    roles = ("Body", "KPI", "Subtitle")
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame and s.name.startswith(roles))


def plan(blocks: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    return {"meta": {"title": "Deck", **meta}, "blocks": blocks}


@pytest.mark.parametrize("kind", list(CHARTS))
def test_every_chart_kind_is_a_native_chart_holding_the_bound_data(every, kind):
    path, bound = every
    index = next(i for i, b in enumerate(bound.plan.blocks) if getattr(b, "title", "") == f"{kind} chart")
    block, result = bound.plan.blocks[index], bound.results[index]
    slide = by_title(path)[f"{kind} chart"]
    [frame] = [s for s in slide.shapes if s.has_chart]
    chart = frame.chart
    assert chart.chart_type == NATIVE[kind]
    names = [c.name for c in result.columns]
    column = lambda name: [float(r[names.index(name)]) for r in result.rows]  # noqa: E731
    series = [s for plot in chart.plots for s in plot.series]
    assert [s.name for s in series] == [*block.y, *(block.y2 or [])]
    for s in series:
        assert list(s.values) == pytest.approx(column(s.name))
    if kind == ChartKind.scatter:
        xs = [float(v.text) for v in frame.chart._chartSpace.iter(f"{C}xVal") for v in v.iter(f"{C}v")]
        assert xs == pytest.approx(column(block.x))
    else:
        assert len(chart.plots[0].categories) == len(result.rows)
    if kind == ChartKind.combo:  # bars on the primary axis, the y2 line on a secondary one at the right
        assert [p.__class__.__name__ for p in chart.plots] == ["BarPlot", "LinePlot"]
        positions = [a.find(f"{C}axPos").get("val") for a in chart._chartSpace.iter(f"{C}valAx")]
        assert positions == ["l", "r"]


def test_chart_data_is_embedded_so_edit_data_works(every):
    path, bound = every
    chart = next(s.chart for s in by_title(path)["bar chart"].shapes if s.has_chart)
    wb = openpyxl.load_workbook(io.BytesIO(chart.part.chart_workbook.xlsx_part.blob))
    cells = [c for row in wb.active.iter_rows(values_only=True) for c in row if c is not None]
    index = next(i for i, b in enumerate(bound.plan.blocks) if getattr(b, "title", "") == "bar chart")
    for region, revenue in bound.results[index].rows:
        assert region in cells and pytest.approx(revenue) in cells


def test_axis_ids_are_positive_and_consistent(every):
    path, _ = every
    for slide in Presentation(str(path)).slides:
        for shape in (s for s in slide.shapes if s.has_chart):
            space = shape.chart._chartSpace
            ids = {int(a.find(f"{C}axId").get("val")) for tag in ("catAx", "valAx") for a in space.iter(f"{C}{tag}")}
            crossed = {int(e.get("val")) for e in space.iter(f"{C}crossAx")}
            assert all(i > 0 for i in ids) and crossed == ids


def test_deck_is_16_by_9_with_title_slide_kpis_and_notes(every):
    path, bound = every
    prs = Presentation(str(path))
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)
    first = prs.slides[0]
    assert title_of(first) == "Every block" and "Completeness" in body_text(first)
    kpi = next(s for s in prs.slides if "Growth" in body_text(s) and "Total revenue" in body_text(s))
    assert bound.metric_text["total_revenue"] in body_text(kpi)
    overview = next(s for s in prs.slides if title_of(s) == "Overview")
    assert "Revenue totals 13.4M" in notes(overview)  # speaker notes carry the paragraph text
    assert prs.core_properties.title == "Every block"


@pytest.mark.parametrize(
    ("contents", "titles"),
    [
        (True, ["Deck", "Agenda", "Summary", "Regions", "North", "Outlook"]),  # asked for: agenda and dividers
        ("auto", ["Deck", "Summary", "North"]),  # an analyst's deck: no agenda, no empty divider slides
    ],
)
def test_each_heading_opens_a_slide_and_an_agenda_only_when_asked(tmp_path, contents, titles):
    blocks = [
        {"type": "heading", "text": "Summary", "level": 1},
        {"type": "bullets", "items": ["Sales grew", "Costs held"]},
        {"type": "heading", "text": "Regions", "level": 1},
        {"type": "heading", "text": "North", "level": 2},
        {"type": "paragraph", "text": "North led."},
        {"type": "heading", "text": "Outlook", "level": 1},
    ]
    deck = plan(blocks, subtitle="Q4")
    deck["meta"]["contents"] = contents
    path, _ = render(deck, tmp_path)
    assert [title_of(s) for s in Presentation(str(path)).slides] == titles
    if contents is True:
        assert body_text(by_title(path)["Agenda"]).split("\n") == ["Summary", "Regions", "Outlook"]


def test_a_chart_or_table_slide_is_titled_by_its_finding_and_keeps_highlights_and_totals(tmp_path):
    table = {
        "type": "table",
        "title": "Spend by line",
        "headline": "Rent is the one line over budget",
        "columns": ["Line", "Over", "Benefit"],
        "rows": [["Travel", -5, "Economy fares on every trip, booked through the portal " * 3], ["Rent", 9, "x"]],
        "totals": True,
        "highlight": [{"column": "Over", "op": "gt", "value": 0, "style": "bad"}],
    }
    path, _ = render(plan([table]), tmp_path)
    slide = by_title(path)["Rent is the one line over budget"]
    tbl = next(sh.table for sh in slide.shapes if sh.has_table)
    fill = lambda r, c: tbl.cell(r, c)._tc.xpath(".//a:srgbClr/@val")[-1]  # noqa: E731
    assert fill(2, 1) == "F8D7DA" and fill(1, 1) != "F8D7DA" and fill(3, 1) != "F8D7DA"  # total row never coloured
    assert 'b="1"' in tbl.cell(3, 1)._tc.xml  # the totals row is bold
    assert "…" not in tbl.cell(1, 2).text and tbl.cell(1, 2).text.rstrip().endswith("portal")  # a long cell wraps whole
    assert "Spend by line" not in title_of(slide)


def test_two_hundred_rows_become_several_slides_each_with_the_header(tmp_path):
    rows = [[f"Item {n}", n, n * 1.5] for n in range(1, 201)]
    table = {"type": "table", "title": "All items", "columns": ["Item", "Qty", "Price"], "rows": rows}
    path, _ = render(plan([table]), tmp_path)
    tables = [(title_of(s), s) for s in Presentation(str(path)).slides for _ in [0] if title_of(s).startswith("All")]
    assert len(tables) >= 200 / 12
    seen = []
    for n, (title, slide) in enumerate(tables, 1):
        assert title == f"All items ({n}/{len(tables)})"
        [tbl] = [s.table for s in slide.shapes if s.has_table]
        cells = [[c.text for c in r.cells] for r in tbl.rows]
        assert cells[0] == ["Item", "Qty", "Price"] and 1 < len(cells) <= 13
        seen += [r[0] for r in cells[1:]]
    assert seen == [r[0] for r in rows]
    assert check_deck(path) == []


def test_text_that_does_not_fit_goes_whole_sentences_to_the_notes(tmp_path):
    from docagent.renderers.qa import check

    sentences = [f"Sentence number {n} explains one more detail of the quarter." for n in range(1, 61)]
    path, bound = render(
        plan([{"type": "heading", "text": "Long"}, {"type": "paragraph", "text": " ".join(sentences)}]), tmp_path
    )
    slide = by_title(path)["Long"]
    shown = body_text(slide).replace("\n", " ").strip()
    assert shown and shown.endswith(".") and len(shown) < len(" ".join(sentences))
    assert " ".join(sentences).startswith(shown)  # a prefix of whole sentences, nothing cut inside one
    assert sentences[-1] in notes(slide) and "Not on the slide" in notes(slide)
    assert check_deck(path, notes=False) == []  # nothing overflows: what did not fit is in the notes,
    assert check_deck(path) == ["slide 2 'Long': 1 passage(s) did not fit and are in the speaker notes"]  # and said
    said = "deck.pptx: slide 2 'Long': 1 passage(s) did not fit and are in the speaker notes"
    assert check({"pptx": path}, bound) == [said]  # the QA pass records it on the job


def test_slide_false_and_meta_slides_choose_what_reaches_the_deck(tmp_path):
    blocks = [
        {"type": "heading", "text": "Sales", "level": 1},
        {"type": "paragraph", "text": "Prose for the speaker."},
        {"type": "bullets", "items": ["A point"]},
        {"type": "table", "title": "Detail", "columns": ["a"], "rows": [["x"]], "slide": False},
        {
            "type": "chart",
            "kind": "bar",
            "title": "Shares",
            "columns": ["k", "v"],
            "rows": [["a", 1]],
            "x": "k",
            "y": ["v"],
        },
    ]
    auto, _ = render(plan(blocks), tmp_path / "auto")
    slides = by_title(auto)
    assert "Detail" not in slides and "Shares" in slides
    assert "Prose for the speaker." in body_text(slides["Sales"])
    sections, _ = render(plan(blocks, slides="sections"), tmp_path / "sections")
    sales = by_title(sections)["Sales"]
    assert "A point" in body_text(sales) and "Prose for the speaker." not in body_text(sales)
    assert "Prose for the speaker." in notes(sales)
    none, _ = render(plan(blocks, slides="none"), tmp_path / "none")
    assert list(by_title(none)) == ["Deck", "Shares"]
    assert "Prose for the speaker." in notes(by_title(none)["Deck"])


def test_theme_colours_and_fonts_reach_the_slides_the_charts_and_the_deck_theme(tmp_path):
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    from docagent.renderers.theme import load_theme

    classic = load_theme("classic")
    chart = {"type": "chart", "kind": "grouped_bar", "title": "Two", "columns": ["k", "a", "b"]}
    chart |= {"rows": [["x", 1, 2], ["y", 3, 4]], "x": "k", "y": ["a", "b"]}
    blocks = [{"type": "heading", "text": "Colours"}, {"type": "bullets", "items": ["x"]}, chart]
    path, _ = render(plan(blocks), tmp_path, "classic")
    slides = by_title(path)
    xml = slides["Colours"].shapes._spTree.xml
    assert f'val="{classic.primary[1:]}"' in xml and f'typeface="{classic.docx_heading_font}"' in xml
    bars = next(s.chart for s in slides["Two"].shapes if s.has_chart).plots[0].series
    assert [str(s.format.fill.fore_color.rgb) for s in bars] == [c[1:].upper() for c in classic.palette[:2]]
    prs = Presentation(str(path))
    theme_xml = prs.slide_master.part.part_related_by(RT.THEME).blob.decode()
    for k, colour in enumerate(classic.palette[:6], 1):
        assert f'<a:accent{k}><a:srgbClr val="{colour[1:].upper()}"/></a:accent{k}>' in theme_xml
    assert f'<a:minorFont><a:latin typeface="{classic.docx_font}"/>' in theme_xml


def test_qa_flags_an_overflowing_text_box_and_a_chart_without_data(tmp_path):
    from pptx.chart.data import CategoryChartData

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    box = slide.shapes.add_textbox(0, 0, Pt(200), Pt(40))
    box.text_frame.word_wrap = True
    run = box.text_frame.paragraphs[0].add_run()
    run.text, run.font.size = "words " * 80, Pt(18)
    data = CategoryChartData()
    data.categories = ["a", "b"]
    data.add_series("empty", [None, None])
    slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, 0, Pt(100), Pt(300), Pt(200), data)
    prs.save(str(tmp_path / "bad.pptx"))
    found = check_deck(tmp_path / "bad.pptx")
    assert any("text needs" in f for f in found) and any("chart without data" in f for f in found)


def test_no_text_frame_overflows_in_the_example_deck(every):
    assert check_deck(every[0]) == []


@needs_soffice
def test_libreoffice_converts_the_decks_to_pdf(every, tmp_path):
    import pypdf

    profile = f"-env:UserInstallation=file://{tmp_path}/lo"
    r = subprocess.run(
        ["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(every[0])],
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = tmp_path / "deck.pdf"
    assert r.returncode == 0 and pdf.is_file(), r.stderr
    assert len(pypdf.PdfReader(pdf).pages) == len(Presentation(str(every[0])).slides)


def test_command_line_writes_a_deck_that_passes_qa(tmp_path):
    exe = Path(sys.executable).with_name("docagent")
    args = [str(exe), "generate", str(EXAMPLE), "--prompt", "Quarterly sales review", "--format", "pptx"]
    r = subprocess.run([*args, "--out", str(tmp_path)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    deck = Path(r.stdout.strip())
    assert deck.suffix == ".pptx" and deck.is_file()
    prs = Presentation(str(deck))
    assert title_of(prs.slides[0]) == "Quarterly sales review"
    assert any(s.has_chart for slide in prs.slides for s in slide.shapes)
    assert check_deck(deck) == []


def test_the_api_accepts_pptx_as_a_format_and_names_the_valid_ones():
    from pydantic import ValidationError

    from docagent.api.schemas import JobCreate, ScheduledJob

    assert JobCreate(prompt="x", formats=["pptx"]).formats == ["pptx"]
    assert "pptx" not in JobCreate(prompt="x").formats  # the default set stays docx, xlsx, pdf
    source = {"dataset": "sales"}
    assert ScheduledJob(prompt="x", formats=["pdf", "pptx"], source=source).formats == ["pdf", "pptx"]
    with pytest.raises(ValidationError, match="pptx"):
        JobCreate(prompt="x", formats=["ppt"])


def test_deck_previews_need_libreoffice_and_never_fail_without_it(every, tmp_path, monkeypatch):
    from docagent.renderers import preview

    monkeypatch.setattr(preview.shutil, "which", lambda name: None)
    assert preview.deck_previews(every[0], tmp_path) == []


@needs_soffice
def test_deck_previews_are_the_first_slides_as_landscape_images(every, tmp_path):
    from PIL import Image

    from docagent.renderers.preview import deck_previews

    pngs = deck_previews(every[0], tmp_path)
    assert len(pngs) == 3
    with Image.open(pngs[0]) as image:
        width, height = image.size
    assert abs(width / height - 16 / 9) < 0.02


def test_an_ooxml_validator_finds_no_errors_in_the_deck(every):
    audit = Path(sys.executable).with_name("openxml-audit")
    if not audit.is_file():
        pytest.skip("openxml-audit is not installed")
    r = subprocess.run([str(audit), str(every[0])], capture_output=True, text=True, timeout=300)
    assert "Errors: 0" in r.stdout, r.stdout[-2000:]


def test_a_wide_table_splits_its_columns_and_a_huge_one_stops_at_a_readable_length(tmp_path):
    long_text = "word " * 6000
    blocks = [
        {
            "type": "table",
            "title": "Wide",
            "columns": [f"c{i}" for i in range(45)],
            "rows": [[f"v{i}" for i in range(45)]] * 3,
        },
        {"type": "table", "title": "Huge", "columns": ["n", "note"], "rows": [[n, "x"] for n in range(5000)]},
        {
            "type": "table",
            "title": "Long",
            "columns": ["a", "b"],
            "rows": [["x", long_text], ["y", "short \x0b <b>&amp;"]],
        },
    ]
    path, _ = render(plan(blocks), tmp_path)
    slides = list(Presentation(str(path)).slides)
    wide = [s for s in slides if title_of(s).startswith("Wide")]
    headers = [[c.text for c in next(sh.table for sh in s.shapes if sh.has_table).rows[0].cells] for s in wide]
    assert all(h[0] == "c0" for h in headers) and [c for h in headers for c in h[1:]] == [f"c{i}" for i in range(1, 45)]
    huge = [s for s in slides if title_of(s).startswith("Huge")]
    assert len(huge) == 25 and "first 300 of 5,000 rows" in notes(huge[0])
    long = next(s for s in slides if title_of(s) == "Long")
    cell = next(sh.table for sh in long.shapes if sh.has_table).cell(1, 1).text
    assert cell.endswith("…") and len(cell) <= CELL_CHARS + 5 and long_text[:900] in notes(long)  # too long for a slide
    assert next(sh.table for sh in long.shapes if sh.has_table).cell(2, 1).text == "short   <b>&amp;"
    assert check_deck(path, notes=False) == []
    found = check_deck(path)
    assert any("'Huge (1/25)'" in f for f in found) and any("'Long'" in f for f in found)


@needs_soffice
def test_a_deck_only_job_stores_the_deck_and_previews_of_its_first_slides(tmp_path):
    import shutil

    from docagent.pipeline.jobs import plan_stage, render_stage
    from docagent.service.lifecycle import JobSpec, create_job
    from docagent.service.records import create_dataset, get_job
    from docagent.service.store import ArtifactRow, migrate, session
    from docagent.settings import Settings

    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    src = tmp_path / "sales.csv"
    shutil.copy(EXAMPLE, src)
    ds = create_dataset(src, "sales.csv", "sales", "o", settings)
    job, _ = create_job("o", JobSpec("Quarterly sales review", [ds.id], ["pptx"]), settings=settings)
    assert plan_stage(job.id, settings)
    render_stage(job.id, settings)
    done = get_job(job.id, settings)
    assert done.status == "succeeded" and done.previews == 3
    with session(settings) as s:
        assert [a.format for a in s.query(ArtifactRow).filter_by(job_id=job.id)] == ["pptx"]
    assert len(list((tmp_path / "var" / "storage").rglob("preview-*.png"))) == 3


@pytest.fixture(scope="module")
def qbr(tmp_path_factory) -> Path:
    """The QBR example plan (examples/plans/qbr.json) rendered as a deck through the command line."""
    out = tmp_path_factory.mktemp("qbr")
    exe = Path(sys.executable).with_name("docagent")
    root = EXAMPLE.parent
    args = [str(exe), "render", str(root / "plans" / "qbr.json"), str(EXAMPLE), str(root / "team.csv")]
    r = subprocess.run([*args, "--format", "pptx", "--out", str(out)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return Path(r.stdout.strip())


def test_the_qbr_deck_draws_the_series_chart_from_the_long_rows_and_passes_qa(qbr):
    slides = by_title(qbr)
    chart = next(s.chart for s in slides["Revenue by quarter and region"].shapes if s.has_chart)
    assert chart.chart_type == XL_CHART_TYPE.LINE_MARKERS
    assert sorted(s.name for s in chart.plots[0].series) == ["Central", "East", "North", "South", "West"]
    assert len(chart.plots[0].categories) == 8  # two years of quarters
    assert check_deck(qbr) == []


@needs_soffice
def test_libreoffice_converts_the_qbr_deck_to_pdf(qbr, tmp_path):
    import pypdf

    profile = f"-env:UserInstallation=file://{tmp_path}/lo"
    r = subprocess.run(
        ["soffice", profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(qbr)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = tmp_path / f"{qbr.stem}.pdf"
    assert r.returncode == 0 and pdf.is_file(), r.stderr
    assert len(pypdf.PdfReader(pdf).pages) == len(Presentation(str(qbr)).slides)


def test_big_figures_too_long_for_a_kpi_card_are_shown_short_with_the_exact_value_in_the_notes(qbr):
    from docagent.engine.formatting import compact

    slide = next(s for s in Presentation(str(qbr)).slides if title_of(s) == "Summary")  # the KPI row
    said = dict(line.split(": ", 1) for line in notes(slide).splitlines() if ": " in line)
    exact = said["Revenue, latest quarter"]
    assert exact.startswith("$") and "," in exact
    shown = "$" + compact(float(exact[1:].replace(",", "")))
    assert shown in body_text(slide).split("\n") and exact not in body_text(slide)


def test_a_financial_model_becomes_assumption_and_statement_slides_with_its_computed_values(tmp_path):
    import json

    from docagent.renderers.common import model_table

    root = EXAMPLE.parent
    raw = json.loads((root / "plans" / "coffee_shop.json").read_text())
    path, bound = render(raw, tmp_path)
    slides = list(Presentation(str(path)).slides)
    cells = {
        (title_of(s).split(" (")[0], tuple(c.text for c in row.cells))
        for s in slides
        for sh in s.shapes
        if sh.has_table
        for row in sh.table.rows
    }
    models = [i for i, b in enumerate(bound.plan.blocks) if b.type == "model"]
    assert models
    for i in models:
        data = model_table(bound, i)
        for label, values, _ in data.rows:
            assert any(t == data.title and row[0] == label and list(row[1:]) == values for t, row in cells), label
        for label, value, note in data.assumptions:
            assert (f"{data.title}: Assumptions", (label, value, note)) in cells
    assert check_deck(path, notes=False) == []


def _png(w: int, h: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (w, h), "#0B6E4F").save(out, format="PNG")
    return out.getvalue()


def test_images_placeholders_and_the_logo_reach_the_slides(tmp_path):
    from types import SimpleNamespace

    from docagent.renderers.slides import render_pptx
    from docagent.renderers.theme import load_theme

    placeholder = {"type": "image", "source": None, "alt": "Store front at opening", "aspect": "4:3"}
    given = {"type": "image", "source": "store.png", "alt": "The store", "caption": "The first store"}
    bound = Bound(Plan.model_validate(plan([{"type": "paragraph", "text": "Intro."}, placeholder, given])))
    bound.images = {  # images given with the job, as the catalog checked them
        "store.png": SimpleNamespace(data=_png(300, 100), kind="png", width=300, height=100),
        "logo.png": SimpleNamespace(data=_png(120, 40), kind="png", width=120, height=40),
    }
    theme = load_theme("corporate").model_copy(update={"logo": "logo.png"})
    render_pptx(bound, theme, tmp_path / "img.pptx")
    slides = by_title(tmp_path / "img.pptx")
    [box] = [s for s in slides["Store front at opening"].shapes if s.name == "Image placeholder"]
    assert box.text_frame.text == "Store front at opening" and box.width / box.height == pytest.approx(4 / 3, 0.01)
    [pic] = [s for s in slides["The first store"].shapes if s.shape_type == 13]  # a picture
    assert pic.width / pic.height == pytest.approx(3, 0.01) and pic._element.nvPicPr.cNvPr.get("descr")
    assert "Store front at opening" in notes(slides["Store front at opening"])
    first = Presentation(str(tmp_path / "img.pptx")).slides[0]
    assert [s for s in first.shapes if s.shape_type == 13]  # the logo on the title slide
    assert check_deck(tmp_path / "img.pptx") == []


def test_brand_colours_read_back_from_the_slides(tmp_path):
    from docagent.engine.plan import Meta

    if "brand" not in Meta.model_fields:
        pytest.skip("meta.brand (the brand kit) is not in this plan contract yet")
    brand = {"primary": "#0B6E4F", "accent": "#F2A541", "palette": ["#0B6E4F", "#F2A541", "#2F4858"]}
    chart = {"type": "chart", "kind": "grouped_bar", "title": "Two", "columns": ["k", "a", "b"]}
    chart |= {"rows": [["x", 1, 2], ["y", 3, 4]], "x": "k", "y": ["a", "b"]}
    path, _ = render(
        plan([{"type": "heading", "text": "Brand"}, {"type": "bullets", "items": ["x"]}, chart], brand=brand), tmp_path
    )
    slides = by_title(path)
    assert 'val="0B6E4F"' in slides["Brand"].shapes._spTree.xml  # the title in the brand's primary colour
    assert 'val="F2A541"' in slides["Brand"].shapes._spTree.xml  # the accent rule and bullets
    bars = next(s.chart for s in slides["Two"].shapes if s.has_chart).plots[0].series
    assert [str(s.format.fill.fore_color.rgb) for s in bars] == ["0B6E4F", "F2A541"]
    assert 'val="0B6E4F"' in Presentation(str(path)).slides[0].shapes._spTree.xml  # the title band


def test_a_theme_logo_file_goes_on_the_title_slide(tmp_path):
    from docagent.renderers.slides import render_pptx
    from docagent.renderers.theme import load_theme

    logo = tmp_path / "logo.png"
    logo.write_bytes(_png(90, 30))
    theme = load_theme("corporate").model_copy(update={"logo": str(logo)})
    render_pptx(Bound(Plan.model_validate(plan([{"type": "paragraph", "text": "x"}]))), theme, tmp_path / "l.pptx")
    [pic] = [s for s in Presentation(str(tmp_path / "l.pptx")).slides[0].shapes if s.shape_type == 13]
    assert pic.width / pic.height == pytest.approx(3, 0.01)
