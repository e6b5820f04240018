"""Faults with real servers: a render worker killed mid-job."""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import subprocess
import time

import pytest

from tests.service import BIN, distributed, free_port, postgres_up, redis_up, wait_status

pytestmark = pytest.mark.skipif(not (redis_up() and postgres_up()), reason="Redis or PostgreSQL not running")


def big_csv(rows: int) -> bytes:
    rnd = random.Random(3)
    lines = ["day,region,product,units,revenue"]
    for i in range(rows):
        lines.append(
            f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},R{rnd.randint(1, 9)},P{rnd.randint(1, 30)},"
            f"{rnd.randint(1, 40)},{rnd.uniform(10, 900):.2f}"
        )
    return ("\n".join(lines) + "\n").encode()


def test_render_worker_killed_mid_job_finishes_after_restart_without_duplicates(tmp_path):
    with distributed(tmp_path, workers=False, DOCAGENT_BROKER_VISIBILITY_TIMEOUT_S="4") as stack, stack.client() as c:
        stack.worker("plan", "plan", "threads", 2)
        stack.worker("render", "render", "prefork", 1)
        ds = c.post("/v1/datasets", files={"file": ("big.csv", big_csv(150_000))}).json()
        job_id = c.post("/v1/jobs", json={"prompt": "Big", "dataset_ids": [ds["id"]]}).json()["id"]
        wait_status(c, job_id, {"rendering"}, timeout=60)
        time.sleep(0.5)
        assert c.get(f"/v1/jobs/{job_id}").json()["status"] == "rendering"
        stack.kill("render")  # SIGKILL to the worker's whole process group, mid-render
        time.sleep(5)  # past the visibility timeout: the unacknowledged task becomes visible again
        assert c.get(f"/v1/jobs/{job_id}").json()["status"] == "rendering"
        stack.worker("render2", "render", "prefork", 1)
        job = wait_status(c, job_id, {"succeeded", "failed"}, timeout=180)
        assert job["status"] == "succeeded", (job, stack.log_text())
        assert sorted(a["format"] for a in job["artifacts"]) == ["docx", "pdf", "xlsx"]
        for a in job["artifacts"]:
            assert c.get(a["url"]).status_code == 200


def test_lost_broker_messages_are_recovered_by_the_reaper(tmp_path):
    """Redis restarted without persistence while a job waited: the job is sent again, not stuck."""
    port = free_port()
    redis_argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    settings = {
        "DOCAGENT_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "DOCAGENT_RECOVERY_INTERVAL_S": "1",
        "DOCAGENT_BEAT_INTERVAL_S": "0.5",
    }
    redis = subprocess.Popen(redis_argv, stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        with distributed(tmp_path, workers=False, **settings) as stack, stack.client() as c:
            ds = c.post("/v1/datasets", files={"file": ("t.csv", b"region,sales\nN,1\nS,2\n")}).json()
            body = {"prompt": "x", "dataset_ids": [ds["id"]], "formats": ["pdf"], "theme": "neon"}
            job_id = c.post("/v1/jobs", json=body).json()["id"]
            # the task waits in Redis; Redis restarts and forgets it
            redis.terminate()
            redis.wait(timeout=10)
            redis = subprocess.Popen(redis_argv, stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            stack.worker("plan", "plan,render", "threads", 2)
            time.sleep(3)
            assert c.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"  # lost: nobody got it
            stack.start("beat", [str(BIN / "docagent"), "beat"])  # the reaper runs with the scheduler
            job = wait_status(c, job_id, {"succeeded", "failed"}, timeout=60)
            # a theme that does not exist: the job fails, but it is not stuck, and it says why
            assert job["status"] == "failed" and job["error"]["code"] == "render_failed", job
            assert "job " + job_id + " was lost or never sent" in stack.log_text()
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def test_storage_full_fails_the_job_clearly_and_exposes_no_artifact(tmp_path, monkeypatch):
    import errno
    import shutil as sh

    from docagent.pipeline.jobs import plan_stage, render_stage
    from docagent.service.lifecycle import JobSpec, create_job
    from docagent.service.records import create_dataset, get_job
    from docagent.service.store import ArtifactRow, migrate, session
    from docagent.settings import Settings
    from tests.conftest import EXAMPLE

    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    src = tmp_path / "sales.csv"
    sh.copy(EXAMPLE, src)
    ds = create_dataset(src, "sales.csv", "sales", "o", settings)
    job, _ = create_job("o", JobSpec("Full disk", [ds.id], ["pdf", "xlsx"]), settings=settings)
    assert plan_stage(job.id, settings)

    real = sh.copyfileobj

    def full(src_f, dst_f, length=0):  # the artifact store's disk is full
        if "docagent-render-" in str(getattr(src_f, "name", "")):  # rendered files, not uploads
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src_f, dst_f, length)

    monkeypatch.setattr("docagent.service.storage.shutil.copyfileobj", full)
    render_stage(job.id, settings)
    failed = get_job(job.id, settings)
    assert failed.status == "failed" and failed.error_code == "storage_error"
    assert "No space left on device" in failed.error_message
    with session(settings) as s:
        assert s.query(ArtifactRow).filter_by(job_id=job.id).count() == 0
    assert not list((tmp_path / "var" / "storage").rglob("jobs/*/pdf"))


def test_a_job_canceled_and_retried_while_planning_is_planned_again_by_its_new_attempt(tmp_path, monkeypatch):
    """The first attempt's plan task finishes after the retry: it leaves the job to the retry's task instead
    of moving a queued job to rendering (which failed the job with an internal error)."""
    import shutil as sh

    from docagent.errors import ModelUnavailable
    from docagent.pipeline import jobs
    from docagent.service import lifecycle
    from docagent.service.lifecycle import JobSpec, create_job
    from docagent.service.records import create_dataset, get_job
    from docagent.service.store import migrate
    from docagent.settings import Settings
    from tests.conftest import EXAMPLE

    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    sh.copy(EXAMPLE, tmp_path / "sales.csv")
    ds = create_dataset(tmp_path / "sales.csv", "sales.csv", "sales", "o", settings)
    job, _ = create_job("o", JobSpec("Retried mid-plan", [ds.id], ["xlsx"]), settings=settings)
    real = jobs._plan

    def cancel_and_retry(job_id):
        with lifecycle.locked(job_id, settings) as row:
            lifecycle.cancel(row)
        with lifecycle.locked(job_id, settings) as row:
            lifecycle.retry(row)

    def plan_while_canceled_and_retried(job, catalog, profiles, settings):
        cancel_and_retry(job.id)
        return real(job, catalog, profiles, settings)

    def fail_after_the_retry(job, catalog, profiles, settings):
        cancel_and_retry(job.id)
        raise ModelUnavailable("the model timed out")

    for stale in (fail_after_the_retry, plan_while_canceled_and_retried):  # a stale failure fails nothing either
        monkeypatch.setattr(jobs, "_plan", stale)
        assert jobs.plan_stage(job.id, settings) is False  # the first attempt stands down
    waiting = get_job(job.id, settings)
    assert waiting.status == "queued" and waiting.plan is None and waiting.error_code is None
    monkeypatch.setattr(jobs, "_plan", real)
    assert jobs.plan_stage(job.id, settings)  # the retry's own task
    jobs.render_stage(job.id, settings)
    done = get_job(job.id, settings)
    assert done.status == "succeeded" and done.attempts == 3, (done.status, done.error_message)


class PrivatePostgres:
    """A throwaway PostgreSQL server of our own (so stopping it disturbs nothing else)."""

    def __init__(self) -> None:
        import shutil as sh
        import tempfile
        from pathlib import Path

        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        # under /tmp directly: pytest's own temporary folders are closed to the postgres user
        self.root = root = Path(tempfile.mkdtemp(prefix="docagent-pg-"))
        self.dir, self.port = root / "pgdata", free_port()
        root.chmod(0o777)
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.run(f"{self.bin}/initdb", "-D", str(self.dir), "-A", "trust", "-U", "postgres")
        self.socket = root / "sock"
        self.socket.mkdir()
        if os.geteuid() == 0:
            sh.chown(self.socket, "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *argv: str) -> None:
        subprocess.run([*self.as_postgres, *argv], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.socket} -c listen_addresses=127.0.0.1"
        self.run(f"{self.bin}/pg_ctl", "-D", str(self.dir), "-o", opts, "-w", "-l", str(self.dir / "log"), "start")

    def stop(self) -> None:
        self.run(f"{self.bin}/pg_ctl", "-D", str(self.dir), "-m", "fast", "-w", "stop")


@pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/initdb"), reason="PostgreSQL server binaries not installed"
)
def test_database_briefly_unavailable_the_job_still_finishes(tmp_path):
    pg = PrivatePostgres()
    pg.start()
    try:
        with distributed(tmp_path, workers=False, DOCAGENT_DATABASE_URL=pg.url) as stack, stack.client() as c:
            from tests.conftest import EXAMPLE

            with EXAMPLE.open("rb") as f:
                ds = c.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
            job_id = c.post("/v1/jobs", json={"prompt": "x", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()[
                "id"
            ]
            pg.stop()  # the job waits in Redis while the database is down
            stack.worker("w", "plan,render", "threads", 2)
            log = tmp_path / "w.log"
            deadline = time.monotonic() + 90  # a loaded machine starts a worker slowly: wait for its retry
            while time.monotonic() < deadline and "retry in" not in log.read_text().lower():
                time.sleep(0.2)
            assert "retry in" in log.read_text().lower(), stack.log_text()[-4000:]  # met the outage, backs off
            pg.start()
            job = wait_status(c, job_id, {"succeeded", "failed"}, timeout=90)
            assert job["status"] == "succeeded", (job, stack.log_text()[-4000:])
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.stop()
        shutil.rmtree(pg.root, ignore_errors=True)


def test_model_endpoint_down_the_job_succeeds_with_the_fallback_recorded(tmp_path):
    from tests.conftest import EXAMPLE
    from tests.service import embedded

    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens here
    settings = {"DOCAGENT_LLM_BASE_URL": closed, "DOCAGENT_LLM_MAX_RETRIES": "1", "DOCAGENT_LLM_TIMEOUT_S": "2"}
    with embedded(tmp_path, **settings) as stack, stack.client() as c:
        with EXAMPLE.open("rb") as f:
            ds = c.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
        job_id = c.post("/v1/jobs", json={"prompt": "x", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()["id"]
        job = wait_status(c, job_id, {"succeeded", "failed"}, timeout=120)
        assert job["status"] == "succeeded" and job["planner"]["name"] == "rules"
        assert "the model endpoint failed 2 times (last: APIConnectionError)" in job["planner"]["fallback_reason"]
