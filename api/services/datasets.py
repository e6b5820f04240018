"""Datasets, images and templates: uploads streamed to disk, checked, profiled, stored; listed, read, deleted.

An image (PNG, JPEG, SVG) is stored and versioned like a dataset, with kind "image", under its file
name: what image blocks (`source`) and brand kits (`logo`) name. A template (kind "template", asked for
explicitly, as an .xlsx may be data) is stored the same way under the name meta.template gives.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, func, select

from docagent.api.schemas import DatasetDetail, DatasetPublic, DatasetsPublic
from docagent.api.services.common import owned
from docagent.errors import DatasetNotFound, InUse, UploadTooLarge
from docagent.service.brands import brand_rows, named_images
from docagent.service.records import store_dataset, stored_keys
from docagent.service.storage import Storage
from docagent.service.store import DatasetRow, ScheduleRow, session
from docagent.settings import Settings

CHUNK = 1 << 20
SLACK = 64 * 1024  # a multipart body's boundaries and headers around the file


class Upload(Protocol):
    """What an uploaded file offers (FastAPI's UploadFile)."""

    filename: str | None

    async def read(self, size: int = -1) -> bytes: ...


def public(row: DatasetRow) -> DatasetPublic:
    return DatasetPublic.model_validate(row, from_attributes=True)


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"upload exceeds the limit of {limit / 2**20:.0f} MiB (DOCAGENT_MAX_UPLOAD_BYTES)")


def check_length(content_length: str | None, settings: Settings) -> None:
    """Refuse a request whose declared size is already over the limit, before reading it."""
    if content_length and content_length.isdigit() and int(content_length) > settings.max_upload_bytes + SLACK:
        raise too_large(settings.max_upload_bytes)


async def receive(upload: Upload, limit: int, workdir: Path) -> Path:
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


def public_stored(row: DatasetRow, created: bool) -> DatasetPublic:
    """A stored upload as the API shows it; "unchanged" when its bytes were the newest version already."""
    return public(row).model_copy(update={"unchanged": not created})


async def ingest_upload(
    upload: Upload, name: str | None, owner: str, settings: Settings, kind: str | None = None
) -> tuple[DatasetRow, bool]:
    """The upload as a new version of its name, or the newest version when the bytes are the same (then False)."""
    workdir = Path(tempfile.mkdtemp(prefix="docagent-upload-"))
    try:
        path = await receive(upload, settings.max_upload_bytes, workdir)
        # parsing runs in a bounded child process (docagent.engine.data.isolated): this thread waits,
        # the event loop never does
        return await asyncio.to_thread(store_dataset, path, upload.filename or "upload", name, owner, settings, kind)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def list_datasets(
    owner: str, settings: Settings, skip: int = 0, limit: int = 50, kind: str | None = None
) -> DatasetsPublic:
    with session(settings) as s:
        q = select(DatasetRow).where(DatasetRow.owner == owner)
        if kind is not None:
            q = q.where(DatasetRow.kind == kind)
        count = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = s.scalars(q.order_by(DatasetRow.created_at.desc()).offset(skip).limit(limit)).all()
        return DatasetsPublic(data=[public(r) for r in rows], count=count)


def versions(name: str, owner: str, settings: Settings) -> list[DatasetPublic]:
    """Every stored version of one dataset name, newest first."""
    with session(settings) as s:
        q = select(DatasetRow).where(DatasetRow.owner == owner, DatasetRow.name == name)
        return [public(r) for r in s.scalars(q.order_by(DatasetRow.version.desc()))]


def get_row(dataset_id: str, owner: str, settings: Settings) -> DatasetRow:
    return owned(DatasetRow, dataset_id, owner, settings, DatasetNotFound, "dataset")


def get_dataset(dataset_id: str, owner: str, settings: Settings) -> DatasetDetail:
    return DatasetDetail.model_validate(get_row(dataset_id, owner, settings), from_attributes=True)


def users_of(row: DatasetRow, settings: Settings) -> list[str]:
    """What needs this image: brand kits whose logo it is and schedules that render it (through such a kit or
    their frozen plan). Empty for a dataset, and for an image with another version to fall back on."""
    if row.kind != "image":
        return []
    with session(settings) as s:
        others = s.scalar(
            select(func.count()).where(
                DatasetRow.owner == row.owner,
                DatasetRow.name == row.name,
                DatasetRow.kind == "image",
                DatasetRow.id != row.id,
            )
        )
        schedule_rows = list(s.scalars(select(ScheduleRow).where(ScheduleRow.owner == row.owner)))
    if others:
        return []
    kits = [k.name for k in brand_rows(row.owner, settings) if (k.kit or {}).get("logo") == row.name]
    used = [f"brand kit {k!r}" for k in kits]
    for sched in schedule_rows:
        job = sched.job or {}
        if job.get("brand") in kits or row.name in named_images(job.get("plan")):
            used.append(f"schedule {sched.name!r}")
    return used


def delete_dataset(dataset_id: str, owner: str, settings: Settings, storage: Storage) -> None:
    """Delete one version; the last version of an image that a brand kit or schedule uses is refused."""
    row = get_row(dataset_id, owner, settings)
    if used := users_of(row, settings):
        raise InUse(
            f"{row.name} is used by {', '.join(used)}: change or delete "
            f"{'them' if len(used) > 1 else 'it'} first, or upload a new version of the image"
        )
    keys = stored_keys(row, settings)
    with session(settings) as s:
        s.execute(delete(DatasetRow).where(DatasetRow.id == row.id))
    for key in keys:
        storage.delete(key)
