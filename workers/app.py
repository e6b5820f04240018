"""The Celery app. Broker by setting: Redis at scale, kombu's filesystem transport when none is set.

The API imports only this module and sends tasks by name, so it never loads the
pipeline or the renderers.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from celery import Celery

from docagent.service.reaper import mark_sent
from docagent.settings import Settings, get_settings

PLAN_TASK, RENDER_TASK, DELIVER_TASK = "docagent.engine.plan", "docagent.render", "docagent.deliver"
log = logging.getLogger(__name__)


def broker_options(settings: Settings) -> tuple[str, dict[str, Any]]:
    if settings.broker_url:
        return settings.broker_url, {"visibility_timeout": settings.broker_visibility_timeout_s}
    folder = (Path(settings.var_dir) / "broker").resolve()
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # One folder in and out: every process may both send and receive. The control folder holds
    # kombu's exchange tables (its default is ./control, wherever the process was started).
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "data_folder_processed": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }


def make_app(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    url, options = broker_options(settings)
    app = Celery("docagent", broker=url, include=["docagent.workers.tasks"])
    app.conf.update(
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_time_limit=settings.job_time_limit_s,
        task_soft_time_limit=max(30, settings.job_time_limit_s - 30),
        task_routes={PLAN_TASK: {"queue": "plan"}, RENDER_TASK: {"queue": "render"}, DELIVER_TASK: {"queue": "plan"}},
        task_default_queue="plan",
        worker_enable_remote_control=bool(settings.broker_url),  # the filesystem transport has no fanout
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
    )
    return app


app = make_app()


def enqueue(job_id: str, stage: str = "plan") -> bool:
    """Send the job's stage and record the send; False (nothing raised) when the broker is down:
    the job is accepted all the same, and the recovery loop sends it when the broker is back."""
    try:
        app.send_task(PLAN_TASK if stage == "plan" else RENDER_TASK, args=[job_id], queue=stage)
    except Exception:  # kombu's OperationalError, a refused connection, a timeout: all mean "not sent"
        log.warning("could not send job %s to the broker; the recovery loop will send it", job_id, exc_info=True)
        return False
    mark_sent(job_id)
    return True


JOB_ID = re.compile(rb"\b[0-9a-f]{32}\b")


def broker_holds() -> set[str] | None:
    """Ids of the jobs whose messages the broker holds (queued, or delivered and not yet acknowledged);
    None when the broker cannot be asked (it is down, or a transport we cannot read)."""
    settings = get_settings()
    try:
        if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
            with app.connection_for_read() as conn:
                client = conn.default_channel.client
                raw = [m for q in ("plan", "render") for m in client.lrange(q, 0, -1)]
                raw += list(client.hvals(conn.default_channel.unacked_key))
        elif not settings.broker_url:
            folder = Path(broker_options(settings)[1]["data_folder_in"])
            raw = [p.read_bytes() for p in folder.iterdir() if p.is_file()]
        else:
            return None
    except Exception:
        log.warning("could not read the broker's queues", exc_info=True)
        return None
    return {m.decode() for r in raw for m in JOB_ID.findall(r if isinstance(r, bytes) else str(r).encode())}
