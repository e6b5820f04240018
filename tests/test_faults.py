"""Faults with real servers: a render worker killed mid-job."""

from __future__ import annotations

import random
import time

import pytest

from tests.service import distributed, postgres_up, redis_up, wait_status

pytestmark = pytest.mark.skipif(not (redis_up() and postgres_up()), reason="Redis or PostgreSQL not running")


def big_csv(rows: int) -> bytes:
    rnd = random.Random(3)
    lines = ["day,region,product,units,revenue"]
    for i in range(rows):
        lines.append(f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},R{rnd.randint(1, 9)},P{rnd.randint(1, 30)},"
                     f"{rnd.randint(1, 40)},{rnd.uniform(10, 900):.2f}")  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def test_render_worker_killed_mid_job_finishes_after_restart_without_duplicates(tmp_path):
    with distributed(tmp_path, workers=False, DOCAGENT_BROKER_VISIBILITY_TIMEOUT_S="4") as stack, stack.client() as c:
        stack.worker("plan", "plan", "threads", 2)
        stack.worker("render", "render", "prefork", 1)
        ds = c.post("/v1/datasets", files={"file": ("big.csv", big_csv(150_000))}).json()
        job_id = c.post("/v1/jobs", json={"prompt": "Big", "dataset_ids": [ds["id"]]}).json()["id"]
        wait_status(c, job_id, {"rendering"}, timeout=60)
        time.sleep(0.5)
        assert c.get(f"/v1/jobs/{job_id}").json()["status"] == "rendering"
        stack.kill("render")  # SIGKILL to the worker's whole process group, mid-render
        time.sleep(5)  # past the visibility timeout: the unacknowledged task becomes visible again
        assert c.get(f"/v1/jobs/{job_id}").json()["status"] == "rendering"
        stack.worker("render2", "render", "prefork", 1)
        job = wait_status(c, job_id, {"succeeded", "failed"}, timeout=180)
        assert job["status"] == "succeeded", (job, stack.log_text())
        assert sorted(a["format"] for a in job["artifacts"]) == ["docx", "pdf", "xlsx"]
        for a in job["artifacts"]:
            assert c.get(a["url"]).status_code == 200
