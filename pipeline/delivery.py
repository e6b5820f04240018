"""Webhook delivery of a scheduled run's result: a JSON body signed with HMAC-SHA256.

Receivers check `X-Docagent-Signature: sha256=<hex>` = HMAC(secret, "<timestamp>." + body),
with the timestamp from `X-Docagent-Timestamp` (reject old ones to stop replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from sqlalchemy import select

from docagent.errors import DeliveryFailed
from docagent.lifecycle import DeliveryStatus
from docagent.settings import Settings, get_settings
from docagent.store import ArtifactRow, JobRow, RunRow, ScheduleRow, session


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


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
                }
                for a in artifacts
            ],  # fmt: skip
        },
    }


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
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "docagent-webhook",
                 "X-Docagent-Timestamp": stamp, "X-Docagent-Signature": sign(secret, stamp, body)},
    )  # fmt: skip
    error = None
    try:
        with urllib.request.urlopen(request, timeout=settings.webhook_timeout_s) as response:
            if not 200 <= response.status < 300:
                error = f"HTTP {response.status}"
    except urllib.error.HTTPError as e:
        error = f"HTTP {e.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        error = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
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
