"""Theme names: themes are files in templates/themes/, so the core can list them without a renderer."""

from __future__ import annotations

from importlib import resources


def theme_names() -> list[str]:
    folder = resources.files("docagent.templates") / "themes"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))
