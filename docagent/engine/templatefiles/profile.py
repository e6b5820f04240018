"""What a template offers, read from its XML: styles, page setup, headers and footers, slide layouts,
defined names and tables, and the {{placeholders}} it holds. The model is shown this profile."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from defusedxml import ElementTree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
# {{name}}, {{table:NAME.column}}, {{body}}; spaces inside the braces are allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
TWIPS_PER_MM = 1440 / 25.4
MAX_LISTED = 60  # styles, layouts or names shown to the model


def placeholders_in(text: str) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def _root(zf: zipfile.ZipFile, part: str) -> Any | None:
    try:
        return ElementTree.fromstring(zf.read(part), forbid_dtd=True)
    except KeyError:
        return None


def _paragraph_texts(root: Any, para: str, text: str) -> list[str]:
    """Each paragraph's text with its runs joined: a placeholder split across runs reads whole."""
    return ["".join(t.text or "" for t in p.iter(text)) for p in root.iter(para)]


def _found(texts: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for t in texts:
        for name in placeholders_in(t):
            seen.setdefault(name)
    return list(seen)


def _mm(value: str | None) -> float | None:
    return round(int(value) / TWIPS_PER_MM, 1) if value and value.lstrip("-").isdigit() else None


def _docx(zf: zipfile.ZipFile) -> dict[str, Any]:
    out: dict[str, Any] = {"styles": {}, "page": {}, "headers": [], "footers": [], "first_page_different": False}
    styles = _root(zf, "word/styles.xml")
    if styles is not None:
        by_type: dict[str, list[str]] = {}
        for st in styles.iter(f"{W}style"):
            name = st.find(f"{W}name")
            if name is not None:
                by_type.setdefault(st.get(f"{W}type", "paragraph"), []).append(name.get(f"{W}val", ""))
        out["styles"] = {k: v[:MAX_LISTED] for k, v in by_type.items()}
    texts: list[str] = []
    doc = _root(zf, "word/document.xml")
    if doc is not None:
        texts += _paragraph_texts(doc, f"{W}p", f"{W}t")
        body = doc.find(f"{W}body")
        sect = body.find(f"{W}sectPr") if body is not None else None  # the last section's: the body's
        if sect is not None:
            size, mar = sect.find(f"{W}pgSz"), sect.find(f"{W}pgMar")
            if size is not None:
                out["page"] = {"width_mm": _mm(size.get(f"{W}w")), "height_mm": _mm(size.get(f"{W}h"))}
            if mar is not None:
                out["page"]["margins_mm"] = {
                    side: _mm(mar.get(f"{W}{side}")) for side in ("top", "right", "bottom", "left")
                }
            out["first_page_different"] = sect.find(f"{W}titlePg") is not None
    for part in sorted(n for n in zf.namelist() if re.fullmatch(r"word/(header|footer)\d*\.xml", n)):
        root = _root(zf, part)
        if root is None:
            continue
        lines = _paragraph_texts(root, f"{W}p", f"{W}t")
        texts += lines
        text = " ".join(t for t in lines if t.strip())
        if text:
            out["headers" if "header" in part else "footers"].append(text[:200])
    out["placeholders"] = list(dict.fromkeys([*_found(texts), *_content_controls(zf)]))
    return out


def _content_controls(zf: zipfile.ZipFile) -> list[str]:
    """Word content controls' tags: each names what fills it, as a {{placeholder}} would."""
    tags = []
    for part in [
        "word/document.xml",
        *sorted(n for n in zf.namelist() if re.fullmatch(r"word/(header|footer)\d*\.xml", n)),
    ]:
        root = _root(zf, part)
        if root is not None:
            tags += [t.get(f"{W}val", "") for t in root.iter(f"{W}tag") if t.get(f"{W}val")]
    return tags


def _pptx(zf: zipfile.ZipFile) -> dict[str, Any]:
    layouts = []
    for part in sorted(
        (n for n in zf.namelist() if re.fullmatch(r"ppt/slideLayouts/slideLayout\d+\.xml", n)),
        key=lambda n: int(re.sub(r"\D", "", n) or 0),
    ):
        root = _root(zf, part)
        if root is None:
            continue
        csld = root.find(f"{P}cSld")
        phs = [{"type": ph.get("type", "body"), "idx": int(ph.get("idx", "0"))} for ph in root.iter(f"{P}ph")]
        layouts.append({
            "name": csld.get("name", "") if csld is not None else "",
            "type": root.get("type", "cust"),
            "placeholders": phs,
        })  # fmt: skip
    texts: list[str] = []
    slides = [n for n in zf.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
    for part in slides:
        root = _root(zf, part)
        if root is not None:
            texts += _paragraph_texts(root, f"{A}p", f"{A}t")
    pres = _root(zf, "ppt/presentation.xml")
    size = pres.find(f"{P}sldSz") if pres is not None else None
    inches = (
        {"width_in": round(int(size.get("cx")) / 914400, 2), "height_in": round(int(size.get("cy")) / 914400, 2)}
        if size is not None
        else {}
    )
    return {"layouts": layouts[:MAX_LISTED], "slides": len(slides), "slide_size": inches, "placeholders": _found(texts)}


def _xlsx(zf: zipfile.ZipFile) -> dict[str, Any]:
    book = _root(zf, "xl/workbook.xml")
    sheets, names = [], []
    if book is not None:
        sheets = [s.get("name", "") for s in book.iter(f"{S}sheet")]
        names = [{"name": d.get("name", ""), "refers_to": (d.text or "")[:120]} for d in book.iter(f"{S}definedName")]
    tables = []
    for part in sorted(n for n in zf.namelist() if re.fullmatch(r"xl/tables/table\d+\.xml", n)):
        root = _root(zf, part)
        if root is not None:
            cols = [c.get("name", "") for c in root.iter(f"{S}tableColumn")]
            tables.append(
                {"name": root.get("displayName") or root.get("name", ""), "ref": root.get("ref"), "columns": cols}
            )
    styles = _root(zf, "xl/styles.xml")
    named = [c.get("name", "") for c in styles.iter(f"{S}cellStyle")] if styles is not None else []
    strings = _root(zf, "xl/sharedStrings.xml")
    texts = _paragraph_texts(strings, f"{S}si", f"{S}t") if strings is not None else []
    return {
        "sheets": sheets,
        "defined_names": names[:MAX_LISTED],
        "tables": tables[:MAX_LISTED],
        "named_styles": named[:MAX_LISTED],
        "placeholders": _found(texts),
    }


def profile_package(kind: str, data: bytes) -> dict[str, Any]:
    """The profile of a checked package (docagent.engine.templatefiles.package)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        found = {"docx": _docx, "pptx": _pptx, "xlsx": _xlsx}[kind](zf)
    return {"kind": kind, **found}


def describe(name: str, prof: dict[str, Any]) -> str:
    """The profile in a few lines for the model's prompt."""
    lines = [f"Template {name!r} ({prof['kind']}):"]
    if prof.get("placeholders"):
        lines.append("  placeholders: " + ", ".join("{{" + p + "}}" for p in prof["placeholders"]))
    if prof["kind"] == "docx":
        styles = prof.get("styles", {})
        lines.append("  paragraph styles: " + ", ".join(styles.get("paragraph", [])[:25]))
        if prof.get("page"):
            lines.append(f"  page: {prof['page']}")
        for key in ("headers", "footers"):
            if prof.get(key):
                lines.append(f"  {key}: " + " | ".join(prof[key]))
    elif prof["kind"] == "pptx":
        lines.append("  layouts: " + ", ".join(f"{lay['name']} ({lay['type']})" for lay in prof.get("layouts", [])))
    else:
        lines.append("  sheets: " + ", ".join(prof.get("sheets", [])))
        if prof.get("defined_names"):
            lines.append("  defined names: " + ", ".join(d["name"] for d in prof["defined_names"]))
        if prof.get("tables"):
            lines.append("  tables: " + ", ".join(t["name"] for t in prof["tables"]))
    return "\n".join(lines)
