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
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_compact_currency, format_compact_decimal, format_currency, format_decimal

from docagent import i18n
from docagent.plan import PLACEHOLDER, Fmt

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


def compact(x: float, language: str | None = None) -> str:
    if loc := _locale(language):
        shown = format_compact_decimal(x, fraction_digits=1, locale=loc)
        if abs(x) >= 1e3 and any(ch.isalpha() for ch in shown):  # German has no short form for thousands
            return shown
        return format_decimal(x, "#,##0" if float(x).is_integer() else "#,##0.00", locale=loc)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= limit:
            return f"{x / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def short(v: float, fmt: Fmt | str | None, currency: str = "USD", language: str = "en") -> str:
    """A figure in three significant digits for a narrow space: $2.13M, 45.2K, 2.13万 (zh)."""
    loc = _locale(language) if not language.startswith(("zh", "ja")) else None
    if fmt == Fmt.percent:
        return _percent(v, loc, 0) if loc else f"{v * 100:.0f}%"
    if fmt == Fmt.pp:
        return points(v, language)
    steps = (
        ((1e8, "億" if language.startswith("ja") else "亿"), (1e4, "万"))
        if language.startswith(("zh", "ja"))
        else ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
    )
    body = f"{abs(v):,.0f}"
    for limit, suffix in steps:
        if abs(v) >= limit:
            x = abs(v) / limit
            body = f"{x:.{max(0, 2 - len(str(int(x))) + 1)}f}".rstrip("0").rstrip(".") + suffix
            break
    sign = "-" if v < 0 else ""
    if loc:
        return sign + _short_local(abs(v), fmt, currency.upper(), loc)
    if fmt == Fmt.currency:
        sym = CURRENCY_SYMBOLS.get(currency.upper())
        return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency.upper()}"
    return sign + body


def _short_local(x: float, fmt: Fmt | str | None, currency: str, loc: str) -> str:
    """A non-negative figure in three significant digits, in the locale's compact form (2,13 M €)."""
    digits = 0
    for limit in (1e12, 1e9, 1e6, 1e3):
        if x >= limit:
            digits = max(0, 2 - len(str(int(x / limit))) + 1)
            break
    if fmt == Fmt.currency:
        shown = format_compact_currency(x, currency, fraction_digits=digits, locale=loc)
        if x < 1e3 or not any(ch.isalpha() for ch in shown.replace(currency, "")):
            return format_currency(round(x), currency, _pattern("currency", loc, 0), locale=loc, currency_digits=False)
        return shown
    shown = format_compact_decimal(x, fraction_digits=digits, locale=loc)
    if x < 1e3 or not any(ch.isalpha() for ch in shown):  # German has no short form for thousands
        return format_decimal(round(x), "#,##0", locale=loc)
    return shown


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
