"""A play's status on the controller: the one type for it; no status is written as a bare string elsewhere."""

from __future__ import annotations

from enum import StrEnum


class PlayStatus(StrEnum):
    PLANNED = "planned"
    """Due; in the manifests of its cluster."""
    HELD = "held"
    """Its bulletin was edited after approval: out of the manifests until approved again."""
    CANCELLED = "cancelled"
    """Its programme or booking was cancelled, or stop-all cancelled it: out of the manifests."""
    DOWNLOADED = "downloaded"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"
    """The agent confirmed these four (`protocol.messages.PlayEvent`)."""
    MISSED = "missed"
    """No confirmation by the end of its slot plus the grace period."""


UNCONFIRMED = (PlayStatus.PLANNED, PlayStatus.DOWNLOADED, PlayStatus.STARTED)
"""Statuses that become `MISSED` when the slot ends without a confirmation."""

OFF_MANIFEST = (PlayStatus.CANCELLED, PlayStatus.HELD)
"""Statuses that keep a play out of the manifests."""

OFF_AIR = (PlayStatus.FINISHED, PlayStatus.FAILED, PlayStatus.SKIPPED, PlayStatus.MISSED, PlayStatus.CANCELLED)
"""Statuses of a play that is no longer on air, whatever its cluster last said."""

REFUSED_BY_CONTROLLER = "controller:"
"""The `topic` prefix of a security event the controller records about an agent's report it refused:
`controller:<kind of the refused report>` (not the agent's own refusals)."""
