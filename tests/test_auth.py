"""API keys, owner isolation, the rate limit and the auth-off guard, in-process (TestClient, the CLI through CliRunner).

The queue is replaced by running the job's stages inline: these tests are about who may do what,
not about processes (tests/test_service.py runs the real stacks).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from docagent.cli.main import app as cli
from docagent.pipeline.jobs import plan_stage, render_stage
from docagent.settings import get_settings
from tests.conftest import EXAMPLE


def run_inline(job_id: str) -> None:
    """The queue and a worker, in this process."""
    if plan_stage(job_id):
        render_stage(job_id)


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as mp:
        for name in [k for k in os.environ if k.startswith("DOCAGENT_")]:
            mp.delenv(name)
        mp.setenv("DOCAGENT_VAR_DIR", str(tmp_path_factory.mktemp("auth") / "var"))
        mp.setenv("DOCAGENT_JOBS_PER_MINUTE", "4")
        mp.setattr("docagent.api.services.jobs.enqueue", run_inline)
        get_settings.cache_clear()
        from docagent.api.app import create_app

        with TestClient(create_app(), client=("127.0.0.1", 50000)) as c:  # loopback, as a local scraper
            yield c
    get_settings.cache_clear()


def keys(*args: str) -> Result:
    return CliRunner().invoke(cli, ["keys", *args])


def create_key(name: str) -> str:
    result = keys("create", "--name", name)
    assert result.exit_code == 0, result.output
    return str(result.stdout.split()[-1])


def as_owner(api: TestClient, key: str) -> TestClient:
    return TestClient(api.app, headers={"Authorization": f"Bearer {key}"}, client=("127.0.0.1", 50000))


@pytest.fixture(scope="module")
def alice(api):
    return as_owner(api, create_key("alice"))


@pytest.fixture(scope="module")
def bob(api):
    return as_owner(api, create_key("bob"))


@pytest.fixture(scope="module")
def alices_job(alice):
    with EXAMPLE.open("rb") as f:
        ds = alice.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
    job = alice.post("/v1/jobs", json={"prompt": "Alice only", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()
    return ds, alice.get(f"/v1/jobs/{job['id']}").json()


def test_every_v1_route_needs_a_key(api):
    for method, path in [
        ("GET", "/v1/jobs"),
        ("GET", "/v1/datasets"),
        ("POST", "/v1/jobs"),
        ("GET", "/v1/schedules"),
    ]:
        r = api.request(method, path, json={} if method == "POST" else None)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", path
        assert "docagent keys create --name NAME" in r.json()["detail"]
    assert api.get("/healthz").status_code == 200 and api.get("/metrics").status_code == 200
    r = api.get("/v1/jobs", headers={"Authorization": "Bearer dak_wrong"})
    assert r.status_code == 401 and r.json()["detail"] == "invalid or revoked API key"


def test_owners_see_only_their_own(alice, bob, alices_job):
    ds, job = alices_job
    assert job["status"] == "succeeded"
    for path in [
        f"/v1/jobs/{job['id']}",
        f"/v1/jobs/{job['id']}/plan",
        job["artifacts"][0]["url"],
        f"/v1/jobs/{job['id']}/preview/1",
        f"/v1/datasets/{ds['id']}",
    ]:
        assert bob.get(path).status_code == 404, path
        assert alice.get(path).status_code == 200, path
    assert bob.get("/v1/jobs").json()["count"] == 0 and bob.get("/v1/datasets").json()["count"] == 0
    r = bob.post("/v1/jobs", json={"prompt": "steal", "dataset_ids": [ds["id"]]})
    assert r.status_code == 404  # another owner's dataset id is not found, not forbidden
    assert bob.delete(f"/v1/datasets/{ds['id']}").status_code == 404


def test_rate_limit_on_job_creation(api):
    carol = as_owner(api, create_key("carol"))
    ds = carol.post("/v1/datasets", files={"file": ("t.csv", b"region,sales\nN,1\nS,2\n")}).json()
    body = {"prompt": "x", "dataset_ids": [ds["id"]], "formats": ["pdf"], "planner": "rules"}
    codes = [carol.post("/v1/jobs", json=body) for _ in range(5)]
    assert [r.status_code for r in codes[:4]] == [202] * 4
    assert codes[4].status_code == 429 and int(codes[4].headers["retry-after"]) > 0
    assert "4 jobs per minute per key" in codes[4].json()["detail"]


def test_revoked_key_stops_working(api):
    key = create_key("dave")
    dave = as_owner(api, key)
    assert dave.get("/v1/jobs").status_code == 200
    assert keys("revoke", "dave").exit_code == 0
    assert dave.get("/v1/jobs").status_code == 401
    listed = keys("list").stdout
    assert "dave  dak_" in listed and "revoked" in listed and key not in listed


def test_key_names_are_unique(alice):
    r = keys("create", "--name", "alice")
    assert r.exit_code == 2 and "a key named 'alice' exists already" in r.stderr


def test_auth_off_is_refused_on_a_public_address(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCAGENT_AUTH", "off")
    get_settings.cache_clear()
    r = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "9"])
    assert r.exit_code == 2 and "DOCAGENT_AUTH=off on 0.0.0.0 would let anyone" in r.stderr
    assert not (tmp_path / "var").exists()  # refused before anything started
