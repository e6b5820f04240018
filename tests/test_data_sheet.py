"""A workbook's data sheet holds the file's first rows, in file order, when the dataset is larger than the sheet."""

from __future__ import annotations

import pytest

from docagent.engine.bind import DATA_SHEET_ROWS, bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.settings import Settings


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_data_sheets_rows_are_the_first_rows_of_the_file_in_order(tmp_path, fmt):
    total = 3 * DATA_SHEET_ROWS
    csv = tmp_path / "events.csv"
    with csv.open("w") as f:
        f.write("n,day,amount\n")
        for n in range(1, total + 1):
            f.write(f"{n},2024-01-{n % 28 + 1:02},{n % 97}.5\n")
    plan = Plan.model_validate(
        {
            "meta": {"title": "Events"},
            "blocks": [
                {
                    "type": "table",
                    "title": "Events",
                    "query": {"dataset": "events", "select": [{"column": "n"}], "limit": 5},
                }
            ],
        }
    )
    with Catalog(settings=Settings(var_dir=tmp_path / "var")) as catalog:
        path = csv
        if fmt == "parquet":
            path = tmp_path / "events.parquet"
            catalog.con.execute(f"COPY (SELECT * FROM read_csv('{csv}')) TO '{path}' (FORMAT parquet)")
        catalog.con.execute("SET threads = 4")  # several threads read a table at once, as on a server
        catalog.ingest(path, name="events")
        sheet = bind(plan, catalog).data["events"]
    assert sheet.total_rows == total and not sheet.complete
    assert [row[0] for row in sheet.rows] == list(range(1, DATA_SHEET_ROWS + 1))
