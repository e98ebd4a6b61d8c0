"""The loa-xa MQTT wire contract, v1: topics, messages, signing. See docs/protocol.md.

Imports only the standard library, msgspec and PyNaCl (cryptography only to read and write the
controller's PEM key file), so both sides can use it and the agent stays small.
"""

from protocol.codec import decode_agent_message, encode
from protocol.errors import MessageRejected, ProtocolError, RejectReason
from protocol.messages import (
    AgentMessage,
    AgentState,
    AgentStatus,
    Command,
    Confirmation,
    InterruptPolicy,
    ManifestPlay,
    PlayEvent,
    PlayNow,
    Priority,
    Reboot,
    ReloadConfig,
    ScheduleManifest,
    SecurityEvent,
    SetVolume,
    SignedMessage,
    Stop,
    Telemetry,
    TestTone,
    new_msg_id,
)
from protocol.signing import Report, SignedEnvelope, Signer, Verifier, decode_public_key, encode_public_key, read_report
from protocol.topics import Channel, Topics, check_agent_id

MQTT_QOS = 1
"""Every loa-xa publish and subscription uses QoS 1 with persistent sessions."""

__all__ = [
    "MQTT_QOS",
    "AgentMessage",
    "AgentState",
    "AgentStatus",
    "Channel",
    "Command",
    "Confirmation",
    "InterruptPolicy",
    "ManifestPlay",
    "MessageRejected",
    "PlayEvent",
    "PlayNow",
    "Priority",
    "ProtocolError",
    "Reboot",
    "RejectReason",
    "ReloadConfig",
    "Report",
    "ScheduleManifest",
    "SecurityEvent",
    "SetVolume",
    "SignedEnvelope",
    "SignedMessage",
    "Signer",
    "Stop",
    "Telemetry",
    "TestTone",
    "Topics",
    "Verifier",
    "check_agent_id",
    "decode_agent_message",
    "decode_public_key",
    "encode",
    "encode_public_key",
    "new_msg_id",
    "read_report",
]
