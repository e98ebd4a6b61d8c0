"""Encoding and decoding of the unsigned agent -> controller messages."""

from __future__ import annotations

import msgspec

from protocol.errors import ProtocolError
from protocol.messages import AgentMessage, AgentMessageUnion, WireModel, to_json

_agent_decoder = msgspec.json.Decoder(AgentMessageUnion)

MAX_AGENT_MESSAGE_BYTES = 64 * 1024
"""An agent message above this is refused unread: the largest genuine one (a telemetry) is under 2 KiB."""


def encode(message: WireModel, *, check: bool = True) -> bytes:
    """JSON bytes of any wire model, checked to be valid v1 (ProtocolError otherwise) unless `check` is off."""
    try:
        return to_json(message, check=check)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None


def decode_agent_message(data: bytes) -> AgentMessage:
    """Parse one agent message, raising ProtocolError with the first problem on bad input."""
    if len(data) > MAX_AGENT_MESSAGE_BYTES:
        raise ProtocolError(f"invalid agent message: {len(data)} bytes, over {MAX_AGENT_MESSAGE_BYTES}")
    try:
        message: AgentMessage = _agent_decoder.decode(data)
    except RecursionError:
        raise ProtocolError("invalid agent message: nested too deeply") from None
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid agent message: {describe(exc)}") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"invalid agent message: not JSON ({exc})") from None
    return message


def describe(exc: msgspec.MsgspecError) -> str:
    """msgspec's error as `path: problem`, e.g. `plays[0].sha256: Expected str matching ...`."""
    text = str(exc)
    problem, sep, where = text.rpartition(" - at `")
    if not sep:
        return text
    path = where.rstrip("`").removeprefix("$").removeprefix(".")
    return f"{path}: {problem}" if path else problem
