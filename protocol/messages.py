"""Wire messages, v1. Frozen, strict pydantic models; instants are UTC.

Controller -> agent messages (`ScheduleManifest` and the commands) travel inside a
`SignedEnvelope`. Agent -> controller messages travel as plain JSON.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from protocol.topics import AGENT_ID_PATTERN

SCHEMA_VERSION = 1


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("instants on the wire must carry a UTC offset")
    return value.astimezone(UTC)


UtcInstant = Annotated[datetime, AfterValidator(_as_utc)]
AgentId = Annotated[str, Field(pattern=AGENT_ID_PATTERN)]
MsgId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def new_msg_id() -> str:
    """A fresh unique message id."""
    return uuid.uuid4().hex


class Priority(StrEnum):
    """Bulletin priority: normal (thông thường), priority (ưu tiên), emergency (khẩn cấp)."""

    NORMAL = "normal"
    PRIORITY = "priority"
    EMERGENCY = "emergency"


class InterruptPolicy(StrEnum):
    """What happens to the item a higher-priority play interrupts. See docs/protocol.md, "Preemption"."""

    SKIP = "skip"
    """The interrupted play ends, confirmed `skipped` with reason `preempted by ...`."""
    RESUME = "resume"
    """The interrupted play is played again from its beginning once the interrupting play ends."""


class WireModel(BaseModel):
    """Base of every wire model: immutable and refusing unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ManifestPlay(WireModel):
    """One scheduled occurrence of a bulletin on this agent."""

    play_id: MsgId
    starts_at: UtcInstant
    bulletin_id: str = Field(min_length=1, max_length=64)
    title: str = Field(default="", max_length=300)
    audio_url: str = Field(min_length=1, max_length=2000)
    sha256: Sha256Hex
    size_bytes: int = Field(gt=0)
    duration_s: float = Field(gt=0)
    priority: Priority = Priority.NORMAL
    interrupted: InterruptPolicy = InterruptPolicy.SKIP
    """When this play preempts another, what becomes of the other one. Added in v1.1; default `skip`."""


class SignedMessage(WireModel):
    """Fields shared by everything the controller signs."""

    schema_version: Literal[1] = 1
    msg_id: MsgId = Field(default_factory=new_msg_id)
    agent_id: AgentId
    issued_at: UtcInstant
    expires_at: UtcInstant


class ScheduleManifest(SignedMessage):
    """Retained desired state: every play this agent should make up to `horizon_end`.

    A manifest replaces the previous one whole. `revision` grows with every manifest the
    controller issues to the agent; an agent ignores any revision it has already passed.
    """

    kind: Literal["manifest"] = "manifest"
    revision: int = Field(ge=1)
    horizon_end: UtcInstant
    plays: tuple[ManifestPlay, ...] = ()


class PlayNow(SignedMessage):
    """Play this item at once, preempting anything of lower priority."""

    kind: Literal["play-now"] = "play-now"
    play: ManifestPlay


class Stop(SignedMessage):
    """Stop playback now: the given play, or whatever is playing when `play_id` is None."""

    kind: Literal["stop"] = "stop"
    play_id: MsgId | None = None


class SetVolume(SignedMessage):
    """Set the output volume, 0-100."""

    kind: Literal["set-volume"] = "set-volume"
    volume: int = Field(ge=0, le=100)


class TestTone(SignedMessage):
    """Play a sine test tone through the amplifier."""

    __test__ = False  # not a pytest class

    kind: Literal["test-tone"] = "test-tone"
    seconds: float = Field(default=3.0, gt=0, le=30)
    frequency_hz: int = Field(default=1000, ge=50, le=8000)


class ReloadConfig(SignedMessage):
    """Re-read the agent's config file. Keys that need a restart make the agent restart itself."""

    kind: Literal["reload-config"] = "reload-config"


class Reboot(SignedMessage):
    """Reboot the Pi. Valid only when signed by the separate admin key, never by the controller key."""

    kind: Literal["reboot"] = "reboot"
    reason: str = Field(default="", max_length=300)


Command = Annotated[PlayNow | Stop | SetVolume | TestTone | ReloadConfig | Reboot, Field(discriminator="kind")]
ControllerMessage = Annotated[
    ScheduleManifest | PlayNow | Stop | SetVolume | TestTone | ReloadConfig | Reboot, Field(discriminator="kind")
]
ADMIN_ONLY_KINDS = frozenset({"reboot"})
"""Message kinds the agent accepts only under the admin key's signature."""


class PlayEvent(StrEnum):
    """What happened to a play on an agent."""

    DOWNLOADED = "downloaded"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"


class AgentMessage(WireModel):
    """Fields shared by everything an agent sends."""

    schema_version: Literal[1] = 1
    msg_id: MsgId = Field(default_factory=new_msg_id)
    agent_id: AgentId
    at: UtcInstant


class Confirmation(AgentMessage):
    """A play confirmation (xác nhận phát). `at` is when the event happened on the agent."""

    kind: Literal["confirmation"] = "confirmation"
    play_id: MsgId
    event: PlayEvent
    started_at: UtcInstant | None = None
    ended_at: UtcInstant | None = None
    duration_played_s: float | None = Field(default=None, ge=0)
    reason: str | None = Field(default=None, max_length=500)
    resumed_after: MsgId | None = None
    """Set on a play preempted under the `resume` policy and played again: the play that interrupted it.
    `started_at`/`ended_at`/`duration_played_s` then describe the full replay."""
    preempted_played_s: float | None = Field(default=None, ge=0)
    """With `resumed_after`: seconds of this play heard before it was interrupted."""


class AgentStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class AgentState(AgentMessage):
    """Retained liveness. The agent's Last Will publishes the offline form."""

    kind: Literal["state"] = "state"
    status: AgentStatus
    version: str = ""
    manifest_revision: int | None = None


class Telemetry(AgentMessage):
    """Periodic health figures."""

    kind: Literal["telemetry"] = "telemetry"
    uptime_s: float = Field(ge=0)
    volume: int = Field(ge=0, le=100)
    manifest_revision: int | None = None
    current_play_id: MsgId | None = None
    cache_bytes: int = Field(default=0, ge=0)
    outbox_pending: int = Field(default=0, ge=0)
    version: str = Field(default="", max_length=40)
    cpu_temp_c: float | None = None
    disk_free_bytes: int | None = Field(default=None, ge=0)
    load_1m: float | None = Field(default=None, ge=0)
    clock_offset_s: float | None = None
    """The system clock's offset from NTP time as chrony reports it (positive: fast); None if unreadable."""
    link_quality: int | None = Field(default=None, ge=0, le=100)
    """Wireless link quality in percent where readable (Wi-Fi); None otherwise."""
    current_title: str | None = Field(default=None, max_length=300)


class SecurityEvent(AgentMessage):
    """The agent refused a controller message. Sent so the controller can raise an alert."""

    kind: Literal["security"] = "security"
    reason: str = Field(max_length=40)
    detail: str = Field(default="", max_length=500)
    topic: str = Field(max_length=300)
    rejected_msg_id: str | None = Field(default=None, max_length=64)
    suppressed: int = Field(default=0, ge=0)
    """Rejections since the previous event that the agent's rate limit kept back."""


AgentMessageUnion = Annotated[Confirmation | AgentState | Telemetry | SecurityEvent, Field(discriminator="kind")]
