"""Find numbers in a plan's prose that no binding produced (principle 1: the data speaks)."""

from __future__ import annotations

import re

from docagent.engine.data.profile import Profile
from docagent.engine.plan import PLACEHOLDER, Plan
from docagent.engine.texts import plan_texts

NUMBER = re.compile(r"(?<![\w.])([-+]?[$€£¥]?\d[\d,]*(?:\.\d+)?)(\s?%)?")
SMALL = 12  # "top 5", "3 regions", "Q4": counts and ordinals a writer may type
# The ordinary numbers of prose, told apart by their neighbours (a data figure has none of these):
# "a 30-day pilot", "within 90 days", "the 3rd wave", "version 2", "phase 3", "by 2027".
COMPOUND = re.compile(r"^(?:[-‐‑–]\s?[^\W\d_]|/7\b)")  # 30-day, 6‑month, 2-step, 24/7
ORDINAL = re.compile(r"^(?:st|nd|rd|th)\b")
DURATION = re.compile(
    r"^(?:\s?(?:-|–|to)\s?\d+)?\s?(?:business\s|working\s|calendar\s)?(?:days?|weeks?|months?|years?|hours?|hrs?|minutes?|mins?"
    r"|seconds?|quarters?|sprints?|sessions?|天|日|周|週|个月|個月|年|小时|分钟)\b",
    re.I,
)
LABELLED = re.compile(
    r"(?:\b(?:version|v|release|phase|step|stage|wave|round|tier|level|priority|p|section|chapter|page"
    r"|figure|fig|table|appendix|option|scenario|sprint|milestone|week|day|iso|rfc|no|number|top|bottom|#)\.?\s?"
    r"|第|[^\W\d_]-)$",  # ... "COVID-19", "GPT-4": part of a name
    re.I,
)
DURATION_MAX = 400  # "within 90 days"; "4,512 days" is a figure


def _norm(token: str) -> str:
    return token.lstrip("+-$€£¥").replace(",", "").rstrip(".")


def allowed_numbers(prompt: str, profiles: list[Profile], references: list[str]) -> set[str]:
    """Numbers the model may write: from the request, the references and the data's labels."""
    texts = [prompt, *references]
    for p in profiles:
        texts += [p.dataset, p.source]
        for c in p.columns:
            texts.append(c.name)
            texts += [v for v, _ in c.top]
            if c.type in ("date", "datetime") and c.min and c.max:
                first, last = int(str(c.min)[:4]), int(str(c.max)[:4])
                texts += [str(y) for y in range(first, last + 1)]
    return {_norm(m.group(1)) for t in texts for m in NUMBER.finditer(t)}


def _words_only(m: re.Match[str]) -> str:
    """A placeholder leaves only its sign-following words, which are checked like any prose."""
    return " " + (m.group(3) or "").replace("|", " ; ") + " "


def is_prose_number(text: str, m: re.Match[str]) -> bool:
    """Whether a number in `text` reads as ordinary prose rather than a figure from the data."""
    token, percent = m.group(1), m.group(2)
    value = _norm(token)
    if percent or not token[0].isdigit() or not value.isdigit():
        return value == "100" and bool(percent) and token[0].isdigit()  # "100% of the team"
    n, before, after = int(value), text[: m.start()], text[m.end() :]
    if re.search(r",\d", token):  # a thousands separator marks a measured quantity; "in 2028," does not
        return False
    if n <= SMALL or 1990 <= n <= 2100:  # counts and ordinals; calendar years
        return True
    if COMPOUND.match(after) or ORDINAL.match(after) or LABELLED.search(before):
        return True
    return n <= DURATION_MAX and bool(DURATION.match(after))


def _spellings(v: float) -> set[str]:
    """How a request may have written a param's value: 0.2 as 20 (%), 1200000 as 1.2 (M) or 1,200 (K)."""
    out = set()
    for scale in (1, 100, 1e-3, 1e-6, 1e-9):
        x = round(v * scale, 9)
        out.add(str(int(x)) if float(x).is_integer() else repr(x))
    return out


def unstated_params(plan: Plan, allowed: set[str]) -> list[str]:
    """A param holds a number the request states; one the request never wrote is a typed figure."""
    return [
        f"param {p.name!r}: the value {p.value:g} is not a number the request states; params hold the "
        "request's own targets and thresholds, figures from the data are metrics"
        for p in plan.params
        if not _spellings(p.value) & allowed
    ]


def invented_numbers(plan: Plan, allowed: set[str]) -> list[str]:
    problems = unstated_params(plan, allowed)
    for where, text in plan_texts(plan):
        bare = PLACEHOLDER.sub(_words_only, text)
        for m in NUMBER.finditer(bare):
            token, percent = m.group(1), m.group(2)
            if _norm(token) in allowed or is_prose_number(bare, m):
                continue
            shown = token + (percent or "")
            problems.append(
                f"{where}: the number {shown.strip()!r} does not come from the request or the data's "
                "labels; define a metric and write {metric_name} instead of typing figures"
            )
    return problems
