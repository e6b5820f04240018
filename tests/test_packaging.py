"""The wheel installs one import name, and the commands the image and compose run exist in that install."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, ROOT
from tests.test_compose import APP


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv outside the repository with the built wheel; its dependencies come from this venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    # build from a copy: setuptools writes build/ into the tree it builds
    junk = shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "var", "out", "*.egg-info", "__pycache__", ".*_cache"
    )
    source = shutil.copytree(ROOT, tmp / "src", symlinks=True, ignore=junk)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp / "dist").glob("docagent-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (purelib,) = (venv / "lib").glob("python*/site-packages")
    # dependencies only: a plain path entry, so this venv's editable docagent finder is not activated
    (purelib / "deps.pth").write_text("".join(p + "\n" for p in sys.path if p.endswith("site-packages")))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(purelib), str(wheel)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(purelib / "bin")  # pip --target's copy of the scripts, for the dev venv's python
    # the console script the wheel declares, written as pip writes it into a venv's bin/
    (entry_points,) = purelib.glob("docagent-*.dist-info/entry_points.txt")
    target = re.search(r"^docagent = ([\w.]+):(\w+)$", entry_points.read_text(), re.M)
    assert target, entry_points.read_text()
    script = venv / "bin" / "docagent"
    script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom {target[1]} import {target[2]}\nsys.exit({target[2]}())\n"
    )
    script.chmod(0o755)
    return venv


def run(venv: Path, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("DOCAGENT_")}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    env["DOCAGENT_VAR_DIR"] = str(cwd / "var")
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_wheel_holds_one_top_level_name(installed):
    (purelib,) = (installed / "lib").glob("python*/site-packages")
    names = {p.name for p in purelib.iterdir() if not p.name.endswith((".dist-info", ".pth"))} - {"__pycache__"}
    assert names == {"docagent"}
    assert {"api", "workers", "pipeline", "renderers", "templates", "cli"} <= {
        p.name for p in (purelib / "docagent").iterdir()
    }
    assert (purelib / "docagent" / "templates" / "prompts" / "planner_system.md").is_file()


def test_the_installed_commands_run_outside_the_repository(installed, tmp_path):
    where = run(installed, "python", "-c", "import docagent.api.app, docagent; print(docagent.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(installed) in where.stdout and str(ROOT) not in where.stdout
    bare = run(installed, "python", "-c", "import api", cwd=tmp_path)
    assert "No module named 'api'" in bare.stderr
    out = run(installed, "docagent", "generate", str(EXAMPLE), "--prompt", "Sales report", "--out", "out", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".docx", ".pdf", ".xlsx"]
    for sub in ("worker", "beat"):
        r = run(installed, "docagent", sub, "--help", cwd=tmp_path)
        assert r.returncode == 0 and "Usage" in r.stdout, r.stderr


def test_every_command_the_image_and_compose_run_exists_in_the_install(installed, tmp_path):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = [re.search(r"CMD (\[.*\])", (ROOT / "Dockerfile").read_text())[1]]  # type: ignore[index]
    argvs = [yaml.safe_load(commands[0])]
    argvs += [compose["services"][name]["command"] for name in APP]  # the services built from this image
    assert len(argvs) >= 6
    for argv in argvs:
        if argv[:2] == ["sh", "-c"]:  # a shell line: the command it finally execs
            argv = shlex.split(argv[2].rsplit("exec ", 1)[1])
        if argv[0] == "docagent":
            r = run(installed, *argv[:2], "--help", cwd=tmp_path)
            assert r.returncode == 0, (argv, r.stderr)
        elif argv[0] == "celery":
            module = argv[argv.index("-A") + 1]
            r = run(installed, "python", "-c", f"import {module}", cwd=tmp_path)
            assert r.returncode == 0, (argv, r.stderr)
        else:
            pytest.fail(f"unexpected command for the docagent image: {argv}")
