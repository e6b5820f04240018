"""Dashboard pages in-process (no browser): they call the same services as the JSON routes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from docagent import lifecycle
from docagent.settings import get_settings
from tests.conftest import EXAMPLE


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Job ids handed to the queue (no broker in these tests)."""
    ids: list[str] = []
    monkeypatch.setattr("api.services.jobs.enqueue", ids.append)
    monkeypatch.setattr("api.services.schedules.enqueue", ids.append)
    return ids


@pytest.fixture
def client(tmp_path, monkeypatch, sent):
    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCAGENT_AUTH", "off")
    get_settings.cache_clear()
    from api.app import create_app

    # auth off answers loopback only; forms come from this server's own pages (Origin)
    base = "http://127.0.0.1"
    with TestClient(
        create_app(), base_url=base, client=("127.0.0.1", 50000), headers={"Origin": base}, follow_redirects=False
    ) as c:
        yield c


def token(client: TestClient) -> dict[str, str]:
    """The CSRF field every form on a page carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/jobs/new").text)
    assert found
    return {"csrf_token": found.group(1)}


def failed_job() -> str:
    settings = get_settings()
    job, _ = lifecycle.create_job(settings.owner, "A report", [], ["pdf"], settings=settings)
    with lifecycle.locked(job.id, settings) as row:
        lifecycle.fail(row, "boom", "it broke")
    return job.id


@pytest.mark.parametrize("path", ["/", "/?status=failed", "/?status=nonsense", "/jobs/new", "/datasets", "/schedules"])
def test_every_page_renders(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text


def test_a_failed_job_page_offers_retry_and_retry_queues_it(client, sent):
    job_id = failed_job()
    page = client.get(f"/jobs/{job_id}").text
    assert "This job failed." in page and "it broke" in page and f"/jobs/{job_id}/retry" in page
    assert client.get("/?status=failed").text.count(f'data-job="{job_id}"') == 1
    r = client.post(f"/jobs/{job_id}/retry", data=token(client))
    assert r.status_code == 303 and r.headers["location"] == f"/jobs/{job_id}" and sent == [job_id]
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"


def test_cancelling_a_finished_job_from_a_page_is_a_conflict_problem(client):
    r = client.post(f"/jobs/{failed_job()}/cancel", data=token(client))
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert r.json()["detail"] == "the job has already failed"


def test_the_new_job_form_names_what_is_missing(client, sent):
    r = client.post("/jobs/new", data={"prompt": " ", **token(client)})
    assert (
        r.status_code == 422 and "Describe the document you want" in r.text and "Choose at least one format" in r.text
    )
    assert sent == []


def test_the_new_job_form_uploads_and_submits(client, sent):
    with EXAMPLE.open("rb") as f:
        r = client.post(
            "/jobs/new",
            data={"prompt": "Sales review", "formats": ["pdf"], **token(client)},
            files={"files": ("sales.csv", f)},
        )
    assert r.status_code == 303 and r.headers["location"] == f"/jobs/{sent[0]}"
    assert client.get("/v1/datasets").json()["count"] == 1


def test_a_bad_upload_on_the_form_is_shown_not_raised(client, sent):
    r = client.post(
        "/jobs/new", data={"prompt": "x", "formats": ["pdf"], **token(client)}, files={"files": ("list.json", b"[1]")}
    )
    assert r.status_code == 422 and "list.json: JSON is not records" in r.text and sent == []


def test_an_unknown_job_page_is_not_found(client):
    assert client.get("/jobs/nope").status_code == 404


def test_without_a_session_pages_send_the_browser_to_login(client, monkeypatch):
    monkeypatch.setenv("DOCAGENT_AUTH", "on")
    get_settings.cache_clear()
    r = client.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.post("/login", data={"key": "dak_wrong"}).status_code == 401
