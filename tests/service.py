"""Start the service as users do, in subprocesses: embedded (`docagent serve`) or on Redis + PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg

BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql://root@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def postgres_up() -> bool:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=2).close()
        return True
    except psycopg.Error:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local server, dropped afterwards."""
    name = f"docagent_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://root@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    base: str
    env: dict[str, str]
    var: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: Path | None = None
    key: str = ""
    cwd: Path | None = None  # where the processes start (default: this one's)

    def client(self, key: str | None = None) -> httpx.Client:
        key = self.key if key is None else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base, timeout=30, headers=headers)

    def create_key(self, name: str) -> str:
        out = subprocess.run(
            [str(BIN / "docagent"), "keys", "create", "--name", name],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.split()[-1]

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        assert self.logs is not None
        with (self.logs / f"{name}.log").open("ab") as log:  # the child keeps its own handle
            proc = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.cwd
            )
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):  # the group has already exited
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        """Kill every process group at once. A graceful stop takes a Celery worker 3-6 s (its blocking loop
        looks at a stop signal every 2 s, then its timers wind down), which teardowns would pay some twenty
        times; the tests of stopping gracefully signal the processes themselves (test_stopping_serve_...)."""
        for name in list(self.procs):
            self.kill(name, signal.SIGKILL)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"service did not become ready; logs in {self.logs}")

    def worker(self, name: str, queues: str, pool: str = "threads", concurrency: int = 2) -> None:
        self.start(
            name,
            [str(BIN / "docagent"), "worker", "--queues", queues, "--pool", pool, "--concurrency", str(concurrency)],
        )

    def log_text(self) -> str:
        assert self.logs is not None
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("*.log")))


def base_env(var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCAGENT_")}
    env.update({"DOCAGENT_VAR_DIR": str(var), **extra})
    return env


@contextmanager
def embedded(tmp: Path, cwd: Path | None = None, **settings: str) -> Iterator[Stack]:
    """`docagent serve`: API, embedded worker, SQLite, filesystem broker, local storage."""
    port = free_port()
    stack = Stack(f"http://127.0.0.1:{port}", base_env(tmp / "var", **settings), tmp / "var", logs=tmp, cwd=cwd)
    stack.start("serve", [str(BIN / "docagent"), "serve", "--port", str(port)])
    try:
        stack.wait_ready()
        stack.key = stack.create_key("tests")
        yield stack
    finally:
        stack.stop()


def redis_test_db() -> int:
    """Parallel suites on one machine pick their own database; pytest-xdist's workers count down from it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(os.environ.get("DOCAGENT_TEST_REDIS_DB", "15")) - int(worker.removeprefix("gw") or 0)


@contextmanager
def distributed(tmp: Path, workers: bool = True, **settings: str) -> Iterator[Stack]:
    """uvicorn API + separate plan and render workers over Redis, PostgreSQL and a shared storage dir."""
    import redis

    db = redis_test_db()
    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()
    with postgres_database() as url:
        port = free_port()
        defaults = {
            "DOCAGENT_DATABASE_URL": url,
            "DOCAGENT_BROKER_URL": f"redis://127.0.0.1:6379/{db}",
            "DOCAGENT_STORAGE_URL": f"file://{tmp / 'storage'}",
        }
        env = base_env(tmp / "var", **(defaults | settings))
        stack = Stack(f"http://127.0.0.1:{port}", env, tmp / "var", logs=tmp)
        stack.key = stack.create_key("tests")  # `keys create` migrates the new database first
        stack.start("api", [str(BIN / "uvicorn"), "docagent.api.app:app", "--host", "127.0.0.1", "--port", str(port)])
        if workers:
            stack.worker("plan", "plan", "threads", 4)
            stack.worker("render", "render", "prefork", 1)
        try:
            stack.wait_ready()
            yield stack
        finally:
            stack.stop()


def follow(client: httpx.Client, job_id: str, timeout: float = 120) -> list[dict[str, Any]]:
    """Read the job's server-sent events until it ends."""
    events = []
    with client.stream("GET", f"/v1/jobs/{job_id}/events", timeout=timeout) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def wait_status(client: httpx.Client, job_id: str, wanted: set[str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in wanted:
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} stuck in {job['status']}")
