"""Errors the edge agent raises on purpose. All derive from `AgentError`."""

from __future__ import annotations

from common.errors import LoaError


class AgentError(LoaError):
    """Base of every error the edge agent raises on purpose."""


class ConfigError(AgentError, ValueError):
    """The agent's configuration is missing, unreadable or invalid. The message names the key."""


class DownloadError(AgentError):
    """Audio could not be fetched. `retryable` says whether trying again later may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class IntegrityError(DownloadError):
    """Downloaded audio does not match the size or SHA-256 the signed manifest promised."""


class ChecksumMismatch(IntegrityError):
    """The downloaded bytes have a different SHA-256 than the manifest says."""


class SizeMismatch(IntegrityError):
    """The download has a different length than the manifest says."""


class StoreError(AgentError):
    """The agent's durable state could not be read or written."""
