"""What a service operation is given: sessions, clock, settings, media store and a dispatcher.

Each state-changing operation is one function taking a `Context`. It opens its own transaction,
writes its audit entry, and sends through `ctx.dispatcher` only after the commit. The front-ends
(`controller.api`, `controller.web`) build the context from the request and never see the bus.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from common.clock import Clock
from controller.audio import MediaStore
from controller.config import Settings
from controller.db.session import transaction
from protocol import SignedMessage


class Dispatcher(Protocol):
    """Sends signed commands and re-sends manifests to agents (the controller's `ManifestPublisher`)."""

    def send(self, messages: Iterable[SignedMessage]) -> int: ...

    def refresh(self, agent_ids: Iterable[str] | None = None, *, force: bool = False) -> int: ...


@dataclass(frozen=True)
class Context:
    session_factory: sessionmaker[Session]
    clock: Clock
    settings: Settings
    dispatcher: Dispatcher
    store: MediaStore
    confirm_secret: bytes

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def horizon(self) -> timedelta:
        """How far ahead plays are expanded and sent in manifests."""
        return timedelta(hours=self.settings.manifest_horizon_hours)

    @property
    def base_url(self) -> str:
        return self.settings.resolved_public_base_url

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on error."""
        with transaction(self.session_factory) as session:
            yield session
