"""An organisation's template file (.docx, .pptx, .xlsx), checked before anything reads it further.

A template is accepted only when it is a real OOXML package of the type its name says, within size and
part limits, without macros; relationships that point outside the package (linked images, remote
templates, OLE links) are removed, so a filled copy never reaches out when it is opened.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from docagent.engine.xmlout import with_default_namespace
from docagent.errors import UnreadableData, UnsafeArchive, UnsupportedFormat

MAIN_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
# Word and PowerPoint templates (.dotx, .potx) name a different main type; they are read as documents.
TEMPLATE_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
}
SUFFIXES = {".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx"}
MACRO_SUFFIXES = {".docm", ".pptm", ".xlsm", ".dotm", ".potm", ".xltm", ".ppsm", ".xlam", ".ppam"}
MAX_BYTES = 20 * 1024 * 1024
MAX_PARTS = 2_000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200.0
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass(frozen=True)
class TemplateFile:
    name: str  # what meta.template names
    kind: str  # docx | pptx | xlsx
    data: bytes  # the package as checked, external relationships removed
    profile: dict[str, Any] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()  # external targets removed, for the upload's profile


def is_template(path: Path | str) -> bool:
    return Path(path).suffix.lower() in SUFFIXES


def _xml(name: str, part: str, raw: bytes) -> Any:
    try:
        return ElementTree.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise UnsafeArchive(name, f"{part} declares a DTD or entities; refused") from None
    except ElementTree.ParseError as e:
        raise UnsafeArchive(name, f"{part} is not well-formed XML ({e})") from None


def _without_external(name: str, part: str, raw: bytes) -> tuple[bytes, dict[str, str]]:
    """A relationships part without its external relationships (hyperlinks aside); returns the ids removed."""
    root = _xml(name, part, raw)
    dropped = {}
    for rel in list(root):
        # a hyperlink is followed only when a reader clicks it; linked images, attached templates, OLE and
        # data links are fetched when the file opens
        if rel.get("TargetMode") == "External" and not rel.get("Type", "").endswith("/hyperlink"):
            dropped[rel.get("Id", "")] = rel.get("Target", "")[:200]
            root.remove(rel)
    if not dropped:
        return raw, {}
    return with_default_namespace(root, REL[1:-1], encoding="UTF-8"), dropped


def _source_part(rels: str) -> str:
    """word/_rels/document.xml.rels -> word/document.xml"""
    folder, base = posixpath.split(rels)
    return posixpath.join(posixpath.dirname(folder), base[: -len(".rels")])


def _unreferenced(raw: bytes, ids: set[str]) -> bytes:
    """The part's XML without attributes that name a removed relationship (text-level: prefixes stay as written)."""
    for rid in ids:
        raw = re.sub(rb'\s[A-Za-z_][\w.-]*:[A-Za-z]+="' + re.escape(rid.encode()) + rb'"', b"", raw)
    return re.sub(rb"<w:attachedTemplate\s*/>", b"", raw)  # required to name one: without it, gone


def check_package(path: Path, name: str | None = None) -> TemplateFile:
    """Read and check one template file; raises an IngestError that says what is wrong."""
    suffix = path.suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise UnsupportedFormat(path.name, "templates with macros are refused: save it as .docx, .pptx or .xlsx")
    kind = SUFFIXES.get(suffix)
    if kind is None:
        raise UnsupportedFormat(path.name, "templates must be .docx, .pptx or .xlsx")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UnreadableData(path.name, f"{size:,} bytes exceeds the template limit of {MAX_BYTES:,}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise UnsafeArchive(path.name, f"not a {suffix} file (not a zip package)") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_PARTS:
            raise UnsafeArchive(path.name, f"{len(infos):,} parts exceed the limit of {MAX_PARTS:,}")
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED or total > MAX_RATIO * max(size, 1):
            raise UnsafeArchive(path.name, "the package inflates far past its size (a zip bomb?)")
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names:
            raise UnsafeArchive(path.name, f"a zip archive but not a {suffix} file (no [Content_Types].xml)")
        types = _xml(path.name, "[Content_Types].xml", zf.read("[Content_Types].xml"))
        overrides = {o.get("ContentType", ""): o.get("PartName", "") for o in types.iter(f"{CT}Override")}
        if any("macroEnabled" in t or "vbaProject" in t for t in overrides) or any(
            posixpath.basename(n).lower().startswith("vbaproject") for n in names
        ):
            raise UnsupportedFormat(path.name, "templates with macros are refused: save it without them")
        if MAIN_TYPES[kind] not in overrides and TEMPLATE_TYPES[kind] not in overrides:
            raise UnsafeArchive(path.name, f"a zip archive but not a {suffix} file (no main {kind} part)")
        parts = {i.filename: zf.read(i) for i in infos}
        stamps = {i.filename: i.date_time for i in infos}
    dropped: list[str] = []
    for rels in [n for n in parts if n.endswith(".rels")]:
        parts[rels], gone = _without_external(path.name, rels, parts[rels])
        source = _source_part(rels)
        if gone and source in parts:
            parts[source] = _unreferenced(parts[source], set(gone))
        dropped += gone.values()
    if TEMPLATE_TYPES[kind] in overrides:  # a .dotx/.potx/.xltx saved as a document: the same parts
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            TEMPLATE_TYPES[kind].encode(), MAIN_TYPES[kind].encode()
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as clean:
        for part, raw in parts.items():  # each part keeps its time: the same upload twice is the same bytes
            clean.writestr(zipfile.ZipInfo(part, stamps[part]), raw, zipfile.ZIP_DEFLATED)
    return TemplateFile(name or path.name, kind, out.getvalue(), dropped=tuple(dropped))
