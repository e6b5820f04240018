"""Schedules: create, read, change, delete, run now, run history."""

from __future__ import annotations

import functools
import zoneinfo

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select

from docagent.api.schemas import (
    RunPublic,
    RunsPublic,
    ScheduleCreate,
    ScheduledJob,
    SchedulePreview,
    SchedulePublic,
    SchedulesPublic,
    ScheduleUpdate,
)
from docagent.api.services.brands import check_choice
from docagent.api.services.common import owned
from docagent.errors import InvalidSchedule, ScheduleNotFound
from docagent.service.cron import check, describe, upcoming, zone
from docagent.service.lifecycle import JobStatus
from docagent.service.schedules import create_schedule, run_now, update_schedule
from docagent.service.store import DatasetRow, JobRow, RunRow, ScheduleRow, now, session
from docagent.settings import Settings
from docagent.workers.app import enqueue


def run_public(run: RunRow, job_status: str | None) -> RunPublic:
    return RunPublic(
        id=run.id,
        fire_time=run.fire_time,
        job_id=run.job_id,
        job_status=job_status,
        outcome=run.outcome,
        late=bool(run.late),
        manual=bool(run.manual),
        delivery_status=run.delivery_status,
        delivery_attempts=run.delivery_attempts or 0,
        delivery_error=run.delivery_error,
    )


def public(row: ScheduleRow, settings: Settings) -> SchedulePublic:
    with session(settings) as s:
        last = s.scalars(
            select(RunRow).where(RunRow.schedule_id == row.id).order_by(RunRow.fire_time.desc()).limit(1)
        ).first()
        last_status = s.get(JobRow, last.job_id).status if last and last.job_id else None  # type: ignore[union-attr]
    return SchedulePublic(
        id=row.id, name=row.name, cron=row.cron, timezone=row.timezone, enabled=row.enabled,
        allow_overlap=row.allow_overlap, job=row.job, webhook_url=row.webhook_url, webhook_secret=row.webhook_secret,
        next_fire_at=row.next_fire_at, next_fire_times=upcoming(row.cron, row.timezone, now()),
        last_run=run_public(last, last_status) if last else None, created_at=row.created_at,
    )  # fmt: skip


def get_row(schedule_id: str, owner: str, settings: Settings) -> ScheduleRow:
    return owned(ScheduleRow, schedule_id, owner, settings, ScheduleNotFound, "schedule")


def check_runnable(job: ScheduledJob, settings: Settings) -> None:
    """A schedule whose every run would fail for want of a model is refused, naming the field."""
    if job.planner == "llm" and not settings.llm_base_url and job.plan is None and job.from_job is None:
        raise InvalidSchedule(
            "the model planner was chosen, but no model is configured on this server: choose auto or rules",
            "job.planner",
        )


def create(body: ScheduleCreate, owner: str, settings: Settings) -> SchedulePublic:
    check_choice(body.job.brand, owner, settings)
    check_runnable(body.job, settings)
    check_template(body.job, owner, settings)
    return public(create_schedule(owner, body.model_dump(mode="json"), settings), settings)


def list_schedules(owner: str, settings: Settings) -> SchedulesPublic:
    with session(settings) as s:
        rows = list(s.scalars(select(ScheduleRow).where(ScheduleRow.owner == owner).order_by(ScheduleRow.created_at)))
    return SchedulesPublic(data=[public(r, settings) for r in rows], count=len(rows))


def get(schedule_id: str, owner: str, settings: Settings) -> SchedulePublic:
    return public(get_row(schedule_id, owner, settings), settings)


def update(schedule_id: str, body: ScheduleUpdate, owner: str, settings: Settings) -> SchedulePublic:
    get_row(schedule_id, owner, settings)
    if body.job is not None:
        check_choice(body.job.brand, owner, settings)
        check_runnable(body.job, settings)
        check_template(body.job, owner, settings)
    changes = body.model_dump(mode="json", exclude_unset=True)
    # null means "leave as is", except for the webhook, where it removes it
    changes = {k: v for k, v in changes.items() if v is not None or k == "webhook_url"}
    return public(update_schedule(schedule_id, owner, changes, settings), settings)


def delete(schedule_id: str, owner: str, settings: Settings) -> None:
    get_row(schedule_id, owner, settings)
    with session(settings) as s:
        s.execute(sa_delete(RunRow).where(RunRow.schedule_id == schedule_id))
        s.execute(sa_delete(ScheduleRow).where(ScheduleRow.id == schedule_id))


def run(schedule_id: str, owner: str, settings: Settings) -> RunPublic:
    """Fire the schedule now and queue its job (unless an unfinished run blocks it)."""
    r = run_now(schedule_id, owner, settings)
    if r.job_id and r.outcome == "started":
        enqueue(r.job_id)
    return run_public(r, JobStatus.QUEUED if r.job_id else None)


def runs(schedule_id: str, owner: str, settings: Settings, limit: int = 50) -> RunsPublic:
    get_row(schedule_id, owner, settings)
    with session(settings) as s:
        q = select(RunRow).where(RunRow.schedule_id == schedule_id)
        count = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = list(s.scalars(q.order_by(RunRow.fire_time.desc()).limit(limit)))
        statuses = dict(
            s.execute(select(JobRow.id, JobRow.status).where(JobRow.id.in_([r.job_id for r in rows]))).all()
        )
    return RunsPublic(data=[run_public(r, statuses.get(r.job_id or "")) for r in rows], count=count)


def preview(cron: str, timezone: str, n: int = 5) -> SchedulePreview:
    """The expression in words and its next `n` fire times in the zone's offset; InvalidSchedule names the field."""
    cron, timezone = cron.strip(), timezone.strip()
    check(cron, timezone)
    z = zone(timezone)
    times = [t.astimezone(z) for t in upcoming(cron, timezone, now(), n)]
    return SchedulePreview(cron=cron, timezone=timezone, description=describe(cron), next_fire_times=times)


@functools.cache
def zones() -> list[str]:
    """IANA zone names a person picks from (Region/City, and UTC)."""
    named = (z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return ["UTC", *sorted(named)]


def dataset_names(owner: str, settings: Settings, kind: str | None = None) -> list[str]:
    """The names a dataset source (or, with kind "template", a schedule's template) can read; each run takes
    that name's newest version."""
    query = select(DatasetRow.name).where(DatasetRow.owner == owner)
    query = query.where(DatasetRow.kind == kind) if kind else query.where(DatasetRow.kind != "template")
    with session(settings) as s:
        return sorted(s.scalars(query.distinct()))


def check_template(job: ScheduledJob, owner: str, settings: Settings) -> None:
    """A template the schedule names must be one of the owner's now (each run would only fail without it)."""
    if job.template is not None and job.template not in dataset_names(owner, settings, "template"):
        raise InvalidSchedule(
            f"no template named {job.template!r}: upload it with kind template, or choose none", "job.template"
        )


def connections(owner: str, settings: Settings) -> list[str]:
    """The SQL connections granted to this owner's key."""
    return sorted(name for name in settings.connections if owner in settings.connection_grants.get(name, []))
