"""The .pptx renderer (python-pptx): 16:9 slides with native, editable charts.

renderers/deck.py decides which slides there are; this module draws them; the
charts are drawn and styled by renderers/slidecharts.py, and the QA pass reads a
deck back with renderers/slidecheck.py.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from pptx import Presentation
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.parts.image import Image as PptxImage
from pptx.util import Pt

from docagent.engine.bind import Bound
from docagent.engine.formatting import format_value, long_date, short
from docagent.engine.i18n import phrase
from docagent.engine.plan import Chart, Fmt, Kpis, Model, Table
from docagent.renderers import measure
from docagent.renderers.common import (
    HIGHLIGHT_FILLS,
    model_table,
    owner,
    period_text,
    punctuate,
    split_periods,
    table_data,
)
from docagent.renderers.deck import (
    BODY_H,
    BODY_TOP,
    CELL_CHARS,
    FOOTER_H,
    FOOTER_TOP,
    INSET_X,
    INSET_Y,
    KICKER_H,
    KICKER_TOP,
    MARGIN,
    SLIDE_H,
    SLIDE_W,
    TITLE_H,
    TITLE_TOP,
    WIDTH,
    Line,
    Slide,
    fit_title,
    line_indent,
    line_size,
    mark,
    plan_deck,
    space_before,
    table_pages,
)
from docagent.renderers.fonts import is_cjk
from docagent.renderers.slidecharts import draw_chart, emu, rgb
from docagent.renderers.theme import Theme, templates_dir

QUOTE = {'"': "&quot;"}
SHORTENED = {Fmt.currency, Fmt.number, Fmt.integer, Fmt.compact}
CAPTION_H = 34.0
MAX_TABLE_ROWS = 300  # 25 slides of a table at most; the .xlsx and .docx carry every row
MODEL_PERIODS = 6  # periods of a model on one slide
WIDE_TABLE = 10  # more columns than this split across slides
CELL_PAD_X, CELL_PAD_Y = 5.0, 3.0
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _today(language: str) -> str:
    d = dt.date.today()
    if language[:2] in ("zh", "ja"):
        return f"{d.year}年{d.month}月{d.day}日"
    if language.startswith("en"):
        return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
    return long_date(d, language)


def _xml_text(text: str) -> str:
    """Characters XML 1.0 cannot hold (control characters from data) become spaces."""
    return _CONTROL.sub(" ", text)


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word, with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return head.rstrip(" ,;:") + " …"


class Builder:
    def __init__(self, bound: Bound, theme: Theme) -> None:
        self.bound, self.theme = bound, theme
        self.meta = bound.plan.meta
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = emu(SLIDE_W), emu(SLIDE_H)
        self.deck = plan_deck(bound)
        self.moved = list(self.deck.moved)

    # --- text ---

    def _run(self, p: Any, text: str, size: float, color: str, bold: bool = False, heading: bool = False) -> None:
        run = p.add_run()
        run.text = text
        f = run.font
        f.size, f.bold, f.color.rgb = Pt(size), bold, rgb(color)
        f.name = self.theme.docx_heading_font if heading else self.theme.docx_font
        if any(is_cjk(ch) for ch in text):  # name the East Asian font so viewers pick one that has the glyphs
            ea = parse_xml(f'<a:ea {nsdecls("a")} typeface="{self.theme.docx_east_asia_font}"/>')
            run._r.get_or_add_rPr().get_or_add_latin().addnext(ea)

    def _frame(self, shape: Any, anchor: Any = MSO_ANCHOR.TOP) -> Any:
        tf = shape.text_frame
        tf.word_wrap, tf.auto_size, tf.vertical_anchor = True, MSO_AUTO_SIZE.NONE, anchor
        return tf

    def _box(self, slide: Any, name: str, box: tuple[float, float, float, float], anchor: Any = MSO_ANCHOR.TOP) -> Any:
        shape = slide.shapes.add_textbox(*(emu(v) for v in box))
        shape.name = name  # the QA report and the tests name boxes by role
        return self._frame(shape, anchor)

    def _place(self, shape: Any, x: float, y: float, w: float, h: float) -> None:
        shape.left, shape.top, shape.width, shape.height = emu(x), emu(y), emu(w), emu(h)

    def _rect(self, slide: Any, x: float, y: float, w: float, h: float, fill: str, back: bool = False) -> Any:
        shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, emu(x), emu(y), emu(w), emu(h))
        shape.fill.solid()
        shape.fill.fore_color.rgb = rgb(fill)
        shape.line.fill.background()
        style = shape._element.find(qn("p:style"))
        if style is not None:  # the theme's style adds a shadow LibreOffice draws even under an empty effect list
            shape._element.remove(style)
        if back:  # behind the placeholders the layout put on the slide
            tree = slide.shapes._spTree
            tree.remove(shape._element)
            tree.insert(2, shape._element)
        return shape

    def _title(self, slide: Any, spec: Slide) -> None:
        size, text = fit_title(spec.title)
        if text != spec.title:
            spec.notes.insert(0, mark(spec.title, self.meta.language))
            self.moved.append(f"slide {spec.title!r}: the title was shortened; the full title is in the notes")
        title = slide.shapes.title
        self._place(title, MARGIN, TITLE_TOP, WIDTH, TITLE_H)
        tf = self._frame(title, MSO_ANCHOR.BOTTOM)
        p = tf.paragraphs[0]
        p.alignment = PP_ALIGN.LEFT
        self._run(p, text, size, self.theme.primary, bold=True, heading=True)
        self._rect(slide, MARGIN + INSET_X, TITLE_TOP + TITLE_H + 4, 56, 3, self.theme.accent)
        if spec.kicker:
            kick = self._box(slide, "Kicker", (MARGIN, KICKER_TOP, WIDTH, KICKER_H), MSO_ANCHOR.BOTTOM)
            self._run(kick.paragraphs[0], _cut(spec.kicker, 110), 12, self.theme.accent, bold=True)

    def _lines(self, tf: Any, lines: list[Line], base: float) -> None:
        t = self.theme
        for k, ln in enumerate(lines):
            p = tf.paragraphs[0] if k == 0 else tf.add_paragraph()
            p.space_before = Pt(space_before(ln.style, base))
            indent = line_indent(ln.style)
            if indent:
                p_pr = p._p.get_or_add_pPr()
                p_pr.set("marL", str(int(indent * 12700)))
                p_pr.set("indent", str(int(-indent * 12700)))
                color = f'<a:buClr {nsdecls("a")}><a:srgbClr val="{t.accent.lstrip("#")}"/></a:buClr>'
                p_pr.append(parse_xml(color))
                if ln.style == "number":
                    auto = f'<a:buAutoNum {nsdecls("a")} type="arabicPeriod" startAt="{ln.number}"/>'
                    p_pr.append(parse_xml(auto))
                else:
                    p_pr.append(parse_xml(f'<a:buFont {nsdecls("a")} typeface="Arial"/>'))
                    p_pr.append(parse_xml(f'<a:buChar {nsdecls("a")} char="•"/>'))
            size = line_size(ln.style, base)
            if ln.style == "callout_title":
                self._run(p, ln.text, size, t.accent, bold=True)
            elif ln.style == "subhead":
                self._run(p, ln.text, size, t.primary, bold=True, heading=True)
            else:
                self._run(p, ln.text, size, t.muted if ln.style == "callout" else t.text)

    def _notes(self, slide: Any, notes: list[str]) -> None:
        if notes:
            slide.notes_slide.notes_text_frame.text = "\n\n".join(n for n in notes if n)

    def _new(self, layout: int = 5) -> Any:
        return self.prs.slides.add_slide(self.prs.slide_layouts[layout])

    # --- slides ---

    def title_slide(self, spec: Slide) -> None:
        t, meta = self.theme, self.meta
        slide = self._new(0)
        self._rect(slide, 0, 0, SLIDE_W, 330, t.primary, back=True)
        self._rect(slide, MARGIN + INSET_X, 300, 80, 5, t.accent)
        size, text = fit_title(meta.title, height=150)
        title = slide.shapes.title
        self._place(title, MARGIN, 120, WIDTH - 120, 170)
        tf = self._frame(title, MSO_ANCHOR.BOTTOM)
        tf.paragraphs[0].alignment = PP_ALIGN.LEFT
        self._run(tf.paragraphs[0], text, size * 1.3 if size >= 26 else size, "#FFFFFF", bold=True, heading=True)
        sub = slide.placeholders[1]
        self._place(sub, MARGIN, 346, WIDTH, 110)
        tf = self._frame(sub)
        p = tf.paragraphs[0]
        p.alignment = PP_ALIGN.LEFT
        if meta.subtitle:
            self._run(p, _cut(meta.subtitle, 160), 22, t.text)
            p = tf.add_paragraph()
            p.alignment = PP_ALIGN.LEFT
        self._run(p, " · ".join(x for x in (owner(meta), _today(meta.language)) if x), 16, t.muted)
        logo = self._logo()
        if logo is not None:  # top right on the band, at most 160 x 60 pt
            (data, w, h) = logo
            scale = min(160 / w, 60 / h)
            x = SLIDE_W - MARGIN - w * scale
            slide.shapes.add_picture(io.BytesIO(data), emu(x), emu(MARGIN), emu(w * scale), emu(h * scale))
        self._notes(slide, spec.notes)

    def _logo(self) -> tuple[bytes, float, float] | None:
        """The brand's logo (an image given with the job) or the theme's (a file beside it): bytes and size."""
        name = self.theme.logo
        if not name:
            return None
        given = getattr(self.bound, "images", {}).get(name)  # images given with the job, where supported
        if given is not None:
            return self._raster(given), float(given.width), float(given.height)
        path = Path(name) if Path(name).is_absolute() else templates_dir() / "themes" / name
        if not path.is_file():
            return None
        width, height = PptxImage.from_file(str(path)).size  # the theme's own logo file, sized by python-pptx
        return path.read_bytes(), float(width), float(height)

    def _raster(self, img: Any, width_pt: float = 600.0) -> bytes:
        """PNG or JPEG bytes for python-pptx, which cannot embed SVG: an SVG is rasterised first."""
        if img.kind != "svg":
            return bytes(img.data)
        from docagent.renderers.charts import rasterize_svg  # imports cairosvg: only for a given SVG

        return rasterize_svg(img.data, width_pt / 72)

    def image_slide(self, spec: Slide, block: Any) -> None:
        """An image given with the job, fitted into the body; without one, a labelled placeholder box
        at the requested aspect ratio, drawn as a native shape a presenter can replace."""
        t = self.theme
        slide = self._new()
        self._title(slide, spec)
        box_w, box_h = WIDTH * float(getattr(block, "width", 1.0)), BODY_H - CAPTION_H - 6
        img = getattr(self.bound, "images", {}).get(block.source) if block.source else None
        if img is not None:
            ratio = float(img.width) / float(img.height)
        else:
            a, b = (float(x) for x in (getattr(block, "aspect", None) or "16:9").split(":"))
            ratio = a / b
        w = min(box_w, box_h * ratio)
        h = w / ratio
        x, y = MARGIN + (WIDTH - w) / 2, BODY_TOP + (box_h - h) / 2
        if img is not None:
            pic = slide.shapes.add_picture(io.BytesIO(self._raster(img, w)), emu(x), emu(y), emu(w), emu(h))
            pic._element.nvPicPr.cNvPr.set("descr", block.alt)  # the alt text, for screen readers
        else:
            box = self._rect(slide, x, y, w, h, t.band_fill)
            box.name = "Image placeholder"
            box.line.color.rgb, box.line.width = rgb(t.muted), Pt(1.25)
            box.line.dash_style = MSO_LINE_DASH_STYLE.DASH
            tf = self._frame(box, MSO_ANCHOR.MIDDLE)
            tf.paragraphs[0].alignment = PP_ALIGN.CENTER
            self._run(tf.paragraphs[0], _cut(block.alt, 200), 16, t.muted)
        # the caption (or the alt text) is the slide's title; the notes say both
        self._notes(slide, [*spec.notes, block.alt, self.bound.text(block.caption) if block.caption else ""])

    def text_slide(self, spec: Slide) -> None:
        slide = self._new()
        self._title(slide, spec)
        tf = self._box(slide, "Body", (MARGIN, BODY_TOP, WIDTH, BODY_H))
        self._lines(tf, spec.lines, spec.size)
        self._notes(slide, spec.notes)

    def section_slide(self, spec: Slide) -> None:
        slide = self._new()
        self._rect(slide, 0, 0, 18, SLIDE_H, self.theme.primary, back=True)
        size, text = fit_title(spec.title, height=160)
        title = slide.shapes.title
        self._place(title, MARGIN + 20, 150, WIDTH - 20, 170)
        tf = self._frame(title, MSO_ANCHOR.BOTTOM)
        tf.paragraphs[0].alignment = PP_ALIGN.LEFT  # the layout centres titles; ours line up with the rule below
        self._run(tf.paragraphs[0], text, size * 1.25 if size >= 26 else size, self.theme.primary, True, True)
        self._rect(slide, MARGIN + 20 + INSET_X, 332, 80, 4, self.theme.accent)
        self._notes(slide, spec.notes)

    def kpi_slide(self, spec: Slide, block: Kpis) -> None:
        t = self.theme
        slide = self._new()
        self._title(slide, spec)
        labels = {m.name: m.label for m in self.bound.plan.metrics}
        items = [
            (self.bound.metric_text.get(k.metric, "–"), k.label or labels.get(k.metric, k.metric)) for k in block.items
        ]
        n = len(items)
        cols = n if n <= 3 else (2 if n == 4 else 3)
        rows = math.ceil(n / cols)
        gap = 24.0
        card_w = (WIDTH - gap * (cols - 1)) / cols
        card_h = min(190.0, (BODY_H - gap * (rows - 1)) / rows)
        top = BODY_TOP + (BODY_H - rows * card_h - gap * (rows - 1)) / 2
        inner = card_w - 2 * INSET_X - 8
        # one size for every figure on the slide, the largest at which the widest fits on one line;
        # figures too long to be big are shown short ($2.1M), the exact ones stay in the notes
        full = list(items)
        fits = lambda size: all(measure.width(v, size, True) <= inner for v, _ in items)  # noqa: E731
        if not fits(40):
            items = [(self._short(k.metric, v), label) for k, (v, label) in zip(block.items, items, strict=True)]
        vsize = next((s for s in (54, 46, 40, 34, 28, 24, 20) if fits(s)), 16)
        for k, (value, label) in enumerate(items):
            r, c = divmod(k, cols)
            x, y = MARGIN + c * (card_w + gap), top + r * (card_h + gap)
            card = self._rect(slide, x, y, card_w, card_h, t.band_fill)
            card.name = f"KPI {k + 1}"
            self._rect(slide, x, y, card_w, 5, t.accent)
            lsize = 16.0
            for lsize in (18.0, 16.0, 14.0, 12.0):
                need = measure.lines_height(len(measure.wrap(label, inner, lsize)), lsize) + vsize * measure.LINE
                if need <= card_h - 2 * INSET_Y - 8:
                    break
            tf = self._frame(card, MSO_ANCHOR.MIDDLE)
            p = tf.paragraphs[0]
            p.alignment = PP_ALIGN.CENTER
            self._run(p, value, vsize, t.primary, bold=True)
            p = tf.add_paragraph()
            p.alignment = PP_ALIGN.CENTER
            self._run(p, label, lsize, t.muted)
        self._notes(slide, [*spec.notes, *(f"{label}: {value}" for value, label in full)])

    def _short(self, metric: str, shown: str) -> str:
        """A large figure in short form, with its currency symbol: 2,130,607.58 -> $2.1M."""
        value = self.bound.metrics.get(metric)
        fmt = next((m.format for m in self.bound.plan.metrics if m.name == metric), None)
        if not isinstance(value, int | float) or abs(value) < 10_000 or fmt not in SHORTENED:
            return shown
        return short(value, fmt, self.meta.currency, self.meta.language)

    def _caption(self, slide: Any, block: Table | Chart, notes: list[str]) -> None:
        src = self.bound.source_of(block)
        text = phrase(self.meta.language, "space").join(
            x
            for x in (
                self.bound.text(block.caption) if block.caption else "",
                punctuate(period_text(block, self.bound) or "", self.meta.language),
                punctuate(phrase(self.meta.language, "source", source=src), self.meta.language) if src else "",
            )
            if x
        )
        if not text:
            return
        notes.append(text)
        avail = WIDTH - 2 * INSET_X
        if measure.lines_height(len(measure.wrap(text, avail, 12)), 12) > CAPTION_H - 2 * INSET_Y:
            parts, shown = measure.sentences(text), ""
            for k in range(1, len(parts)):
                trial = " ".join(parts[:k])
                if measure.lines_height(len(measure.wrap(trial, avail, 12)), 12) > CAPTION_H - 2 * INSET_Y:
                    break
                shown = trial
            self.moved.append(f"slide {block.title!r}: part of the caption went to the speaker notes")
            notes[-1] = mark(text, self.meta.language)
            text = shown
        if text:
            tf = self._box(
                slide, "Caption", (MARGIN, BODY_TOP + BODY_H - CAPTION_H, WIDTH, CAPTION_H), MSO_ANCHOR.BOTTOM
            )
            self._run(tf.paragraphs[0], text, 12, self.theme.muted)

    def chart_slide(self, spec: Slide, i: int, block: Chart) -> None:
        slide = self._new()
        self._title(slide, spec)
        draw_chart(slide, block, self.bound, i, self.theme, (MARGIN, BODY_TOP, WIDTH, BODY_H - CAPTION_H - 6))
        self._caption(slide, block, spec.notes)
        self._notes(slide, spec.notes)

    def table_slides(self, spec: Slide, i: int, block: Table) -> None:
        """Pages of at most TABLE_ROWS rows with the header repeated; a wide table also splits its columns,
        repeating the first (the row's key)."""
        data = table_data(block, self.bound, i)
        rows = data.rows[:MAX_TABLE_ROWS]
        body = [*rows, *([data.totals] if data.totals else [])]
        notes = list(spec.notes)
        if len(data.rows) > MAX_TABLE_ROWS:
            shown = phrase(
                self.meta.language,
                "slide_rows",
                shown=format_value(MAX_TABLE_ROWS, language=self.meta.language),
                total=format_value(len(data.rows), language=self.meta.language),
            )
            notes.append(mark(shown, self.meta.language))
            self.moved.append(f"slide {spec.title!r}: {shown[:-1].lower()}; the .xlsx and .docx hold them all")
        cut_notes = []
        for row in body:
            for k, cell in enumerate(row):
                if len(cell) > CELL_CHARS:
                    row[k] = _cut(cell, CELL_CHARS)
                    cut_notes.append(cell)
        if cut_notes:
            self.moved.append(f"slide {spec.title!r}: {len(cut_notes)} long cells shortened; full text in the notes")
            notes += [mark(c, self.meta.language) for c in cut_notes]
        bold = {n for n in data.emphasis if n < len(rows)} | ({len(body) - 1} if data.totals else set())
        fills = {cell: style for cell, style in data.fills.items() if cell[0] < len(rows)}
        self.grid_slides(spec, data.header, body, data.numeric, bold, notes, block, fills)

    def grid_slides(
        self,
        spec: Slide,
        head: list[str],
        body: list[list[str]],
        numeric_cols: list[bool],
        bold: set[int],
        notes: list[str],
        block: Table | None = None,
        fills: dict[tuple[int, int], str] | None = None,
    ) -> None:
        """Rows on slides of at most TABLE_ROWS with the header repeated; more than WIDE_TABLE columns
        also split across slides, repeating the first (the row's key). `bold`: indexes into body."""
        n_cols = len(head)
        groups = [list(range(n_cols))] if n_cols <= WIDE_TABLE else column_groups(n_cols)
        pages = []
        for cols in groups:
            pick = lambda row, cols=cols: [row[c] for c in cols]  # noqa: E731
            layout = table_layout(pick(head), [pick(r) for r in body])
            for start, end in table_pages(len(body), layout.heights, BODY_H - CAPTION_H - 6 - layout.header_h):
                marked = {r - start + 1 for r in bold if start <= r < end}
                coloured = {
                    (r - start + 1, cols.index(c)): HIGHLIGHT_FILLS[style]
                    for (r, c), style in (fills or {}).items()
                    if start <= r < end and c in cols
                }
                pages.append((cols, layout, pick(head), [pick(r) for r in body[start:end]], marked, coloured))
        for n, (cols, layout, header, page_rows, marked, coloured) in enumerate(pages, 1):
            page = Slide("table", spec.title, spec.kicker)
            if len(pages) > 1:
                page.title = f"{spec.title} ({n}/{len(pages)})"
            if len(groups) > 1:
                notes_here = [
                    phrase(self.meta.language, "slide_columns", first=cols[1] + 1, last=cols[-1] + 1, n=n_cols),
                    *notes,
                ]
            else:
                notes_here = list(notes)
            slide = self._new()
            self._title(slide, page)
            numeric = [numeric_cols[c] for c in cols]
            self._table(slide, [header, *page_rows], layout, numeric, marked, coloured)
            if block is not None:
                self._caption(slide, block, notes_here)
            if n == 1:  # the notes of a table are said once, on its first slide
                self._notes(slide, notes_here)

    def _table(
        self,
        slide: Any,
        rows: list[list[str]],
        layout: TableLayout,
        numeric: list[bool],
        strong: set[int],
        coloured: dict[tuple[int, int], str] | None = None,
    ) -> None:
        """The table's rows are written as DrawingML in one piece: python-pptx's cell proxies cost a
        few milliseconds per cell, which a 300-row table multiplies into seconds."""
        t = self.theme
        height = layout.header_h + sum(layout.heights[: len(rows) - 1])
        frame = slide.shapes.add_table(len(rows), len(rows[0]), emu(MARGIN), emu(BODY_TOP), emu(WIDTH), emu(height))
        tbl = frame.table
        tbl.horz_banding = False
        for c, w in enumerate(layout.widths):
            tbl.columns[c].width = emu(w)
        pad_x, pad_y = int(CELL_PAD_X * 12700), int(CELL_PAD_Y * 12700)
        size = int(layout.size * 100)
        font = f'<a:latin typeface="{escape(t.docx_font, QUOTE)}"/>'
        east_asia = f'<a:ea typeface="{escape(t.docx_east_asia_font, QUOTE)}"/>'
        out = []
        for r, row in enumerate(rows):
            last = r in strong  # a totals row: bold, never banded
            fill = t.header_fill if r == 0 else (t.band_fill if r % 2 == 0 and not last else "#FFFFFF")
            color = (t.header_text if r == 0 else t.text).lstrip("#")
            bold = ' b="1"' if r == 0 or last else ""
            h = int((layout.header_h if r == 0 else layout.row_h(row)) * 12700)
            cells = []
            for c, text in enumerate(row):
                cell_fill = (coloured or {}).get((r, c), fill)  # the plan's highlight rules, as in the report
                align = "r" if numeric[c] and r > 0 else "l"
                ea = east_asia if any(is_cjk(ch) for ch in text) else ""
                cells.append(
                    f'<a:tc><a:txBody><a:bodyPr/><a:lstStyle/><a:p><a:pPr algn="{align}"/>'
                    f'<a:r><a:rPr lang="{self.meta.language}" sz="{size}"{bold} dirty="0">'
                    f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill>{font}{ea}</a:rPr>'
                    f"<a:t>{escape(_xml_text(text))}</a:t></a:r></a:p></a:txBody>"
                    f'<a:tcPr marL="{pad_x}" marR="{pad_x}" marT="{pad_y}" marB="{pad_y}" anchor="ctr">'
                    f'<a:solidFill><a:srgbClr val="{cell_fill.lstrip("#")}"/></a:solidFill></a:tcPr></a:tc>'
                )
            out.append(f'<a:tr h="{h}">{"".join(cells)}</a:tr>')
        tbl_el = tbl._tbl
        for tr in tbl_el.findall(qn("a:tr")):
            tbl_el.remove(tr)
        for tr in parse_xml(f"<a:tbl {nsdecls('a')}>{''.join(out)}</a:tbl>").findall(qn("a:tr")):
            tbl_el.append(tr)

    def model_slides(self, spec: Slide, i: int) -> None:
        """A financial model: its assumptions, then its rows over the periods (a few periods a slide)."""
        data = model_table(self.bound, i)
        if data.assumptions:
            rows = [[a, v, n] for a, v, n in data.assumptions]
            assumptions = phrase(self.meta.language, "assumptions")
            page = Slide("table", f"{spec.title}: {assumptions}", spec.kicker)
            self.grid_slides(page, [assumptions, "", ""], rows, [False, True, False], set(), [])
        for part in split_periods(data, MODEL_PERIODS):
            rows = [[label, *values] for label, values, _ in part.rows]
            bold = {k for k, (_, _, style) in enumerate(part.rows) if style in ("total", "subtotal")}
            numeric = [False] + [True] * (len(part.header) - 1)
            self.grid_slides(Slide("table", spec.title, spec.kicker), part.header, rows, numeric, bold, [])

    def other_slide(self, spec: Slide, block: Any) -> None:
        """A block type this renderer has no layout for: its content as text, never dropped."""
        slide = self._new()
        self._title(slide, spec)
        fields = block.model_dump(exclude_none=True, exclude={"type"}) if hasattr(block, "model_dump") else {}
        lines = [Line(f"{k}: {v}", "bullet") for k, v in fields.items() if v not in ([], {}, "")]
        probe = Slide("text", spec.title, lines=lines)
        from docagent.renderers.deck import fit_lines

        moved = fit_lines(probe, self.meta.language)
        if moved:
            self.moved.append(moved)
        tf = self._box(slide, "Body", (MARGIN, BODY_TOP, WIDTH, BODY_H))
        self._lines(tf, probe.lines, probe.size)
        self._notes(slide, probe.notes)

    def _theme_part(self) -> None:
        """The deck's own theme carries the brand: accents from the palette, dark 2 the primary colour,
        and the heading and body fonts, so what a user adds in PowerPoint matches."""
        part = self.prs.slide_master.part.part_related_by(RT.THEME)
        root = etree.fromstring(part.blob)
        scheme = root.find(f".//{qn('a:clrScheme')}")
        t = self.theme
        colours = {"dk2": t.primary, **{f"accent{k + 1}": c for k, c in enumerate(t.palette[:6])}}
        for name, colour in colours.items():
            slot = scheme.find(qn(f"a:{name}"))
            for child in list(slot):
                slot.remove(child)
            etree.SubElement(slot, qn("a:srgbClr"), val=colour.lstrip("#").upper())
        for which, font in (("a:majorFont", t.docx_heading_font), ("a:minorFont", t.docx_font)):
            root.find(f".//{qn(which)}/{qn('a:latin')}").set("typeface", font)
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def build(self) -> Any:
        self._theme_part()
        blocks = self.bound.plan.blocks
        for spec in self.deck.slides:
            b = blocks[spec.block] if spec.block is not None else None
            match spec.kind:
                case "title":
                    self.title_slide(spec)
                case "agenda" | "text":
                    self.text_slide(spec)
                case "section":
                    self.section_slide(spec)
                case "kpis" if isinstance(b, Kpis):
                    self.kpi_slide(spec, b)
                case "chart" if isinstance(b, Chart):
                    self.chart_slide(spec, spec.block or 0, b)
                case "table" if isinstance(b, Table):
                    self.table_slides(spec, spec.block or 0, b)
                case "image" if b is not None:
                    self.image_slide(spec, b)
                case "model" if isinstance(b, Model):
                    self.model_slides(spec, spec.block or 0)
                case _:
                    self.other_slide(spec, b)
        self._footers()
        props = self.prs.core_properties
        props.title, props.author = self.meta.title, owner(self.meta)
        props.subject, props.language = self.meta.subtitle or "", self.meta.language
        return self.prs

    def _footers(self) -> None:
        total = len(self.prs.slides)
        for n, slide in enumerate(self.prs.slides, 1):
            if n == 1:
                continue
            left = self._box(slide, "Footer", (MARGIN, FOOTER_TOP, WIDTH - 80, FOOTER_H), MSO_ANCHOR.BOTTOM)
            self._run(left.paragraphs[0], _cut(self.meta.title, 90), 10, self.theme.muted)
            right = self._box(
                slide, "Slide number", (SLIDE_W - MARGIN - 80, FOOTER_TOP, 80, FOOTER_H), MSO_ANCHOR.BOTTOM
            )
            right.paragraphs[0].alignment = PP_ALIGN.RIGHT
            self._run(right.paragraphs[0], f"{n} / {total}", 10, self.theme.muted)


class TableLayout:
    """Font size, column widths and row heights of a table measured with the font's metrics."""

    def __init__(self, size: float, widths: list[float], header_h: float, heights: list[float]) -> None:
        self.size, self.widths, self.header_h, self.heights = size, widths, header_h, heights
        self._by_row: dict[tuple[str, ...], float] = {}

    def row_h(self, row: list[str]) -> float:
        return self._by_row.get(tuple(row), self.heights[0] if self.heights else self.header_h)


def column_groups(n: int, per_slide: int = 7) -> list[list[int]]:
    """The first column, then the others `per_slide` at a time."""
    return [[0, *range(k, min(k + per_slide, n))] for k in range(1, n, per_slide)]


def _cell_h(text: str, w: float, size: float, bold: bool = False) -> float:
    n = len(measure.wrap(text, w - 2 * CELL_PAD_X, size, bold))
    return measure.lines_height(n, size) + 2 * CELL_PAD_Y


def table_layout(header: list[str], body: list[list[str]]) -> TableLayout:
    n = len(header)
    size = 16.0 if n <= 5 else 14.0 if n <= 7 else 12.0 if n <= 10 else 10.0
    natural = [
        max([measure.width(header[c], size, True), *(measure.width(r[c], size) for r in body)]) + 2 * CELL_PAD_X + 2
        for c in range(n)
    ]
    total = sum(natural)
    if total <= WIDTH:  # some spare width to every column; a narrow table is not stretched across the slide
        target = min(WIDTH, max(total * 1.35, WIDTH * 0.6))
        widths = [w + (target - total) / n for w in natural]
    else:  # too wide: narrow the wide columns, their text wraps
        fair = WIDTH / n
        narrow = sum(w for w in natural if w <= fair)
        wide = total - narrow
        widths = [w if w <= fair else w * (WIDTH - narrow) / wide for w in natural]
    header_h = max(_cell_h(h, w, size, True) for h, w in zip(header, widths, strict=True))
    heights = [max(_cell_h(c, w, size) for c, w in zip(r, widths, strict=True)) for r in body]
    layout = TableLayout(size, widths, header_h, heights)
    layout._by_row = {tuple(r): h for r, h in zip(body, heights, strict=True)}
    return layout


def render_pptx(bound: Bound, theme: Theme, path: Path) -> list[str]:
    """Write the deck; returns what did not fit where it belonged (the QA pass finds it in the deck too)."""
    builder = Builder(bound, theme)
    builder.build().save(str(path))
    return builder.moved


__all__ = ["Builder", "render_pptx"]
