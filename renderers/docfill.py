"""Fill mode for an organisation's .docx template: its {{placeholders}} replaced with bound values.

The template keeps everything it has (styles, page setup, headers, footers, images); only placeholder
text changes. A placeholder split across runs (as Word and LibreOffice often save it) is joined, and the
value takes the formatting of the run the placeholder starts in. A table row holding
{{table:NAME.column}} is repeated for each row of that table. Anything left unfilled is an error: a
letter with "{{balance}}" in it must never be sent.
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from docagent.engine.templatefiles import PLACEHOLDER
from docagent.engine.templatefiles.binding import FillValues, refuse_unfilled, row_table

Lookup = Callable[[str], str | None]
CARRIES = ("drawing", "fldChar", "instrText")  # a run holding one of these stays when its text is gone


def _local(el: Any) -> str:
    return str(el.tag).rsplit("}", 1)[-1]


def _parts(doc: Any) -> Iterator[Any]:
    """The XML roots that hold text: the body, then every header and footer part (each once)."""
    for root, _ in _text_parts(doc):
        yield root


def _text_parts(doc: Any) -> Iterator[tuple[Any, Any]]:
    """(XML root, package part) of the body and of each header and footer part."""
    yield doc.element.body, doc.part
    seen: set[int] = set()
    for section in doc.sections:
        for hf in (
            section.header, section.first_page_header, section.even_page_header,
            section.footer, section.first_page_footer, section.even_page_footer,
        ):  # fmt: skip
            if hf.is_linked_to_previous:
                continue
            el = hf._element  # a header part's root; python-docx exposes no public handle
            if id(el) not in seen:
                seen.add(id(el))
                yield el, hf.part


def fill_paragraph(p: Any, lookup: Lookup) -> None:
    """Replace each placeholder whose value lookup knows; the value keeps its first run's formatting.
    `p`: a python-docx or python-pptx paragraph (its runs' text is all this reads and writes)."""
    runs = list(p.runs)
    texts = [r.text for r in runs]
    full = "".join(texts)
    if "{{" not in full:
        return
    starts, pos = [], 0
    lengths = [len(t) for t in texts]
    for t in texts:
        starts.append(pos)
        pos += len(t)
    for m in reversed(list(PLACEHOLDER.finditer(full))):
        value = lookup(m.group(1))
        if value is None:
            continue
        # the runs holding the first and last character (run lengths as read: earlier matches lie to the left)
        first = next(i for i, s in enumerate(starts) if s <= m.start() < s + lengths[i])
        last = next(i for i, s in enumerate(starts) if s <= m.end() - 1 < s + lengths[i])
        head = texts[first][: m.start() - starts[first]]
        tail = texts[last][m.end() - starts[last] :]
        if first == last:
            texts[first] = head + value + tail
        else:
            texts[first] = head + value
            for i in range(first + 1, last):
                texts[i] = ""
            texts[last] = tail
    for run, old, new in zip(runs, [r.text for r in runs], texts, strict=True):
        if new != old:
            if new == "" and not any(_local(child) in CARRIES for child in run._r):
                run._r.getparent().remove(run._r)  # a run that held only placeholder text
            else:
                run.text = new


def _paragraphs(el: Any, parent: Any) -> Iterator[Paragraph]:
    for p in list(el.iter(qn("w:p"))):
        yield Paragraph(p, parent)


def cell_lookup(values: FillValues, name: str, n: int, scalar: Lookup) -> Lookup:
    """Row n of table `name` for its {{table:name.column}} placeholders; anything else as elsewhere."""

    def cell(ph: str) -> str | None:
        column = values.column(ph, name)
        return scalar(ph) if column is None else values.cell(name, column, n)

    return cell


def _text(el: Any, prefix: str) -> str:
    return "".join(t.text or "" for t in el.iter(qn(f"{prefix}:t")))


def repeat_rows(
    root: Any, values: FillValues, scalar: Lookup, paragraphs: Callable[[Any], Iterator[Any]], prefix: str = "w"
) -> None:
    """Each table row holding {{table:NAME.column}} becomes one row per row of table NAME, filled; `prefix`:
    w for Word's tables, a for DrawingML's (a slide's), `paragraphs` the library's paragraphs of an element."""
    for tr in list(root.iter(qn(f"{prefix}:tr"))):
        name = row_table(_text(tr, prefix))
        if name is None or name not in values.tables:
            continue
        for n in range(len(values.tables[name].rows)):
            row = copy.deepcopy(tr)
            for p in paragraphs(row):
                fill_paragraph(p, cell_lookup(values, name, n, scalar))
            tr.addprevious(row)
        tr.getparent().remove(tr)  # the template row itself; none left when the table is empty


def _fill_controls(root: Any, parent: Any, lookup: Lookup) -> None:
    """Content controls tagged with a placeholder's name: their text becomes the value, in their first run's
    formatting, and they stop showing as placeholder text."""
    for sdt in list(root.iter(qn("w:sdt"))):
        tag = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
        value = lookup(tag.get(qn("w:val"), "")) if tag is not None else None
        content = sdt.find(qn("w:sdtContent"))
        runs = list(content.iter(qn("w:r"))) if content is not None else []
        if value is None or not runs:
            continue
        for flag in sdt.find(qn("w:sdtPr")).findall(qn("w:showingPlcHdr")):
            flag.getparent().remove(flag)
        for style in runs[0].findall(f"{qn('w:rPr')}/{qn('w:rStyle')}"):
            if style.get(qn("w:val")) == "PlaceholderText":  # Word's grey prompt style is not the value's
                style.getparent().remove(style)
        Run(runs[0], parent).text = value
        for r in runs[1:]:
            r.getparent().remove(r)


def unfilled(roots: Iterable[Any], prefix: str = "w") -> list[str]:
    """Placeholders still in the paragraphs under `roots` (w: a document's parts, a: a deck's slides)."""
    found: dict[str, None] = {}
    for root in roots:
        for p in root.iter(qn(f"{prefix}:p")):
            for m in PLACEHOLDER.finditer(_text(p, prefix)):
                found.setdefault(m.group(0))
    return list(found)


# w:lvl's children in the schema's order; LibreOffice writes pStyle before numFmt, which Word repairs
LVL_ORDER = ("start", "numFmt", "lvlRestart", "pStyle", "isLgl", "suff", "lvlText", "lvlPicBulletId", "legacy",
             "lvlJc", "pPr", "rPr")  # fmt: skip


def _repair(doc: Any) -> None:
    """Defects common in templates saved by other programs, mended so the filled file opens cleanly in Word:
    numbering levels out of schema order, and no theme part (Word requires one)."""
    try:
        numbering = doc.part.numbering_part.element
    except (KeyError, NotImplementedError):
        numbering = None
    if numbering is not None:
        rank = {qn(f"w:{t}"): i for i, t in enumerate(LVL_ORDER)}
        for lvl in numbering.iter(qn("w:lvl")):
            children = sorted(lvl, key=lambda el: rank.get(el.tag, len(rank)))
            for el in children:
                lvl.append(el)  # appending an existing child moves it: the order becomes the schema's
    try:
        doc.part.part_related_by(RT.THEME)
    except KeyError:
        theme = Document().part.part_related_by(RT.THEME)  # python-docx's default theme (Office's)
        part = Part(PackURI("/word/theme/theme1.xml"), theme.content_type, theme.blob, doc.part.package)
        doc.part.relate_to(part, RT.THEME)


def load(template: bytes) -> Any:
    doc = Document(io.BytesIO(template))
    _repair(doc)
    return doc


class Filler:
    """One template, read once, filled many times (a burst's letters): each fill starts from its pristine text."""

    def __init__(self, template: bytes) -> None:
        self.doc = load(template)
        found = list(_text_parts(self.doc))
        self.roots = [root for root, _ in found]
        self.filled_parts = {str(part.partname).lstrip("/") for _, part in found}
        self.pristine = [[copy.deepcopy(child) for child in root] for root in self.roots]
        self.package: dict[str, bytes] | None = None  # the rest of the package, as python-docx first wrote it

    def write(self, values: FillValues, out: Path) -> Path:
        """Write the template with every placeholder filled; refuse to write one with any left."""
        doc = self.doc
        for root, children in zip(self.roots, self.pristine, strict=True):
            root[:] = [copy.deepcopy(child) for child in children]

        def scalar(name: str) -> str | None:
            return values.scalars.get(name)

        for root in self.roots:
            _fill_controls(root, doc, scalar)
            repeat_rows(root, values, scalar, partial(_paragraphs, parent=doc))
            for p in _paragraphs(root, doc):
                fill_paragraph(p, scalar)
        refuse_unfilled(unfilled(_parts(doc)))
        tmp = out.with_suffix(".docx.part")
        self._save(tmp)
        tmp.replace(out)
        return out

    def _save(self, path: Path) -> None:
        """The first copy through python-docx; later ones reuse its other parts and write only the filled ones
        (a burst of 1,000 letters spends its time here)."""
        if self.package is None:
            buf = io.BytesIO()
            self.doc.save(buf)
            with zipfile.ZipFile(buf) as zf:
                self.package = {name: zf.read(name) for name in zf.namelist()}
            path.write_bytes(buf.getvalue())
            return
        fresh = {
            name: p.blob
            for p in self.doc.part.package.iter_parts()
            if (name := str(p.partname).lstrip("/")) in self.filled_parts
        }
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, data in self.package.items():
                zf.writestr(name, fresh[name] if name in self.filled_parts else data)


def fill_docx(template: bytes, values: FillValues, out: Path) -> Path:
    """Write the template with every placeholder filled; refuse to write one with any left."""
    return Filler(template).write(values, out)
