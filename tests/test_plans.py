"""Plans as templates, in-process: given plans, revisions, plan diffs, hashes and provenance in the PDF."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pypdf
import pytest

from docagent.engine.data.catalog import Catalog
from docagent.engine.llm.client import ModelClient
from docagent.engine.llm.fake import FakeModel, FakeServer, reply
from docagent.engine.plan import Plan
from docagent.engine.planfile import diff, label, parse, plan_hash
from docagent.engine.planners import PlanRequest
from docagent.engine.planners.llm import LLMPlanner
from docagent.errors import PlanError, PlannerError, RepairBudgetExhausted
from docagent.pipeline.generate import given_plan, load, render_job, revise_plan
from docagent.settings import Settings
from tests.conftest import EXAMPLE

REVENUE = {"column": "revenue", "agg": "sum", "label": "Revenue", "format": "currency"}


def sales_plan(**changes: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "meta": {"title": "Sales review"},
        "metrics": [
            {
                "name": "total",
                "label": "Revenue",
                "dataset": "sales",
                "column": "revenue",
                "agg": "sum",
                "format": "currency",
            }
        ],  # fmt: skip
        "blocks": [
            {"type": "heading", "text": "Overview"},
            {"type": "paragraph", "text": "Revenue was {total}."},
            {
                "type": "chart",
                "kind": "bar",
                "title": "Revenue by region",
                "query": {"dataset": "sales", "select": [{"column": "region"}, REVENUE]},
                "x": "region",
                "y": ["Revenue"],
            },
        ],
    }
    plan.update(changes)
    return plan


@pytest.fixture
def sales(catalog: Catalog) -> tuple[Catalog, list[Any]]:
    profiles, _ = load(catalog, [EXAMPLE])
    return catalog, profiles


# --- parse and check: every problem, located by block title ---


def test_parse_names_each_bad_block_by_its_title():
    bad = sales_plan()
    bad["blocks"][2]["kind"] = "spiral"
    bad["blocks"].append({"type": "table", "title": "Top products", "oops": 1})
    with pytest.raises(PlanError) as e:
        parse(bad)
    text = "\n".join(e.value.problems)
    assert "block 3 (chart 'Revenue by region').kind: Input should be 'bar'" in text
    assert "block 4 (table 'Top products').oops: Extra inputs are not permitted" in text


def test_a_plan_that_is_not_an_object_is_one_clear_problem():
    with pytest.raises(PlanError, match="a plan is a JSON object with meta and blocks"):
        parse(["not", "a", "plan"])


def test_given_plan_renders_without_a_model_and_says_so(sales):
    catalog, _ = sales
    planned = given_plan(catalog, sales_plan())
    assert planned.planner == "given" and planned.usage.requests == 0 and planned.model is None


def test_given_plan_that_does_not_fit_the_data_lists_every_problem(sales):
    catalog, _ = sales
    bad = sales_plan()
    bad["blocks"][2]["query"]["select"][0]["column"] = "territory"
    bad["metrics"][0]["column"] = "turnover"
    with pytest.raises(PlanError) as e:
        given_plan(catalog, bad)
    assert len(e.value.problems) == 2
    assert any(
        p.startswith("block 3 (chart 'Revenue by region' under 'Overview'), select 'territory': column 'territory'")
        for p in e.value.problems
    )
    assert any("metric 'total'" in p and "'turnover'" in p for p in e.value.problems)


# --- hash ---


def test_plan_hash_is_stable_and_changes_with_the_plan():
    a = plan_hash(sales_plan())
    assert a == plan_hash(Plan.model_validate(sales_plan())) and len(a) == 64
    assert a != plan_hash(sales_plan(meta={"title": "Sales review, again"}))


# --- diff ---


def test_diff_names_blocks_added_removed_and_changed():
    old = sales_plan()
    new = sales_plan()
    new["blocks"][2] = {**new["blocks"][2], "kind": "line"}  # the same chart, drawn as a line
    del new["blocks"][0]  # heading removed
    new["blocks"].append({"type": "table", "title": "Returns", "columns": ["a"], "rows": [["x"]]})
    d = diff(old, new)
    assert d.removed == ["block 1 (heading 'Overview')"]
    assert d.changed == ["block 2 (chart 'Revenue by region')"]
    assert d.added == ["block 3 (table 'Returns')"]
    assert d.meta_changed == [] and d.metrics_changed == []


def test_diff_of_a_plan_with_itself_is_empty_and_meta_changes_show():
    assert diff(sales_plan(), sales_plan()).as_dict() == {
        "added": [],
        "removed": [],
        "changed": [],
        "meta_changed": [],
        "metrics_changed": [],
    }
    d = diff(sales_plan(), sales_plan(meta={"title": "New title"}))
    assert d.meta_changed == ["title"] and not d.changed


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"type": "heading", "text": "Costs\nand more"}, "block 2 (heading 'Costs')"),
        ({"type": "page_break"}, "block 2 (page_break)"),
        ({"type": "kpis", "items": [{"metric": "total"}]}, "block 2 (kpis 'total')"),
    ],
)
def test_labels_say_what_a_person_sees(block, expected):
    assert label(block, 2) == expected


# --- revise ---


def planner(fake: FakeModel) -> LLMPlanner:
    s = Settings(llm_base_url="http://fake/v1", llm_model="glm-5", llm_agentic="off")
    return LLMPlanner(s, ModelClient(s, http_client=fake.http_client()))


def test_revision_request_carries_the_previous_plan_and_the_instruction(sales):
    catalog, profiles = sales
    previous = Plan.model_validate(sales_plan())
    revised = sales_plan()
    revised["blocks"][2]["kind"] = "line"
    fake = FakeModel(reply(json.dumps(revised)))
    req = PlanRequest("make the chart a line", profiles, catalog, previous=previous)
    planned = planner(fake).plan(req)
    user = fake.requests[0]["messages"][-1]["content"]
    assert "<request>\nmake the chart a line\n</request>" in user
    assert "<plan>" in user and '"title":"Revenue by region"' in user
    sent = user.split("<plan>\n", 1)[1].split("\n</plan>", 1)[0]
    assert Plan.model_validate_json(sent) == previous  # the model sees the whole plan, block types included
    assert planned.planner == "llm" and planned.plan.blocks[2].kind == "line"  # type: ignore[union-attr]


def test_a_revision_the_model_cannot_make_fails_instead_of_starting_over(sales):
    catalog, profiles = sales
    bad = json.dumps(sales_plan(metrics=[{"name": "total", "dataset": "nope", "agg": "count"}]))
    fake = FakeModel(*[reply(bad)] * 3)
    req = PlanRequest("add returns", profiles, catalog, previous=Plan.model_validate(sales_plan()))
    with pytest.raises(RepairBudgetExhausted):
        planner(fake).plan(req)


def test_revise_without_a_model_endpoint_says_it_needs_one(sales):
    catalog, profiles = sales
    with pytest.raises(PlannerError, match="needs a model endpoint"):
        revise_plan(catalog, profiles, Plan.model_validate(sales_plan()), "make it shorter", settings=Settings())


# --- provenance in the file ---


def test_pdf_metadata_carries_the_plan_hash(sales, tmp_path):
    from docagent.engine.bind import bind

    catalog, _ = sales
    planned = given_plan(catalog, sales_plan())
    files, _ = render_job(bind(planned.plan, catalog), tmp_path, ["pdf"], None, Settings())
    keywords = pypdf.PdfReader(files["pdf"]).metadata["/Keywords"]
    assert keywords == f"docagent-plan-sha256:{plan_hash(sales_plan())}"


# --- command line ---

EXE = str(Path(sys.executable).with_name("docagent"))


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DOCAGENT_")}
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, env=base | env)


def test_cli_revise_prints_the_new_plan_and_the_diff(tmp_path):
    revised = sales_plan()
    revised["blocks"][2]["kind"] = "line"
    fake = FakeModel(reply(json.dumps(revised)))
    server = FakeServer(fake)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(sales_plan()))
    try:
        r = cli("revise", str(plan), str(EXAMPLE), "--instruction", "make the chart a line",
                DOCAGENT_LLM_BASE_URL=server.url, DOCAGENT_LLM_AGENTIC="off")  # fmt: skip
    finally:
        server.close()
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["blocks"][2]["kind"] == "line"
    assert "changed: block 3 (chart 'Revenue by region')" in r.stderr and "requests=1" in r.stderr
    assert "make the chart a line" in fake.requests[0]["messages"][-1]["content"]


def test_cli_revise_without_a_model_says_it_needs_one(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(sales_plan()))
    r = cli("revise", str(plan), str(EXAMPLE), "--instruction", "shorter")
    assert r.returncode == 2 and r.stdout == "" and "needs a model endpoint" in r.stderr


def test_cli_schedules_add_from_job_freezes_that_jobs_plan(tmp_path):
    from docagent.service.lifecycle import JobSpec, create_job, locked
    from docagent.service.store import ScheduleRow, migrate, session

    settings = Settings(var_dir=str(tmp_path / "var"))
    migrate(settings)
    job, _ = create_job("local", JobSpec("Weekly sales", formats=["pdf"]), settings=settings)
    with locked(job.id, settings) as row:
        row.plan = sales_plan()
    args = ["schedules", "add", "--name", "weekly", "--cron", "0 8 * * mon", "--dataset", "sales"]
    r = cli(*args, "--from-job", job.id, DOCAGENT_VAR_DIR=str(tmp_path / "var"))
    assert r.returncode == 0, r.stderr
    with session(settings) as s:
        spec = s.get(ScheduleRow, r.stdout.strip()).job  # type: ignore[union-attr]
    assert spec["plan"] == Plan.model_validate(sales_plan()).model_dump(mode="json")
    assert spec["prompt"] == "Weekly sales" and spec["from_job"] == job.id
    r = cli(*args, "--from-job", "nope", DOCAGENT_VAR_DIR=str(tmp_path / "var"))
    assert r.returncode == 2 and "from_job: no job 'nope'" in r.stderr
