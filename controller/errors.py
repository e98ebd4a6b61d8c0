"""Controller errors. Each carries an English message for logs and a Vietnamese one for the officer."""

from __future__ import annotations

from common.errors import LoaError


class ControllerError(LoaError):
    """Base of controller errors. `message_vi` is what the officer reads."""

    status_code = 400

    def __init__(self, message: str, message_vi: str | None = None) -> None:
        super().__init__(message)
        self.message_vi = message_vi or message

    def details(self) -> dict[str, object]:
        """Extra JSON fields for the API's error body."""
        return {}

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers for the error response (such as Retry-After)."""
        return {}


class NotFound(ControllerError, LookupError):
    status_code = 404


class Unauthorized(ControllerError, PermissionError):
    """No valid login."""

    status_code = 401


class Forbidden(ControllerError, PermissionError):
    """Logged in, but this role or commune may not do it."""

    status_code = 403


class InvalidInput(ControllerError, ValueError):
    status_code = 422


class Conflict(ControllerError):
    status_code = 409


class AudioError(ControllerError, RuntimeError):
    """Synthesis, decoding or encoding failed."""

    status_code = 500
