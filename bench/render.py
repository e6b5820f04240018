"""Rendering: the README example and a large report, per format; our PDF versus LibreOffice
converting our own .docx (the Carbone/Gotenberg route); charts drawn once versus per format."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Row, best_of, ratio
from docagent.engine.bind import Bound, bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.plan import Plan
from docagent.engine.planners.rules import plan_report
from docagent.engine.validate import validate
from docagent.renderers.charts import draw_all
from docagent.renderers.excel import render_xlsx
from docagent.renderers.pdf import render_pdf
from docagent.renderers.slides import render_pptx
from docagent.renderers.theme import load_theme
from docagent.renderers.word import render_docx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sales.csv"
PROMPT = "Quarterly sales report for the leadership team"


def large_plan() -> Plan:
    """20+ pages: 8 charts and 10 tables, one of them every day of two years."""
    dims = ["region", "product", "channel"]
    blocks: list[dict[str, Any]] = [{"type": "heading", "text": "Large report", "level": 1}]
    kinds = ["bar", "hbar", "line", "area", "pie", "donut", "stacked_bar", "combo"]
    for i, kind in enumerate(kinds):
        dim = (
            {"column": "order_date", "bucket": "month", "label": "Month"}
            if kind in ("line", "area", "combo")
            else {"column": dims[i % 3]}
        )
        x = "Month" if "bucket" in dim else dim["column"]
        sel = [dim, {"column": "revenue", "agg": "sum", "label": "Revenue"}]
        extra: dict[str, Any] = {}
        if kind in ("stacked_bar", "combo"):
            sel.append({"column": "cost", "agg": "sum", "label": "Cost"})
            extra = {"y2": ["Cost"]} if kind == "combo" else {}
        y = ["Revenue", "Cost"] if kind == "stacked_bar" else ["Revenue"]
        blocks += [
            {"type": "heading", "text": f"Section {i + 1}", "level": 2},
            {"type": "paragraph", "text": "Commentary on the chart below. " * 6},
            {
                "type": "chart",
                "kind": kind,
                "title": f"{kind} chart",
                "x": x,
                "y": y,
                "query": {"dataset": "sales", "select": sel},
                **extra,
            },
        ]
    for i in range(9):
        a, b = dims[i % 3], dims[(i + 1) % 3]
        blocks.append(
            {
                "type": "table",
                "title": f"{a} by {b}",
                "totals": True,
                "query": {
                    "dataset": "sales",
                    "select": [
                        {"column": a},
                        {"column": b},
                        {"column": "revenue", "agg": "sum", "label": "Revenue", "format": "currency"},
                        {"column": "units", "agg": "sum", "label": "Units", "format": "integer"},
                        {"agg": "count", "label": "Orders"},
                    ],
                },
            }
        )
    blocks.append(
        {
            "type": "table",
            "title": "Every day",
            "query": {
                "dataset": "sales",
                "select": [
                    {"column": "order_date", "bucket": "day", "label": "Day"},
                    {"column": "revenue", "agg": "sum", "label": "Revenue"},
                    {"column": "cost", "agg": "sum", "label": "Cost"},
                    {"agg": "count", "label": "Orders"},
                ],
            },
        }
    )
    return Plan.model_validate({"meta": {"title": "Large report"}, "blocks": blocks})


def bound_for(plan_fn: Any) -> Bound:
    with Catalog() as c:
        (ds,) = c.ingest(EXAMPLE)
        plan = plan_fn(c, ds)
        validate(plan, c)
        return bind(plan, c)


def soffice_seconds(docx: Path) -> float | None:
    if shutil.which("soffice") is None:
        return None
    out = docx.parent / "lo"
    t = time.perf_counter()
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return time.perf_counter() - t


def pages(pdf: Path) -> int:
    import pypdf

    return len(pypdf.PdfReader(pdf).pages)


def run() -> list[Row]:
    theme = load_theme("corporate")
    cases = {
        "README example": bound_for(lambda c, ds: plan_report([profile(c, ds)], PROMPT)),
        "large report": bound_for(lambda c, ds: large_plan()),
    }
    rows = []
    for name, bound in cases.items():
        work = Path(tempfile.mkdtemp(prefix="bench-render-"))
        draw_all(bound, theme)  # warm: imports and font caches are not what we measure
        charts_s = best_of(lambda b=bound: draw_all(b, theme))
        charts = draw_all(bound, theme)
        docx_s = best_of(lambda b=bound, c=charts, w=work: render_docx(b, theme, c, w / "r.docx"))
        xlsx_s = best_of(lambda b=bound, w=work: render_xlsx(b, theme, w / "r.xlsx"))
        pdf_s = best_of(lambda b=bound, c=charts, w=work: render_pdf(b, theme, c, w / "r.pdf"))
        pptx_s = best_of(lambda b=bound, w=work: render_pptx(b, theme, w / "r.pptx"))  # native charts: no drawing
        total = charts_s + docx_s + xlsx_s + pdf_s
        n_pages = pages(work / "r.pdf")
        figures = {
            "charts_s": charts_s,
            "docx_s": docx_s,
            "xlsx_s": xlsx_s,
            "pdf_s": pdf_s,
            "total_s": total,
            "pdf_pages": n_pages,
            "pptx_s": pptx_s,
        }
        rows.append(
            Row(
                "rendering",
                f"{name}: all three formats ({n_pages} PDF pages)",
                f"{total:.2f} s",
                f"charts {charts_s:.2f} · docx {docx_s:.2f} · xlsx {xlsx_s:.2f} · pdf {pdf_s:.2f} s",
                "–",
                "per-format split of our own time",
                figures,
            )
        )
        rows.append(
            Row(
                "rendering",
                f"{name}: .pptx deck (native charts)",
                f"{pptx_s:.2f} s",
                f"pdf {charts_s + pdf_s:.2f} s (charts + ReportLab)",
                ratio(pptx_s, charts_s + pdf_s),
                "the deck needs no drawn charts",
                {"pptx_s": pptx_s},
            )
        )
        lo = soffice_seconds(work / "r.docx")
        if lo is not None:
            ours = charts_s + pdf_s
            rows.append(
                Row(
                    "rendering",
                    f"{name}: PDF, ours vs LibreOffice docx→pdf",
                    f"{ours:.2f} s",
                    f"{lo:.2f} s",
                    ratio(ours, lo),
                    "cold soffice process, our .docx as input",
                    {"ours_pdf_s": ours, "soffice_s": lo},
                )
            )
        per_format = best_of(lambda b=bound: draw_all(b, theme, ("png",))) + best_of(
            lambda b=bound: draw_all(b, theme, ("svg",))
        )
        rows.append(
            Row(
                "rendering",
                f"{name}: charts drawn once vs once per format",
                f"{charts_s:.2f} s",
                f"{per_format:.2f} s",
                ratio(charts_s, per_format),
                "one figure saved as PNG and SVG vs a figure per format",
                {"once_s": charts_s, "per_format_s": per_format},
            )
        )
        shutil.rmtree(work, ignore_errors=True)
    return rows
