"""POST/GET/DELETE /v1/datasets: uploads are bounded while read (api.middleware), checked, profiled, stored."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile, status
from sqlalchemy import delete, func, select

from api.deps import OwnerDep, SettingsDep, StorageDep, owned_or_404
from api.schemas import DatasetDetail, DatasetPublic, DatasetsPublic
from docagent.errors import IngestError
from docagent.records import create_dataset
from docagent.store import DatasetRow, session

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
CHUNK = 1 << 20


def public(row: DatasetRow) -> DatasetPublic:
    return DatasetPublic.model_validate(row, from_attributes=True)


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"upload exceeds the limit of {limit / 2**20:.0f} MiB (DOCAGENT_MAX_UPLOAD_BYTES)",
    )


async def receive(upload: UploadFile, limit: int, workdir: Path) -> Path:
    """Copy the upload to disk in chunks, stopping as soon as it passes the limit."""
    target = workdir / "upload"
    size = 0
    with target.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            out.write(chunk)
    return target


async def ingest_upload(upload: UploadFile, name: str | None, owner: str, settings: SettingsDep) -> DatasetRow:
    workdir = Path(tempfile.mkdtemp(prefix="docagent-upload-"))
    try:
        path = await receive(upload, settings.max_upload_bytes, workdir)
        try:
            # parsing runs in a bounded child process; this thread only waits, the event loop never does
            return await asyncio.to_thread(create_dataset, path, upload.filename or "upload", name, owner, settings)
        except IngestError as e:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(e)) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DatasetPublic)
async def upload_dataset(
    settings: SettingsDep,
    owner: OwnerDep,
    file: Annotated[UploadFile, File()],
    name: Annotated[str | None, Form(max_length=200)] = None,
) -> DatasetPublic:
    return public(await ingest_upload(file, name, owner, settings))


@router.get("", response_model=DatasetsPublic)
def list_datasets(
    owner: OwnerDep,
    settings: SettingsDep,
    skip: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(50, ge=1, le=200),
) -> DatasetsPublic:
    with session(settings) as s:
        q = select(DatasetRow).where(DatasetRow.owner == owner)
        count = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = s.scalars(q.order_by(DatasetRow.created_at.desc()).offset(skip).limit(limit)).all()
        return DatasetsPublic(data=[public(r) for r in rows], count=count)


def owned(dataset_id: str, owner: str, settings: SettingsDep) -> DatasetRow:
    return owned_or_404(DatasetRow, dataset_id, owner, settings, "dataset")


@router.get("/{dataset_id}", response_model=DatasetDetail)
def get_dataset(dataset_id: str, owner: OwnerDep, settings: SettingsDep) -> DatasetDetail:
    return DatasetDetail.model_validate(owned(dataset_id, owner, settings), from_attributes=True)


@router.delete("/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dataset(dataset_id: str, owner: OwnerDep, settings: SettingsDep, storage: StorageDep) -> None:
    row = owned(dataset_id, owner, settings)
    with session(settings) as s:
        s.execute(delete(DatasetRow).where(DatasetRow.id == row.id))
    storage.delete(row.storage_key)


__all__ = ["ingest_upload", "owned", "router"]
