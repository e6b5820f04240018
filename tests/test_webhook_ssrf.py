"""Webhooks reach public addresses only: refused at creation and again at delivery, after resolving."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from docagent.netguard import ForbiddenDestination, resolve
from docagent.pipeline.delivery import DeliveryFailed, deliver
from docagent.service.cron import InvalidSchedule
from docagent.service.schedules import create_schedule, run_now, update_schedule
from docagent.service.store import JobRow, RunRow, ScheduleRow, migrate, session
from docagent.settings import Settings

FORBIDDEN = {
    "loopback": "http://127.0.0.1:8080/hook",
    "loopback, decimal": "http://2130706433:8080/hook",
    "loopback, octal": "http://0177.0.0.1/hook",
    "loopback, hex": "http://0x7f.0.0.1/hook",
    "loopback, hex number": "http://0x7f000001/hook",
    "loopback, short": "http://127.1/hook",
    "loopback name": "http://localhost:8080/hook",
    "loopback v6": "http://[::1]/hook",
    "v4-mapped loopback": "http://[::ffff:127.0.0.1]/hook",
    "6to4 of loopback": "http://[2002:7f00:1::1]/hook",
    "NAT64 of metadata": "http://[64:ff9b::a9fe:a9fe]/hook",
    "link-local (cloud metadata)": "http://169.254.169.254/latest/meta-data/",
    "link-local v6": "http://[fe80::1]/hook",
    "private 10/8": "http://10.0.0.1/hook",
    "private 172.16/12": "http://172.16.5.4/hook",
    "private 192.168/16": "http://192.168.1.1/hook",
    "shared 100.64/10": "http://100.64.0.1/hook",
    "unique local v6": "http://[fd00::1]/hook",
    "multicast": "http://224.0.1.1/hook",
    "multicast v6": "http://[ff0e::1]/hook",
    "unspecified": "http://0.0.0.0/hook",
    "reserved 240/4": "http://240.0.0.1/hook",
    "documentation range": "http://192.0.2.10/hook",
    "benchmarking range": "http://198.18.0.1/hook",
}
PUBLIC = "http://93.184.215.14/hook"  # an address literal: no resolver needed


@pytest.mark.parametrize("url", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_each_forbidden_range_is_refused(url):
    with pytest.raises(ForbiddenDestination, match="not a public address"):
        resolve(url, [])


@pytest.mark.parametrize("url", ["ftp://93.184.215.14/x", "file:///etc/passwd", "http://user:pw@93.184.215.14/"])
def test_only_plain_http_urls(url):
    with pytest.raises(ForbiddenDestination):
        resolve(url, [])


def test_a_public_address_is_pinned_with_its_host():
    dest = resolve(PUBLIC + "?a=1", [])
    assert (dest.address, dest.host, dest.port, dest.target) == ("93.184.215.14", "93.184.215.14", 80, "/hook?a=1")


def test_an_operator_may_allow_an_internal_network():
    assert resolve("http://10.1.2.3:9000/in", ["10.1.2.0/24"]).address == "10.1.2.3"
    with pytest.raises(ForbiddenDestination):
        resolve("http://10.1.3.3:9000/in", ["10.1.2.0/24"])


def test_a_name_is_refused_when_any_of_its_addresses_is_private(monkeypatch):
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80)) for ip in ("93.184.215.14", "10.0.0.7")]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with pytest.raises(ForbiddenDestination):
        resolve("http://mixed.example/hook", [])


# --- at creation, and at delivery ---


class Receiver(BaseHTTPRequestHandler):
    calls: list[tuple[str, bytes]] = []
    redirect_to: str | None = None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append((self.path, body))
        if Receiver.redirect_to and self.path == "/first":
            self.send_response(307)
            self.send_header("Location", Receiver.redirect_to)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    Receiver.calls, Receiver.redirect_to = [], None
    server = ThreadingHTTPServer(("0.0.0.0", 0), Receiver)  # also on 127.0.0.2: only our check may refuse that
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def store(tmp_path, **kw: Any) -> Settings:
    settings = Settings(var_dir=tmp_path / "var", **kw)
    migrate(settings)
    return settings


SCHEDULE = {"name": "hook", "cron": "0 0 1 1 *", "timezone": "UTC", "job": {"prompt": "x", "source": {"dataset": "d"}}}


@pytest.mark.parametrize("url", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_creating_or_changing_a_schedule_with_a_forbidden_webhook_is_refused(tmp_path, url):
    settings = store(tmp_path)
    with pytest.raises(InvalidSchedule, match="webhook_url: the host .* is not a public address"):
        create_schedule("o", {**SCHEDULE, "webhook_url": url}, settings)
    row = create_schedule("o", SCHEDULE, settings)
    with pytest.raises(InvalidSchedule, match="not a public address"):
        update_schedule(row.id, "o", {"webhook_url": url}, settings)


def finished_run(settings: Settings, url: str) -> str:
    """A schedule whose URL was stored before its name started resolving to a forbidden address."""
    with session(settings) as s:
        sched = ScheduleRow(owner="o", webhook_url=url, webhook_secret="s", **SCHEDULE)
        s.add(sched)
    run = run_now(sched.id, "o", settings)
    with session(settings) as s:
        job = s.get(JobRow, run.job_id)
        assert job is not None
        job.status = "succeeded"
    return run.id


def delivery_error(settings: Settings, run_id: str) -> str | None:
    with session(settings) as s:
        run = s.get(RunRow, run_id)
        assert run is not None
        return run.delivery_error


def test_delivery_checks_the_address_again_and_sends_nothing_to_loopback(tmp_path, receiver):
    settings = store(tmp_path)
    run_id = finished_run(settings, f"http://127.0.0.1:{receiver}/hook")
    with pytest.raises(DeliveryFailed):
        deliver(run_id, settings)
    assert Receiver.calls == []


def test_delivery_errors_do_not_tell_closed_ports_from_forbidden_ones(tmp_path, receiver):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    allowed = store(tmp_path / "a", webhook_allow=["127.0.0.1/32"])
    refused = store(tmp_path / "b")
    errors = []
    for settings in (allowed, refused):
        run_id = finished_run(settings, f"http://127.0.0.1:{closed}/hook")
        with pytest.raises(DeliveryFailed):
            deliver(run_id, settings)
        errors.append(delivery_error(settings, run_id))
    assert errors[0] == errors[1] and "refused" not in (errors[0] or "").lower()


def test_delivery_resolves_once_and_connects_to_the_checked_address(tmp_path, receiver, monkeypatch):
    """DNS rebinding: the name resolves to an allowed address at check time; the connection goes there."""
    settings = store(tmp_path, webhook_allow=["127.0.0.1/32"])
    run_id = finished_run(settings, f"http://rebind.example:{receiver}/first")
    real = socket.getaddrinfo
    lookups: list[str] = []

    def first_good_then_evil(host: str, *a: Any, **k: Any) -> Any:
        lookups.append(host)
        if host == "rebind.example":
            ip = "127.0.0.1" if lookups.count(host) == 1 else "169.254.169.254"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, receiver))]
        return real(host, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", first_good_then_evil)
    deliver(run_id, settings)
    assert lookups.count("rebind.example") == 1 and [p for p, _ in Receiver.calls] == ["/first"]


def test_a_307_is_followed_with_the_body_and_its_target_is_checked(tmp_path, receiver):
    settings = store(tmp_path, webhook_allow=["127.0.0.1/32"])
    Receiver.redirect_to = f"http://127.0.0.1:{receiver}/second"
    deliver(finished_run(settings, f"http://127.0.0.1:{receiver}/first"), settings)
    assert [p for p, _ in Receiver.calls] == ["/first", "/second"] and Receiver.calls[0][1] == Receiver.calls[1][1]
    Receiver.calls, Receiver.redirect_to = [], f"http://127.0.0.2:{receiver}/second"  # loopback, not allowed
    run_id = finished_run(settings, f"http://127.0.0.1:{receiver}/first")
    with pytest.raises(DeliveryFailed):
        deliver(run_id, settings)
    assert [p for p, _ in Receiver.calls] == ["/first"]
