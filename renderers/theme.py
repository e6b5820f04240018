"""Themes are data in templates/themes/*.json; this module only reads them."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from docagent.engine.plan import Brand
from docagent.engine.themes import theme_names
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
    return Path(str(resources.files("docagent.templates")))


@lru_cache
def load_theme(name: str) -> Theme:
    path = templates_dir() / "themes" / f"{name}.json"
    if not path.is_file():
        raise RenderError(f"unknown theme {name!r}; available: {', '.join(theme_names())}")
    return Theme.model_validate(json.loads(path.read_text(encoding="utf-8")))


def dark(hex_color: str) -> bool:
    r, g, b = (int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b < 150


def tint(hex_color: str, keep: float) -> str:
    """The colour mixed with white: a light band or fill in the brand's hue."""
    rgb = (int(hex_color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return "#" + "".join(f"{round(255 - (255 - c) * keep):02X}" for c in rgb)


def branded(theme: Theme, brand: Brand | None) -> Theme:
    """The theme with a brand kit's colours, palette, heading font and logo laid over it."""
    if brand is None:
        return theme
    accent = brand.accent or theme.accent
    palette = brand.palette or [brand.primary, accent, *[c for c in theme.palette if c not in (brand.primary, accent)]]
    return theme.model_copy(
        update={
            "primary": brand.primary,
            "accent": accent,
            "palette": palette,
            "header_fill": brand.primary,
            "header_text": "#FFFFFF" if dark(brand.primary) else "#000000",
            "band_fill": tint(brand.primary, 0.06),
            "docx_heading_font": brand.font or theme.docx_heading_font,
            "logo": brand.logo,
        }
    )
