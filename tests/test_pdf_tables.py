"""Long PDF tables split a page at a time: every row once, the header on every page, work linear in rows."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from reportlab.lib import colors

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.renderers import pdf, render_all

RED, BLUE, GREEN = colors.red, colors.blue, colors.green


def long_plan(rows: int) -> Plan:
    return Plan.model_validate(
        {
            "meta": {"title": "Rows"},
            "blocks": [
                {
                    "type": "table",
                    "title": "Every order",
                    "columns": ["Order", "Region", "Units"],
                    "rows": [[f"A-{n:05d}", "North" if n % 2 else "South", n] for n in range(rows)],
                }
            ],
        }
    )


def render(tmp_path: Path, rows: int) -> Path:
    with Catalog() as c:
        files, _ = render_all(bind(long_plan(rows), c), "corporate", tmp_path, f"rows{rows}", ["pdf"])
    return files["pdf"]


def test_every_row_once_in_order_and_the_header_on_every_page(tmp_path):
    pages = [p.extract_text() for p in pypdf.PdfReader(render(tmp_path, 300)).pages]
    with_rows = [p for p in pages if "A-" in p]
    assert len(with_rows) > 3
    assert all("Order" in p and "Region" in p for p in with_rows)
    text = "\n".join(pages)
    found = [int(w[2:]) for w in text.split() if w.startswith("A-")]
    assert found == list(range(300))


def test_work_grows_linearly_with_rows(tmp_path, monkeypatch):
    """ReportLab's own split rebuilt every remaining row at each page break; count the rows tables hold."""
    built: list[int] = []
    original = pdf.RLTable.__init__

    def counting(self, data, *a, **kw):
        built.append(len(data))
        original(self, data, *a, **kw)

    monkeypatch.setattr(pdf.RLTable, "__init__", counting)
    work = {}
    for rows in (400, 1600):
        built.clear()
        render(tmp_path, rows)
        work[rows] = sum(built)
    assert 3.5 < work[1600] / work[400] < 4.5  # 4x the rows, 4x the work (n^2 would be 16x)


@pytest.mark.parametrize(
    ("command", "span", "expected"),
    [
        # the header's own styling is in every piece
        (("BACKGROUND", (0, 0), (-1, 0), RED), (50, 90), [("BACKGROUND", (0, 0), (-1, 0), RED)]),
        # body styling is renumbered: row 50 of the table is row 1 of the piece
        (("ALIGN", (2, 1), (2, -1), "RIGHT"), (50, 90), [("ALIGN", (2, 1), (2, 40), "RIGHT")]),
        # one command over header and body stays one (a box stays one box)
        (("BOX", (0, 0), (-1, -1), 1, RED), (50, 90), [("BOX", (0, 0), (-1, 40), 1, RED)]),
        # the totals row (-1) is only in the last piece
        (("LINEABOVE", (0, -1), (-1, -1), 1, RED), (50, 90), []),
        (("LINEABOVE", (0, -1), (-1, -1), 1, RED), (50, 100), [("LINEABOVE", (0, 50), (-1, 50), 1, RED)]),
        # a single highlighted cell lands in its piece, or nowhere
        (("BACKGROUND", (1, 60), (1, 60), GREEN), (50, 90), [("BACKGROUND", (1, 11), (1, 11), GREEN)]),
        (("BACKGROUND", (1, 20), (1, 20), GREEN), (50, 90), []),
        # bands keep their phase: row 50 had the second colour, and now starts the piece
        (
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [RED, BLUE]),
            (51, 90),
            [("ROWBACKGROUNDS", (0, 1), (-1, 39), [RED, BLUE])],
        ),
        (
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [RED, BLUE]),
            (50, 90),
            [("ROWBACKGROUNDS", (0, 1), (-1, 40), [BLUE, RED])],
        ),
    ],
)
def test_style_commands_follow_their_rows_into_each_piece(command, span, expected):
    assert pdf.chunk_commands([command], 100, *span) == expected
