"""Encoding and decoding of the unsigned agent -> controller messages."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from protocol.errors import ProtocolError
from protocol.messages import AgentMessage, AgentMessageUnion, WireModel

_agent_adapter: TypeAdapter[AgentMessage] = TypeAdapter(AgentMessageUnion)


def encode(message: WireModel) -> bytes:
    """JSON bytes of any wire model."""
    return message.model_dump_json().encode("utf-8")


def decode_agent_message(data: bytes) -> AgentMessage:
    """Parse one agent message, raising ProtocolError with the first problem on bad input."""
    try:
        return _agent_adapter.validate_json(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()))
        raise ProtocolError(f"invalid agent message at {loc or '<root>'}: {err.get('msg')}") from None
