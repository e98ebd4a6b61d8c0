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
