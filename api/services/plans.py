"""Plans: every problem of a plan against the owner's datasets, before anything is submitted."""

from __future__ import annotations

from typing import Any

from docagent.api.services.datasets import get_row as dataset_row
from docagent.errors import PlanError
from docagent.service.revisions import check_given
from docagent.settings import Settings


def problems(plan: Any, dataset_ids: list[str], owner: str, settings: Settings) -> list[str]:
    for dataset_id in dataset_ids:
        dataset_row(dataset_id, owner, settings)  # "not found" for a dataset that is not yours
    try:
        check_given(plan, dataset_ids, settings)
    except PlanError as e:
        return e.problems
    return []
