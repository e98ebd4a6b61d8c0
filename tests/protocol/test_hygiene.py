"""Hostile bytes are refused as malformed without a traceback, and broker passwords never reach output."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.broker_url import redact_url
from protocol import ProtocolError
from protocol.codec import MAX_AGENT_MESSAGE_BYTES, decode_agent_message
from protocol.errors import MessageRejected, RejectReason
from protocol.signing import MAX_SIGNED_BYTES, Verifier, generate_private_key

DEEP = 100_000
HOSTILE = [
    b"[" * DEEP + b"]" * DEEP,
    b'{"kind": "state", "x": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    b'{"kind": "confirmation", "agent_id": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
]


@pytest.mark.parametrize(
    "payload", [*HOSTILE, b'{"kind": "state", "detail": "' + b"a" * MAX_AGENT_MESSAGE_BYTES + b'"}']
)
def test_agent_messages_nested_or_oversized_are_protocol_errors(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_agent_message(payload)


@pytest.mark.parametrize("payload", [*HOSTILE, b'{"payload": "' + b"a" * MAX_SIGNED_BYTES + b'"}'])
def test_signed_messages_nested_or_oversized_are_malformed(payload: bytes) -> None:
    verifier = Verifier(generate_private_key().verify_key, "cum-1")
    with pytest.raises(MessageRejected) as info:
        verifier.verify("loa/v1/agents/cum-1/commands", payload, datetime.now(UTC))
    assert info.value.reason is RejectReason.MALFORMED


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mqtt://cum-1:s3cret@broker:1883", "mqtt://cum-1:***@broker:1883"),
        ("mqtts://u:p%40ss@[::1]:8883/x", "mqtts://u:***@[::1]:8883/x"),
        ("mqtt://broker:1883", "mqtt://broker:1883"),
        ("mqtt://user@broker", "mqtt://user@broker"),
        ("mqtt://u:p@host:notaport", "<unparsable URL>"),
    ],
)
def test_broker_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "s3cret" not in redact_url(url)
