"""Whole processes as a user runs them: `docagent --help`, and the README's PDF job against LibreOffice
converting the same report's .docx; and PDF tables at four sizes, to show the cost grows linearly in rows.

Runs alternate ours and the baseline and report medians, so a busy machine disturbs both alike.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, ratio

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sales.csv"
PROMPT = "Quarterly sales report for the leadership team"
DOCAGENT = str(Path(sys.executable).with_name("docagent"))
RUNS = 5
TABLE_ROWS = (1_000, 2_000, 4_000, 8_000)


def seconds(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, timeout=600)
    return time.perf_counter() - t


def medians(ours: list[str], theirs: list[str]) -> tuple[float, float]:
    a, b = [], []
    for _ in range(RUNS):
        a.append(seconds(ours))
        b.append(seconds(theirs))
    return statistics.median(a), statistics.median(b)


def generate(out: Path, fmt: str) -> list[str]:
    return [DOCAGENT, "generate", str(EXAMPLE), "-p", PROMPT, "--planner", "rules", "--language", "en",
            "--format", fmt, "--out", str(out)]  # fmt: skip


def run() -> list[Row]:
    rows = []
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    ours, interpreter = medians([DOCAGENT, "--help"], [sys.executable, "-c", "pass"])
    rows.append(
        Row(
            "startup",
            "`docagent --help`, whole process",
            f"{ours:.2f} s",
            f"{interpreter:.2f} s (bare `python -c pass`)",
            ratio(ours, interpreter),
            f"median of {RUNS}",
            {"help_s": ours, "python_s": interpreter},
        )
    )
    subprocess.run(generate(work / "docx", "docx"), check=True, capture_output=True, cwd=ROOT)
    (docx,) = (work / "docx").glob("*.docx")
    if shutil.which("soffice") is not None:
        lo = ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work / "lo"), str(docx)]
        ours, theirs = medians(generate(work / "pdf", "pdf"), lo)
        rows.append(
            Row(
                "startup",
                "README PDF job, whole process: `docagent generate --format pdf` vs LibreOffice docx→pdf",
                f"{ours:.2f} s",
                f"{theirs:.2f} s",
                ratio(ours, theirs),
                f"median of {RUNS}; ours ingests, plans (rules), renders and QA-checks; LibreOffice only converts",
                {"ours_s": ours, "soffice_s": theirs},
            )
        )
    shutil.rmtree(work, ignore_errors=True)
    return rows


TABLE = """
import sys, time
from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.renderers.pdf import render_pdf
from docagent.renderers.theme import load_theme
n = int(sys.argv[1])
regions = ("North", "South", "East", "West Coast and Islands")
products = ("Widget", "Gadget", "Thingamajig deluxe edition")  # over 18 characters: a wrapping Paragraph
rows = [[f"A-{i:06d}", regions[i % 4], products[i % 3], i % 50, round(i * 1.37 % 5000, 2)] for i in range(n)]
plan = Plan.model_validate({"meta": {"title": "Rows"}, "blocks": [
    {"type": "heading", "text": "All rows", "level": 1},
    {"type": "table", "title": "Every order", "columns": ["Order", "Region", "Product", "Units", "Revenue"],
     "rows": rows}]})
with Catalog() as c:
    bound = bind(plan, c)
t = time.perf_counter()
render_pdf(bound, load_theme("corporate"), {}, __import__("pathlib").Path(sys.argv[2]))
print(time.perf_counter() - t)
"""


def tables() -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="bench-tables-"))
    times = {}
    for n in TABLE_ROWS:
        out = subprocess.run(
            [sys.executable, "-c", TABLE, str(n), str(work / f"t{n}.pdf")],
            check=True, capture_output=True, text=True, cwd=ROOT, timeout=900,
        )  # fmt: skip
        times[n] = float(out.stdout.split()[-1])
    first = TABLE_ROWS[0]
    rows = [
        Row(
            "pdf tables",
            f"PDF of one {n:,}-row table (5 columns)",
            f"{times[n]:.2f} s",
            f"{times[first] * n / first:.2f} s (linear from {first:,} rows)",
            ratio(times[n], times[first] * n / first),
            f"{1000 * times[n] / n:.2f} ms a row",
            {"rows": n, "s": times[n]},
        )
        for n in TABLE_ROWS
    ]
    shutil.rmtree(work, ignore_errors=True)
    return rows
