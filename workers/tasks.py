"""Thin Celery tasks: ids in, plain functions do the work, the next stage is chained by id.

Retries are Celery's own (`autoretry_for` with exponential backoff and jitter): a job stage
retries on transient errors (database, storage or broker briefly away) and, once the retries
are spent or on any other error, ends the job failed in `on_failure`. While a stage runs, the
worker holds a renewed lease on the job, so the recovery loop tells a live worker from a dead one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError

from docagent.errors import DeliveryFailed, JobNotFound, StorageError
from docagent.pipeline.delivery import deliver, run_for_job
from docagent.pipeline.jobs import fail_unexpected, plan_stage, render_stage
from docagent.service.lifecycle import is_final
from docagent.service.reaper import hold, release
from docagent.service.records import get_job
from docagent.settings import get_settings
from docagent.workers.app import DELIVER_TASK, PLAN_TASK, RENDER_TASK, app, enqueue

TRANSIENT = (OperationalError, StorageError, ConnectionError)


@contextmanager
def leased(job_id: str) -> Iterator[None]:
    """Hold the job while this stage runs: the lease is renewed until the stage ends, so the
    recovery loop knows a live worker from a dead one however long the stage takes."""
    settings = get_settings()
    done = threading.Event()
    hold(job_id, settings)

    def renew() -> None:
        while not done.wait(settings.job_lease_s / 3):
            with suppress(Exception):  # the database may be away a moment; the next renewal may work
                hold(job_id, settings)

    beat = threading.Thread(target=renew, name=f"lease-{job_id}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        done.set()
        beat.join()
        release(job_id, settings)


def _finished(job_id: str) -> None:
    """A scheduled job that ended (any way) is delivered to its webhook."""
    if is_final(get_job(job_id, get_settings()).status):
        run_id = run_for_job(job_id)
        if run_id:
            app.send_task(DELIVER_TASK, args=[run_id], queue="plan")


class JobStage(Task):
    """A stage of a job, by id: up to 2, 4, 8, 16, 32 s between tries; a task that gives up fails its job."""

    autoretry_for = TRANSIENT
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True  # full jitter: each wait is drawn between 0 and its cap, hence five tries, not three
    max_retries = 5

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        job_id = args[0]
        with suppress(JobNotFound):  # a job deleted (or never in this store) has nothing to fail
            fail_unexpected(job_id, exc)
            _finished(job_id)


@app.task(name=PLAN_TASK, base=JobStage)
def plan(job_id: str) -> None:
    with leased(job_id):
        planned = plan_stage(job_id)
    if planned:
        enqueue(job_id, "render")
    else:
        _finished(job_id)


@app.task(name=RENDER_TASK, base=JobStage)
def render(job_id: str) -> None:
    with leased(job_id):
        render_stage(job_id)
    _finished(job_id)


@app.task(
    name=DELIVER_TASK,
    autoretry_for=(DeliveryFailed,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=get_settings().webhook_max_attempts - 1,
)
def deliver_run(run_id: str) -> None:
    deliver(run_id)  # records each attempt and, after the last, the run's delivery as failed
