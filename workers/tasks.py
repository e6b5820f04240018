"""Thin Celery tasks: ids in, plain functions do the work, the next stage is chained by id."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy.exc import OperationalError

from docagent.errors import DeliveryFailed, StorageError
from docagent.lifecycle import is_final
from docagent.reaper import hold, release
from docagent.records import get_job
from docagent.settings import get_settings
from pipeline.delivery import deliver, run_for_job
from pipeline.jobs import fail_unexpected, plan_stage, render_stage
from workers.app import DELIVER_TASK, PLAN_TASK, RENDER_TASK, app, enqueue

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


def _run(task: Any, job_id: str, stage: Any) -> Any:
    try:
        with leased(job_id):
            return stage(job_id)
    except TRANSIENT as e:
        if task.request.retries >= task.max_retries:
            fail_unexpected(job_id, e)
            return None
        raise task.retry(exc=e, countdown=min(60, 2 ** (task.request.retries + 1))) from None
    except Exception as e:
        fail_unexpected(job_id, e)
        return None


def _finished(job_id: str) -> None:
    """A scheduled job that ended (any way) is delivered to its webhook."""
    if is_final(get_job(job_id, get_settings()).status):
        run_id = run_for_job(job_id)
        if run_id:
            app.send_task(DELIVER_TASK, args=[run_id], queue="plan")


@app.task(name=PLAN_TASK, bind=True, max_retries=3)
def plan(self: Any, job_id: str) -> None:
    if _run(self, job_id, plan_stage):
        enqueue(job_id, "render")
    else:
        _finished(job_id)


@app.task(name=RENDER_TASK, bind=True, max_retries=3)
def render(self: Any, job_id: str) -> None:
    _run(self, job_id, render_stage)
    _finished(job_id)


@app.task(name=DELIVER_TASK, bind=True, max_retries=get_settings().webhook_max_attempts - 1)
def deliver_run(self: Any, run_id: str) -> None:
    try:
        deliver(run_id)
    except DeliveryFailed as e:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=e, countdown=min(300, 2 ** (self.request.retries + 1))) from None
