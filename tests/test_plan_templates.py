"""Plans as templates through the service: jobs from a plan, revisions, frozen schedules, provenance.

The embedded stack talks to a fake model endpoint on loopback that records every request.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pypdf
import pytest

from docagent.engine.llm.fake import FakeModel, FakeServer, reply
from tests.service import Stack, embedded, wait_status

UNITS = {"column": "units", "agg": "sum", "label": "Units", "format": "integer"}


def sales_plan(units: str = "units", dataset: str = "sales") -> dict[str, Any]:
    """A weekly report template: every figure is a binding, the latest quarter is relative to the data."""
    units_sel = {**UNITS, "column": units}
    return {
        "meta": {"title": "Regional sales"},
        "metrics": [
            {
                "name": "total_units",
                "label": "Units",
                "dataset": dataset,
                "column": units,
                "agg": "sum",
                "format": "integer",
            },
            {
                "name": "latest_quarter",
                "label": "Latest quarter",
                "dataset": dataset,
                "column": units,
                "agg": "sum",
                "period": "last",
                "time_column": "order_date",
                "bucket": "quarter",
                "format": "integer",
            },
        ],  # fmt: skip
        "blocks": [
            {"type": "heading", "text": "Overview"},
            {"type": "paragraph", "text": "Units sold: {total_units}; in the latest quarter: {latest_quarter}."},
            {
                "type": "chart",
                "kind": "bar",
                "title": "Units by region",
                "query": {"dataset": dataset, "select": [{"column": "region"}, units_sel]},
                "x": "region",
                "y": ["Units"],
            },
        ],  # fmt: skip
    }


def revised_plan(plan: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(plan))
    out["blocks"][2]["kind"] = "line"
    out["blocks"].append({"type": "heading", "text": "Returns"})
    return out


def sales_csv(quarters: int, units_column: str = "units", bump: int = 0) -> tuple[bytes, dict[str, int]]:
    """Daily rows for two regions over the first `quarters` quarters of 2024; returns the file and its sums."""
    rows, day = [], dt.date(2024, 1, 1)
    end = dt.date(2024, 1 + 3 * quarters, 1) if quarters < 4 else dt.date(2025, 1, 1)
    while day < end:
        for region in ("North", "South"):
            rows.append([day.isoformat(), region, day.day % 7 + 1 + bump])
        day += dt.timedelta(days=1)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["order_date", "region", units_column])
    w.writerows(rows)
    last_q_start = dt.date(2024, 1 + 3 * (quarters - 1), 1).isoformat()
    sums = {"total": sum(r[2] for r in rows), "latest_quarter": sum(r[2] for r in rows if r[0] >= last_q_start)}
    return buf.getvalue().encode(), sums


def answer(body: dict[str, Any]) -> Any:
    """The fake model: revises a given plan, or plans for the columns it was shown."""
    user = body["messages"][-1]["content"]
    dataset = json.loads(user.split("<datasets>\n", 1)[1].split("\n</datasets>", 1)[0])[0]["dataset"]
    units = "qty" if '"name": "qty"' in user else "units"
    if "<plan>" in user:
        previous = json.loads(user.split("<plan>\n", 1)[1].split("\n</plan>", 1)[0])
        return reply(json.dumps(revised_plan(previous)))
    return reply(json.dumps(sales_plan(units, dataset)))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeModel]:
    model = FakeModel(*[answer] * 50)
    server = FakeServer(model)
    model.url = server.url  # type: ignore[attr-defined]
    yield model
    server.close()


@pytest.fixture(scope="module")
def stack(fake, tmp_path_factory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("templates")
    with embedded(tmp, DOCAGENT_LLM_BASE_URL=fake.url, DOCAGENT_LLM_AGENTIC="off") as s:
        yield s


@pytest.fixture(scope="module")
def client(stack):
    with stack.client() as c:
        yield c


def upload(client, name: str, content: bytes) -> dict[str, Any]:
    r = client.post("/v1/datasets", files={"file": (f"{name}.csv", content, "text/csv")}, data={"name": name})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def paragraph(client, job: dict[str, Any]) -> str:
    url = next(a["url"] for a in job["artifacts"] if a["format"] == "docx")
    document = docx.Document(io.BytesIO(client.get(url).content))
    return next(p.text for p in document.paragraphs if p.text.startswith("Units sold"))


def finished(client, job_id: str) -> dict[str, Any]:
    job = wait_status(client, job_id, {"succeeded", "failed"})
    assert job["status"] == "succeeded", job["error"]
    return job


def test_a_plan_is_a_template_from_prompt_to_revision_to_frozen_schedule(client, fake, tmp_path):
    v1, sums1 = sales_csv(quarters=1)
    ds1 = upload(client, "sales", v1)
    # job A: planned by the model from a prompt
    a_id = client.post("/v1/jobs", json={"prompt": "Units by region", "dataset_ids": [ds1["id"]],
                                         "planner": "llm"}).json()["id"]  # fmt: skip
    a = finished(client, a_id)
    assert a["planner"]["name"] == "llm" and a["usage"]["requests"] == 1
    assert (
        paragraph(client, a) == f"Units sold: {sums1['total']:,}; in the latest quarter: {sums1['latest_quarter']:,}."
    )
    plan_a = client.get(f"/v1/jobs/{a_id}/plan").json()

    # job B: A's plan on a new version of the dataset, no model call, the new data's numbers
    requests_before = len(fake.requests)
    v2, sums2 = sales_csv(quarters=2)
    ds2 = upload(client, "sales", v2)
    assert ds2["version"] == 2
    r = client.post("/v1/jobs", json={"plan": plan_a, "dataset_ids": [ds2["id"]], "formats": ["docx", "pdf"]})
    assert r.status_code == 202, r.text
    b = finished(client, r.json()["id"])
    assert b["planner"]["name"] == "given" and b["usage"]["requests"] == 0
    assert len(fake.requests) == requests_before
    assert (
        paragraph(client, b) == f"Units sold: {sums2['total']:,}; in the latest quarter: {sums2['latest_quarter']:,}."
    )
    assert sums2 != sums1
    # provenance: the plan's hash, the data version read, docagent's version; the PDF carries the hash
    prov = next(x["provenance"] for x in b["artifacts"] if x["format"] == "pdf")
    assert prov["datasets"] == [{"id": ds2["id"], "name": "sales", "version": 2,
                                 "sha256": hashlib.sha256(v2).hexdigest()}]  # fmt: skip
    assert prov["docagent_version"]
    pdf = client.get(next(x["url"] for x in b["artifacts"] if x["format"] == "pdf")).content
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata["/Keywords"] == f"docagent-plan-sha256:{prov['plan_sha256']}"

    # revise B: the model's request carries B's plan and the instruction; the child renders, linked to B
    r = client.post(f"/v1/jobs/{b['id']}/revise", json={"instruction": "make the chart a line; add returns"})
    assert r.status_code == 202, r.text
    c = finished(client, r.json()["id"])
    request = fake.requests[-1]["messages"][-1]["content"]
    assert "make the chart a line; add returns" in request and '"title":"Units by region"' in request
    assert c["parent_id"] == b["id"] and c["usage"]["requests"] == 1
    assert c["diff"]["changed"] == ["block 3 (chart 'Units by region')"]
    assert c["diff"]["added"] == ["block 4 (heading 'Returns')"] and c["diff"]["removed"] == []
    # a revision of a revision
    r = client.post(f"/v1/jobs/{c['id']}/revise", json={"instruction": "once more", "formats": ["pdf"]})
    d = finished(client, r.json()["id"])
    assert d["parent_id"] == c["id"] and d["diff"]["added"] == ["block 5 (heading 'Returns')"]

    # schedule from A: two runs across a data update, no model call, figures follow the data
    requests_before = len(fake.requests)
    body = {"name": "weekly", "cron": "0 8 * * mon", "timezone": "Europe/Berlin",
            "job": {"from_job": a_id, "formats": ["docx"], "source": {"dataset": "sales"}}}  # fmt: skip
    r = client.post("/v1/schedules", json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["job"]["plan"] == plan_a
    first = finished(client, client.post(f"/v1/schedules/{sid}/run").json()["job_id"])
    v3, sums3 = sales_csv(quarters=3, bump=2)
    upload(client, "sales", v3)
    second = finished(client, client.post(f"/v1/schedules/{sid}/run").json()["job_id"])
    assert len(fake.requests) == requests_before
    assert first["usage"]["requests"] == second["usage"]["requests"] == 0
    assert first["planner"]["name"] == second["planner"]["name"] == "given"
    assert (
        paragraph(client, first)
        == f"Units sold: {sums2['total']:,}; in the latest quarter: {sums2['latest_quarter']:,}."
    )
    assert (
        paragraph(client, second)
        == f"Units sold: {sums3['total']:,}; in the latest quarter: {sums3['latest_quarter']:,}."
    )
    assert client.get(f"/v1/schedules/{sid}/runs").json()["count"] == 2


def test_a_frozen_plan_that_no_longer_fits_fails_with_its_problems_or_replans_when_allowed(client, fake):
    v1, _ = sales_csv(quarters=1)
    ds = upload(client, "shop", v1)
    a_id = client.post("/v1/jobs", json={"prompt": "Units by region", "dataset_ids": [ds["id"]],
                                         "planner": "llm"}).json()["id"]  # fmt: skip
    finished(client, a_id)
    renamed, sums = sales_csv(quarters=2, units_column="qty")
    upload(client, "shop", renamed)  # the column "units" is now "qty"

    def schedule(replan: bool) -> str:
        job = {"from_job": a_id, "formats": ["docx"], "source": {"dataset": "shop"}, "replan_on_mismatch": replan}
        r = client.post("/v1/schedules", json={"name": f"shop {replan}", "cron": "0 8 * * *", "job": job})
        assert r.status_code == 201, r.text
        return r.json()["id"]  # type: ignore[no-any-return]

    frozen = schedule(replan=False)
    job_id = client.post(f"/v1/schedules/{frozen}/run").json()["job_id"]
    failed = wait_status(client, job_id, {"succeeded", "failed"})
    assert failed["status"] == "failed" and failed["error"]["code"] == "invalid_plan"
    assert "column 'units' does not exist in 'shop'" in failed["error"]["message"]
    assert "'qty' (integer)" in failed["error"]["message"]  # what is there instead
    history = client.get(f"/v1/schedules/{frozen}/runs").json()["data"]
    assert history[0]["job_status"] == "failed"

    requests_before = len(fake.requests)
    replanned = finished(client, client.post(f"/v1/schedules/{schedule(replan=True)}/run").json()["job_id"])
    assert replanned["planner"]["name"] == "llm" and replanned["usage"]["requests"] == 1
    assert len(fake.requests) == requests_before + 1
    assert "the frozen plan no longer fits the data" in replanned["planner"]["fallback_reason"]
    assert "column 'units' does not exist" in replanned["planner"]["fallback_reason"]
    assert paragraph(client, replanned).startswith(f"Units sold: {sums['total']:,};")


def test_an_invalid_plan_is_422_with_every_problem_and_queues_nothing(client):
    ds = upload(client, "tiny", sales_csv(quarters=1)[0])
    before = client.get("/v1/jobs").json()["count"]
    bad = sales_plan(dataset="tiny")
    bad["blocks"][2]["query"]["select"][0]["column"] = "territory"
    bad["metrics"][0]["agg"] = "avg_of_everything"
    r = client.post("/v1/jobs", json={"plan": bad, "dataset_ids": [ds["id"]]})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problems = r.json()["problems"]
    assert len(problems) == 1 and "metrics.0.agg" in problems[0]  # the schema is checked first
    bad["metrics"][0]["agg"] = "sum"
    bad["metrics"][1]["column"] = "turnover"
    r = client.post("/v1/jobs", json={"plan": bad, "dataset_ids": [ds["id"]]})
    problems = r.json()["problems"]
    assert r.status_code == 422 and r.json()["code"] == "invalid_plan" and len(problems) == 2
    assert any("'territory' does not exist in 'tiny'" in p for p in problems)
    assert any("metric 'latest_quarter'" in p and "'turnover'" in p for p in problems)
    assert client.get("/v1/jobs").json()["count"] == before


def test_one_shot_upload_with_a_plan_renders_it(client, fake):
    before = len(fake.requests)
    data, sums = sales_csv(quarters=1)
    r = client.post(
        "/v1/jobs/upload",
        files=[("files", ("sales.csv", data, "text/csv"))],
        data={"plan": json.dumps(sales_plan()), "formats": "docx"},
    )
    assert r.status_code == 202, r.text
    job = finished(client, r.json()["id"])
    assert job["planner"]["name"] == "given" and len(fake.requests) == before
    assert paragraph(client, job).startswith(f"Units sold: {sums['total']:,};")


def test_revise_refuses_a_job_without_a_plan_and_a_service_without_a_model(client, tmp_path: Path):
    ds = upload(client, "pending", sales_csv(quarters=1)[0])
    job_id = client.post("/v1/jobs", json={"prompt": "x", "dataset_ids": [ds["id"]], "planner": "rules"}).json()["id"]
    client.post(f"/v1/jobs/{job_id}/cancel")
    r = client.post(f"/v1/jobs/{job_id}/revise", json={"instruction": "shorter"})
    assert r.status_code == 409 and r.json()["code"] == "no_plan"
    with embedded(tmp_path) as bare, bare.client() as c:
        ds = upload(c, "sales", sales_csv(quarters=1)[0])
        job_id = c.post("/v1/jobs", json={"prompt": "x", "dataset_ids": [ds["id"]]}).json()["id"]
        finished(c, job_id)
        r = c.post(f"/v1/jobs/{job_id}/revise", json={"instruction": "shorter"})
        assert r.status_code == 409 and r.json()["code"] == "model_required"
        assert "revising a plan needs the model" in r.json()["detail"]
        assert c.get("/v1/jobs").json()["count"] == 1
