"""Records in the job store that the API and the workers share: datasets and images, jobs (status aside), artifacts."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from docagent.data.isolated import inspect_file
from docagent.errors import JobNotFound
from docagent.formatting import slug
from docagent.images import is_image, read_image
from docagent.settings import Settings, get_settings
from docagent.storage import get_storage
from docagent.store import DatasetRow, JobRow, session
from docagent.templatefiles import read_template

BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain_text(name: str) -> str:
    """Without bidirectional controls, which can make a name such as "report\u202excod.exe" read as "reportexe.docx"."""
    return BIDI_CONTROLS.sub("", name)


def safe_filename(name: str) -> str:
    """A file name without paths, control characters, bidi controls or shell-hostile characters."""
    name = plain_text(unicodedata.normalize("NFKC", Path(name.replace("\\", "/")).name))
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", name).strip(" .")
    return name[:150] or "upload"


# --- datasets ---


def create_dataset(
    upload: Path,
    filename: str,
    name: str | None,
    owner: str,
    settings: Settings | None = None,
    kind: str | None = None,
) -> DatasetRow:
    """Validate and profile an uploaded file, store it, record it (a new version of `name`).

    kind "template" reads the file as an organisation's template, not as data (an .xlsx may be either).
    """
    settings = settings or get_settings()
    filename = safe_filename(filename)
    named = upload.parent / filename  # ingestion reads the suffix; keep the user's name
    if named != upload:
        upload.replace(named)
    if kind == "template":
        row = _template_row(named, filename, name)
    elif is_image(named):
        row = _image_row(named, filename, name)
    else:
        ds, prof = inspect_file(named, settings)  # untrusted bytes: parsed in a bounded child process
        display = plain_text(name or Path(filename).stem).strip()[:200] or "dataset"
        row = DatasetRow(
            owner=owner,
            name=display,
            filename=filename,
            format=ds.format,
            rows=ds.rows,
            bytes=named.stat().st_size,
            columns=[{"name": c.name, "type": c.type} for c in ds.columns],
            profile=prof.model_dump(mode="json"),
            storage_key="",
        )
    row.owner = owner
    with session(settings) as s:
        latest = s.scalar(
            select(func.max(DatasetRow.version)).where(DatasetRow.owner == owner, DatasetRow.name == row.name)
        )
        row.version = (latest or 0) + 1
        s.add(row)
        s.flush()
        row.storage_key = f"datasets/{row.id}/{filename}"
        get_storage(settings).put(row.storage_key, named)  # inside the transaction: no row without a file
    return row


def _image_row(path: Path, filename: str, name: str | None) -> DatasetRow:
    """An image stored like a dataset (kind image), named by its file name as plans refer to it."""
    img = read_image(path)  # a real PNG, JPEG or SVG within the limits, or a clear refusal
    display = plain_text(name or filename).strip()[:200] or filename
    return DatasetRow(
        kind="image",
        name=display,
        filename=filename,
        format=img.kind,
        rows=0,
        bytes=len(img.data),
        columns=[],
        profile={"width": img.width, "height": img.height},
        storage_key="",
    )


def _template_row(path: Path, filename: str, name: str | None) -> DatasetRow:
    """An organisation's template stored like an image (kind template), named as meta.template names it."""
    tpl = read_template(path)  # a real package of its type, no macros, external links removed; or a refusal
    path.write_bytes(tpl.data)  # what is stored is the checked package
    display = plain_text(name or filename).strip()[:200] or filename
    return DatasetRow(
        kind="template",
        name=display,
        filename=filename,
        format=tpl.kind,
        rows=0,
        bytes=len(tpl.data),
        columns=[],
        profile=tpl.profile,
        storage_key="",
    )


def latest_dataset(owner: str, name: str, settings: Settings | None = None) -> DatasetRow | None:
    with session(settings) as s:
        return s.scalars(
            select(DatasetRow)
            .where(DatasetRow.owner == owner, DatasetRow.name == name)
            .order_by(DatasetRow.version.desc())
            .limit(1)
        ).first()


# --- jobs ---


def update_job(job_id: str, settings: Settings, **fields: Any) -> JobRow:
    """Record what a stage produced; the status itself changes only through docagent.lifecycle."""
    assert "status" not in fields, "change a job's status through docagent.lifecycle"
    with session(settings) as s:
        job = s.get(JobRow, job_id, with_for_update=True)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        for k, v in fields.items():
            setattr(job, k, v)
        return job


def get_job(job_id: str, settings: Settings) -> JobRow:
    with session(settings) as s:
        job = s.get(JobRow, job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        return job


def download_name(job: JobRow, fmt: str) -> str:
    title = (job.plan or {}).get("meta", {}).get("title") or "document"
    return f"{slug(title)}.{fmt}"
