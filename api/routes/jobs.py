"""/v1/jobs: create (JSON or one-shot upload), read, list, plan, artifacts, events, cancel, retry, revise."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, HTTPException, Query, Request, UploadFile, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy import func, select

from api.deps import OwnerDep, SettingsDep, StorageDep
from api.routes.datasets import check_length, ingest_upload, owned
from api.schemas import (
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
from docagent.errors import PlanError
from docagent.plans import diff
from docagent.records import create_job, download_name
from docagent.revisions import RevisionRefused, check_given, revision_of
from docagent.settings import Settings
from docagent.store import FINAL, ArtifactRow, JobRow, now, session
from workers.app import enqueue

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def public(job: JobRow, artifacts: list[ArtifactRow], parent_plan: dict | None = None) -> JobPublic:
    usage = {k: v for k, v in (job.usage or {}).items() if k in UsagePublic.model_fields}
    return JobPublic(
        id=job.id,
        status=job.status,
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
            )
            for a in sorted(artifacts, key=lambda a: ("docx", "xlsx", "pdf").index(a.format))
        ],
    )


def load(job_id: str, owner: str, settings: Settings) -> JobPublic:
    with session(settings) as s:
        job = s.get(JobRow, job_id)
        if job is None or job.owner != owner:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "job not found")
        artifacts = list(s.scalars(select(ArtifactRow).where(ArtifactRow.job_id == job_id)))
        parent = s.get(JobRow, job.parent_id) if job.parent_id else None
        return public(job, artifacts, parent.plan if parent is not None else None)


def check_quota(owner: str, settings: Settings) -> None:
    """Per-key rate of job creation and cap on unfinished jobs, counted in the job store (shared by replicas)."""
    since = now() - dt.timedelta(seconds=60)
    with session(settings) as s:
        recent = s.scalars(
            select(JobRow.created_at)
            .where(JobRow.owner == owner, JobRow.created_at >= since)
            .order_by(JobRow.created_at)
        ).all()
        running = s.scalar(select(func.count()).where(JobRow.owner == owner, JobRow.status.not_in(FINAL))) or 0
    if len(recent) >= settings.jobs_per_minute:
        oldest = recent[0] if recent[0].tzinfo else recent[0].replace(tzinfo=dt.UTC)
        wait = max(1, int(60 - (now() - oldest).total_seconds()) + 1)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit: {settings.jobs_per_minute} jobs per minute per key",
            {"Retry-After": str(wait)},
        )
    if running >= settings.max_concurrent_jobs:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"{running} unfinished jobs: at most {settings.max_concurrent_jobs} per key run at once",
            {"Retry-After": "10"},
        )


def submit(body: JobCreate, owner: str, settings: Settings, key: str | None) -> JobAccepted:
    if key:
        with session(settings) as s:
            existing = s.scalars(select(JobRow).where(JobRow.owner == owner, JobRow.idempotency_key == key)).first()
        if existing is not None:
            return JobAccepted(id=existing.id, status=existing.status)
    check_quota(owner, settings)
    for dataset_id in body.dataset_ids:
        owned(dataset_id, owner, settings)  # 404 for a dataset that is not yours
    if body.plan is not None:
        try:
            body.plan = check_given(body.plan, body.dataset_ids, settings).model_dump(mode="json")
        except PlanError as e:  # nothing is queued for a plan that cannot render
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": str(e), "problems": e.problems}
            ) from None
    job, created = create_job(
        owner,
        body.prompt,
        body.dataset_ids,
        list(body.formats),
        body.planner,
        body.theme,
        body.language,
        key,
        settings=settings,
        given_plan=body.plan,
    )
    if created:
        enqueue(job.id)
    return JobAccepted(id=job.id, status=job.status)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted)
def create(
    body: JobCreate, owner: OwnerDep, settings: SettingsDep, idempotency_key: IdempotencyKey = None
) -> JobAccepted:
    return submit(body, owner, settings, idempotency_key)


@router.post("/upload", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted)
async def create_with_upload(
    request: Request,
    owner: OwnerDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File()],
    prompt: Annotated[str | None, Form(max_length=20_000)] = None,
    plan: Annotated[str | None, Form(max_length=2_000_000, description="a plan as JSON: no model call")] = None,
    formats: Annotated[str, Form()] = "docx,xlsx,pdf",
    planner: Annotated[str, Form()] = "auto",
    theme: Annotated[str | None, Form()] = None,
    language: Annotated[str | None, Form()] = None,
    idempotency_key: IdempotencyKey = None,
) -> JobAccepted:
    """One request: upload data files and submit the job."""
    check_length(request, settings)
    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    try:
        given = json.loads(plan) if plan else None
    except json.JSONDecodeError as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"plan: not JSON ({e})") from None
    try:
        fields = {"prompt": prompt} if prompt is not None else {}
        body = JobCreate.model_validate(
            {
                **fields,
                "plan": given,
                "formats": fmts,
                "planner": planner,
                "theme": theme or None,
                "language": language or None,
            }
        )
    except ValidationError as e:
        raise RequestValidationError(e.errors()) from None
    rows = [await ingest_upload(f, None, owner, settings) for f in files if f.filename]
    body.dataset_ids = [r.id for r in rows]
    return submit(body, owner, settings, idempotency_key)


@router.post("/{job_id}/revise", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def revise(
    job_id: str, body: JobRevise, owner: OwnerDep, settings: SettingsDep, idempotency_key: IdempotencyKey = None
) -> JobPublic:
    """A new job: the model changes this job's plan as the instruction says; the diff shows once it is planned."""
    load(job_id, owner, settings)
    with session(settings) as s:
        parent = s.get(JobRow, job_id)
    assert parent is not None
    try:
        fields = revision_of(parent, settings)
    except RevisionRefused as e:
        raise HTTPException(status.HTTP_409_CONFLICT, {"code": e.code, "message": str(e)}) from None
    check_quota(owner, settings)
    dataset_ids = parent.dataset_ids if body.dataset_ids is None else body.dataset_ids
    for dataset_id in dataset_ids:
        owned(dataset_id, owner, settings)
    job, created = create_job(
        owner,
        fields["prompt"],
        list(dataset_ids),
        list(body.formats or fields["formats"]),
        "llm",
        fields["theme"],
        fields["language"],
        idempotency_key,
        settings=settings,
        given_plan=fields["given_plan"],
        instruction=body.instruction,
        parent_id=parent.id,
    )
    if created:
        enqueue(job.id)
    return load(job.id, owner, settings)


@router.get("", response_model=JobsPublic)
def list_jobs(
    owner: OwnerDep,
    settings: SettingsDep,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(queued|planning|rendering|succeeded|failed|canceled)$")
    ] = None,
    skip: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(20, ge=1, le=100),
) -> JobsPublic:
    with session(settings) as s:
        q = select(JobRow).where(JobRow.owner == owner)
        if status_:
            q = q.where(JobRow.status == status_)
        count = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        jobs = list(s.scalars(q.order_by(JobRow.created_at.desc(), JobRow.id).offset(skip).limit(limit)))
        ids = [j.id for j in jobs]
        arts: dict[str, list[ArtifactRow]] = {i: [] for i in ids}
        for a in s.scalars(select(ArtifactRow).where(ArtifactRow.job_id.in_(ids))):
            arts[a.job_id].append(a)
        return JobsPublic(data=[public(j, arts[j.id]) for j in jobs], count=count)


@router.get("/{job_id}", response_model=JobPublic)
def get(job_id: str, owner: OwnerDep, settings: SettingsDep) -> JobPublic:
    return load(job_id, owner, settings)


@router.get("/{job_id}/plan")
def get_plan(job_id: str, owner: OwnerDep, settings: SettingsDep) -> dict:
    load(job_id, owner, settings)
    with session(settings) as s:
        job = s.get(JobRow, job_id)
        if job is None or job.plan is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "the job has no plan yet")
        return job.plan


@router.get("/{job_id}/artifacts/{fmt}")
def download(job_id: str, fmt: str, owner: OwnerDep, settings: SettingsDep, storage: StorageDep) -> StreamingResponse:
    load(job_id, owner, settings)
    with session(settings) as s:
        job = s.get(JobRow, job_id)
        art = s.scalars(select(ArtifactRow).where(ArtifactRow.job_id == job_id, ArtifactRow.format == fmt)).first()
    if job is None or art is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the job has no {fmt} file")
    name = download_name(job, fmt)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    from urllib.parse import quote

    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Content-Length": str(art.bytes),
    }
    stream = storage.open(art.storage_key)

    def chunks():
        with stream:
            while data := stream.read(1 << 16):
                yield data

    return StreamingResponse(chunks(), media_type=CONTENT_TYPES[fmt], headers=headers)


@router.get("/{job_id}/preview/{page}")
def preview(job_id: str, page: int, owner: OwnerDep, settings: SettingsDep, storage: StorageDep) -> Response:
    job = load(job_id, owner, settings)
    if not 1 <= page <= len(job.previews):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no preview of that page")
    with storage.open(f"jobs/{job_id}/preview-{page}.png") as f:
        data = f.read()
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{job_id}/events")
async def events(job_id: str, owner: OwnerDep, settings: SettingsDep, request: Request) -> StreamingResponse:
    """Server-sent events: one `status` event per change, until the job ends."""
    await asyncio.to_thread(load, job_id, owner, settings)

    async def stream() -> AsyncIterator[str]:
        last = None
        idle = 0
        while not await request.is_disconnected():
            job = await asyncio.to_thread(load, job_id, owner, settings)
            state = (job.status, job.progress)
            if state != last:
                last, idle = state, 0
                data = {"id": job.id, "status": job.status, "progress": job.progress}
                if job.error:
                    data["error"] = job.error.model_dump()
                yield f"event: status\ndata: {json.dumps(data)}\n\n"
                if job.status in FINAL:
                    return
            else:
                idle += 1
                if idle % 30 == 0:
                    yield ": keep-alive\n\n"
            await asyncio.sleep(0.5)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/{job_id}/cancel", response_model=JobAccepted)
def cancel(job_id: str, owner: OwnerDep, settings: SettingsDep) -> JobAccepted:
    load(job_id, owner, settings)
    with session(settings) as s:
        job = s.get(JobRow, job_id, with_for_update=True)
        assert job is not None
        if job.status in FINAL:
            raise HTTPException(status.HTTP_409_CONFLICT, f"the job has already {job.status}")
        job.status, job.finished_at, job.stage = "canceled", now(), None
        return JobAccepted(id=job.id, status=job.status)


@router.post("/{job_id}/retry", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted)
def retry(job_id: str, owner: OwnerDep, settings: SettingsDep) -> JobAccepted:
    load(job_id, owner, settings)
    with session(settings) as s:
        job = s.get(JobRow, job_id, with_for_update=True)
        assert job is not None
        if job.status != "failed":
            raise HTTPException(status.HTTP_409_CONFLICT, f"only a failed job can be retried; this one is {job.status}")
        job.status, job.progress, job.error_code, job.error_message = "queued", 0.0, None, None
        job.plan, job.finished_at, job.stage = None, None, None
    enqueue(job_id)
    return JobAccepted(id=job_id, status="queued")
