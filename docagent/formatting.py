"""How computed values are shown: one place, so every format prints the same text."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

from docagent.plan import PLACEHOLDER, Fmt

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}


def compact(x: float) -> str:
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= limit:
            return f"{x / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def short(v: float, fmt: Fmt | str | None, currency: str = "USD", language: str = "en") -> str:
    """A figure in three significant digits for a narrow space: $2.13M, 45.2K, 2.13万 (zh)."""
    if fmt == Fmt.percent:
        return f"{v * 100:.0f}%"
    steps = (
        ((1e8, "亿"), (1e4, "万"))
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
    if fmt == Fmt.currency:
        sym = CURRENCY_SYMBOLS.get(currency.upper())
        return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency.upper()}"
    return sign + body


def format_date(v: dt.date, bucket: str | None) -> str:
    if bucket == "year":
        return f"{v.year}"
    if bucket == "quarter":
        return f"{v.year} Q{(v.month - 1) // 3 + 1}"
    if bucket == "month":
        return v.strftime("%b %Y")
    if isinstance(v, dt.datetime) and v.time() != dt.time():
        return v.strftime("%Y-%m-%d %H:%M")
    return v.strftime("%Y-%m-%d")


def format_value(v: Any, fmt: Fmt | str | None = None, currency: str = "USD", bucket: str | None = None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "Yes" if v else "No"
    if isinstance(v, dt.date):
        return format_date(v, bucket)
    if not isinstance(v, int | float):
        return str(v)
    fmt = Fmt(fmt) if fmt else (Fmt.integer if float(v).is_integer() else Fmt.number)
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
    return PLACEHOLDER.sub(lambda m: _placeholder(m, values), text)


def slug(title: str) -> str:
    text = unicodedata.normalize("NFKC", title)
    text = re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-_")
    return text[:80].rstrip("-_") or "document"
