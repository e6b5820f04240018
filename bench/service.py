"""Service throughput: jobs through the real service with a stub model answering a recorded plan after
0 s or 5 s, for 1, 8 and 32 concurrent clients, embedded and on Redis + PostgreSQL; then GET /v1/jobs/{id}
under load with wrk. (The service helpers come from tests/service.py: the same stacks the tests start.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bench.common import Row, pct
from docagent.engine.data.catalog import Catalog
from docagent.engine.data.profile import profile
from docagent.engine.llm.fake import FakeModel, FakeServer, reply
from docagent.engine.planners.rules import plan_report
from tests.service import Stack, distributed, postgres_up, redis_up

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sales.csv"
CLIENTS = (1, 8, 32)
DELAYS = (0.0, 5.0)


def recorded_plan() -> dict[str, Any]:
    with Catalog() as c:
        (ds,) = c.ingest(EXAMPLE)
        return plan_report([profile(c, ds)], "Quarterly sales report").model_dump(mode="json")


def client_loop(stack: Stack, dataset: str, jobs: int, latencies: list[float], errors: list[str]) -> None:
    with stack.client() as c:
        for _ in range(jobs):
            t = time.perf_counter()
            r = c.post(
                "/v1/jobs",
                json={
                    "prompt": "Quarterly sales report",
                    "dataset_ids": [dataset],
                    "formats": ["pdf"],
                    "planner": "llm",
                },
            )
            if r.status_code != 202:
                errors.append(f"{r.status_code} {r.text[:100]}")
                continue
            job_id = r.json()["id"]
            while True:
                status = c.get(f"/v1/jobs/{job_id}").json()["status"]
                if status in ("succeeded", "failed", "canceled"):
                    break
                time.sleep(0.1)
            if status != "succeeded":
                errors.append(status)
            latencies.append(time.perf_counter() - t)


def load(stack: Stack, dataset: str, clients: int) -> dict[str, Any]:
    total = max(clients, 3)
    per = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=client_loop, args=(stack, dataset, n, latencies, errors)) for n in per]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    return {
        "jobs": len(latencies),
        "errors": errors,
        "wall_s": wall,
        "jobs_per_min": 60 * len(latencies) / wall,
        "p50_s": pct(latencies, 50),
        "p95_s": pct(latencies, 95),
    }


def wrk(stack: Stack, path: str) -> dict[str, float] | None:
    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(
        ["wrk", "-t2", "-c16", "-d5s", "--latency", "-H", f"Authorization: Bearer {stack.key}", stack.base + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None
    scale = {"us": 1e-3, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return {"rps": rate, "p99_ms": float(p99.group(1)) * scale}


def stacks(tmp: Path, stub_url: str) -> list[tuple[str, AbstractContextManager[Stack]]]:
    env = {
        "DOCAGENT_LLM_BASE_URL": stub_url,
        "DOCAGENT_LLM_PROVIDER": "openai",
        "DOCAGENT_LLM_MODEL": "stub",
        "DOCAGENT_LLM_AGENTIC": "off",
        "DOCAGENT_JOBS_PER_MINUTE": "100000",
        "DOCAGENT_MAX_CONCURRENT_JOBS": "100000",
    }
    out: list[tuple[str, AbstractContextManager[Stack]]] = []
    emb = tmp / "embedded"
    emb.mkdir()
    out.append(("embedded (SQLite, filesystem broker, 8 threads)", embedded_with_threads(emb, env)))
    if redis_up() and postgres_up():
        dist = tmp / "distributed"
        dist.mkdir()
        out.append(("Redis + PostgreSQL (32 plan threads, 2 render processes)", distributed_stack(dist, env)))
    return out


class embedded_with_threads(AbstractContextManager[Stack]):  # noqa: N801
    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.tmp, self.env = tmp, env

    def __enter__(self) -> Stack:
        from tests.service import BIN, base_env, free_port

        port = free_port()
        self.stack = Stack(
            f"http://127.0.0.1:{port}", base_env(self.tmp / "var", **self.env), self.tmp / "var", logs=self.tmp
        )
        self.stack.start("serve", [str(BIN / "docagent"), "serve", "--port", str(port), "--workers", "8"])
        self.stack.wait_ready()
        self.stack.key = self.stack.create_key("bench")
        return self.stack

    def __exit__(self, *exc: object) -> None:
        self.stack.stop()


class distributed_stack(AbstractContextManager[Stack]):  # noqa: N801
    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.ctx = distributed(tmp, workers=False, **env)

    def __enter__(self) -> Stack:
        stack = self.ctx.__enter__()
        stack.worker("plan", "plan", "threads", 32)
        stack.worker("render", "render", "prefork", 2)
        return stack

    def __exit__(self, *exc: Any) -> None:
        self.ctx.__exit__(*exc)


def run() -> list[Row]:
    rows = []
    plan = recorded_plan()
    for delay in DELAYS:
        stub = FakeServer(FakeModel(then=reply(json.dumps(plan), usage=(4000, 1300, 0, 0))), delay_s=delay)
        tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
        try:
            for name, ctx in stacks(tmp, stub.url):
                with ctx as stack, stack.client() as c, EXAMPLE.open("rb") as f:
                    dataset = c.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()["id"]
                    client_loop(stack, dataset, 1, [], [])  # warm the workers' imports
                    for clients in CLIENTS:
                        r = load(stack, dataset, clients)
                        rows.append(
                            Row(
                                "service",
                                f"{name}, model delay {delay:.0f} s, {clients} clients",
                                f"{r['jobs_per_min']:.0f} jobs/min",
                                f"p50 {r['p50_s']:.1f} s · p95 {r['p95_s']:.1f} s",
                                "–",
                                f"{r['jobs']} jobs, {len(r['errors'])} errors",
                                {"delay_s": delay, "clients": clients, **r},
                            )
                        )
                    if delay == 0:
                        job = c.get("/v1/jobs").json()["data"][0]["id"]
                        w = wrk(stack, f"/v1/jobs/{job}")
                        if w:
                            rows.append(
                                Row(
                                    "service",
                                    f"{name}: GET /v1/jobs/{{id}}, wrk 16 connections",
                                    f"{w['rps']:.0f} req/s",
                                    f"p99 {w['p99_ms']:.1f} ms",
                                    "–",
                                    "",
                                    w,
                                )
                            )
        finally:
            stub.close()
            shutil.rmtree(tmp, ignore_errors=True)
    return rows
