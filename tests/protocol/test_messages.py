"""Wire models: strict, versioned, UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from protocol import (
    AgentState,
    AgentStatus,
    Confirmation,
    PlayEvent,
    ProtocolError,
    Topics,
    decode_agent_message,
    encode,
)
from protocol.topics import Channel

ICT = timezone(timedelta(hours=7))


def test_instants_are_normalised_to_utc() -> None:
    c = Confirmation(
        agent_id="a1", at=datetime(2026, 5, 27, 17, 0, tzinfo=ICT), play_id="p" * 32, event=PlayEvent.STARTED
    )
    assert c.at == datetime(2026, 5, 27, 10, 0, tzinfo=UTC)
    assert c.at.utcoffset() == timedelta(0)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        Confirmation(agent_id="a1", at=datetime(2026, 5, 27, 17, 0), play_id="p" * 32, event=PlayEvent.STARTED)


def test_unknown_fields_are_refused() -> None:
    data = b'{"kind":"state","agent_id":"a1","at":"2026-05-27T10:00:00Z","status":"online","extra":1}'
    with pytest.raises(ProtocolError, match="extra"):
        decode_agent_message(data)


def test_every_message_gets_a_unique_id() -> None:
    now = datetime.now(UTC)
    a = AgentState(agent_id="a1", at=now, status=AgentStatus.ONLINE)
    b = AgentState(agent_id="a1", at=now, status=AgentStatus.ONLINE)
    assert a.msg_id != b.msg_id


def test_agent_messages_round_trip_by_kind() -> None:
    c = Confirmation(
        agent_id="a1",
        at=datetime.now(UTC),
        play_id="p" * 32,
        event=PlayEvent.FINISHED,
        duration_played_s=12.5,
    )
    assert decode_agent_message(encode(c)) == c


@pytest.mark.parametrize("data", [b"", b"{", b'{"kind":"nope"}', b'{"kind":"confirmation"}', b"\x00\x01"])
def test_bad_agent_messages_raise_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_agent_message(data)


def test_schema_version_is_checked() -> None:
    data = b'{"schema_version":2,"kind":"state","agent_id":"a1","at":"2026-05-27T10:00:00Z","status":"online"}'
    with pytest.raises(ProtocolError):
        decode_agent_message(data)


def test_topics_build_and_parse() -> None:
    t = Topics("x/loa/v1")
    assert t.manifest("cum-01") == "x/loa/v1/agents/cum-01/manifest"
    assert t.every_agent(Channel.CONFIRMATIONS) == "x/loa/v1/agents/+/confirmations"
    assert t.parse("x/loa/v1/agents/cum-01/state") == ("cum-01", Channel.STATE)


@pytest.mark.parametrize(
    "bad", ["x/loa/v1/agents/a/b/c", "y/agents/a/state", "x/loa/v1/agents/a/nope", "x/loa/v1/agents/A+/state"]
)
def test_topic_parse_refuses_bad_topics(bad: str) -> None:
    with pytest.raises(ProtocolError):
        Topics("x/loa/v1").parse(bad)


@pytest.mark.parametrize("agent_id", ["", "Upper", "a/b", "a+", "a#", "x" * 65, "xa.thon-1", "a b"])
def test_agent_ids_cannot_break_topics(agent_id: str) -> None:
    with pytest.raises(ProtocolError):
        Topics().manifest(agent_id)
