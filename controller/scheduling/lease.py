"""The single-scheduler guard: a lease row in the database that one controller process holds at a time.

APScheduler 3 must never run two schedulers on one job store: they would duplicate or drop jobs. Every
controller takes this lease before starting its scheduler and renews it while running; a second
controller on the same database refuses to start until the lease is released or has expired.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from controller.db.models import SchedulerLease
from controller.db.session import transaction
from controller.errors import ControllerError

LEASE = "scheduler"


class SchedulerAlreadyRunning(ControllerError):
    """Another controller holds the scheduler lease on this database."""

    status_code = 409


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(factory: sessionmaker[Session], holder: str, now: datetime, ttl: timedelta) -> None:
    """Take or renew the lease. Raises SchedulerAlreadyRunning if another live holder has it."""
    try:
        with transaction(factory) as session:
            row = session.scalars(select(SchedulerLease).where(SchedulerLease.name == LEASE).with_for_update()).first()
            if row is None:
                session.add(SchedulerLease(name=LEASE, holder=holder, expires_at=now + ttl))
                return
            if row.holder != holder and row.expires_at > now:
                raise SchedulerAlreadyRunning(
                    f"scheduler lease held by {row.holder} until {row.expires_at.isoformat()}",
                    "Một bộ điều khiển khác đang chạy lịch phát trên cùng cơ sở dữ liệu.",
                )
            row.holder, row.expires_at = holder, now + ttl
    except IntegrityError:  # another process inserted the row first
        raise SchedulerAlreadyRunning(
            "scheduler lease taken concurrently", "Một bộ điều khiển khác vừa nhận quyền chạy lịch phát."
        ) from None


def release(factory: sessionmaker[Session], holder: str) -> None:
    with transaction(factory) as session:
        session.execute(delete(SchedulerLease).where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder))
