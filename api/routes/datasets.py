"""POST/GET/DELETE /v1/datasets: uploads (data files, PNG/JPEG/SVG images, or .docx/.pptx/.xlsx templates)
streamed to disk, checked, stored."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status

from docagent.api.deps import OwnerDep, SettingsDep, StorageDep
from docagent.api.schemas import DatasetDetail, DatasetPublic, DatasetsPublic
from docagent.api.services import datasets

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetPublic,
    responses={200: {"model": DatasetPublic, "description": "The same bytes as the newest version: unchanged"}},
)
async def upload_dataset(
    request: Request,
    response: Response,
    settings: SettingsDep,
    owner: OwnerDep,
    file: Annotated[UploadFile, File()],
    name: Annotated[str | None, Form(max_length=200)] = None,
    kind: Annotated[Literal["template"] | None, Form(description="template: an organisation's template")] = None,
) -> DatasetPublic:
    """Store the file as a new version of its name (201), or answer 200 "unchanged" with the newest version
    when it holds the same bytes."""
    datasets.check_length(request.headers.get("content-length"), settings)
    row, created = await datasets.ingest_upload(file, name, owner, settings, kind)
    if not created:
        response.status_code = status.HTTP_200_OK
    return datasets.public_stored(row, created)


@router.get("", response_model=DatasetsPublic)
def list_datasets(
    owner: OwnerDep,
    settings: SettingsDep,
    skip: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(50, ge=1, le=200),
    kind: Literal["data", "image", "template"] | None = None,
) -> DatasetsPublic:
    return datasets.list_datasets(owner, settings, skip, limit, kind)


@router.get("/{dataset_id}", response_model=DatasetDetail)
def get_dataset(dataset_id: str, owner: OwnerDep, settings: SettingsDep) -> DatasetDetail:
    return datasets.get_dataset(dataset_id, owner, settings)


@router.delete("/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dataset(dataset_id: str, owner: OwnerDep, settings: SettingsDep, storage: StorageDep) -> None:
    datasets.delete_dataset(dataset_id, owner, settings, storage)
