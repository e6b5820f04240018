"""Job recovery that tells waiting from lost, by what the broker and the workers know, not by age.

- A worker holds a job while it runs a stage and renews its lease (`lease_until`); a live lease
  means someone is working, however long it takes.
- A job is *sent* when its message is handed to the broker (`sent_at`); one accepted while the
  broker was down stays unsent, and the recovery loop sends it as soon as the broker is back.
- A sent job nobody holds is *waiting* while the broker still has its message (in a queue or
  delivered but unacknowledged), and *lost* when it does not: Redis restarted without
  persistence. A lost job is sent again once it is seen missing twice in a row (so a message
  a worker is just taking is not mistaken for a lost one); waiting is never a failure.
- Only a job whose worker died while holding it, `MAX_ATTEMPTS` times, is failed.

Where the broker cannot be asked (`held` is None), a sent job is re-sent after `stale_job_s`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select, update

from docagent.service import lifecycle
from docagent.service.store import JobRow, now, session
from docagent.settings import Settings, get_settings

MAX_ATTEMPTS = 3
SEND_GRACE_S = 5.0  # a message this young may still be on its way into the broker


@dataclass
class Suspects:
    """Jobs found missing from the broker once, with when: the next pass confirms or clears them."""

    seen: dict[str, dt.datetime] = field(default_factory=dict)


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


def reap(
    at: dt.datetime | None = None,
    settings: Settings | None = None,
    held: set[str] | None = None,
    suspects: Suspects | None = None,
) -> list[tuple[str, str]]:
    """(job_id, "plan" | "render") for each job to send (again); fails jobs whose workers kept dying.

    `held`: ids of jobs whose messages the broker holds, read before this call; None if unknown.
    """
    settings = settings or get_settings()
    at = at or now()
    suspects = suspects if suspects is not None else Suspects()
    grace = dt.timedelta(seconds=SEND_GRACE_S)
    again: list[tuple[str, str]] = []
    missing: dict[str, dt.datetime] = {}
    with session(settings) as s:
        jobs = s.scalars(
            select(JobRow).where(JobRow.status.in_(lifecycle.UNFINISHED)).with_for_update(skip_locked=True)
        ).all()
        for job in jobs:
            lease, sent = _utc(job.lease_until), _utc(job.sent_at)
            stage = "render" if lifecycle.is_rendering(job) else "plan"
            if lease is not None and lease > at:
                continue  # a worker is on it
            if lease is not None:  # its worker stopped renewing: it died (or lost the database) mid-stage
                if held is not None and job.id in held:
                    continue  # acks_late: the broker will hand the message to another worker
                if job.attempts >= MAX_ATTEMPTS:
                    lifecycle.fail(
                        job,
                        "stale",
                        f"workers stopped while running this job {job.attempts} times; "
                        "check the workers' logs and memory, then retry it",
                        at,
                    )
                    job.lease_until = None
                    continue
            elif sent is None:
                touched = _utc(job.updated_at) or at
                if touched > at - grace:
                    continue  # its sender may still be sending
            elif held is None:
                if sent > at - dt.timedelta(seconds=settings.stale_job_s):
                    continue
            elif job.id in held or sent > at - grace:
                continue  # waiting in the backlog, or just sent
            elif job.id not in suspects.seen:
                missing[job.id] = at  # missing once: confirm on the next pass
                continue
            if stage == "plan" and job.status != lifecycle.JobStatus.QUEUED:
                lifecycle.requeue(job, at)
            job.lease_until, job.sent_at = None, None  # sent again below; recorded when the broker takes it
            again.append((job.id, stage))
    suspects.seen = missing
    return again


def mark_sent(job_id: str, settings: Settings | None = None) -> None:
    with session(settings or get_settings()) as s:
        s.execute(update(JobRow).where(JobRow.id == job_id).values(sent_at=now()))


def hold(job_id: str, settings: Settings | None = None) -> None:
    """A worker holds the job for another `job_lease_s` seconds."""
    settings = settings or get_settings()
    until = now() + dt.timedelta(seconds=settings.job_lease_s)
    with session(settings) as s:
        s.execute(update(JobRow).where(JobRow.id == job_id).values(lease_until=until))


def release(job_id: str, settings: Settings | None = None) -> None:
    with session(settings or get_settings()) as s:
        s.execute(update(JobRow).where(JobRow.id == job_id).values(lease_until=None))


__all__ = ["MAX_ATTEMPTS", "Suspects", "hold", "mark_sent", "reap", "release"]
