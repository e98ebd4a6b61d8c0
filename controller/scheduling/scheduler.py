"""APScheduler wiring. Job functions are plain callables, also run directly by routes and tests."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

REFRESH_JOB_ID = "refresh-manifests"


class BroadcastScheduler:
    """Runs the periodic manifest refresh in the controller's time zone.

    Exactly one scheduler may run per database (APScheduler 3 must not share a job store).
    """

    def __init__(self, timezone: str, refresh: Callable[[], object], refresh_interval_s: float) -> None:
        self._scheduler = BackgroundScheduler(
            timezone=timezone,
            job_defaults={"misfire_grace_time": 300, "coalesce": True, "max_instances": 1},
        )
        self._refresh = refresh
        self._interval = refresh_interval_s

    def start(self) -> None:
        self._scheduler.add_job(
            self._run_refresh, "interval", seconds=self._interval, id=REFRESH_JOB_ID, replace_existing=True
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _run_refresh(self) -> None:
        try:
            self._refresh()
        except Exception:
            log.exception("manifest refresh failed; next run in %ss", self._interval)
