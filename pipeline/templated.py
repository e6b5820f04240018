"""Jobs whose plan names a template (meta.template) or bursts (meta.burst).

A filled template is the document: its format is the template's. A burst writes one document per value
of the burst column into a zip, binding the one plan per value over the one catalog it was planned on.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docagent.engine.bind import Bound, bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.formatting import slug
from docagent.engine.plan import Burst, Plan
from docagent.engine.templatefiles.binding import fill_values, is_style_template
from docagent.engine.templatefiles.burst import burst_values, file_stem, narrowed, shown
from docagent.errors import RenderError
from docagent.renderers import render_all
from docagent.renderers.deckfill import DeckFiller
from docagent.renderers.deckstyle import render_styled_pptx
from docagent.renderers.docfill import Filler
from docagent.renderers.docstyle import render_styled_docx
from docagent.renderers.xlsxfill import XlsxFiller
from docagent.renderers.xlsxstyle import render_styled_xlsx
from docagent.settings import Settings

Writer = Callable[[Bound, Path, str], dict[str, Path]]


def _writer(plan: Plan, catalog: Catalog, formats: Sequence[str], theme: str) -> Writer:
    """What writes one document of this plan: the template filled (read once), or the usual renderers."""
    name = plan.meta.template
    if name is None:

        def render(bound: Bound, folder: Path, stem: str) -> dict[str, Path]:
            return render_all(bound, theme, folder, stem, formats)[0]

        return render
    tpl = catalog.templates[name]
    if is_style_template(tpl.profile):  # the plan in the template's look: the other formats in the theme's

        def styled(bound: Bound, folder: Path, stem: str) -> dict[str, Path]:
            others = [f for f in formats if f != tpl.kind]
            files = render_all(bound, theme, folder, stem, others)[0] if others else {}
            path = folder / f"{stem}.{tpl.kind}"
            if tpl.kind == "docx" and "docx" in formats:
                files["docx"] = render_styled_docx(bound, theme, tpl.data, path)
            elif tpl.kind == "pptx" and "pptx" in formats:
                render_styled_pptx(bound, theme, tpl.data, path)
                files["pptx"] = path
            elif tpl.kind == "xlsx" and "xlsx" in formats:
                files["xlsx"] = render_styled_xlsx(bound, theme, tpl.data, path)
            return files

        return styled
    meta = plan.meta
    filler: XlsxFiller | DeckFiller | Filler
    if tpl.kind == "xlsx":
        filler = XlsxFiller(tpl.data, meta.language, meta.currency)
    else:
        filler = DeckFiller(tpl.data) if tpl.kind == "pptx" else Filler(tpl.data)

    def fill(bound: Bound, folder: Path, stem: str) -> dict[str, Path]:
        return {tpl.kind: filler.write(fill_values(bound), folder / f"{stem}.{tpl.kind}")}

    return fill


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
        files = _writer(plan, catalog, formats, theme_name)(bound, out_dir, slug(plan.meta.title))
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
    write = _writer(plan, catalog, formats, theme_name)
    for value in values:
        bound = bind(narrowed(plan, value), catalog, sheets=False)
        bound.metric_text[burst.by] = shown(value)  # {{customer}}: this document's value
        pattern = re.sub(r"\.(docx|pptx|xlsx|pdf)$", "", burst.filename, flags=re.I)
        stem = file_stem(pattern, bound.metric_text, taken)
        written += write(bound, folder, stem).values()
    zpath = out_dir / f"{slug(plan.meta.title)}.zip"
    with zipfile.ZipFile(zpath.with_suffix(".zip.part"), "w", zipfile.ZIP_DEFLATED) as zf:
        for p in written:
            zf.write(p, p.name)
    zpath.with_suffix(".zip.part").replace(zpath)
    first = {p.suffix.lstrip("."): p for p in written[: len(written) // len(values)]}
    timings = {"render": time.perf_counter() - t, "documents": float(len(written))}
    return Written({"zip": zpath}, bound, first, [p.name for p in written], timings)
