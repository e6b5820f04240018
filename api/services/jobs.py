"""Jobs: submit (idempotent, within the owner's limits), read, list, files, cancel, retry, revise, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select

from docagent.api.schemas import (
    ArtifactFilePublic,
    ArtifactPublic,
    ErrorPublic,
    JobAccepted,
    JobCreate,
    JobPublic,
    JobRevise,
    JobsPublic,
    PlanDiffPublic,
    PlannerInfo,
    UsagePublic,
)
from docagent.api.services.brands import check_choice
from docagent.api.services.common import owned
from docagent.api.services.datasets import get_row as dataset_row
from docagent.engine import i18n
from docagent.engine.formats import ARTIFACT_ORDER
from docagent.engine.planfile import diff
from docagent.engine.templatefiles.check import named_templates
from docagent.errors import ArtifactNotFound, JobNotFound, ModelNotConfigured, NothingToPlan
from docagent.service import lifecycle
from docagent.service.brands import named_images, with_images
from docagent.service.lifecycle import JobSpec, JobStatus
from docagent.service.revisions import check_given, revision_of
from docagent.service.storage import Storage
from docagent.service.store import ArtifactRow, DatasetRow, JobRow, session
from docagent.settings import Settings
from docagent.workers.app import enqueue


def public(job: JobRow, artifacts: list[ArtifactRow], parent_plan: dict[str, Any] | None = None) -> JobPublic:
    usage = {k: v for k, v in (job.usage or {}).items() if k in UsagePublic.model_fields}
    return JobPublic(
        id=job.id,
        status=JobStatus(job.status),
        progress=job.progress,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        prompt=job.prompt,
        formats=job.formats,
        dataset_ids=job.dataset_ids,
        schedule_id=job.schedule_id,
        stage=job.stage,
        parent_id=job.parent_id,
        instruction=job.instruction,
        brand=job.brand,
        warnings=list(job.warnings or []),
        diff=PlanDiffPublic(**diff(parent_plan, job.plan).as_dict()) if parent_plan and job.plan else None,
        previews=[f"/v1/jobs/{job.id}/preview/{n}" for n in range(1, (job.previews or 0) + 1)],
        planner=PlannerInfo(name=job.planner_name, model=job.model, fallback_reason=job.fallback_reason),
        usage=UsagePublic(**usage),
        error=ErrorPublic(code=job.error_code, message=job.error_message or "") if job.error_code else None,
        artifacts=[
            ArtifactPublic(
                format=a.format,
                filename=a.filename,
                bytes=a.bytes,
                url=f"/v1/jobs/{job.id}/artifacts/{a.format}",
                provenance=a.provenance,
                files=burst_files(job.id, a),
            )
            for a in sorted(artifacts, key=lambda a: ARTIFACT_ORDER.index(a.format))
        ],
    )


def get_row(job_id: str, owner: str, settings: Settings) -> JobRow:
    return owned(JobRow, job_id, owner, settings, JobNotFound, "job")


def load(job_id: str, owner: str, settings: Settings) -> JobPublic:
    job = get_row(job_id, owner, settings)
    with session(settings) as s:
        artifacts = list(s.scalars(select(ArtifactRow).where(ArtifactRow.job_id == job_id)))
        parent = s.get(JobRow, job.parent_id) if job.parent_id else None
    return public(job, artifacts, parent.plan if parent is not None else None)


def has_data(dataset_ids: list[str], settings: Settings) -> bool:
    """Whether any of these is a dataset rather than an image or template (they give the rules planner nothing)."""
    if not dataset_ids:
        return False
    with session(settings) as s:
        kinds = s.scalars(select(DatasetRow.kind).where(DatasetRow.id.in_(dataset_ids))).all()
    return not kinds or any(k not in ("image", "template") for k in kinds)


def check_planner(body: JobCreate, settings: Settings) -> None:
    """The model planner on a server with no model is refused: the job could only fail."""
    if body.plan is None and body.planner == "llm" and not settings.llm_base_url:
        raise ModelNotConfigured(
            "the model planner was chosen, but no model is configured on this server: "
            "choose the auto or rules planner, which build the document from your data"
        )


def check_plannable(body: JobCreate, settings: Settings) -> None:
    """A job no planner can plan is refused before anything is queued, not failed later."""
    if body.plan is not None:  # a given plan needs no planner
        return
    check_planner(body, settings)
    if has_data(body.dataset_ids, settings):
        return
    if not settings.llm_base_url:
        raise NothingToPlan(
            "no data was chosen, and no model is configured on this server to plan from the prompt alone: "
            "upload or choose a dataset"
        )
    if body.planner == "rules":
        raise NothingToPlan(
            "the rules planner needs data: upload or choose a dataset, or use the auto or model planner"
        )


def submit(body: JobCreate, owner: str, settings: Settings, idempotency_key: str | None = None) -> JobAccepted:
    """Queue a job (a repeated idempotency key returns the first job, even past the limits)."""
    if idempotency_key and (existing := lifecycle.find_by_key(owner, idempotency_key, settings)) is not None:
        return JobAccepted(id=existing.id, status=JobStatus(existing.status))
    i18n.check_language(body.language)  # 422 listing what docagent writes, before anything is queued
    for dataset_id in body.dataset_ids:
        dataset_row(dataset_id, owner, settings)  # "not found" for a dataset that is not yours
    check_plannable(body, settings)
    kit = check_choice(body.brand, owner, settings)  # an unknown kit: 422 naming the kits there are
    if body.plan is not None:  # a plan that cannot render is refused with every problem; nothing is queued
        if kit is not None and isinstance(body.plan.get("meta"), dict):  # checked as it will render
            body.plan = {**body.plan, "meta": {**body.plan["meta"], "brand": kit.model_dump(mode="json")}}
        body.dataset_ids = with_images(owner, body.dataset_ids, named_images(body.plan), settings)
        body.dataset_ids = with_images(owner, body.dataset_ids, named_templates(body.plan), settings, "template")
        body.plan = check_given(body.plan, body.dataset_ids, settings).model_dump(mode="json")
    spec = JobSpec(
        body.prompt,
        body.dataset_ids,
        list(body.formats),
        body.planner,
        body.theme,
        body.language,
        body.brand,
        given_plan=body.plan,
    )
    # counted in the transaction that writes the job: a race cannot pass the cap
    job, created = lifecycle.create_job(owner, spec, idempotency_key=idempotency_key, settings=settings, limits=True)
    if created:
        enqueue(job.id)
    return JobAccepted(id=job.id, status=JobStatus(job.status))


def revise(
    job_id: str, body: JobRevise, owner: str, settings: Settings, idempotency_key: str | None = None
) -> JobPublic:
    """A new job whose model request carries this job's plan and the instruction; linked by parent_id."""
    parent = get_row(job_id, owner, settings)
    if idempotency_key and (existing := lifecycle.find_by_key(owner, idempotency_key, settings)) is not None:
        return load(existing.id, owner, settings)
    spec = revision_of(parent, body.instruction, settings)
    if body.dataset_ids is not None:
        spec = replace(spec, dataset_ids=list(body.dataset_ids))
    if body.formats:
        spec = replace(spec, formats=list(body.formats))
    for dataset_id in spec.dataset_ids:
        dataset_row(dataset_id, owner, settings)
    # a revision is a job like any other: counted against the key's limits
    job, created = lifecycle.create_job(owner, spec, idempotency_key=idempotency_key, settings=settings, limits=True)
    if created:
        enqueue(job.id)
    return load(job.id, owner, settings)


def list_jobs(
    owner: str, settings: Settings, status: JobStatus | None = None, skip: int = 0, limit: int = 20
) -> JobsPublic:
    with session(settings) as s:
        q = select(JobRow).where(JobRow.owner == owner)
        if status:
            q = q.where(JobRow.status == status)
        count = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        jobs = list(s.scalars(q.order_by(JobRow.created_at.desc(), JobRow.id).offset(skip).limit(limit)))
        ids = [j.id for j in jobs]
        arts: dict[str, list[ArtifactRow]] = {i: [] for i in ids}
        for a in s.scalars(select(ArtifactRow).where(ArtifactRow.job_id.in_(ids))):
            arts[a.job_id].append(a)
        return JobsPublic(data=[public(j, arts[j.id]) for j in jobs], count=count)


def plan_of(job_id: str, owner: str, settings: Settings) -> dict[str, Any]:
    job = get_row(job_id, owner, settings)
    if job.plan is None:
        raise ArtifactNotFound("the job has no plan yet")
    return job.plan


def artifact(job_id: str, fmt: str, owner: str, settings: Settings) -> tuple[JobRow, ArtifactRow]:
    job = get_row(job_id, owner, settings)
    with session(settings) as s:
        art = s.scalars(select(ArtifactRow).where(ArtifactRow.job_id == job_id, ArtifactRow.format == fmt)).first()
    if art is None:
        raise ArtifactNotFound(f"the job has no {fmt} file")
    return job, art


def burst_files(job_id: str, art: ArtifactRow) -> list[ArtifactFilePublic]:
    """A burst zip's documents, each downloadable on its own."""
    names = (art.provenance or {}).get("files", []) if art.format == "zip" else []
    return [ArtifactFilePublic(name=n, url=f"/v1/jobs/{job_id}/artifacts/zip/{quote(n)}") for n in names]


def burst_member(job_id: str, name: str, owner: str, settings: Settings) -> tuple[ArtifactRow, str]:
    """The zip holding one document of a burst, and the member's name; not found unless the burst listed it."""
    _, art = artifact(job_id, "zip", owner, settings)
    if name not in (art.provenance or {}).get("files", []):
        raise ArtifactNotFound(f"the job's burst has no file {name!r}")
    return art, name


def preview_key(job_id: str, page: int, owner: str, settings: Settings) -> str:
    job = get_row(job_id, owner, settings)
    if not 1 <= page <= (job.previews or 0):
        raise ArtifactNotFound("no preview of that page")
    return f"jobs/{job_id}/preview-{page}.png"


def cancel(job_id: str, owner: str, settings: Settings) -> JobAccepted:
    get_row(job_id, owner, settings)
    with lifecycle.locked(job_id, settings) as job:
        lifecycle.cancel(job)
        return JobAccepted(id=job.id, status=JobStatus(job.status))


def retry(job_id: str, owner: str, settings: Settings) -> JobAccepted:
    row = get_row(job_id, owner, settings)
    check_choice(row.brand, owner, settings)  # a kit that cannot work fails the retry the same way: say so now
    with session(settings) as s:
        lifecycle.lock_owner(s, owner)
        job = lifecycle.lock_row(s, job_id)  # a delete of this job waits, or has already won
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        if job.status in lifecycle.RETRYABLE:  # an illegal retry is refused as such, not counted
            lifecycle.admit(s, owner, settings)  # a retry is held to the limits like a new job
        lifecycle.retry(job)
        accepted = JobAccepted(id=job.id, status=JobStatus(job.status))
    enqueue(job_id)
    return accepted


PREVIEW_PAGES = 3  # the most preview pages a render writes (renderers/preview.py)


def delete(job_id: str, owner: str, settings: Settings, storage: Storage) -> str:
    """Delete a finished job with its files (artifacts and previews); its datasets stay. Returns its prompt."""
    get_row(job_id, owner, settings)
    with session(settings) as s:
        # serialised with other deletes, a retry, a cancel and every file a worker writes
        job = lifecycle.lock_row(s, job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        lifecycle.check_deletable(job)
        keys = set(s.scalars(select(ArtifactRow.storage_key).where(ArtifactRow.job_id == job_id)))
        # a job canceled while rendering may have written files it never recorded
        keys |= {f"jobs/{job_id}/{fmt}" for fmt in [*job.formats, "zip"]}
        keys |= {f"jobs/{job_id}/preview-{n}.png" for n in range(1, max(job.previews or 0, PREVIEW_PAGES) + 1)}
        prompt = job.prompt
        s.execute(sql_delete(ArtifactRow).where(ArtifactRow.job_id == job_id))
        s.delete(job)
    # after the rows are gone: a file without a row is only garbage, never a broken link; and none is
    # written after this, since a worker writes a file only under the job's lock while its row exists
    for key in sorted(keys):
        storage.delete(key)
    return prompt
