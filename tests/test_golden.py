"""Golden-file tests in XlsxWriter's style: unzip, drop volatile parts, compare pretty XML.

A failure reads as an XML diff. After an intended change, regenerate with
DOCAGENT_UPDATE_GOLDEN=1 pytest tests/test_golden.py and review the diff in git.
"""

from __future__ import annotations

import difflib
import os
import re
import zipfile
from pathlib import Path
from xml.dom import minidom

import pytest

from docagent.engine.bind import bind
from docagent.engine.data.catalog import Catalog
from docagent.engine.plan import Plan
from docagent.engine.validate import validate
from docagent.renderers import render_all

GOLDEN = Path(__file__).parent / "golden"
VOLATILE = re.compile(r"^(docProps/|word/media/|xl/media/|customXml/)|\.rels$|^\[Content_Types\]")
CSV = "team,quarter,amount\nAlpha,Q1,10.5\nAlpha,Q2,12\nBeta,Q1,7.25\nBeta,Q2,9\nGamma,Q1,3\n"


def plan() -> Plan:
    return Plan.model_validate(
        {
            "meta": {"title": "Golden report", "author": "tests", "subtitle": "Fixed input"},
            "metrics": [{"name": "total", "label": "Total", "dataset": "teams", "agg": "sum", "column": "amount"}],
            "blocks": [
                {"type": "heading", "text": "Summary", "level": 1},
                {"type": "paragraph", "text": "The teams booked {total} in total."},
                {"type": "kpis", "items": [{"metric": "total"}]},
                {
                    "type": "table",
                    "title": "By team",
                    "totals": True,
                    "query": {
                        "dataset": "teams",
                        "select": [
                            {"column": "team"},
                            {"column": "amount", "agg": "sum", "label": "Amount", "format": "number"},
                            {"agg": "count", "label": "Rows"},
                        ],
                    },
                },
                {"type": "bullets", "items": ["One", "Two"]},
                {
                    "type": "table",
                    "title": "Plan",
                    "columns": ["Step", "Owner"],
                    "rows": [["Kick-off", "Ana"], ["Review", "Bo"]],
                },
            ],
        }
    )


def normalised(path: Path) -> dict[str, str]:
    out = {}
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if VOLATILE.search(name) or not name.endswith(".xml"):
                continue
            out[name] = minidom.parseString(z.read(name)).toprettyxml(indent=" ")
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    out = tmp_path_factory.mktemp("golden")
    (out / "teams.csv").write_text(CSV)
    with Catalog() as c:
        c.ingest(out / "teams.csv")
        bound = bind(validate(plan(), c), c)
    return render_all(bound, "corporate", out, "golden", ["docx", "xlsx"])[0]


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_matches_golden(files, fmt):
    got = normalised(files[fmt])
    ref_dir = GOLDEN / fmt
    if os.environ.get("DOCAGENT_UPDATE_GOLDEN"):
        for name, text in got.items():
            (ref_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (ref_dir / name).write_text(text)
    want = {str(p.relative_to(ref_dir)): p.read_text() for p in sorted(ref_dir.rglob("*.xml"))}
    assert sorted(got) == sorted(want)
    for name in want:
        if got[name] != want[name]:
            diff = "\n".join(
                difflib.unified_diff(want[name].splitlines(), got[name].splitlines(), name, name, lineterm="")
            )
            pytest.fail(f"{fmt}: {name} differs from the golden file\n{diff[:4000]}")
