"""Jobs by id: what the API records and the Celery tasks run. Plain functions, no Celery here.

Each stage is idempotent, so a redelivered task (acks_late after a worker died)
repeats or skips work without duplicating artifacts.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import add_joins, profile
from docagent.engine.plan import Brand, Plan, is_templated
from docagent.engine.planfile import parse
from docagent.engine.planners import Planned
from docagent.engine.provenance import file_sha256, provenance
from docagent.engine.templatefiles.check import named_templates
from docagent.engine.validate import validate
from docagent.errors import DatasetNotFound, DocagentError, InvalidBrand, JobNotFound, PlanError
from docagent.pipeline.generate import given_plan, plan_job, render_job, revise_plan
from docagent.pipeline.templated import render_templated
from docagent.renderers.preview import deck_previews, previews
from docagent.renderers.qa import check as qa_check
from docagent.service import lifecycle
from docagent.service.brands import kit_of, latest_image, named_images, with_images
from docagent.service.lifecycle import JobStatus
from docagent.service.records import load_stored
from docagent.service.schedules import resolve_source
from docagent.service.storage import get_storage
from docagent.service.store import ArtifactRow, DatasetRow, JobRow, session
from docagent.settings import Settings, get_settings


def _catalog_for(job: JobRow, settings: Settings) -> tuple[Catalog, list[Any]]:
    catalog = Catalog(settings=settings)
    profiles = []
    try:
        with session(settings) as s:
            rows = [s.get(DatasetRow, i) for i in job.dataset_ids]
        for row in rows:
            if row is None:
                raise DatasetNotFound("a dataset of this job was deleted")
            if row.kind == "template":
                with get_storage(settings).local_path(row.storage_key) as path:
                    catalog.add_template(path, row.name)
                continue
            for ds in load_stored(catalog, row, settings):
                profiles.append(profile(catalog, ds))
        add_joins(catalog, profiles)
    except BaseException:
        catalog.close()
        raise
    return catalog, profiles


def _plan(job: JobRow, catalog: Catalog, profiles: list[Any], settings: Settings) -> Planned:
    """From the prompt; or the given plan as is (no model call); or the given plan revised by the model."""
    if job.given_plan is None:
        return plan_job(catalog, profiles, job.prompt, [], job.planner_requested, job.theme, job.language, settings)
    if job.instruction:
        previous = parse(job.given_plan)
        return revise_plan(catalog, profiles, previous, job.instruction, [], job.theme, job.language, settings)
    try:
        return given_plan(catalog, job.given_plan, job.theme)
    except PlanError as e:
        # A frozen plan that no longer fits fresh data: re-plan only when the schedule allows it and can.
        if not (job.replan_on_mismatch and settings.llm_base_url and job.prompt.strip()):
            raise
        planned = plan_job(catalog, profiles, job.prompt, [], "llm", job.theme, job.language, settings)
        why = "the frozen plan no longer fits the data, so it was planned again: " + "; ".join(e.problems)
        planned.fallback_reason = why + (f" ({planned.fallback_reason})" if planned.fallback_reason else "")
        return planned


def _brand_kit(job: JobRow, settings: Settings) -> Brand | None:
    return kit_of(job.owner, job.brand, settings) if job.brand else None


def _with_images(job: JobRow, kit: Brand | None, settings: Settings) -> JobRow:
    """The job with the images its kit and its given plan name among its files, like data files."""
    names = named_images(job.given_plan) + ([kit.logo] if kit is not None and kit.logo else [])
    # a frozen plan's template travels by name too: a schedule's fresh source replaces the ids it had
    ids = with_images(job.owner, list(job.dataset_ids), named_templates(job.given_plan), settings, "template")
    if ids != job.dataset_ids:
        job = lifecycle.set_datasets(job.id, ids, settings)
    if not names:
        return job
    if kit is not None and kit.logo and latest_image(job.owner, kit.logo, settings) is None:
        raise InvalidBrand([f"brand {job.brand!r}: its logo {kit.logo!r} is no longer among your images; upload it"])
    ids = with_images(job.owner, list(job.dataset_ids), names, settings)
    return job if ids == job.dataset_ids else lifecycle.set_datasets(job.id, ids, settings)


def _provenance(job: JobRow, plan: Plan, settings: Settings) -> dict[str, Any]:
    storage = get_storage(settings)
    datasets = []
    with session(settings) as s:
        rows = [s.get(DatasetRow, i) for i in job.dataset_ids]
    for row in rows:
        if row is None:
            continue
        with storage.local_path(row.storage_key) as path:
            digest = file_sha256(path)
        datasets.append({"id": row.id, "name": row.name, "version": row.version, "sha256": digest})
    return provenance(plan, datasets)


def plan_stage(job_id: str, settings: Settings | None = None) -> bool:
    """Plan the job; True when rendering should follow."""
    settings = settings or get_settings()
    with lifecycle.locked(job_id, settings) as job:
        if lifecycle.is_final(job.status):
            return False
        if lifecycle.is_rendering(job):
            return True  # redelivered after planning finished
        lifecycle.start_planning(job)
        attempt = job.attempts
    t = time.perf_counter()
    try:
        if job.source:  # a scheduled run reads its source fresh, now
            job = lifecycle.set_datasets(job_id, resolve_source(job, settings), settings)
        kit = _brand_kit(job, settings)
        job = _with_images(job, kit, settings)  # a logo or a frozen plan's images travel like data files
        catalog, profiles = _catalog_for(job, settings)
        with catalog:
            planned = _plan(job, catalog, profiles, settings)
        if kit is not None:
            planned.plan.meta.brand = kit  # a kit the person chose wins over the planner's own meta.brand
    except DocagentError as e:
        end_failed(job_id, e.code, str(e), settings, attempt)
        return False
    with lifecycle.locked(job_id, settings) as current:
        if not _owned_by(current, attempt):
            return False
        current.plan = planned.plan.model_dump(mode="json")
        current.planner_name, current.model = planned.planner, planned.model
        current.fallback_reason, current.usage = planned.fallback_reason, asdict(planned.usage)
        current.timings = {**(current.timings or {}), "plan": round(time.perf_counter() - t, 3)}
        lifecycle.start_rendering(current)
    return True


def render_stage(job_id: str, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    with lifecycle.locked(job_id, settings) as job:
        if lifecycle.is_final(job.status) or job.plan is None:
            return
        lifecycle.start_rendering(job, progress=0.6)
    work = Path(tempfile.mkdtemp(prefix="docagent-render-"))
    t = time.perf_counter()
    try:
        catalog, _ = _catalog_for(job, settings)
        members: list[str] = []
        with catalog:
            plan = validate(Plan.model_validate(job.plan), catalog)
            if is_templated(plan):  # a filled template, or a burst: one document per value, in a zip
                written = render_templated(plan, catalog, work, job.formats, job.theme, settings)
                files, bound, checked, members = written.files, written.bound, written.checked, written.members
            else:
                bound = bind(plan, catalog)
        if not is_templated(plan):
            files, _times = render_job(bound, work, job.formats, job.theme, settings)
            checked = files
        warnings = qa_check(checked, bound)  # what the QA pass could not fix is kept on the job
        origin = _provenance(job, plan, settings)
        records = []
        for fmt, path in files.items():
            key = f"jobs/{job_id}/{fmt}"
            size = _store(job_id, key, path, settings)
            if size is None:
                return
            meta = {**origin, "files": members} if fmt == "zip" else origin  # a burst lists its documents
            records.append(
                ArtifactRow(job_id=job_id, format=fmt, filename=path.name, bytes=size, storage_key=key, provenance=meta)
            )
        pages = previews(files["pdf"], work) if "pdf" in files else []
        if not pages and "pptx" in files:  # a deck without a PDF: its first slides, where LibreOffice is present
            pages = deck_previews(files["pptx"], work)
        for n, png in enumerate(pages, 1):
            if _store(job_id, f"jobs/{job_id}/preview-{n}.png", png, settings) is None:
                return
        with session(settings) as s:
            current = s.get(JobRow, job_id, with_for_update=True)
            if current is None or current.status == JobStatus.CANCELED:
                return
            s.execute(delete(ArtifactRow).where(ArtifactRow.job_id == job_id))  # a redelivery replaces, never adds
            s.add_all(records)
            lifecycle.succeed(current)
            current.previews = len(pages)
            current.warnings = warnings
            current.timings = {**(current.timings or {}), "render": round(time.perf_counter() - t, 3)}
    except DocagentError as e:
        end_failed(job_id, e.code, str(e), settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _store(job_id: str, key: str, path: Path, settings: Settings) -> int | None:
    """Write one of the job's files only while its row says it may be written: under the job's lock,
    the job still there and rendering. A cancel or a delete takes the same lock, so no file lands
    after either (None: stop rendering)."""
    try:
        with lifecycle.locked(job_id, settings) as current:
            if current.status != JobStatus.RENDERING:
                return None
            return get_storage(settings).put(key, path)
    except JobNotFound:  # deleted meanwhile
        return None


def fail_unexpected(job_id: str, error: BaseException, settings: Settings | None = None) -> None:
    """The last word on a job whose task crashed with an error we did not foresee."""
    end_failed(job_id, "internal_error", f"{type(error).__name__}: {error}", settings or get_settings())


def _owned_by(job: JobRow, attempt: int) -> bool:
    """Whether the plan task that started `attempt` still owns the job: not if it was canceled or given up
    on while planning, nor if it was retried or re-sent and a newer attempt took it."""
    return job.status == JobStatus.PLANNING and job.attempts == attempt


def end_failed(job_id: str, code: str, message: str, settings: Settings, attempt: int | None = None) -> None:
    """Fail the job unless it already ended (a cancel that won the race stays canceled) or, for a plan task's
    `attempt`, a newer attempt owns it."""
    with lifecycle.locked(job_id, settings) as job:
        if not lifecycle.is_final(job.status) and (attempt is None or _owned_by(job, attempt)):
            lifecycle.fail(job, code, message)


__all__ = ["plan_stage", "render_stage"]
