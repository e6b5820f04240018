"""Style mode for an organisation's .pptx template: the deck on its masters and layouts.

Each slide takes the template's layout for its role (title, section, title only for content,
blank as a fallback), its title and subtitle go into the layout's placeholders and keep the master's
formatting, and the template's theme colours and fonts colour the charts, tables and text we draw.
The template's own slides are dropped; its masters, layouts, theme and footers stay.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn

from docagent.engine.bind import Bound
from docagent.renderers.deck import Slide
from docagent.renderers.slides import Builder
from docagent.renderers.theme import Theme, branded, load_theme

# our builder's layout index -> the layout types that fill the role, in order of preference
ROLES = {0: ("title",), 2: ("secHead", "titleOnly"), 5: ("titleOnly", "obj", "tx")}
TITLES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)


def _layout_by_role(prs: Any, index: int) -> Any:
    layouts = list(prs.slide_layouts)
    for kind in ROLES.get(index, ("titleOnly",)):
        for layout in layouts:
            if layout._element.get("type") == kind:
                return layout
    with_title = [lay for lay in layouts if any(p.placeholder_format.type in TITLES for p in lay.placeholders)]
    return (with_title or layouts)[0]


def _drop_slides(prs: Any) -> None:
    """The template's sample slides go; unreferenced slide parts are left out when the deck is saved."""
    ids = prs.slides._sldIdLst  # python-pptx has no public way to delete a slide
    for sld_id in list(ids):
        prs.part.drop_rel(sld_id.rId)
        ids.remove(sld_id)


def template_theme(theme: Theme, prs: Any) -> Theme:
    """Our theme in the template's colours and fonts (its theme part's accents, dark 2, major and minor font)."""
    root = etree.fromstring(prs.slide_master.part.part_related_by(RT.THEME).blob)

    def colour(slot: str) -> str | None:
        el = root.find(f".//{qn('a:clrScheme')}/{qn('a:' + slot)}")
        rgb = el.find(qn("a:srgbClr")) if el is not None else None
        return f"#{rgb.get('val')}" if rgb is not None else None

    accents = [c for k in range(1, 7) if (c := colour(f"accent{k}"))]
    update: dict[str, Any] = {}
    if accents:
        update = {"primary": colour("dk2") or accents[0], "accent": accents[min(1, len(accents) - 1)],
                  "palette": accents, "header_fill": accents[0]}  # fmt: skip
    for which, field in (("a:majorFont", "docx_heading_font"), ("a:minorFont", "docx_font")):
        latin = root.find(f".//{qn(which)}/{qn('a:latin')}")
        if latin is not None and latin.get("typeface") and not latin.get("typeface").startswith("+"):
            update[field] = latin.get("typeface")
    return theme.model_copy(update=update)


class TemplateDeck(Builder):
    """Our deck's slides, laid on the template's layouts."""

    def __init__(self, bound: Bound, theme: Theme, template: bytes) -> None:
        super().__init__(bound, theme)
        self.prs = Presentation(io.BytesIO(template))
        _drop_slides(self.prs)
        self.theme = template_theme(theme, self.prs)

    def _theme_part(self) -> None:
        """The template's theme stays as it is."""

    def _footers(self) -> None:
        """The template's masters carry whatever footers the organisation put there."""

    def _new(self, layout: int = 5) -> Any:
        slide = self.prs.slides.add_slide(_layout_by_role(self.prs, layout))
        keep = (*TITLES, PP_PLACEHOLDER.SUBTITLE) if layout == 0 else TITLES
        for ph in list(slide.placeholders):  # we draw the body ourselves; an empty placeholder would show
            if ph.placeholder_format.type not in keep:
                ph._element.getparent().remove(ph._element)
        return slide

    def _fill_title(self, slide: Any, text: str) -> None:
        title = slide.shapes.title
        if title is not None:  # the layout's placement and the master's font, size and colour
            title.text_frame.text = text

    def _title(self, slide: Any, spec: Slide) -> None:
        self._fill_title(slide, spec.title)

    def title_slide(self, spec: Slide) -> None:
        slide = self._new(0)
        meta = self.meta
        self._fill_title(slide, meta.title)
        sub = next((p for p in slide.placeholders if p.placeholder_format.type == PP_PLACEHOLDER.SUBTITLE), None)
        line = meta.subtitle or meta.author or ""
        if sub is not None and line:
            sub.text_frame.text = line
        elif sub is not None:
            sub._element.getparent().remove(sub._element)
        self._notes(slide, spec.notes)

    def section_slide(self, spec: Slide) -> None:
        slide = self._new(2)
        self._fill_title(slide, spec.title)
        self._notes(slide, spec.notes)


def render_styled_pptx(bound: Bound, theme_name: str, template: bytes, path: Path) -> list[str]:
    """Write the deck on the template's layouts; returns what did not fit where it belonged."""
    builder = TemplateDeck(bound, branded(load_theme(theme_name), bound.plan.meta.brand), template)
    tmp = path.with_suffix(".pptx.part")
    builder.build().save(str(tmp))
    tmp.replace(path)
    return builder.moved
