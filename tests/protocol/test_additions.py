"""Protocol v1 additions: admin-only reboot, reload, preemption policy, richer telemetry and events.

Each addition is optional with a default, so a message written before it still parses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from protocol import (
    InterruptPolicy,
    ManifestPlay,
    MessageRejected,
    PlayNow,
    Reboot,
    RejectReason,
    ReloadConfig,
    SecurityEvent,
    Signer,
    Telemetry,
    Topics,
    Verifier,
    decode_agent_message,
    encode,
)
from protocol.messages import Confirmation, PlayEvent
from protocol.signing import generate_private_key

NOW = datetime(2026, 5, 27, 10, 0, tzinfo=UTC)
TOPIC = Topics("test/loa/v1").commands("agent-1")


def fields() -> dict[str, Any]:
    return {"agent_id": "agent-1", "issued_at": NOW, "expires_at": NOW + timedelta(minutes=5)}


@pytest.fixture
def keys() -> tuple[Signer, Signer]:
    return Signer(generate_private_key()), Signer(generate_private_key())


def test_reboot_signed_by_the_admin_key_verifies(keys: tuple[Signer, Signer]) -> None:
    controller, admin = keys
    verifier = Verifier(controller.public_key, "agent-1", admin_key=admin.public_key)
    message = verifier.verify(TOPIC, admin.sign(TOPIC, Reboot(reason="kernel update", **fields())), NOW)
    assert isinstance(message, Reboot) and message.reason == "kernel update"


def test_reboot_signed_by_the_controller_key_is_refused(keys: tuple[Signer, Signer]) -> None:
    controller, admin = keys
    verifier = Verifier(controller.public_key, "agent-1", admin_key=admin.public_key)
    with pytest.raises(MessageRejected) as err:
        verifier.verify(TOPIC, controller.sign(TOPIC, Reboot(**fields())), NOW)
    assert err.value.reason is RejectReason.NOT_ADMIN


def test_admin_key_may_sign_nothing_but_admin_commands(keys: tuple[Signer, Signer]) -> None:
    controller, admin = keys
    verifier = Verifier(controller.public_key, "agent-1", admin_key=admin.public_key)
    with pytest.raises(MessageRejected) as err:
        verifier.verify(TOPIC, admin.sign(TOPIC, ReloadConfig(**fields())), NOW)
    assert err.value.reason is RejectReason.NOT_ADMIN


def test_without_an_admin_key_a_reboot_has_no_valid_signer(keys: tuple[Signer, Signer]) -> None:
    controller, admin = keys
    verifier = Verifier(controller.public_key, "agent-1")
    with pytest.raises(MessageRejected) as err:
        verifier.verify(TOPIC, admin.sign(TOPIC, Reboot(**fields())), NOW)
    assert err.value.reason is RejectReason.UNKNOWN_KEY
    with pytest.raises(MessageRejected) as err:
        verifier.verify(TOPIC, controller.sign(TOPIC, Reboot(**fields())), NOW)
    assert err.value.reason is RejectReason.NOT_ADMIN


def test_reload_config_from_the_controller_verifies(keys: tuple[Signer, Signer]) -> None:
    controller, _ = keys
    verifier = Verifier(controller.public_key, "agent-1")
    assert isinstance(verifier.verify(TOPIC, controller.sign(TOPIC, ReloadConfig(**fields())), NOW), ReloadConfig)


def test_interrupt_policy_defaults_to_skip_and_old_plays_still_parse() -> None:
    old = {
        "play_id": "p" * 32,
        "starts_at": "2026-05-27T10:00:00Z",
        "bulletin_id": "b1",
        "audio_url": "http://x/media/a.mp3",
        "sha256": "a" * 64,
        "size_bytes": 10,
        "duration_s": 1.0,
        "priority": "emergency",
    }
    assert msgspec.convert(old, ManifestPlay).interrupted is InterruptPolicy.SKIP
    play = msgspec.convert({**old, "interrupted": "resume"}, ManifestPlay)
    now = PlayNow(play=play, **fields())
    assert msgspec.json.decode(encode(now), type=PlayNow).play.interrupted is InterruptPolicy.RESUME
    with pytest.raises(ValueError, match="Invalid enum value 'restart'"):
        msgspec.convert({**old, "interrupted": "restart"}, ManifestPlay)


def test_new_agent_message_fields_round_trip() -> None:
    telemetry = Telemetry(
        agent_id="agent-1",
        at=NOW,
        uptime_s=5,
        volume=70,
        version="0.1.0",
        cpu_temp_c=48.5,
        disk_free_bytes=10**9,
        load_1m=0.1,
        clock_offset_s=-0.002,
        link_quality=64,
        current_title="Cảnh giác lừa đảo",
    )
    assert decode_agent_message(encode(telemetry)) == telemetry
    event = SecurityEvent(agent_id="agent-1", at=NOW, reason="bad-signature", topic="t", suppressed=7)
    assert decode_agent_message(encode(event)) == event
    resumed = Confirmation(
        agent_id="agent-1",
        at=NOW,
        play_id="p" * 32,
        event=PlayEvent.FINISHED,
        resumed_after="e" * 32,
        preempted_played_s=12.5,
    )
    assert decode_agent_message(encode(resumed)) == resumed
    # A message from before the additions still parses, with the defaults.
    bare = b'{"kind":"telemetry","agent_id":"agent-1","at":"2026-05-27T10:00:00Z","uptime_s":1,"volume":5}'
    parsed = decode_agent_message(bare)
    assert isinstance(parsed, Telemetry) and parsed.clock_offset_s is None and parsed.version == ""
