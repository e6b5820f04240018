"""A stored dataset is read back from the typed tables written at upload: no workbook is parsed again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from docagent.engine.data import readers
from docagent.service.records import create_dataset, load_stored, stored_keys
from docagent.service.revisions import catalog_of, check_given
from docagent.service.storage import get_storage
from docagent.service.store import migrate
from docagent.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(var_dir=tmp_path / "var")
    migrate(s)
    return s


def workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    sales = wb.active
    sales.title = "Sales"
    sales.append(["day", "region", "amount"])
    for n in range(1, 31):
        sales.append([dt.date(2024, 1, n), ["North", "South"][n % 2], n * 1.5])
    sales.append(["Total", None, "=SUM(C2:C31)"])
    costs = wb.create_sheet("Q1 Costs")
    costs.append(["month", "cost"])
    for m in ("Jan", "Feb", "Mar"):
        costs.append([m, 10])
    wb.save(path)
    return path


def upload(tmp_path: Path, settings: Settings, name: str | None = None):  # noqa: ANN201
    work = tmp_path / "upload"
    work.mkdir(exist_ok=True)
    return create_dataset(workbook(work / "upload"), "book.xlsx", name, "o", settings)


def test_a_stored_workbook_is_read_back_typed_without_parsing_it_again(tmp_path, settings, monkeypatch):
    row = upload(tmp_path, settings, name="Finance")
    reading = []
    monkeypatch.setattr(readers, "stage_xlsx", lambda *a, **k: reading.append(a) or [])
    with catalog_of([row.id], settings) as catalog:
        names = sorted(catalog.datasets)
        sales = catalog.datasets["finance_sales"]
        types = {c.name: c.type for c in sales.columns}
        first = catalog.con.execute(f'SELECT day FROM "{sales.table}" ORDER BY rowid LIMIT 1').fetchone()
    assert reading == []  # the original was not parsed
    assert names == ["finance_q1_costs", "finance_sales"]  # as ingesting the file under its name would name them
    assert types == {"day": "date", "region": "text", "amount": "number"}
    assert (sales.source, sales.format, sales.rows) == ("book.xlsx", "xlsx", 30)
    assert any("total" in n.lower() for n in sales.notes), sales.notes  # what ingestion dropped is still said
    assert first == (dt.date(2024, 1, 1),)
    with catalog_of([row.id], settings) as catalog:
        months = catalog.datasets["finance_q1_costs"].column("month")
    assert months is not None and months.order == ["Jan", "Feb", "Mar"]  # ordinal keys keep their order


def test_a_plan_check_against_a_stored_workbook_does_not_parse_it(tmp_path, settings, monkeypatch):
    row = upload(tmp_path, settings)
    monkeypatch.setattr(readers, "stage_xlsx", lambda *a, **k: pytest.fail("the workbook was parsed again"))
    plan = {
        "meta": {"title": "Sales"},
        "blocks": [{"type": "table", "title": "By region", "query": {"dataset": "book_sales", "select": [
            {"column": "region"}, {"column": "amount", "agg": "sum"}]}}],
    }  # fmt: skip
    assert check_given(plan, [row.id], settings).meta.title == "Sales"


def test_deleting_a_dataset_removes_its_typed_tables(tmp_path, settings):
    from docagent.api.services.datasets import delete_dataset

    row = upload(tmp_path, settings)
    keys = stored_keys(row, settings)
    storage = get_storage(settings)
    assert len(keys) == 4 and all(storage.exists(k) for k in keys)  # the file, two tables, the manifest
    delete_dataset(row.id, "o", settings, storage)
    assert not any(storage.exists(k) for k in keys)


def test_a_dataset_stored_without_typed_tables_is_still_read(tmp_path, settings):
    row = upload(tmp_path, settings)
    storage = get_storage(settings)
    for key in stored_keys(row, settings)[1:]:
        storage.delete(key)  # as stored before typed tables were kept
    from docagent.engine.data.catalog import Catalog

    with Catalog(settings=settings) as catalog:
        assert sorted(d.name for d in load_stored(catalog, row, settings)) == ["book_q1_costs", "book_sales"]
