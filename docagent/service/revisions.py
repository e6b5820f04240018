"""Jobs from plans: check a given plan against stored datasets, and make a revision of a job.

The API calls these before queueing anything, so a plan that does not fit its
data is refused with every problem and no job exists.
"""

from __future__ import annotations

from typing import Any

from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.engine.planfile import check
from docagent.errors import NothingToRevise, RevisionNeedsModel
from docagent.service.lifecycle import JobSpec
from docagent.service.records import load_stored
from docagent.service.storage import get_storage
from docagent.service.store import DatasetRow, JobRow, session
from docagent.settings import Settings


def catalog_of(dataset_ids: list[str], settings: Settings) -> Catalog:
    """An open catalog holding the stored datasets, under the names plans use for them."""
    with session(settings) as s:
        rows = [s.get(DatasetRow, i) for i in dataset_ids]
    catalog = Catalog(settings=settings)
    try:
        for row in rows:
            if row is not None:
                if row.kind == "template":
                    with get_storage(settings).local_path(row.storage_key) as path:
                        catalog.add_template(path, row.name)
                else:
                    load_stored(catalog, row, settings)  # typed tables: no workbook is parsed in the API
    except BaseException:
        catalog.close()
        raise
    return catalog


def check_given(data: Any, dataset_ids: list[str], settings: Settings) -> Plan:
    """The plan if it fits these datasets; PlanError listing every problem otherwise."""
    with catalog_of(dataset_ids, settings) as catalog:
        return check(data, catalog)


def revision_of(parent: JobRow, instruction: str, settings: Settings) -> JobSpec:
    """A revision of `parent` asking the model for `instruction`; refuses when it cannot be revised."""
    if not settings.llm_base_url:
        raise RevisionNeedsModel(
            "revising a plan needs the model, and none is configured (DOCAGENT_LLM_BASE_URL); "
            "you can still edit the plan by hand and submit it as a new job's plan"
        )
    if parent.plan is None:
        raise NothingToRevise(f"job {parent.id} has no plan to revise yet ({parent.status})")
    return JobSpec(
        parent.prompt,
        list(parent.dataset_ids),
        list(parent.formats),
        "llm",
        parent.theme,
        parent.language,
        parent.brand,
        given_plan=parent.plan,
        instruction=instruction,
        parent_id=parent.id,
    )


__all__ = ["catalog_of", "check_given", "revision_of"]
