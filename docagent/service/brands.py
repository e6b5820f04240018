"""Brand kits per owner: a plan's meta.brand stored under a name, that jobs and schedules may name.

A kit is checked exactly as a plan's meta.brand is (docagent.engine.validate.brand_problems): hex
colours, at most ten palette colours, and a logo that names an image the owner has uploaded.
A font is never refused for being unavailable: Word headings use it by name, the PDF keeps a
font it can embed, and that fallback is recorded as a note. Only what is no font name is refused
(control characters, over 31 characters: the OOXML limit). An explicitly chosen kit replaces whatever
meta.brand the planner wrote (the person's choice wins over the model's guess).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from docagent.engine.plan import Brand
from docagent.engine.validate import brand_problems
from docagent.errors import InvalidBrand, UnknownBrand
from docagent.service.store import BrandRow, DatasetRow, session
from docagent.settings import Settings

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
PDF_FONT = "DejaVu Sans"  # the font the PDF embeds for Latin text (renderers.fonts)


def font_note(font: str | None) -> str | None:
    """A named font is a fallback in the PDF, recorded rather than failed."""
    if not font:
        return None
    return f"brand font {font!r}: named for Word headings; the PDF uses {PDF_FONT}, the font it can embed"


def image_names(owner: str, settings: Settings) -> list[str]:
    """The names of the images this owner has uploaded (what an image block or a logo may name)."""
    with session(settings) as s:
        names = s.scalars(
            select(DatasetRow.name).where(DatasetRow.owner == owner, DatasetRow.kind == "image").distinct()
        ).all()
    return sorted(names)


def latest_image(owner: str, name: str, settings: Settings, kind: str = "image") -> DatasetRow | None:
    with session(settings) as s:
        return s.scalars(
            select(DatasetRow)
            .where(DatasetRow.owner == owner, DatasetRow.name == name, DatasetRow.kind == kind)
            .order_by(DatasetRow.version.desc())
            .limit(1)
        ).first()


def named_images(plan: Any) -> list[str]:
    """The image names a plan (as JSON) refers to: image blocks' sources and the brand's logo."""
    if not isinstance(plan, dict):
        return []
    blocks = plan.get("blocks")
    blocks = blocks if isinstance(blocks, list) else []
    names = [b.get("source") for b in blocks if isinstance(b, dict) and b.get("type") == "image"]
    meta = plan.get("meta")
    brand = meta.get("brand") if isinstance(meta, dict) else None
    names.append(brand.get("logo") if isinstance(brand, dict) else None)
    return list(dict.fromkeys(n for n in names if isinstance(n, str) and n))


def with_images(
    owner: str, dataset_ids: list[str], names: list[str], settings: Settings, kind: str = "image"
) -> list[str]:
    """`dataset_ids` plus the owner's newest upload of each named image (or template) not among them already.

    A name the owner has no image for is left out: validation then says which images there are.
    """
    with session(settings) as s:
        chosen = set(s.scalars(select(DatasetRow.name).where(DatasetRow.id.in_(dataset_ids))).all())
    out = list(dataset_ids)
    for name in names:
        row = None if name in chosen else latest_image(owner, name, settings, kind)
        if row is not None:
            out.append(row.id)
    return out


def check_name(name: str) -> None:
    if not NAME.fullmatch(name):
        raise InvalidBrand(
            [f"name: {name[:80]!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"]
        )


def save_brand(owner: str, name: str, kit: Brand, settings: Settings) -> tuple[BrandRow, bool]:
    """Store or replace the owner's kit `name` (and True when it is new); InvalidBrand lists every problem."""
    check_name(name)
    found = brand_problems(kit, image_names(owner, settings), whence="uploaded")
    if found:
        raise InvalidBrand(found)
    with session(settings) as s:
        row = s.scalars(select(BrandRow).where(BrandRow.owner == owner, BrandRow.name == name)).first()
        created = row is None
        if row is None:
            row = BrandRow(owner=owner, name=name)
            s.add(row)
        row.kit = kit.model_dump(mode="json")
    return row, created


def find_brand(owner: str, name: str, settings: Settings) -> BrandRow | None:
    with session(settings) as s:
        return s.scalars(select(BrandRow).where(BrandRow.owner == owner, BrandRow.name == name)).first()


def brand_rows(owner: str, settings: Settings) -> list[BrandRow]:
    with session(settings) as s:
        return list(s.scalars(select(BrandRow).where(BrandRow.owner == owner).order_by(BrandRow.name)))


def kit_of(owner: str, name: str, settings: Settings) -> Brand:
    """The owner's kit `name` as a plan's meta.brand; UnknownBrand names the kits there are."""
    row = find_brand(owner, name, settings)
    if row is None:
        known = ", ".join(repr(r.name) for r in brand_rows(owner, settings)) or "none (PUT /v1/brands/NAME adds one)"
        raise UnknownBrand(f"unknown brand {name!r}; your brand kits: {known}")
    return Brand.model_validate(row.kit)


__all__ = [
    "brand_rows",
    "find_brand",
    "font_note",
    "image_names",
    "kit_of",
    "latest_image",
    "named_images",
    "save_brand",
    "with_images",
]
