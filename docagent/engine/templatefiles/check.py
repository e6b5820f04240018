"""A plan's meta.template and meta.burst checked against what was given with the job."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from docagent.engine.plan import Plan
from docagent.engine.templatefiles.binding import is_style_template, placeholder_problems

FILL_KINDS = ("docx", "pptx", "xlsx")  # what fill mode writes
STYLE_KINDS = ("docx", "pptx", "xlsx")  # what style mode writes
DECK_INCHES = (13.33, 7.5)  # the 16:9 slide our deck layouts measure against


def named_templates(plan: Any) -> list[str]:
    """The template a plan (as JSON) names in meta.template, if any."""
    meta = plan.get("meta") if isinstance(plan, dict) else None
    name = meta.get("template") if isinstance(meta, dict) else None
    return [name] if isinstance(name, str) and name else []


def template_problems(plan: Plan, catalog: Any, tables: Mapping[str, list[str]]) -> list[str]:
    """Problems with meta.template and meta.burst (tables: the plan's table blocks by key, their columns)."""
    out: list[str] = []
    given = getattr(catalog, "templates", {})  # a model-only plan is checked without a catalog
    name = plan.meta.template
    if name is not None:
        if name not in given:
            out.append(
                f"meta.template: no template {name!r} was given with the job; templates given: "
                f"{', '.join(repr(n) for n in given) or 'none'} (or leave template null)"
            )
        else:
            tpl = given[name]
            if is_style_template(tpl.profile):
                if tpl.kind not in STYLE_KINDS:
                    kinds = ", ".join(f".{k}" for k in STYLE_KINDS)
                    out.append(f"meta.template: {name!r} is a .{tpl.kind} template; style mode supports {kinds}")
                size = tpl.profile.get("slide_size") or {}
                if tpl.kind == "pptx" and (size.get("width_in"), size.get("height_in")) != DECK_INCHES:
                    out.append(
                        f"meta.template: {name!r} has {size.get('width_in')} x {size.get('height_in')} inch slides; "
                        'style mode needs 16:9 slides of 13.33" x 7.5" (set the slide size in PowerPoint)'
                    )
            elif tpl.kind not in FILL_KINDS:
                kinds = " and ".join(f".{k}" for k in FILL_KINDS)
                out.append(f"meta.template: {name!r} is a .{tpl.kind} template; filling supports {kinds} templates")
            else:
                out += placeholder_problems(tpl.profile.get("placeholders", []), plan, tables)
    burst = plan.meta.burst
    if burst is not None:
        ds = catalog.get(burst.dataset) if hasattr(catalog, "get") else None
        if ds is None:
            names = sorted(getattr(catalog, "datasets", {}))
            out.append(f"meta.burst.dataset: no dataset {burst.dataset!r}; datasets: {names}")
        elif burst.by not in [c.name for c in ds.columns]:
            out.append(
                f"meta.burst.by: {burst.dataset!r} has no column {burst.by!r}; columns: {[c.name for c in ds.columns]}"
            )
        allowed = {burst.by, *(m.name for m in plan.metrics)}
        for ref in re.findall(r"\{([^{}]*)\}", burst.filename):
            if ref not in allowed:
                out.append(
                    f"meta.burst.filename: {{{ref}}} is neither the burst column nor a metric; use {{{burst.by}}}"
                )
        if not burst.filename.strip() or "/" in burst.filename or "\\" in burst.filename:
            out.append("meta.burst.filename: give a file name without folders, such as letter-{" + burst.by + "}")
    return out
