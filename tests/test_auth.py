"""API keys, owner isolation, quotas and the auth-off guard, against a live embedded server."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import EXAMPLE
from tests.service import BIN, base_env, embedded, wait_status


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with embedded(tmp_path_factory.mktemp("auth"), DOCAGENT_JOBS_PER_MINUTE="4") as s:
        yield s


@pytest.fixture(scope="module")
def alice(stack):
    with stack.client(stack.create_key("alice")) as c:
        yield c


@pytest.fixture(scope="module")
def bob(stack):
    with stack.client(stack.create_key("bob")) as c:
        yield c


@pytest.fixture(scope="module")
def alices_job(alice):
    with EXAMPLE.open("rb") as f:
        ds = alice.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
    job = alice.post("/v1/jobs", json={"prompt": "Alice only", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()
    return ds, wait_status(alice, job["id"], {"succeeded", "failed"})


def test_every_v1_route_needs_a_key(stack):
    with stack.client(key="") as anon:
        for method, path in [
            ("GET", "/v1/jobs"),
            ("GET", "/v1/datasets"),
            ("POST", "/v1/jobs"),
            ("GET", "/v1/schedules"),
        ]:
            r = anon.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", path
            assert "docagent keys create --name NAME" in r.json()["detail"]
        assert anon.get("/healthz").status_code == 200 and anon.get("/metrics").status_code == 200
        r = anon.get("/v1/jobs", headers={"Authorization": "Bearer dak_wrong"})
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


def test_rate_limit_on_job_creation(stack):
    with stack.client(stack.create_key("carol")) as carol:
        ds = carol.post("/v1/datasets", files={"file": ("t.csv", b"region,sales\nN,1\nS,2\n")}).json()
        body = {"prompt": "x", "dataset_ids": [ds["id"]], "formats": ["pdf"], "planner": "rules"}
        codes = [carol.post("/v1/jobs", json=body) for _ in range(5)]
    assert [r.status_code for r in codes[:4]] == [202] * 4
    assert codes[4].status_code == 429 and int(codes[4].headers["retry-after"]) > 0
    assert "4 jobs per minute per key" in codes[4].json()["detail"]


def test_revoked_key_stops_working(stack):
    key = stack.create_key("dave")
    with stack.client(key) as dave:
        assert dave.get("/v1/jobs").status_code == 200
        subprocess.run(
            [str(BIN / "docagent"), "keys", "revoke", "dave"], env=stack.env, check=True, capture_output=True
        )
        assert dave.get("/v1/jobs").status_code == 401
    listed = subprocess.run(
        [str(BIN / "docagent"), "keys", "list"], env=stack.env, capture_output=True, text=True
    ).stdout
    assert "dave  dak_" in listed and "revoked" in listed and key not in listed


def test_key_names_are_unique(stack):
    r = subprocess.run(
        [str(BIN / "docagent"), "keys", "create", "--name", "alice"], env=stack.env, capture_output=True, text=True
    )
    assert r.returncode == 2 and "a key named 'alice' exists already" in r.stderr


def test_auth_off_is_refused_on_a_public_address(tmp_path):
    env = base_env(tmp_path / "var", DOCAGENT_AUTH="off")
    r = subprocess.run(
        [str(BIN / "docagent"), "serve", "--host", "0.0.0.0", "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "DOCAGENT_AUTH=off on 0.0.0.0 would let anyone" in r.stderr


def test_concurrent_job_cap(tmp_path):
    from api.services.jobs import check_quota
    from docagent.errors import TooManyJobs
    from docagent.lifecycle import create_job
    from docagent.settings import Settings
    from docagent.store import migrate

    settings = Settings(var_dir=tmp_path / "var", max_concurrent_jobs=2)
    migrate(settings)
    create_job("erin", "a", [], ["pdf"], settings=settings)
    check_quota("erin", settings)
    create_job("erin", "b", [], ["pdf"], settings=settings)
    with pytest.raises(TooManyJobs, match="at most 2 per key") as e:
        check_quota("erin", settings)
    assert e.value.retry_after > 0
    check_quota("frank", settings)  # other owners are not affected
