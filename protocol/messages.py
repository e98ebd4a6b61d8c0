"""Wire messages, v1. Frozen, strict msgspec structs; instants are UTC.

Controller -> agent messages (`ScheduleManifest` and the commands) travel inside a
`SignedEnvelope`. Agent -> controller messages travel as plain JSON.

msgspec rather than pydantic: the agent runs on 512 MB boards, and msgspec costs about 1 MB where
pydantic costs about 11 MB once these models are built (benchmarks/agent_resources.py). Decoding
checks every type and constraint; constructing a struct in code checks only what `__post_init__`
checks (UTC instants), so `encode` and `Signer.sign` re-check a message before it leaves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta
from msgspec.structs import force_setattr

from protocol.topics import AGENT_ID_PATTERN

SCHEMA_VERSION = 1

UtcInstant = Annotated[datetime, Meta(tz=True)]
"""An instant with a UTC offset; `__post_init__` converts it to UTC."""
AgentId = Annotated[str, Meta(pattern=AGENT_ID_PATTERN)]
MsgId = Annotated[str, Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Sha256Hex = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
NonNegative = Annotated[float, Meta(ge=0)]
Percent = Annotated[int, Meta(ge=0, le=100)]


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


class WireModel(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every wire model: immutable, keyword-only, refusing unknown fields."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                if value.tzinfo is None or value.utcoffset() is None:
                    raise ValueError(f"{name}: instants on the wire must carry a UTC offset")
                if value.utcoffset():
                    force_setattr(self, name, value.astimezone(UTC))


class ManifestPlay(WireModel, frozen=True, kw_only=True):
    """One scheduled occurrence of a bulletin on this agent."""

    play_id: MsgId
    starts_at: UtcInstant
    bulletin_id: Annotated[str, Meta(min_length=1, max_length=64)]
    title: Annotated[str, Meta(max_length=300)] = ""
    audio_url: Annotated[str, Meta(min_length=1, max_length=2000)]
    sha256: Sha256Hex
    size_bytes: Annotated[int, Meta(gt=0)]
    duration_s: Annotated[float, Meta(gt=0)]
    priority: Priority = Priority.NORMAL
    interrupted: InterruptPolicy = InterruptPolicy.SKIP
    """When this play preempts another, what becomes of the other one. Added in v1.1; default `skip`."""


class _Tagged(WireModel, frozen=True, kw_only=True, tag_field="kind"):
    """A message whose JSON carries its `kind`, so a union of kinds decodes to the right class."""

    @property
    def kind(self) -> str:
        return str(self.__struct_config__.tag)


class SignedMessage(_Tagged, frozen=True, kw_only=True):
    """Fields shared by everything the controller signs."""

    schema_version: Literal[1] = 1
    msg_id: MsgId = msgspec.field(default_factory=new_msg_id)
    agent_id: AgentId
    issued_at: UtcInstant
    expires_at: UtcInstant


class ScheduleManifest(SignedMessage, frozen=True, kw_only=True, tag="manifest"):
    """Retained desired state: every play this agent should make up to `horizon_end`.

    A manifest replaces the previous one whole. `revision` grows with every manifest the
    controller issues to the agent; an agent ignores any revision it has already passed.
    """

    revision: Annotated[int, Meta(ge=1)]
    horizon_end: UtcInstant
    plays: tuple[ManifestPlay, ...] = ()


class PlayNow(SignedMessage, frozen=True, kw_only=True, tag="play-now"):
    """Play this item at once, preempting anything of lower priority."""

    play: ManifestPlay


class Stop(SignedMessage, frozen=True, kw_only=True, tag="stop"):
    """Stop playback now: the given play, or whatever is playing when `play_id` is None."""

    play_id: MsgId | None = None


class SetVolume(SignedMessage, frozen=True, kw_only=True, tag="set-volume"):
    """Set the output volume, 0-100."""

    volume: Percent


class TestTone(SignedMessage, frozen=True, kw_only=True, tag="test-tone"):
    """Play a sine test tone through the amplifier."""

    __test__: ClassVar[bool] = False  # not a pytest class

    seconds: Annotated[float, Meta(gt=0, le=30)] = 3.0
    frequency_hz: Annotated[int, Meta(ge=50, le=8000)] = 1000


class ReloadConfig(SignedMessage, frozen=True, kw_only=True, tag="reload-config"):
    """Re-read the agent's config file. Keys that need a restart make the agent restart itself."""


class Reboot(SignedMessage, frozen=True, kw_only=True, tag="reboot"):
    """Reboot the Pi. Valid only when signed by the separate admin key, never by the controller key."""

    reason: Annotated[str, Meta(max_length=300)] = ""


Command = PlayNow | Stop | SetVolume | TestTone | ReloadConfig | Reboot
ControllerMessage = ScheduleManifest | PlayNow | Stop | SetVolume | TestTone | ReloadConfig | Reboot
ADMIN_ONLY_KINDS = frozenset({"reboot"})
"""Message kinds the agent accepts only under the admin key's signature."""


class PlayEvent(StrEnum):
    """What happened to a play on an agent."""

    DOWNLOADED = "downloaded"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"


class AgentMessage(_Tagged, frozen=True, kw_only=True):
    """Fields shared by everything an agent sends."""

    schema_version: Literal[1] = 1
    msg_id: MsgId = msgspec.field(default_factory=new_msg_id)
    agent_id: AgentId
    at: UtcInstant


class Confirmation(AgentMessage, frozen=True, kw_only=True, tag="confirmation"):
    """A play confirmation (xác nhận phát). `at` is when the event happened on the agent."""

    play_id: MsgId
    event: PlayEvent
    started_at: UtcInstant | None = None
    ended_at: UtcInstant | None = None
    duration_played_s: NonNegative | None = None
    reason: Annotated[str, Meta(max_length=500)] | None = None
    resumed_after: MsgId | None = None
    """Set on a play preempted under the `resume` policy and played again: the play that interrupted it.
    `started_at`/`ended_at`/`duration_played_s` then describe the full replay."""
    preempted_played_s: NonNegative | None = None
    """With `resumed_after`: seconds of this play heard before it was interrupted."""
    seq: Annotated[int, Meta(ge=1)] | None = None
    """v1.2: this agent's sequence number of the confirmation, one more for each it queues, never reused."""
    manifest_revision: Annotated[int, Meta(ge=1)] | None = None
    """v1.2: the revision of the manifest the play was taken from (None for a `play-now`)."""


class AgentStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class AgentState(AgentMessage, frozen=True, kw_only=True, tag="state"):
    """Retained liveness. The agent's Last Will publishes the offline form."""

    status: AgentStatus
    version: str = ""
    manifest_revision: int | None = None


class Telemetry(AgentMessage, frozen=True, kw_only=True, tag="telemetry"):
    """Periodic health figures."""

    uptime_s: NonNegative
    volume: Percent
    manifest_revision: int | None = None
    current_play_id: MsgId | None = None
    cache_bytes: Annotated[int, Meta(ge=0)] = 0
    outbox_pending: Annotated[int, Meta(ge=0)] = 0
    version: Annotated[str, Meta(max_length=40)] = ""
    cpu_temp_c: float | None = None
    disk_free_bytes: Annotated[int, Meta(ge=0)] | None = None
    load_1m: NonNegative | None = None
    clock_offset_s: float | None = None
    """The system clock's offset from NTP time as chrony reports it (positive: fast); None if unreadable."""
    link_quality: Percent | None = None
    """Wireless link quality in percent where readable (Wi-Fi); None otherwise."""
    current_title: Annotated[str, Meta(max_length=300)] | None = None


class SecurityEvent(AgentMessage, frozen=True, kw_only=True, tag="security"):
    """The agent refused a controller message. Sent so the controller can raise an alert."""

    reason: Annotated[str, Meta(max_length=40)]
    detail: Annotated[str, Meta(max_length=500)] = ""
    topic: Annotated[str, Meta(max_length=300)]
    rejected_msg_id: Annotated[str, Meta(max_length=64)] | None = None
    suppressed: Annotated[int, Meta(ge=0)] = 0
    """Rejections since the previous event that the agent's rate limit kept back."""


AgentMessageUnion = Confirmation | AgentState | Telemetry | SecurityEvent


def decode_as(data: bytes | str, type_: Any) -> Any:
    """Decode JSON into `type_`, raising msgspec.ValidationError / DecodeError on bad input."""
    return msgspec.json.decode(data, type=type_)


def to_json(message: WireModel, *, check: bool = True) -> bytes:
    """The JSON bytes of a wire model; with `check`, after checking it decodes back as valid v1.

    Structs built in code are not checked field by field; the check makes sure nothing invalid leaves.
    Without it: for bytes that stay here (a digest, a stored copy of a message already decoded).
    """
    data = msgspec.json.encode(message)
    if not check:
        return data
    try:
        msgspec.json.decode(data, type=type(message))
    except msgspec.ValidationError as exc:
        raise ValueError(f"{type(message).__name__} is not valid v1: {exc}") from None
    return data


def replace(message: Any, **changes: Any) -> Any:
    """A copy of a frozen message with some fields changed; `__post_init__` runs again (msgspec ≥ 0.21)."""
    return msgspec.structs.replace(message, **changes)
