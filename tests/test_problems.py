"""Domain errors reach HTTP clients as application/problem+json, mapped in one place."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from fastapi.testclient import TestClient

import docagent
from docagent import errors
from docagent.api.problems import STATUS_BY_CODE
from docagent.settings import get_settings


def all_errors(cls: type = errors.DocagentError) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += all_errors(sub)
    return sorted(set(out), key=lambda c: c.__name__)


def test_every_domain_error_lives_in_the_errors_module():
    for info in pkgutil.walk_packages(docagent.__path__, "docagent."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)
    importlib.import_module("docagent.pipeline.delivery")
    assert {c.__module__ for c in all_errors()} == {"docagent.errors"}


def test_every_code_has_an_http_status_and_is_drawn_in_the_tree():
    tree = errors.__doc__ or ""
    for cls in all_errors():
        assert cls.code in STATUS_BY_CODE, cls
        assert cls.__name__.startswith("_") or f" {cls.__name__}" in tree, cls


def test_codes_are_unique_unless_inherited():
    """A leaf may share its parent's code (every IngestError is bad_input); no two branches share one."""
    codes = [c.__dict__["code"] for c in all_errors() if "code" in c.__dict__]
    assert len(codes) == len(set(codes))


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCAGENT_AUTH", "off")
    get_settings.cache_clear()
    from docagent.api.app import create_app

    # auth off answers loopback only: the test client says it is on loopback
    with TestClient(create_app(), base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as c:
        yield c


def problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["code"] == code and body["type"] == "about:blank"
    # a schedule's problem also names the field at fault
    assert set(body) - {"field"} == {"type", "title", "status", "detail", "instance", "code", "problems"}
    return body


def test_an_unknown_job_is_a_not_found_problem(client):
    body = problem(client.get("/v1/jobs/nope"), 404, "job_not_found")
    assert body["detail"] == "job not found" and body["instance"] == "/v1/jobs/nope" and body["title"] == "Not Found"


def test_an_unknown_schedule_is_not_found_not_invalid(client):
    problem(client.post("/v1/schedules/nope/run"), 404, "schedule_not_found")
    problem(client.patch("/v1/schedules/nope", json={"enabled": False}), 404, "schedule_not_found")


def test_a_bad_upload_is_a_bad_input_problem(client):
    r = client.post("/v1/datasets", files={"file": ("list.json", b"[1, 2]")})
    assert problem(r, 422, "bad_input")["detail"].startswith("list.json: JSON is not records")


def test_an_invalid_schedule_is_unprocessable(client):
    body = {"name": "x", "cron": "not cron", "job": {"prompt": "p", "source": {"dataset": "sales"}}}
    found = problem(client.post("/v1/schedules", json=body), 422, "invalid_schedule")
    assert "invalid cron expression" in found["detail"] and found["field"] == "cron"


def test_a_missing_key_is_unauthorized_with_a_bearer_challenge(tmp_path, monkeypatch, client):
    monkeypatch.setenv("DOCAGENT_AUTH", "on")
    get_settings.cache_clear()
    r = client.get("/v1/jobs")
    assert "docagent keys create --name NAME" in problem(r, 401, "unauthorized")["detail"]
    assert r.headers["www-authenticate"] == "Bearer"


def test_a_plan_error_carries_every_problem():
    from docagent.api.problems import problem as body

    b = body(errors.PlanError(["first", "second"]), "/x")
    assert b["status"] == 422 and b["problems"] == ["first", "second"] and b["code"] == "invalid_plan"


def test_too_many_jobs_says_when_to_come_back():
    from docagent.api.problems import headers_for, status_for

    e = errors.TooManyJobs("slow down", 7)
    assert status_for(e) == 429 and headers_for(e) == {"Retry-After": "7"} and str(e) == "slow down"


def test_routes_raise_domain_errors_and_never_build_error_responses():
    from pathlib import Path

    routes = Path(__file__).resolve().parent.parent / "api" / "routes"
    for p in routes.glob("*.py"):
        text = p.read_text()
        assert "HTTP_4" not in text.replace("HTTP_303", ""), p  # the dashboard's login redirect is no error
        assert "JSONResponse(" not in text or p.name == "health.py", p


def test_a_request_of_the_wrong_shape_is_a_problem_naming_each_field(client):
    body = problem(
        client.post("/v1/jobs", json={"prompt": "x", "formats": ["doc"], "colour": 1}), 422, "invalid_request"
    )
    assert body["problems"] == [
        "formats.0: Input should be 'docx', 'xlsx', 'pdf' or 'pptx'",
        "colour: Extra inputs are not permitted",
    ]
    assert body["detail"] == "the request is not valid: " + "; ".join(body["problems"])
    assert problem(client.get("/v1/jobs", params={"limit": 0}), 422, "invalid_request")["problems"] == [
        "limit: Input should be greater than or equal to 1"
    ]


def test_an_unknown_route_under_v1_is_a_not_found_problem(client):
    body = problem(client.get("/v1/nothing-here"), 404, "not_found")
    assert body["detail"] == "Not Found" and body["instance"] == "/v1/nothing-here"
    assert problem(client.delete("/v1/jobs"), 405, "method_not_allowed")["title"] == "Method Not Allowed"


def test_an_unexpected_failure_is_a_problem_that_leaks_no_internals(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCAGENT_AUTH", "off")
    get_settings.cache_clear()
    from docagent.api.app import create_app
    from docagent.api.services import jobs

    def broken(*args, **kwargs):
        raise RuntimeError("secret-table-name is corrupt")

    monkeypatch.setattr(jobs, "list_jobs", broken)
    app = create_app()
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000), raise_server_exceptions=False) as c:
        body = problem(c.get("/v1/jobs"), 500, "error")
    assert "secret-table-name" not in str(body) and body["instance"] == "/v1/jobs"


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("GET", "/v1/datasets")])
def test_a_database_outage_is_503_with_retry_after(tmp_path, monkeypatch, method, path):
    from tests.service import free_port

    # nothing listens there: every query fails to connect
    monkeypatch.setenv("DOCAGENT_DATABASE_URL", f"postgresql+psycopg://root@127.0.0.1:{free_port()}/gone")
    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DOCAGENT_AUTH", raising=False)
    get_settings.cache_clear()
    from docagent.api.app import create_app

    client = TestClient(create_app(), raise_server_exceptions=False)  # no lifespan: it would migrate
    r = client.request(method, path, headers={"Authorization": "Bearer dak_x"}, json={"prompt": "p"})
    body = problem(r, 503, "service_unavailable")
    assert r.headers["retry-after"] == "5" and "try again" in body["detail"]
    get_settings.cache_clear()
