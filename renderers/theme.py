"""Themes are data in templates/themes/*.json; this module only reads them."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from docagent.errors import RenderError


class Theme(BaseModel):
    name: str
    description: str
    palette: list[str]
    primary: str
    accent: str
    text: str
    muted: str
    header_fill: str
    header_text: str
    band_fill: str
    callout: dict[str, str]
    font_size: float
    heading_sizes: list[float]
    title_size: float
    docx_font: str
    docx_heading_font: str
    docx_east_asia_font: str
    header_text_left: str
    footer_text_left: str
    logo: str | None = None


def templates_dir() -> Path:
    return Path(str(resources.files("templates")))


def theme_names() -> list[str]:
    return sorted(p.stem for p in (templates_dir() / "themes").glob("*.json"))


@lru_cache
def load_theme(name: str) -> Theme:
    path = templates_dir() / "themes" / f"{name}.json"
    if not path.is_file():
        raise RenderError(f"unknown theme {name!r}; available: {', '.join(theme_names())}")
    return Theme.model_validate(json.loads(path.read_text(encoding="utf-8")))
