"""The agent's durable state: one SQLite file in `state_dir`, written with WAL and synchronous=FULL.

It holds the current manifest, the status of every play, the command ids already seen (the
replay guard), the confirmation outbox and a few settings. The one invariant that matters most:
a play's status and the confirmation that reports it are written in the same transaction, before
anything is published. So after a crash the outbox re-sends exactly what the status says happened,
and a play that reached `started` or a terminal status is never played again.

A scheduled play is `armed` first, durably, while the amplifier warms up: at its instant the
agent then starts the audio and records `started` without waiting for an fsync (see `_tx`). A
play found armed after a restart whose instant has passed may have been heard, so it is
reported interrupted and never replayed, like a `started` one; one whose instant is still ahead
goes back to `downloaded` and plays as booked.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from edge_agent.errors import StoreError
from edge_agent.faults import MID_WRITE, fault_point
from protocol.codec import encode
from protocol.messages import Confirmation, ManifestPlay, ScheduleManifest, decode_as, replace

SCHEMA_VERSION = 1
SEEN_RETENTION = timedelta(days=1)
"""Command ids are kept this long past their expiry, so a clock that steps back cannot reopen them."""
PLAY_RETENTION = timedelta(days=14)
"""Finished plays are forgotten this long after their start, unless the current manifest lists them."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL,
    raw BLOB NOT NULL,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS plays (
    play_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    starts_at REAL NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_messages (
    msg_id TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL UNIQUE,
    play_id TEXT NOT NULL,
    event TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class PlayStatus(StrEnum):
    """Where one play stands on this agent. All but `pending` and `armed` are also confirmation events."""

    PENDING = "pending"
    DOWNLOADED = "downloaded"
    ARMED = "armed"
    """About to start: written during the warm-up, so the start itself needs no fsync."""
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({PlayStatus.FINISHED, PlayStatus.FAILED, PlayStatus.SKIPPED})
_RANK = {
    PlayStatus.PENDING: 0,
    PlayStatus.DOWNLOADED: 1,
    PlayStatus.ARMED: 2,
    PlayStatus.STARTED: 3,
    PlayStatus.FINISHED: 4,
    PlayStatus.FAILED: 4,
    PlayStatus.SKIPPED: 4,
}


class PlaySource(StrEnum):
    """How the agent learnt of a play."""

    MANIFEST = "manifest"
    PLAY_NOW = "play-now"


@dataclass(frozen=True)
class StoredManifest:
    """The manifest the agent holds: its revision, the signed bytes as received, and the parsed message."""

    revision: int
    raw: bytes
    manifest: ScheduleManifest


@dataclass(frozen=True)
class OutboxEntry:
    """One confirmation waiting for the broker's PUBACK."""

    seq: int
    msg_id: str
    play_id: str
    event: str
    payload: bytes


def _ts(instant: datetime) -> float:
    if instant.tzinfo is None:
        raise ValueError("the agent store keeps timezone-aware instants only")
    return instant.timestamp()


class AgentStore:
    """Durable agent state in one SQLite file. Use from one thread (the agent's event loop)."""

    FILENAME = "agent.sqlite3"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{path} was written by a newer agent (schema {version} > {SCHEMA_VERSION})")
            # Every statement is idempotent; executescript runs them in its own transaction.
            self._db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the agent state {path}: {exc}") from exc

    @classmethod
    def in_dir(cls, state_dir: Path) -> AgentStore:
        return cls(state_dir / cls.FILENAME)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AgentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction. `durable=False` commits without an fsync (WAL, `synchronous=NORMAL`).

        Such a commit survives a crash of the agent but may be lost to a power cut, together with
        anything after it; the next durable commit fsyncs it too. Only writes whose loss is harmless
        take it: an outbox entry dropped after the broker's ack (lost, it is sent again, and the
        controller ignores the repeat), and a play marked downloaded (lost, the cached file is
        checked again). On an SD card each fsync costs milliseconds; a simulator process holding a
        thousand agents pays them all on one event loop.
        """
        if self._db.in_transaction:
            yield self._db
            return
        if not durable:
            self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            fault_point(MID_WRITE)  # a crash test dies here: every write done, none committed
            self._db.execute("COMMIT")
        finally:
            if not durable:
                self._db.execute("PRAGMA synchronous=FULL")

    # -- manifest -----------------------------------------------------------------------------

    def manifest_revision(self) -> int | None:
        row = self._db.execute("SELECT revision FROM manifest WHERE id = 1").fetchone()
        return int(row[0]) if row else None

    def load_manifest(self) -> StoredManifest | None:
        row = self._db.execute("SELECT revision, raw, payload FROM manifest WHERE id = 1").fetchone()
        if row is None:
            return None
        return StoredManifest(int(row[0]), bytes(row[1]), decode_as(row[2], ScheduleManifest))

    def save_manifest(self, manifest: ScheduleManifest, raw: bytes, now: datetime) -> None:
        """Make `manifest` the current one and register its plays as pending (known plays keep their status)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO manifest (id, revision, raw, payload, received_at) VALUES (1, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, raw = excluded.raw,"
                " payload = excluded.payload, received_at = excluded.received_at",
                (manifest.revision, raw, encode(manifest, check=False).decode(), _ts(now)),
            )
            for play in manifest.plays:
                self._insert_play(play, PlaySource.MANIFEST, now)
            listed = [p.play_id for p in manifest.plays]
            db.execute(
                "DELETE FROM plays WHERE starts_at < ? AND play_id NOT IN (SELECT value FROM json_each(?))",
                (_ts(now - PLAY_RETENTION), json.dumps(listed)),
            )

    # -- plays --------------------------------------------------------------------------------

    def _insert_play(self, play: ManifestPlay, source: PlaySource, now: datetime) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO plays (play_id, source, starts_at, status, updated_at) VALUES (?, ?, ?, ?, ?)",
            (play.play_id, source.value, _ts(play.starts_at), PlayStatus.PENDING.value, _ts(now)),
        )

    def add_play(self, play: ManifestPlay, source: PlaySource, now: datetime) -> PlayStatus:
        """Register a play if it is new. Returns its status, which is `pending` unless it was known."""
        with self._tx():
            self._insert_play(play, source, now)
        status = self.play_status(play.play_id)
        assert status is not None
        return status

    def play_status(self, play_id: str) -> PlayStatus | None:
        row = self._db.execute("SELECT status FROM plays WHERE play_id = ?", (play_id,)).fetchone()
        return PlayStatus(row[0]) if row else None

    def advance(
        self,
        play_id: str,
        status: PlayStatus,
        confirmation: Confirmation | None,
        now: datetime,
        reason: str | None = None,
        *,
        seal: Callable[[Confirmation], bytes] | None = None,
    ) -> bool:
        """Move a play forward to `status` and queue its confirmation, in one transaction.

        The confirmation is queued numbered (`seq`) and named by its manifest revision, as `seal` makes it into
        bytes: the agent's signed envelope, or plain JSON without a `seal`.

        Returns False, writing nothing, when the play already stands at or past `status`:
        a play is confirmed `started` once and reaches exactly one terminal status.
        `downloaded`, and `started` after `armed`, are committed without an fsync (see `_tx`).
        """
        row = self._db.execute("SELECT status FROM plays WHERE play_id = ?", (play_id,)).fetchone()
        if row is None:
            raise StoreError(f"play {play_id} is not registered")
        current = PlayStatus(row[0])
        if _RANK[status] <= _RANK[current]:
            return False
        relaxed = status is PlayStatus.DOWNLOADED or (status is PlayStatus.STARTED and current is PlayStatus.ARMED)
        with self._tx(durable=not relaxed) as db:  # one thread uses the store: the status read above holds
            db.execute(
                "UPDATE plays SET status = ?, reason = ?, updated_at = ? WHERE play_id = ?",
                (status.value, reason, _ts(now), play_id),
            )
            if confirmation is not None:
                # The outbox row's number is the confirmation's `seq` (v1.2): AUTOINCREMENT never reuses one, and a
                # transaction lost to a power cut takes its number with it, so the controller sees no false gap.
                cursor = db.execute(
                    "INSERT INTO outbox (msg_id, play_id, event, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                    (confirmation.msg_id, play_id, confirmation.event.value, b"", _ts(now)),
                )
                numbered = replace(confirmation, seq=cursor.lastrowid, manifest_revision=self._revision_of(db, play_id))
                db.execute(
                    "UPDATE outbox SET payload = ? WHERE seq = ?", ((seal or encode)(numbered), cursor.lastrowid)
                )
        return True

    @staticmethod
    def _revision_of(db: sqlite3.Connection, play_id: str) -> int | None:
        """The revision of the manifest a scheduled play is taken from (it is in the current one); None for play-now."""
        row = db.execute(
            "SELECT m.revision FROM plays p JOIN manifest m ON m.id = 1 WHERE p.play_id = ? AND p.source = ?",
            (play_id, PlaySource.MANIFEST.value),
        ).fetchone()
        return int(row[0]) if row else None

    def arm(self, play_id: str, now: datetime) -> bool:
        """Mark a play about to start, durably. False (writing nothing) if it is already armed or further on."""
        with self._tx() as db:
            row = db.execute("SELECT status FROM plays WHERE play_id = ?", (play_id,)).fetchone()
            if row is None:
                raise StoreError(f"play {play_id} is not registered")
            if _RANK[PlayStatus(row[0])] >= _RANK[PlayStatus.ARMED]:
                return False
            db.execute(
                "UPDATE plays SET status = ?, updated_at = ? WHERE play_id = ?",
                (PlayStatus.ARMED.value, _ts(now), play_id),
            )
        return True

    def disarm(self, play_id: str, now: datetime) -> None:
        """An armed play that never started goes back to `downloaded` (recovery, before its instant)."""
        with self._tx(durable=False) as db:
            db.execute(
                "UPDATE plays SET status = ?, updated_at = ? WHERE play_id = ? AND status = ?",
                (PlayStatus.DOWNLOADED.value, _ts(now), play_id, PlayStatus.ARMED.value),
            )

    def armed_plays(self) -> list[tuple[str, datetime]]:
        """(play id, booked instant) of every armed play: for recovery at start."""
        rows = self._db.execute(
            "SELECT play_id, starts_at FROM plays WHERE status = ? ORDER BY starts_at", (PlayStatus.ARMED.value,)
        ).fetchall()
        return [(r[0], datetime.fromtimestamp(r[1], UTC)) for r in rows]

    def unfinished_plays(self) -> list[tuple[str, PlaySource, PlayStatus]]:
        """Plays that are neither terminal nor merely waiting in the manifest: for recovery at start.

        That is every play that reached `started`, and every accepted PlayNow not yet played.
        """
        rows = self._db.execute(
            "SELECT play_id, source, status FROM plays WHERE status = ? OR (source = ? AND status IN (?, ?))"
            " ORDER BY starts_at",
            (
                PlayStatus.STARTED.value,
                PlaySource.PLAY_NOW.value,
                PlayStatus.PENDING.value,
                PlayStatus.DOWNLOADED.value,
            ),
        ).fetchall()
        return [(r[0], PlaySource(r[1]), PlayStatus(r[2])) for r in rows]

    # -- replay guard -------------------------------------------------------------------------

    def remember_message(self, msg_id: str, expires_at: datetime, now: datetime) -> bool:
        """Record a command id. False when it was seen before: the command is a replay."""
        with self._tx() as db:
            db.execute("DELETE FROM seen_messages WHERE expires_at < ?", (_ts(now - SEEN_RETENTION),))
            cur = db.execute(
                "INSERT OR IGNORE INTO seen_messages (msg_id, expires_at) VALUES (?, ?)", (msg_id, _ts(expires_at))
            )
            return cur.rowcount == 1

    # -- outbox -------------------------------------------------------------------------------

    def pending_confirmations(self, limit: int = 100) -> list[OutboxEntry]:
        """The oldest unacknowledged confirmations, in the order they were written."""
        rows = self._db.execute(
            "SELECT seq, msg_id, play_id, event, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [OutboxEntry(int(r[0]), r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def mark_sent(self, msg_ids: Iterable[str]) -> None:
        """The broker acknowledged these confirmations: drop them from the outbox (no fsync, see `_tx`)."""
        with self._tx(durable=False) as db:
            db.executemany("DELETE FROM outbox WHERE msg_id = ?", [(m,) for m in msg_ids])

    def outbox_size(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    # -- settings -----------------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_setting(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
