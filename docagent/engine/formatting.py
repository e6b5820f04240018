"""How computed values are shown: one place, so every format prints the same text.

English keeps docagent's own forms ($1,234.50, 2025 Q1, Mar 2025, ISO dates). Every other language
asks Babel, whose CLDR data says where the separators, the currency and the percent sign go
(1 234,5 in French, 1.234,5 in German) and how months and quarters read (mars 2026, T1 2026).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from functools import cache
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)

from docagent.engine import i18n
from docagent.engine.plan import PLACEHOLDER, Fmt

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}
POINTS = {"de": "\u00a0Pp.", "fr": "\u00a0pt", "es": "\u00a0p.\u00a0p.", "zh": "个百分点", "ja": "ポイント"}


def points(v: float, language: str | None = None) -> str:
    """A difference of two ratios in percentage points, always signed: 0.012 -> +1.2 pp."""
    unit = POINTS.get(i18n.base(language) or "", "\u00a0pp")
    if loc := _locale(language):
        return format_decimal(v * 100, "+#,##0.0;-#,##0.0", locale=loc) + unit
    return f"{v * 100:+,.1f}{unit}"


def _locale(language: str | None) -> str | None:
    """The Babel locale for a language, or None for English (docagent's own forms)."""
    code = i18n.base(language)
    return None if code == i18n.REFERENCE else code


def _pattern(kind: str, loc: str, decimals: int) -> str:
    """The locale's percent or currency pattern with `decimals` fraction digits."""
    formats = Locale.parse(loc).percent_formats if kind == "percent" else Locale.parse(loc).currency_formats
    pattern = formats[None if kind == "percent" else "standard"].pattern
    body = "#,##0" + ("." + "0" * decimals if decimals else "")
    return re.sub(r"#,##0(\.0+)?", body, pattern)


def _percent(v: float, loc: str, decimals: int) -> str:
    from babel.numbers import format_percent

    return format_percent(v, _pattern("percent", loc, decimals), locale=loc)


# Where the compact form changes unit: one table per language, read by every format (tiles, tables,
# chart labels, .xlsx and .pptx number formats), so a figure is never 1.2K in one file and 1,200 in another.
SIGNIFICANT = 3  # a compact figure shows three significant digits: $2.13M, $250K, 530万
_WESTERN = ((1e3, "{}K"), (1e6, "{}M"), (1e9, "{}B"), (1e12, "{}T"))
_EAST = {
    "zh": ((1e4, "{}万"), (1e8, "{}亿"), (1e12, "{}万亿")),
    "ja": ((1e4, "{}万"), (1e8, "{}億"), (1e12, "{}兆")),
}


@cache
def compact_steps(language: str | None = None) -> tuple[tuple[float, str], ...]:
    """(unit, template) pairs, smallest first: the compact form shows value/unit in the template's `{}`.

    English writes K/M/B/T and Chinese and Japanese 万/亿; other languages take CLDR's short forms,
    which may start later (German has no short word for thousands: 21.345, then 2,13 Mio.)."""
    code = i18n.base(language)
    if code in _EAST:
        return _EAST[code]
    if code == i18n.REFERENCE:
        return _WESTERN
    patterns = Locale.parse(code).compact_decimal_formats["short"]["other"]
    steps: dict[float, str] = {}
    for key in sorted(patterns, key=int):
        pattern = patterns[key].pattern.replace("'", "")
        zeros = re.search(r"0+", pattern)
        if zeros is None or not any(ch.isalpha() for ch in pattern):
            continue  # "0": no short form at this magnitude
        unit = int(key) / 10 ** (len(zeros.group()) - 1)
        steps.setdefault(unit, pattern[: zeros.start()] + "{}" + pattern[zeros.end() :])
    return tuple(sorted(steps.items()))


def _digits(x: float) -> int:
    """Fraction digits that show `x` (non-negative) to SIGNIFICANT significant digits."""
    if x == 0:
        return 0
    return max(0, SIGNIFICANT - 1 - math.floor(math.log10(x)))


def _round(x: float) -> tuple[float, int]:
    d = _digits(x)
    r = round(x, d)
    if r and _digits(r) < d:  # 99.96 rounds to 100.0: show 100
        d = _digits(r)
    return r, d


def _mantissa(x: float, loc: str | None, group: bool) -> str:
    r, d = _round(x)
    text = f"{r:,.{d}f}" if group else f"{r:.{d}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if loc:
        text = text.replace(",", "\x00").replace(".", get_decimal_symbol(loc)).replace("\x00", get_group_symbol(loc))
    return text


def compact(x: float, language: str | None = None, currency: str | None = None) -> str:
    """A figure in three significant digits for a narrow space: 2.13M, $250K, 45.2K, 530万 (zh), 2,13 M € (fr).

    Below the language's first unit the figure is written whole (21,345; 950; 0.125). With `currency`
    the symbol goes where the language puts it. Parsed back, the text is within half a unit of its last
    digit of `x`: rounding that reaches the next unit moves to it (999,999 -> 1M, never 1000K)."""
    code = i18n.base(language)
    loc = None if code in (i18n.REFERENCE, *_EAST) else code
    sign = (get_minus_sign_symbol(loc) if loc else "-") if x < 0 and _round(abs(x))[0] else ""
    x = abs(float(x))
    steps = compact_steps(language)
    body = _mantissa(x, loc, group=True)
    for k in range(len(steps) - 1, -1, -1):
        unit, template = steps[k]
        if _round(x / unit)[0] * unit >= unit:
            body = template.format(_mantissa(x / unit, loc, group=False))
            break
    if currency is None:
        return sign + body
    return sign + _with_currency(body, currency.upper(), loc)


def _with_currency(body: str, currency: str, loc: str | None) -> str:
    if loc is None:
        sym = CURRENCY_SYMBOLS.get(currency)
        return f"{sym}{body}" if sym else f"{body} {currency}"
    pattern = Locale.parse(loc).currency_formats["standard"].pattern.split(";")[0]
    return re.sub(r"[#0,.]+", lambda _: body, pattern, count=1).replace("¤", get_currency_symbol(currency, loc))


def short(v: float, fmt: Fmt | str | None, currency: str = "USD", language: str = "en") -> str:
    """A KPI figure for a narrow space: the compact form, with the currency's symbol; whole percent."""
    if fmt == Fmt.percent:
        loc = _locale(language)
        return _percent(v, loc, 0) if loc and not i18n.cjk(language) else f"{v * 100:.0f}%"
    if fmt == Fmt.pp:
        return points(v, language)
    return compact(v, language, currency if fmt == Fmt.currency else None)


def excel_compact(language: str | None = None, symbol: str = "") -> str:
    """The .xlsx/.pptx number format of the compact form, with the same units and thresholds as `compact`.

    Excel allows two conditions, so the two smallest units are kept, with one decimal; it divides
    by thousands (`,`) only, so 万 and 亿 are shown by moving an escaped point (5300010 -> 530.0万)."""
    pre = f'"{symbol}"' if symbol else ""
    sections = []
    for unit, template in reversed([s for s in compact_steps(language) if s[0] < 1e12][:2]):
        commas, shift = divmod(round(math.log10(unit)), 3)
        number = ("0\\." + "0" * shift if shift else "#,##0.0") + "," * commas
        left, right = (f'"{part}"' if part else "" for part in template.split("{}"))
        # the unit starts where `compact` moves to it: when the value rounds to 1.00 of it
        threshold = f"{unit * (1 - 0.5 * 10**-SIGNIFICANT):f}".rstrip("0").rstrip(".")  # Excel reads no 1e8
        sections.append(f"[>={threshold}]{pre}{left}{number}{right}")
    return ";".join([*sections, f"{pre}#,##0"])


def long_date(d: dt.date, language: str | None) -> str:
    """A date written out in the language (5 mars 2026, 5. März 2026); ISO for a language without a table."""
    if loc := _locale(language):
        from babel.dates import format_date as babel_date

        return babel_date(d, "long", locale=loc)
    return d.isoformat()


def format_date(v: dt.date, bucket: str | None, language: str | None = None) -> str:
    if loc := _locale(language):
        skeleton = {"year": "y", "quarter": "yQQQ", "month": "yMMM"}.get(bucket or "", "yMd")
        if bucket is None and isinstance(v, dt.datetime) and v.time() != dt.time():
            skeleton = "yMdHm"
        return format_skeleton(skeleton, v, locale=loc)
    if bucket == "year":
        return f"{v.year}"
    if bucket == "quarter":
        return f"{v.year} Q{(v.month - 1) // 3 + 1}"
    if bucket == "month":
        return v.strftime("%b %Y")
    if isinstance(v, dt.datetime) and v.time() != dt.time():
        return v.strftime("%Y-%m-%d %H:%M")
    return v.strftime("%Y-%m-%d")


def format_value(
    v: Any,
    fmt: Fmt | str | None = None,
    currency: str = "USD",
    bucket: str | None = None,
    language: str | None = None,
) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return i18n.phrase(language, "yes" if v else "no")
    if isinstance(v, dt.date):
        return format_date(v, bucket, language)
    if not isinstance(v, int | float):
        return str(v)
    fmt = Fmt(fmt) if fmt else (Fmt.integer if float(v).is_integer() else Fmt.number)
    if fmt == Fmt.pp:
        return points(v, language)
    if loc := _locale(language):
        return _local_value(v, fmt, currency.upper(), loc)
    if fmt == Fmt.integer:
        return f"{v:,.0f}"
    if fmt == Fmt.percent:
        return f"{v * 100:,.1f}%"
    if fmt == Fmt.compact:
        return compact(v)
    if fmt == Fmt.currency:
        sym = CURRENCY_SYMBOLS.get(currency.upper())
        body = f"{abs(v):,.2f}"
        sign = "-" if v < 0 else ""
        return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency.upper()}"
    if fmt == Fmt.text:
        return str(v)
    return f"{v:,.2f}"


def _local_value(v: float, fmt: Fmt, currency: str, loc: str) -> str:
    if fmt == Fmt.integer:
        return format_decimal(v, "#,##0", locale=loc)
    if fmt == Fmt.percent:
        return _percent(v, loc, 1)
    if fmt == Fmt.compact:
        return compact(v, loc)
    if fmt == Fmt.currency:
        return format_currency(v, currency, _pattern("currency", loc, 2), locale=loc, currency_digits=False)
    if fmt == Fmt.text:
        return str(v)
    return format_decimal(v, "#,##0.00", locale=loc)


def sign_of(shown: str) -> int | None:
    """The sign of a value as formatted: -1, 0 (every digit zero), 1; None when there is no value."""
    if not any(ch.isdigit() for ch in shown):
        return None
    if not any(ch in "123456789" for ch in shown):
        return 0
    return -1 if shown.lstrip().startswith(("-", "−")) else 1


def _placeholder(m: re.Match[str], values: dict[str, str]) -> str:
    shown = values.get(m.group(1))
    if shown is None:
        return m.group(0)
    if m.group(2):  # :abs
        return shown.lstrip().removeprefix("-").removeprefix("−")
    if m.group(3):  # |positive|negative|zero
        words = m.group(3).split("|")[1:]
        sign = sign_of(shown)
        if sign is None:
            return shown
        return words[0] if sign > 0 else words[1] if sign < 0 else words[2]
    return shown


def fill(text: str, values: dict[str, str]) -> str:
    """Replace placeholders ({name}, {name:abs}, {name|up|down|flat}); unknown names stay visible."""

    def shown(m: re.Match[str]) -> str:
        out = _placeholder(m, values)
        if out.endswith(".") and text[m.end() : m.end() + 1] == ".":  # "4,7 Mio." ends a sentence once
            return out[:-1]
        return out

    return PLACEHOLDER.sub(shown, text)


def slug(title: str) -> str:
    text = unicodedata.normalize("NFKC", title)
    text = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-_")
    return text[:80].rstrip("-_") or "document"
