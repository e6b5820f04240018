"""Renderers turn a bound plan into files; each format library lives in one module."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from docagent.engine.bind import Bound
from docagent.engine.formats import FORMATS
from docagent.engine.plan import Image
from docagent.errors import RenderError
from docagent.renderers.common import Front, all_text
from docagent.renderers.fonts import require_cjk
from docagent.renderers.theme import Theme, branded, load_theme

__all__ = ["FORMATS", "RENDERERS", "render_all"]

if TYPE_CHECKING:  # the chart module loads matplotlib: only a job that draws pays for it
    from docagent.renderers.charts import ChartImage

    # (bound, theme, charts, path, front matter decided so far) -> the front matter this format decided, if any
    Render = Callable[[Bound, Theme, dict[int, ChartImage], Path, Front | None], Front | None]


# One signature for every format; each imports its library only when that format is asked for.
def _docx(bound: Bound, theme: Theme, charts: dict[int, ChartImage], path: Path, front: Front | None) -> None:
    from docagent.renderers.word import render_docx

    render_docx(bound, theme, charts, path, front)


def _xlsx(bound: Bound, theme: Theme, charts: dict[int, ChartImage], path: Path, front: Front | None) -> None:
    from docagent.renderers.excel import render_xlsx

    render_xlsx(bound, theme, path, charts)


def _pdf(bound: Bound, theme: Theme, charts: dict[int, ChartImage], path: Path, front: Front | None) -> Front:
    from docagent.renderers.pdf import render_pdf

    return render_pdf(bound, theme, charts, path)  # it counts its pages: cover and contents for the others


def _pptx(bound: Bound, theme: Theme, charts: dict[int, ChartImage], path: Path, front: Front | None) -> None:
    from docagent.renderers.slides import render_pptx

    render_pptx(bound, theme, path)  # native charts; the QA pass (renderers/qa.py) reads the deck back


RENDERERS: dict[str, Render] = {"docx": _docx, "xlsx": _xlsx, "pdf": _pdf, "pptx": _pptx}
assert tuple(RENDERERS) == FORMATS, "a renderer for every format of docagent.engine.formats"


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
    charts: dict[int, ChartImage] = {}
    if "docx" in formats or "pdf" in formats:
        from docagent.renderers.charts import draw_all

        t = time.perf_counter()
        # .docx places PNGs, .pdf draws SVG as vectors: save each chart only in the forms asked for
        forms = tuple(form for form, fmt in (("png", "docx"), ("svg", "pdf")) if fmt in formats)
        charts = draw_all(bound, theme, forms)
        timings["charts"] = time.perf_counter() - t
    elif any(isinstance(b, Image) for b in bound.plan.blocks):
        from docagent.renderers.charts import draw_images

        charts = draw_images(bound, theme)
    front: Front | None = None  # the PDF counts its pages and decides the cover and contents for the other formats
    for fmt in sorted(FORMATS, key=lambda f: f != "pdf"):
        if fmt not in formats:
            continue
        path = out_dir / f"{stem}.{fmt}"
        tmp = path.with_suffix(f".{fmt}.part")  # never expose a half-written file
        t = time.perf_counter()
        front = RENDERERS[fmt](bound, theme, charts, tmp, front) or front
        tmp.replace(path)
        timings[fmt] = time.perf_counter() - t
        files[fmt] = path
    return {f: files[f] for f in FORMATS if f in files}, timings  # in the usual order, whatever went first
