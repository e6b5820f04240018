"""The .docx renderer (python-docx) on top of templates/base.docx.

Headings use Word's built-in Heading styles (navigation pane, TOC); fields
(TOC, PAGE, NUMPAGES, SEQ) carry cached results so viewers that do not update
fields still show sensible text.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, assert_never

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt, RGBColor

from docagent.engine import plan
from docagent.engine.bind import Bound
from docagent.engine.i18n import phrase
from docagent.renderers import common, measure
from docagent.renderers.charts import LOGO, ChartImage
from docagent.renderers.theme import Theme, templates_dir

# --- small XML helpers: the only place this module touches WordprocessingML ---


def _field(paragraph: Any, instruction: str, cached: str) -> None:
    """A complex field (begin, instruction, separate, cached result, end)."""

    def fld(kind: str) -> Any:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    run = paragraph.add_run()
    run._r.append(fld("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    paragraph.add_run()._r.append(fld("separate"))
    paragraph.add_run(cached)
    paragraph.add_run()._r.append(fld("end"))


# Schema order (ECMA-376 part 1) of the children we add: Word repairs a file whose
# elements are out of sequence, so each insert goes before its declared successors.
TC_PR = ("w:cnfStyle", "w:tcW", "w:gridSpan", "w:hMerge", "w:vMerge", "w:tcBorders", "w:shd", "w:noWrap",
         "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")  # fmt: skip
TC_BORDERS = ("w:top", "w:start", "w:left", "w:bottom", "w:end", "w:right", "w:insideH", "w:insideV")
SETTINGS_AFTER_UPDATE_FIELDS = ("w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat", "w:docVars",
                                "w:rsids", "w:attachedSchema", "w:themeFontLang", "w:clrSchemeMapping",
                                "w:doNotIncludeSubdocsInStats", "w:doNotAutoCompressPictures", "w:forceUpgrade",
                                "w:captions", "w:readModeInkLockDown", "w:smartTagType", "w:shapeDefaults",
                                "w:doNotEmbedSmartTags", "w:decimalSymbol", "w:listSeparator")  # fmt: skip


P_PR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
                     "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
                     "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                     "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                     "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")  # fmt: skip


def _after(seq: tuple[str, ...], tag: str) -> tuple[str, ...]:
    return seq[seq.index(tag) + 1 :]


def _insert_before(parent: Any, el: Any, successors: tuple[str, ...]) -> None:
    """Insert `el` before the first child named in `successors` (python-docx's rule, for any element)."""
    names = {qn(t) for t in successors}
    nxt = next((c for c in parent if c.tag in names), None)
    if nxt is None:
        parent.append(el)
    else:
        nxt.addprevious(el)


def _child(parent: Any, tag: str, seq: tuple[str, ...]) -> Any:
    """The existing child `tag`, or a new one inserted at its place in `seq`."""
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        _insert_before(parent, el, _after(seq, tag))
    return el


def _shade(cell: Any, hex_fill: str) -> None:
    shd = _child(cell._tc.get_or_add_tcPr(), "w:shd", TC_PR)
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_fill.lstrip("#"))


def _border(cell: Any, side: str, hex_color: str, size_eighths: int) -> None:
    borders = _child(cell._tc.get_or_add_tcPr(), "w:tcBorders", TC_PR)
    el = _child(borders, f"w:{side}", TC_BORDERS)
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size_eighths))
    el.set(qn("w:color"), hex_color.lstrip("#"))


def _repeat_header(row: Any) -> None:
    # an on/off element without w:val is on; trPr's children are a choice, in any order
    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _east_asia(style_or_run: Any, font: str) -> None:
    style_or_run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def _unique_drawing_ids(doc: Any) -> None:
    """Each part numbers its pictures from 1, but a drawing's id must be unique in the whole document:
    the header's logo takes ids after the body's (Word repairs a file with duplicates)."""
    used = [int(e.get("id")) for e in doc.element.body.iter(qn("wp:docPr"))]
    next_id = max(used, default=0) + 1
    for section in doc.sections:
        for part in (section.header, section.footer):
            if part.is_linked_to_previous:
                continue
            for e in part._element.iter(qn("wp:docPr")):
                e.set("id", str(next_id))
                next_id += 1


def _update_fields_on_open(doc: DocxDocument) -> None:
    settings = doc.settings.element
    el = OxmlElement("w:updateFields")
    el.set(qn("w:val"), "1")
    _insert_before(settings, el, SETTINGS_AFTER_UPDATE_FIELDS)


def _restart_numbering(doc: DocxDocument, style: str, start: int) -> int:
    """A new w:num on the style's list definition whose first level starts at `start`: each list
    gets its own, so a second numbered list starts again instead of running on."""
    num_pr = doc.styles[style].element.pPr.numPr
    definitions = doc.part.numbering_part.element
    style_num = definitions.num_having_numId(num_pr.numId.val)
    num = definitions.add_num(style_num.abstractNumId.val)
    num.add_lvlOverride(ilvl=0).add_startOverride(start)
    return int(num.numId)


def _use_numbering(paragraph: Any, num_id: int) -> None:
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = 0
    num_pr.get_or_add_numId().val = num_id


def _bottom_rule(paragraph: Any, hex_color: str) -> None:
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "4"), ("w:space", "1"), ("w:color", hex_color.lstrip("#"))):
        bottom.set(qn(k), v)
    border.append(bottom)
    # ruled paragraphs in a row form one bordered group: only a "between" border rules each one
    between = OxmlElement("w:between")
    for k, v in bottom.attrib.items():
        between.set(k, v)
    border.append(between)
    _insert_before(paragraph._p.get_or_add_pPr(), border, P_PR_AFTER_BORDER)


def _lang(doc: DocxDocument, language: str) -> None:
    r_pr = doc.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), language)
    lang.set(qn("w:eastAsia"), language if language.startswith(("zh", "ja", "ko")) else "zh-CN")
    _insert_before(r_pr, lang, ("w:eastAsianLayout", "w:specVanish", "w:oMath"))


# --- document ---


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


class Builder:
    def __init__(self, bound: Bound, theme: Theme, charts: dict[int, ChartImage]) -> None:
        self.bound, self.theme, self.charts = bound, theme, charts
        self.doc = Document(str(templates_dir() / "base.docx"))
        self.labels = common.numbering(bound)
        self._styles()

    def _styles(self) -> None:
        t, st = self.theme, self.doc.styles
        normal = st["Normal"]
        normal.font.name = t.docx_font
        normal.font.size = Pt(t.font_size)
        normal.font.color.rgb = _rgb(t.text)
        _east_asia(normal, t.docx_east_asia_font)
        for level, size in enumerate(t.heading_sizes, 1):
            h = st[f"Heading {level}"]
            h.font.name = t.docx_heading_font
            h.font.size = Pt(size)
            h.font.color.rgb = _rgb(t.primary)
            _east_asia(h, t.docx_east_asia_font)
        for name in ("Title", "Subtitle", "Caption"):
            _east_asia(st[name], t.docx_east_asia_font)
        st["Title"].font.color.rgb = _rgb(t.primary)
        st["Title"].font.size = Pt(t.title_size)
        st["Caption"].font.color.rgb = _rgb(t.muted)
        st["Subtitle"].font.color.rgb = _rgb(t.muted)
        self._theme_colours()
        _lang(self.doc, self.bound.plan.meta.language)

    def _theme_colours(self) -> None:
        """The theme's (or brand's) colours as the document theme's dark 2, accent 1 and accent 2,
        so what Word draws in theme colours (the title rule, table styles) matches too."""
        part = self.doc.part.part_related_by(RT.THEME)
        xml = part.blob.decode("utf-8")
        for slot, colour in (
            ("dk2", self.theme.primary),
            ("accent1", self.theme.primary),
            ("accent2", self.theme.accent),
        ):
            xml = re.sub(
                rf"(<a:{slot}>\s*<a:srgbClr val=\")[0-9A-Fa-f]{{6}}", rf"\g<1>{colour.lstrip('#').upper()}", xml
            )
        part._blob = xml.encode("utf-8")

    def build(self, front: common.Front) -> DocxDocument:
        meta, doc = self.bound.plan.meta, self.doc
        props = doc.core_properties
        props.title, props.author = meta.title, common.owner(meta)
        props.subject, props.language = meta.subtitle or "", meta.language
        self._header_footer(doc.sections[0])
        doc.add_paragraph(meta.title, style="Title")
        if meta.subtitle:
            doc.add_paragraph(meta.subtitle, style="Subtitle")
        if front.cover and common.owner(meta):
            doc.add_paragraph(common.owner(meta), style="Subtitle")
        if front.contents:
            self._toc()
        elif front.cover:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for i, block in enumerate(self.bound.plan.blocks):
            self.block(i, block)
        _unique_drawing_ids(doc)
        _update_fields_on_open(doc)
        return doc

    def _header_footer(self, section: Any) -> None:
        t, meta = self.theme, self.bound.plan.meta
        section.header.is_linked_to_previous = False
        head = section.header.paragraphs[0]
        head.text = t.header_text_left.format(title=meta.title, author=common.owner(meta))
        head.runs[0].font.size = Pt(8)
        head.runs[0].font.color.rgb = _rgb(t.muted)
        logo = self.charts.get(LOGO)
        if logo is not None:  # at the right margin, on the header's own line
            head.add_run("\t\t")
            head.add_run().add_picture(io.BytesIO(logo.png), height=Emu(int(logo.height_in * 914400)))
        foot = section.footer.paragraphs[0]
        foot.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        # "Page {page} of {pages}" in the document's language, the numbers as fields Word fills in
        for part in re.split(r"(\{page\}|\{pages\})", phrase(meta.language, "page")):
            if part in ("{page}", "{pages}"):
                _field(foot, "PAGE" if part == "{page}" else "NUMPAGES", "1")
            elif part:
                foot.add_run(part)
        for r in foot.runs:
            r.font.size = Pt(8)

    def _toc(self) -> None:
        meta = self.bound.plan.meta
        self.doc.add_paragraph(common.contents_title(meta.language), style="TOC Heading")
        p = self.doc.add_paragraph()
        headings = [b.text for b in self.bound.plan.blocks if isinstance(b, plan.Heading) and b.level <= 2]
        # The cached result lists the headings; Word refreshes it with page numbers on open.
        _field(p, 'TOC \\o "1-3" \\h \\z \\u', "\n".join(self.bound.text(h) for h in headings))
        p.add_run().add_break(WD_BREAK.PAGE)

    def block(self, i: int, block: plan.Block) -> None:
        doc, t = self.doc, self.bound.text
        match block:
            case plan.Heading():
                doc.add_heading(t(block.text), level=block.level)
            case plan.Paragraph():
                p = doc.add_paragraph(t(block.text))
                following = self.bound.plan.blocks[i + 1 : i + 2]
                # a paragraph that introduces a table, chart or image is not left alone at a page foot
                p.paragraph_format.keep_with_next = bool(following) and isinstance(
                    following[0], plan.Table | plan.Chart | plan.Image
                )
            case plan.Bullets():
                self.bullets(block)
            case plan.Image():
                self.image(i, block)
            case plan.Callout():
                self.callout(block)
            case plan.Kpis():
                self.kpis(block)
            case plan.PageBreak():
                doc.add_page_break()
            case plan.Chart():
                self.chart(i, block)
            case plan.Table():
                self.table(i, block)
            case plan.Model():
                self.model(i)
            case _:
                assert_never(block)

    def _caption(self, label_index: int, block: plan.Table | plan.Chart) -> None:
        text = common.caption(block, self.bound, self.labels[label_index])
        kind, number = self.labels[label_index].rsplit(" ", 1)
        p = self.doc.add_paragraph(style="Caption")
        p.paragraph_format.keep_with_next = isinstance(block, plan.Table)  # a table's caption stays above it
        p.add_run(kind + " ")
        seq = "Table" if isinstance(block, plan.Table) else "Figure"
        _field(p, f"SEQ {seq} \\* ARABIC", number)
        p.add_run(text[len(self.labels[label_index]) :])

    def bullets(self, block: plan.Bullets) -> None:
        style = "List Number" if block.ordered else "List Bullet"
        num_id = _restart_numbering(self.doc, style, block.start or 1) if block.ordered else None
        for item in block.items:
            p = self.doc.add_paragraph(self.bound.text(item), style=style)
            if num_id is not None:
                _use_numbering(p, num_id)
            for _ in range(block.lines):  # writing lines: ruled empty paragraphs
                line = self.doc.add_paragraph()
                line.paragraph_format.left_indent = Mm(6)
                line.paragraph_format.space_before = Pt(10)
                _bottom_rule(line, self.theme.muted)

    def text_width(self) -> int:
        section = self.doc.sections[-1]
        return int((section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0))

    def image(self, i: int, block: plan.Image) -> None:
        img = self.charts[i]
        width = int(self.text_width() * block.width)
        pic = self.doc.add_paragraph()
        pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
        pic.paragraph_format.keep_with_next = bool(block.caption)
        pic.add_run().add_picture(
            io.BytesIO(img.png), width=Emu(width), height=Emu(int(width * img.height_in / img.width_in))
        )
        if block.caption:
            cap = self.doc.add_paragraph(common.image_caption(block, self.bound), style="Caption")
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER  # under the centred picture

    def callout(self, block: plan.Callout) -> None:
        tbl = self.doc.add_table(rows=1, cols=1)
        cell = tbl.cell(0, 0)
        _shade(cell, self.theme.callout.get(block.style, "#EEEEEE"))
        _border(cell, "left", self.theme.accent, 24)
        p = cell.paragraphs[0]
        if block.title:
            p.add_run(block.title + "\n").bold = True
        p.add_run(self.bound.text(block.text))
        self.doc.add_paragraph()

    def kpis(self, block: plan.Kpis) -> None:
        metrics = {m.name: m for m in self.bound.plan.metrics}
        tbl = self.doc.add_table(rows=1, cols=len(block.items))
        tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
        # 16 pt bold digits are about 0.62 em wide; the card loses 0.2 in to cell margins
        room = (self.text_width() / len(block.items) / 12700 - 14) / (16 * 0.62)
        values = common.kpi_texts(self.bound, [k.metric for k in block.items], lambda x: len(x) <= room)
        for cell, k, text in zip(tbl.rows[0].cells, block.items, values, strict=True):
            _shade(cell, self.theme.band_fill)
            _border(cell, "top", self.theme.accent, 16)
            label = common.kpi_label(k, metrics)
            value = cell.paragraphs[0].add_run(text)
            value.bold, value.font.size = True, Pt(16)
            value.font.color.rgb = _rgb(self.theme.primary)
            lab = cell.add_paragraph().add_run(label)
            lab.font.size, lab.font.color.rgb = Pt(8), _rgb(self.theme.muted)
        self.doc.add_paragraph()

    def chart(self, i: int, block: plan.Chart) -> None:
        img = self.charts[i]
        width = self.text_width()
        pic = self.doc.add_paragraph()
        pic.paragraph_format.keep_with_next = True
        pic.add_run().add_picture(io.BytesIO(img.png), width=Emu(int(width)))
        self._caption(i, block)

    def _orient(self, landscape: bool) -> None:
        doc = self.doc
        section = doc.add_section()
        if (section.orientation == WD_ORIENT.LANDSCAPE) != landscape:
            section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
            section.page_width, section.page_height = section.page_height, section.page_width

    def table(self, i: int, block: plan.Table) -> None:
        data = common.table_data(block, self.bound, i)
        ncols = len(data.header)
        wide = ncols > common.WIDE_COLUMNS
        if wide:
            self._orient(landscape=True)
        self._caption(i, block)
        sizes = (6.5,) if ncols > 14 else (8.5, 7.5, 6.5)
        n_rows = 1 + len(data.rows) + (1 if data.totals else 0)
        tbl = self.doc.add_table(rows=n_rows, cols=ncols)
        tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
        tbl.autofit = False
        t = self.theme
        _repeat_header(tbl.rows[0])
        body = [data.header, *data.rows, *([data.totals] if data.totals else [])]
        # measured as the PDF measures (DejaVu is wider than Calibri and its substitutes): numbers never wrap
        pt, points = measure.fit_columns(data.header, body[1:], data.numeric, self.text_width() / 12700, sizes, 13)
        size = Pt(pt)
        widths = [int(w * 12700) for w in points]
        for k, w in enumerate(widths):
            tbl.columns[k].width = Emu(w)
        for r, (row, values) in enumerate(zip(tbl.rows, body, strict=True)):
            last = data.totals is not None and r == n_rows - 1
            for k, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
                cell.width = Emu(widths[k])
                p = cell.paragraphs[0]
                run = p.add_run(text)
                run.font.size = size
                if data.numeric[k]:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                fill = data.fills.get((r - 1, k))
                if r == 0:
                    run.bold = True
                    run.font.color.rgb = _rgb(t.header_text)
                    _shade(cell, t.header_fill)
                elif last:
                    run.bold = True
                    _border(cell, "top", t.primary, 8)
                elif fill:
                    _shade(cell, common.HIGHLIGHT_FILLS[fill])
                elif r % 2 == 0:
                    _shade(cell, t.band_fill)
                if r > 0 and r - 1 in data.emphasis:
                    run.bold = True
        self.doc.add_paragraph()
        if wide:
            self._orient(landscape=False)

    def model(self, i: int) -> None:
        """Assumptions, then the computed rows (in column groups that fit the page); totals bold, ruled."""
        data, t = common.model_table(self.bound, i), self.theme
        cap = self.doc.add_paragraph(style="Caption")
        cap.add_run(data.title).bold = True
        cap.paragraph_format.keep_with_next = True
        section = self.doc.sections[-1]
        usable = ((section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)) / 12700
        size = 8.0
        widest = max(len(v) for _, values, _ in data.rows for v in [*values, *data.header[1:]])
        col = 0.55 * size * widest + 12  # points: digits at about 0.55 em, plus cell padding
        label = min(0.32 * usable, 0.5 * size * max(len(r[0]) for r in data.rows) + 12)
        grids: list[tuple[list[str], list[tuple[str, list[str], str]], list[float]]] = []
        if data.assumptions:
            rows = [(a, [v, n], "input") for a, v, n in data.assumptions]
            grids.append(
                (
                    [phrase(self.bound.plan.meta.language, "assumptions"), "", ""],
                    rows,
                    [usable * 0.42, usable * 0.18, usable * 0.4],
                )
            )
        for part in common.split_periods(data, int((usable - label) // col)):
            n = len(part.header) - 1
            grids.append((part.header, part.rows, [label] + [(usable - label) / max(n, 1)] * n))
        for header, rows, widths in grids:
            tbl = self.doc.add_table(rows=1 + len(rows), cols=len(header))
            tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
            tbl.autofit = False
            _repeat_header(tbl.rows[0])
            body = [(header[0], header[1:], "head"), *rows]
            for column, w in zip(tbl.columns, widths, strict=True):
                column.width = Pt(w)
            for row, (label_text, values, style) in zip(tbl.rows, body, strict=True):
                for k, (cell, text) in enumerate(zip(row.cells, [label_text, *values], strict=True)):
                    cell.width = Pt(widths[k])
                    p = cell.paragraphs[0]
                    run = p.add_run(text)
                    run.font.size = Pt(size)
                    p.paragraph_format.keep_with_next = len(body) <= 30  # a statement stays on one page
                    if k == 1 or (k and style != "input"):
                        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                    if style == "head":
                        run.bold = True
                        run.font.color.rgb = _rgb(t.header_text)
                        _shade(cell, t.header_fill)
                    elif style in ("subtotal", "total"):
                        run.bold = True
                        _border(cell, "top", t.primary, 8 if style == "subtotal" else 12)
                    elif style == "check":
                        run.italic = True
            self.doc.add_paragraph()


def render_docx(
    bound: Bound, theme: Theme, charts: dict[int, ChartImage], path: Path, front: common.Front | None = None
) -> Path:
    """Write the .docx; `front` as the PDF decided it, else by an estimate of the page count."""
    front = front or common.front_matter(
        bound.plan, common.estimate_pages(bound) if common.by_length(bound.plan) else None
    )
    Builder(bound, theme, charts).build(front).save(str(path))
    return path


__all__ = ["render_docx"]
