"""Webhook delivery of a scheduled run's result: a JSON body signed with HMAC-SHA256.

Receivers check `X-Docagent-Signature: sha256=<hex>` = HMAC(secret, "<timestamp>." + body),
with the timestamp from `X-Docagent-Timestamp` (reject old ones to stop replays).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from typing import Any
from urllib.parse import quote, urljoin

from sqlalchemy import select

from docagent.errors import DeliveryFailed, ForbiddenDestination
from docagent.netguard import Destination, resolve
from docagent.service.lifecycle import DeliveryStatus
from docagent.service.store import ArtifactRow, JobRow, RunRow, ScheduleRow, session
from docagent.settings import Settings, get_settings

MAX_REDIRECTS = 3


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def burst_files(base: str, job_id: str, art: ArtifactRow) -> list[dict[str, str]]:
    """A burst's documents (in its zip), each with its own download URL."""
    root = f"{base.rstrip('/')}/v1/jobs/{job_id}/artifacts/zip/"
    return [{"name": n, "url": root + quote(n)} for n in (art.provenance or {}).get("files", [])]


def payload(run: RunRow, sched: ScheduleRow, job: JobRow, artifacts: list[ArtifactRow], base: str) -> dict[str, Any]:
    return {
        "event": "schedule.run.finished",
        "schedule": {"id": sched.id, "name": sched.name},
        "run": {"id": run.id, "fire_time": run.fire_time.isoformat(), "late": run.late, "manual": run.manual},
        "job": {
            "id": job.id,
            "status": job.status,
            "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
            "artifacts": [
                {
                    "format": a.format,
                    "filename": a.filename,
                    "bytes": a.bytes,
                    "url": f"{base.rstrip('/')}/v1/jobs/{job.id}/artifacts/{a.format}",
                    **({"files": burst_files(base, job.id, a)} if a.format == "zip" else {}),
                }
                for a in artifacts
            ],  # fmt: skip
        },
    }


class PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address, never to whatever the name resolves to by then."""

    def __init__(self, dest: Destination, timeout: float) -> None:
        super().__init__(dest.host, dest.port, timeout=timeout)
        self.pinned = dest.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned, self.port), self.timeout)


class PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address, the certificate verified against the URL's host name."""

    def __init__(self, dest: Destination, timeout: float) -> None:
        super().__init__(dest.host, dest.port, timeout=timeout, context=ssl.create_default_context())
        self.pinned = dest.address

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> int:
    """POST to the checked, pinned address; a 307/308 is followed (and re-checked) up to MAX_REDIRECTS times."""
    for _ in range(MAX_REDIRECTS + 1):
        dest = resolve(url, settings.webhook_allow)
        kind = PinnedHTTPS if dest.scheme == "https" else PinnedHTTP
        conn = kind(dest, settings.webhook_timeout_s)
        try:
            conn.request("POST", dest.target, body=body, headers=headers)
            response = conn.getresponse()
            response.read(64 * 1024)
            location = response.getheader("Location")
        finally:
            conn.close()
        if response.status not in (307, 308) or not location:
            return response.status
        url = urljoin(url, location)  # 307/308 keep method and body (301-303 would turn them into a GET)
    return response.status


def deliver(run_id: str, settings: Settings | None = None) -> None:
    """POST the run's result once; raises DeliveryFailed (the caller retries with backoff)."""
    settings = settings or get_settings()
    with session(settings) as s:
        run = s.get(RunRow, run_id)
        if run is None or run.job_id is None or run.delivery_status == DeliveryStatus.DELIVERED:
            return
        sched = s.get(ScheduleRow, run.schedule_id)
        job = s.get(JobRow, run.job_id)
        if sched is None or job is None or not sched.webhook_url:
            return
        artifacts = list(s.scalars(select(ArtifactRow).where(ArtifactRow.job_id == job.id)))
        body = json.dumps(payload(run, sched, job, artifacts, settings.public_url)).encode()
        url, secret = sched.webhook_url, sched.webhook_secret or ""
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "docagent-webhook",
               "X-Docagent-Timestamp": stamp, "X-Docagent-Signature": sign(secret, stamp, body)}  # fmt: skip
    error = None
    try:
        status = post(url, body, headers, settings)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except (ForbiddenDestination, OSError, http.client.HTTPException):
        # one message for refused, unreachable, timed out and forbidden alike: the error must
        # not tell an owner which internal ports answer
        error = "no response from the receiver (or its address is not allowed)"
    with session(settings) as s:
        run = s.get(RunRow, run_id, with_for_update=True)
        assert run is not None
        run.delivery_attempts += 1
        run.delivery_error = error
        if error is None:
            run.delivery_status = DeliveryStatus.DELIVERED
        elif run.delivery_attempts >= settings.webhook_max_attempts:
            run.delivery_status = DeliveryStatus.FAILED
    if error is not None:
        raise DeliveryFailed(error)


def run_for_job(job_id: str, settings: Settings | None = None) -> str | None:
    """The run to deliver for a finished scheduled job, if its schedule has a webhook."""
    with session(settings or get_settings()) as s:
        run = s.scalars(
            select(RunRow).where(RunRow.job_id == job_id, RunRow.delivery_status == DeliveryStatus.PENDING)
        ).first()
        return run.id if run else None
