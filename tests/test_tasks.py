"""Celery tasks retry transient errors by Celery's own backoff, then fail their job (run eagerly, no broker)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from docagent.service.lifecycle import JobSpec, create_job
from docagent.service.records import get_job
from docagent.service.store import migrate
from docagent.settings import get_settings


@pytest.fixture
def job_id(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    migrate(get_settings())
    return create_job("o", JobSpec("p", [], ["pdf"]), settings=get_settings())[0].id


def test_a_stage_retries_a_transient_error_then_fails_its_job(job_id, monkeypatch):
    from docagent.workers import tasks

    tries: list[str] = []

    def database_away(jid: str) -> bool:
        tries.append(jid)
        raise OperationalError("SELECT 1", {}, ConnectionError("the database is away"))

    monkeypatch.setattr(tasks, "plan_stage", database_away)
    result = tasks.plan.apply(args=[job_id])
    assert result.failed() and len(tries) == 1 + tasks.plan.max_retries
    job = get_job(job_id, get_settings())
    assert job.status == "failed" and job.error_code == "internal_error" and "OperationalError" in job.error_message


def test_an_unexpected_error_fails_the_job_without_retrying(job_id, monkeypatch):
    from docagent.workers import tasks

    tries: list[str] = []

    def broken(jid: str) -> None:
        tries.append(jid)
        raise KeyError("nobody foresaw this")

    monkeypatch.setattr(tasks, "render_stage", broken)
    assert tasks.render.apply(args=[job_id]).failed() and len(tries) == 1
    job = get_job(job_id, get_settings())
    assert job.status == "failed" and job.error_message == "KeyError: 'nobody foresaw this'"


def test_a_task_for_a_job_that_is_gone_fails_quietly(job_id):
    from docagent.workers import tasks

    result = tasks.plan.apply(args=["no-such-job"])
    assert result.failed() and type(result.result).__name__ == "JobNotFound"
