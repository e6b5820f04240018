"""A job's files are written only while its row allows it; delete, cancel and retry are serialised per job.

On SQLite too, where FOR UPDATE is ignored: these tests use the embedded store.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from docagent.api.services import jobs as job_service
from docagent.errors import DocagentError
from docagent.pipeline import jobs as pipeline
from docagent.service import lifecycle
from docagent.service.lifecycle import JobStatus
from docagent.service.storage import get_storage
from docagent.service.store import JobRow, migrate, session
from docagent.settings import Settings

PLAN = {"meta": {"title": "Notes"}, "blocks": [{"type": "paragraph", "text": "Hello."}]}


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(var_dir=tmp_path / "var")
    migrate(s)
    return s


def planned_job(settings: Settings) -> str:
    """A job whose plan is done: the render stage is next."""
    job, _ = lifecycle.create_job("o", lifecycle.JobSpec("p", [], ["docx", "pdf"]), settings=settings)
    with lifecycle.locked(job.id, settings) as j:
        lifecycle.start_planning(j)
        j.plan = PLAN
        lifecycle.start_rendering(j)
    return job.id


def objects(settings: Settings, job_id: str) -> list[str]:
    root = settings.var_dir / "storage" / "jobs" / job_id
    return sorted(p.name for p in root.glob("*")) if root.exists() else []


def test_cancel_then_delete_mid_render_leaves_no_files_over_twenty_trials(settings, monkeypatch):
    """The worker has drawn the files; a cancel and a delete land before it stores them."""
    rendered, cleared = threading.Event(), threading.Event()

    def fake_render(bound: Any, work: Path, formats: list[str], *_: Any) -> tuple[dict[str, Path], dict[str, float]]:
        files = {}
        for fmt in formats:
            files[fmt] = work / f"notes.{fmt}"
            files[fmt].write_bytes(b"%PDF-1.7 a file" if fmt == "pdf" else b"PK a file")
        rendered.set()
        cleared.wait(10)  # the person cancels and deletes now
        return files, {}

    monkeypatch.setattr(pipeline, "render_job", fake_render)
    monkeypatch.setattr(pipeline, "qa_check", lambda files, bound: [])
    monkeypatch.setattr(pipeline, "previews", lambda pdf, work: [pdf])  # one "page"
    left: dict[str, list[str]] = {}
    for _ in range(20):
        rendered.clear()
        cleared.clear()
        job_id = planned_job(settings)
        worker = threading.Thread(target=pipeline.render_stage, args=(job_id, settings))
        worker.start()
        assert rendered.wait(10)
        job_service.cancel(job_id, "o", settings)
        job_service.delete(job_id, "o", settings, get_storage(settings))
        cleared.set()
        worker.join(10)
        assert not worker.is_alive()
        if found := objects(settings, job_id):
            left[job_id] = found
    assert left == {}


def test_a_render_that_finishes_stores_its_files(settings):
    job_id = planned_job(settings)
    pipeline.render_stage(job_id, settings)
    with lifecycle.locked(job_id, settings) as j:
        assert j.status == JobStatus.SUCCEEDED, j.error_message
    assert {"docx", "pdf"} <= set(objects(settings, job_id))


def finished_job(settings: Settings) -> str:
    job, _ = lifecycle.create_job("o", lifecycle.JobSpec("p", [], ["pdf"]), settings=settings)
    with lifecycle.locked(job.id, settings) as j:
        lifecycle.fail(j, "boom", "it broke")
    return job.id


def outcome(call: Any) -> str:
    try:
        call()
        return "done"
    except DocagentError as e:
        return e.code


def test_five_concurrent_deletes_of_one_job_delete_it_once(settings):
    for _ in range(5):
        job_id = finished_job(settings)
        delete = partial(job_service.delete, job_id, "o", settings, get_storage(settings))
        with ThreadPoolExecutor(5) as pool:
            results = [f.result() for f in [pool.submit(outcome, delete) for _ in range(5)]]
        assert sorted(results) == ["done", "job_not_found", "job_not_found", "job_not_found", "job_not_found"]


def test_a_retry_and_a_delete_racing_never_both_succeed(settings, monkeypatch):
    monkeypatch.setattr(job_service, "enqueue", lambda job_id: None)
    for _ in range(10):
        job_id = finished_job(settings)
        retry = partial(job_service.retry, job_id, "o", settings)
        delete = partial(job_service.delete, job_id, "o", settings, get_storage(settings))
        with ThreadPoolExecutor(2) as pool:
            retried, deleted = pool.submit(outcome, retry), pool.submit(outcome, delete)
            pair = (retried.result(), deleted.result())
        # either the retry won (the queued job cannot be deleted) or the delete did (nothing to retry)
        assert pair in {("done", "illegal_transition"), ("job_not_found", "done")}, pair
        with session(settings) as s:
            row = s.get(JobRow, job_id)
            assert (row.status if row else None) == (JobStatus.QUEUED if pair[0] == "done" else None)
