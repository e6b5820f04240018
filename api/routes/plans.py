"""/v1/plans/check: a plan's problems against datasets, before anything is submitted (the plan editor's check)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import OwnerDep, SettingsDep
from api.routes.datasets import owned
from docagent.errors import PlanError
from docagent.revisions import check_given

router = APIRouter(prefix="/v1/plans", tags=["plans"])


class PlanCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan: Any
    dataset_ids: list[str] = Field(default_factory=list, max_length=20)


class PlanProblems(BaseModel):
    ok: bool
    problems: list[str]


def problems_of(plan: Any, dataset_ids: list[str], owner: str, settings: SettingsDep) -> list[str]:
    for dataset_id in dataset_ids:
        owned(dataset_id, owner, settings)
    try:
        check_given(plan, dataset_ids, settings)
    except PlanError as e:
        return e.problems
    return []


@router.post("/check", response_model=PlanProblems)
def check(body: PlanCheck, owner: OwnerDep, settings: SettingsDep) -> PlanProblems:
    """Every problem of the plan against these datasets; 200 either way (nothing is created)."""
    found = problems_of(body.plan, body.dataset_ids, owner, settings)
    return PlanProblems(ok=not found, problems=found)
