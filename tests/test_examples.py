"""The example plans in examples/plans/ render cleanly: the QA pass finds nothing, and the
workbook carries the document's prose."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Paragraph, Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all
from docagent.renderers.qa import check

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DATA = {"budget": [EXAMPLES / "budget.csv"]}


@pytest.mark.parametrize("name", ["prd", "lesson_plan", "sponsorship", "budget"])
def test_example_plan_renders_with_no_qa_warnings(name, tmp_path):
    plan = Plan.model_validate(json.loads((EXAMPLES / "plans" / f"{name}.json").read_text(encoding="utf-8")))
    with Catalog() as catalog:
        for path in DATA.get(name, []):
            catalog.ingest(path)
        bound = bind(validate(plan, catalog), catalog)
    files, _ = render_all(bound, plan.meta.theme or "corporate", tmp_path, name, ["docx", "xlsx", "pdf"])
    assert check(files, bound) == []
    ws = openpyxl.load_workbook(files["xlsx"])["Summary"]
    cells = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    prose = [bound.text(b.text) for b in plan.blocks if isinstance(b, Paragraph)]
    assert prose and all(p in cells for p in prose)
