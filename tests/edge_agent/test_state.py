"""The agent's durable state: status and confirmation written together, replay guard, outbox."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from common.clock import utcnow
from edge_agent.errors import StoreError
from edge_agent.state import AgentStore, PlaySource, PlayStatus
from protocol import Confirmation, PlayEvent, decode_agent_message
from protocol.messages import replace
from tests.edge_agent.conftest import Audio, make_manifest, make_play

AGENT = "loa-store"


def confirmation(play_id: str, event: PlayEvent) -> Confirmation:
    return Confirmation(agent_id=AGENT, at=utcnow(), play_id=play_id, event=event)


def test_status_and_confirmation_are_written_together(tmp_path: Path, audio: Audio) -> None:
    play = make_play(audio, 60)
    with AgentStore.in_dir(tmp_path) as store:
        store.save_manifest(make_manifest(AGENT, 1, [play]), b"raw", utcnow())
        assert store.play_status(play.play_id) is PlayStatus.PENDING
        c = confirmation(play.play_id, PlayEvent.STARTED)
        assert store.advance(play.play_id, PlayStatus.STARTED, c, utcnow())
        (entry,) = store.pending_confirmations()
        # Numbered by the outbox (v1.2) and named by the manifest revision it came from.
        assert entry.msg_id == c.msg_id and decode_agent_message(entry.payload) == replace(
            c, seq=1, manifest_revision=1
        )
    # A fresh connection (as after a crash) sees both.
    with AgentStore.in_dir(tmp_path) as store:
        assert store.play_status(play.play_id) is PlayStatus.STARTED
        assert [e.msg_id for e in store.pending_confirmations()] == [c.msg_id]


def test_a_play_moves_only_forward_and_ends_once(tmp_path: Path, audio: Audio) -> None:
    play = make_play(audio, 60)
    with AgentStore.in_dir(tmp_path) as store:
        store.add_play(play, PlaySource.MANIFEST, utcnow())
        for status in (PlayStatus.DOWNLOADED, PlayStatus.STARTED, PlayStatus.FINISHED):
            event = PlayEvent(status.value)
            assert store.advance(play.play_id, status, confirmation(play.play_id, event), utcnow())
        # Nothing after the terminal status: no second `finished`, no `failed`, no going back.
        for status in (PlayStatus.FINISHED, PlayStatus.FAILED, PlayStatus.SKIPPED, PlayStatus.STARTED):
            event = PlayEvent(status.value)
            assert not store.advance(play.play_id, status, confirmation(play.play_id, event), utcnow())
        assert [e.event for e in store.pending_confirmations()] == ["downloaded", "started", "finished"]
        assert store.add_play(play, PlaySource.MANIFEST, utcnow()) is PlayStatus.FINISHED


def test_a_failed_insert_rolls_the_status_back(tmp_path: Path, audio: Audio) -> None:
    play = make_play(audio, 60)
    with AgentStore.in_dir(tmp_path) as store:
        store.add_play(play, PlaySource.MANIFEST, utcnow())
        c = confirmation(play.play_id, PlayEvent.DOWNLOADED)
        assert store.advance(play.play_id, PlayStatus.DOWNLOADED, c, utcnow())
        # The same msg_id again breaks the outbox's unique key: the status change must not stick.
        again = replace(c, event=PlayEvent.STARTED)
        with pytest.raises(sqlite3.IntegrityError):
            store.advance(play.play_id, PlayStatus.STARTED, again, utcnow())
        assert store.play_status(play.play_id) is PlayStatus.DOWNLOADED


def test_unknown_play_cannot_be_confirmed(tmp_path: Path) -> None:
    with AgentStore.in_dir(tmp_path) as store, pytest.raises(StoreError):
        store.advance("nosuchplay1", PlayStatus.STARTED, None, utcnow())


def test_outbox_entries_leave_only_when_marked_sent(tmp_path: Path, audio: Audio) -> None:
    plays = [make_play(audio, 60 + i) for i in range(3)]
    with AgentStore.in_dir(tmp_path) as store:
        store.save_manifest(make_manifest(AGENT, 1, plays), b"raw", utcnow())
        sent = []
        for p in plays:
            c = confirmation(p.play_id, PlayEvent.DOWNLOADED)
            store.advance(p.play_id, PlayStatus.DOWNLOADED, c, utcnow())
            sent.append(c.msg_id)
        assert [e.msg_id for e in store.pending_confirmations(limit=2)] == sent[:2]
        store.mark_sent(sent[:2])
        assert store.outbox_size() == 1
        assert [e.msg_id for e in store.pending_confirmations()] == sent[2:]


def test_command_ids_are_remembered_across_restarts(tmp_path: Path) -> None:
    now = utcnow()
    with AgentStore.in_dir(tmp_path) as store:
        assert store.remember_message("cmd00001", now + timedelta(minutes=5), now)
        assert not store.remember_message("cmd00001", now + timedelta(minutes=5), now)
    with AgentStore.in_dir(tmp_path) as store:
        assert not store.remember_message("cmd00001", now + timedelta(minutes=5), now)
        # Long after expiry (and the verifier rejects expired commands anyway) the id is forgotten.
        later = now + timedelta(days=2)
        assert store.remember_message("cmd00002", later + timedelta(minutes=5), later)
        assert store.remember_message("cmd00001", later + timedelta(minutes=5), later)


def test_manifest_is_kept_with_its_signed_bytes(tmp_path: Path, audio: Audio) -> None:
    manifest = make_manifest(AGENT, 7, [make_play(audio, 60)])
    with AgentStore.in_dir(tmp_path) as store:
        assert store.manifest_revision() is None and store.load_manifest() is None
        store.save_manifest(manifest, b"signed envelope bytes", utcnow())
    with AgentStore.in_dir(tmp_path) as store:
        held = store.load_manifest()
        assert held is not None
        assert (held.revision, held.raw, held.manifest) == (7, b"signed envelope bytes", manifest)


def test_unfinished_plays_for_recovery(tmp_path: Path, audio: Audio) -> None:
    waiting, on_air, done, urgent = (make_play(audio, 60 + i) for i in range(4))
    with AgentStore.in_dir(tmp_path) as store:
        store.save_manifest(make_manifest(AGENT, 1, [waiting, on_air, done]), b"raw", utcnow())
        store.add_play(urgent, PlaySource.PLAY_NOW, utcnow())
        store.advance(on_air.play_id, PlayStatus.STARTED, None, utcnow())
        store.advance(done.play_id, PlayStatus.FINISHED, None, utcnow())
        assert {p for p, _, _ in store.unfinished_plays()} == {on_air.play_id, urgent.play_id}


def test_store_uses_wal_and_full_sync(tmp_path: Path) -> None:
    with AgentStore.in_dir(tmp_path) as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_only_harmless_writes_skip_the_fsync(tmp_path: Path, audio: Audio) -> None:
    """`downloaded` and dropping acked outbox entries commit at synchronous=NORMAL; `started` and ends at FULL."""
    play = make_play(audio, 60)
    with AgentStore.in_dir(tmp_path) as store:
        store.save_manifest(make_manifest(AGENT, 1, [play]), b"raw", utcnow())
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        downloaded = confirmation(play.play_id, PlayEvent.DOWNLOADED)
        store.advance(play.play_id, PlayStatus.DOWNLOADED, downloaded, utcnow())
        assert "PRAGMA synchronous=NORMAL" in statements and statements[-1] == "PRAGMA synchronous=FULL"
        statements.clear()
        started = confirmation(play.play_id, PlayEvent.STARTED)
        store.advance(play.play_id, PlayStatus.STARTED, started, utcnow())
        assert not any("synchronous" in s for s in statements), statements
        statements.clear()
        store.mark_sent([downloaded.msg_id])
        assert "PRAGMA synchronous=NORMAL" in statements and statements[-1] == "PRAGMA synchronous=FULL"
        statements.clear()
        finished = confirmation(play.play_id, PlayEvent.FINISHED)
        store.advance(play.play_id, PlayStatus.FINISHED, finished, utcnow())
        assert not any("synchronous" in s for s in statements), statements
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # back to FULL
    with AgentStore.in_dir(tmp_path) as store:
        assert store.play_status(play.play_id) is PlayStatus.FINISHED
        assert [e.msg_id for e in store.pending_confirmations()] == [started.msg_id, finished.msg_id]


def test_an_armed_play_starts_without_an_fsync_and_is_found_by_recovery(tmp_path: Path, audio: Audio) -> None:
    play = make_play(audio, 60)
    with AgentStore.in_dir(tmp_path) as store:
        store.save_manifest(make_manifest(AGENT, 1, [play]), b"raw", utcnow())
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        assert store.arm(play.play_id, utcnow())
        assert not any("synchronous" in s for s in statements)  # arming is durable
        assert not store.arm(play.play_id, utcnow())  # once
        assert store.play_status(play.play_id) is PlayStatus.ARMED
        assert store.armed_plays() == [(play.play_id, play.starts_at)]
        assert store.pending_confirmations() == []  # no confirmation reports arming
        statements.clear()
        assert store.advance(play.play_id, PlayStatus.STARTED, confirmation(play.play_id, PlayEvent.STARTED), utcnow())
        assert "PRAGMA synchronous=NORMAL" in statements  # the armed record already made it durable
        assert store.armed_plays() == []
        assert not store.arm(play.play_id, utcnow())  # a started play is never armed again


def test_disarm_returns_a_play_to_downloaded_only_if_armed(tmp_path: Path, audio: Audio) -> None:
    armed, started = make_play(audio, 60), make_play(audio, 61)
    with AgentStore.in_dir(tmp_path) as store:
        store.save_manifest(make_manifest(AGENT, 1, [armed, started]), b"raw", utcnow())
        store.arm(armed.play_id, utcnow())
        store.advance(started.play_id, PlayStatus.STARTED, confirmation(started.play_id, PlayEvent.STARTED), utcnow())
        store.disarm(armed.play_id, utcnow())
        store.disarm(started.play_id, utcnow())
        assert store.play_status(armed.play_id) is PlayStatus.DOWNLOADED
        assert store.play_status(started.play_id) is PlayStatus.STARTED


def test_settings_persist(tmp_path: Path) -> None:
    with AgentStore.in_dir(tmp_path) as store:
        assert store.get_setting("volume") is None
        store.set_setting("volume", "35")
        store.set_setting("volume", "40")
    with AgentStore.in_dir(tmp_path) as store:
        assert store.get_setting("volume") == "40"
