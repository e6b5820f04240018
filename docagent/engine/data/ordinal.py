"""Text keys with a natural order: months, weekdays, quarters, halves, fiscal years.

`natural_order(values)` gives the values in that order when every one of them
belongs to the same family, else None; alphabetical order would put April first
and 三季度 before 二季度.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

MONTHS = [
    # en, fr, de, es, it, pt: full names; three- and four-letter stems are matched below
    ("january", "janvier", "januar", "enero", "gennaio", "janeiro", "jänner"),
    ("february", "fevrier", "februar", "febrero", "febbraio", "fevereiro"),
    ("march", "mars", "marz", "marzo", "marco"),
    ("april", "avril", "abril", "aprile"),
    ("may", "mai", "mayo", "maggio", "maio"),
    ("june", "juin", "juni", "junio", "giugno", "junho"),
    ("july", "juillet", "juli", "julio", "luglio", "julho"),
    ("august", "aout", "agosto"),
    ("september", "septembre", "septiembre", "settembre", "setembro", "sept"),
    ("october", "octobre", "oktober", "octubre", "ottobre", "outubro"),
    ("november", "novembre", "noviembre", "novembro"),
    ("december", "decembre", "dezember", "diciembre", "dicembre", "dezembro"),
]
WEEKDAYS = [
    ("monday", "lundi", "montag", "lunes", "lunedi", "segunda"),
    ("tuesday", "mardi", "dienstag", "martes", "martedi", "terca", "tues"),
    ("wednesday", "mercredi", "mittwoch", "miercoles", "mercoledi", "quarta"),
    ("thursday", "jeudi", "donnerstag", "jueves", "giovedi", "quinta", "thur", "thurs"),
    ("friday", "vendredi", "freitag", "viernes", "venerdi", "sexta"),
    ("saturday", "samedi", "samstag", "sabado", "sabato"),
    ("sunday", "dimanche", "sonntag", "domingo", "domenica"),
]
CN_DIGITS = "一二三四五六七八九十"
CN_WEEK = "一二三四五六日"
JA_WEEK = "月火水木金土日"
KO_WEEK = "월화수목금토일"
# Japanese and Korean spellings rewritten to the Chinese/Latin ones the patterns below know.
CANON: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"第?([1-4])四半期", r"q\1"),  # 第1四半期
    (r"([1-4])분기", r"q\1"),  # 1분기
    (r"^([1-4])q$", r"q\1"),  # 1Q
    (r"(1[0-2]|0?[1-9])월$", r"\1月"),  # 3월
    (rf"^([{JA_WEEK}])曜日?$", lambda m: "星期" + CN_WEEK[JA_WEEK.index(m.group(1))]),  # 月曜日
    (rf"^([{KO_WEEK}])요일$", lambda m: "星期" + CN_WEEK[KO_WEEK.index(m.group(1))]),  # 월요일
]
YEAR = r"(?:fy\s?)?((?:19|20)\d\d)"
PERIOD = r"([qth])\s?([1-4])|([一二三四1-4])季度|第([一二三四1-4])季度|([上下])半年"


def _fold(text: str) -> str:
    """Lower case, accents dropped, spaces squeezed: 'Février ' -> 'fevrier'."""
    t = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    t = unicodedata.normalize("NFKC", t)  # Hangul syllables come back together
    t = " ".join(t.lower().replace(".", " ").split())
    for pattern, repl in CANON:
        t = re.sub(pattern, repl, t)
    return t


def _named(word: str, table: list[tuple[str, ...]]) -> int | None:
    for i, names in enumerate(table):
        for n in names:
            if word == n or (len(word) >= 3 and n.startswith(word) and len(word) < len(n)):
                return i
    return None


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text in CN_DIGITS:
        return CN_DIGITS.index(text) + 1
    if text.startswith("十") and len(text) == 2 and text[1] in CN_DIGITS:
        return 10 + CN_DIGITS.index(text[1]) + 1
    return None


def _period(m: re.Match[str]) -> tuple[str, int] | None:
    """('quarter' | 'half', n) from a PERIOD match."""
    letter, n, cn, cn2, half = m.groups()
    if letter:
        return ("half" if letter == "h" else "quarter", int(n))
    if half:
        return ("half", 1 if half == "上" else 2)
    number = _cn_number(cn or cn2)
    return ("quarter", number) if number else None


def _year_period(v: str) -> tuple[str, int, int] | None:
    """'2024 Q1', 'Q1 2024', '2024-T3', 'FY2025 H1', '2024年一季度'."""
    leading = re.fullmatch(rf"{YEAR}\s*(?:年|-|/)?\s*(.+)", v)
    trailing = re.fullmatch(rf"(.+?)\s*(?:-|/)?\s*{YEAR}", v)
    year, rest = (leading.group(1), leading.group(2)) if leading else (None, None)
    if trailing and not year:
        year, rest = trailing.group(2), trailing.group(1)
    inner = re.fullmatch(PERIOD, rest) if rest else None
    p = _period(inner) if inner else None
    return (f"year {p[0]}", int(year), p[1]) if p and year else None


def key(value: str) -> tuple[str, int, int] | None:
    """(family, year or 0, position) of one value, or None when it is not an ordinal key."""
    v = _fold(value.strip())
    if not v:
        return None
    m = re.fullmatch(PERIOD, v)
    if m and (p := _period(m)):
        return (p[0], 0, p[1])
    if yp := _year_period(v):
        return yp
    m = re.fullmatch(r"([一二三四五六七八九十]{1,3}|1[0-2]|0?[1-9])月(?:份)?", v)
    if m and (n := _cn_number(m.group(1))) and 1 <= n <= 12:
        return ("month", 0, n)
    m = re.fullmatch(r"(?:星期|周|週|礼拜)([一二三四五六日天])", v)
    if m:
        return ("weekday", 0, CN_WEEK.index(m.group(1).replace("天", "日")) + 1)
    words = v.split()
    if len(words) == 2 and re.fullmatch(r"(?:19|20)\d\d", words[1]):
        month = _named(words[0], MONTHS)
        if month is not None:
            return ("year month", int(words[1]), month + 1)
    if len(words) == 1 and not any(ch.isdigit() for ch in v):
        month = _named(v, MONTHS)
        if month is not None:
            return ("month", 0, month + 1)
        day = _named(v, WEEKDAYS)
        if day is not None:
            return ("weekday", 0, day + 1)
    return None


def natural_order(values: Iterable[str | None]) -> list[str] | None:
    """The distinct values in natural order when all share one family (and there are two or more)."""
    present = sorted({v for v in values if v is not None and v.strip()})
    if len(present) < 2:
        return None
    keys = {v: key(v) for v in present}
    families = {k[0] for k in keys.values() if k}
    if None in keys.values() or len(families) != 1:
        return None
    return sorted(present, key=lambda v: (keys[v][1], keys[v][2]))  # type: ignore[index]


def year_columns(names: Iterable[str]) -> list[str]:
    """Column names that are plain years ('2024', 'FY2025')."""
    return [n for n in names if re.fullmatch(YEAR, _fold(n))]


def period_columns(names: list[str]) -> list[str]:
    """Names of columns that are periods of one family, in natural order (at least two)."""
    years = year_columns(names)
    if len(years) >= 2:
        return sorted(years, key=lambda n: int(re.sub(r"\D", "", n)))
    keyed = [(n, key(n)) for n in names]
    families: dict[str, list[tuple[str, tuple[str, int, int]]]] = {}
    for n, k in keyed:
        if k:
            families.setdefault(k[0], []).append((n, k))
    if not families:
        return []
    best = max(families.values(), key=len)
    if len(best) < 2:
        return []
    return [n for n, k in sorted(best, key=lambda item: (item[1][1], item[1][2]))]
