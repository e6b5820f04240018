"""Records in the job store that the API and the workers share: datasets and images, jobs (status aside), artifacts."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from docagent.engine.data.catalog import MANIFEST, Catalog, Dataset
from docagent.engine.data.isolated import inspect_file
from docagent.engine.formatting import slug
from docagent.engine.images import is_image, read_image
from docagent.engine.provenance import file_sha256
from docagent.engine.templatefiles import read_template
from docagent.errors import JobNotFound
from docagent.service.storage import Storage, get_storage
from docagent.service.store import DatasetRow, JobRow, session
from docagent.settings import Settings, get_settings

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
    """Validate and profile an uploaded file, store it, record it (a new version of `name`)."""
    return store_dataset(upload, filename, name, owner, settings, kind)[0]


def _same_bytes(path: Path, row: DatasetRow, settings: Settings) -> bool:
    if row.bytes != path.stat().st_size:
        return False
    h = hashlib.sha256()
    with get_storage(settings).open(row.storage_key) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest() == file_sha256(path)


def store_dataset(
    upload: Path,
    filename: str,
    name: str | None,
    owner: str,
    settings: Settings | None = None,
    kind: str | None = None,
) -> tuple[DatasetRow, bool]:
    """Like create_dataset, and whether a version was made: the same bytes again under the same name are the
    newest version already, "unchanged", not a copy.

    kind "template" reads the file as an organisation's template, not as data (an .xlsx may be either).
    The typed tables are written to a temporary folder of their own, gone once they are stored.
    """
    with tempfile.TemporaryDirectory(prefix="docagent-typed-") as typed:
        return _store_dataset(upload, filename, name, owner, settings or get_settings(), kind, Path(typed))


def _store_dataset(
    upload: Path, filename: str, name: str | None, owner: str, settings: Settings, kind: str | None, typed: Path
) -> tuple[DatasetRow, bool]:
    filename = safe_filename(filename)
    named = upload.parent / filename  # ingestion reads the suffix; keep the user's name
    if named != upload:
        upload.replace(named)
    if kind == "template":
        row = _template_row(named, filename, name)
    elif is_image(named):
        row = _image_row(named, filename, name)
    else:
        # untrusted bytes: parsed in a bounded child process, which also writes the typed tables
        ds, prof = inspect_file(named, settings, keep=typed)
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
    newest = latest_dataset(owner, row.name, settings)
    if newest is not None and newest.kind == (row.kind or "data") and _same_bytes(named, newest, settings):
        return newest, False
    with session(settings) as s:
        latest = s.scalar(
            select(func.max(DatasetRow.version)).where(DatasetRow.owner == owner, DatasetRow.name == row.name)
        )
        row.version = (latest or 0) + 1
        s.add(row)
        s.flush()
        row.storage_key = f"datasets/{row.id}/{filename}"
        storage = get_storage(settings)
        storage.put(row.storage_key, named)  # inside the transaction: no row without a file
        if (typed / MANIFEST).is_file():  # the manifest last: its presence means every table is there
            for part in sorted(typed.glob("*.parquet")):
                storage.put(f"{typed_prefix(row)}/{part.name}", part)
            storage.put(f"{typed_prefix(row)}/{MANIFEST}", typed / MANIFEST)
    return row, True


def typed_prefix(row: DatasetRow) -> str:
    return f"datasets/{row.id}/typed"


def _manifest(row: DatasetRow, storage: Storage) -> dict[str, Any] | None:
    key = f"{typed_prefix(row)}/{MANIFEST}"
    if row.kind == "image" or not storage.exists(key):
        return None  # an image, or a dataset stored before typed tables were kept
    with storage.open(key) as f:
        found: dict[str, Any] = json.load(f)
    return found


def load_stored(catalog: Catalog, row: DatasetRow, settings: Settings) -> list[Dataset]:
    """A stored dataset into `catalog`, under the names plans use: read back from the typed tables
    written at upload, never by parsing the original file again (which only the bounded child does)."""
    storage = get_storage(settings)
    manifest = _manifest(row, storage)
    if manifest is None:
        with storage.local_path(row.storage_key) as path:
            return catalog.ingest(path, name=row.name)
    out = []
    base = manifest["base"]
    for entry in manifest["tables"]:
        # as ingesting the file under row.name would name it: the name, plus a sheet's suffix
        suffix = "" if entry["name"] == base else entry["name"].removeprefix(base + "_")
        name = f"{row.name}_{suffix}" if suffix else row.name
        with storage.local_path(f"{typed_prefix(row)}/{entry['file']}") as path:
            out.append(catalog.load_typed(path, name, row.filename, row.format, entry["notes"]))
    return out


def stored_keys(row: DatasetRow, settings: Settings) -> list[str]:
    """Every object a dataset has in storage: the original file and its typed tables."""
    manifest = _manifest(row, get_storage(settings))
    tables = [f"{typed_prefix(row)}/{e['file']}" for e in manifest["tables"]] if manifest else []
    return [row.storage_key, *tables, *([f"{typed_prefix(row)}/{MANIFEST}"] if manifest else [])]


def _file_row(kind: str, filename: str, name: str | None, fmt: str, size: int, profile: dict[str, Any]) -> DatasetRow:
    """A file stored like a dataset but with no rows, named as plans refer to it."""
    display = plain_text(name or filename).strip()[:200] or filename
    return DatasetRow(
        kind=kind,
        name=display,
        filename=filename,
        format=fmt,
        rows=0,
        bytes=size,
        columns=[],
        profile=profile,
        storage_key="",
    )


def _image_row(path: Path, filename: str, name: str | None) -> DatasetRow:
    """An image (kind image), named by its file name as plans refer to it."""
    img = read_image(path)  # a real PNG, JPEG or SVG within the limits, or a clear refusal
    if img.kind == "svg":
        path.write_bytes(img.data)  # what is stored and drawn is our serialisation of the checked tree
    return _file_row("image", filename, name, img.kind, len(img.data), {"width": img.width, "height": img.height})


def _template_row(path: Path, filename: str, name: str | None) -> DatasetRow:
    """An organisation's template (kind template), named as meta.template names it."""
    tpl = read_template(path)  # a real package of its type, no macros, external links removed; or a refusal
    path.write_bytes(tpl.data)  # what is stored is the checked package
    return _file_row("template", filename, name, tpl.kind, len(tpl.data), tpl.profile)


def latest_dataset(owner: str, name: str, settings: Settings | None = None) -> DatasetRow | None:
    with session(settings) as s:
        return s.scalars(
            select(DatasetRow)
            .where(DatasetRow.owner == owner, DatasetRow.name == name)
            .order_by(DatasetRow.version.desc())
            .limit(1)
        ).first()


# --- jobs ---


def get_job(job_id: str, settings: Settings) -> JobRow:
    with session(settings) as s:
        job = s.get(JobRow, job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        return job


def download_name(job: JobRow, fmt: str) -> str:
    title = (job.plan or {}).get("meta", {}).get("title") or "document"
    return f"{slug(title)}.{fmt}"
