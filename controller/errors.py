"""Controller errors. Each carries an English message for logs and a Vietnamese one for the officer."""

from __future__ import annotations

from loa.errors import LoaError


class ControllerError(LoaError):
    """Base of controller errors. `message_vi` is what the officer reads."""

    status_code = 400

    def __init__(self, message: str, message_vi: str | None = None) -> None:
        super().__init__(message)
        self.message_vi = message_vi or message


class NotFound(ControllerError, LookupError):
    status_code = 404


class InvalidInput(ControllerError, ValueError):
    status_code = 422


class Conflict(ControllerError):
    status_code = 409


class AudioError(ControllerError, RuntimeError):
    """Synthesis, decoding or encoding failed."""

    status_code = 500
