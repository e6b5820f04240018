"""Jobs whose plan names a template (meta.template) or bursts (meta.burst).

A filled template is the document: its format is the template's. A burst writes one document per value
of the burst column into a zip, binding the one plan per value over the one catalog it was planned on.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docagent.bind import Bound, bind
from docagent.data.catalog import Catalog
from docagent.errors import RenderError
from docagent.formatting import slug
from docagent.plan import Burst, Plan
from docagent.renderers import render_all
from docagent.renderers.docfill import fill_docx
from docagent.settings import Settings
from docagent.templatefiles.binding import fill_values
from docagent.templatefiles.burst import burst_values, file_stem, narrowed, shown


def is_templated(plan: Plan) -> bool:
    return plan.meta.template is not None or plan.meta.burst is not None


def _write_one(
    bound: Bound, catalog: Catalog, out_dir: Path, stem: str, formats: Sequence[str], theme: str
) -> dict[str, Path]:
    name = bound.plan.meta.template
    if name is None:
        files, _ = render_all(bound, theme, out_dir, stem, formats)
        return files
    tpl = catalog.templates[name]
    return {tpl.kind: fill_docx(tpl.data, fill_values(bound), out_dir / f"{stem}.{tpl.kind}")}


@dataclass
class Written:
    files: dict[str, Path]  # by format; a burst: "zip"
    bound: Bound  # the whole plan's (a burst: the last document's), for the QA pass
    checked: dict[str, Path]  # what the QA pass reads: a burst's first document stands for the rest
    members: list[str] = field(default_factory=list)  # a burst's file names, in the zip
    timings: dict[str, float] = field(default_factory=dict)


def render_templated(
    plan: Plan, catalog: Catalog, out_dir: Path, formats: Sequence[str], theme: str | None, settings: Settings
) -> Written:
    """Write a template-filled or burst job's files (the catalog stays open: a burst binds per document)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    theme_name = theme or plan.meta.theme or settings.default_theme
    burst = plan.meta.burst
    t = time.perf_counter()
    if burst is None:
        bound = bind(plan, catalog)
        files = _write_one(bound, catalog, out_dir, slug(plan.meta.title), formats, theme_name)
        return Written(files, bound, files, timings={"render": time.perf_counter() - t})
    return _burst(plan, burst, catalog, out_dir, formats, theme_name, t)


def _burst(
    plan: Plan, burst: Burst, catalog: Catalog, out_dir: Path, formats: Sequence[str], theme_name: str, t: float
) -> Written:
    values = burst_values(catalog, burst)
    if not values:
        raise RenderError(f"meta.burst: {burst.dataset!r} has no rows to burst by {burst.by!r}")
    folder = out_dir / "burst"
    folder.mkdir(exist_ok=True)
    taken: set[str] = set()
    written: list[Path] = []
    for value in values:
        bound = bind(narrowed(plan, value), catalog, sheets=False)
        bound.metric_text[burst.by] = shown(value)  # {{customer}}: this document's value
        pattern = re.sub(r"\.(docx|pptx|xlsx|pdf)$", "", burst.filename, flags=re.I)
        stem = file_stem(pattern, bound.metric_text, taken)
        written += _write_one(bound, catalog, folder, stem, formats, theme_name).values()
    zpath = out_dir / f"{slug(plan.meta.title)}.zip"
    with zipfile.ZipFile(zpath.with_suffix(".zip.part"), "w", zipfile.ZIP_DEFLATED) as zf:
        for p in written:
            zf.write(p, p.name)
    zpath.with_suffix(".zip.part").replace(zpath)
    first = {p.suffix.lstrip("."): p for p in written[: len(written) // len(values)]}
    timings = {"render": time.perf_counter() - t, "documents": float(len(written))}
    return Written({"zip": zpath}, bound, first, [p.name for p in written], timings)
