"""The command line as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE, ROOT

EXE = str(Path(sys.executable).with_name("docagent"))


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_generate_prints_one_path_per_file(tmp_path):
    r = run("generate", str(EXAMPLE), "--prompt", "Sales report for Q4", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    paths = [Path(line) for line in r.stdout.splitlines()]
    assert [p.suffix for p in paths] == [".docx", ".xlsx", ".pdf"]
    assert all(p.is_file() and p.stat().st_size > 5000 for p in paths)
    assert paths[0].name == "Sales-report-for-Q4.docx"


def test_generate_one_format(tmp_path):
    r = run("generate", str(EXAMPLE), "-p", "x", "--format", "xlsx", "--out", str(tmp_path))
    assert r.returncode == 0 and r.stdout.strip().endswith(".xlsx")


def test_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    r = run("generate", str(bad), "-p", "x", "--out", str(tmp_path))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == "error: bad.csv: binary data, not a text table (expected CSV or TSV)"
    assert list(tmp_path.iterdir()) == [bad]  # nothing half-written


def test_no_data_and_no_model_says_so(tmp_path):
    r = run("generate", "--prompt", "A lesson plan on fractions", "--out", str(tmp_path))
    assert r.returncode == 2
    assert "the rules planner needs data" in r.stderr and "DOCAGENT_LLM_BASE_URL" in r.stderr


def test_plan_and_profile_print_json():
    r = run("plan", str(EXAMPLE), "--prompt", "Regional review")
    assert r.returncode == 0
    plan = json.loads(r.stdout)
    assert plan["meta"]["title"] == "Regional review" and "planner=rules" in r.stderr
    p = json.loads(run("profile", str(EXAMPLE)).stdout)
    assert p[0]["rows"] == 2922 and p[0]["columns"][0]["type"] == "date"


def test_unknown_theme_is_a_clear_error(tmp_path):
    r = run("generate", str(EXAMPLE), "-p", "x", "--theme", "neon", "--out", str(tmp_path))
    assert r.returncode == 2 and "unknown theme 'neon'; available: classic, corporate" in r.stderr


def test_a_stop_signal_while_serve_starts_a_child_stops_that_child_too(monkeypatch):
    """SIGTERM between a child's fork and its listing (seen once under load: the scheduler outlived `serve`)."""
    import signal

    import pytest

    from docagent.cli import children

    started: list[FakeChild] = []

    class FakeChild:
        def __init__(self, argv: list[str], env: dict[str, str]) -> None:
            self.argv, self.terminated = argv, False
            started.append(self)
            signal.raise_signal(signal.SIGTERM)  # the process exists; Popen has not returned yet

        def terminate(self) -> None:
            self.terminated = True

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(children.subprocess, "Popen", FakeChild)
    kids = children.Children(stop_s=1)
    previous = signal.signal(signal.SIGTERM, kids.stop)
    try:
        with pytest.raises(SystemExit) as stopped:
            kids.start(["worker"], {})
            kids.start(["beat"], {})
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert [(c.argv, c.terminated) for c in started] == [(["worker"], True)] and kids.procs == []
