"""Find numbers in a plan's prose that no binding produced (principle 1: the data speaks)."""

from __future__ import annotations

import re

from docagent.data.profile import Profile
from docagent.plan import PLACEHOLDER, Bullets, Callout, Chart, Heading, Kpis, Paragraph, Plan, Table

NUMBER = re.compile(r"(?<![\w.])([-+]?[$€£¥]?\d[\d,]*(?:\.\d+)?)(\s?%)?")
SMALL = 12  # "top 5", "3 regions", "Q4": counts and ordinals a writer may type


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


def _prose(plan: Plan) -> list[tuple[str, str]]:
    out = [("meta.title", plan.meta.title), ("meta.subtitle", plan.meta.subtitle or "")]
    for i, b in enumerate(plan.blocks, 1):
        where = f"block {i} ({b.type})"
        if isinstance(b, Heading | Paragraph):
            out.append((where, b.text))
        elif isinstance(b, Bullets):
            out += [(where, x) for x in b.items]
        elif isinstance(b, Callout):
            out += [(where, b.text), (where, b.title or "")]
        elif isinstance(b, Kpis):
            out += [(where, k.label or "") for k in b.items]
        elif isinstance(b, Table | Chart):
            out += [(where, b.title), (where, b.caption or "")]
    out += [(f"metric {m.name!r}", m.label) for m in plan.metrics]
    return out


def invented_numbers(plan: Plan, allowed: set[str]) -> list[str]:
    problems = []
    for where, text in _prose(plan):
        bare = PLACEHOLDER.sub(" ", text)
        for m in NUMBER.finditer(bare):
            token, percent = m.group(1), m.group(2)
            value = _norm(token)
            if value in allowed:
                continue
            small = value.isdigit() and int(value) <= SMALL and not percent and token[0].isdigit()
            if small:
                continue
            shown = token + (percent or "")
            problems.append(
                f"{where}: the number {shown.strip()!r} does not come from the request or the data's "
                "labels; define a metric and write {metric_name} instead of typing figures"
            )
    return problems
