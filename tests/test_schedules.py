"""Scheduled report jobs: firing rules on the store, then real beat processes over Redis + PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from docagent.service.lifecycle import JobSpec, create_job
from docagent.service.records import create_dataset
from docagent.service.schedules import create_schedule, fire_due
from docagent.service.store import RunRow, ScheduleRow, migrate, session
from docagent.settings import Settings
from tests.conftest import EXAMPLE
from tests.service import BIN, PG_ADMIN, distributed, postgres_database, postgres_up, redis_up, wait_status

servers = pytest.mark.skipif(not (redis_up() and postgres_up()), reason="Redis or PostgreSQL not running")
UTC = dt.UTC


@pytest.fixture
def store(tmp_path) -> Settings:
    settings = Settings(var_dir=tmp_path / "var")
    migrate(settings)
    import shutil

    src = tmp_path / "sales.csv"
    shutil.copy(EXAMPLE, src)
    create_dataset(src, "sales.csv", "sales", "local", settings)
    return settings


def schedule(settings: Settings, **over: Any) -> ScheduleRow:
    fields = {"name": "weekly", "cron": "0 8 * * mon", "timezone": "Asia/Shanghai",
              "job": {"prompt": "Weekly sales", "formats": ["pdf"], "source": {"dataset": "sales"}}} | over  # fmt: skip
    return create_schedule("local", fields, settings)


def set_next(settings: Settings, row_id: str, when: dt.datetime) -> None:
    with session(settings) as s:
        s.get(ScheduleRow, row_id).next_fire_at = when  # type: ignore[union-attr]


def test_after_downtime_only_one_late_run(store):
    row = schedule(store, cron="*/5 * * * *", timezone="UTC")
    at = dt.datetime(2026, 11, 29, 12, 2, tzinfo=UTC)
    set_next(store, row.id, at - dt.timedelta(minutes=30))  # six fire times were missed
    runs = fire_due(at, store)
    assert len(runs) == 1 and runs[0].late and runs[0].fire_time == dt.datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    with session(store) as s:
        assert s.get(ScheduleRow, row.id).next_fire_at.replace(tzinfo=UTC) == at.replace(minute=5)  # type: ignore[union-attr]
    assert fire_due(at, store) == []


def test_on_time_run_is_not_late(store):
    row = schedule(store, cron="*/5 * * * *", timezone="UTC")
    at = dt.datetime(2026, 11, 29, 12, 0, 3, tzinfo=UTC)
    set_next(store, row.id, at.replace(second=0))
    (run,) = fire_due(at, store)
    assert not run.late and run.job_id


def test_the_same_fire_time_never_runs_twice(store):
    row = schedule(store, cron="*/5 * * * *", timezone="UTC")
    at = dt.datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    set_next(store, row.id, at)
    assert len(fire_due(at, store)) == 1
    set_next(store, row.id, at)  # as if a second beat read the schedule before the first moved it on
    assert fire_due(at, store) == []
    with session(store) as s:
        assert s.scalar(select(func.count()).select_from(RunRow)) == 1


def test_no_overlapping_runs_unless_allowed(store):
    row = schedule(store, cron="*/5 * * * *", timezone="UTC")
    at = dt.datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    set_next(store, row.id, at)
    (first,) = fire_due(at, store)  # its job stays queued: nobody works it here
    set_next(store, row.id, at + dt.timedelta(minutes=5))
    (second,) = fire_due(at + dt.timedelta(minutes=5), store)
    assert first.outcome == "started" and second.outcome == "skipped_overlap" and second.job_id is None


def test_disabled_schedules_do_not_fire(store):
    row = schedule(store, enabled=False)
    assert row.next_fire_at is None and fire_due(dt.datetime(2030, 1, 1, tzinfo=UTC), store) == []


def test_jobs_from_unrelated_owners_do_not_block(store):
    create_job("someone-else", JobSpec("x", [], ["pdf"]), settings=store)
    row = schedule(store, cron="*/5 * * * *", timezone="UTC")
    set_next(store, row.id, dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert fire_due(dt.datetime(2026, 1, 1, tzinfo=UTC), store)[0].outcome == "started"


# --- through the API and real processes ---


class Receiver(BaseHTTPRequestHandler):
    calls: list[tuple[dict[str, str], bytes]] = []
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append((dict(self.headers), body))
        code = 500 if len(Receiver.calls) <= Receiver.fail_first else 200
        self.send_response(code)
        self.end_headers()

    def log_message(self, *a: Any) -> None:
        pass


@contextmanager
def receiving(path: str, fail_first: int) -> Iterator[str]:
    """A webhook receiver on loopback, answering 500 to the first `fail_first` deliveries; yields its URL."""
    Receiver.calls, Receiver.fail_first = [], fail_first
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver():
    with receiving("/hook", fail_first=1) as url:
        yield url


@pytest.fixture(scope="module")
def warehouse():
    """An external PostgreSQL database a SQL source reads from."""
    if not postgres_up():
        pytest.skip("PostgreSQL not running")
    with postgres_database() as url:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        reader = f"reader_{url.rsplit('_', 1)[-1]}"  # roles are per server: one per test database
        with psycopg.connect(plain, autocommit=True) as c:
            c.execute("CREATE TABLE orders (day date, region text, amount numeric)")
            c.execute("CREATE SEQUENCE order_seq")
            c.execute("INSERT INTO orders VALUES ('2026-11-02','North',10),('2026-11-03','South',20)")
            # the role SECURITY.md recommends: it logs in and reads, nothing more
            c.execute(f"CREATE ROLE {reader} LOGIN")
            c.execute(f"GRANT SELECT ON orders TO {reader}")
            c.execute(f"GRANT USAGE, UPDATE ON SEQUENCE order_seq TO {reader}")
        try:
            yield url.replace("//root@", f"//{reader}@"), plain, url
        finally:
            with psycopg.connect(plain, autocommit=True) as c:
                c.execute(f"DROP OWNED BY {reader}")
            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f"DROP ROLE IF EXISTS {reader}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, warehouse):
    if not redis_up():
        pytest.skip("Redis not running")
    url, _, admin = warehouse
    tmp = tmp_path_factory.mktemp("sched")
    with distributed(
        tmp,
        DOCAGENT_CONNECTIONS=json.dumps({"warehouse": url, "as_superuser": admin, "ungranted": url}),
        DOCAGENT_CONNECTION_GRANTS=json.dumps({"warehouse": ["tests"], "as_superuser": ["tests"]}),
        DOCAGENT_WEBHOOK_ALLOW='["127.0.0.1/32"]',  # the test receiver listens on loopback
        DOCAGENT_BEAT_INTERVAL_S="0.5",
    ) as s:
        yield s


@pytest.fixture(scope="module")
def client(stack):
    with stack.client() as c, EXAMPLE.open("rb") as f:
        assert c.post("/v1/datasets", files={"file": ("sales.csv", f)}, data={"name": "sales"}).status_code == 201
        yield c


@servers
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cron": "0 25 * * *"}, "invalid cron expression '0 25 * * *'"),
        ({"timezone": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        (
            {"job": {"prompt": "x", "source": {"sql": "select 1", "connection": "nope"}}},
            "unknown connection 'nope'; known: as_superuser, ungranted, warehouse",
        ),
        (
            {"job": {"prompt": "x", "source": {"sql": "select 1", "connection": "ungranted"}}},
            "the connection 'ungranted' is not granted to this key",
        ),
        ({"webhook_url": "http://169.254.169.254/latest"}, "webhook_url: the host '169.254.169.254' is not a public"),
    ],
)
def test_bad_schedules_are_422_naming_the_problem(client, change, message):
    body = {
        "name": "bad",
        "cron": "0 8 * * *",
        "timezone": "UTC",
        "job": {"prompt": "x", "source": {"dataset": "sales"}},
    }
    r = client.post("/v1/schedules", json=body | change)
    assert r.status_code == 422 and message in r.json()["detail"]


@servers
def test_create_shows_next_fire_times_and_cli_lists_it(client, stack):
    body = {"name": "Monday sales", "cron": "0 8 * * mon", "timezone": "Asia/Shanghai",
            "job": {"prompt": "Weekly sales report", "formats": ["pdf"], "source": {"dataset": "sales"}}}  # fmt: skip
    r = client.post("/v1/schedules", json=body)
    assert r.status_code == 201, r.text
    times = [dt.datetime.fromisoformat(t) for t in r.json()["next_fire_times"]]
    assert len(times) == 5 and all(t.astimezone(UTC).hour == 0 and t.weekday() == 0 for t in times)
    import subprocess

    argv = [str(BIN / "docagent"), "schedules", "list", "--owner", "tests"]
    out = subprocess.run(argv, env=stack.env, capture_output=True, text=True)
    assert "'Monday sales'  '0 8 * * mon' Asia/Shanghai  enabled" in out.stdout
    assert client.patch(f"/v1/schedules/{r.json()['id']}", json={"enabled": False}).json()["next_fire_at"] is None


@servers
def test_every_minute_with_two_beats_fires_once_and_makes_documents(client, stack):
    stack.start("beat1", [str(BIN / "docagent"), "beat"])
    stack.start("beat2", [str(BIN / "docagent"), "beat"])
    try:
        body = {"name": "minutely", "cron": "* * * * *", "timezone": "Europe/Berlin",
                "job": {"prompt": "Minute report", "formats": ["pdf", "xlsx"], "source": {"dataset": "sales"}}}  # fmt: skip
        sid = client.post("/v1/schedules", json=body).json()["id"]
        # the minute has come: the schedule is due at the last whole minute instead of the next (up to 60 s idle)
        with session(Settings(database_url=stack.env["DOCAGENT_DATABASE_URL"])) as s:
            s.get(ScheduleRow, sid).next_fire_at = dt.datetime.now(UTC).replace(second=0, microsecond=0)
        deadline = time.monotonic() + 80
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not runs:
            runs = client.get(f"/v1/schedules/{sid}/runs").json()["data"]
            time.sleep(0.5)
        assert runs, stack.log_text()
        job = wait_status(client, runs[0]["job_id"], {"succeeded", "failed"})
        assert job["status"] == "succeeded" and {a["format"] for a in job["artifacts"]} == {"pdf", "xlsx"}
        time.sleep(2)  # both beats have ticked several times since
        runs = client.get(f"/v1/schedules/{sid}/runs").json()["data"]
        fire_times = [r["fire_time"] for r in runs]
        assert len(fire_times) == len(set(fire_times)) and runs[-1]["outcome"] == "started"
        assert client.get(f"/v1/schedules/{sid}").json()["last_run"]["job_status"] in {
            "succeeded",
            "queued",
            "planning",
            "rendering",
        }
        client.patch(f"/v1/schedules/{sid}", json={"enabled": False})
    finally:
        stack.kill("beat1")
        stack.kill("beat2")


@servers
def test_sql_source_reads_fresh_rows_each_run(client, warehouse):
    _, plain, _ = warehouse
    body = {"name": "orders", "cron": "0 0 1 1 *", "timezone": "UTC",
            "job": {"prompt": "Orders", "formats": ["xlsx"],
                    "source": {"sql": "SELECT day, region, amount FROM orders", "connection": "warehouse"}}}  # fmt: skip
    sid = client.post("/v1/schedules", json=body).json()["id"]
    rows = []
    for added in (0, 3):
        if added:
            with psycopg.connect(plain, autocommit=True) as c:
                c.execute(
                    "INSERT INTO orders VALUES ('2026-11-04','East',5),('2026-11-05','West',7),('2026-11-06','North',1)"
                )
        run = client.post(f"/v1/schedules/{sid}/run").json()
        job = wait_status(client, run["job_id"], {"succeeded", "failed"})
        assert job["status"] == "succeeded", job
        rows.append(client.get(f"/v1/datasets/{job['dataset_ids'][0]}").json())
    assert [r["rows"] for r in rows] == [2, 5] and [r["version"] for r in rows] == [1, 2]
    assert rows[0]["name"] == "orders"


@servers
def test_sql_source_is_read_only(client, warehouse):
    body = {"name": "evil", "cron": "0 0 1 1 *", "timezone": "UTC",
            "job": {"prompt": "x", "source": {"sql": "SELECT nextval('order_seq') AS n", "connection": "warehouse"}}}  # fmt: skip
    sid = client.post("/v1/schedules", json=body).json()["id"]
    job = wait_status(client, client.post(f"/v1/schedules/{sid}/run").json()["job_id"], {"succeeded", "failed"})
    assert job["status"] == "failed" and "read-only transaction" in job["error"]["message"]
    _, plain, _ = warehouse
    with psycopg.connect(plain) as c:
        assert c.execute("SELECT last_value, is_called FROM order_seq").fetchone() == (1, False)


@servers
def test_a_sql_source_logging_in_as_a_superuser_is_refused(client):
    """Read-only transactions do not stop pg_read_file(); a superuser connection is not run at all."""
    body = {"name": "root", "cron": "0 0 1 1 *", "timezone": "UTC",
            "job": {"prompt": "x", "source": {"sql": "SELECT pg_read_file('/etc/hostname') AS f",
                                              "connection": "as_superuser"}}}  # fmt: skip
    sid = client.post("/v1/schedules", json=body).json()["id"]
    job = wait_status(client, client.post(f"/v1/schedules/{sid}/run").json()["job_id"], {"succeeded", "failed"})
    assert job["status"] == "failed" and "logs in as a superuser" in job["error"]["message"]


@servers
def test_webhook_gets_a_signed_body_and_failed_deliveries_retry(client, receiver):
    body = {"name": "hooked", "cron": "0 0 1 1 *", "timezone": "UTC", "webhook_url": receiver,
            "job": {"prompt": "Hooked", "formats": ["pdf"], "source": {"dataset": "sales"}}}  # fmt: skip
    created = client.post("/v1/schedules", json=body).json()
    secret = created["webhook_secret"]
    run = client.post(f"/v1/schedules/{created['id']}/run").json()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(Receiver.calls) < 2:
        time.sleep(0.3)
    assert len(Receiver.calls) == 2  # the first answer was a 500, the retry succeeded
    headers, raw = Receiver.calls[-1]
    expected = hmac.new(secret.encode(), headers["X-Docagent-Timestamp"].encode() + b"." + raw, hashlib.sha256)
    assert hmac.compare_digest(headers["X-Docagent-Signature"], "sha256=" + expected.hexdigest())
    payload = json.loads(raw)
    assert payload["job"]["id"] == run["job_id"] and payload["job"]["status"] == "succeeded"
    assert payload["job"]["artifacts"][0]["url"].endswith(f"/v1/jobs/{run['job_id']}/artifacts/pdf")
    history = client.get(f"/v1/schedules/{created['id']}/runs").json()["data"][0]
    deadline = time.monotonic() + 10
    while history["delivery_status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.3)
        history = client.get(f"/v1/schedules/{created['id']}/runs").json()["data"][0]
    assert history["delivery_status"] == "delivered" and history["delivery_attempts"] == 2
