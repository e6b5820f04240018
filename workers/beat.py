"""A Celery beat scheduler over our own schedules table (`celery beat -S workers.beat:DatabaseScheduler`).

Why our own: the schedule lives in the job store that the API writes, time zones and DST
are computed by docagent.service.cron, and exactly-once per fire time is a unique key in the same
database — so two beats started by mistake cannot double-fire, and a restart loses nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import Scheduler

from docagent.service.reaper import Suspects, reap
from docagent.service.schedules import fire_due
from docagent.settings import get_settings
from docagent.workers.app import broker_holds, enqueue

log = logging.getLogger(__name__)


SUSPECTS = Suspects()
_last_recovery = 0.0


def recover() -> None:
    """Send what was never sent or was lost by the broker; the broker is read before the job store."""
    held = broker_holds()
    for job_id, stage in reap(held=held, suspects=SUSPECTS):
        log.warning("job %s was lost or never sent; sending its %s task again", job_id, stage)
        enqueue(job_id, stage)


def tick_once() -> int:
    """Fire what is due and enqueue the new jobs, and recover lost ones; returns how many runs started."""
    global _last_recovery
    if time.monotonic() - _last_recovery >= get_settings().recovery_interval_s:
        _last_recovery = time.monotonic()
        recover()
    runs = fire_due()
    for run in runs:
        if run.job_id and run.outcome == "started":
            enqueue(run.job_id)
        log.info(
            "schedule %s fired for %s (%s%s)", run.schedule_id, run.fire_time, run.outcome, ", late" if run.late else ""
        )
    return len(runs)


class DatabaseScheduler(Scheduler):
    def setup_schedule(self) -> None:
        pass  # nothing in celery's own schedule: every entry lives in the database

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            tick_once()
        except Exception:  # the database may be briefly away: keep beating
            log.exception("scheduler tick failed")
        return float(get_settings().beat_interval_s)
