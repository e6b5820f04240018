"""Who is asking is settled from the headers: a stranger's body is never read, parsed or spooled."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from docagent.service.keys import create_key
from docagent.settings import get_settings
from tests.service import free_port
from tests.test_uploads import Counting

MiB = 2**20


@pytest.fixture
def server(tmp_path, monkeypatch) -> Iterator[tuple[int, Counting]]:
    """The real app, auth on and default limits, in this process so its reads can be counted."""
    import uvicorn

    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DOCAGENT_AUTH", raising=False)
    monkeypatch.delenv("DOCAGENT_MAX_UPLOAD_BYTES", raising=False)
    get_settings.cache_clear()
    from docagent.api.app import create_app

    counting = Counting(create_app())
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port, counting
    srv.should_exit = True
    thread.join(10)
    get_settings.cache_clear()


def answer_to(port: int, head: str, total: int) -> tuple[bytes, float, int]:
    """Send the head and then body bytes as fast as the server takes them; stop at its first answer.

    Returns the answer's first line, the seconds from the head to the answer, and the bytes sent.
    """
    block, sent = b"x" * MiB, 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setblocking(False)
        start = time.perf_counter()
        s.sendall(head.encode())
        answer = b""
        while b"\r\n" not in answer and time.perf_counter() - start < 30:
            try:
                data = s.recv(4096)
                if not data:
                    break
                answer += data
                continue
            except BlockingIOError:
                pass
            if sent < total:
                try:
                    sent += s.send(block[: total - sent])
                except (BlockingIOError, OSError):
                    time.sleep(0.001)
            else:
                time.sleep(0.001)
        elapsed = time.perf_counter() - start
    return answer.split(b"\r\n", 1)[0], elapsed, sent


def head(path: str, kind: str, length: int, extra: str = "") -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    )


CASES = {
    "100 MB of JSON to /v1/jobs": ("/v1/jobs", "application/json", 100 * MiB - 1),
    "a 99 MB upload to /v1/datasets": ("/v1/datasets", "multipart/form-data; boundary=b", 99 * MiB),
    "a 99 MB upload to the dashboard's form": ("/jobs/new", "multipart/form-data; boundary=b", 99 * MiB),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("credentials", ["none", "Authorization: Bearer dak_wrong\r\n"])
def test_a_stranger_is_refused_before_a_byte_of_the_body_is_read(server, case, credentials):
    port, counting = server
    path, kind, length = CASES[case]
    extra = "" if credentials == "none" else credentials
    first, elapsed, _ = answer_to(port, head(path, kind, length, extra), length)
    expected = b"HTTP/1.1 401" if path.startswith("/v1/") else b"HTTP/1.1 303"
    assert first.startswith(expected), first
    assert counting.read < MiB, counting.read
    assert elapsed < 1.0, elapsed  # the aim is under 50 ms; a busy test machine gets slack


def test_a_signed_in_callers_json_body_is_cut_at_its_limit_while_it_streams(server):
    port, counting = server
    key = create_key("alice", get_settings())
    chunked = head("/v1/jobs", "application/json", 0, f"Authorization: Bearer {key}\r\n").replace(
        "Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (MiB, b" " * MiB)
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(chunked.encode())
        for _ in range(100):
            try:
                s.sendall(chunk)
            except OSError:
                break
        s.settimeout(10)
        answer = s.recv(4096)
    limit = get_settings().max_body_bytes
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"DOCAGENT_MAX_BODY_BYTES" in answer
    assert limit < counting.read <= limit + 2 * MiB, counting.read


def test_a_declared_oversize_json_body_is_refused_unread(server):
    port, counting = server
    key: Any = create_key("bob", get_settings())
    first, _, _ = answer_to(port, head("/v1/jobs", "application/json", 50 * MiB, f"Authorization: Bearer {key}\r\n"), 0)
    assert first.startswith(b"HTTP/1.1 413") and counting.read == 0, (first, counting.read)


# --- auth off: a browser tricked into calling the local server is refused ---


@pytest.fixture
def local(tmp_path, monkeypatch) -> Iterator[Any]:
    """DOCAGENT_AUTH=off, called over loopback (the test client says so)."""
    from fastapi.testclient import TestClient

    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DOCAGENT_AUTH", "off")
    get_settings.cache_clear()
    from docagent.api.app import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1:8000", client=("127.0.0.1", 50000)) as c:
        yield c
    get_settings.cache_clear()


CSV = {"file": ("sales.csv", b"region,amount\nNorth,1\n", "text/csv")}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil"])
def test_a_rebound_dns_name_cannot_reach_the_auth_off_server(local, host):
    page = f"http://{host}"
    headers = {"Host": host, "Origin": page}
    upload = local.post("/v1/datasets", files=CSV, headers=headers)
    listing = local.get("/v1/jobs", headers=headers)
    assert (upload.status_code, listing.status_code) == (403, 403), (upload.text, listing.text)
    assert "loopback names" in listing.json()["detail"]
    assert local.get("/v1/datasets").json()["count"] == 0  # nothing was stored


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"])
def test_loopback_names_are_served_with_auth_off(local, host):
    assert local.get("/v1/jobs", headers={"Host": host}).status_code == 200


def test_another_sites_page_cannot_read_the_auth_off_server(local):
    r = local.get("/v1/jobs", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]


PROXY_HEADERS = {
    "Forwarded": "for=203.0.113.9",
    "X-Real-IP": "203.0.113.9",
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Host": "docs.example",
    "X-Forwarded-Proto": "https",
}


@pytest.mark.parametrize("header", PROXY_HEADERS)
def test_any_proxy_header_counts_as_proxied_for_auth_off(local, header):
    r = local.get("/v1/jobs", headers={header: PROXY_HEADERS[header]})
    assert r.status_code == 403 and "serves loopback only" in r.json()["detail"]


@pytest.mark.parametrize("header", PROXY_HEADERS)
def test_metrics_without_a_token_refuse_anything_a_proxy_passed_on(tmp_path, monkeypatch, header):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("DOCAGENT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DOCAGENT_METRICS_TOKEN", raising=False)
    get_settings.cache_clear()
    from docagent.api.app import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as c:
        assert c.get("/metrics").status_code == 200
        assert c.get("/metrics", headers={header: PROXY_HEADERS[header]}).status_code == 403
    get_settings.cache_clear()
