"""Liveness, readiness (database, broker, storage) and Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from sqlalchemy import func, select, text

from docagent.api.deps import SettingsDep, StorageDep, from_loopback
from docagent.errors import Forbidden, NotSignedIn
from docagent.service.lifecycle import JobStatus
from docagent.service.store import JobRow, session
from docagent.settings import Settings
from docagent.workers.app import app as celery_app

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(settings: SettingsDep, storage: StorageDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with session(settings) as s:
            s.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as e:
        checks["database"] = f"error: {type(e).__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as e:
        checks["broker"] = f"error: {type(e).__name__}"
    try:
        storage.check()
        checks["storage"] = "ok"
    except Exception as e:
        checks["storage"] = f"error: {e}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


class JobCollector:
    """Figures read from the job store at scrape time, so every API replica reports the same."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Any:
        with session(self.settings) as s:
            counts = dict(s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all())
            done = s.execute(
                select(JobRow.started_at, JobRow.finished_at, JobRow.usage).where(JobRow.finished_at.is_not(None))
            ).all()
        jobs = GaugeMetricFamily("docagent_jobs", "Jobs by status", labels=["status"])
        for st in JobStatus:
            jobs.add_metric([st], counts.get(st, 0))
        yield jobs
        queue = GaugeMetricFamily("docagent_queue_depth", "Jobs waiting for a worker")
        queue.add_metric([], counts.get(JobStatus.QUEUED, 0))
        yield queue
        durations = [(f - s_).total_seconds() for s_, f, _ in done if s_ and f]
        summary = SummaryMetricFamily("docagent_job_duration_seconds", "Start to finish of finished jobs")
        summary.add_metric([], count_value=len(durations), sum_value=sum(durations))
        yield summary
        tokens = CounterMetricFamily("docagent_model_tokens", "Model tokens spent on plans", labels=["kind"])
        for kind in ("input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens"):
            tokens.add_metric([kind.removesuffix("_tokens")], sum((u or {}).get(kind, 0) for _, _, u in done))
        yield tokens
        cost = CounterMetricFamily("docagent_model_cost_usd", "Estimated model cost")
        cost.add_metric([], sum((u or {}).get("cost_usd", 0.0) for _, _, u in done))
        yield cost


@router.get("/metrics")
def metrics(request: Request, settings: SettingsDep) -> Response:
    """Figures across all owners: for the operator's scraper (DOCAGENT_METRICS_TOKEN), or from loopback."""
    if settings.metrics_token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), settings.metrics_token.encode()):
            raise NotSignedIn("metrics need 'Authorization: Bearer TOKEN' (DOCAGENT_METRICS_TOKEN)")
    elif not from_loopback(request):  # a proxy on this machine would make every caller look local
        raise Forbidden("set DOCAGENT_METRICS_TOKEN to scrape metrics from elsewhere than loopback")
    registry = CollectorRegistry()
    registry.register(JobCollector(settings))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
