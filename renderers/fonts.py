"""Find the fonts every format uses, and say clearly when text needs one that is missing.

Latin, Greek and Cyrillic come from DejaVu, which matplotlib ships (so a fresh
virtualenv has it). CJK needs a TrueType-outline font from the system
(`fonts-wqy-zenhei` or `fonts-droid-fallback`), or DOCAGENT_CJK_FONT.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from docagent.errors import FontMissing

CJK_CANDIDATES = [
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "WenQuanYi Zen Hei"),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0, "Droid Sans Fallback"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "WenQuanYi Micro Hei"),
]


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int
    family: str


@dataclass(frozen=True)
class Fonts:
    regular: FontFile
    bold: FontFile
    mono: FontFile
    cjk: FontFile | None


def _dejavu_dir() -> Path:
    spec = find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontMissing("matplotlib is not installed, and with it the DejaVu fonts")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@lru_cache
def find_fonts() -> Fonts:
    d = _dejavu_dir()
    cjk = None
    override = os.environ.get("DOCAGENT_CJK_FONT")
    candidates = [(override, 0, "CJK")] if override else []
    for path, index, family in [*candidates, *CJK_CANDIDATES]:
        if path and Path(path).is_file():
            cjk = FontFile(Path(path), index, family)
            break
    return Fonts(
        FontFile(d / "DejaVuSans.ttf", 0, "DejaVu Sans"),
        FontFile(d / "DejaVuSans-Bold.ttf", 0, "DejaVu Sans"),
        FontFile(d / "DejaVuSansMono.ttf", 0, "DejaVu Sans Mono"),
        cjk,
    )


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # radicals, kana, CJK unified ideographs, symbols
        or 0xAC00 <= o <= 0xD7AF  # Hangul
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x2FA1F
    )


def require_cjk(texts: list[str]) -> None:
    """Raise FontMissing when some text is CJK and no CJK font is installed."""
    if find_fonts().cjk is not None:
        return
    chars = sorted({ch for t in texts for ch in t if is_cjk(ch)})
    if chars:
        sample = "".join(chars[:8])
        name = unicodedata.name(chars[0], "CJK")
        raise FontMissing(
            f"the document contains CJK text ({sample!r}, e.g. {name}) but no CJK font is "
            "installed; install Debian's fonts-wqy-zenhei (or fonts-droid-fallback), "
            "or point DOCAGENT_CJK_FONT at a TrueType .ttf/.ttc file"
        )
