"""Confirmation ingest rate on SQLite and PostgreSQL, against a plain executemany INSERT of the same rows.

    .venv/bin/python -m benchmarks.ingest --count 20000

For each backend, in a fresh database migrated to the real schema and seeded with the plays the
confirmations refer to:

- **baseline**: the same rows inserted with a plain executemany INSERT, in transactions of
  `--batch` rows, into a table with the same columns but no unique constraints, no foreign keys
  and no play-status update.
- **loa-xa**: `controller.services.confirmations.ingest` in transactions of `--batch` messages,
  as `controller.background.ingest.Ingestor` does (its batch is 500).
- **re-ingest**: the same confirmations again (a broker redelivery), and the same (play, event)
  pairs with new message ids (an outbox rebuilt after a crash). Both must store 0 new rows.

Decoding MQTT payloads is not timed on either side; both start from parsed `Confirmation`s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.common import Out, machine, stamp, table
from common.clock import utcnow
from controller.db.base import UtcDateTime
from controller.db.migrate import upgrade
from controller.db.models import Agent, AudioAsset, Bulletin, Commune, Play, PlayEvent, Province
from controller.db.session import make_engine, make_session_factory, transaction
from controller.services.confirmations import ingest, play_event_row
from protocol import Confirmation
from protocol import PlayEvent as Event
from protocol.messages import AgentMessage, replace

POSTGRES_ADMIN_URL = os.environ.get("LOA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
EVENTS = (Event.DOWNLOADED, Event.STARTED, Event.FINISHED)
AGENTS = 500

_plain = MetaData()
PLAIN_EVENT = Table(
    "bench_plain_event",
    _plain,
    Column("id", Integer, primary_key=True),
    Column("msg_id", String(64)),
    Column("play_id", String(64)),
    Column("agent_id", String(64)),
    Column("event", String(16)),
    Column("at", UtcDateTime),
    Column("started_at", UtcDateTime),
    Column("ended_at", UtcDateTime),
    Column("duration_played_s", Float),
    Column("reason", String(500)),
    Column("received_at", UtcDateTime),
)
"""`play_event`'s columns without its idempotency: no unique keys, no foreign key, no index."""

Batch = list[tuple[str, AgentMessage]]


@dataclass
class BackendResult:
    backend: str
    count: int
    baseline_s: float
    loa_s: float
    stored: int
    redelivered_stored: int
    redelivered_duplicates: int
    rebuilt_stored: int
    rebuilt_duplicates: int
    rows_after: int

    @property
    def baseline_rate(self) -> float:
        return self.count / self.baseline_s

    @property
    def loa_rate(self) -> float:
        return self.count / self.loa_s


def seed(factory: sessionmaker[Session], count: int) -> list[Confirmation]:
    """Plays for `count` confirmations (downloaded, started, finished each) and the confirmations."""
    plays = -(-count // len(EVENTS))
    now = utcnow()
    with transaction(factory) as session:
        province = Province(code="bench-p", name="Tỉnh Đo Tải")
        session.add(province)
        session.flush()
        commune = Commune(province_id=province.id, code="bench-x", name="Xã Đo Tải")
        session.add(commune)
        session.flush()
        bulletin = Bulletin(id="bench-bulletin", title="Bản tin đo tải", topic="an-ninh-mang", body="Bà con lưu ý.")
        session.add(bulletin)
        session.flush()
        asset = AudioAsset(
            bulletin_id=bulletin.id, sha256="a" * 64, size_bytes=20_000, duration_s=9.3, engine="espeak-ng", voice="vi"
        )
        session.add(asset)
        session.flush()
        agent_ids = [f"bench-{i:04d}" for i in range(min(AGENTS, plays))]
        session.execute(insert(Agent), [{"id": a, "commune_id": commune.id} for a in agent_ids])
        rows = [
            {
                "id": uuid.uuid4().hex,
                "agent_id": agent_ids[i % len(agent_ids)],
                "bulletin_id": bulletin.id,
                "audio_asset_id": asset.id,
                "starts_at": now + timedelta(seconds=i),
            }
            for i in range(plays)
        ]
        session.execute(insert(Play), rows)
    confirmations: list[Confirmation] = []
    for row in rows:
        start = row["starts_at"]
        assert isinstance(start, datetime)
        for event in EVENTS:
            finished = event is Event.FINISHED
            confirmations.append(
                Confirmation(
                    agent_id=str(row["agent_id"]),
                    at=start + timedelta(seconds=9.3 if finished else 0),
                    play_id=str(row["id"]),
                    event=event,
                    started_at=start if event is not Event.DOWNLOADED else None,
                    ended_at=start + timedelta(seconds=9.3) if finished else None,
                    duration_played_s=9.3 if finished else None,
                )
            )
    return confirmations[:count]


def batches(items: Sequence[Confirmation], size: int) -> Iterator[Batch]:
    for i in range(0, len(items), size):
        yield [(c.agent_id, c) for c in items[i : i + size]]


def plain_rows(batch: Batch) -> list[dict[str, Any]]:
    now = utcnow()
    return [play_event_row(c, now) for _agent, c in batch if isinstance(c, Confirmation)]


def timed(fn: Callable[[], None]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_backend(backend: str, engine: Engine, count: int, batch_size: int) -> BackendResult:
    upgrade(engine)
    _plain.create_all(engine)
    factory = make_session_factory(engine)
    confirmations = seed(factory, count)

    def baseline() -> None:
        for batch in batches(confirmations, batch_size):
            with transaction(factory) as session:
                session.execute(insert(PLAIN_EVENT), plain_rows(batch))

    totals: dict[str, list[int]] = {}

    def loa(label: str, items: Sequence[Confirmation]) -> None:
        stored = duplicates = 0
        for batch in batches(items, batch_size):
            with transaction(factory) as session:
                result = ingest(session, batch, utcnow())
            stored += result.stored
            duplicates += result.duplicates
        totals[label] = [stored, duplicates]

    baseline_s = timed(baseline)
    loa_s = timed(lambda: loa("first", confirmations))
    loa("redelivered", confirmations)
    rebuilt = [replace(c, msg_id=uuid.uuid4().hex) for c in confirmations]
    loa("rebuilt", rebuilt)
    with factory() as session:
        rows_after = int(session.scalar(select(func.count()).select_from(PlayEvent)) or 0)
        plain = int(session.scalar(select(func.count()).select_from(PLAIN_EVENT)) or 0)
    if plain != count:
        raise RuntimeError(f"baseline stored {plain} rows, expected {count}")
    return BackendResult(
        backend=backend,
        count=count,
        baseline_s=baseline_s,
        loa_s=loa_s,
        stored=totals["first"][0],
        redelivered_stored=totals["redelivered"][0],
        redelivered_duplicates=totals["redelivered"][1],
        rebuilt_stored=totals["rebuilt"][0],
        rebuilt_duplicates=totals["rebuilt"][1],
        rows_after=rows_after,
    )


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped on exit."""
    import psycopg

    name = f"loa_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_sqlite(count: int, batch: int) -> BackendResult:
    with tempfile.TemporaryDirectory(prefix="loa-bench-ingest-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'loa.db'}")
        try:
            return run_backend("SQLite (WAL, synchronous=NORMAL)", engine, count, batch)
        finally:
            engine.dispose()


def run_postgres(count: int, batch: int) -> BackendResult:
    with fresh_postgres() as url:
        engine = make_engine(url)
        try:
            result = run_backend("PostgreSQL", engine, count, batch)
            with engine.connect() as conn:
                result.backend = f"PostgreSQL {conn.exec_driver_sql('SHOW server_version').scalar()}"
            return result
        finally:
            engine.dispose()


def report(results: Sequence[BackendResult], batch: int, out: Out) -> bool:
    ok = True
    rows = []
    for r in results:
        correct = (
            r.stored == r.count
            and r.redelivered_stored == 0
            and r.rebuilt_stored == 0
            and r.redelivered_duplicates == r.count
            and r.rebuilt_duplicates == r.count
            and r.rows_after == r.count
        )
        ok = ok and correct
        rows.append(
            [
                r.backend,
                r.count,
                r.baseline_rate,
                r.loa_rate,
                f"{r.loa_rate / r.baseline_rate:.2f}",
                r.stored,
                f"{r.redelivered_stored} new / {r.redelivered_duplicates} dup",
                f"{r.rebuilt_stored} new / {r.rebuilt_duplicates} dup",
                r.rows_after,
            ]
        )
    out("")
    out(f"Confirmation ingest, batches of {batch}, {stamp()}. Machine: {machine()}.")
    out(
        table(
            [
                "backend",
                "confirmations",
                "baseline INSERT rows/s",
                "loa-xa ingest rows/s",
                "loa-xa / baseline",
                "stored",
                "re-ingest same msgs",
                "re-ingest new msg ids",
                "play_event rows after",
            ],
            rows,
        )
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="confirmations to ingest (default 20000)")
    parser.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500, as Ingestor)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    out: Out = print
    out(f"benchmarks.ingest: {args.count} confirmations; SQLite ...")
    results = [run_sqlite(args.count, args.batch)]
    if not args.no_postgres:
        out(f"PostgreSQL at {POSTGRES_ADMIN_URL.rsplit('@', 1)[-1]} (fresh database, dropped afterwards) ...")
        results.append(run_postgres(args.count, args.batch))
    return 0 if report(results, args.batch, out) else 1


if __name__ == "__main__":
    raise SystemExit(main())
