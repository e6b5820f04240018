"""Style mode for an organisation's .docx template: the plan written into the template, in its look.

The template keeps its styles (headings, body text, captions), page size and margins, headers and
footers (a different first page included), theme fonts and colours. The plan's content goes where
the template's body ends, or in place of a paragraph holding {{body}}. Styles the writer needs and
the template lacks (a list style, Caption) are copied from our base document, lists with their
numbering; tables and charts take the template's heading colour.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.styles import BabelFish
from docx.text.paragraph import Paragraph

from docagent.engine.bind import Bound
from docagent.renderers.charts import ChartImage, draw_all
from docagent.renderers.common import Front, by_length, estimate_pages, front_matter, numbering
from docagent.renderers.docfill import load
from docagent.renderers.theme import Theme, branded, load_theme, templates_dir
from docagent.renderers.word import Builder

NEEDED = ("Title", "Subtitle", "Caption", "TOC Heading", "List Bullet", "List Number",
          "Heading 1", "Heading 2", "Heading 3")  # fmt: skip
BODY = "{{body}}"


def _style_id(doc: Any, name: str) -> Any | None:
    for st in doc.styles.element.iter(qn("w:style")):
        n = st.find(qn("w:name"))
        if n is not None and n.get(qn("w:val")).lower() == name.lower():
            return st
    return None


def _copy_numbering(doc: Any, base: Any, style: Any) -> None:
    """A copied list style's numbering definition, renumbered into the template's numbering part."""
    num_id = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")
    if num_id is None:
        return
    src = base.part.numbering_part.element
    num = next(n for n in src.iter(qn("w:num")) if n.get(qn("w:numId")) == num_id.get(qn("w:val")))
    abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
    abstract = next(a for a in src.iter(qn("w:abstractNum")) if a.get(qn("w:abstractNumId")) == abstract_id)
    dst = doc.part.numbering_part.element
    new_abstract = str(1 + max([int(a.get(qn("w:abstractNumId"))) for a in dst.iter(qn("w:abstractNum"))] or [0]))
    new_num = str(1 + max([int(n.get(qn("w:numId"))) for n in dst.iter(qn("w:num"))] or [0]))
    a = copy.deepcopy(abstract)
    a.set(qn("w:abstractNumId"), new_abstract)
    for child in a.findall(qn("w:nsid")) + a.findall(qn("w:tmpl")):
        a.remove(child)
    nums = dst.findall(qn("w:num"))
    if nums:
        nums[0].addprevious(a)  # every abstractNum comes before the first num
    else:
        dst.append(a)
    n = copy.deepcopy(num)
    n.set(qn("w:numId"), new_num)
    n.find(qn("w:abstractNumId")).set(qn("w:val"), new_abstract)
    dst.append(n)
    num_id.set(qn("w:val"), new_num)


def _word_names(doc: Any) -> None:
    """Built-in style names as Word writes them ("heading 1"); LibreOffice writes "Heading 1", which Word
    and python-docx then take for a different style."""
    internal = {ui.lower(): name for ui, name in BabelFish.style_aliases}
    for st in doc.styles.element.iter(qn("w:style")):
        n = st.find(qn("w:name"))
        value = n.get(qn("w:val")) if n is not None else None
        if value and value.lower() in internal and value != internal[value.lower()]:
            n.set(qn("w:val"), internal[value.lower()])


def _ensure_styles(doc: Any) -> None:
    """Styles the writer names that the template does not define, copied from our base document."""
    _word_names(doc)
    colour = _heading_colour(doc)
    base = Document(str(templates_dir() / "base.docx"))
    for name in NEEDED:
        if _style_id(doc, name) is not None:
            continue
        src = _style_id(base, name)
        if src is None:
            continue
        style = copy.deepcopy(src)
        based = style.find(qn("w:basedOn"))
        if based is not None and doc.styles.element.get_by_id(based.get(qn("w:val"))) is None:
            style.remove(based)  # a parent the template lacks: the copy stands alone
        for linked in style.findall(qn("w:link")):
            style.remove(linked)
        _copy_numbering(doc, base, style)
        if colour is not None:  # a copied title or contents heading in the house colour, not ours
            hex_colour = colour.lstrip("#").upper()
            for el in style.iter():
                if el.tag == qn("w:color"):
                    el.set(qn("w:val"), hex_colour)
                elif el.get(qn("w:color")) not in (None, "auto"):  # a rule: w:pBdr's bottom border
                    el.set(qn("w:color"), hex_colour)
                else:
                    continue
                for attr in ("w:themeColor", "w:themeShade", "w:themeTint"):
                    el.attrib.pop(qn(attr), None)
        doc.styles.element.append(style)


def _heading_colour(doc: Any) -> str | None:
    st = _style_id(doc, "Heading 1")
    colour = st.find(f"{qn('w:rPr')}/{qn('w:color')}") if st is not None else None
    value = colour.get(qn("w:val")) if colour is not None else None
    return f"#{value}" if value and len(value) == 6 and value.lower() != "auto" else None


class StyledBuilder(Builder):
    """The plan's blocks as the built-in writer lays them out, in the template's document and styles."""

    def __init__(self, bound: Bound, theme: Theme, charts: dict[int, ChartImage], doc: Any) -> None:
        self.bound, self.theme, self.charts = bound, theme, charts
        self.doc = doc
        self.labels = numbering(bound)

    def _header_footer(self, section: Any) -> None:
        """The template's own headers and footers stay as they are."""

    def build(self, front: Front) -> Any:
        body = self.doc.element.body
        marker = next((p for p in body.iter(qn("w:p")) if BODY in Paragraph(p, self.doc).text.replace(" ", "")), None)
        before = set(body)  # the elements themselves: lxml keeps one proxy per element while it is referenced
        doc = super().build(front)
        if marker is not None:  # the content takes the place of {{body}}
            added = [el for el in body if el not in before and el.tag != qn("w:sectPr")]
            for el in added:
                marker.addprevious(el)
            marker.getparent().remove(marker)
        return doc


def template_theme(theme: Theme, doc: Any) -> Theme:
    """Our theme with the template's heading colour, for table headers, rules and charts."""
    colour = _heading_colour(doc)
    if colour is None:
        return theme
    return theme.model_copy(update={"primary": colour, "header_fill": colour, "palette": [colour, *theme.palette]})


def render_styled_docx(bound: Bound, theme_name: str, template: bytes, path: Path) -> Path:
    doc = load(template)
    _ensure_styles(doc)
    theme = template_theme(branded(load_theme(theme_name), bound.plan.meta.brand), doc)
    charts = draw_all(bound, theme)
    tmp = path.with_suffix(".docx.part")
    front = front_matter(bound.plan, estimate_pages(bound) if by_length(bound.plan) else None)
    StyledBuilder(bound, theme, charts, doc).build(front).save(str(tmp))
    tmp.replace(path)
    return path
