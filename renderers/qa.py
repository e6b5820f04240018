"""The render QA pass: checks the written files as a reader would meet them, before delivery.

Each check reads a finished file and returns findings worded for a person ("where: what").
The renderers avoid each defect by construction; this pass is the proof, and whatever it
still finds is recorded on the job as a warning rather than shipped silently.

    check(files, bound) -> list[str]
      .docx  OOXML schema (openxml-audit), captions punctuated, table captions and intros kept with
             what they introduce, no number wrapping or word split in a table cell
      every  no placeholder left unfilled, no product name
      .xlsx  OOXML schema, every number cell wide enough for its formatted value (no ###)
      .pdf   every font embedded, no empty page, no number broken across lines, no heading or
             intro left at a page foot
      .pptx  OOXML schema, no text box or table past its box or the slide (measured with the font's
             metrics), every chart with data, text that went to the speaker notes
"""

from __future__ import annotations

import ctypes
import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from defusedxml import ElementTree

from docagent.engine.bind import Bound
from docagent.engine.formatting import compact
from docagent.engine.plan import Chart, Heading, Image, Table
from docagent.engine.plan import Paragraph as PlanParagraph
from docagent.renderers.preview import PDFIUM

if TYPE_CHECKING:
    from openxml_audit import OpenXmlValidator

# openpyxl and openxml-audit load when a job has a format they check (0.4 s that a PDF-only job skips)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_CHECK_BYTES = 64 * 1024 * 1024  # larger files are not checked, and the job says so
AUDIT_ROWS = 500  # rows of each worksheet the schema audit reads (it costs ~2 ms a row)
WIDTH_ROWS = 2000  # rows of each worksheet whose number cells are checked against their column's width
MAX_AUDIT_BYTES = 20 * 1024 * 1024  # the schema audit reads every part; larger files are skipped, and said so
ENDS_SENTENCE = tuple(".!?:;…。！？：")
FOOT_PT = 50  # header and footer lie within this many points of the page edge
FOOT_ZONE = 0.3  # the lowest part of a page, where a lone heading means a break came too early
NUMBER = re.compile(r"[-–]?[$€£¥₹]?-?(\d{1,3}(,\d{3})*|\d+)(\.\d+)?[%KMBT万亿]?")


# --- OOXML ---


def _first_rows(xml: bytes, n: int) -> bytes:
    """A worksheet cut to its first n rows (the text is cut, not re-serialised, so prefixes stay as written)."""
    at = -1
    for _ in range(n + 1):
        at = xml.find(b"<row ", at + 1)
        if at < 0:
            return xml
    end = xml.find(b"</sheetData>", at)
    return xml[:at] + xml[end:] if end > 0 else xml


def sample(path: Path, dest: Path, rows: int = AUDIT_ROWS) -> Path:
    """A copy of a workbook whose worksheets keep their first `rows` rows.

    The writer emits the same elements on every data row, so the sample holds every kind of element the
    file has, and the audit's cost stops growing with the data (a 30,000-row workbook took 74 s in full).
    """
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", item.filename):
                data = _first_rows(data, rows)
            out.writestr(item, data)
    return dest


_local = threading.local()


def _validator() -> OpenXmlValidator:
    """One validator per worker thread (and so per render process): building one costs 60 ms warm, 1 s cold."""
    validator = getattr(_local, "validator", None)
    if validator is None:
        from openxml_audit import OpenXmlValidator

        validator = _local.validator = OpenXmlValidator(max_errors=20)
    return validator


def ooxml(path: Path) -> list[str]:
    if path.stat().st_size > MAX_AUDIT_BYTES:
        return [f"{path.name}: not schema-checked ({path.stat().st_size:,} bytes is over the audit limit)"]
    with tempfile.TemporaryDirectory() as tmp:
        audited = sample(path, Path(tmp) / path.name) if path.suffix == ".xlsx" else path
        result = _validator().validate(audited)
    return [f"{path.name}: {e.description} (at {e.path or e.part_uri})" for e in result.errors]


# --- .docx ---


def _text(p: Any) -> str:
    return "".join(t.text or "" for t in p.iter(f"{W}t"))


def _style(p: Any) -> str:
    el = p.find(f"{W}pPr/{W}pStyle")
    return el.get(f"{W}val") if el is not None else ""


def _keeps(p: Any) -> bool:
    el = p.find(f"{W}pPr/{W}keepNext")
    return el is not None and el.get(f"{W}val", "1") not in ("0", "false")


def docx_layout(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        body = ElementTree.fromstring(z.read("word/document.xml")).find(f"{W}body")
    out: list[str] = []
    children = list(body) if body is not None else []
    for p, nxt in zip(children, [*children[1:], None], strict=True):
        if p.tag != f"{W}p":
            continue
        text = _text(p).strip()
        if _style(p) == "Caption" and text and not text.endswith(ENDS_SENTENCE):
            out.append(f"{path.name}: caption {text[:60]!r} does not end with a full stop")
        if _style(p) == "Caption" and text and re.search(r"[^.!?:;…。！？：] (Source|来源):", text):
            out.append(f"{path.name}: caption {text[:60]!r} runs into its source without a full stop")
        table_caption = any("SEQ Table" in (t.text or "") for t in p.iter(f"{W}instrText"))
        if nxt is not None and nxt.tag == f"{W}tbl" and table_caption and not _keeps(p):
            out.append(f"{path.name}: caption {text[:60]!r} may be left at a page foot, apart from its table")
    return out


# --- .xlsx ---


def _shown(value: Any, number_format: str) -> str:
    """The text Excel displays for a number under one of the formats docagent writes."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    f = number_format
    if "%" in f:
        return f"{value * 100:,.{f.split('.')[-1].count('0') if '.' in f else 0}f}%"
    if f.startswith("[>="):
        return compact(value)
    body = f"{value:,.2f}" if ".00" in f else f"{value:,.0f}" if "#,##0" in f else f"{value:.10g}"
    symbol = re.match(r'^"([^"]+)"', f)
    suffix = re.search(r'"([^"]+)"$', f)
    if symbol:
        body = symbol.group(1) + body
    elif suffix:
        body = f"{body} {suffix.group(1)}"
    return body


def _needed(text: str, size: float, bold: bool) -> float:
    wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return wide * size / 11 * (1.08 if bold else 1.0) + 1


def xlsx_widths(path: Path) -> list[str]:
    import openpyxl

    # openpyxl loads a whole workbook (100,000 rows: 22 s, 294 MB) and its read-only mode has no column
    # widths or merged cells: load a copy cut to the rows checked instead
    with tempfile.TemporaryDirectory() as tmp:
        wb = openpyxl.load_workbook(sample(path, Path(tmp) / path.name, WIDTH_ROWS), data_only=True)
    out: list[str] = []
    try:
        for ws in wb.worksheets:
            merged = {(r, c) for rng in ws.merged_cells.ranges for r, c in rng.cells}  # prose spans columns
            widths: dict[str, float] = {}
            for dim in ws.column_dimensions.values():
                if dim.width:
                    for col in range(dim.min or 1, (dim.max or dim.min or 1) + 1):
                        widths[openpyxl.utils.get_column_letter(col)] = dim.width
            for row in ws.iter_rows(max_row=min(ws.max_row, WIDTH_ROWS)):
                for cell in row:
                    text = _shown(cell.value, cell.number_format)
                    if not text or (cell.row, cell.column) in merged:
                        continue
                    width = widths.get(cell.column_letter, 8.43)
                    size = float(cell.font.sz or 11)
                    if _needed(text, size, bool(cell.font.b)) > width:
                        out.append(
                            f"{path.name}: {ws.title}!{cell.coordinate} shows {text!r}, too wide for its column "
                            f"({width:.0f} characters): Excel and LibreOffice would show ###"
                        )
    finally:
        wb.close()
    return out[:20]


# --- .pdf ---


def _font_name(font: Any) -> str:
    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    buf = ctypes.create_string_buffer(size)
    pdfium_c.FPDFFont_GetBaseFontName(font, buf, size)
    return buf.value.decode("utf-8", "replace") or "?"


Fragments = list[tuple[float, float, str]]  # (height on the page, left edge, text) of each piece, top first


@dataclass
class PdfPage:
    """What the checks read of one page, gathered in one walk over its objects."""

    height: float
    fragments: Fragments
    text: str
    fonts: dict[str, bool]  # each font the text is set in: embedded (a Type 3 font is drawn by the file)
    drawn: bool  # something larger than a rule drawn in the body: a chart, a picture, a table's grid


def _object_text(obj: Any, textpage: pdfium.PdfTextPage) -> str:
    size = pdfium_c.FPDFTextObj_GetText(obj, textpage, None, 0)  # in bytes, UTF-16 with its terminator
    buf = ctypes.create_string_buffer(size)
    pdfium_c.FPDFTextObj_GetText(obj, textpage, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR)), size)
    return buf.raw[: max(0, size - 2)].decode("utf-16-le", "replace")


def read_page(page: pdfium.PdfPage) -> PdfPage:
    """A page's pieces of text where they lie (each show-text run, from its origin), its text, its
    fonts, and whether its body holds a drawing.

    Runs set one after the other on a line ("P", "&", "L": one piece each as ReportLab writes an
    entity) join into the piece a reader sees."""
    height, textpage = page.get_height(), page.get_textpage()
    runs: list[tuple[float, float, float, str]] = []  # origin y, origin x, right edge, text
    fonts: dict[str, bool] = {}
    drawn = False
    for obj in page.get_objects():
        left, bottom, right, top = obj.get_bounds()
        if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
            # the running header and footer lie within FOOT_PT of the edges
            body = bottom > FOOT_PT and top < height - FOOT_PT
            drawn = drawn or (body and right - left > 20 and top - bottom > 20)
            continue
        font = pdfium_c.FPDFTextObj_GetFont(obj)
        if font:
            fonts[_font_name(font)] = bool(pdfium_c.FPDFFont_GetIsEmbedded(font))
        text, matrix = _object_text(obj, textpage), obj.get_matrix()
        if runs and abs(runs[-1][0] - matrix.f) < 0.01 and -0.5 < matrix.e - runs[-1][2] < 1.5:
            y, x, _, before = runs[-1]
            runs[-1] = (y, x, right, before + text)
        else:
            runs.append((matrix.f, matrix.e, right, text))
    out = [(y, x, text.strip()) for y, x, _, text in runs if text.strip()]
    fragments = sorted(out, key=lambda f: (-f[0], f[1]))
    return PdfPage(height, fragments, textpage.get_text_range(), fonts, drawn)


def read_pdf(pdf: pdfium.PdfDocument) -> list[PdfPage]:
    return [read_page(page) for page in pdf]


def pdf_fonts(pages: list[PdfPage], name: str) -> list[str]:
    """Fonts the text is set in that the file does not carry."""
    missing = {font for page in pages for font, embedded in page.fonts.items() if not embedded}
    return [
        f"{name}: font {f} is referenced but not embedded (print shops and PDF/A reject it)" for f in sorted(missing)
    ]


def _broken_numbers(body: list[tuple[float, float, str]]) -> list[str]:
    """A number wrapped inside its cell: a line that is not a whole number, continued at the same
    left edge on the next line so that the two together are one."""
    out = []
    for y, x, text in body:
        if NUMBER.fullmatch(text) or not re.fullmatch(r"[-–$€£¥₹\d.,]*[\d.,]", text):
            continue  # a whole number, or not a number at all
        for y2, x2, rest in body:
            if 0 < y - y2 < 30 and abs(x2 - x) < 2 and rest[:1].isdigit():
                if NUMBER.fullmatch(text + rest.split()[0]):
                    out.append(text + rest.split()[0])
                break
    return out


def pdf_layout(pages: list[PdfPage], name: str, bound: Bound) -> list[str]:
    """Empty pages, numbers broken across lines, pages ending in a heading or an introduction."""
    blocks = bound.plan.blocks
    heads = {bound.text(b.text).strip() for b in blocks if isinstance(b, Heading)}
    intros = {
        bound.text(b.text).strip()[-30:]
        for b, nxt in zip(blocks, [*blocks[1:], None], strict=True)
        if isinstance(b, PlanParagraph) and isinstance(nxt, Table | Chart | Image)
    }
    out: list[str] = []
    for n, page in enumerate(pages, 1):
        height = page.height
        # the running header sits above the frame and the footer below it
        body = [f for f in page.fragments if FOOT_PT < f[0] < height - FOOT_PT]
        if not body and not page.drawn:  # nothing a reader came for
            out.append(f"{name}: page {n} is empty")
            continue
        for number in dict.fromkeys(_broken_numbers(body)):
            out.append(f"{name}: page {n}: the number {number!r} is broken across two lines")
        if n == len(pages) or not body:
            continue
        y, _, last = max(body, key=lambda f: (-f[0], f[1]))
        if y > FOOT_ZONE * height:
            continue  # the page goes on below it (a figure has no text)
        if last in heads:
            out.append(f"{name}: page {n} ends with the heading {last!r}; what it introduces is on the next page")
        elif any(i and last.endswith(i[-len(last) :]) for i in intros):
            out.append(f"{name}: page {n} ends with an introduction whose table or figure is on the next page")
    return out


def pdf_check(path: Path, bound: Bound) -> list[str]:
    """Fonts, layout and leftovers of a PDF, read once (pdfium's parser, in C: pypdf's took 0.24 s)."""
    with PDFIUM:
        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as e:  # pdfium opens no file without a page
            return [f"{path.name}: no page can be read ({e})"]
        try:
            pages = read_pdf(pdf)
        finally:
            pdf.close()
    out = pdf_fonts(pages, path.name) + pdf_layout(pages, path.name, bound)
    return out + leftovers(path, "\n".join(page.text for page in pages))


PRODUCT = "docagent"  # the product's name belongs in no user's document
LEFTOVER = re.compile(r"\{[a-z_][a-z0-9_]*(?:[:|][^{}\n]*)?\}")  # a placeholder nothing filled
CELL_PAD_PT = 11.5  # Word's default cell margins, left and right


def _ooxml_text(path: Path) -> str:
    """The text a reader can see in an OOXML file: every part but the package's properties."""
    with zipfile.ZipFile(path) as z:
        parts = [n for n in z.namelist() if n.endswith(".xml") and not n.startswith(("docProps/", "["))]
        return "\n".join(re.sub(r"<[^>]+>", " ", z.read(n).decode("utf-8", "replace")) for n in parts)


def leftovers(path: Path, text: str) -> list[str]:
    """Placeholders left unfilled and the product's name, in any format."""
    out = [f"{path.name}: placeholder {p} was never filled" for p in dict.fromkeys(LEFTOVER.findall(text))]
    if PRODUCT in text.lower():
        out.append(f"{path.name}: names the product ({PRODUCT!r}) in the user's document")
    return out


def docx_tables(path: Path) -> list[str]:
    """Numbers that wrap and words that split in .docx table cells, measured as the PDF measures."""
    from docagent.renderers import measure

    with zipfile.ZipFile(path) as z:
        body = ElementTree.fromstring(z.read("word/document.xml"))
    out: list[str] = []
    for t, tbl in enumerate(body.iter(f"{W}tbl"), 1):
        cols = [int(g.get(f"{W}w", "0")) / 20 for g in tbl.iter(f"{W}gridCol")]
        for r, tr in enumerate(tbl.iter(f"{W}tr")):
            for k, tc in enumerate(tr.findall(f"{W}tc")):
                if k >= len(cols):
                    break
                room = cols[k] - CELL_PAD_PT
                for p in tc.iter(f"{W}p"):
                    text = _text(p).strip()
                    sz = p.find(f".//{W}sz")
                    size = int(sz.get(f"{W}val", "20")) / 2 if sz is not None else 10.0
                    bold = r == 0 or p.find(f".//{W}b") is not None
                    if NUMBER.fullmatch(text) and measure.width(text, size, bold) > room:
                        out.append(f"{path.name}: table {t}: {text!r} wraps in its column")
                    elif text and measure.longest_word(text, size, bold) > room:
                        out.append(f"{path.name}: table {t}: a word of {text[:40]!r} is split across lines")
    return list(dict.fromkeys(out))


def check(files: dict[str, Path], bound: Bound) -> list[str]:
    """Every finding for the written files; an empty list means ready to deliver."""
    out: list[str] = list(bound.notes)
    brand = bound.plan.meta.brand
    note = None
    if brand is not None:
        from docagent.service.brands import font_note  # brands reads the database: only for a branded job

        note = font_note(brand.font)
    if note and "pdf" in files:  # a fallback, recorded rather than failed
        out.append(note)
    for fmt, path in files.items():
        size = path.stat().st_size
        if size > MAX_CHECK_BYTES:  # past what the render worker should spend on it: said, not done
            out.append(f"{path.name}: not checked ({size:,} bytes is over the check limit of {MAX_CHECK_BYTES:,})")
            continue
        if fmt in ("docx", "xlsx", "pptx"):
            out += ooxml(path) + leftovers(path, _ooxml_text(path))
        if fmt == "docx":
            out += docx_layout(path) + docx_tables(path)
        elif fmt == "xlsx":
            out += xlsx_widths(path)
        elif fmt == "pdf":
            out += pdf_check(path, bound)
        elif fmt == "pptx":  # text boxes and tables fit, charts have data, text moved to the notes is said
            from docagent.renderers.slidecheck import check_deck

            out += [f"{path.name}: {finding}" for finding in check_deck(path)]
    return out


__all__ = ["check"]
