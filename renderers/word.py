"""The .docx renderer (python-docx) on top of templates/base.docx.

Headings use Word's built-in Heading styles (navigation pane, TOC); fields
(TOC, PAGE, NUMPAGES, SEQ) carry cached results so viewers that do not update
fields still show sensible text.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, assert_never

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Pt, RGBColor

from docagent.bind import Bound
from docagent.plan import Block, Bullets, Callout, Chart, Heading, Kpis, Model, PageBreak, Paragraph, Table
from renderers.charts import ChartImage
from renderers.common import (
    ASSUMPTIONS,
    WIDE_COLUMNS,
    caption,
    contents_title,
    kpi_label,
    model_table,
    numbering,
    split_periods,
    table_data,
)
from renderers.theme import Theme, templates_dir

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


def _shade(cell: Any, hex_fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_fill.lstrip("#"))
    tc_pr.append(shd)


def _border(cell: Any, side: str, hex_color: str, size_eighths: int) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    el = OxmlElement(f"w:{side}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size_eighths))
    el.set(qn("w:color"), hex_color.lstrip("#"))
    borders.append(el)


def _repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _east_asia(style_or_run: Any, font: str) -> None:
    r_pr = style_or_run.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), font)


def _update_fields_on_open(doc: DocxDocument) -> None:
    settings = doc.settings.element
    el = OxmlElement("w:updateFields")
    el.set(qn("w:val"), "true")
    settings.append(el)


def _lang(doc: DocxDocument, language: str) -> None:
    r_pr = doc.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), language)
    lang.set(qn("w:eastAsia"), language if language.startswith(("zh", "ja", "ko")) else "zh-CN")
    r_pr.append(lang)


# --- document ---


def _rgb(hex_color: str) -> RGBColor:
    return RGBColor.from_string(hex_color.lstrip("#").upper())


class Builder:
    def __init__(self, bound: Bound, theme: Theme, charts: dict[int, ChartImage]) -> None:
        self.bound, self.theme, self.charts = bound, theme, charts
        self.doc = Document(str(templates_dir() / "base.docx"))
        self.labels = numbering(bound)
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
        _lang(self.doc, self.bound.plan.meta.language)

    def build(self) -> DocxDocument:
        meta, doc = self.bound.plan.meta, self.doc
        props = doc.core_properties
        props.title, props.author = meta.title, meta.author or "docagent"
        props.subject, props.language = meta.subtitle or "", meta.language
        self._header_footer(doc.sections[0])
        doc.add_paragraph(meta.title, style="Title")
        if meta.subtitle:
            doc.add_paragraph(meta.subtitle, style="Subtitle")
        self._toc()
        for i, block in enumerate(self.bound.plan.blocks):
            self.block(i, block)
        _update_fields_on_open(doc)
        return doc

    def _header_footer(self, section: Any) -> None:
        t, meta = self.theme, self.bound.plan.meta
        section.header.is_linked_to_previous = False
        head = section.header.paragraphs[0]
        head.text = t.header_text_left.format(title=meta.title, author=meta.author or "")
        head.runs[0].font.size = Pt(8)
        head.runs[0].font.color.rgb = _rgb(t.muted)
        foot = section.footer.paragraphs[0]
        foot.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        zh = meta.language.startswith("zh")
        foot.add_run("第 " if zh else "Page ")
        _field(foot, "PAGE", "1")
        foot.add_run(" 页，共 " if zh else " of ")
        _field(foot, "NUMPAGES", "1")
        if zh:
            foot.add_run(" 页")
        for r in foot.runs:
            r.font.size = Pt(8)

    def _toc(self) -> None:
        meta = self.bound.plan.meta
        if not any(isinstance(b, Heading) for b in self.bound.plan.blocks):
            return  # nothing to list
        self.doc.add_paragraph(contents_title(meta.language), style="TOC Heading")
        p = self.doc.add_paragraph()
        headings = [b.text for b in self.bound.plan.blocks if isinstance(b, Heading) and b.level <= 2]
        # The cached result lists the headings; Word refreshes it with page numbers on open.
        _field(p, 'TOC \\o "1-3" \\h \\z \\u', "\n".join(self.bound.text(h) for h in headings))
        p.add_run().add_break(WD_BREAK.PAGE)

    def block(self, i: int, block: Block) -> None:
        doc, t = self.doc, self.bound.text
        match block:
            case Heading():
                doc.add_heading(t(block.text), level=block.level)
            case Paragraph():
                doc.add_paragraph(t(block.text))
            case Bullets():
                style = "List Number" if block.ordered else "List Bullet"
                for item in block.items:
                    doc.add_paragraph(t(item), style=style)
            case Callout():
                self.callout(block)
            case Kpis():
                self.kpis(block)
            case PageBreak():
                doc.add_page_break()
            case Chart():
                self.chart(i, block)
            case Table():
                self.table(i, block)
            case Model():
                self.model(i)
            case _:
                assert_never(block)

    def _caption(self, label_index: int, block: Table | Chart) -> None:
        text = caption(block, self.bound, self.labels[label_index])
        kind, number = self.labels[label_index].rsplit(" ", 1)
        p = self.doc.add_paragraph(style="Caption")
        p.add_run(kind + " ")
        seq = "Table" if isinstance(block, Table) else "Figure"
        _field(p, f"SEQ {seq} \\* ARABIC", number)
        p.add_run(text[len(self.labels[label_index]) :])

    def callout(self, block: Callout) -> None:
        tbl = self.doc.add_table(rows=1, cols=1)
        cell = tbl.cell(0, 0)
        _shade(cell, self.theme.callout.get(block.style, "#EEEEEE"))
        _border(cell, "left", self.theme.accent, 24)
        p = cell.paragraphs[0]
        if block.title:
            p.add_run(block.title + "\n").bold = True
        p.add_run(self.bound.text(block.text))
        self.doc.add_paragraph()

    def kpis(self, block: Kpis) -> None:
        metrics = {m.name: m for m in self.bound.plan.metrics}
        tbl = self.doc.add_table(rows=1, cols=len(block.items))
        tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, k in zip(tbl.rows[0].cells, block.items, strict=True):
            _shade(cell, self.theme.band_fill)
            _border(cell, "top", self.theme.accent, 16)
            label = kpi_label(k, metrics)
            value = cell.paragraphs[0].add_run(self.bound.metric_text.get(k.metric, "–"))
            value.bold, value.font.size = True, Pt(16)
            value.font.color.rgb = _rgb(self.theme.primary)
            lab = cell.add_paragraph().add_run(label)
            lab.font.size, lab.font.color.rgb = Pt(8), _rgb(self.theme.muted)
        self.doc.add_paragraph()

    def chart(self, i: int, block: Chart) -> None:
        img = self.charts[i]
        section = self.doc.sections[-1]
        width = (section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)
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

    def table(self, i: int, block: Table) -> None:
        data = table_data(block, self.bound, i)
        ncols = len(data.header)
        wide = ncols > WIDE_COLUMNS
        if wide:
            self._orient(landscape=True)
        self._caption(i, block)
        size = Pt(6.5 if ncols > 14 else 8.5)
        n_rows = 1 + len(data.rows) + (1 if data.totals else 0)
        tbl = self.doc.add_table(rows=n_rows, cols=ncols)
        tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
        t = self.theme
        _repeat_header(tbl.rows[0])
        body = [data.header, *data.rows, *([data.totals] if data.totals else [])]
        for r, (row, values) in enumerate(zip(tbl.rows, body, strict=True)):
            last = data.totals is not None and r == n_rows - 1
            for k, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
                p = cell.paragraphs[0]
                run = p.add_run(text)
                run.font.size = size
                if data.numeric[k]:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if r == 0:
                    run.bold = True
                    run.font.color.rgb = _rgb(t.header_text)
                    _shade(cell, t.header_fill)
                elif last:
                    run.bold = True
                    _border(cell, "top", t.primary, 8)
                elif r % 2 == 0:
                    _shade(cell, t.band_fill)
        self.doc.add_paragraph()
        if wide:
            self._orient(landscape=False)

    def model(self, i: int) -> None:
        """Assumptions, then the computed rows (in column groups that fit the page); totals bold, ruled."""
        data, t = model_table(self.bound, i), self.theme
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
            grids.append(([ASSUMPTIONS, "", ""], rows, [usable * 0.42, usable * 0.18, usable * 0.4]))
        for part in split_periods(data, int((usable - label) // col)):
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


def render_docx(bound: Bound, theme: Theme, charts: dict[int, ChartImage], path: Path) -> Path:
    Builder(bound, theme, charts).build().save(str(path))
    return path


__all__ = ["render_docx"]
