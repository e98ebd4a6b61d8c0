"""Errors raised while reading or checking wire messages."""

from __future__ import annotations

from enum import StrEnum

from common.errors import LoaError


class ProtocolError(LoaError, ValueError):
    """A wire message could not be decoded or is not valid v1."""


class RejectReason(StrEnum):
    """Why an agent refused a controller message. Sent back in security events and logged."""

    MALFORMED = "malformed"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    REPLAYED = "replayed"
    WRONG_ADDRESS = "wrong-address"
    NOT_ADMIN = "not-admin"
    """An admin-only command (reboot) not signed by the admin key, or the admin key signing anything else."""
    QUIET_HOURS = "quiet-hours"
    """A valid, signed non-emergency play or tone that would sound inside the agent's quiet hours."""


class MessageRejected(ProtocolError):
    """A controller message failed verification; it must never be acted on."""

    def __init__(self, reason: RejectReason, detail: str, msg_id: str | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.msg_id = msg_id
