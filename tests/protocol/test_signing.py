"""The signed envelope: what the agent accepts and every way it refuses."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from protocol import (
    ManifestPlay,
    MessageRejected,
    PlayNow,
    RejectReason,
    ScheduleManifest,
    Signer,
    Topics,
    Verifier,
    decode_public_key,
    encode_public_key,
)
from protocol.signing import generate_private_key, load_private_key, write_private_key

NOW = datetime(2026, 5, 27, 10, 0, tzinfo=UTC)
TOPICS = Topics("test/loa/v1")


def manifest(
    agent_id: str = "agent-1", *, issued: datetime = NOW, ttl: timedelta = timedelta(hours=1)
) -> ScheduleManifest:
    play = ManifestPlay(
        play_id="p" * 32,
        starts_at=NOW + timedelta(minutes=5),
        bulletin_id="b1",
        audio_url="http://127.0.0.1/media/" + "a" * 64 + ".mp3",
        sha256="a" * 64,
        size_bytes=1000,
        duration_s=240.0,
    )
    return ScheduleManifest(
        agent_id=agent_id,
        issued_at=issued,
        expires_at=issued + ttl,
        revision=3,
        horizon_end=NOW,
        plays=(play,),
    )


@pytest.fixture
def signer() -> Signer:
    return Signer(generate_private_key())


@pytest.fixture
def verifier(signer: Signer) -> Verifier:
    return Verifier(signer.public_key, "agent-1")


def rejected(verifier: Verifier, topic: str, data: bytes, now: datetime = NOW) -> RejectReason:
    with pytest.raises(MessageRejected) as info:
        verifier.verify(topic, data, now)
    return info.value.reason


def test_valid_manifest_round_trips(signer: Signer, verifier: Verifier) -> None:
    topic = TOPICS.manifest("agent-1")
    original = manifest()
    assert verifier.verify(topic, signer.sign(topic, original), NOW) == original


def test_forged_signature_is_rejected(verifier: Verifier) -> None:
    other = Signer(generate_private_key())
    topic = TOPICS.manifest("agent-1")
    data = json.loads(other.sign(topic, manifest()))
    data["kid"] = verifier.kid  # claim to be the controller's key
    assert rejected(verifier, topic, json.dumps(data).encode()) is RejectReason.BAD_SIGNATURE


def test_other_key_is_unknown(verifier: Verifier) -> None:
    topic = TOPICS.manifest("agent-1")
    data = Signer(generate_private_key()).sign(topic, manifest())
    assert rejected(verifier, topic, data) is RejectReason.UNKNOWN_KEY


def test_tampered_payload_is_rejected(signer: Signer, verifier: Verifier) -> None:
    topic = TOPICS.manifest("agent-1")
    env = json.loads(signer.sign(topic, manifest()))
    env["payload"] = env["payload"].replace('"revision":3', '"revision":4')
    assert rejected(verifier, topic, json.dumps(env).encode()) is RejectReason.BAD_SIGNATURE


def test_unsigned_message_is_rejected(verifier: Verifier) -> None:
    topic = TOPICS.manifest("agent-1")
    assert rejected(verifier, topic, msgspec.json.encode(manifest())) is RejectReason.UNSIGNED


@pytest.mark.parametrize("garbage", [b"", b"not json", b"\xff\xfe", b"[]", b'{"payload": 1}'])
def test_garbage_is_malformed(verifier: Verifier, garbage: bytes) -> None:
    assert rejected(verifier, TOPICS.manifest("agent-1"), garbage) is RejectReason.MALFORMED


def test_expired_message_is_rejected(signer: Signer, verifier: Verifier) -> None:
    topic = TOPICS.manifest("agent-1")
    data = signer.sign(topic, manifest())
    assert rejected(verifier, topic, data, NOW + timedelta(hours=2)) is RejectReason.EXPIRED


def test_message_from_the_future_is_rejected(signer: Signer, verifier: Verifier) -> None:
    topic = TOPICS.manifest("agent-1")
    data = signer.sign(topic, manifest(issued=NOW + timedelta(hours=1)))
    assert rejected(verifier, topic, data) is RejectReason.NOT_YET_VALID


def test_message_for_another_agent_is_wrongly_addressed(signer: Signer, verifier: Verifier) -> None:
    # Signed for agent-2 but published on agent-1's topic with a valid signature over that topic.
    topic = TOPICS.manifest("agent-1")
    assert rejected(verifier, topic, signer.sign(topic, manifest("agent-2"))) is RejectReason.WRONG_ADDRESS


def test_signature_is_bound_to_the_topic(signer: Signer, verifier: Verifier) -> None:
    data = signer.sign(TOPICS.commands("agent-1"), manifest())
    assert rejected(verifier, TOPICS.manifest("agent-1"), data) is RejectReason.BAD_SIGNATURE


def test_commands_are_verified_too(signer: Signer, verifier: Verifier) -> None:
    topic = TOPICS.commands("agent-1")
    cmd = PlayNow(agent_id="agent-1", issued_at=NOW, expires_at=NOW + timedelta(minutes=1), play=manifest().plays[0])
    assert verifier.verify(topic, signer.sign(topic, cmd), NOW) == cmd


def test_key_text_round_trip_and_private_key_file_mode(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "k.pem"
    write_private_key(key, path)
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_private_key(path)
    text = encode_public_key(loaded.verify_key)
    assert len(base64.b64decode(text)) == 32
    assert encode_public_key(decode_public_key(text)) == encode_public_key(key.verify_key)
