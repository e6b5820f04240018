"""Imports point one way: pipeline -> renderers -> docagent; the core imports no format library."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 4 kept, 0 broken." in r.stdout


@pytest.mark.parametrize(
    ("lib", "owner"),
    [
        (
            "docx",
            [
                "docagent/engine/data/references.py",
                "renderers/docfill.py",
                "renderers/docstyle.py",
                "renderers/word.py",
            ],
        ),  # reads refs; writes docs; fills and styles templates
        ("xlsxwriter", "renderers/excel.py"),
        ("reportlab", "renderers/pdf.py"),
        ("svglib", "renderers/pdf.py"),
        ("matplotlib", "renderers/charts.py"),
        (
            "pptx",
            [
                "renderers/deckfill.py",
                "renderers/deckstyle.py",
                "renderers/slidecharts.py",
                "renderers/slidecheck.py",
                "renderers/slides.py",
            ],
        ),
        ("PIL", ["docagent/engine/images.py", "renderers/measure.py"]),  # checks given images; font metrics for slides
        # reads uploads and checks; fills an organisation's workbook, which XlsxWriter cannot open, and reads
        # one to write its sheets again (style mode)
        (
            "openpyxl",
            ["docagent/engine/data/readers.py", "renderers/qa.py", "renderers/xlsxfill.py", "renderers/xlsxstyle.py"],
        ),
        ("pypdf", "docagent/engine/data/references.py"),  # reads a PDF given as a reference
        ("pypdfium2", ["renderers/preview.py", "renderers/qa.py"]),  # previews and checks the PDFs we write
        ("openxml_audit", "renderers/qa.py"),
        ("cairosvg", "renderers/charts.py"),
        ("duckdb", None),  # the data layer's engine: docagent/engine/data only
    ],
)
def test_each_format_library_is_imported_in_exactly_one_module(lib, owner):
    pattern = re.compile(rf"^\s*(import|from) {lib}\b", re.M)
    users = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.glob("*/**/*.py")
        if not {".venv", "tests", "scripts", "bench"} & set(p.parts) and pattern.search(p.read_text())
    )
    if owner is None:
        assert users and all(u.startswith("docagent/engine/data/") for u in users), users
    else:
        assert users == (owner if isinstance(owner, list) else [owner]), users


def test_no_route_module_imports_another_and_pages_call_services():
    """JSON routes and dashboard pages share api/services; a handler is never called as a library function."""
    routes = sorted((ROOT / "api" / "routes").glob("*.py"))
    for p in routes:
        assert not re.search(
            r"^\s*(from docagent\.api\.routes\b|from docagent\.api import routes|import docagent\.api\.routes)",
            p.read_text(),
            re.M,
        ), p
    assert "from docagent.api.services import" in (ROOT / "api" / "routes" / "dashboard.py").read_text()


LAYERED = ("api", "workers", "pipeline", "renderers", "templates", "cli")


def test_one_import_name_every_layer_is_a_docagent_subpackage():
    """The top-level folders install as docagent.api, docagent.workers, ...: nothing imports them by their bare name."""
    for name in LAYERED:
        link = ROOT / "docagent" / name
        assert link.is_symlink() and link.resolve() == (ROOT / name).resolve(), link
    bare = re.compile(rf"^\s*(from|import) ({'|'.join(LAYERED)})(\.|\s)", re.M)
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.glob("*/**/*.py")
        if ".venv" not in p.parts and bare.search(p.read_text())
    ]
    assert offenders == []
