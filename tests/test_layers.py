"""Imports point one way: pipeline -> renderers -> docagent; the core imports no format library."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERED = ("api", "workers", "pipeline", "renderers", "templates", "cli")


def check(*argv: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(root / "scripts" / "check.py"), *argv], capture_output=True, text=True)


def code_copy(tmp: Path) -> Path:
    """The package's folders, pyproject.toml and the check script, copied: a test may break them."""
    for name in ("docagent", "scripts", *LAYERED):
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp)
    return tmp


def test_import_contracts_hold():
    r = check("imports", "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Contracts: 4 kept, 0 broken." in r.stdout


def test_the_contract_check_sees_the_mapped_folders_and_fails_on_a_broken_contract(tmp_path):
    """Run against a copy in which a renderer imports the API: the layers contract must be broken."""
    copy = code_copy(tmp_path)
    common = copy / "renderers" / "common.py"
    common.write_text(common.read_text() + "\nimport docagent.api.app  # noqa\n")
    r = check("imports", "--no-cache", root=copy)
    assert r.returncode != 0 and "Pipeline layers BROKEN" in r.stdout, r.stdout + r.stderr
    assert "docagent.renderers.common -> docagent.api.app" in r.stdout


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


def test_one_import_name_every_layer_is_a_docagent_subpackage():
    """The top-level folders install as docagent.api, docagent.workers, ... through setuptools' package-dir
    mapping, with no link in the tree; nothing imports them by their bare name."""
    links = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert [line for line in links.splitlines() if line.startswith("120000")] == []
    with (ROOT / "pyproject.toml").open("rb") as f:
        setuptools = tomllib.load(f)["tool"]["setuptools"]
    assert setuptools["package-dir"] == {f"docagent.{name}": name for name in sorted(LAYERED)}
    bare = re.compile(rf"^\s*(from|import) ({'|'.join(LAYERED)})(\.|\s)", re.M)
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.glob("*/**/*.py")
        if ".venv" not in p.parts and bare.search(p.read_text())
    ]
    assert offenders == []


def modules() -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import check as checks
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return checks.modules()


def test_every_package_folder_is_listed_for_the_wheel_and_the_checks(tmp_path):
    """The checks name each module as it installs; a new subpackage missing from [tool.setuptools] packages
    (it would be left out of the wheel) stops them until it is listed."""
    found = modules()
    assert {"docagent", "docagent.api.routes.jobs", "docagent.renderers.pdf", "docagent.engine.data.catalog"} <= set(
        found
    )
    assert found["docagent.api.routes.jobs"] == ROOT / "api" / "routes" / "jobs.py"
    copy = code_copy(tmp_path)
    (copy / "renderers" / "extra").mkdir()
    (copy / "renderers" / "extra" / "__init__.py").write_text("")
    r = check("types", root=copy)
    assert r.returncode != 0 and "not in pyproject.toml [tool.setuptools] packages: renderers/extra" in r.stderr
