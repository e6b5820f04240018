"""Bursting: 1,000 letters from one plan in one job, against one job per letter."""

from __future__ import annotations

import copy
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Row
from docagent.pipeline.generate import render_plan

LETTERS = 1_000
SAMPLE = 20  # one-job-per-letter runs timed, then scaled to LETTERS


def _template(folder: Path, name: str = "letter.docx", greeting: str = "Dear {{customer}},") -> Path:
    from docx import Document

    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Acme Ltd - Accounts receivable"
    doc.add_heading("Statement of account", 1)
    doc.add_paragraph(greeting)
    p = doc.add_paragraph("Your balance is ")
    p.add_run("{{bal").bold = True
    p.add_run("ance}}").bold = True
    t = doc.add_table(rows=2, cols=2)
    for cell, text in zip(t.rows[0].cells + t.rows[1].cells,
                          ["Invoice", "Amount", "{{table:invoices.invoice}}", "{{table:invoices.amount}}"],
                          strict=True):  # fmt: skip
        cell.text = text
    path = folder / name
    doc.save(str(path))
    return path


def _data(folder: Path, customers: int) -> Path:
    rng = random.Random(7)
    lines = ["customer,invoice,amount"]
    n = 0
    for c in range(customers):
        for _ in range(rng.randint(1, 5)):
            n += 1
            lines.append(f"Customer {c:04d},INV-{n:05d},{rng.uniform(10, 5000):.2f}")
    path = folder / "invoices.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PLAN: dict[str, Any] = {
    "meta": {"title": "Balance letters", "template": "letter.docx",
             "burst": {"by": "customer", "dataset": "invoices", "filename": "letter-{customer}"}},
    "metrics": [{"name": "balance", "label": "Balance", "dataset": "invoices", "agg": "sum", "column": "amount",
                 "format": "currency"}],
    "blocks": [{"type": "table", "title": "Invoices",
                "query": {"dataset": "invoices", "select": [{"column": "invoice"},
                                                             {"column": "amount", "format": "currency"}]}}],
}  # fmt: skip


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = _template(folder)
        data = _data(folder, LETTERS)
        t = time.perf_counter()
        files = render_plan(PLAN, [data], ["docx"], folder / "burst-out", templates=[template])
        ours = time.perf_counter() - t
        written = len(list((folder / "burst-out" / "burst").iterdir()))
        zip_mb = files["zip"].stat().st_size / 2**20
        # the baseline: one job per letter, each ingesting its customer's rows and validating the plan again
        single = copy.deepcopy(PLAN)
        single["meta"]["burst"] = None
        single["meta"]["template"] = "letter1.docx"
        tpl1 = _template(folder, "letter1.docx", "Dear customer,")  # no burst column to name
        rows = data.read_text().splitlines()
        t = time.perf_counter()
        for c in range(SAMPLE):
            one = folder / f"c{c}" / "invoices.csv"
            one.parent.mkdir()
            one.write_text("\n".join([rows[0], *(r for r in rows[1:] if r.startswith(f"Customer {c:04d},"))]) + "\n")
            render_plan(single, [one], ["docx"], one.parent / "out", templates=[tpl1])
        per_job = (time.perf_counter() - t) / SAMPLE
    base = per_job * LETTERS
    return [
        Row(
            "bursting",
            f"{LETTERS:,} letters from one plan (one job)",
            f"{ours:.1f} s ({ours / written * 1000:.0f} ms/letter)",
            f"{base:.0f} s (one job per letter, {per_job * 1000:.0f} ms each, {SAMPLE} timed)",
            f"{ours / base:.2f}×",
            f"{written} .docx files, zip {zip_mb:.1f} MiB; the plan validated and the data ingested once",
            {"letters": written, "burst_s": round(ours, 2), "per_job_s": round(per_job, 3)},
        )
    ]
