"""Everything the embedded service writes lives under DOCAGENT_VAR_DIR, never where it was started."""

from __future__ import annotations

import subprocess

from tests.conftest import EXAMPLE, ROOT
from tests.service import embedded, wait_status


def test_serve_writes_nothing_outside_its_var_dir(tmp_path):
    started_in = tmp_path / "empty"
    started_in.mkdir()
    (tmp_path / "stack").mkdir()
    with embedded(tmp_path / "stack", cwd=started_in) as stack, stack.client() as c:
        with EXAMPLE.open("rb") as f:
            ds = c.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()
        job = c.post("/v1/jobs", json={"prompt": "Sales", "dataset_ids": [ds["id"]], "formats": ["pdf"]}).json()
        assert wait_status(c, job["id"], {"succeeded", "failed"})["status"] == "succeeded", stack.log_text()
        assert (stack.var / "broker" / "control").is_dir()  # kombu's exchange tables
    assert sorted(started_in.rglob("*")) == []


def test_no_broker_state_is_tracked_in_git():
    tracked = subprocess.run(["git", "ls-files", "control"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert tracked.stdout == ""
