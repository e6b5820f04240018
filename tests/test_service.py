"""End to end through the service: embedded defaults, and Redis + PostgreSQL + real Celery workers."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import docx
import openpyxl
import pypdf
import pytest

from tests.conftest import EXAMPLE
from tests.service import distributed, embedded, follow, postgres_up, redis_up, wait_status

servers = pytest.mark.skipif(not (redis_up() and postgres_up()), reason="Redis or PostgreSQL not running")


@pytest.fixture(scope="module", params=["embedded", pytest.param("redis+postgres", marks=servers)])
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param.replace("+", "_"))
    ctx = (
        embedded(tmp, DOCAGENT_MAX_UPLOAD_BYTES=str(2 * 2**20))
        if request.param == "embedded"
        else distributed(tmp, DOCAGENT_MAX_UPLOAD_BYTES=str(2 * 2**20))
    )
    with ctx as s:
        yield s


@pytest.fixture(scope="module")
def client(stack):
    with stack.client() as c:
        yield c


@pytest.fixture(scope="module")
def dataset(client):
    with EXAMPLE.open("rb") as f:
        r = client.post("/v1/datasets", files={"file": ("sales.csv", f, "text/csv")}, data={"name": "sales"})
    assert r.status_code == 201, r.text
    return r.json()


def test_upload_returns_the_dataset(dataset, client):
    assert dataset["rows"] == 2922 and dataset["format"] == "csv" and dataset["version"] == 1
    assert {"name": "revenue", "type": "number"} in dataset["columns"]
    detail = client.get(f"/v1/datasets/{dataset['id']}").json()
    assert detail["profile"]["columns"][1]["top"][0][0] in {"West", "South", "Central", "East", "North"}


def test_job_runs_to_documents(dataset, client, tmp_path):
    r = client.post("/v1/jobs", json={"prompt": "Quarterly sales review", "dataset_ids": [dataset["id"]]})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job_id = r.json()["id"]
    events = follow(client, job_id)
    statuses = [e["status"] for e in events]
    assert statuses[-1] == "succeeded", events
    assert "rendering" in statuses or "planning" in statuses
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["progress"] == 1.0 and job["planner"]["name"] == "rules" and job["error"] is None
    assert job["started_at"] and job["finished_at"] and job["created_at"].endswith(("Z", "+00:00"))
    assert [a["format"] for a in job["artifacts"]] == ["docx", "xlsx", "pdf"]
    files = {}
    for a in job["artifacts"]:
        d = client.get(a["url"])
        assert d.status_code == 200 and len(d.content) == a["bytes"]
        assert 'filename="Quarterly-sales-review.' in d.headers["content-disposition"]
        files[a["format"]] = d
    assert files["pdf"].headers["content-type"] == "application/pdf"
    assert len(pypdf.PdfReader(io.BytesIO(files["pdf"].content)).pages) >= 2
    assert docx.Document(io.BytesIO(files["docx"].content)).paragraphs[0].text == "Quarterly sales review"
    assert openpyxl.load_workbook(io.BytesIO(files["xlsx"].content)).sheetnames[0] == "Summary"
    plan = client.get(f"/v1/jobs/{job_id}/plan").json()
    assert plan["meta"]["title"] == "Quarterly sales review"
    listing = client.get("/v1/jobs", params={"status": "succeeded"}).json()
    assert listing["count"] >= 1 and listing["data"][0]["id"] == job_id


def test_idempotency_key_returns_the_same_job(dataset, client):
    body = {"prompt": "Same", "dataset_ids": [dataset["id"]], "formats": ["pdf"]}
    a = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": "k-1"}).json()
    b = client.post("/v1/jobs", json=body, headers={"Idempotency-Key": "k-1"}).json()
    assert a["id"] == b["id"]
    wait_status(client, a["id"], {"succeeded"})


# the model planner with no model is no longer one of these: it is refused before anything is queued
# (tests/test_journeys_api.py)
@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"prompt": "x", "theme": "neon"}, "render_failed", "unknown theme 'neon'; available: classic, corporate"),
    ],
)
def test_failing_job_ends_failed_with_a_readable_error(dataset, client, body, code, words):
    job_id = client.post("/v1/jobs", json={**body, "dataset_ids": [dataset["id"]]}).json()["id"]
    events = follow(client, job_id)
    assert events[-1]["status"] == "failed" and events[-1]["error"]["code"] == code
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert words in job["error"]["message"] and job["artifacts"] == []
    retried = client.post(f"/v1/jobs/{job_id}/retry")
    assert retried.status_code == 202
    assert wait_status(client, job_id, {"failed"})["error"]["code"] == code


def test_cancel(dataset, client):
    job_id = client.post("/v1/jobs", json={"prompt": "Cancel me", "dataset_ids": [dataset["id"]]}).json()["id"]
    r = client.post(f"/v1/jobs/{job_id}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "canceled"
    time.sleep(2)  # the worker picks the job up, sees it canceled, does nothing
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] == "canceled" and job["artifacts"] == []
    assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 409


def test_a_canceled_job_is_retried_then_deleted_with_its_files(dataset, client):
    job_id = client.post("/v1/jobs", json={"prompt": "Cancel me", "dataset_ids": [dataset["id"]]}).json()["id"]
    assert client.post(f"/v1/jobs/{job_id}/cancel").json()["status"] == "canceled"
    assert client.post(f"/v1/jobs/{job_id}/retry").status_code == 202
    done = wait_status(client, job_id, {"succeeded", "failed"})
    assert done["status"] == "succeeded", done["error"]
    assert {a["format"] for a in done["artifacts"]} == {"docx", "xlsx", "pdf"} and done["previews"]
    assert client.get(done["previews"][0]).status_code == 200
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404
    assert client.get(done["artifacts"][0]["url"]).status_code == 404
    assert client.get(f"/v1/datasets/{dataset['id']}").status_code == 200  # the data stays


def test_one_shot_upload_and_prompt(client):
    with EXAMPLE.open("rb") as f:
        r = client.post(
            "/v1/jobs/upload",
            files=[("files", ("sales.csv", f, "text/csv"))],
            data={"prompt": "One shot", "formats": "xlsx"},
        )
    assert r.status_code == 202, r.text
    job = wait_status(client, r.json()["id"], {"succeeded", "failed"})
    assert job["status"] == "succeeded" and [a["format"] for a in job["artifacts"]] == ["xlsx"]


def _storage_files(stack) -> set[Path]:
    roots = [stack.var / "storage"]
    if "DOCAGENT_STORAGE_URL" in stack.env:
        roots = [Path(stack.env["DOCAGENT_STORAGE_URL"].removeprefix("file://"))]
    return {p for r in roots if r.exists() for p in r.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("big.csv", b"a,b\n" + b"1,2\n" * (600 * 1024), 413, "upload exceeds the limit of 2 MiB"),
        ("junk.csv", bytes(range(256)) * 64, 422, "junk.csv: binary data, not a text table"),
        ("bomb.xlsx", b"PK\x03\x04garbage", 422, "bomb.xlsx: not an Excel workbook"),
        ("../../etc/passwd.json", b"[1, 2]", 422, "passwd.json: JSON is not records"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(stack, client, name, content, status, message):
    before_rows = client.get("/v1/datasets").json()["count"]
    before_files = _storage_files(stack)
    r = client.post("/v1/datasets", files={"file": (name, content, "application/octet-stream")})
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    assert client.get("/v1/datasets").json()["count"] == before_rows
    assert _storage_files(stack) == before_files


def test_dataset_versions_by_name_and_delete(client, tmp_path):
    ids = []
    for n in (1, 2):
        body = io.StringIO()
        csv.writer(body).writerows([["k", "v"], ["a", n]])
        r = client.post("/v1/datasets", files={"file": ("w.csv", body.getvalue().encode())}, data={"name": "weekly"})
        assert r.json()["version"] == n
        ids.append(r.json()["id"])
    assert client.delete(f"/v1/datasets/{ids[0]}").status_code == 204
    assert client.get(f"/v1/datasets/{ids[0]}").status_code == 404


def test_health_ready_metrics_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["checks"] == {"database": "ok", "broker": "ok", "storage": "ok"}
    metrics = client.get("/metrics").text
    assert 'docagent_jobs{status="succeeded"}' in metrics and "docagent_job_duration_seconds_count" in metrics
    assert client.get("/docs").status_code == 200
    assert "/v1/jobs/{job_id}/events" in client.get("/openapi.json").json()["paths"]
    assert client.get("/v1/jobs/does-not-exist").status_code == 404


def test_stopping_serve_stops_its_embedded_worker_and_scheduler(tmp_path):
    import os
    import signal
    import subprocess

    from tests.service import BIN, base_env, free_port

    port = free_port()
    serve = subprocess.Popen(
        [str(BIN / "docagent"), "serve", "--port", str(port)],
        env=base_env(tmp_path / "var"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        children: list[int] = []
        while time.monotonic() < deadline and len(children) < 2:
            time.sleep(0.3)
            children = [int(p) for p in Path(f"/proc/{serve.pid}/task/{serve.pid}/children").read_text().split()]
        assert len(children) == 2  # the Celery worker and beat
        serve.send_signal(signal.SIGTERM)  # only the server, as a process manager would
        serve.wait(timeout=60)
        for pid in children:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.2)
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    finally:
        if serve.poll() is None:
            os.kill(serve.pid, signal.SIGKILL)
