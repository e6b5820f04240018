"""/v1/jobs: create (JSON or one-shot upload), read, list, plan, artifacts, events, cancel, retry, revise, delete."""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from docagent.api.deps import OwnerDep, SettingsDep, StorageDep
from docagent.api.schemas import JobAccepted, JobCreate, JobPublic, JobRevise, JobsPublic
from docagent.api.services import brands, datasets, jobs
from docagent.engine.formats import CONTENT_TYPES, DEFAULT_FORMATS
from docagent.errors import DocagentError, PlanError
from docagent.service.lifecycle import JobStatus, is_final
from docagent.service.records import download_name

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted)
def create(
    body: JobCreate, owner: OwnerDep, settings: SettingsDep, idempotency_key: IdempotencyKey = None
) -> JobAccepted:
    return jobs.submit(body, owner, settings, idempotency_key)


@router.post("/upload", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted)
async def create_with_upload(
    request: Request,
    owner: OwnerDep,
    settings: SettingsDep,
    storage: StorageDep,
    files: Annotated[list[UploadFile], File()],
    prompt: Annotated[str | None, Form(max_length=20_000)] = None,
    plan: Annotated[str | None, Form(max_length=2_000_000, description="a plan as JSON: no model call")] = None,
    formats: Annotated[str, Form()] = ",".join(DEFAULT_FORMATS),
    planner: Annotated[str, Form()] = "auto",
    theme: Annotated[str | None, Form()] = None,
    brand: Annotated[str | None, Form(max_length=64)] = None,
    language: Annotated[str | None, Form()] = None,
    idempotency_key: IdempotencyKey = None,
) -> JobAccepted:
    """One request: upload data files (and PNG, JPEG or SVG images for image blocks) and submit the job."""
    datasets.check_length(request.headers.get("content-length"), settings)
    fmts = [f.strip() for f in formats.split(",") if f.strip()]
    try:
        given = json.loads(plan) if plan else None
    except json.JSONDecodeError as e:
        raise PlanError([f"the plan is not JSON: {e}"]) from None
    try:
        body = JobCreate.model_validate(
            {
                **({"prompt": prompt} if prompt is not None else {}),
                "plan": given,
                "formats": fmts,
                "planner": planner,
                "theme": theme or None,
                "brand": brand or None,
                "language": language or None,
            }
        )
    except ValidationError as e:
        raise RequestValidationError(e.errors()) from None
    brands.check_choice(body.brand, owner, settings)  # before any file is stored
    jobs.check_planner(body, settings)
    stored = [await datasets.ingest_upload(f, None, owner, settings) for f in files if f.filename]
    body.dataset_ids = [row.id for row, _ in stored]
    try:
        return jobs.submit(body, owner, settings, idempotency_key)
    except DocagentError:  # a refused job keeps none of the versions its files would have made
        for row, created in stored:
            if created:
                datasets.delete_dataset(row.id, owner, settings, storage)
        raise


@router.post("/{job_id}/revise", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def revise(
    job_id: str, body: JobRevise, owner: OwnerDep, settings: SettingsDep, idempotency_key: IdempotencyKey = None
) -> JobPublic:
    """A new job: the model changes this job's plan as the instruction says; `diff` shows once it is planned."""
    return jobs.revise(job_id, body, owner, settings, idempotency_key)


@router.get("", response_model=JobsPublic)
def list_jobs(
    owner: OwnerDep,
    settings: SettingsDep,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    skip: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(20, ge=1, le=100),
) -> JobsPublic:
    return jobs.list_jobs(owner, settings, status_, skip, limit)


@router.get("/{job_id}", response_model=JobPublic)
def get(job_id: str, owner: OwnerDep, settings: SettingsDep) -> JobPublic:
    return jobs.load(job_id, owner, settings)


@router.get("/{job_id}/plan")
def get_plan(job_id: str, owner: OwnerDep, settings: SettingsDep) -> dict[str, Any]:
    return jobs.plan_of(job_id, owner, settings)


@router.get("/{job_id}/artifacts/zip/{name}")
def download_burst_file(
    job_id: str, name: str, owner: OwnerDep, settings: SettingsDep, storage: StorageDep
) -> Response:
    """One document of a burst, read out of the job's zip."""
    art, member = jobs.burst_member(job_id, name, owner, settings)
    with storage.local_path(art.storage_key) as path, zipfile.ZipFile(path) as zf:
        data = zf.read(member)
    suffix = member.rsplit(".", 1)[-1]
    ascii_name = member.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    headers = {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(member)}"}
    return Response(data, media_type=CONTENT_TYPES.get(suffix, "application/octet-stream"), headers=headers)


@router.get("/{job_id}/artifacts/{fmt}")
def download(job_id: str, fmt: str, owner: OwnerDep, settings: SettingsDep, storage: StorageDep) -> StreamingResponse:
    job, art = jobs.artifact(job_id, fmt, owner, settings)
    name = download_name(job, fmt)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Content-Length": str(art.bytes),
    }
    stream = storage.open(art.storage_key)

    def chunks() -> Iterator[bytes]:
        with stream:
            while data := stream.read(1 << 16):
                yield data

    return StreamingResponse(chunks(), media_type=CONTENT_TYPES[fmt], headers=headers)


@router.get("/{job_id}/preview/{page}")
def preview(job_id: str, page: int, owner: OwnerDep, settings: SettingsDep, storage: StorageDep) -> Response:
    with storage.open(jobs.preview_key(job_id, page, owner, settings)) as f:
        data = f.read()
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{job_id}/events")
async def events(job_id: str, owner: OwnerDep, settings: SettingsDep, request: Request) -> StreamingResponse:
    """Server-sent events: one `status` event per change, until the job ends."""
    await asyncio.to_thread(jobs.load, job_id, owner, settings)

    async def stream() -> AsyncIterator[str]:
        last = None
        idle = 0
        while not await request.is_disconnected():
            job = await asyncio.to_thread(jobs.load, job_id, owner, settings)
            state = (job.status, job.progress)
            if state != last:
                last, idle = state, 0
                data: dict[str, Any] = {"id": job.id, "status": job.status, "progress": job.progress}
                if job.error:
                    data["error"] = job.error.model_dump()
                yield f"event: status\ndata: {json.dumps(data)}\n\n"
                if is_final(job.status):
                    return
            else:
                idle += 1
                if idle % 30 == 0:
                    yield ": keep-alive\n\n"
            await asyncio.sleep(0.5)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/{job_id}/cancel", response_model=JobAccepted)
def cancel(job_id: str, owner: OwnerDep, settings: SettingsDep) -> JobAccepted:
    return jobs.cancel(job_id, owner, settings)


@router.post("/{job_id}/retry", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted)
def retry(job_id: str, owner: OwnerDep, settings: SettingsDep) -> JobAccepted:
    return jobs.retry(job_id, owner, settings)


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(job_id: str, owner: OwnerDep, settings: SettingsDep, storage: StorageDep) -> Response:
    """Delete a finished job (succeeded, failed or canceled) and its files; its datasets stay.
    A queued or running job is a 409 `illegal_transition`: cancel it first."""
    jobs.delete(job_id, owner, settings, storage)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
