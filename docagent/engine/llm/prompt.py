"""Prompts: a stable system prefix first (prefix caching), the variable part last.

The model sees profiles, never rows; the prompt size is bounded whatever the
row count, and data is fenced and described as data.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from docagent.engine.data.profile import Profile
from docagent.engine.plan import Plan
from docagent.engine.schema import prompt_schema_json
from docagent.engine.themes import theme_names

# Detail levels for profiles: 0 full, 1 lean, 2 names and types only (context too long).
MAX_COLUMNS = (200, 120, 60)
TOP = (5, 3, 0)
SAMPLE = (3, 0, 0)


@lru_cache
def system_prompt() -> str:
    text = (resources.files("docagent.templates") / "prompts" / "planner_system.md").read_text(encoding="utf-8")
    text = text.replace("{themes}", ", ".join(theme_names()))
    return text.rstrip() + "\n" + prompt_schema_json()


def _fence(tag: str, body: str) -> str:
    # Data cannot close its own fence: any closing tag inside is defused.
    safe = body.replace(f"</{tag}>", f"<\\/{tag}>")
    return f"<{tag}>\n{safe}\n</{tag}>"


def compact_profile(p: Profile, level: int = 0) -> dict[str, Any]:
    cols = []
    for c in p.columns[: MAX_COLUMNS[level]]:
        item: dict[str, Any] = {"name": c.name, "type": c.type, "role": c.role}
        if c.weight:
            item["weighted_by"] = c.weight
        if level < 2:
            item["nulls"], item["distinct"] = c.nulls, c.distinct
            if c.min is not None:
                item["min"], item["max"] = c.min, c.max
            if c.top and TOP[level]:
                item["top"] = [v for v, _ in c.top[: TOP[level]]]
            if c.order:
                item["order"] = c.order[:12]
        cols.append(item)
    out: dict[str, Any] = {"dataset": p.dataset, "source": p.source, "rows": p.rows, "columns": cols}
    if p.joins:
        out["joins"] = p.joins[:8]
    if len(p.columns) > MAX_COLUMNS[level]:
        out["columns_omitted"] = len(p.columns) - MAX_COLUMNS[level]
    if p.period_columns:
        out["period_columns"] = p.period_columns
    if p.notes:
        out["notes"] = p.notes
    if SAMPLE[level]:
        out["sample_rows"] = p.sample[: SAMPLE[level]]
    return out


REVISE = (
    "Revise the plan in <plan> as the request says. Keep every block, metric and wording the request "
    "does not ask to change; reply with the whole revised plan."
)


def user_prompt(
    prompt: str,
    profiles: list[Profile],
    language: str,
    references: list[str],
    level: int = 0,
    previous: Plan | None = None,
) -> str:
    parts = [_fence("request", prompt.strip() or "(no instruction: write the most useful report)")]
    if previous is not None:  # a revision: the model edits its earlier plan instead of starting over
        body = previous.model_dump_json(exclude_none=True)  # keep block types: they are defaults
        parts += [REVISE, _fence("plan", body)]
    if profiles:
        body = json.dumps([compact_profile(p, level) for p in profiles], ensure_ascii=False, default=str)
        parts.append(_fence("datasets", body))
    else:
        parts.append("There is no data: write the document from the request, with literal tables.")
    if references:
        parts.append(_fence("references", "\n\n---\n\n".join(references)))
    parts.append(f"Document language: {language}. Reply with the plan as one JSON object.")
    return "\n\n".join(parts)


def messages(
    prompt: str,
    profiles: list[Profile],
    language: str,
    references: list[str],
    level: int = 0,
    previous: Plan | None = None,
) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": system_prompt()},
        {"role": "user", "content": user_prompt(prompt, profiles, language, references, level, previous)},
    ]


def repair_prompt(problems: list[str]) -> str:
    listed = "\n".join(f"- {p}" for p in problems[:25])
    return (
        "The plan cannot be used yet. Fix exactly these problems and reply with the whole "
        f"corrected plan as one JSON object:\n{listed}"
    )
