"""The .pdf renderer (ReportLab Platypus): cover block, contents, vector charts, long tables."""

from __future__ import annotations

import io
from bisect import bisect_right
from itertools import accumulate
from pathlib import Path
from typing import Any, assert_never
from xml.sax.saxutils import escape

from reportlab.graphics import renderPDF
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    LongTable,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Image as RLImage
from reportlab.platypus import Table as RLTable
from reportlab.platypus.tableofcontents import TableOfContents
from reportlab.platypus.tables import CellStyle
from svglib.fonts import register_font
from svglib.svglib import svg2rlg

from docagent.engine.bind import Bound
from docagent.engine.i18n import cjk, phrase
from docagent.engine.plan import Block, Bullets, Callout, Chart, Heading, Image, Kpis, Model, Table
from docagent.engine.plan import PageBreak as PlanPageBreak
from docagent.engine.plan import Paragraph as PlanParagraph
from docagent.engine.planfile import plan_hash
from docagent.renderers import measure
from docagent.renderers.charts import LOGO, ChartImage
from docagent.renderers.common import (
    HIGHLIGHT_FILLS,
    MAX_PLAIN_PAGES,
    WIDE_COLUMNS,
    Front,
    all_text,
    by_length,
    caption,
    contents_title,
    front_matter,
    image_caption,
    kpi_label,
    kpi_texts,
    model_table,
    numbering,
    owner,
    split_periods,
    table_data,
)
from docagent.renderers.fonts import find_fonts
from docagent.renderers.theme import Theme

MARGIN = 18 * mm
PLAIN_CELL_CHARS = 18
PAGED_ROWS = 60  # a table longer than this splits itself page by page (PagedTable)
MEASURE_ROWS = 250  # rows measured per ReportLab table
FRAME_HEIGHTS = (A4[1] - 2 * MARGIN - 6 * mm, landscape(A4)[1] - 2 * MARGIN - 6 * mm)  # portrait, landscape


def _register_fonts(with_cjk: bool = True) -> tuple[TTFont, TTFont | None]:
    fonts = find_fonts()
    if "DocSans" not in pdfmetrics.getRegisteredFontNames():
        # registered through svglib, which maps the family a chart's SVG names to our (embedded) fonts
        register_font(fonts.regular.family, str(fonts.regular.path), rlgFontName="DocSans")
        register_font(fonts.regular.family, str(fonts.bold.path), weight="bold", rlgFontName="DocSans-Bold")
        pdfmetrics.registerFontFamily(
            "DocSans", normal="DocSans", bold="DocSans-Bold", italic="DocSans", boldItalic="DocSans-Bold"
        )
    if with_cjk and fonts.cjk is not None and "DocCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DocCJK", str(fonts.cjk.path), subfontIndex=fonts.cjk.index))
    latin = pdfmetrics.getFont("DocSans")
    cjk = pdfmetrics.getFont("DocCJK") if "DocCJK" in pdfmetrics.getRegisteredFontNames() else None
    return latin, cjk


def needs_cjk(bound: Bound) -> bool:
    """Whether some text needs a glyph DejaVu lacks: the CJK font (over 1 s to read) is loaded only then."""
    latin = set(_register_fonts(with_cjk=False)[0].face.charToGlyph)
    return cjk(bound.plan.meta.language) or any(
        ord(ch) not in latin and not ch.isspace() for text in all_text(bound) for ch in text
    )


def _drawing(svg: bytes) -> Any:
    """An SVG as a ReportLab drawing whose initial font is ours (its default is unembedded Helvetica)."""
    # svglib knows the weights normal and bold; matplotlib writes a bold title's as 700
    drawing = svg2rlg(io.BytesIO(svg.replace(b"font-weight: 700", b"font-weight: bold")))
    if drawing is not None:
        drawing.initialFontName = "DocSans"
    return drawing


class Markup:
    """Escape text for Paragraph and switch to the CJK font per run of glyphs DejaVu lacks."""

    def __init__(self, with_cjk: bool = True) -> None:
        latin, cjk = _register_fonts(with_cjk)
        self.latin = set(latin.face.charToGlyph)
        self.cjk = set(cjk.face.charToGlyph) if cjk else set()

    def __call__(self, text: str) -> str:
        out: list[str] = []
        run: list[str] = []
        in_cjk = False
        for ch in text:
            use_cjk = ord(ch) not in self.latin and ord(ch) in self.cjk
            if use_cjk != in_cjk and run:
                chunk = escape("".join(run))
                out.append(f'<font name="DocCJK">{chunk}</font>' if in_cjk else chunk)
                run = []
            in_cjk = use_cjk
            run.append(ch)
        if run:
            chunk = escape("".join(run))
            out.append(f'<font name="DocCJK">{chunk}</font>' if in_cjk else chunk)
        return "".join(out).replace("\n", "<br/>")


def _style(commands: list[Any]) -> TableStyle:
    """A table style that names our font first: ReportLab sets every cell's font, Helvetica by
    default, even for cells holding Paragraphs, and the PDF would then list it unembedded."""
    return TableStyle([("FONT", (0, 0), (-1, -1), "DocSans"), *commands])


def _rows_of(command: tuple[Any, ...], n: int) -> tuple[int, int]:
    """The first and last row a style command covers, negative indices resolved against n rows."""
    (_, r0), (_, r1) = command[1], command[2]
    return (r0 + n if r0 < 0 else r0), (r1 + n if r1 < 0 else r1)


# Style commands ReportLab applies to each cell of their range (the rest draw backgrounds and lines)
CELL_OPS = frozenset(
    {"FONT", "FONTNAME", "FACE", "SIZE", "FONTSIZE", "LEADING", "TEXTCOLOR", "ALIGN", "ALIGNMENT", "VALIGN"}
    | {"LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING", "HREF", "DESTINATION", "DIRECTION", "SHAPING"}
)


def chunk_commands(commands: list[tuple[Any, ...]], n: int, start: int, stop: int) -> list[tuple[Any, ...]]:
    """A table's style commands for the piece that holds its header row and rows start..stop-1 of n.

    Rows are renumbered (row `start` becomes row 1); a command that covers no row of the piece is dropped,
    and banded backgrounds keep their phase so the bands run on across pages.
    """
    out = []
    for cmd in commands:
        r0, r1 = _rows_of(cmd, n)
        (c0, _), (c1, _) = cmd[1], cmd[2]
        head = r0 == 0  # the header row is in every piece
        lo, hi = max(r0, start), min(r1, stop - 1)
        body = lo <= hi
        if cmd[0] == "ROWBACKGROUNDS":
            fills = list(cmd[3])
            if head:
                out.append((cmd[0], (c0, 0), (c1, 0), fills))
            if body and fills:
                k = (lo - r0) % len(fills)
                out.append((cmd[0], (c0, lo - start + 1), (c1, hi - start + 1), fills[k:] + fills[:k]))
        elif head and (body or r1 < start):
            # one command over header and body (a BOX stays one box); header only when its body lies before
            out.append((cmd[0], (c0, 0), (c1, hi - start + 1 if body else 0), *cmd[3:]))
        elif head or body:
            out.append((cmd[0], (c0, 0 if head else lo - start + 1), (c1, 0 if head else hi - start + 1), *cmd[3:]))
    return out


class _Piece(RLTable):
    """One page's rows of a PagedTable; not drawn while the document only lays out its pages."""

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        if not getattr(getattr(canvas, "_doctemplate", None), "layout_pass", False):
            super().drawOn(canvas, x, y, _sW)


class PagedTable(Flowable):
    """A long table that splits itself a page at a time, in time linear in its rows.

    ReportLab's own split builds the remaining rows into a new table and measures them all again at every
    page break, so a table of n rows cost O(n^2) (8,000 rows: 17 s). Here every row is measured once; a
    break builds a table of only the rows that fit, and the rest stays a PagedTable over the same rows.
    Row 0 is the header, repeated on every page.
    """

    def __init__(
        self,
        rows: list[list[Any]],
        widths: list[float],
        style: TableStyle,
        frame_height: float,
        span: tuple[int, int] | None = None,
        measured: tuple[list[float], list[float]] | None = None,
        cell_styles: list[list[CellStyle]] | None = None,
    ) -> None:
        super().__init__()
        self.rows, self.widths, self.style, self.frame_height = rows, widths, style, frame_height
        self.start, self.stop = span or (1, len(rows))
        self.measured = measured  # each row's height, and tops; shared by every piece
        self.cell_styles = cell_styles  # each cell's font, colour, alignment and padding; shared too
        self.hAlign = "CENTER"  # as a Table

    def _rest(self, start: int) -> PagedTable:
        """The rows from `start` on, sharing what was measured and styled."""
        return PagedTable(
            self.rows, self.widths, self.style, self.frame_height, (start, self.stop), self.measured, self.cell_styles
        )

    def _styles(self) -> list[list[CellStyle]]:
        if self.cell_styles is None:
            # once for the whole table: a piece given its commands applies each to every one of its cells again
            ops = [c for c in self.style.getCommands() if c[0] in CELL_OPS]
            self.cell_styles = RLTable(self.rows, colWidths=self.widths, style=TableStyle(ops))._cellStyles
        return self.cell_styles

    def _measure(self) -> tuple[list[float], list[float]]:
        if self.measured is None:
            # in blocks: ReportLab looks for each unmeasured row from the top, so one whole table is O(n^2)
            header, body = 0.0, []
            for start in range(1, len(self.rows), MEASURE_ROWS):
                block = self._piece(start, min(start + MEASURE_ROWS, len(self.rows)), measure=True)
                block.wrap(sum(self.widths), 1e9)
                header, *rows = block._rowHeights  # where ReportLab keeps what it measured
                body += rows
            heights = [header, *body]
            # tops[i]: the height of rows 1..i-1 (tops[0] is the header's own)
            self.measured = heights, [heights[0], *accumulate(heights[1:], initial=0.0)]
        return self.measured

    def _heights(self) -> list[float]:
        return self._measure()[1]

    def _height(self, start: int, stop: int) -> float:
        tops = self._heights()
        return tops[0] + tops[stop] - tops[start]

    def _piece(self, start: int, stop: int, split_in_row: bool = False, measure: bool = False) -> RLTable:
        rows = [self.rows[0], *self.rows[start:stop]]
        known = None
        if not (split_in_row or measure):
            heights = self._measure()[0]
            known = [heights[0], *heights[start:stop]]  # measured once, not again
        styles = self._styles()
        tbl = _Piece(
            rows,
            colWidths=self.widths,
            rowHeights=known,
            repeatRows=1,
            splitInRow=int(split_in_row),
            cellStyles=[styles[0], *styles[start:stop]],  # shared, as ReportLab's own split shares them
        )
        drawn = [c for c in self.style.getCommands() if c[0] not in CELL_OPS]  # backgrounds and lines
        tbl.setStyle(TableStyle(chunk_commands(drawn, len(self.rows), start, stop)))
        return tbl

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = sum(self.widths), self._height(self.start, self.stop)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        tops = self._heights()
        # the last row whose foot is within reach: tops[k] is the foot of row k-1
        k = min(self.stop, bisect_right(tops, availHeight - tops[0] + tops[self.start], self.start + 1) - 1)
        if k > self.start:
            rest = [self._rest(k)]
            return [self._piece(self.start, k), *(rest if k < self.stop else [])]
        if self._height(self.start, self.start + 1) <= self.frame_height:
            return []  # the next row fits on a fresh page: go there
        # one row taller than a page: ReportLab splits inside it
        parts = self._piece(self.start, self.start + 1, split_in_row=True).split(availWidth, availHeight)
        if not parts or self.start + 1 == self.stop:
            return parts
        return [*parts, self._rest(self.start + 1)]

    def drawOn(self, canvas: Canvas, x: float, y: float, _sW: float = 0) -> None:
        tbl = self._piece(self.start, self.stop)  # a _Piece: skipped on a layout pass
        tbl.wrapOn(canvas, self.width, self.height)
        tbl.drawOn(canvas, x, y, _sW)


def long_table(rows: list[list[Any]], widths: list[float], style: TableStyle, landscape_page: bool) -> Flowable:
    """A data table, header repeated on each page; a long one as a PagedTable."""
    if len(rows) <= PAGED_ROWS:
        tbl = LongTable(rows, colWidths=widths, repeatRows=1, splitInRow=1)
        tbl.setStyle(style)
        return tbl
    return PagedTable(rows, widths, style, FRAME_HEIGHTS[landscape_page])


class _LongerThan(Exception):
    """Raised by a build given a page limit as soon as a page past it begins."""


class _Doc(BaseDocTemplate):
    layout_pass = False  # the first of multiBuild's passes, which only finds the contents' page numbers

    def __init__(
        self,
        buf: io.BytesIO,
        bound: Bound,
        theme: Theme,
        logo: ChartImage | None = None,
        page_limit: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(buf, **kw)
        self.page_limit = page_limit
        self.setProgressCallBack(self._progress)
        self.bound, self.theme, self.logo = bound, theme, logo
        self.markup = Markup(with_cjk=False)  # contents switch fonts like their headings
        portrait = Frame(MARGIN, MARGIN, A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN - 6 * mm, id="p")
        lw, lh = landscape(A4)
        wide = Frame(MARGIN, MARGIN, lw - 2 * MARGIN, lh - 2 * MARGIN - 6 * mm, id="l")
        self.addPageTemplates(
            [
                PageTemplate("portrait", [portrait], onPage=self._decorate, pagesize=A4),
                PageTemplate("landscape", [wide], onPage=self._decorate, pagesize=landscape(A4)),
            ]
        )

    def _progress(self, event: str, value: int) -> None:
        if event == "PASS":  # with a contents page the first pass is never the last: its pages are discarded
            self.layout_pass = value == 1 and bool(self._indexingFlowables)

    def beforePage(self) -> None:
        if self.page_limit is not None and self.page > self.page_limit:
            raise _LongerThan  # the rest of this build would be drawn for nothing

    def _allSatisfied(self) -> bool:
        return not self.layout_pass and bool(super()._allSatisfied())  # a pass that skipped drawing is redone

    def afterFlowable(self, flowable: Flowable) -> None:
        level = getattr(flowable, "_toc_level", None)
        if level is not None:
            key = f"h{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.getPlainText(), key, level=level, closed=level > 0)
            self.notify("TOCEntry", (level, self.markup(flowable.getPlainText()), self.page, key))

    def _decorate(self, canv: Canvas, doc: Any) -> None:
        w, h = canv._pagesize
        t, meta = self.theme, self.bound.plan.meta
        canv.saveState()
        canv.setStrokeColor(colors.HexColor(t.primary))
        canv.setLineWidth(0.6)
        canv.line(MARGIN, h - MARGIN + 2 * mm, w - MARGIN, h - MARGIN + 2 * mm)
        canv.setFont("DocSans", 8)
        canv.setFillColor(colors.HexColor(t.muted))
        head = t.header_text_left.format(title=meta.title, author=owner(meta))
        _draw_mixed(canv, MARGIN, h - MARGIN + 3.5 * mm, head[:110])
        foot = t.footer_text_left.format(title=meta.title, author=owner(meta))
        _draw_mixed(canv, MARGIN, MARGIN - 8 * mm, foot[:80])
        if self.logo is not None:  # above the header rule, flush right; 8 mm high
            lh = 8 * mm
            lw = lh * self.logo.width_in / self.logo.height_in
            x, y = w - MARGIN - lw, h - MARGIN + 3 * mm
            if self.logo.svg:
                drawing = _drawing(self.logo.svg)
                if drawing is not None:
                    drawing.scale(lw / drawing.width, lh / drawing.height)
                    renderPDF.draw(drawing, canv, x, y)
            else:
                canv.drawImage(ImageReader(io.BytesIO(self.logo.png)), x, y, lw, lh, mask="auto")
        canv.restoreState()


def _draw_mixed(canv: Canvas, x: float, y: float, text: str) -> None:
    """drawString with a per-glyph switch to the CJK font (headers and footers)."""
    latin = set(pdfmetrics.getFont("DocSans").face.charToGlyph)
    has_cjk = "DocCJK" in pdfmetrics.getRegisteredFontNames()
    size = 8
    runs: list[tuple[str, str]] = []
    for ch in text:
        font = "DocCJK" if has_cjk and ord(ch) not in latin else "DocSans"
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    for font, chunk in runs:
        canv.setFont(font, size)
        canv.drawString(x, y, chunk)
        x += pdfmetrics.stringWidth(chunk, font, size)


class _NumberedCanvas(Canvas):
    """Defers each page so the footer can say 'page X of Y'."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            w, _ = self._pagesize
            self.setFont("DocSans", 8)
            self.setFillColor(colors.HexColor("#6B7280"))
            self.drawRightString(w - MARGIN, MARGIN - 8 * mm, f"{self._pageNumber} / {total}")
            super().showPage()
        super().save()


def _styles(t: Theme, language: str) -> dict[str, ParagraphStyle]:
    cjk = language[:2] in ("zh", "ja", "ko")
    base = ParagraphStyle(
        "body",
        wordWrap="CJK" if cjk else None,
        fontName="DocSans",
        fontSize=t.font_size,
        leading=t.font_size * 1.45,
        textColor=colors.HexColor(t.text),
        spaceAfter=6,
    )
    h = [
        ParagraphStyle(
            f"h{i + 1}",
            parent=base,
            fontName="DocSans-Bold",
            fontSize=size,
            leading=size * 1.25,
            textColor=colors.HexColor(t.primary),
            spaceBefore=12 if i else 16,
            spaceAfter=6,
            keepWithNext=1,
        )
        for i, size in enumerate(t.heading_sizes)
    ]
    return {
        "body": base,
        "h1": h[0],
        "h2": h[1],
        "h3": h[2],
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName="DocSans-Bold",
            fontSize=t.title_size,
            leading=t.title_size * 1.2,
            textColor=colors.HexColor(t.primary),
            spaceAfter=8,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=13, leading=17, textColor=colors.HexColor(t.muted), spaceAfter=4
        ),
        "caption": ParagraphStyle(
            "caption",
            parent=base,
            fontSize=8.5,
            leading=11,
            textColor=colors.HexColor(t.muted),
            spaceBefore=2,
            spaceAfter=10,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0),
        "num": ParagraphStyle("num", parent=base, fontSize=8.5, leading=10.5, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle(
            "head",
            parent=base,
            fontName="DocSans-Bold",
            fontSize=8.5,
            leading=10.5,
            spaceAfter=0,
            textColor=colors.HexColor(t.header_text),
        ),
        "kpi_value": ParagraphStyle(
            "kv",
            parent=base,
            fontName="DocSans-Bold",
            fontSize=16,
            leading=19,
            textColor=colors.HexColor(t.primary),
            spaceAfter=0,
        ),
        "kpi_label": ParagraphStyle(
            "kl", parent=base, fontSize=8, leading=10, textColor=colors.HexColor(t.muted), spaceAfter=0
        ),
    }


class Builder:
    def __init__(self, bound: Bound, theme: Theme, charts: dict[int, ChartImage]) -> None:
        self.bound, self.theme, self.charts = bound, theme, charts
        self.m = Markup(with_cjk=False)  # render_pdf has loaded the CJK font if the text needs it
        self.s = _styles(theme, bound.plan.meta.language)
        self.labels = numbering(bound)
        self.width = A4[0] - 2 * MARGIN

    def heading(self, text: str, level: int) -> Paragraph:
        p = Paragraph(self.m(text), self.s[f"h{level}"])
        p._toc_level = level - 1
        return p

    def story(self, front: Front) -> list[Flowable]:
        b, meta = self.bound, self.bound.plan.meta
        out: list[Flowable] = [Spacer(1, 30 * mm)] if front.cover else []
        out.append(Paragraph(self.m(meta.title), self.s["title"]))
        if meta.subtitle:
            out.append(Paragraph(self.m(meta.subtitle), self.s["subtitle"]))
        if owner(meta) and front.cover:
            out.append(Paragraph(self.m(owner(meta)), self.s["subtitle"]))
        toc = TableOfContents()
        toc.tableStyle = _style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                 ("RIGHTPADDING", (0, 0), (-1, -1), 0)])  # fmt: skip
        toc.levelStyles = [
            ParagraphStyle("toc1", parent=self.s["body"], leftIndent=0, fontName="DocSans-Bold"),
            ParagraphStyle("toc2", parent=self.s["body"], leftIndent=14),
            ParagraphStyle("toc3", parent=self.s["body"], leftIndent=28),
        ]
        if front.contents:
            contents = contents_title(meta.language)
            out += [Spacer(1, 14 * mm), Paragraph(self.m(contents), self.s["h2"]), toc, PageBreak()]
        elif front.cover:
            out.append(PageBreak())
        else:
            out.append(Spacer(1, 4 * mm))
        blocks = b.plan.blocks
        pending: list[Flowable] = []  # a heading waits to share a page with what follows it
        for i, block in enumerate(blocks):
            flow = self.block(i, block)
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            intro = isinstance(block, PlanParagraph) and isinstance(nxt, Table | Chart | Image)
            if (isinstance(block, Heading) or intro) and i + 1 < len(blocks):
                pending += flow  # kept with what follows: never alone at a page foot
                continue
            if flow and isinstance(flow[0], NextPageTemplate):  # a landscape table: turn first
                out += flow[:2]
                flow = flow[2:]
            if pending and flow:
                # nested KeepTogethers measure badly: flatten into one group
                head = [x for f in flow[:2] for x in (f._content if isinstance(f, KeepTogether) else [f])]
                out.append(KeepTogether([*pending, *head]))
                flow, pending = flow[2:], []
            out += pending + flow
            pending = []
        out += pending
        while out and isinstance(out[-1], Spacer):  # a spacer that ends the story can start an empty page
            out.pop()
        return out

    def block(self, i: int, block: Block) -> list[Flowable]:
        t = self.bound.text
        match block:
            case Heading():
                return [self.heading(t(block.text), block.level)]
            case PlanParagraph():
                return [Paragraph(self.m(t(block.text)), self.s["body"])]
            case Bullets():
                return self.bullets(block)
            case Image():
                return self.image(i, block)
            case Callout():
                return [self.callout(block)]
            case Kpis():
                return [self.kpis(block)]
            case PlanPageBreak():
                return [PageBreak()]
            case Chart():
                return self.chart(i, block)
            case Table():
                return self.table(i, block)
            case Model():
                return self.model(i)
            case _:
                assert_never(block)

    def bullets(self, block: Bullets) -> list[Flowable]:
        li = ParagraphStyle("li", parent=self.s["body"], leftIndent=16, firstLineIndent=-12, spaceAfter=2)
        first = block.start or 1
        out: list[Flowable] = []
        for n, x in enumerate(block.items):
            mark = f"{first + n}. " if block.ordered else "• "
            item = Paragraph(mark + self.m(self.bound.text(x)), li)
            if not block.lines:
                out.append(item)
                continue
            rule = RLTable([[""]] * block.lines, colWidths=[self.width - 16], rowHeights=[22] * block.lines)
            rule.setStyle(_style([("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor(self.theme.muted))]))
            rule.hAlign = "RIGHT"
            out.append(KeepTogether([item, rule, Spacer(1, 6)]))  # an exercise and its lines stay together
        return [*out, Spacer(1, 4)]

    def image(self, i: int, block: Image) -> list[Flowable]:
        img = self.charts[i]
        width = self.width * block.width
        height = width * img.height_in / img.width_in
        flow: Flowable
        if img.svg:
            drawing = _drawing(img.svg)
            if drawing is None:
                return []
            scale = width / drawing.width
            drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
            drawing.scale(scale, scale)
            drawing.hAlign = "CENTER"
            flow = drawing
        else:
            flow = RLImage(io.BytesIO(img.png), width=width, height=height)
        parts = [flow]
        if block.caption:
            centred = ParagraphStyle("ic", parent=self.s["caption"], alignment=TA_CENTER)  # under the picture
            parts.append(Paragraph(self.m(image_caption(block, self.bound)), centred))
        else:
            parts.append(Spacer(1, 8))
        return [KeepTogether(parts)]

    def text_width(self, text: str, font: str, size: float) -> float:
        """Width of text as drawn (CJK glyphs in the CJK font)."""
        cjk = "DocCJK" if "DocCJK" in pdfmetrics.getRegisteredFontNames() else font
        return sum(pdfmetrics.stringWidth(ch, font if ord(ch) in self.m.latin else cjk, size) for ch in text)

    def callout(self, block: Callout) -> Flowable:
        t = self.theme
        body = self.m(self.bound.text(block.text))
        if block.title:
            body = f"<b>{self.m(block.title)}</b><br/>{body}"
        tbl = RLTable([[Paragraph(body, self.s["body"])]], colWidths=[self.width])
        tbl.setStyle(
            _style(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(t.callout.get(block.style, "#EEEEEE"))),
                    ("LINEBEFORE", (0, 0), (0, -1), 3, colors.HexColor(t.accent)),
                    ("LEFTPADDING", (0, 0), (-1, -1), 10),
                    ("TOPPADDING", (0, 0), (-1, -1), 8),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        return KeepTogether([tbl, Spacer(1, 8)])

    def kpis(self, block: Kpis) -> Flowable:
        metrics = {m.name: m for m in self.bound.plan.metrics}
        w = self.width / len(block.items)
        vs = self.s["kpi_value"]
        room = w - 16 - 2  # the card's padding, and a hair for rounding
        values = kpi_texts(
            self.bound,
            [k.metric for k in block.items],
            lambda x: self.text_width(x, "DocSans-Bold", vs.fontSize) <= room,
        )
        cells = []
        for k, value in zip(block.items, values, strict=True):
            label = kpi_label(k, metrics)
            cells.append([Paragraph(self.m(value), vs), Paragraph(self.m(label), self.s["kpi_label"])])
        tbl = RLTable([cells], colWidths=[w] * len(cells))
        tbl.setStyle(
            _style(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(self.theme.band_fill)),
                    ("LINEABOVE", (0, 0), (-1, 0), 2, colors.HexColor(self.theme.accent)),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 8),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ]
            )
        )
        return KeepTogether([tbl, Spacer(1, 10)])

    def chart(self, i: int, block: Chart) -> list[Flowable]:
        img = self.charts[i]
        drawing = _drawing(img.svg)
        if drawing is None:
            return []
        scale = self.width / drawing.width
        drawing.width, drawing.height = drawing.width * scale, drawing.height * scale
        drawing.scale(scale, scale)
        cap = Paragraph(self.m(caption(block, self.bound, self.labels[i])), self.s["caption"])
        return [KeepTogether([drawing, cap])]

    def cell(self, text: str, style: ParagraphStyle, room: float = float("inf")) -> Flowable | str:
        """A plain string when it fits on one line of `room` points in the Latin font; a wrapping
        Paragraph otherwise (a plain string never wraps: it would run into the next cell)."""
        if (
            len(text) <= PLAIN_CELL_CHARS
            and "\n" not in text
            and all(ord(ch) in self.m.latin for ch in text)
            and pdfmetrics.stringWidth(text, "DocSans", style.fontSize) <= room
        ):
            return text
        return Paragraph(self.m(text), style)

    def table(self, i: int, block: Table) -> list[Flowable]:
        data = table_data(block, self.bound, i)
        ncols = len(data.header)
        wide = ncols > WIDE_COLUMNS
        width = landscape(A4)[0] - 2 * MARGIN if wide else self.width
        s = self.s
        small = ncols > 14
        pad = 4 if small else 8
        body = [*data.rows, *([data.totals] if data.totals else [])]
        # the largest size at which every figure and header word fits: a number never wraps
        sizes = (6.5,) if small else (8.5, 7.5, 6.5)
        size, widths = measure.fit_columns(data.header, body, data.numeric, width, sizes, pad)
        cell = ParagraphStyle("cs", parent=s["cell"], fontSize=size, leading=size * 1.24)
        num = ParagraphStyle("ns", parent=s["num"], fontSize=size, leading=size * 1.24)
        head = ParagraphStyle("hs", parent=s["head"], fontSize=cell.fontSize, leading=cell.leading)
        head_num = ParagraphStyle("hn", parent=head, alignment=TA_RIGHT)
        rows = [[Paragraph(self.m(h), head_num if data.numeric[k] else head) for k, h in enumerate(data.header)]]
        bold_cell = ParagraphStyle("eb", parent=cell, fontName="DocSans-Bold")
        bold_num = ParagraphStyle("en", parent=num, fontName="DocSans-Bold")
        for n, r in enumerate(data.rows):
            if n in data.emphasis:  # a subtotal row: bold whatever the cell holds
                rows.append([Paragraph(self.m(v), bold_num if data.numeric[k] else bold_cell) for k, v in enumerate(r)])
            else:
                rows.append([self.cell(v, num if data.numeric[k] else cell, widths[k] - pad) for k, v in enumerate(r)])
        if data.totals:
            bold = [
                ParagraphStyle("tb", parent=num if data.numeric[k] else cell, fontName="DocSans-Bold")
                for k in range(ncols)
            ]
            rows.append([Paragraph(self.m(v), bold[k]) for k, v in enumerate(data.totals)])
        t = self.theme
        style = [
            # short Latin cells are plain strings (a Paragraph each is most of the cost of long tables)
            ("FONT", (0, 1), (-1, -1), "DocSans", cell.fontSize, cell.leading),
            ("TEXTCOLOR", (0, 1), (-1, -1), colors.HexColor(t.text)),
            *[("ALIGN", (k, 1), (k, -1), "RIGHT") for k in range(ncols) if data.numeric[k]],
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(t.header_fill)),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor(t.primary)),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor(t.band_fill)]),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 2 if small else 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2 if small else 4),
        ]
        for (fr, fk), kind in data.fills.items():
            style.append(("BACKGROUND", (fk, fr + 1), (fk, fr + 1), colors.HexColor(HIGHLIGHT_FILLS[kind])))
        if data.totals:
            style.append(("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.HexColor(t.primary)))
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.white))
        tbl = long_table(rows, widths, _style(style), wide)
        cap = Paragraph(self.m(caption(block, self.bound, self.labels[i])), s["caption"])
        cap.keepWithNext = 1
        flow: list[Flowable] = [cap, tbl, Spacer(1, 10)]
        if wide:
            return [
                NextPageTemplate("landscape"),
                PageBreak(),
                *flow,
                NextPageTemplate("portrait"),
                PageBreak(),
            ]
        return flow

    def model(self, i: int) -> list[Flowable]:
        """Assumptions, then the computed rows; subtotals and totals bold with a rule above."""
        data, s, t = model_table(self.bound, i), self.s, self.theme
        size = 8.5 if len(data.header) <= 7 else 7.5
        cell = ParagraphStyle("mc", parent=s["cell"], fontSize=size, leading=size * 1.25)
        head = ParagraphStyle("mh", parent=s["head"], fontSize=size, leading=size * 1.25)
        bold = ParagraphStyle("mb", parent=cell, fontName="DocSans-Bold")
        cap = Paragraph(f"<b>{self.m(data.title)}</b>", s["caption"])
        cap.keepWithNext = 1
        out: list[Flowable] = [cap]
        grid = colors.HexColor(t.primary)
        base = [
            ("FONT", (0, 1), (-1, -1), "DocSans", size, size * 1.25),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(t.header_fill)),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, grid),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if data.assumptions:
            rows = [[Paragraph(self.m(phrase(self.bound.plan.meta.language, "assumptions")), head), "", ""]]
            rows += [[Paragraph(self.m(a), cell), v, Paragraph(self.m(n), cell)] for a, v, n in data.assumptions]
            widths = [self.width * 0.4, self.width * 0.18, self.width * 0.42]
            tbl = RLTable(rows, colWidths=widths, repeatRows=1)
            tbl.setStyle(_style([*base, ("ALIGN", (1, 1), (1, -1), "RIGHT")]))
            out += [tbl, Spacer(1, 6)]
        bold_w = lambda text: pdfmetrics.stringWidth(text, "DocSans-Bold", size)  # noqa: E731
        col_w = 8 + max(bold_w(v) for _, values, _ in data.rows for v in [*values, *data.header[1:]])
        label_w = min(self.width * 0.4, 12 + max(bold_w(r[0]) for r in data.rows))  # bold rows must not wrap
        tables: list[Flowable] = []
        for part in split_periods(data, int((self.width - label_w) // col_w)):
            n = len(part.header) - 1
            rows = [[Paragraph(self.m(h), head) if k == 0 else h for k, h in enumerate(part.header)]]
            style = [*base, ("FONT", (1, 0), (-1, 0), "DocSans-Bold", size, size * 1.25)]
            style += [
                ("TEXTCOLOR", (1, 0), (-1, 0), colors.HexColor(t.header_text)),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ]
            for r, (label, values, kind) in enumerate(part.rows, 1):
                rows.append([Paragraph(self.m(label), bold if kind in ("subtotal", "total") else cell), *values])
                if kind in ("subtotal", "total"):
                    style += [
                        ("FONT", (1, r), (-1, r), "DocSans-Bold", size, size * 1.25),
                        ("LINEABOVE", (0, r), (-1, r), 0.6 if kind == "subtotal" else 1.2, grid),
                    ]
            tbl = LongTable(rows, colWidths=[label_w] + [(self.width - label_w) / n] * n, repeatRows=1)
            tbl.setStyle(_style(style))
            tables.append(tbl)
        if len(data.rows) > 30:  # a long statement splits across pages with its header repeated
            return [*out, *tables, Spacer(1, 10)]
        # a statement reads best on one page: the first column group stays with its title
        return [KeepTogether([*out, tables[0]]), *(KeepTogether([Spacer(1, 6), x]) for x in tables[1:]), Spacer(1, 10)]


def render_pdf(
    bound: Bound, theme: Theme, charts: dict[int, ChartImage], path: Path, front: Front | None = None
) -> Front:
    """Write the PDF; returns the front matter it has (decided here by page count when "auto")."""
    if front is None and by_length(bound.plan):
        # a build without cover and contents, kept if the document is that short; one longer than that is
        # stopped as its first page too many begins (a long document was otherwise drawn twice)
        bare = Front(False, False)
        try:
            buf, pages = _build(bound, theme, charts, bare, page_limit=MAX_PLAIN_PAGES)
        except _LongerThan:
            front = front_matter(bound.plan, MAX_PLAIN_PAGES + 1)
        else:
            front = front_matter(bound.plan, pages)
            if front == bare:
                path.write_bytes(buf.getvalue())
                return front
    front = front or front_matter(bound.plan)
    buf, _ = _build(bound, theme, charts, front)
    path.write_bytes(buf.getvalue())
    return front


def _build(
    bound: Bound, theme: Theme, charts: dict[int, ChartImage], front: Front, page_limit: int | None = None
) -> tuple[io.BytesIO, int]:
    buf = io.BytesIO()
    meta = bound.plan.meta
    _register_fonts(needs_cjk(bound))
    doc = _Doc(
        buf,
        bound,
        theme,
        charts.get(LOGO),
        page_limit,
        pagesize=A4,
        title=meta.title,
        author=owner(meta),
        subject=meta.subtitle or "",
        creator="docagent",
        keywords=f"docagent-plan-sha256:{plan_hash(bound.plan)}",  # provenance: which plan made this file
        lang=meta.language,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        initialFontName="DocSans",  # else every page names Helvetica, unembedded
    )
    story = Builder(bound, theme, charts).story(front)
    doc.multiBuild(story, canvasmaker=_NumberedCanvas)
    return buf, doc.page
