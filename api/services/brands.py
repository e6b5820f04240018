"""Brand kits: list (with the theme names), store or replace, read, delete; a job's choice checked."""

from __future__ import annotations

from sqlalchemy import delete as sa_delete

from docagent.api.schemas import BrandCreate, BrandPublic, BrandsPublic
from docagent.engine.plan import Brand
from docagent.engine.themes import theme_names
from docagent.engine.validate import brand_problems
from docagent.errors import BrandNotFound, InvalidBrand
from docagent.service.brands import brand_rows, find_brand, font_note, image_names, kit_of, save_brand
from docagent.service.store import BrandRow, session
from docagent.settings import Settings


def public(row: BrandRow) -> BrandPublic:
    kit = Brand.model_validate(row.kit)
    note = font_note(kit.font)
    return BrandPublic(
        name=row.name,
        primary=kit.primary,
        accent=kit.accent,
        palette=kit.palette,
        font=kit.font or None,
        logo=kit.logo,
        notes=[note] if note else [],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def list_brands(owner: str, settings: Settings) -> BrandsPublic:
    rows = brand_rows(owner, settings)
    return BrandsPublic(themes=theme_names(), data=[public(r) for r in rows], count=len(rows))


def put(name: str, body: BrandCreate, owner: str, settings: Settings) -> tuple[BrandPublic, bool]:
    kit = Brand(**{**body.model_dump(), "font": body.font or ""})
    row, created = save_brand(owner, name, kit, settings)
    return public(row), created


def get_row(name: str, owner: str, settings: Settings) -> BrandRow:
    row = find_brand(owner, name, settings)
    if row is None:  # another owner's kit is "not found" too
        raise BrandNotFound("brand kit not found")
    return row


def get(name: str, owner: str, settings: Settings) -> BrandPublic:
    return public(get_row(name, owner, settings))


def delete(name: str, owner: str, settings: Settings) -> None:
    row = get_row(name, owner, settings)
    with session(settings) as s:
        s.execute(sa_delete(BrandRow).where(BrandRow.id == row.id))


def check_choice(name: str | None, owner: str, settings: Settings) -> Brand | None:
    """The kit a job or schedule names, usable now: one the owner lacks, or whose logo is gone, is refused
    before anything is queued (the job would only fail with it)."""
    if name is None:
        return None
    kit = kit_of(owner, name, settings)
    found = brand_problems(kit, image_names(owner, settings), whence="uploaded")
    if found:
        raise InvalidBrand([f"brand kit {name!r}: {p}" for p in found])
    return kit
