"""The languages docagent writes: one phrase table per language in templates/i18n/, and the prompt's language.

English (`en.toml`) is the reference: every other table has the same keys, and a key or a language that is
missing falls back to English. Numbers and dates are not here: docagent.engine.formatting asks Babel (CLDR) for them.

Detection: the script decides for Japanese, Chinese and Korean; py3langid (its model ships in the wheel)
decides among Latin-script languages, and only when it is confident about a prompt of at least three words.
When the prompt says too little ("Q3 2025 KPIs"), the data's column names and text decide the same way;
a confident prompt wins over the data (an English prompt on a French file gets an English report).
Korean is detected (the CJK layout suits it) but has no phrase table, so its words are English.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from docagent.errors import UnsupportedLanguage

REFERENCE = "en"
CONFIDENT = 0.5  # py3langid's normalised probability among the candidates below; see tests/test_languages.py
DATA_CONFIDENT = 0.8  # column names are terse: the data decides only when it is clearly one language
MIN_WORDS = 3  # fewer words than this is jargon or column names, not a language
CANDIDATES = ["en", "fr", "de", "es", "pt", "it", "nl"]  # Italian and Dutch are told apart so they fall back
_WORD = re.compile(r"[^\W\d_]{2,}")


@cache
def _tables() -> dict[str, dict[str, dict[str, str]]]:
    folder = resources.files("docagent.templates") / "i18n"
    out = {}
    for f in folder.iterdir():
        if f.name.endswith(".toml"):
            out[f.name.removesuffix(".toml")] = tomllib.loads(f.read_text(encoding="utf-8"))
    return out


def supported() -> dict[str, str]:
    """Language code -> its own name, English first."""
    tables = _tables()
    codes = sorted(tables, key=lambda c: (c != REFERENCE, c))
    return {c: tables[c]["language"]["name"] for c in codes}


def base(language: str | None) -> str:
    """The phrase table a language code uses: 'fr-CA' -> 'fr'; unknown -> 'en'."""
    code = (language or "").replace("_", "-").split("-")[0].lower()
    return code if code in _tables() else REFERENCE


def check_language(language: str | None) -> str | None:
    """An explicit choice: kept when docagent writes it, else UnsupportedLanguage naming the supported ones."""
    if not language:
        return None
    code = language.replace("_", "-").split("-")[0].lower()
    if code not in _tables():
        names = ", ".join(f"{c} ({n})" for c, n in supported().items())
        raise UnsupportedLanguage(f"docagent does not write {language!r}; supported: {names}")
    return language


def phrases(language: str | None, section: str) -> dict[str, str]:
    """A section of the language's table, with English for any key it lacks."""
    tables = _tables()
    own = tables[base(language)].get(section, {})
    return {**tables[REFERENCE][section], **own}


def phrase(language: str | None, key: str, **values: object) -> str:
    text = phrases(language, "document")[key]
    return text.format(**values) if values else text


def cjk(language: str | None) -> bool:
    """Whether text in this language is written without spaces between words (and wraps per glyph)."""
    return (language or "")[:2].lower() in ("zh", "ja", "ko")


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # numpy and a 4 MB model: load on first use

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(CANDIDATES)
    return ident


def _by_script(text: str) -> str | None:
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    if re.search(r"[\uac00-\ud7af]", text):
        return "ko"
    return None


def _confident(text: str, threshold: float = CONFIDENT) -> str | None:
    """The language of `text` when it is clear, else None."""
    if by_script := _by_script(text):
        return by_script
    if len(_WORD.findall(text)) < MIN_WORDS:
        return None
    code, p = _identifier().classify(text)  # py3langid ships no type hints
    if p < threshold:
        return None
    return code if code in _tables() else REFERENCE  # a language docagent does not write: English


def detect(prompt: str, hints: Iterable[str] = ()) -> str:
    """The language to write in: the prompt's when it is clear, else the data's (`hints`), else English."""
    return _confident(prompt) or _confident(" ".join(hints)[:2000], DATA_CONFIDENT) or REFERENCE
