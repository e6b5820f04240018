"""Job recovery tells waiting from lost: by the broker's queues and the workers' leases, not by age."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from docagent.service import lifecycle
from docagent.service.reaper import MAX_ATTEMPTS, Suspects, hold, mark_sent, reap
from docagent.service.store import JobRow, migrate, session
from docagent.settings import Settings
from tests.conftest import EXAMPLE
from tests.service import BIN, distributed, free_port, postgres_up, redis_up, wait_status

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def store(tmp_path) -> Settings:
    settings = Settings(var_dir=tmp_path / "var", stale_job_s=600)
    migrate(settings)
    return settings


def queued(settings: Settings, sent: bool = True) -> str:
    job, _ = lifecycle.create_job("o", lifecycle.JobSpec("p", [], ["pdf"]), settings=settings)
    if sent:
        mark_sent(job.id, settings)
    return job.id


def status(settings: Settings, job_id: str) -> str:
    with session(settings) as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        return row.status


def test_a_job_waiting_in_a_live_backlog_is_never_sent_again_nor_failed(store):
    job_id = queued(store)
    at = lifecycle.now()
    for hours in range(1, 30):
        assert reap(at + hours * HOUR, store, held={job_id}) == []
    assert status(store, job_id) == "queued"


def test_a_job_the_broker_lost_is_sent_again_on_the_second_look(store):
    job_id = queued(store)
    suspects = Suspects()
    later = lifecycle.now() + dt.timedelta(seconds=30)
    assert reap(later, store, held=set(), suspects=suspects) == []  # missing once: it may be in a worker's hands
    assert reap(later + dt.timedelta(seconds=10), store, held=set(), suspects=suspects) == [(job_id, "plan")]
    assert status(store, job_id) == "queued"


def test_a_job_seen_again_in_the_broker_is_no_longer_suspect(store):
    job_id = queued(store)
    suspects = Suspects()
    later = lifecycle.now() + dt.timedelta(seconds=30)
    reap(later, store, held=set(), suspects=suspects)
    assert reap(later + dt.timedelta(seconds=10), store, held={job_id}, suspects=suspects) == []
    assert reap(later + dt.timedelta(seconds=20), store, held=set(), suspects=suspects) == []


def test_a_job_accepted_while_the_broker_was_down_is_sent_by_the_loop(store):
    job_id = queued(store, sent=False)
    assert reap(lifecycle.now(), store, held=set()) == []  # its request may still be sending it
    assert reap(lifecycle.now() + dt.timedelta(seconds=10), store, held=set()) == [(job_id, "plan")]


def test_a_job_a_live_worker_holds_is_left_alone_however_long(store):
    job_id = queued(store)
    hold(job_id, store)
    assert reap(lifecycle.now() + dt.timedelta(seconds=store.job_lease_s - 1), store, held=set()) == []


def test_only_a_job_whose_workers_keep_dying_is_failed(store):
    job_id = queued(store)
    for n in range(MAX_ATTEMPTS):
        with lifecycle.locked(job_id, store) as row:
            lifecycle.start_planning(row)
        hold(job_id, store)
        expired = lifecycle.now() + dt.timedelta(seconds=store.job_lease_s + 1)
        again = reap(expired, store, held=set())
        if n < MAX_ATTEMPTS - 1:
            assert again == [(job_id, "plan")] and status(store, job_id) == "queued"
    assert again == [] and status(store, job_id) == "failed"


def test_without_a_readable_broker_a_sent_job_is_resent_after_the_stale_time_and_never_failed(store):
    job_id = queued(store)
    at = lifecycle.now()
    assert reap(at + dt.timedelta(seconds=60), store, held=None) == []
    for n in range(1, 6):
        assert reap(at + n * HOUR, store, held=None) == [(job_id, "plan")]
        mark_sent(job_id, store)
    assert status(store, job_id) == "queued"


# --- Redis restarted without persistence under a queued backlog ---

servers = pytest.mark.skipif(not (redis_up() and postgres_up()), reason="Redis and PostgreSQL needed")


@servers
def test_redis_restarted_under_a_backlog_every_accepted_job_finishes(tmp_path):
    port = free_port()
    redis_argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    settings = {
        "DOCAGENT_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "DOCAGENT_RECOVERY_INTERVAL_S": "2",
        "DOCAGENT_BEAT_INTERVAL_S": "0.5",
        "DOCAGENT_MAX_CONCURRENT_JOBS": "100",
        "DOCAGENT_JOBS_PER_MINUTE": "100",
    }
    redis = subprocess.Popen(redis_argv, stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        with distributed(tmp_path, workers=False, **settings) as stack, stack.client() as c:
            with EXAMPLE.open("rb") as f:
                ds = c.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()["id"]
            body = {"prompt": "Sales", "dataset_ids": [ds], "formats": ["xlsx"], "planner": "rules"}
            stack.start("beat", [str(BIN / "docagent"), "beat"])
            stack.worker("plan", "plan", "threads", 1)
            stack.worker("render", "render", "threads", 1)
            ids = [c.post("/v1/jobs", json=body).json()["id"] for _ in range(12)]  # a backlog for one slow pair
            redis.terminate()  # Redis forgets every queued message
            redis.wait(timeout=10)
            with ThreadPoolExecutor(3) as pool:  # accepted while the broker is down
                during = list(pool.map(lambda _: c.post("/v1/jobs", json=body), range(3)))
            assert [r.status_code for r in during] == [202] * 3, [r.text for r in during]
            ids += [r.json()["id"] for r in during]
            redis = subprocess.Popen(redis_argv, stdout=subprocess.DEVNULL)
            jobs = [wait_status(c, i, {"succeeded", "failed"}, timeout=240) for i in ids]
            assert [j["status"] for j in jobs] == ["succeeded"] * len(ids), (jobs, stack.log_text())
    finally:
        redis.terminate()
        redis.wait(timeout=10)
