"""Templates that organisations bring: checked (docagent.engine.templatefiles.package) and profiled (.profile).

Reading them needs only the standard zip module and defusedxml; filling and styling them is the
renderers' work.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from docagent.engine.templatefiles.package import MACRO_SUFFIXES, TemplateFile, check_package, is_template
from docagent.engine.templatefiles.profile import PLACEHOLDER, describe, placeholders_in, profile_package


def read_template(path: Path, name: str | None = None) -> TemplateFile:
    """Check a template file and profile it: what uploads and the CLI's --template store and use."""
    checked = check_package(path, name)
    prof = profile_package(checked.kind, checked.data)
    if checked.dropped:
        prof["external_links_removed"] = list(checked.dropped)
    return TemplateFile(checked.name, checked.kind, checked.data, prof, checked.dropped)


def template_prompt(templates: Mapping[str, TemplateFile]) -> str:
    """What the model is told about the templates given with the job."""
    parts = ["\nTemplates given with the job (set meta.template to one name to fill it):"]
    parts += [describe(t.name, t.profile) for t in templates.values()]
    parts.append(
        "A template with no placeholder but {{body}} is a style template: meta.template writes the whole "
        "document in its look, your blocks where its body is. "
        "Each {{name}} (and a workbook's defined name) is filled with the metric of that name (define it in "
        "metrics); a table row holding {{table:NAME.column}} repeats, and a workbook's table NAME takes a "
        "row, for each row of the table block whose title, lower case with words joined by _, is NAME. "
        "For one document per customer (or region...) set meta.burst: "
        '{"by": COLUMN, "dataset": NAME, "filename": "letter-{COLUMN}"}; {{COLUMN}} then shows its value.'
    )
    return "\n".join(parts)


__all__ = [
    "MACRO_SUFFIXES",
    "PLACEHOLDER",
    "TemplateFile",
    "check_package",
    "describe",
    "is_template",
    "placeholders_in",
    "read_template",
    "template_prompt",
]
