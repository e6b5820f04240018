"""/v1/plans/check: a plan's problems against datasets, before anything is submitted (the plan editor's check)."""

from __future__ import annotations

from fastapi import APIRouter

from docagent.api.deps import OwnerDep, SettingsDep
from docagent.api.schemas import PlanCheck, PlanProblems
from docagent.api.services import plans

router = APIRouter(prefix="/v1/plans", tags=["plans"])


@router.post("/check", response_model=PlanProblems)
def check(body: PlanCheck, owner: OwnerDep, settings: SettingsDep) -> PlanProblems:
    """Every problem of the plan against these datasets; 200 either way (nothing is created)."""
    found = plans.problems(body.plan, body.dataset_ids, owner, settings)
    return PlanProblems(ok=not found, problems=found)
