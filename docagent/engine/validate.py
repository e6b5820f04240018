"""Semantic checks of a plan against the actual datasets.

Every problem is collected (not just the first) and worded so that a person or
a model can fix it: where it is, what is wrong, what would be valid.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import assert_never

from pydantic import ValidationError

from docagent.engine.data.catalog import NUMERIC, TEMPORAL, Catalog, Dataset
from docagent.engine.data.expressions import Scope
from docagent.engine.data.metrics import metric_problems
from docagent.engine.data.query import output_columns, output_name, query_problems, scope_of, unreadable_periods, view
from docagent.engine.finance.use import model_problems
from docagent.engine.measures import resolve
from docagent.engine.plan import (
    Brand,
    Bullets,
    Callout,
    Chart,
    ChartKind,
    Filter,
    Heading,
    Image,
    Kpis,
    Metric,
    Model,
    Op,
    PageBreak,
    Paragraph,
    Plan,
    Query,
    Table,
    malformed_placeholders,
    placeholders,
)
from docagent.engine.templatefiles.binding import key
from docagent.engine.templatefiles.check import template_problems
from docagent.engine.texts import block_names, block_texts
from docagent.engine.themes import theme_names
from docagent.errors import PlanError

ORDERED_OPS = {Op.gt, Op.ge, Op.lt, Op.le}
NO_SERIES = (ChartKind.pie, ChartKind.donut, ChartKind.scatter, ChartKind.combo)


def _dataset(catalog: Catalog, name: str, where: str, out: list[str]) -> Dataset | None:
    ds = catalog.get(name)
    if ds is None:
        known = ", ".join(repr(n) for n in catalog.datasets) or "none"
        out.append(f"{where}: unknown dataset {name!r}; available: {known}")
    return ds


def _filters(filters: list[Filter], scope: Scope, where: str, out: list[str]) -> None:
    for f in filters:
        found = scope.find(f.column)
        if found is None:
            out.append(f"{where}: filter on unknown column {f.column!r}; columns: {scope.known()}")
            continue
        col = found[1]
        if f.op in ORDERED_OPS and col.type not in NUMERIC + TEMPORAL:
            out.append(f"{where}: filter {f.op} on {f.column!r} ({col.type}) needs a number or date")
        if f.op in (Op.in_, Op.not_in) and not f.values:
            out.append(f"{where}: filter {f.op} on {f.column!r} needs a non-empty 'values' list")


def _unpivot(q: Query, ds: Dataset, where: str, out: list[str]) -> Dataset | None:
    """The dataset as the query sees it after `unpivot`, or None (problems in `out`)."""
    u = q.unpivot
    if u is None:
        return ds
    before = len(out)
    w = f"{where}, unpivot"
    missing = [c for c in u.columns if ds.column(c) is None]
    if missing:
        columns = ", ".join(f"{c.name!r} ({c.type})" for c in ds.columns)
        out.append(f"{w}: no column {missing} in {ds.name!r}; columns: {columns}")
    text = [c.name for c in ds.columns if c.name in u.columns and c.type not in NUMERIC]
    if text:
        out.append(f"{w}: columns {text} are not numbers; unpivot turns number columns (periods) into rows")
    if len(set(u.columns)) != len(u.columns):
        out.append(f"{w}: a column is listed twice in columns")
    taken = {c.name for c in ds.columns if c.name not in u.columns}
    clash = [n for n in (u.name, u.value) if n in taken]
    if clash or u.name == u.value:
        out.append(f"{w}: name and value must be new, distinct column names; {clash or [u.name]} already used")
    return view(q, ds) if len(out) == before else None


def check_query(q: Query, catalog: Catalog, where: str, out: list[str]) -> list[str] | None:
    """Problems go to `out`; returns the output column names when the query is sound."""
    ds = _dataset(catalog, q.dataset, where, out)
    if ds is None:
        return None
    before = len(out)
    ds = _unpivot(q, ds, where, out)
    if ds is None:
        return None
    out += [f"{where}, {p}" if p.startswith("select ") else f"{where}: {p}" for p in query_problems(q, catalog)]
    _filters(q.filters, scope_of(q, ds, catalog), where, out)
    names = [output_name(s) for s in q.select]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        out.append(f"{where}: output names must be unique; give a label to: {sorted(dupes)}")
    for order in q.sort:
        if order.by not in names:
            out.append(f"{where}: sort by {order.by!r} is not an output name; outputs: {names}")
    return names if len(out) == before else None


def _check_metric(m: Metric, catalog: Catalog, out: list[str]) -> None:
    where = f"metric {m.name!r}"
    if m.model is not None:  # a model cell: checked with the models
        return
    if m.dataset is None or isinstance(m.period, int):
        out.append(f"{where}: needs a dataset (a model cell: model, row, and period or find)")
        return
    ds = _dataset(catalog, m.dataset, where, out)
    if ds is None:
        return
    out += [f"{where}: {p}" for p in metric_problems(m, ds)]
    if m.time_column and (why := unreadable_periods(catalog, ds, m.time_column)):
        out.append(f"{where}: {why}")
    _filters(m.filters, Scope(ds), where, out)


def _check_series(b: Chart, keys: list[str], where: str, out: list[str]) -> None:
    """Long data (x by category) draws one series per category, never a zigzag through every row."""
    if b.series is not None:
        if ChartKind(b.kind) in NO_SERIES:
            out.append(f"{where}: series is for line, area and bar charts, not {b.kind}")
        elif b.series not in keys or b.series == b.x:
            out.append(f"{where}: series {b.series!r} must be a group key of the query other than x; keys: {keys}")
        elif len(b.y) != 1 or b.y2:
            out.append(f"{where}: with series, y names exactly one value (each series is one {b.series!r})")
    extra = [k for k in keys if k not in (b.x, b.series)]
    if extra and ChartKind(b.kind) != ChartKind.scatter:
        hint = "" if b.series else f"; set series: {extra[0]!r} for one series per value,"
        out.append(f"{where}: the query groups by {extra}, which is neither x nor series{hint} or drop it from select")


def _check_chart(b: Chart, names: list[str], types: dict[str, str], where: str, out: list[str]) -> None:
    for enc in [b.x, *b.y, *(b.y2 or []), *([b.series] if b.series else [])]:
        if enc not in names:
            out.append(f"{where}: chart encodes {enc!r}, which is not a column of its data {names}")
            return
    for y in [*b.y, *(b.y2 or [])]:
        if types.get(y, "number") not in NUMERIC:
            out.append(f"{where}: chart value {y!r} must be numeric, it is {types[y]}")
    kind = ChartKind(b.kind)
    if kind in (ChartKind.pie, ChartKind.donut) and (len(b.y) != 1 or b.y2):
        out.append(f"{where}: a {kind} chart shows exactly one value series in y, and no y2")
    if kind == ChartKind.combo and not b.y2:
        out.append(f"{where}: a combo chart needs y2 (the line on the secondary axis)")
    if kind != ChartKind.combo and b.y2:
        out.append(f"{where}: y2 is only for combo charts")
    if kind == ChartKind.scatter and types.get(b.x, "number") not in NUMERIC:
        out.append(f"{where}: a scatter chart needs a numeric x, {b.x!r} is {types[b.x]}")


def _numeric_literal(b: Table, k: int) -> bool:
    values = [r[k] for r in b.rows or [] if k < len(r) and r[k] is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _literal(b: Table | Chart, where: str, out: list[str]) -> list[str] | None:
    if b.query is not None and (b.rows is not None or b.columns is not None):
        out.append(f"{where}: give either query or literal columns/rows, not both")
        return None
    if b.query is None:
        if not b.columns or b.rows is None:
            out.append(f"{where}: needs a query, or literal columns and rows")
            return None
        bad = [i for i, r in enumerate(b.rows, 1) if len(r) != len(b.columns)]
        if bad:
            out.append(f"{where}: rows {bad[:5]} do not have {len(b.columns)} cells like columns")
        return list(b.columns)
    return None


def _image_name(name: str, catalog: Catalog, where: str, out: list[str]) -> None:
    images = getattr(catalog, "images", {})  # a model-only plan is checked without a catalog
    if name not in images:
        given = ", ".join(repr(n) for n in images) or "none"
        out.append(
            f"{where}: no image file {name!r} was given with the job; images given: {given} "
            "(use source null for a placeholder)"
        )


def _check_meta(plan: Plan, catalog: Catalog, out: list[str]) -> None:
    themes = theme_names()
    if plan.meta.theme is not None and plan.meta.theme not in themes:
        out.append(
            f"meta.theme: unknown theme {plan.meta.theme!r}; themes: {', '.join(themes)} "
            "(for other colours keep a theme and set meta.brand)"
        )
    if plan.meta.brand is not None:
        out.extend(brand_problems(plan.meta.brand, getattr(catalog, "images", {}), "meta.brand."))


MAX_FONT_NAME = 31  # the OOXML schema's limit on a font's name


def brand_problems(
    brand: Brand, images: Collection[str], where: str = "", whence: str = "given with the job"
) -> list[str]:
    """What is wrong with a brand kit, in a plan's meta.brand or stored by name (images: those it may use)."""
    out: list[str] = []
    for name, value in [("primary", brand.primary), ("accent", brand.accent), *(("palette", c) for c in brand.palette)]:
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            out.append(f"{where}{name}: {value!r} is not a colour; write #RRGGBB, like #1B2A4A")
    if len(brand.palette) > 10:
        out.append(f"{where}palette: at most 10 colours")
    font = brand.font
    if font and (len(font) > MAX_FONT_NAME or not font.isprintable() or font != font.strip()):
        # Office files name the font in XML (w:rFonts, a:latin): 31 characters at most, and no control characters
        out.append(
            f"{where}font: {font[:40]!r} is not a font name; give at most {MAX_FONT_NAME} printable characters "
            "without leading or trailing spaces, like 'Source Sans 3' (or leave it empty)"
        )
    if brand.logo is not None and brand.logo not in images:
        given = ", ".join(repr(n) for n in images) or "none"
        out.append(f"{where}logo: no image file {brand.logo!r} {whence}; images {whence}: {given} (or leave logo null)")
    return out


def _check_table(b: Table, names: list[str], types: dict[str, str], where: str, out: list[str]) -> None:
    """formats, emphasis and highlight refer to the table's own columns and rows."""
    if b.formats and len(b.formats) != len(names):
        out.append(f"{where}: formats has {len(b.formats)} entries for {len(names)} columns {names}")
    if b.emphasis:
        if b.query is not None:
            out.append(f"{where}: emphasis is for literal rows; a query's rows are not known in advance")
        else:
            bad = [r for r in b.emphasis if not 0 <= r < len(b.rows or [])]
            if bad:
                out.append(f"{where}: emphasis rows {bad} do not exist (rows are numbered 0-{len(b.rows or []) - 1})")
    for h in b.highlight or []:
        if h.column not in names:
            out.append(f"{where}: highlight names {h.column!r}, which is not a column {names}")
        elif types.get(h.column, "number") not in NUMERIC:
            out.append(f"{where}: highlight column {h.column!r} must be numeric, it is {types[h.column]}")
        if isinstance(h.value, str):
            continue  # not a param: reported with the params
        if h.op in ("top", "bottom") and (h.value < 1 or not float(h.value).is_integer()):
            out.append(f"{where}: highlight {h.op} needs value = how many rows (a whole number >= 1)")


def _check_pivot(b: Table, keys: list[str], values: list[str], where: str, out: list[str]) -> None:
    """A pivot spreads one value over the columns named by one group key's values."""
    if b.query is None:
        out.append(f"{where}: pivot needs a query (literal rows already list their columns)")
        return
    if not keys and not values:
        return  # the query's own problems are reported
    if b.pivot not in keys:
        out.append(f"{where}: pivot names {b.pivot!r}, which is not a group key; group keys: {keys}")
    if len(values) != 1 or len(keys) < 2:
        out.append(
            f"{where}: pivot needs exactly one value and at least two group keys (rows and columns); "
            f"values: {values}, keys: {keys}"
        )
    if b.formats or b.highlight:
        out.append(
            f"{where}: with pivot the columns come from the data: give the value's format in its select, "
            "not formats/highlight"
        )


def _check_names(plan: Plan, out: list[str]) -> None:
    """Metrics, measures and params share one namespace: {name} in prose and names in expressions."""
    kinds = [("metric", m.name) for m in plan.metrics] + [("measure", m.name) for m in plan.measures]
    kinds += [("param", p.name) for p in plan.params]
    names = [n for _, n in kinds]
    for n in sorted({n for n in names if names.count(n) > 1}):
        used = sorted({k for k, m in kinds if m == n})
        if used == ["metric"]:
            out.append(f"metric name {n!r} is used twice")
        else:
            out.append(
                f"the name {n!r} is used by a {' and a '.join(used)}; metrics, measures and params need distinct names"
            )


def problems(plan: Plan, catalog: Catalog) -> list[str]:
    out: list[str] = []
    _check_meta(plan, catalog, out)
    _check_names(plan, out)
    params = {p.name for p in plan.params}
    for b, where in zip(plan.blocks, block_names(plan.blocks), strict=True):
        for h in b.highlight if isinstance(b, Table) else []:
            if isinstance(h.value, str) and h.value not in params:
                out.append(
                    f"{where}: highlight value {h.value!r} is neither a number nor a param; params: {sorted(params)}"
                )
    plan, unresolved = resolve(plan)  # measures and params written out: the rest checks what will run
    out += unresolved
    metric_names = [m.name for m in plan.metrics]
    for m in plan.metrics:
        _check_metric(m, catalog, out)
    known = set(metric_names) | params
    tables: dict[str, list[str]] = {}  # table blocks by key: what a template's {{table:NAME.column}} may name
    for b, where in zip(plan.blocks, block_names(plan.blocks), strict=True):
        match b:
            case Heading() | Paragraph():
                pass
            case Image():
                if b.source is not None:
                    _image_name(b.source, catalog, where, out)
                if not 0.1 <= b.width <= 1:
                    out.append(f"{where}: width is a fraction of the text width, 0.1 to 1, not {b.width}")
                if not re.fullmatch(r"[1-9]\d?:[1-9]\d?", b.aspect):
                    out.append(f"{where}: aspect {b.aspect!r} must be width:height, like 16:9, 4:3 or 1:1")
            case Bullets():
                if b.start < 1:
                    out.append(f"{where}: start must be 1 or more")
                elif b.start != 1 and not b.ordered:
                    out.append(f"{where}: start applies to ordered lists only")
                if not 0 <= b.lines <= 12:
                    out.append(f"{where}: lines (writing lines per item) must be 0 to 12, not {b.lines}")
            case Callout():
                pass
            case Kpis():
                for k in b.items:
                    if k.metric not in known:
                        out.append(f"{where}: KPI refers to unknown metric {k.metric!r}; metrics: {sorted(known)}")
            case Chart() if b.model is not None:
                pass  # drawn from a model block: checked with the models
            case Table() | Chart():
                names = _literal(b, where, out)
                types: dict[str, str] = {}
                keys: list[str] = []
                if b.query is not None:
                    names = check_query(b.query, catalog, where, out)
                    ds = catalog.get(b.query.dataset)
                    if names is not None and ds is not None:
                        cols = output_columns(b.query, ds, catalog)
                        types = {c.name: c.type for c in cols}
                        if any(c.measure for c in cols):
                            keys = [c.name for c in cols if not c.measure]
                elif isinstance(b, Chart) and b.series:
                    out.append(f"{where}: series needs a query (literal rows list one column per series)")
                if isinstance(b, Table) and names is not None:
                    tables[key(b.title)] = names
                if isinstance(b, Table) and b.pivot is not None:
                    _check_pivot(b, keys, [n for n in names or [] if n not in keys], where, out)
                elif isinstance(b, Table) and names is not None:
                    if b.query is None:
                        types = {n: "number" if _numeric_literal(b, k) else "text" for k, n in enumerate(names)}
                    _check_table(b, names, types, where, out)
                if isinstance(b, Chart) and names is not None:
                    if b.query is None:
                        types = {n: "number" for n in names}
                        types[b.x] = "text"
                        if b.kind == ChartKind.scatter:
                            types[b.x] = "number"
                    _check_chart(b, names, types, where, out)
                    encoded = [b.x, *b.y, *(b.y2 or []), *([b.series] if b.series else [])]
                    if b.query is not None and all(e in names for e in encoded):
                        _check_series(b, keys, where, out)
            case Model() | PageBreak():
                pass  # a model is checked with the other models (model_problems)
            case _:
                assert_never(b)

        texts = block_texts(b)
        if isinstance(b, Kpis | Model):  # labels are printed as written: a placeholder would show as {name}
            for t in texts:
                if placeholders(t) or malformed_placeholders(t):
                    out.append(f"{where}: labels are printed as written; remove the {{...}} placeholder from {t!r}")
            continue
        for t in texts:
            for bad in malformed_placeholders(t):
                out.append(
                    f"{where}: {bad} is not a placeholder; write {{name}}, {{name:abs}} (no sign) or "
                    "{name|word if positive|word if negative|word if zero}, e.g. {qoq|rose|fell|was flat}"
                )
            for p in placeholders(t):
                if p not in known:
                    out.append(
                        f"{where}: placeholder {{{p}}} does not name a metric; "
                        f"define it in metrics or use one of {sorted(known)}"
                    )
    out += model_problems(plan)
    out += template_problems(plan, catalog, tables)
    return out


def schema_problems(data: object) -> list[str]:
    """Schema problems of a plan's JSON, each naming the block by its title where it has one."""
    try:
        Plan.model_validate(data)
    except ValidationError as e:
        blocks = data.get("blocks") if isinstance(data, dict) else None
        out = []
        for err in e.errors()[:40]:
            loc = [str(x) for x in err["loc"]]
            if len(loc) > 1 and loc[0] == "blocks" and loc[1].isdigit() and isinstance(blocks, list):
                i = int(loc[1])
                b = blocks[i] if i < len(blocks) and isinstance(blocks[i], dict) else {}
                title = b.get("title") or (b.get("text") if b.get("type") == "heading" else "") or ""
                name = f"block {i + 1} ({b.get('type', '?')}{' ' + repr(str(title)[:40]) if title else ''})"
                loc = [name, *loc[3 if len(loc) > 2 and loc[2] == b.get("type") else 2 :]]
            out.append(f"{'.'.join(loc) or 'top level'}: {err['msg']}")
        return out
    return []


def validate(plan: Plan, catalog: Catalog) -> Plan:
    found = problems(plan, catalog)
    if found:
        raise PlanError(found)
    return plan
