"""The scheduler's jobs: expand programmes, publish manifests, mark missed plays, keep the lease.

Each job is a plain method, also called directly by routes and tests. APScheduler's SQLAlchemy job store
pickles jobs by reference, so what it stores is `run_job(token, name)`: a module-level function that
finds the live `ScheduleJobs` registered under `token` in this process.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from common.clock import Clock
from controller.background.publisher import ManifestPublisher
from controller.db.session import transaction
from controller.scheduling import lease
from controller.services.missed import mark_missed
from controller.services.programmes import expand

log = logging.getLogger(__name__)

_REGISTRY: dict[str, ScheduleJobs] = {}
_REGISTRY_LOCK = threading.Lock()


class ScheduleJobs:
    """What the controller does on a timer, bound to one database, publisher and clock."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        publisher: ManifestPublisher,
        clock: Clock,
        *,
        horizon: timedelta,
        missed_grace: timedelta,
        lease_ttl: timedelta,
    ) -> None:
        self._factory = factory
        self._publisher = publisher
        self._clock = clock
        self.horizon = horizon
        self.missed_grace = missed_grace
        self.lease_ttl = lease_ttl
        self.holder = lease.holder_id()
        self.token = uuid.uuid4().hex

    def register(self) -> None:
        with _REGISTRY_LOCK:
            _REGISTRY[self.token] = self

    def unregister(self) -> None:
        with _REGISTRY_LOCK:
            _REGISTRY.pop(self.token, None)

    def expand(self) -> set[str]:
        """Expand recurring programmes over the rolling horizon and republish the manifests that changed."""
        with transaction(self._factory) as session:
            changed = expand(session, self._clock.now(), self.horizon)
        if changed:
            self._publisher.refresh(changed)
        return changed

    def refresh(self) -> int:
        """Republish manifests whose plays changed or that near expiry."""
        return self._publisher.refresh()

    def mark_missed(self) -> int:
        with transaction(self._factory) as session:
            missed = mark_missed(session, self._clock.now(), self.missed_grace)
            if missed:
                log.warning("%d play(s) missed: %s", len(missed), sorted({p.reason or "" for p in missed}))
            return len(missed)

    def renew_lease(self) -> None:
        lease.acquire(self._factory, self.holder, self._clock.now(), self.lease_ttl)

    def acquire_lease(self) -> None:
        lease.acquire(self._factory, self.holder, self._clock.now(), self.lease_ttl)

    def release_lease(self) -> None:
        lease.release(self._factory, self.holder)


JOB_NAMES = ("expand", "refresh", "mark_missed", "renew_lease")


def run_job(token: str, name: str) -> None:
    """The job store's entry point. Logs and swallows errors: the next run tries again."""
    if name not in JOB_NAMES:
        log.error("unknown job %s", name)
        return
    with _REGISTRY_LOCK:
        jobs = _REGISTRY.get(token)
    if jobs is None:
        log.warning("job %s for a controller that is no longer running; skipped", name)
        return
    try:
        getattr(jobs, name)()
    except Exception:
        log.exception("scheduled job %s failed", name)
