"""No job stays stuck: jobs untouched for `stale_job_s` are sent again, or failed after three tries.

This covers a broker that lost its messages (Redis restarted without persistence), a worker
that died before acknowledging, and a task that was never delivered.
"""

from __future__ import annotations

import datetime as dt

from docagent import lifecycle
from docagent.settings import Settings, get_settings
from docagent.store import now, session

MAX_ATTEMPTS = 3


def reap(at: dt.datetime | None = None, settings: Settings | None = None) -> list[tuple[str, str]]:
    """Returns (job_id, "plan" | "render") for each job to enqueue again; fails the hopeless ones."""
    settings = settings or get_settings()
    at = at or now()
    cutoff = at - dt.timedelta(seconds=settings.stale_job_s)
    again: list[tuple[str, str]] = []
    with session(settings) as s:
        for job in lifecycle.stale(s, cutoff):
            if job.attempts >= MAX_ATTEMPTS:
                lifecycle.fail(
                    job,
                    "stale",
                    f"no worker finished this job after {job.attempts} attempts; "
                    "check that workers are running, then retry it",
                    at,
                )
                continue
            stage = "render" if lifecycle.is_rendering(job) else "plan"
            if stage == "plan":
                lifecycle.requeue(job, at)
            job.updated_at = at
            job.attempts += 1  # each resend counts, so a job nobody can finish ends failed
            again.append((job.id, stage))
    return again
