"""The Celery app. Broker by setting: Redis at scale, kombu's filesystem transport when none is set.

The API imports only this module and sends tasks by name, so it never loads the
pipeline or the renderers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery

from docagent.settings import Settings, get_settings

PLAN_TASK, RENDER_TASK, DELIVER_TASK = "docagent.plan", "docagent.render", "docagent.deliver"


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
    app = Celery("docagent", broker=url, include=["workers.tasks"])
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


def enqueue(job_id: str) -> None:
    app.send_task(PLAN_TASK, args=[job_id], queue="plan")
