"""Dashboard sessions, CSRF, browser headers, /metrics and the auth-off guard, against live servers."""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx2 as httpx
import pytest

from tests.conftest import EXAMPLE, ROOT
from tests.service import BIN, Stack, base_env, embedded, free_port


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    with embedded(tmp_path_factory.mktemp("sessions")) as s:
        yield s


@contextmanager
def browser(stack: Stack, key: str) -> Iterator[httpx.Client]:
    """A client that signs in through the login form, as a browser would."""
    with httpx.Client(base_url=stack.base, timeout=30, headers={"Origin": stack.base}) as c:
        r = c.post("/login", data={"key": key})
        assert r.status_code == 303, r.text
        yield c


def csrf_of(c: httpx.Client, path: str = "/datasets") -> str:
    html = c.get(path).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def upload(stack: Stack) -> str:
    with stack.client() as c, EXAMPLE.open("rb") as f:
        return str(c.post("/v1/datasets", files={"file": ("sales.csv", f)}).json()["id"])


def decodings(value: str) -> list[bytes]:
    out = [value.encode()]
    for part in re.split(r"[.:]", value):
        padded = part + "=" * (-len(part) % 4)
        for decode in (base64.urlsafe_b64decode, base64.b64decode):
            with suppress(binascii.Error, ValueError):
                out.append(decode(padded))
    return out


def test_the_cookie_holds_no_key_material_and_dies_at_logout(stack):
    key = stack.create_key("erin")
    with browser(stack, key) as c:
        cookie = c.cookies["docagent_session"]
        secret = key.removeprefix("dak_").encode()
        assert all(secret not in d and b"dak_" not in d for d in decodings(cookie))
        assert c.get("/v1/jobs").status_code == 200
        r = c.post("/logout", data={"csrf_token": csrf_of(c)})
        assert r.status_code == 303
    with httpx.Client(base_url=stack.base, cookies={"docagent_session": cookie}) as replay:
        assert replay.get("/v1/jobs").status_code == 401
        assert replay.get("/").status_code == 303  # back to the login page


def test_revoking_the_key_ends_its_sessions(stack):
    key = stack.create_key("fay")
    with browser(stack, key) as c:
        assert c.get("/v1/jobs").status_code == 200
        subprocess.run([str(BIN / "docagent"), "keys", "revoke", "fay"], env=stack.env, check=True, capture_output=True)
        assert c.get("/v1/jobs").status_code == 401


def test_the_login_cookie_is_strict_and_http_only(stack):
    with httpx.Client(base_url=stack.base, headers={"Origin": stack.base}) as c:
        r = c.post("/login", data={"key": stack.key})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_cross_origin_post_is_403_and_changes_nothing(stack):
    dataset = upload(stack)
    with browser(stack, stack.key) as c:
        token = csrf_of(c)
        evil = {"Origin": "http://evil.example"}
        r = c.post(f"/datasets/{dataset}/delete", data={"csrf_token": token}, headers=evil)
        assert r.status_code == 403 and "cross-origin" in r.text
        r = c.post("/jobs/new", data={"csrf_token": token, "prompt": "x", "formats": "pdf"}, headers=evil)
        assert r.status_code == 403
        with stack.client() as api:
            assert api.get(f"/v1/datasets/{dataset}").status_code == 200
            assert api.get("/v1/jobs").json()["count"] == 0
        # the browser's own form, with its token, still works
        assert c.post(f"/datasets/{dataset}/delete", data={"csrf_token": token}).status_code == 303


def test_a_form_without_the_sessions_token_is_403(stack):
    dataset = upload(stack)
    with browser(stack, stack.key) as c:
        for data in ({}, {"csrf_token": "forged"}):
            assert c.post(f"/datasets/{dataset}/delete", data=data).status_code == 403
        with httpx.Client(base_url=stack.base, cookies=c.cookies) as no_origin:
            assert no_origin.post(f"/datasets/{dataset}/delete", data={"csrf_token": csrf_of(c)}).status_code == 403


def test_cookie_requests_to_the_api_need_the_csrf_header(stack):
    with browser(stack, stack.key) as c:
        with EXAMPLE.open("rb") as f:
            assert c.post("/v1/datasets", files={"file": ("s.csv", f)}).status_code == 403
        with EXAMPLE.open("rb") as f:
            r = c.post("/v1/datasets", files={"file": ("s.csv", f)}, headers={"X-CSRF-Token": csrf_of(c)})
        assert r.status_code == 201


def test_pages_refuse_framing_and_foreign_scripts(stack):
    with browser(stack, stack.key) as c:
        for path in ("/login", "/", "/datasets", "/v1/jobs"):
            h = c.get(path).headers
            assert h["x-frame-options"] == "DENY" and h["referrer-policy"] == "same-origin", path
            assert (
                "frame-ancestors 'none'" in h["content-security-policy"]
                and "script-src 'self'" in h["content-security-policy"]
            )


def test_metrics_answer_loopback_or_the_token_only(tmp_path):
    with embedded(tmp_path, DOCAGENT_METRICS_TOKEN="scrape-me") as s:
        assert httpx.get(s.base + "/metrics").status_code == 401
        r = httpx.get(s.base + "/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert r.status_code == 200 and "docagent_jobs" in r.text


# --- auth off ---


def public_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else str(address)


def test_the_images_own_command_with_auth_off_refuses_to_serve(tmp_path):
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M).group(1))
    assert cmd[0] == "docagent"
    argv = [str(BIN / cmd[0]), *cmd[1:]]
    r = subprocess.run(
        argv, env=base_env(tmp_path / "var", DOCAGENT_AUTH="off"), capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "DOCAGENT_AUTH=off on 0.0.0.0 would let anyone" in r.stderr


def test_a_bare_uvicorn_with_auth_off_serves_loopback_only(tmp_path):
    address = public_address()
    if address is None:
        pytest.skip("no non-loopback address on this machine")
    port = free_port()
    env = base_env(tmp_path / "var", DOCAGENT_AUTH="off")
    stack = Stack(f"http://127.0.0.1:{port}", env, tmp_path / "var", logs=tmp_path)
    stack.start("api", [str(BIN / "uvicorn"), "docagent.api.app:app", "--host", "0.0.0.0", "--port", str(port)])
    try:
        stack.wait_ready()
        assert httpx.get(f"{stack.base}/v1/jobs").status_code == 200
        r = httpx.get(f"http://{address}:{port}/v1/jobs")
        assert r.status_code == 403 and "DOCAGENT_AUTH=off serves loopback only" in r.text
        assert httpx.get(f"http://{address}:{port}/").status_code == 403
        proxied = httpx.get(f"{stack.base}/v1/jobs", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 403
        assert httpx.get(f"http://{address}:{port}/healthz").status_code == 200
    finally:
        stack.stop()
        time.sleep(0.1)
