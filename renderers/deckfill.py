"""Fill mode for an organisation's .pptx template: its {{placeholders}} replaced with bound values.

The deck keeps everything it has (masters, layouts, theme, pictures, charts, notes); only placeholder text
changes, on every slide: text boxes, placeholders, grouped shapes, table cells and speaker notes. A
placeholder split across runs is joined and takes the formatting of the run it starts in, as in a .docx;
a table row holding {{table:NAME.column}} is repeated for each row of that table. Anything left unfilled
is an error: an account review saying "{{revenue}}" must never be sent.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.oxml.ns import qn
from pptx.text.text import _Paragraph

from docagent.engine.templatefiles.binding import FillValues, refuse_unfilled
from docagent.renderers.docfill import fill_paragraph, repeat_rows, unfilled


def _roots(prs: Any) -> Iterator[tuple[Any, Any]]:
    """(XML, slide) of every slide and of its notes, where a deck's own text is."""
    for slide in prs.slides:
        yield slide._element, slide
        if slide.has_notes_slide:
            yield slide.notes_slide._element, slide.notes_slide


def _paragraphs(root: Any, owner: Any) -> Iterator[_Paragraph]:
    for p in list(root.iter(qn("a:p"))):
        yield _Paragraph(p, owner)


class DeckFiller:
    """One deck, read for each document it fills (a burst's decks start from the same bytes)."""

    def __init__(self, template: bytes) -> None:
        self.template = template

    def write(self, values: FillValues, out: Path) -> Path:
        prs = Presentation(io.BytesIO(self.template))

        def scalar(name: str) -> str | None:
            return values.scalars.get(name)

        for root, owner in _roots(prs):
            repeat_rows(root, values, scalar, partial(_paragraphs, owner=owner), "a")
            for p in _paragraphs(root, owner):
                fill_paragraph(p, scalar)
        refuse_unfilled(unfilled((root for root, _ in _roots(prs)), "a"))
        tmp = out.with_suffix(".pptx.part")
        prs.save(str(tmp))
        tmp.replace(out)
        return out


__all__ = ["DeckFiller"]
