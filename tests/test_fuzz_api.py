"""Schemathesis over every route of our own OpenAPI spec, on a live server: no request may cause a 5xx."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE
from tests.service import BIN, embedded

pytestmark = pytest.mark.skipif(not (BIN / "schemathesis").exists(), reason="schemathesis is not installed")


def test_no_server_errors_on_generated_requests(tmp_path):
    with embedded(tmp_path, DOCAGENT_JOBS_PER_MINUTE="100000", DOCAGENT_MAX_CONCURRENT_JOBS="100000") as stack:
        with stack.client() as c, EXAMPLE.open("rb") as f:  # something real for the generated ids to hit nearby
            c.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "sales"})
        report = tmp_path / "junit.xml"
        r = subprocess.run(
            [
                str(BIN / "schemathesis"),
                "run",
                f"{stack.base}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--request-timeout",
                "30",
                "--header",
                f"Authorization: Bearer {stack.key}",
                "--exclude-path-regex",
                "/events$",  # a stream that stays open until the job ends
                "--generation-deterministic",
                "--report",
                "junit",
                "--report-junit-path",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
        out = r.stdout + r.stderr
        assert r.returncode == 0, out[-6000:] + "\n" + stack.log_text()[-3000:]
        assert "generated" in out and "ST101" not in out and "Server error" not in out
    shutil.rmtree(tmp_path / ".hypothesis", ignore_errors=True)
    assert Path(report).exists()
