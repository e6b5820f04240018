"""/v1/schedules: recurring report jobs, run history, run now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from docagent.api.deps import OwnerDep, SettingsDep
from docagent.api.schemas import (
    RunPublic,
    RunsPublic,
    ScheduleCreate,
    SchedulePreview,
    SchedulePublic,
    SchedulesPublic,
    ScheduleUpdate,
)
from docagent.api.services import schedules

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SchedulePublic)
def create(body: ScheduleCreate, owner: OwnerDep, settings: SettingsDep) -> SchedulePublic:
    return schedules.create(body, owner, settings)


@router.get("", response_model=SchedulesPublic)
def list_schedules(owner: OwnerDep, settings: SettingsDep) -> SchedulesPublic:
    return schedules.list_schedules(owner, settings)


@router.get("/preview", response_model=SchedulePreview)
def preview(
    owner: OwnerDep,
    cron: Annotated[str, Query(max_length=120, examples=["0 8 * * mon"])],
    timezone: Annotated[str, Query(max_length=64, examples=["Asia/Shanghai"])] = "UTC",
) -> SchedulePreview:
    """A cron expression in words and its next five fire times in the zone; 422 names the field at fault."""
    return schedules.preview(cron, timezone)


@router.get("/{schedule_id}", response_model=SchedulePublic)
def get(schedule_id: str, owner: OwnerDep, settings: SettingsDep) -> SchedulePublic:
    return schedules.get(schedule_id, owner, settings)


@router.patch("/{schedule_id}", response_model=SchedulePublic)
def patch(schedule_id: str, body: ScheduleUpdate, owner: OwnerDep, settings: SettingsDep) -> SchedulePublic:
    return schedules.update(schedule_id, body, owner, settings)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(schedule_id: str, owner: OwnerDep, settings: SettingsDep) -> None:
    schedules.delete(schedule_id, owner, settings)


@router.post("/{schedule_id}/run", status_code=status.HTTP_202_ACCEPTED, response_model=RunPublic)
def run(schedule_id: str, owner: OwnerDep, settings: SettingsDep) -> RunPublic:
    return schedules.run(schedule_id, owner, settings)


@router.get("/{schedule_id}/runs", response_model=RunsPublic)
def runs(schedule_id: str, owner: OwnerDep, settings: SettingsDep, limit: int = Query(50, ge=1, le=500)) -> RunsPublic:
    return schedules.runs(schedule_id, owner, settings, limit)
