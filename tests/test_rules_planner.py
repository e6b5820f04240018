"""The rules planner copes with every shape of real dataset, and its plans render."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from docagent.bind import bind
from docagent.data.catalog import Catalog
from docagent.data.profile import profile
from docagent.errors import NothingToPlan
from docagent.plan import Chart, Kpis, Table
from docagent.planners.rules import plan_report
from docagent.validate import validate
from renderers import render_all


def write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


SHAPES = {
    "wide": lambda: ([f"m{i}" for i in range(60)], [[r * i for i in range(60)] for r in range(50)]),
    "long series": lambda: (
        ["day", "value"],
        [[(dt.date(2000, 1, 1) + dt.timedelta(days=i)).isoformat(), i % 97] for i in range(9000)],
    ),
    "no numbers": lambda: (["name", "team", "city"], [[f"n{i}", f"t{i % 4}", f"c{i % 7}"] for i in range(40)]),
    "no categories": lambda: (["x", "y"], [[i, i * i] for i in range(100)]),
    "single row": lambda: (["region", "revenue", "day"], [["North", 10.5, "2024-01-01"]]),
    "dates only": lambda: (["when"], [[f"2024-01-{d:02d}"] for d in range(1, 29)]),
    "ids only": lambda: (["id"], [[i] for i in range(500)]),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_gets_a_valid_plan_that_renders(shape, tmp_path):
    header, rows = SHAPES[shape]()
    path = write(tmp_path / "data.csv", header, rows)
    with Catalog() as c:
        (ds,) = c.ingest(path)
        plan = plan_report([profile(c, ds)], f"Report on {shape}")
        validate(plan, c)
        bound = bind(plan, c)
    assert plan.meta.title == f"Report on {shape}"
    assert any(isinstance(b, Kpis) for b in plan.blocks)
    files, _ = render_all(bound, "corporate", tmp_path, "r", ["docx", "xlsx", "pdf"])
    assert all(p.stat().st_size > 3000 for p in files.values())
    charts = [b for b in plan.blocks if isinstance(b, Chart)]
    if shape in ("long series",):
        assert charts and charts[0].query is not None and charts[0].query.select[0].bucket == "quarter"
    if shape in ("single row", "dates only", "ids only", "no categories"):
        assert not any(isinstance(b, Chart) and b.kind in ("bar", "hbar") for b in plan.blocks)
    if shape == "no numbers":
        assert any(isinstance(b, Table) and b.query is not None for b in plan.blocks)


def test_several_datasets_get_a_section_each(tmp_path):
    a = write(tmp_path / "a.csv", ["k", "v"], [["x", 1], ["y", 2]])
    b = write(tmp_path / "b.csv", ["k", "w"], [["x", 3], ["z", 4]])
    with Catalog() as c:
        profiles = [profile(c, ds) for p in (a, b) for ds in c.ingest(p)]
        plan = plan_report(profiles, "")
        validate(plan, c)
    headings = [b.text for b in plan.blocks if b.type == "heading"]
    assert "Dataset: a.csv" in headings and "Dataset: b.csv" in headings
    assert plan.meta.title == "A report"


def test_without_data_the_rules_planner_says_so():
    with pytest.raises(NothingToPlan, match="the rules planner needs data"):
        plan_report([], "A lesson plan")
