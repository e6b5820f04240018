"""Drafts: a file picked on the New job form, profiled for the preview but not yet a dataset version.

A draft becomes a dataset version only when a job is submitted with it or the user saves it as a
dataset; unused drafts are deleted after DOCAGENT_DRAFT_TTL_S. Drafts live under var_dir on the API
host that received them (the form is submitted to the same service).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from docagent.api.schemas import JobAccepted, JobCreate
from docagent.api.services import jobs
from docagent.api.services.datasets import Upload, delete_dataset, receive
from docagent.engine.data.isolated import inspect_file
from docagent.engine.images import is_image, read_image
from docagent.errors import DocagentError, NotFound
from docagent.service.records import plain_text, safe_filename, store_dataset
from docagent.service.storage import Storage
from docagent.service.store import DatasetRow
from docagent.settings import Settings

DRAFT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def root(settings: Settings) -> Path:
    return Path(settings.var_dir).resolve() / "drafts"


def sweep(settings: Settings, now: float | None = None) -> int:
    """Delete drafts older than the time to live; returns how many went."""
    cutoff = (now if now is not None else time.time()) - settings.draft_ttl_s
    gone = 0
    for d in root(settings).glob("*"):
        if d.is_dir() and d.stat().st_mtime < cutoff:
            shutil.rmtree(d, ignore_errors=True)
            gone += 1
    return gone


async def create(upload: Upload, owner: str, settings: Settings) -> dict[str, Any]:
    """Receive, check and profile an upload as a draft; stores no dataset version."""
    sweep(settings)
    work = Path(tempfile.mkdtemp(prefix="docagent-draft-"))
    try:
        path = await receive(upload, settings.max_upload_bytes, work)
        filename = safe_filename(upload.filename or "upload")
        named = path.parent / filename  # ingestion reads the suffix; keep the user's name
        path.replace(named)
        meta = _describe(named, filename, settings)
        draft_id = secrets.token_urlsafe(18)
        folder = root(settings) / draft_id
        folder.mkdir(parents=True)
        shutil.move(str(named), folder / filename)
        meta = {"id": draft_id, "owner": owner, "filename": filename, **meta}
        (folder / "draft.json").write_text(json.dumps(meta), encoding="utf-8")
        return meta
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _describe(path: Path, filename: str, settings: Settings) -> dict[str, Any]:
    """What the preview shows: an image's kind and size (named by its file name, as plans and kits name it),
    or a table's profile."""
    if is_image(path):
        img = read_image(path)  # a real PNG, JPEG or SVG within the limits, or a clear refusal
        profile = {"format": img.kind, "width": img.width, "height": img.height}
        return {"kind": "image", "name": plain_text(filename)[:200], "rows": 0, "columns": [], "profile": profile}
    ds, prof = inspect_file(path, settings)  # untrusted bytes: parsed in a bounded child process
    return {
        "kind": "data",
        "name": plain_text(Path(filename).stem)[:200] or "dataset",
        "rows": ds.rows,
        "columns": [{"name": c.name, "type": c.type} for c in ds.columns],
        "profile": prof.model_dump(mode="json"),
    }


def get(draft_id: str, owner: str, settings: Settings) -> dict[str, Any]:
    """A draft's description; another owner's draft, an unknown or an expired one is "not found"."""
    folder = root(settings) / draft_id
    meta_file = folder / "draft.json"
    if not DRAFT_ID.match(draft_id) or not meta_file.is_file():
        raise NotFound("that uploaded file has expired or was never uploaded: pick it again")
    meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta["owner"] != owner:
        raise NotFound("that uploaded file has expired or was never uploaded: pick it again")
    return meta


def promote(draft_id: str, name: str | None, owner: str, settings: Settings) -> tuple[DatasetRow, bool]:
    """Store the draft as a new dataset version, or find it is the newest one already (False); the draft
    itself stays until discarded."""
    meta = get(draft_id, owner, settings)
    work = Path(tempfile.mkdtemp(prefix="docagent-promote-"))
    try:
        copy = work / "upload"
        shutil.copyfile(root(settings) / draft_id / meta["filename"], copy)
        return store_dataset(copy, meta["filename"], name, owner, settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def discard(draft_id: str, owner: str, settings: Settings) -> None:
    get(draft_id, owner, settings)
    shutil.rmtree(root(settings) / draft_id, ignore_errors=True)


def submit_with(
    body: JobCreate, draft_ids: list[str], owner: str, settings: Settings, storage: Storage, key: str | None
) -> JobAccepted:
    """Queue the job with the files picked on the form: each draft becomes a dataset version only if the job
    is accepted. A refused job takes back the versions it made (one that was the newest already stays) and
    leaves the drafts for the form to offer again; an accepted one discards them."""
    stored: list[tuple[DatasetRow, bool]] = []
    try:
        for draft_id in draft_ids:  # one by one, so a failure part way still knows what to take back
            stored.append(promote(draft_id, None, owner, settings))
        body.dataset_ids = [*body.dataset_ids, *(row.id for row, _ in stored)]
        accepted = jobs.submit(body, owner, settings, key)
    except DocagentError:
        for row, created in stored:
            if created:
                delete_dataset(row.id, owner, settings, storage)
        raise
    for draft_id in draft_ids:
        discard(draft_id, owner, settings)
    return accepted
