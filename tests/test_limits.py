"""Per-key limits hold under concurrency, on every path that makes a job; one Idempotency-Key, one job."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from docagent.errors import TooManyJobs
from docagent.service import lifecycle
from docagent.service.store import ScheduleRow, migrate
from docagent.settings import Settings
from tests.service import Stack, distributed, postgres_up, redis_up

servers = pytest.mark.skipif(not (redis_up() and postgres_up()), reason="Redis and PostgreSQL needed")


def create(settings: Settings, owner: str, key: str | None = None) -> str:
    try:
        job, _ = lifecycle.create_job(
            owner, lifecycle.JobSpec("x", [], ["pdf"]), idempotency_key=key, settings=settings, limits=True
        )
        return job.id
    except TooManyJobs:
        return "429"


def test_thirty_racing_creations_under_a_cap_of_ten_admit_ten_on_sqlite(tmp_path):
    settings = Settings(var_dir=tmp_path / "var", max_concurrent_jobs=10, jobs_per_minute=100)
    migrate(settings)
    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(lambda _: create(settings, "ann"), range(30)))
    assert Counter(r == "429" for r in results) == {False: 10, True: 20}


def test_a_retry_is_held_to_the_cap(tmp_path):
    from docagent.api.services.jobs import retry

    settings = Settings(var_dir=tmp_path / "var", max_concurrent_jobs=2, jobs_per_minute=100)
    migrate(settings)
    failed = create(settings, "bea")
    with lifecycle.locked(failed, settings) as row:
        lifecycle.fail(row, "boom", "it broke")
    create(settings, "bea")
    create(settings, "bea")
    with pytest.raises(TooManyJobs):
        retry(failed, "bea", settings)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if not (redis_up() and postgres_up()):
        pytest.skip("Redis and PostgreSQL needed")
    # no workers: every accepted job stays unfinished, so the cap is what decides
    with distributed(
        tmp_path_factory.mktemp("limits"),
        workers=False,
        DOCAGENT_MAX_CONCURRENT_JOBS="10",
        DOCAGENT_JOBS_PER_MINUTE="1000",
    ) as s:
        yield s


def job_body(c: Any) -> dict[str, Any]:
    """A job the service accepts without a model: a prompt with data (prompt-only jobs need the model)."""
    ds = c.post("/v1/datasets", files={"file": ("t.csv", b"region,sales\nN,1\nS,2\n")}).json()
    return {"prompt": "x", "dataset_ids": [ds["id"]], "formats": ["pdf"]}


@servers
def test_thirty_concurrent_requests_under_a_cap_of_ten_admit_ten(stack):
    with stack.client(stack.create_key("carl")) as c, ThreadPoolExecutor(30) as pool:
        body = job_body(c)
        codes = list(pool.map(lambda _: c.post("/v1/jobs", json=body).status_code, range(30)))
        assert Counter(codes) == {202: 10, 429: 20}
        assert c.get("/v1/jobs").json()["count"] == 10


@servers
def test_twenty_concurrent_requests_with_one_idempotency_key_make_one_job(stack):
    key = str(uuid.uuid4())
    with stack.client(stack.create_key("dora")) as c, ThreadPoolExecutor(20) as pool:
        body = job_body(c)
        answers = list(pool.map(lambda _: c.post("/v1/jobs", json=body, headers={"Idempotency-Key": key}), range(20)))
        assert {r.status_code for r in answers} == {202}
        assert len({r.json()["id"] for r in answers}) == 1
        assert c.get("/v1/jobs").json()["count"] == 1


@servers
def test_run_now_counts_against_the_cap(stack):
    with stack.client(stack.create_key("emil")) as c:
        body = {"name": "n", "cron": "0 0 1 1 *", "timezone": "UTC", "allow_overlap": True,
                "job": {"prompt": "x", "source": {"dataset": "none"}}}  # fmt: skip
        sid = c.post("/v1/schedules", json=body).json()["id"]
        codes = [c.post(f"/v1/schedules/{sid}/run").status_code for _ in range(12)]
        assert codes == [202] * 10 + [429] * 2
        assert c.post("/v1/jobs", json=job_body(c)).status_code == 429


# --- schedules: every fire counts, and a key's schedules are bounded ---


def every_minute(settings: Settings, owner: str, n: int) -> list[str]:
    from docagent.service.schedules import create_schedule

    job = {"prompt": "Minute report", "formats": ["pdf"], "source": {"dataset": "sales"}}
    return [
        create_schedule(owner, {"name": f"s{i}", "cron": "* * * * *", "timezone": "UTC", "job": job}, settings).id
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("per_minute", "cap", "started"),
    [(30, 100, 30), (100, 10, 10)],
    ids=["rate limit of 30 a minute", "cap of 10 unfinished"],
)
def test_forty_every_minute_schedules_fire_no_more_jobs_than_the_limits_allow(tmp_path, per_minute, cap, started):
    import datetime as dt

    from docagent.service.schedules import fire_due

    settings = Settings(var_dir=tmp_path / "var", jobs_per_minute=per_minute, max_concurrent_jobs=cap, max_schedules=40)
    migrate(settings)
    at = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
    with lifecycle.session(settings) as s:
        for row_id in every_minute(settings, "cid", 40):
            s.get(ScheduleRow, row_id).next_fire_at = at  # type: ignore[union-attr]
    runs = fire_due(at, settings)
    outcomes = Counter(r.outcome for r in runs)
    assert outcomes == {"started": started, "skipped_limit": 40 - started}
    assert all(r.job_id is None for r in runs if r.outcome == "skipped_limit")
    with lifecycle.session(settings) as s:
        assert lifecycle.count_unfinished(s, "cid") == started


def test_a_key_holds_at_most_max_schedules(tmp_path):
    from docagent.errors import InvalidSchedule

    settings = Settings(var_dir=tmp_path / "var", max_schedules=3)
    migrate(settings)
    every_minute(settings, "dan", 3)
    with pytest.raises(InvalidSchedule, match="DOCAGENT_MAX_SCHEDULES"):
        every_minute(settings, "dan", 1)
    assert len(every_minute(settings, "eve", 3)) == 3  # another key has its own allowance


@pytest.mark.parametrize(("cron", "allowed"), [("* * * * *", False), ("*/4 * * * *", False), ("*/5 * * * *", True)])
def test_a_schedule_fires_no_more_often_than_the_minimum_interval(tmp_path, cron, allowed):
    from docagent.errors import InvalidSchedule
    from docagent.service.schedules import create_schedule, update_schedule

    settings = Settings(var_dir=tmp_path / "var", min_schedule_interval_s=300)
    migrate(settings)
    job = {"prompt": "Report", "formats": ["pdf"], "source": {"dataset": "sales"}}
    fields = {"name": "r", "cron": "0 8 * * *", "timezone": "UTC", "job": job}
    row = create_schedule("fay", fields, settings)
    for attempt in (lambda: create_schedule("fay", {**fields, "cron": cron}, settings),
                    lambda: update_schedule(row.id, "fay", {"cron": cron}, settings)):  # fmt: skip
        if allowed:
            attempt()
        else:
            with pytest.raises(InvalidSchedule, match="DOCAGENT_MIN_SCHEDULE_INTERVAL_S"):
                attempt()
