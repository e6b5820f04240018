"""Text width and line wrapping with the metrics of the fonts docagent ships.

Slides name the theme's font (Calibri, Georgia, ...), which is not embedded and
may be substituted. DejaVu Sans is wider than those fonts and than their usual
substitutes (Carlito, Liberation), so text that fits by these measures fits in
PowerPoint and LibreOffice alike. CJK text is measured with the CJK font.
"""

from __future__ import annotations

import re
from functools import lru_cache

from PIL import ImageFont

from docagent.renderers.fonts import find_fonts, is_cjk

EM = 1000  # measure at 1000 px so one character's advance is precise to 1/1000 em
LINE = 1.2  # line height as a multiple of the font size (single spacing)
_TOKENS = re.compile(r"\s+|[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


@lru_cache(maxsize=4)
def _font(bold: bool, cjk: bool) -> ImageFont.FreeTypeFont:
    fonts = find_fonts()
    f = fonts.cjk if cjk and fonts.cjk is not None else (fonts.bold if bold else fonts.regular)
    return ImageFont.truetype(str(f.path), EM, index=f.index)


@lru_cache(maxsize=50_000)
def _advance(ch: str, bold: bool) -> float:
    """One character's advance in em."""
    return _font(bold, is_cjk(ch)).getlength(ch) / EM


def width(text: str, size: float, bold: bool = False) -> float:
    """Width of one line of text in points at `size` points."""
    return sum(_advance(ch, bold) for ch in text) * size


def wrap(text: str, avail: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap into lines no wider than `avail` points; explicit newlines are kept."""
    if "\n" not in text and width(text, size, bold) <= avail:
        return [text]  # the common case: one line
    out: list[str] = []
    for para in text.split("\n"):
        line, w = "", 0.0
        for tok in _TOKENS.findall(para):
            tw = width(tok, size, bold)
            if w + tw <= avail or (not line and tok.isspace()):
                line, w = line + tok, w + tw
                continue
            if tok.isspace():  # a break: the space is not carried to the next line
                out.append(line.rstrip())
                line, w = "", 0.0
                continue
            if line.strip():
                out.append(line.rstrip())
            line, w = "", 0.0
            while tw > avail and len(tok) > 1:  # a word longer than the line breaks anywhere
                cut = 1
                while cut < len(tok) and width(tok[: cut + 1], size, bold) <= avail:
                    cut += 1
                out.append(tok[:cut])
                tok = tok[cut:]
                tw = width(tok, size, bold)
            line, w = tok, tw
        out.append(line.rstrip())
    return out


def longest_word(text: str, size: float, bold: bool = False) -> float:
    """Width of the widest word (or CJK glyph): a column narrower than this splits a word."""
    return max((width(tok, size, bold) for tok in _TOKENS.findall(text) if not tok.isspace()), default=0.0)


def fit_columns(
    header: list[str], rows: list[list[str]], numeric: list[bool], total: float, sizes: tuple[float, ...], pad: float
) -> tuple[float, list[float]]:
    """The largest of `sizes` at which every figure and word fits its column, and the widths there."""
    for size in sizes:
        widths = column_widths(header, rows, numeric, total, size, pad)
        if not _squeezed(header, rows, numeric, widths, size, pad):
            return size, widths
    return sizes[-1], widths


def _squeezed(
    header: list[str], rows: list[list[str]], numeric: list[bool], widths: list[float], size: float, pad: float
) -> bool:
    return any(
        longest_word(header[k], size, True) + pad > widths[k] + 0.01
        or (numeric[k] and any(width(r[k], size, True) + pad > widths[k] + 0.01 for r in rows[:200]))
        for k in range(len(header))
    )


def column_widths(
    header: list[str], rows: list[list[str]], numeric: list[bool], total: float, size: float, pad: float
) -> list[float]:
    """Table column widths in points from measured content, filling `total`.

    A number column is as wide as its widest figure (a number never wraps); no column is narrower
    than its header's or its cells' longest word (no word is split, "Priori|ty"); text columns share
    what is left in proportion to their one-line width. Only when even that cannot fit are the
    minimums scaled down (and the QA pass reports the overflow)."""
    ncols = len(header)
    sample = rows[:200]
    natural, least = [], []
    for k in range(ncols):
        head = longest_word(header[k], size, bold=True)
        if numeric[k]:  # every row counts: the widest figure may be anywhere; measure the longest few
            figures = sorted({r[k] for r in rows}, key=len)[-5:]
            need = max([head, *(width(f, size, bold=True) for f in figures)])
            natural.append(need + pad)
            least.append(need + pad)
            continue
        lines = [line for r in sample for line in r[k].split("\n")]
        one_line = max([width(header[k], size, bold=True), *(width(x[:60], size) for x in lines)])
        word = max([head, *(longest_word(x, size) for x in lines)])
        natural.append(one_line + pad)
        least.append(min(word, total / 3) + pad)
    if sum(natural) <= total:
        return [total * n / sum(natural) for n in natural]
    spare = total - sum(least)
    if spare < 0:
        return [total * m / sum(least) for m in least]
    room = [n - m for n, m in zip(natural, least, strict=True)]
    return [m + spare * r / sum(room) if sum(room) else m for m, r in zip(least, room, strict=True)]


def lines_height(n: int, size: float) -> float:
    return n * size * LINE


def sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping each sentence's own punctuation."""
    return [s for s in _SENTENCE.split(text.strip()) if s]


__all__ = ["LINE", "column_widths", "fit_columns", "lines_height", "longest_word", "sentences", "width", "wrap"]
