"""Which slides a plan becomes, decided without any office library.

An analyst's layout: a title slide, a slide per section with its heading as
title, each KPI row, chart and table page on a slide of its own, titled by the
block's finding (`headline`) when the plan writes one. An agenda of the level-1
headings and section dividers only when the plan asks (`meta.contents: true`). `meta.slides` sets how much text reaches
the slides (auto: all; sections: one slide per level-1 section, paragraphs in
the notes; none: visuals only); `slide: false` keeps a block out. Text that
does not fit is never cut mid-sentence: it goes to the speaker notes and is
recorded in `Deck.moved`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, assert_never

from docagent.engine.bind import Bound
from docagent.engine.i18n import phrase, supported
from docagent.engine.plan import (
    Block,
    Bullets,
    Callout,
    Chart,
    Heading,
    Image,
    Kpis,
    Model,
    PageBreak,
    Paragraph,
    Table,
)
from docagent.renderers import measure

# Geometry in points on a 16:9 slide (13.333 x 7.5 in).
SLIDE_W, SLIDE_H = 960.0, 540.0
MARGIN = 40.0
INSET_X, INSET_Y = 7.2, 3.6  # PowerPoint's default text frame insets (0.1 in, 0.05 in)
TITLE_TOP, TITLE_H = 30.0, 66.0
KICKER_TOP, KICKER_H = 10.0, 22.0
BODY_TOP, BODY_H = 108.0, 372.0
FOOTER_TOP, FOOTER_H = 500.0, 24.0
WIDTH = SLIDE_W - 2 * MARGIN
BULLET_INDENT = 22.0
TITLE_SIZES = (30.0, 26.0, 22.0, 18.0)
BODY_SIZES = (22.0, 20.0, 18.0, 16.0)
TABLE_ROWS = 12  # at most this many body rows on one slide
CELL_CHARS = 600  # cells wrap; only a cell too long for any slide is cut at a word (full text in the notes)

MARKERS = {f"[{phrase(code, 'not_on_slide')}]" for code in supported()}  # notes text the QA pass counts
Style = Literal["bullet", "number", "para", "callout_title", "callout", "subhead"]
Kind = Literal["title", "agenda", "section", "text", "kpis", "chart", "table", "model", "image"]


@dataclass
class Line:
    """One paragraph of a text slide."""

    text: str
    style: Style
    number: int = 0


@dataclass
class Slide:
    kind: Kind
    title: str
    kicker: str = ""
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    block: int | None = None
    rows: tuple[int, int] = (0, 0)  # a table page: body rows [start, end)
    page: tuple[int, int] = (1, 1)
    size: float = BODY_SIZES[0]
    level: int = 1  # of the heading that opened a text slide


@dataclass
class Deck:
    slides: list[Slide]
    moved: list[str]  # what did not fit on its slide and went to the notes


def word(key: str, language: str) -> str:
    return phrase(language, key)


def mark(text: str, language: str) -> str:
    """Notes text that belongs on the slide but did not fit; the QA pass counts these marks."""
    return f"[{word('not_on_slide', language)}] {text}"


def line_size(style: Style, base: float) -> float:
    return base - 2 if style in ("para", "callout") else base


NUMBER_INDENT = 36.0  # "10." at body size, and a space before the text ("1. Summary", never "1.Summary")


def line_indent(style: Style) -> float:
    return NUMBER_INDENT if style == "number" else BULLET_INDENT if style == "bullet" else 0.0


def space_before(style: Style, base: float) -> float:
    return 0.0 if style == "callout" else base * 0.45


def line_text(line: Line) -> str:
    return line.text


def line_height(line: Line, base: float, avail: float = WIDTH - 2 * INSET_X) -> float:
    size = line_size(line.style, base)
    bold = line.style in ("callout_title", "subhead")
    n = len(measure.wrap(line_text(line), avail - line_indent(line.style), size, bold))
    return measure.lines_height(n, size) + space_before(line.style, base)


def fit_lines(slide: Slide, language: str = "en", height: float = BODY_H - 2 * INSET_Y) -> str | None:
    """Choose the largest font that fits; otherwise move whole sentences to the notes. Says what moved."""
    for base in BODY_SIZES:
        if sum(line_height(ln, base) for ln in slide.lines) <= height:
            slide.size = base
            return None
    base = slide.size = BODY_SIZES[-1]
    kept: list[Line] = []
    moved: list[str] = []
    used = 0.0
    for ln in slide.lines:
        if moved:
            moved.append(ln.text)
            continue
        h = line_height(ln, base)
        if used + h <= height:
            kept.append(ln)
            used += h
            continue
        fit: list[str] = []
        parts = measure.sentences(ln.text)
        for k in range(1, len(parts)):
            trial = Line(" ".join(parts[:k]), ln.style, ln.number)
            if used + line_height(trial, base) > height:
                break
            fit = parts[:k]
        if fit:
            kept.append(Line(" ".join(fit), ln.style, ln.number))
            moved.append(" ".join(parts[len(fit) :]))
        else:
            moved.append(ln.text)
        used = height
    slide.lines = kept
    slide.notes.append(mark(" ".join(moved), language))
    words = sum(len(m.split()) for m in moved)
    return f"slide {slide.title!r}: {words} words did not fit and went to the speaker notes"


def fit_title(text: str, avail: float = WIDTH - 2 * INSET_X, height: float = TITLE_H) -> tuple[float, str]:
    """The largest title size that fits in two lines; a longer title is cut at a word with an ellipsis."""
    for size in TITLE_SIZES:
        n = len(measure.wrap(text, avail, size, bold=True))
        if measure.lines_height(n, size) <= height - 2 * INSET_Y:
            return size, text
    size, words = TITLE_SIZES[-1], text.split()
    while len(words) > 1:
        words.pop()
        cut = " ".join(words) + " …"
        if measure.lines_height(len(measure.wrap(cut, avail, size, True)), size) <= height - 2 * INSET_Y:
            return size, cut
    return size, text[:40] + "…"


def table_pages(n_rows: int, row_heights: list[float], avail: float) -> list[tuple[int, int]]:
    """Body rows split into pages of at most TABLE_ROWS rows that fit in `avail` points."""
    pages: list[tuple[int, int]] = []
    start, used = 0, 0.0
    for r in range(n_rows):
        h = row_heights[r]
        if r > start and (r - start >= TABLE_ROWS or used + h > avail):
            pages.append((start, r))
            start, used = r, 0.0
        used += h
    pages.append((start, n_rows))
    return pages


class Planner:
    """Walks the plan's blocks once and collects slides."""

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        self.meta = bound.plan.meta
        self.mode = self.meta.slides
        self.slides: list[Slide] = []
        self.open: Slide | None = None  # the text slide that collects text
        self.section = ""  # the current level-1 heading
        self.sub = ""  # the current level-2/3 heading

    def kicker(self) -> str:
        return " · ".join(x for x in (self.section, self.sub) if x)

    def start(self, title: str, kicker: str, level: int) -> Slide:
        self.close()
        self.open = Slide("text", title, kicker=kicker, level=level)
        if self.mode == "sections":  # text later in the section still lands on this slide
            self.slides.append(self.open)
        return self.open

    def close(self, before_visual: bool = False) -> None:
        """End the open text slide. An empty one becomes a section divider, except that an empty
        level-2 heading right before a visual only names that visual (its kicker)."""
        s, self.open = self.open, None
        if s is None or s.lines or s.notes:
            if s is not None and s not in self.slides:
                self.slides.append(s)
            return
        if (before_visual and s.level > 1) or self.meta.contents is not True:
            if s in self.slides:  # a divider pads a deck: only a deck that lists its sections has them
                self.slides.remove(s)
            return
        s.kind = "section"
        if s not in self.slides:
            self.slides.append(s)

    def heading(self, h: Heading) -> None:
        text = self.bound.text(h.text)
        if h.level == 1:
            self.section, self.sub = text, ""
        else:
            self.sub = text
        if self.mode == "none":
            return
        if self.open is not None and (h.level == 3 or (self.mode == "sections" and h.level > 1)):
            self.open.lines.append(Line(text, "subhead"))
            return
        self.start(text, self.section if h.level > 1 else "", h.level)

    def text(self, lines: list[Line], prose: list[str], on_slide: bool = True) -> None:
        """Lines go on the open text slide (opened under the current heading if needed); prose also
        goes to its notes. Where the mode keeps text off the slides, the notes get it all."""
        if self.mode == "none" or not on_slide:
            target = self.open or self.slides[-1]
            target.notes.extend(prose or [ln.text for ln in lines])
            return
        s = self.open or self.start(self.sub or self.section or self.meta.title, "", 2)
        s.lines.extend(lines)
        s.notes.extend(prose)

    def visual(self, kind: Kind, index: int, title: str) -> None:
        if self.mode != "sections":
            self.close(before_visual=True)
        kicker = self.kicker()
        self.slides.append(Slide(kind, title, kicker="" if kicker == title else kicker, block=index))

    def kpis(self, i: int) -> None:
        title = word("key_figures", self.meta.language)
        s = self.open
        if s is not None and not s.lines and not s.notes and (s not in self.slides or self.slides[-1] is s):
            title = s.title  # the heading names the figures: no empty slide before them
            if s in self.slides:
                self.slides.remove(s)
            self.open = None
        self.visual("kpis", i, title)

    def block(self, i: int, b: Block) -> None:
        t = self.bound.text
        match b:
            case Heading():
                self.heading(b)
            case Paragraph():
                self.text([Line(t(b.text), "para")], [t(b.text)], on_slide=self.mode == "auto")
            case Bullets():
                style: Style = "number" if b.ordered else "bullet"
                self.text([Line(t(x), style, n) for n, x in enumerate(b.items, 1)], [])
            case Callout():
                head = [Line(b.title, "callout_title")] if b.title else []
                self.text([*head, Line(t(b.text), "callout")], [t(b.text)])
            case Kpis():
                self.kpis(i)
            case Chart():
                if b.slide:  # the finding is the slide's title; the topic stays the figure's caption
                    self.visual("chart", i, t(b.headline or b.title))
            case Table():
                if b.slide:
                    self.visual("table", i, t(b.headline or b.title))
            case Model():
                self.visual("model", i, t(b.title))
            case PageBreak():
                if self.mode == "auto" and self.open is not None and self.open.lines:
                    self.close()  # text after the break opens a new slide under the same heading
            case Image():  # an image, or its placeholder, on a slide of its own
                self.visual("image", i, t(b.caption) if b.caption else b.alt)
            case _:
                assert_never(b)

    def plan(self) -> Deck:
        meta = self.meta
        self.slides.append(Slide("title", meta.title))
        headings = [self.bound.text(b.text) for b in self.bound.plan.blocks if isinstance(b, Heading) and b.level == 1]
        if len(headings) >= 2 and self.mode != "none" and meta.contents is True:  # an agenda when asked for
            agenda = Slide("agenda", word("agenda", meta.language))
            agenda.lines = [Line(h, "number", n) for n, h in enumerate(headings, 1)]
            self.slides.append(agenda)
        for i, b in enumerate(self.bound.plan.blocks):
            self.block(i, b)
        self.close()
        moved = [m for s in self.slides if s.kind in ("text", "agenda") for m in [fit_lines(s, meta.language)] if m]
        return Deck(self.slides, moved)


def plan_deck(bound: Bound) -> Deck:
    return Planner(bound).plan()


__all__ = ["MARKERS", "Deck", "Line", "Slide", "fit_lines", "fit_title", "mark", "plan_deck", "table_pages", "word"]
