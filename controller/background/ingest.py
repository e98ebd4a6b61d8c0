"""Batched ingestion of agent messages: the MQTT thread enqueues, one worker writes."""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from common.clock import Clock
from controller.db.session import transaction
from controller.services.confirmations import IngestResult, ingest
from protocol import Channel, ProtocolError, Topics, decode_agent_message
from protocol.messages import AgentMessage, SecurityEvent

log = logging.getLogger(__name__)


class Ingestor:
    """Decodes agent messages and stores them in batches of up to `batch_size` per transaction.

    A malformed message is logged and dropped; the next one is handled. A failed batch is
    retried message by message, so one poison message cannot block the others.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        topics: Topics,
        clock: Clock,
        *,
        batch_size: int = 500,
        on_result: Callable[[IngestResult], None] | None = None,
    ) -> None:
        self._factory = session_factory
        self._topics = topics
        self._clock = clock
        self._batch_size = batch_size
        self._on_result = on_result
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()  # None stops the worker
        self._thread: threading.Thread | None = None
        self.totals = IngestResult()
        # The latest rejections agents reported; bounded, so a long-running controller never grows.
        self.security_events: deque[SecurityEvent] = deque(maxlen=1000)
        self._idle = threading.Condition()
        self._pending = 0

    def submit(self, topic: str, payload: bytes) -> None:
        """Called from the MQTT thread: cheap, never blocks on the database."""
        with self._idle:
            self._pending += 1
        self._queue.put((topic, payload))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(30)
        self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until everything submitted so far is stored (for tests and the demo)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            raw = [item]
            stop = False
            while len(raw) < self._batch_size:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                raw.append(nxt)
            self._handle(raw)
            with self._idle:
                self._pending -= len(raw)
                self._idle.notify_all()
            if stop:
                return

    def _decode(self, raw: list[tuple[str, bytes]]) -> list[tuple[str, AgentMessage]]:
        batch: list[tuple[str, AgentMessage]] = []
        for topic, payload in raw:
            try:
                agent_id, channel = self._topics.parse(topic)
                msg = decode_agent_message(payload)
            except ProtocolError as exc:
                log.warning("dropped malformed message on %s: %s", topic, exc)
                self.totals.dropped += 1
                continue
            if channel is Channel.MANIFEST or channel is Channel.COMMANDS:
                continue  # our own retained publishes are not subscribed, but be safe
            batch.append((agent_id, msg))
        return batch

    def _handle(self, raw: list[tuple[str, bytes]]) -> None:
        batch = self._decode(raw)
        if not batch:
            return
        try:
            self._store(batch)
        except Exception:
            log.exception("batch of %d failed; retrying one by one", len(batch))
            for one in batch:
                try:
                    self._store([one])
                except Exception:
                    log.exception("dropped message %s from %s after a storage error", one[1].msg_id, one[0])
                    self.totals.dropped += 1

    def _store(self, batch: list[tuple[str, AgentMessage]]) -> None:
        with transaction(self._factory) as session:
            result = ingest(session, batch, self._clock.now())
        self.totals.stored += result.stored
        self.totals.duplicates += result.duplicates
        self.totals.dropped += result.dropped
        self.security_events.extend(result.security_events)
        if self._on_result:
            self._on_result(result)
