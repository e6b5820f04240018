"""Scheduled report jobs: firing exactly once per fire time, sources resolved at run time.

`fire_due` is what the beat process calls every tick. Two beats running by
mistake both try to insert the run for a fire time; the unique key lets one win.
After downtime only the latest missed fire time runs, flagged late.
"""

from __future__ import annotations

import csv
import datetime as dt
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from docagent.engine.planfile import parse
from docagent.errors import (
    ForbiddenDestination,
    InvalidSchedule,
    PlanError,
    ScheduleNotFound,
    SourceError,
    TooManyJobs,
)
from docagent.netguard import resolve
from docagent.service.cron import check, fire_times, next_fire, upcoming
from docagent.service.lifecycle import DeliveryStatus, admit, lock_owner, schedule_has_unfinished, start_schedule_run
from docagent.service.records import create_dataset, latest_dataset, plain_text
from docagent.service.store import JobRow, RunRow, ScheduleRow, now, session
from docagent.settings import Settings, get_settings

POWERFUL_ROLE = (
    "SELECT rolsuper OR pg_has_role(current_user, 'pg_read_server_files', 'MEMBER') "
    "OR pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') FROM pg_roles WHERE rolname = current_user"
)


def validate_source(source: dict[str, Any], settings: Settings) -> None:
    if "dataset" in source:
        if not str(source["dataset"]).strip():
            raise InvalidSchedule("must name a dataset", "job.source.dataset")
        return
    if "sql" in source:
        conn = source.get("connection")
        if conn not in settings.connections:
            known = ", ".join(sorted(settings.connections)) or "none configured (DOCAGENT_CONNECTIONS)"
            raise InvalidSchedule(f"unknown connection {conn!r}; known: {known}", "job.source.connection")
        if not str(source["sql"]).strip():
            raise InvalidSchedule("the query is empty", "job.source.sql")
        return
    raise InvalidSchedule('must be {"dataset": NAME} or {"sql": "SELECT ...", "connection": NAME}', "job.source")


def check_webhook(url: str | None, settings: Settings) -> None:
    """A webhook must point at a public address now; delivery checks again, after resolving."""
    if url:
        try:
            resolve(url, settings.webhook_allow)
        except ForbiddenDestination as e:
            raise InvalidSchedule(str(e), "webhook_url") from None


def check_grant(source: dict[str, Any], owner: str, settings: Settings) -> None:
    """A SQL source's connection must be granted to the owner's key (DOCAGENT_CONNECTION_GRANTS)."""
    if "sql" in source and owner not in settings.connection_grants.get(str(source.get("connection")), []):
        raise InvalidSchedule(
            f"the connection {source.get('connection')!r} is not granted to this key; "
            "an operator grants it with DOCAGENT_CONNECTION_GRANTS",
            "job.source.connection",
        )


def freeze(owner: str, spec: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """A schedule's job with its plan frozen: `from_job` copies that job's plan (and its prompt, for re-planning)."""
    spec = {k: v for k, v in spec.items() if v is not None}
    if spec.get("from_job"):
        with session(settings) as s:
            job = s.get(JobRow, str(spec["from_job"]))
        if job is None or job.owner != owner:
            raise InvalidSchedule(f"no job {spec['from_job']!r}", "job.from_job")
        if job.plan is None:
            problem = f"job {job.id} has no plan yet ({job.status}); schedule it once it has"
            raise InvalidSchedule(problem, "job.from_job")
        spec.setdefault("plan", job.plan)
        if not str(spec.get("prompt") or "").strip():
            spec["prompt"] = job.prompt
    if "plan" in spec:
        try:
            spec["plan"] = parse(spec["plan"]).model_dump(mode="json")
        except PlanError as e:
            raise InvalidSchedule("the plan is not valid: " + "; ".join(e.problems), "job.plan") from None
    elif not str(spec.get("prompt") or "").strip():
        raise InvalidSchedule("a schedule's job needs a prompt, a plan or from_job", "job.prompt")
    spec.setdefault("prompt", "")
    return spec


def check_interval(expr: str, tz: str, settings: Settings) -> None:
    """Refuse a schedule that fires more often than DOCAGENT_MIN_SCHEDULE_INTERVAL_S (its closest fires in a year)."""
    times = upcoming(expr, tz, now(), 12)
    gap = min((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False))
    if gap < settings.min_schedule_interval_s:
        raise InvalidSchedule(
            f"fires every {gap:g} s; schedules fire at most every {settings.min_schedule_interval_s} s "
            "(DOCAGENT_MIN_SCHEDULE_INTERVAL_S)",
            "cron",
        )


def check_count(s: Any, owner: str, settings: Settings) -> None:
    """Call with the owner locked: a key holds at most DOCAGENT_MAX_SCHEDULES schedules."""
    have = s.scalar(select(func.count()).where(ScheduleRow.owner == owner)) or 0
    if have >= settings.max_schedules:
        raise InvalidSchedule(
            f"this key has {have} schedules, the most it may hold (DOCAGENT_MAX_SCHEDULES); delete one first", "cron"
        )


def create_schedule(owner: str, fields: dict[str, Any], settings: Settings | None = None) -> ScheduleRow:
    settings = settings or get_settings()
    check(fields["cron"], fields["timezone"])
    check_interval(fields["cron"], fields["timezone"], settings)
    fields = {**fields, "job": freeze(owner, fields["job"], settings)}
    validate_source(fields["job"].get("source") or {}, settings)
    check_grant(fields["job"].get("source") or {}, owner, settings)
    check_webhook(fields.get("webhook_url"), settings)
    row = ScheduleRow(owner=owner, **{**fields, "name": plain_text(fields["name"])})
    if row.webhook_url and not row.webhook_secret:
        row.webhook_secret = secrets.token_urlsafe(32)
    row.next_fire_at = next_fire(row.cron, row.timezone, now()) if row.enabled else None
    with session(settings) as s:
        lock_owner(s, owner)  # concurrent creations cannot pass the cap together
        check_count(s, owner, settings)
        s.add(row)
    return row


def update_schedule(row_id: str, owner: str, changes: dict[str, Any], settings: Settings | None = None) -> ScheduleRow:
    settings = settings or get_settings()
    if changes.get("job") is not None:
        changes = {**changes, "job": freeze(owner, changes["job"], settings)}
    with session(settings) as s:
        row = s.get(ScheduleRow, row_id, with_for_update=True)
        if row is None or row.owner != owner:
            raise ScheduleNotFound("schedule not found")
        for k, v in changes.items():
            setattr(row, k, plain_text(v) if k == "name" else v)
        check(row.cron, row.timezone)
        if "cron" in changes or "timezone" in changes:
            check_interval(row.cron, row.timezone, settings)
        validate_source(row.job.get("source") or {}, settings)
        check_grant(row.job.get("source") or {}, owner, settings)
        if "webhook_url" in changes:
            check_webhook(row.webhook_url, settings)
        if row.webhook_url and not row.webhook_secret:  # a webhook added later is signed too
            row.webhook_secret = secrets.token_urlsafe(32)
        row.next_fire_at = next_fire(row.cron, row.timezone, now()) if row.enabled else None
        return row


def _start_run(
    s: Any, sched: ScheduleRow, fire_time: dt.datetime, late: bool, manual: bool, settings: Settings | None = None
) -> RunRow | None:
    """Insert the run for this fire time (None if another scheduler already did) and its job."""
    run = RunRow(
        schedule_id=sched.id,
        fire_time=fire_time,
        late=late,
        manual=manual,
        outcome="started",
        delivery_status=None,
        delivery_attempts=0,
        delivery_error=None,
    )
    try:
        with s.begin_nested():
            s.add(run)
            s.flush()
    except IntegrityError:
        return None
    if not sched.allow_overlap and schedule_has_unfinished(s, sched.id):
        run.outcome = "skipped_overlap"
        return run
    if not manual:  # run-now was admitted by its caller; a fire counts against the owner's limits here
        lock_owner(s, sched.owner)
        try:
            admit(s, sched.owner, settings or get_settings())
        except TooManyJobs:
            run.outcome = "skipped_limit"
            return run
    run.job_id = start_schedule_run(s, sched.owner, sched.id, sched.job).id
    if sched.webhook_url:
        run.delivery_status = DeliveryStatus.PENDING
    return run


def fire_due(at: dt.datetime | None = None, settings: Settings | None = None) -> list[RunRow]:
    """Start the runs that are due; returns them (their jobs still need enqueueing)."""
    settings = settings or get_settings()
    at = at or now()
    started: list[RunRow] = []
    with session(settings) as s:
        due = s.scalars(
            select(ScheduleRow)
            .where(ScheduleRow.enabled.is_(True), ScheduleRow.next_fire_at <= at)
            .with_for_update(skip_locked=True)
        ).all()
        for sched in due:
            scheduled = _as_utc(sched.next_fire_at)
            assert scheduled is not None
            missed = [scheduled]
            for t in fire_times(sched.cron, sched.timezone, scheduled):
                if t > at:
                    break
                missed.append(t)
            latest = missed[-1]  # no burst of catch-up runs: only the newest missed fire time
            late = len(missed) > 1 or (at - latest).total_seconds() > settings.schedule_grace_s
            run = _start_run(s, sched, latest, late, manual=False, settings=settings)
            sched.next_fire_at = next_fire(sched.cron, sched.timezone, at)
            if run is not None:
                started.append(run)
    return started


def run_now(schedule_id: str, owner: str, settings: Settings | None = None) -> RunRow:
    settings = settings or get_settings()
    with session(settings) as s:
        sched = s.get(ScheduleRow, schedule_id)
        if sched is None or sched.owner != owner:
            raise ScheduleNotFound("schedule not found")
        lock_owner(s, owner)
        admit(s, owner, settings)  # "run now" makes a job: the owner's limits hold here too
        run = _start_run(s, sched, now(), late=False, manual=True)
        assert run is not None
        return run


def _as_utc(t: dt.datetime | None) -> dt.datetime | None:
    return t.replace(tzinfo=dt.UTC) if t is not None and t.tzinfo is None else t


def resolve_source(job: JobRow, settings: Settings) -> list[str]:
    """Dataset ids for a scheduled job's source and its template, each fetched fresh at run time."""
    source = job.source or {}
    if name := source.get("template"):
        row = latest_dataset(job.owner, str(name), settings)
        if row is None or row.kind != "template":
            raise SourceError(f"no template named {name!r}: upload one with that name (kind template)")
        return [*resolve_source_data(job, source, settings), row.id]
    return resolve_source_data(job, source, settings)


def resolve_source_data(job: JobRow, source: dict[str, Any], settings: Settings) -> list[str]:
    if "dataset" in source:
        row = latest_dataset(job.owner, str(source["dataset"]), settings)
        if row is None:
            raise SourceError(f"no dataset named {source['dataset']!r}: upload one with that name")
        return [row.id]
    if "sql" in source:
        with session(settings) as s:
            sched = s.get(ScheduleRow, job.schedule_id) if job.schedule_id else None
        name = sched.name if sched else "query"
        return [run_sql_source(source, job.owner, name, settings)]
    return list(job.dataset_ids)


def run_sql_source(source: dict[str, Any], owner: str, name: str, settings: Settings) -> str:
    """Run a schedule owner's query read-only, with a time limit and a row limit; store it as a dataset."""
    url = settings.connections.get(str(source.get("connection")))
    if url is None:
        raise SourceError(f"unknown connection {source.get('connection')!r}")
    if owner not in settings.connection_grants.get(str(source.get("connection")), []):
        raise SourceError(f"the connection {source.get('connection')!r} is not granted to this key")
    engine = create_engine(url)
    work = Path(tempfile.mkdtemp(prefix="docagent-sql-"))
    path = work / "query.csv"
    timeout_ms = int(settings.sql_timeout_s * 1000)
    try:
        with engine.connect() as conn, conn.begin():
            dialect = engine.dialect.name
            if dialect == "postgresql":
                conn.execute(text("SET TRANSACTION READ ONLY"))
                # read-only stops writes, not pg_read_file() or COPY ... TO PROGRAM: those need these roles
                powerful = conn.execute(text(POWERFUL_ROLE)).scalar()
                if powerful:
                    raise SourceError(
                        f"the connection {source.get('connection')!r} logs in as a superuser or a member of "
                        "pg_read_server_files/pg_execute_server_program; give it a read-only role (see SECURITY.md)"
                    )
                conn.execute(text(f"SET LOCAL statement_timeout = {timeout_ms}"))
            elif dialect == "sqlite":
                conn.execute(text("PRAGMA query_only = ON"))
            elif dialect in ("mysql", "mariadb"):
                conn.execute(text("SET TRANSACTION READ ONLY"))
                conn.execute(text(f"SET SESSION max_execution_time = {timeout_ms}"))
            result = conn.execution_options(stream_results=True).execute(text(str(source["sql"])))
            with path.open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(list(result.keys()))
                for n, row in enumerate(result):
                    if n >= settings.sql_row_limit:
                        break
                    w.writerow(["" if v is None else v for v in row])
        return create_dataset(path, f"{name}.csv", name, owner, settings).id
    except SQLAlchemyError as e:
        raise SourceError(f"the query on {source.get('connection')!r} failed: {str(e).splitlines()[0]}") from None
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["create_schedule", "fire_due", "resolve_source", "run_now", "update_schedule"]
