"""APScheduler wiring: one BackgroundScheduler on a persistent SQLAlchemy job store, guarded by a lease.

Exactly one scheduler may run per database: APScheduler 3 must not share a job store between processes.
`start()` takes the database lease first and refuses to run if another controller holds it.
"""

from __future__ import annotations

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from controller.background.jobs import ScheduleJobs, run_job

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"


class BroadcastScheduler:
    """Runs expansion, manifest refresh, missed-play marking and lease renewal on intervals."""

    def __init__(
        self,
        engine: Engine,
        timezone: str,
        jobs: ScheduleJobs,
        *,
        refresh_interval_s: float,
        expansion_interval_s: float,
        missed_interval_s: float = 60.0,
    ) -> None:
        self._jobs = jobs
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
            timezone=timezone,
            job_defaults={"misfire_grace_time": 300, "coalesce": True, "max_instances": 1},
        )
        self._intervals = {
            "expand": expansion_interval_s,
            "refresh": refresh_interval_s,
            "mark_missed": missed_interval_s,
            "renew_lease": jobs.lease_ttl.total_seconds() / 3,
        }

    def start(self) -> None:
        """Take the lease, run every job once now, then start the timers."""
        self._jobs.acquire_lease()
        self._jobs.register()
        try:
            self._jobs.expand()
            self._jobs.mark_missed()
            for name, seconds in self._intervals.items():
                self._scheduler.add_job(
                    run_job,
                    "interval",
                    seconds=seconds,
                    args=[self._jobs.token, name],
                    id=name,
                    name=name,
                    replace_existing=True,
                )
            self._scheduler.start()
        except BaseException:
            self._jobs.unregister()
            self._jobs.release_lease()
            raise

    def stop(self) -> None:
        try:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=True)
        finally:
            self._jobs.unregister()
            self._jobs.release_lease()
