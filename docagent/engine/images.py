"""Images given with a job (logos, photos, diagrams): checked before any renderer sees them.

A file is accepted only when its bytes are what its name says (PNG, JPEG or SVG),
within size and pixel limits, and, for SVG, free of scripts, event handlers and
references to anything outside the file (an SVG is a program-shaped document).

An SVG is also bounded by what drawing it costs, not only by its bytes: its elements are
counted with every `<use>` expanded (a few nested `<use>` multiply into millions), its
nesting depth is limited, and what is stored is our own re-serialisation of the checked
tree (no processing instructions, comments or DTD), so a renderer only ever draws that.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as StdElementTree

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from PIL import Image as PILImage

from docagent.engine.xmlout import with_default_namespace
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
NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
MAX_SVG_BYTES = 2 * 1024 * 1024  # an SVG is drawn element by element: its cost grows with its size
MAX_SVG_ELEMENTS = 20_000  # counted with every <use> expanded
MAX_SVG_DEPTH = 64  # nesting, <use> chains included (renderers recurse)
StdElementTree.register_namespace("xlink", XLINK_HREF[1:].split("}")[0])


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
    m = re.fullmatch(rf"\s*({NUMBER})\s*(px)?\s*", value or "")
    return float(m.group(1)) if m else None


def _local(el: Any) -> str:
    return el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""


def _expanded_size(name: str, root: Any) -> int:
    """Elements drawn, each <use> counted as a copy of what it names; refused past the budget or depth."""
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    memo: dict[int, int] = {}
    busy: set[int] = set()

    def size(el: Any, depth: int) -> int:
        key = id(el)
        if key in memo:
            return memo[key]
        if depth > MAX_SVG_DEPTH:
            raise UnreadableData(name, f"SVG nested deeper than {MAX_SVG_DEPTH} levels (<use> chains included)")
        if key in busy:
            raise UnreadableData(name, "SVG whose <use> refers to itself or to an element containing it")
        busy.add(key)
        total = 1 + sum(size(child, depth + 1) for child in el)
        if _local(el) == "use":
            target = by_id.get((el.get("href") or el.get(XLINK_HREF) or "").removeprefix("#"))
            total += size(target, depth + 1) if target is not None else 0
        busy.discard(key)
        if total > MAX_SVG_ELEMENTS:
            raise UnreadableData(
                name, f"SVG drawing more than {MAX_SVG_ELEMENTS:,} elements once every <use> is expanded is refused"
            )
        memo[key] = total
        return total

    return size(root, 0)


def _style_problem(text: str) -> str | None:
    if EXTERNAL_URL.search(text):
        return "SVG with an external url() or @import is refused"
    if "\\" in text:  # a CSS escape can spell url( or @import past any pattern
        return "SVG with an escape (\\) in its CSS is refused"
    return None


def _svg(name: str, data: bytes) -> tuple[bytes, float, float]:
    """The checked SVG, re-serialised, and its size in user units."""
    if len(data) > MAX_SVG_BYTES:
        raise UnreadableData(name, f"{len(data):,} bytes exceeds the SVG limit of {MAX_SVG_BYTES:,}")
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise UnreadableData(name, "SVG with a DTD or entities is refused (they can reach outside the file)") from None
    except ElementTree.ParseError as e:
        raise UnreadableData(name, f"not a well-formed SVG ({e})") from None
    except RecursionError:
        raise UnreadableData(name, f"SVG nested deeper than {MAX_SVG_DEPTH} levels") from None
    if root.tag != f"{SVG_NS}svg":
        raise UnreadableData(name, "not an SVG image (the root element is not <svg>)")
    _expanded_size(name, root)  # before anything else walks it: bounds depth and work
    for el in root.iter():
        tag = _local(el)
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
            if found := _style_problem(value):  # presentation attributes are CSS too
                raise UnreadableData(name, found)
        if tag == "style" and (found := _style_problem("".join(el.itertext()))):
            raise UnreadableData(name, found)  # all its text, also what follows a child element
    width, height = _length(root.get("width")), _length(root.get("height"))
    raw_box = (root.get("viewBox") or "").replace(",", " ").split()
    if raw_box and (len(raw_box) != 4 or not all(re.fullmatch(NUMBER, x) for x in raw_box)):
        raise UnreadableData(name, f"SVG viewBox {root.get('viewBox', '')[:60]!r} is not four numbers")
    box = [float(x) for x in raw_box]
    if (width is None or height is None) and len(box) == 4:
        width, height = box[2], box[3]
    for label, given, value in (("width", root.get("width"), width), ("height", root.get("height"), height)):
        if given is not None and _length(given) is None and not box:
            raise UnreadableData(name, f"SVG {label} {given[:40]!r} is not a length; give a number, or a viewBox")
        if value is not None and not math.isfinite(value):
            raise UnreadableData(name, f"SVG {label} {value} is not a finite length")
    if not width or not height or width < 0 or height < 0:
        raise UnreadableData(name, "SVG without a size: give width and height, or a viewBox")
    # our serialisation of the checked tree is what is stored and drawn: processing instructions
    # (xml-stylesheet), comments and anything the checks did not see are gone
    return with_default_namespace(root, SVG_NS[1:-1]), width, height


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
    if kind == "svg":
        data, width, height = _svg(path.name, data)
    else:
        width, height = _raster(path.name, kind, data)
    if width > MAX_SIDE or height > MAX_SIDE:
        raise UnreadableData(path.name, f"{width:g}x{height:g} exceeds the limit of {MAX_SIDE:,} per side")
    return ImageFile(path.name, kind, data, width, height)
