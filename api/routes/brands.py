"""/v1/brands: the theme names and the owner's brand kits (a plan's meta.brand, stored by name)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response, status

from docagent.api.deps import OwnerDep, SettingsDep
from docagent.api.schemas import BrandCreate, BrandPublic, BrandsPublic
from docagent.api.services import brands

router = APIRouter(prefix="/v1/brands", tags=["brands"])
BrandName = Path(max_length=64, examples=["acme"])


@router.get("", response_model=BrandsPublic)
def list_brands(owner: OwnerDep, settings: SettingsDep) -> BrandsPublic:
    return brands.list_brands(owner, settings)


@router.put(
    "/{name}",
    response_model=BrandPublic,
    responses={201: {"model": BrandPublic, "description": "Created"}},
)
def put_brand(
    body: BrandCreate, owner: OwnerDep, settings: SettingsDep, response: Response, name: str = BrandName
) -> BrandPublic:
    """Store the kit under this name, or replace it (200); 201 when it is new."""
    kit, created = brands.put(name, body, owner, settings)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return kit


@router.get("/{name}", response_model=BrandPublic)
def get_brand(owner: OwnerDep, settings: SettingsDep, name: str = BrandName) -> BrandPublic:
    return brands.get(name, owner, settings)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_brand(owner: OwnerDep, settings: SettingsDep, name: str = BrandName) -> None:
    brands.delete(name, owner, settings)
