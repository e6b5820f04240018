"""A job's lifecycle: `JobStatus` and every transition. Nothing else assigns a job's status.

        create / start_schedule_run
                  │
                  ▼
    ┌──────── queued ◄──────────────┐  requeue (the reaper re-sends a stale job)
    │             │ start_planning   │  retry (a failed or canceled job)
    │             ▼                  │
    ├─────── planning ───────────────┤
    │             │ start_rendering  │
    │             ▼                  │
    ├─────── rendering ──────────────┘
    │             │ succeed
    │             ▼
    │        succeeded                    fail: any unfinished job -> failed
    └──► canceled (cancel)                a final job never changes, except failed/canceled -> queued by retry

Only a finished job may be deleted (`check_deletable`): a queued or running one is canceled first.

A redelivered task may repeat its stage (planning -> planning, rendering -> rendering), and the
reaper may re-send a job that is still queued.
Transitions change a row the caller holds in an open session (`locked` fetches one by id
with a row lock); an illegal one raises `IllegalTransition` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docagent.engine.formats import DEFAULT_FORMATS
from docagent.errors import IllegalTransition, JobNotFound, TooManyJobs
from docagent.service.store import JobRow, QuotaRow, now, session
from docagent.settings import Settings, get_settings


class JobStatus(StrEnum):
    QUEUED = "queued"
    PLANNING = "planning"
    RENDERING = "rendering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class DeliveryStatus(StrEnum):
    """A scheduled run's webhook delivery (a run's own small lifecycle)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


FINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})
UNFINISHED = tuple(s for s in JobStatus if s not in FINAL)
WORKING = (JobStatus.PLANNING, JobStatus.RENDERING)  # a worker holds the job: its progress moves

_NEXT: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.QUEUED, JobStatus.PLANNING, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.PLANNING: frozenset(
        {JobStatus.PLANNING, JobStatus.RENDERING, JobStatus.QUEUED, JobStatus.FAILED, JobStatus.CANCELED}
    ),
    JobStatus.RENDERING: frozenset(
        {
            JobStatus.PLANNING,
            JobStatus.RENDERING,
            JobStatus.QUEUED,
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.CANCELED,
        }
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELED: frozenset({JobStatus.QUEUED}),
}


def is_final(status: str) -> bool:
    return status in FINAL


def _move(job: JobRow, to: JobStatus, message: str | None = None) -> None:
    current = JobStatus(job.status)
    if to not in _NEXT[current]:
        raise IllegalTransition(message or f"a {current} job cannot become {to}")
    job.status = to


# --- creation ---


@dataclass(frozen=True)
class JobSpec:
    """What a caller asks a job to make; who asks and how it is admitted are `create_job`'s arguments."""

    prompt: str
    dataset_ids: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    planner: str = "auto"
    theme: str | None = None
    language: str | None = None
    brand: str | None = None
    given_plan: dict[str, Any] | None = None  # rendered as is; with an instruction, revised by the model
    instruction: str | None = None  # a revision's request, sent to the model with `given_plan`
    parent_id: str | None = None  # the job a revision revises


def _new(owner: str, spec: JobSpec, **service: Any) -> JobRow:
    """A queued row for `spec`; `service` holds what the service sets itself (key, schedule, source)."""
    return JobRow(
        status=JobStatus.QUEUED,
        progress=0.0,
        usage={},
        timings={},
        owner=owner,
        prompt=spec.prompt,
        dataset_ids=list(spec.dataset_ids),
        formats=list(spec.formats),
        planner_requested=spec.planner,
        theme=spec.theme,
        language=spec.language,
        brand=spec.brand,
        given_plan=spec.given_plan,
        instruction=spec.instruction,
        parent_id=spec.parent_id,
        **service,
    )


def find_by_key(owner: str, idempotency_key: str, settings: Settings) -> JobRow | None:
    """The job this owner already created with this idempotency key, if any."""
    with session(settings) as s:
        return s.scalars(select(JobRow).where(JobRow.owner == owner, JobRow.idempotency_key == idempotency_key)).first()


def create_job(
    owner: str,
    spec: JobSpec,
    *,
    idempotency_key: str | None = None,
    settings: Settings | None = None,
    limits: bool = False,
) -> tuple[JobRow, bool]:
    """A queued job (and True); if this owner's idempotency key is taken, that job (and False).

    With `limits`, the owner's quota is locked and counted in the same transaction (`admit`),
    after the key lookup: a repeated key returns the first job even past the limits.
    """
    settings = settings or get_settings()
    job = _new(owner, spec, idempotency_key=idempotency_key)
    try:
        with session(settings) as s:
            if limits:
                lock_owner(s, owner)  # concurrent requests of this owner queue up here
            if idempotency_key:
                existing = s.scalars(
                    select(JobRow).where(JobRow.owner == owner, JobRow.idempotency_key == idempotency_key)
                ).first()
                if existing is not None:
                    return existing, False
            if limits:
                admit(s, owner, settings)
            s.add(job)
    except IntegrityError:
        existing = find_by_key(owner, idempotency_key, settings) if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    return job, True


def start_schedule_run(s: Session, owner: str, schedule_id: str, spec: dict[str, Any]) -> JobRow:
    """A queued job for one fire of a schedule; its source is resolved when it is planned."""
    job = _new(
        owner,
        JobSpec(
            spec["prompt"],
            formats=spec.get("formats") or list(DEFAULT_FORMATS),
            planner=spec.get("planner") or "auto",
            theme=spec.get("theme"),
            language=spec.get("language"),
            brand=spec.get("brand"),
            given_plan=spec.get("plan"),  # a frozen schedule: no model call unless the data no longer fits
        ),
        schedule_id=schedule_id,
        # the files each run reads fresh: the data source, and the template the schedule names
        source={**spec["source"], "template": spec["template"]} if spec.get("template") else spec.get("source"),
        replan_on_mismatch=bool(spec.get("replan_on_mismatch")),
    )
    s.add(job)
    s.flush()
    return job


# --- queries over statuses ---


def count_unfinished(s: Session, owner: str) -> int:
    return s.scalar(select(func.count()).where(JobRow.owner == owner, JobRow.status.in_(UNFINISHED))) or 0


def schedule_has_unfinished(s: Session, schedule_id: str) -> bool:
    found = s.scalars(
        select(JobRow.id).where(JobRow.schedule_id == schedule_id, JobRow.status.in_(UNFINISHED)).limit(1)
    ).first()
    return found is not None


def stale(s: Session, cutoff: dt.datetime) -> list[JobRow]:
    """Unfinished jobs untouched since `cutoff`, locked (another reaper skips them)."""
    return list(
        s.scalars(
            select(JobRow)
            .where(JobRow.status.in_(UNFINISHED), JobRow.updated_at < cutoff)
            .with_for_update(skip_locked=True)
        )
    )


# --- limits ---


def lock_owner(s: Session, owner: str) -> None:
    """Serialise this owner's job creation until the transaction ends: writing the owner's quota
    row takes its row lock on PostgreSQL and the database's write lock on SQLite."""
    at = now()
    if not s.execute(update(QuotaRow).where(QuotaRow.owner == owner).values(touched_at=at)).rowcount:  # type: ignore[attr-defined]
        try:
            with s.begin_nested():
                s.add(QuotaRow(owner=owner, touched_at=at))
        except IntegrityError:  # another request created it meanwhile: lock that one
            s.execute(update(QuotaRow).where(QuotaRow.owner == owner).values(touched_at=at))


def admit(s: Session, owner: str, settings: Settings) -> None:
    """Raise TooManyJobs unless the owner may start one more job; call with the owner locked,
    in the transaction that writes the job, so a race cannot admit past the cap."""
    since = now() - dt.timedelta(seconds=60)
    recent = s.scalars(
        select(JobRow.created_at).where(JobRow.owner == owner, JobRow.created_at >= since).order_by(JobRow.created_at)
    ).all()
    if len(recent) >= settings.jobs_per_minute:
        oldest = recent[0] if recent[0].tzinfo else recent[0].replace(tzinfo=dt.UTC)
        wait = max(1, int(60 - (now() - oldest).total_seconds()) + 1)
        raise TooManyJobs(f"rate limit: {settings.jobs_per_minute} jobs per minute per key", wait)
    running = count_unfinished(s, owner)
    if running >= settings.max_concurrent_jobs:
        raise TooManyJobs(f"{running} unfinished jobs: at most {settings.max_concurrent_jobs} per key run at once", 10)


# --- transitions ---


def lock_row(s: Session, job_id: str) -> JobRow | None:
    """The job in this transaction, locked until it ends (None if there is none), on every database."""
    if s.get_bind().dialect.name == "sqlite":  # FOR UPDATE is ignored there: write first, so this
        # transaction holds the database's write lock before it reads (a cancel and a worker's next
        # stage, or two deletes, could otherwise both read the row and the later commit undo the other)
        s.execute(update(JobRow).where(JobRow.id == job_id).values(id=JobRow.id))
    return s.get(JobRow, job_id, with_for_update=True, populate_existing=True)


@contextmanager
def locked(job_id: str, settings: Settings) -> Iterator[JobRow]:
    """The job, locked for update; the transaction commits when the block ends."""
    with session(settings) as s:
        job = lock_row(s, job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        yield job


def set_datasets(job_id: str, dataset_ids: list[str], settings: Settings) -> JobRow:
    """Record the files a job reads (a schedule's fresh source, the images its plan names)."""
    with locked(job_id, settings) as job:
        job.dataset_ids = list(dataset_ids)
    return job


def start_planning(job: JobRow, at: dt.datetime | None = None) -> None:
    _move(job, JobStatus.PLANNING)
    job.stage, job.progress = JobStatus.PLANNING.value, 0.1
    job.started_at = job.started_at or at or now()
    job.attempts += 1


def start_rendering(job: JobRow, progress: float = 0.5) -> None:
    """Planning is done (or a redelivered render task starts again)."""
    _move(job, JobStatus.RENDERING)
    job.stage, job.progress = JobStatus.RENDERING.value, progress


def is_rendering(job: JobRow) -> bool:
    """Planned and waiting for (or in) the render stage."""
    return job.plan is not None and job.status == JobStatus.RENDERING


def succeed(job: JobRow, at: dt.datetime | None = None) -> None:
    _move(job, JobStatus.SUCCEEDED)
    job.stage, job.progress, job.finished_at = None, 1.0, at or now()


def fail(job: JobRow, code: str, message: str, at: dt.datetime | None = None) -> None:
    _move(job, JobStatus.FAILED)
    job.error_code, job.error_message = code, message
    job.stage, job.finished_at = None, at or now()


def cancel(job: JobRow, at: dt.datetime | None = None) -> None:
    _move(job, JobStatus.CANCELED, f"the job has already {job.status}")
    job.stage, job.finished_at = None, at or now()


RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELED})


def retry(job: JobRow) -> None:
    """A failed or canceled job starts again from planning."""
    if job.status not in RETRYABLE:
        raise IllegalTransition(f"only a failed or canceled job can be retried; this one is {job.status}")
    _move(job, JobStatus.QUEUED)
    job.progress, job.error_code, job.error_message = 0.0, None, None
    job.plan, job.finished_at, job.stage = None, None, None
    job.started_at, job.timings = None, {}  # the timeline starts again too


def check_deletable(job: JobRow) -> None:
    """A job is deleted only once it has finished: a worker may still be writing a running job's files."""
    if job.status not in FINAL:
        raise IllegalTransition(f"a {job.status} job cannot be deleted; cancel it first")


def requeue(job: JobRow, at: dt.datetime) -> None:
    """The reaper sends a stale job again; planning restarts from the queue."""
    _move(job, JobStatus.QUEUED)
    job.progress, job.updated_at = 0.0, at


__all__ = [
    "FINAL",
    "RETRYABLE",
    "UNFINISHED",
    "WORKING",
    "DeliveryStatus",
    "JobSpec",
    "JobStatus",
    "admit",
    "cancel",
    "check_deletable",
    "create_job",
    "fail",
    "find_by_key",
    "is_final",
    "lock_row",
    "lock_owner",
    "locked",
    "requeue",
    "retry",
    "set_datasets",
    "start_planning",
    "start_rendering",
    "start_schedule_run",
    "succeed",
]
