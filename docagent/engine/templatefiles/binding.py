"""What a template's placeholders may name, and the values they are filled with.

    {{metric}}              a metric's formatted text
    {{column}}              the burst column (meta.burst.by): this document's value
    {{table:NAME.column}}   in a table row: the row repeats for each row of the table block NAME
                            (its title as a key: "Open invoices" -> open_invoices)

Anything else is a problem the model can repair; a placeholder left in a written file fails the QA pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from docagent.engine.plan import Fmt, Plan, Table
from docagent.engine.templatefiles.profile import PLACEHOLDER
from docagent.errors import RenderError

TABLE_REF = re.compile(r"table:([^.\s]+)\.(.+)")


def key(text: str) -> str:
    """A title or column as a placeholder names it: lower case, words joined by underscores."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^\w]+", "_", text, flags=re.UNICODE).strip("_")


Number = tuple[float, Fmt]  # a value a workbook cell can hold as a number, with the format it is shown in


@dataclass
class TableValues:
    columns: list[str]  # keys of the output columns
    rows: list[list[str]]  # formatted cells
    numbers: list[list[Number | None]] = field(default_factory=list)  # the numeric cells, for workbooks


@dataclass
class FillValues:
    scalars: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableValues] = field(default_factory=dict)
    numbers: dict[str, Number] = field(default_factory=dict)  # numeric metrics, for workbooks

    def cell(self, table: str, column: str, row: int) -> str:
        t = self.tables[table]
        return t.rows[row][t.columns.index(key(column))]

    def number(self, table: str, column: str, row: int) -> Number | None:
        t = self.tables[table]
        return t.numbers[row][t.columns.index(key(column))] if t.numbers else None

    def column(self, placeholder: str, table: str) -> str | None:
        """The column a {{table:TABLE.column}} placeholder names, when TABLE is `table` and has it."""
        ref = TABLE_REF.fullmatch(placeholder)
        if ref and ref.group(1) == table and key(ref.group(2)) in self.tables[table].columns:
            return ref.group(2)
        return None


def refuse_unfilled(left: list[str]) -> None:
    """A filled file must hold no placeholder: one left would be sent to a customer as "{{balance}}"."""
    if left:
        raise RenderError(f"the template still holds {', '.join(left[:10])} after filling: nothing fills them")


def row_table(text: str) -> str | None:
    """The table NAME that a row's {{table:NAME.column}} placeholders repeat (the row's text), if any."""
    for m in PLACEHOLDER.finditer(text):
        ref = TABLE_REF.fullmatch(m.group(1))
        if ref:
            return ref.group(1)
    return None


def _number(v: Any, fmt: Fmt | None) -> Number | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v), fmt or (Fmt.integer if float(v).is_integer() else Fmt.number)


BODY = "body"  # style mode: where the plan's content goes


def is_style_template(profile: Mapping[str, Any]) -> bool:
    """Style mode: a template with no placeholder but {{body}} takes the plan's whole content in its look."""
    return set(profile.get("placeholders", [])) <= {BODY}


def scalar_names(plan: Plan) -> list[str]:
    names = [m.name for m in plan.metrics]
    if plan.meta.burst is not None:
        names.append(plan.meta.burst.by)
    return names


def placeholder_problems(
    found: list[str], plan: Plan, tables: Mapping[str, list[str]], where: str = "meta.template"
) -> list[str]:
    """Placeholders of the template that no metric, burst column or table of the plan fills."""
    scalars = set(scalar_names(plan))
    out = []
    for p in found:
        ref = TABLE_REF.fullmatch(p)
        if ref:
            name, col = ref.group(1), ref.group(2)
            if name not in tables:
                out.append(
                    f"{where}: {{{{{p}}}}} names no table block; add a table whose title keys to {name!r} "
                    f"(tables: {sorted(tables) or 'none'})"
                )
            elif key(col) not in [key(c) for c in tables[name]]:
                out.append(f"{where}: {{{{{p}}}}}: table {name!r} has no column {col!r}; columns: {tables[name]}")
        elif p not in scalars:
            out.append(
                f"{where}: placeholder {{{{{p}}}}} is not filled by anything: define a metric named {p!r} "
                f"(metrics and burst column: {sorted(scalars) or 'none'})"
            )
    return out


def table_blocks(plan: Plan) -> dict[str, int]:
    """Table blocks by key, to block index."""
    return {key(b.title): i for i, b in enumerate(plan.blocks) if isinstance(b, Table)}


def fill_values(bound: Any, scalars: Mapping[str, str] | None = None) -> FillValues:
    """Every value a template of this bound plan may show, formatted as the documents show it."""
    from docagent.engine.bind import metric_format

    values = FillValues(dict(bound.metric_text))
    values.scalars.update(scalars or {})
    for m in bound.plan.metrics:
        if m.find is None and (n := _number(bound.metrics.get(m.name), metric_format(m))) is not None:
            values.numbers[m.name] = n
    for name, i in table_blocks(bound.plan).items():
        res = bound.results.get(i)
        if res is None:
            continue
        cols = [key(c.name) for c in res.columns]
        rows = [
            [bound.fmt(v, c) if v is not None else "–" for v, c in zip(r, res.columns, strict=False)] for r in res.rows
        ]
        numbers = [[_number(v, c.format) for v, c in zip(r, res.columns, strict=False)] for r in res.rows]
        values.tables[name] = TableValues(cols, rows, numbers)
    return values
