"""A job's status changes only through docagent.service.lifecycle, and only along the drawn transitions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docagent.errors import IllegalTransition
from docagent.service import lifecycle
from docagent.service.lifecycle import FINAL, JobStatus
from docagent.service.store import JobRow, migrate
from docagent.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
Q, P, R, S, F, C = (JobStatus.QUEUED, JobStatus.PLANNING, JobStatus.RENDERING, JobStatus.SUCCEEDED,
                    JobStatus.FAILED, JobStatus.CANCELED)  # fmt: skip


def job(status: JobStatus, **fields) -> JobRow:
    return JobRow(id="j1", owner="o", status=status, attempts=0, progress=0.0, **fields)


def test_a_job_runs_queued_planning_rendering_succeeded():
    j = job(Q)
    lifecycle.start_planning(j)
    assert (j.status, j.stage, j.attempts) == (P, "planning", 1) and j.started_at is not None
    lifecycle.start_rendering(j)
    assert (j.status, j.stage, j.progress) == (R, "rendering", 0.5)
    lifecycle.succeed(j)
    assert (j.status, j.stage, j.progress) == (S, None, 1.0) and j.finished_at is not None


@pytest.mark.parametrize("status", [Q, P, R])
def test_an_unfinished_job_can_fail_or_be_canceled(status):
    failed, canceled = job(status), job(status)
    lifecycle.fail(failed, "boom", "it broke")
    lifecycle.cancel(canceled)
    assert (failed.status, failed.error_code, failed.error_message) == (F, "boom", "it broke")
    assert canceled.status == C and canceled.finished_at is not None


@pytest.mark.parametrize("status", sorted(FINAL))
def test_a_finished_job_cannot_be_canceled_failed_or_started_again(status):
    for move in (lifecycle.cancel, lifecycle.start_planning, lifecycle.start_rendering, lifecycle.succeed):
        j = job(status)
        with pytest.raises(IllegalTransition):
            move(j)
        assert j.status == status  # an illegal transition changes nothing
    with pytest.raises(IllegalTransition):
        lifecycle.fail(job(status), "x", "y")


def test_cancel_names_how_the_job_ended():
    with pytest.raises(IllegalTransition, match="the job has already succeeded"):
        lifecycle.cancel(job(S))


@pytest.mark.parametrize("status", [F, C])
def test_a_failed_or_canceled_job_is_retried_and_it_starts_clean(status):
    j = job(status, error_code="boom", error_message="it broke", plan={"blocks": []}, stage=None, timings={"plan": 1})
    lifecycle.retry(j)
    assert (j.status, j.error_code, j.error_message, j.plan, j.progress) == (Q, None, None, None, 0.0)
    assert (j.started_at, j.timings) == (None, {})


@pytest.mark.parametrize("status", [Q, P, R, S])
def test_an_unfinished_or_succeeded_job_is_not_retried(status):
    with pytest.raises(IllegalTransition, match=f"only a failed or canceled job can be retried; this one is {status}"):
        lifecycle.retry(job(status))


@pytest.mark.parametrize("status", [Q, P, R])
def test_only_a_finished_job_may_be_deleted(status):
    with pytest.raises(IllegalTransition, match=f"a {status} job cannot be deleted; cancel it first"):
        lifecycle.check_deletable(job(status))
    for finished in (S, F, C):
        lifecycle.check_deletable(job(finished))


def test_a_queued_job_cannot_skip_planning():
    with pytest.raises(IllegalTransition, match="a queued job cannot become rendering"):
        lifecycle.start_rendering(job(Q))
    with pytest.raises(IllegalTransition):
        lifecycle.succeed(job(Q))


def test_an_idempotency_key_taken_in_a_race_returns_the_first_job(tmp_path):
    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    first, created = lifecycle.create_job(
        "o", lifecycle.JobSpec("p", [], ["pdf"]), idempotency_key="k", settings=settings
    )
    again, created_again = lifecycle.create_job(
        "o", lifecycle.JobSpec("p", [], ["pdf"]), idempotency_key="k", settings=settings
    )
    assert created and not created_again and again.id == first.id and first.status == Q
    other, created_other = lifecycle.create_job(
        "someone-else", lifecycle.JobSpec("p", [], ["pdf"]), idempotency_key="k", settings=settings
    )
    assert created_other and other.id != first.id


def test_a_cancel_waits_for_a_worker_holding_the_job_so_neither_write_is_lost(tmp_path):
    """On SQLite, where FOR UPDATE is ignored: the worker's stage holds the write lock from its first read."""
    import threading

    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    created, _ = lifecycle.create_job("o", lifecycle.JobSpec("p", [], ["pdf"]), settings=settings)
    holding, canceled = threading.Event(), threading.Event()

    def cancel() -> None:
        holding.wait(5)
        with lifecycle.locked(created.id, settings) as j:
            lifecycle.cancel(j)
        canceled.set()

    other = threading.Thread(target=cancel)
    other.start()
    with lifecycle.locked(created.id, settings) as j:  # the worker's plan stage
        holding.set()
        assert not canceled.wait(0.5)  # the cancel waits for this transaction
        lifecycle.start_planning(j)
    other.join(10)
    with lifecycle.locked(created.id, settings) as j:
        assert j.status == C and j.attempts == 1  # planning started, then the cancel won: both writes kept


def test_the_api_schema_lists_exactly_the_lifecycle_statuses():
    from docagent.api.schemas import JobPublic

    schema = JobPublic.model_json_schema()
    assert schema["$defs"]["JobStatus"]["enum"] == [s.value for s in JobStatus]


STATUS_WORDS = "|".join([*JobStatus, *lifecycle.DeliveryStatus])
LITERAL = re.compile(rf"""["']({STATUS_WORDS})["']""")


def test_no_status_string_literal_outside_the_lifecycle_module():
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for folder in ("docagent", "api", "workers", "pipeline", "renderers", "cli")
        for p in sorted((ROOT / folder).rglob("*.py"))
        if p != ROOT / "docagent" / "service" / "lifecycle.py"
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if LITERAL.search(line)
    ]
    assert offenders == []


def test_no_status_spelled_out_in_the_dashboards_templates_or_script():
    """The pages take the sets of statuses (final, unfinished, working, retryable) from the lifecycle, and
    the script reads the final ones from the page."""
    dashboard = ROOT / "templates" / "dashboard"
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()[:120]}"
        for p in sorted([*dashboard.glob("*.html"), *dashboard.glob("static/*.js")])
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if LITERAL.search(line)
    ]
    assert offenders == []


def test_the_literal_check_would_see_one():
    assert LITERAL.search('job.status = "failed"') and not LITERAL.search('"the query failed"')
