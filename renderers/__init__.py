"""Renderers turn a bound plan into files; each format library lives in one module."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from docagent.bind import Bound
from docagent.errors import RenderError
from docagent.plan import Image
from docagent.renderers.common import all_text
from docagent.renderers.fonts import require_cjk
from docagent.renderers.theme import branded, load_theme

__all__ = ["FORMATS", "render_all"]

FORMATS = ("docx", "xlsx", "pdf", "pptx")


def render_all(
    bound: Bound, theme_name: str, out_dir: Path, stem: str, formats: Sequence[str]
) -> tuple[dict[str, Path], dict[str, float]]:
    """Write each requested format; charts are drawn once and shared. Returns files and timings."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise RenderError(f"unknown format(s) {sorted(unknown)}; choose from {', '.join(FORMATS)}")
    theme = branded(load_theme(theme_name), bound.plan.meta.brand)
    require_cjk(all_text(bound))
    timings: dict[str, float] = {}
    files: dict[str, Path] = {}
    charts = {}
    if "docx" in formats or "pdf" in formats:
        from docagent.renderers.charts import draw_all

        t = time.perf_counter()
        charts = draw_all(bound, theme)
        timings["charts"] = time.perf_counter() - t
    elif any(isinstance(b, Image) for b in bound.plan.blocks):
        from docagent.renderers.charts import draw_images

        charts = draw_images(bound, theme)
    front = None  # the PDF counts its pages and decides the cover and contents for the other formats
    for fmt in sorted(FORMATS, key=lambda f: f != "pdf"):
        if fmt not in formats:
            continue
        path = out_dir / f"{stem}.{fmt}"
        tmp = path.with_suffix(f".{fmt}.part")  # never expose a half-written file
        t = time.perf_counter()
        if fmt == "docx":
            from docagent.renderers.word import render_docx

            render_docx(bound, theme, charts, tmp, front)
        elif fmt == "xlsx":
            from docagent.renderers.excel import render_xlsx

            render_xlsx(bound, theme, tmp, charts)
        elif fmt == "pdf":
            from docagent.renderers.pdf import render_pdf

            front = render_pdf(bound, theme, charts, tmp)
        else:
            from docagent.renderers.slides import render_pptx

            render_pptx(bound, theme, tmp)  # the QA pass (renderers/qa.py) reads the deck back
        tmp.replace(path)
        timings[fmt] = time.perf_counter() - t
        files[fmt] = path
    return {f: files[f] for f in FORMATS if f in files}, timings  # in the usual order, whatever went first
