"""Plans used by renderer tests: one with every block and chart type, bound to examples/sales.csv."""

from __future__ import annotations

from typing import Any

from docagent.engine.plan import ChartKind, Plan

SALES = "sales"


def by(dim: dict[str, Any], *measures: dict[str, Any], **q: Any) -> dict[str, Any]:
    return {"dataset": SALES, "select": [dim, *measures], **q}


REGION = {"column": "region"}
MONTH = {"column": "order_date", "bucket": "month", "label": "Month"}
REVENUE = {"column": "revenue", "agg": "sum", "label": "Revenue", "format": "currency"}
COST = {"column": "cost", "agg": "sum", "label": "Cost", "format": "currency"}
UNITS = {"column": "units", "agg": "sum", "label": "Units", "format": "integer"}

CHARTS: dict[str, dict[str, Any]] = {
    ChartKind.bar: {"query": by(REGION, REVENUE), "x": "region", "y": ["Revenue"]},
    ChartKind.grouped_bar: {"query": by(REGION, REVENUE, COST), "x": "region", "y": ["Revenue", "Cost"]},
    ChartKind.stacked_bar: {
        "query": by({"column": "product"}, REVENUE, COST),
        "x": "product",
        "y": ["Revenue", "Cost"],
    },
    ChartKind.hbar: {"query": by({"column": "product"}, UNITS), "x": "product", "y": ["Units"]},
    ChartKind.line: {"query": by(MONTH, REVENUE), "x": "Month", "y": ["Revenue"]},
    ChartKind.area: {"query": by(MONTH, UNITS), "x": "Month", "y": ["Units"]},
    ChartKind.pie: {"query": by({"column": "channel"}, REVENUE), "x": "channel", "y": ["Revenue"]},
    ChartKind.donut: {
        "columns": ["Item", "Share"],
        "rows": [["Venue", 40], ["Catering", 35], ["Prizes", 25]],
        "x": "Item",
        "y": ["Share"],
    },
    ChartKind.scatter: {
        "query": by({"column": "units"}, {"column": "revenue", "agg": "avg", "label": "Avg revenue"}),
        "x": "units",
        "y": ["Avg revenue"],
    },
    ChartKind.combo: {"query": by(MONTH, REVENUE, UNITS), "x": "Month", "y": ["Revenue"], "y2": ["Units"]},
}


def every_block(title: str = "Every block") -> Plan:
    blocks: list[dict[str, Any]] = [
        {"type": "heading", "text": "Overview", "level": 1},
        {
            "type": "paragraph",
            "text": "Revenue totals {total_revenue} over {orders} orders (Ünïcödé, Ελληνικά, Русский).",
        },
        {
            "type": "kpis",
            "items": [
                {"metric": "total_revenue"},
                {"metric": "orders"},
                {"metric": "growth", "label": "Growth"},
            ],
        },
        {"type": "bullets", "items": ["First point", "Average order {avg_order}"]},
        {"type": "bullets", "items": ["Step one", "Step two"], "ordered": True},
        {"type": "callout", "style": "warning", "title": "Note", "text": "Figures are unaudited."},
        {"type": "heading", "text": "Tables", "level": 2},
        {
            "type": "table",
            "title": "Revenue by region",
            "caption": "Sum of revenue.",
            "totals": True,
            "query": by(
                REGION,
                REVENUE,
                UNITS,
                {"agg": "count", "label": "Orders"},
                {"column": "revenue", "agg": "median", "label": "Median"},
                sort=[{"by": "Revenue", "desc": True}],
            ),
        },
        {
            "type": "table",
            "title": "Monthly online revenue",
            "query": by(MONTH, REVENUE, filters=[{"column": "channel", "op": "eq", "value": "Online"}]),
        },
        {
            "type": "table",
            "title": "Price list",
            "columns": ["Item", "Price", "Note"],
            "rows": [
                ["Basic", 100, "=cmd|' /C calc'!A0"],
                ["Pro", 250.5, "+1 then -2 @SUM"],
                ["Team", None, "x"],
            ],
            "totals": True,
        },
        {"type": "heading", "text": "Charts", "level": 2},
        {"type": "page_break"},
    ]
    for kind, spec in CHARTS.items():
        blocks.append({"type": "chart", "kind": kind, "title": f"{kind} chart", "caption": "Test chart.", **spec})
    metrics = [
        {
            "name": "total_revenue",
            "label": "Total revenue",
            "dataset": SALES,
            "agg": "sum",
            "column": "revenue",
            "format": "compact",
        },
        {"name": "orders", "label": "Orders", "dataset": SALES, "agg": "count", "format": "integer"},
        {
            "name": "avg_order",
            "label": "Average order",
            "dataset": SALES,
            "agg": "avg",
            "column": "revenue",
            "format": "currency",
        },
        {
            "name": "growth",
            "label": "Growth",
            "dataset": SALES,
            "agg": "sum",
            "column": "revenue",
            "period": "change",
            "time_column": "order_date",
            "bucket": "month",
            "format": "percent",
        },
    ]
    return Plan.model_validate(
        {
            "meta": {"title": title, "subtitle": "Completeness", "author": "tests"},
            "metrics": metrics,
            "blocks": blocks,
        }
    )
