"""Images given with a job (logos, photos, diagrams): checked before any renderer sees them.

A file is accepted only when its bytes are what its name says (PNG, JPEG or SVG),
within size and pixel limits, and, for SVG, free of scripts, event handlers and
references to anything outside the file (an SVG is a program-shaped document).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from PIL import Image as PILImage

from docagent.errors import UnreadableData, UnsupportedFormat

SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".svg": "svg"}
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}
MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 10_000  # pixels (SVG: user units)
MAX_PIXELS = 40_000_000
SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
FORBIDDEN_TAGS = {"script", "foreignObject", "iframe", "object", "embed", "handler", "listener"}
EXTERNAL_URL = re.compile(r"url\(\s*['\"]?(?!#)|@import", re.I)


@dataclass(frozen=True)
class ImageFile:
    name: str  # the file name a plan refers to
    kind: str  # png | jpeg | svg
    data: bytes
    width: float  # pixels (SVG: user units)
    height: float


def is_image(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def _length(value: str | None) -> float | None:
    m = re.fullmatch(r"\s*([0-9.]+)\s*(px)?\s*", value or "")
    return float(m.group(1)) if m else None


def _svg(name: str, data: bytes) -> tuple[float, float]:
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise UnreadableData(name, "SVG with a DTD or entities is refused (they can reach outside the file)") from None
    except ElementTree.ParseError as e:
        raise UnreadableData(name, f"not a well-formed SVG ({e})") from None
    if root.tag != f"{SVG_NS}svg":
        raise UnreadableData(name, "not an SVG image (the root element is not <svg>)")
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag in FORBIDDEN_TAGS:
            raise UnreadableData(
                name, f"SVG with <{tag}> is refused: images may not carry scripts or embedded documents"
            )
        for attr, value in el.attrib.items():
            local = attr.rsplit("}", 1)[-1]
            if local.lower().startswith("on"):
                raise UnreadableData(name, f"SVG with an event handler ({local}) is refused")
            if (local == "href" or attr == XLINK_HREF) and not value.startswith("#"):
                raise UnreadableData(name, f"SVG referring to {value[:60]!r} is refused: only in-file (#id) references")
            if EXTERNAL_URL.search(value):
                raise UnreadableData(name, "SVG with an external url() or @import is refused")
        if tag == "style" and EXTERNAL_URL.search(el.text or ""):
            raise UnreadableData(name, "SVG with an external url() or @import is refused")
    width, height = _length(root.get("width")), _length(root.get("height"))
    box = [float(x) for x in re.findall(r"-?[0-9.]+", root.get("viewBox") or "")]
    if (width is None or height is None) and len(box) == 4:
        width, height = box[2], box[3]
    if not width or not height:
        raise UnreadableData(name, "SVG without a size: give width and height, or a viewBox")
    return width, height


def _raster(name: str, kind: str, data: bytes) -> tuple[float, float]:
    if not data.startswith(MAGIC[kind]):
        raise UnreadableData(name, f"not a {kind.upper()} image (its content is something else)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise UnreadableData(name, f"{width}x{height} pixels exceeds the limit")
                img.verify()
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise UnreadableData(name, "the image has too many pixels") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise UnreadableData(name, f"a damaged {kind.upper()} image ({e})") from None
    return float(width), float(height)


def read_image(path: Path) -> ImageFile:
    """Read and check one image file; raises an IngestError that says what is wrong."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UnsupportedFormat(path.name, "images must be PNG, JPEG or SVG")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UnreadableData(path.name, f"{size:,} bytes exceeds the image limit of {MAX_BYTES:,}")
    data = path.read_bytes()
    width, height = _svg(path.name, data) if kind == "svg" else _raster(path.name, kind, data)
    if width > MAX_SIDE or height > MAX_SIDE:
        raise UnreadableData(path.name, f"{width:g}x{height:g} exceeds the limit of {MAX_SIDE:,} per side")
    return ImageFile(path.name, kind, data, width, height)
