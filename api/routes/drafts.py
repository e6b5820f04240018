"""/v1/drafts: a file profiled for a preview; it becomes a dataset version only when used or saved."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status

from docagent.api.deps import OwnerDep, SettingsDep
from docagent.api.schemas import DatasetPublic, DraftPublic
from docagent.api.services import datasets, drafts

router = APIRouter(prefix="/v1/drafts", tags=["datasets"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DraftPublic)
async def create_draft(
    request: Request, settings: SettingsDep, owner: OwnerDep, file: Annotated[UploadFile, File()]
) -> DraftPublic:
    datasets.check_length(request.headers.get("content-length"), settings)
    return DraftPublic.model_validate(await drafts.create(file, owner, settings))


@router.get("/{draft_id}", response_model=DraftPublic)
def get_draft(draft_id: str, owner: OwnerDep, settings: SettingsDep) -> DraftPublic:
    return DraftPublic.model_validate(drafts.get(draft_id, owner, settings))


@router.post(
    "/{draft_id}/dataset",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetPublic,
    responses={200: {"model": DatasetPublic, "description": "The same bytes as the newest version: unchanged"}},
)
def save_draft(
    draft_id: str,
    owner: OwnerDep,
    settings: SettingsDep,
    response: Response,
    name: Annotated[str | None, Form(max_length=200)] = None,
) -> DatasetPublic:
    """Save as dataset: store the draft as a new version of `name` (default: the file's name), or answer 200
    "unchanged" with the newest version when it holds the same bytes."""
    row, created = drafts.promote(draft_id, name, owner, settings)
    drafts.discard(draft_id, owner, settings)
    if not created:
        response.status_code = status.HTTP_200_OK
    return datasets.public_stored(row, created)


@router.delete("/{draft_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_draft(draft_id: str, owner: OwnerDep, settings: SettingsDep) -> None:
    drafts.discard(draft_id, owner, settings)
