"""No job stays stuck: jobs untouched for `stale_job_s` are sent again, or failed after three tries.

This covers a broker that lost its messages (Redis restarted without persistence), a worker
that died before acknowledging, and a task that was never delivered.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from docagent.settings import Settings, get_settings
from docagent.store import FINAL, JobRow, now, session

MAX_ATTEMPTS = 3


def reap(at: dt.datetime | None = None, settings: Settings | None = None) -> list[tuple[str, str]]:
    """Returns (job_id, "plan" | "render") for each job to enqueue again; fails the hopeless ones."""
    settings = settings or get_settings()
    at = at or now()
    cutoff = at - dt.timedelta(seconds=settings.stale_job_s)
    again: list[tuple[str, str]] = []
    with session(settings) as s:
        stale = s.scalars(
            select(JobRow)
            .where(JobRow.status.not_in(FINAL), JobRow.updated_at < cutoff)
            .with_for_update(skip_locked=True)
        ).all()
        for job in stale:
            if job.attempts >= MAX_ATTEMPTS:
                job.status, job.finished_at, job.stage = "failed", at, None
                job.error_code = "stale"
                job.error_message = (
                    f"no worker finished this job after {job.attempts} attempts; "
                    "check that workers are running, then retry it"
                )
                continue
            stage = "render" if job.plan is not None and job.status == "rendering" else "plan"
            if stage == "plan":
                job.status, job.progress = "queued", 0.0
            job.updated_at = at
            job.attempts += 1  # each resend counts, so a job nobody can finish ends failed
            again.append((job.id, stage))
    return again
