"""The rules planner's phrases: the [planner] table of templates/i18n/<language>.toml (English where missing)."""

from __future__ import annotations

from docagent.engine.i18n import phrases


def words(language: str) -> dict[str, str]:
    return phrases(language, "planner")
