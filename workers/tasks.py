"""Thin Celery tasks: ids in, plain functions do the work, the next stage is chained by id."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from docagent.storage import StorageError
from pipeline.jobs import fail_unexpected, plan_stage, render_stage
from workers.app import PLAN_TASK, RENDER_TASK, app

TRANSIENT = (OperationalError, StorageError, ConnectionError)


def _run(task: Any, job_id: str, stage: Any) -> Any:
    try:
        return stage(job_id)
    except TRANSIENT as e:
        if task.request.retries >= task.max_retries:
            fail_unexpected(job_id, e)
            return None
        raise task.retry(exc=e, countdown=min(60, 2 ** (task.request.retries + 1))) from None
    except Exception as e:
        fail_unexpected(job_id, e)
        return None


@app.task(name=PLAN_TASK, bind=True, max_retries=3)
def plan(self: Any, job_id: str) -> None:
    if _run(self, job_id, plan_stage):
        app.send_task(RENDER_TASK, args=[job_id], queue="render")


@app.task(name=RENDER_TASK, bind=True, max_retries=3)
def render(self: Any, job_id: str) -> None:
    _run(self, job_id, render_stage)
