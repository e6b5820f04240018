"""The command line starts quickly: commands that only read, plan or explain load no format library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT

# Run the CLI in a fresh interpreter and record every module it loaded, however it exits.
PROBE = """
import atexit, json, sys
out, sys.argv = sys.argv[1], ["docagent", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from docagent.cli.main import main
main()
"""

# What `docagent --help` may load of docagent itself: the command table and the language names.
HELP_MODULES = [
    "docagent",
    "docagent.cli",
    "docagent.cli.main",
    "docagent.engine",  # the package's docstring only
    "docagent.engine.formats",
    "docagent.engine.i18n",
    "docagent.errors",
    "docagent.templates",
]

# Renderers, the QA pass, the database and plotting: none is needed to explain, profile or plan.
HEAVY = [
    "docagent.renderers",
    "docagent.service.store",
    "sqlalchemy",
    "matplotlib",
    "reportlab",
    "docx",
    "xlsxwriter",
    "pptx",
    "pypdf",
    "openxml_audit",
    "openpyxl",
    "py3langid",
]


def loaded(tmp_path: Path, *args: str) -> list[str]:
    record = tmp_path / "modules.json"
    r = subprocess.run(
        [sys.executable, "-c", PROBE, str(record), *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return json.loads(record.read_text())


def heavy_in(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_help_loads_only_the_command_table(tmp_path):
    modules = loaded(tmp_path, "--help")
    assert [m for m in modules if m.split(".")[0] == "docagent"] == HELP_MODULES
    assert heavy_in(modules) == []
    assert "pydantic_settings" not in modules  # settings are read when a command runs


@pytest.mark.parametrize(
    "args",
    [
        ["schema"],
        ["profile", str(EXAMPLE)],
        ["plan", str(EXAMPLE), "--prompt", "Sales report for Q4", "--planner", "rules", "--language", "en"],
    ],
    ids=["schema", "profile", "plan"],
)
def test_commands_that_do_not_render_load_no_renderer_database_or_plotting(tmp_path, args):
    assert heavy_in(loaded(tmp_path, *args)) == []


def test_a_bad_setting_still_fails_before_a_command_runs(tmp_path):
    env = {"DOCAGENT_JOB_TIME_LIMIT_S": "soon", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "m.json"), "schema"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode != 0
    assert "job_time_limit_s" in r.stderr
    assert r.stdout == ""


def test_a_pdf_job_loads_no_other_format_library_nor_the_database(tmp_path):
    args = ["generate", str(EXAMPLE), "-p", "Sales report for Q4", "--planner", "rules", "--language", "en"]
    modules = loaded(tmp_path, *args, "--format", "pdf", "--out", str(tmp_path / "out"))
    unneeded = ["sqlalchemy", "openpyxl", "openxml_audit", "docx", "xlsxwriter", "pptx", "py3langid"]
    assert [m for m in unneeded if m in modules] == []
    assert "reportlab" in modules  # the probe sees what the job loaded
