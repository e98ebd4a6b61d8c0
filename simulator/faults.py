"""Faults for simulated posts: what goes wrong on a loudspeaker pole, described, parsed and applied.

A `FaultPlan` is a seed and a list of `FaultRule`s. Each rule is one fault (its kind and
parameters) and a target: explicit agent ids, or a fraction of the fleet. The plan is plain
frozen data, so it pickles into a worker process inside a `FleetSpec`, and the same plan on the
same agent ids always hits the same agents, in any process (`FaultPlan.assignments`).

The faults are real, not mocks (see `simulator.link` and `simulator.fleet`): a faulty agent's MQTT
and HTTP traffic goes through its own TCP proxy, which cuts, refuses, loses and throttles bytes; its
clock is a skewed wall clock; its player fails the way ALSA fails; a crash cuts its links mid-stream
and cancels the agent without a clean stop, then boots a new `Agent` on the same state directory.

Fault specs, as `loa sim` takes them (`parse_faults`)::

    KIND=TARGET[:KEY=VALUE]...

TARGET is a fraction of the fleet (`0.1` or `10%`) or a comma-separated list of agent ids
(`sim-0001,sim-0002`). Times are seconds after the fleet started; `for` and `down` take `inf`.

==================  ===================================  ==========================================
kind                keys (default)                       what happens
==================  ===================================  ==========================================
``offline``         ``at`` (0), ``for`` (inf)            the link is down from `at` for `for` seconds:
                                                         connections are cut and refused
``flap``            ``period`` (required), ``at`` (0),   from `at`, the link is down `period` seconds,
                    ``for`` (inf)                        up `period` seconds, and so on, for `for`
``drop``            ``every`` (3), ``times`` (5)         message loss: every `every`-th MQTT PUBLISH or
                                                         PUBACK on the link is lost with the connection,
                                                         at most `times` times
``slow-download``   ``kbps`` (required)                  audio arrives at `kbps` kilobits per second
``fail-download``   ``times`` (1, or ``always``),        `times` downloads are cut where they reach `cut`
                    ``cut`` (0.5)                        of the file (a resumption from there at once)
``skew``            ``offset`` (required, may be < 0)    the agent's clock is `offset` seconds ahead
``drift``           ``ppm`` (required, may be < 0)       the agent's clock gains `ppm` millionths
``play-error``      ``reason`` (device-unavailable),     the player fails as ALSA does: device-
                    ``times`` (always)                   unavailable, device-busy, decode-error, player-error
``crash``           ``at`` (required), ``down`` (3)      at `at` the agent dies (links cut, no clean
                                                         stop) and boots again `down` seconds later
``power-cut``       ``during`` (download or play),       the same crash, the first time the agent is
                    ``down`` (3)                         half-way through a download or a play
==================  ===================================  ==========================================

Example: ``offline=0.1:at=2:for=20 play-error=sim-0003 power-cut=5%:during=play:down=4``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

from common.clock import SystemClock, utcnow
from edge_agent.player import (
    DECODE_ERROR,
    DEVICE_BUSY,
    DEVICE_UNAVAILABLE,
    PLAYER_ERROR,
    Player,
    PlayOutcome,
    failure_reason,
)


class FaultKind(StrEnum):
    OFFLINE = "offline"
    FLAP = "flap"
    DROP = "drop"
    SLOW_DOWNLOAD = "slow-download"
    FAIL_DOWNLOAD = "fail-download"
    SKEW = "skew"
    DRIFT = "drift"
    PLAY_ERROR = "play-error"
    CRASH = "crash"
    POWER_CUT = "power-cut"


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class Offline:
    """The link is down from `at` for `for_s` seconds."""

    kind: ClassVar[FaultKind] = FaultKind.OFFLINE
    at: float = 0.0
    for_s: float = math.inf

    def __post_init__(self) -> None:
        _check(self.at >= 0 and self.for_s > 0, "offline: at must be >= 0 and for > 0")


@dataclass(frozen=True)
class Flap:
    """From `at`, the link goes down for `period` seconds, then up for `period`, over and over, for `for_s`."""

    kind: ClassVar[FaultKind] = FaultKind.FLAP
    period: float
    at: float = 0.0
    for_s: float = math.inf

    def __post_init__(self) -> None:
        _check(self.period > 0 and self.at >= 0 and self.for_s > 0, "flap: period and for must be > 0, at >= 0")


@dataclass(frozen=True)
class Drop:
    """Message loss: every `every`-th MQTT PUBLISH or PUBACK is lost with the connection, `times` times."""

    kind: ClassVar[FaultKind] = FaultKind.DROP
    every: int = 3
    times: int = 5

    def __post_init__(self) -> None:
        _check(self.every >= 1 and self.times >= 1, "drop: every and times must be >= 1")


@dataclass(frozen=True)
class SlowDownload:
    """Audio arrives at `kbps` kilobits per second."""

    kind: ClassVar[FaultKind] = FaultKind.SLOW_DOWNLOAD
    kbps: float

    def __post_init__(self) -> None:
        _check(self.kbps > 0, "slow-download: kbps must be > 0")

    @property
    def bytes_per_s(self) -> float:
        return self.kbps * 1000 / 8


@dataclass(frozen=True)
class FailDownload:
    """The connection is cut once a download reaches `cut` of the file, `times` times (None: always)."""

    kind: ClassVar[FaultKind] = FaultKind.FAIL_DOWNLOAD
    times: int | None = 1
    cut: float = 0.5

    def __post_init__(self) -> None:
        _check(self.times is None or self.times >= 1, "fail-download: times must be >= 1 or 'always'")
        _check(0 <= self.cut < 1, "fail-download: cut must be a fraction in [0, 1)")


@dataclass(frozen=True)
class Skew:
    """The agent's clock is `offset_s` seconds ahead of true time (behind, if negative)."""

    kind: ClassVar[FaultKind] = FaultKind.SKEW
    offset_s: float


@dataclass(frozen=True)
class Drift:
    """The agent's clock gains `ppm` millionths of a second per second (loses, if negative)."""

    kind: ClassVar[FaultKind] = FaultKind.DRIFT
    ppm: float

    def __post_init__(self) -> None:
        _check(-1e6 < self.ppm <= 1e6, "drift: ppm must be in (-1000000, 1000000]")


PLAY_ERROR_REASONS = (DEVICE_UNAVAILABLE, DEVICE_BUSY, DECODE_ERROR, PLAYER_ERROR)


@dataclass(frozen=True)
class PlayError:
    """The player fails with `reason`, as mpg123 on a broken ALSA device does, `times` times (None: always)."""

    kind: ClassVar[FaultKind] = FaultKind.PLAY_ERROR
    reason: str = DEVICE_UNAVAILABLE
    times: int | None = None

    def __post_init__(self) -> None:
        _check(self.reason in PLAY_ERROR_REASONS, f"play-error: reason must be one of {', '.join(PLAY_ERROR_REASONS)}")
        _check(self.times is None or self.times >= 1, "play-error: times must be >= 1 or 'always'")


@dataclass(frozen=True)
class Crash:
    """At `at` the agent dies without a clean stop; it boots again `down` seconds later (inf: never)."""

    kind: ClassVar[FaultKind] = FaultKind.CRASH
    at: float
    down: float = 3.0

    def __post_init__(self) -> None:
        _check(self.at >= 0 and self.down >= 0, "crash: at and down must be >= 0")


@dataclass(frozen=True)
class PowerCut:
    """The same crash, the first time the agent is half-way through a download or a play."""

    kind: ClassVar[FaultKind] = FaultKind.POWER_CUT
    during: Literal["download", "play"]
    down: float = 3.0

    def __post_init__(self) -> None:
        _check(self.during in ("download", "play"), "power-cut: during must be 'download' or 'play'")
        _check(self.down >= 0, "power-cut: down must be >= 0")


Fault = Offline | Flap | Drop | SlowDownload | FailDownload | Skew | Drift | PlayError | Crash | PowerCut
F = TypeVar("F")
LINK_FAULTS = (Offline, Flap, Drop, SlowDownload, FailDownload, Crash, PowerCut)
"""Faults that need the agent's traffic to go through its own proxy (`simulator.link.Link`)."""


@dataclass(frozen=True)
class FaultRule:
    """One fault and whom it hits: the agents listed, or a fraction of the fleet."""

    fault: Fault
    agents: tuple[str, ...] = ()
    fraction: float | None = None

    def __post_init__(self) -> None:
        _check(
            bool(self.agents) != (self.fraction is not None),
            f"{self.kind}: give either agent ids or a fraction of the fleet",
        )
        _check(self.fraction is None or 0 < self.fraction <= 1, f"{self.kind}: the fraction must be in (0, 1]")

    @property
    def kind(self) -> FaultKind:
        return self.fault.kind


@dataclass(frozen=True)
class FaultPlan:
    """Fault rules and the seed that picks a fraction's agents. `exclusive`: no agent gets two rules."""

    rules: tuple[FaultRule, ...] = ()
    seed: int = 0
    exclusive: bool = False

    def __post_init__(self) -> None:
        if self.exclusive:
            total = sum(r.fraction or 0.0 for r in self.rules)
            _check(total <= 1 + 1e-9, f"exclusive fault fractions add up to {total:g}, more than the whole fleet")

    def assignments(self, agent_ids: Iterable[str]) -> dict[str, list[FaultRule]]:
        """The rules hitting each of `agent_ids` (every id is a key; a healthy agent has none).

        A fraction takes `round(fraction * len(agent_ids))` agents: those ranking first by a hash of
        the seed, the rule's position and kind, and the agent id. So the choice depends only on the
        plan and the ids, never on their order or on the process. Explicit ids outside `agent_ids`
        are ignored. With `exclusive`, each rule picks among agents no earlier rule took.
        """
        ids = sorted(set(agent_ids))
        out: dict[str, list[FaultRule]] = {a: [] for a in ids}
        taken: set[str] = set()
        for index, rule in enumerate(self.rules):
            if rule.fraction is None:
                chosen = [a for a in rule.agents if a in out and not (self.exclusive and a in taken)]
            else:
                pool = [a for a in ids if not (self.exclusive and a in taken)]
                pool.sort(key=functools.partial(self._rank, index, rule.kind))
                chosen = pool[: round(rule.fraction * len(ids))]
            for agent_id in chosen:
                out[agent_id].append(rule)
                taken.add(agent_id)
        return out

    def resolve(self, agent_ids: Iterable[str]) -> FaultPlan:
        """The same plan with each fraction turned into the agent ids it picks among `agent_ids`.

        A pool that gives each worker a slice of the fleet sends the resolved plan, so fractions
        are of the whole fleet, not of each slice.
        """
        position = {id(rule): i for i, rule in enumerate(self.rules)}
        hit: dict[int, list[str]] = {}
        for agent_id, rules in self.assignments(agent_ids).items():
            for rule in rules:
                hit.setdefault(position[id(rule)], []).append(agent_id)
        resolved = tuple(
            FaultRule(rule.fault, agents=tuple(sorted(hit[i]))) for i, rule in enumerate(self.rules) if i in hit
        )
        return FaultPlan(resolved, seed=self.seed, exclusive=False)

    def _rank(self, index: int, kind: FaultKind, agent_id: str) -> bytes:
        return hashlib.sha256(f"{self.seed}:{index}:{kind}:{agent_id}".encode()).digest()


# -- the grammar -----------------------------------------------------------------------------------


def _seconds(key: str, text: str, *, negative: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{key}={text!r} is not a number of seconds") from None
    if math.isnan(value) or (value < 0 and not negative):
        raise ValueError(f"{key}={text!r} must be a number of seconds >= 0")
    return value


def _count(key: str, text: str, *, always: bool = False) -> int | None:
    if always and text == "always":
        return None
    try:
        value = int(text)
    except ValueError:
        hint = " or 'always'" if always else ""
        raise ValueError(f"{key}={text!r} is not a whole number{hint}") from None
    return value


def _number(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{key}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{key}={text!r} must be finite")
    return value


def _fault(kind: FaultKind, params: dict[str, str]) -> Fault:  # noqa: C901 - one branch per fault kind
    """Build the fault from its key=value parameters; unknown or missing keys raise ValueError."""
    spec: dict[FaultKind, tuple[set[str], set[str]]] = {
        FaultKind.OFFLINE: (set(), {"at", "for"}),
        FaultKind.FLAP: ({"period"}, {"at", "for"}),
        FaultKind.DROP: (set(), {"every", "times"}),
        FaultKind.SLOW_DOWNLOAD: ({"kbps"}, set()),
        FaultKind.FAIL_DOWNLOAD: (set(), {"times", "cut"}),
        FaultKind.SKEW: ({"offset"}, set()),
        FaultKind.DRIFT: ({"ppm"}, set()),
        FaultKind.PLAY_ERROR: (set(), {"reason", "times"}),
        FaultKind.CRASH: ({"at"}, {"down"}),
        FaultKind.POWER_CUT: ({"during"}, {"down"}),
    }
    required, optional = spec[kind]
    unknown = sorted(set(params) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional)) or "none"
        raise ValueError(f"unknown key {unknown[0]!r} (keys for {kind}: {allowed})")
    missing = sorted(required - set(params))
    if missing:
        raise ValueError(f"{kind} needs {missing[0]}=...")
    p = params
    match kind:
        case FaultKind.OFFLINE:
            return Offline(at=_seconds("at", p.get("at", "0")), for_s=_seconds("for", p.get("for", "inf")))
        case FaultKind.FLAP:
            return Flap(
                period=_seconds("period", p["period"]),
                at=_seconds("at", p.get("at", "0")),
                for_s=_seconds("for", p.get("for", "inf")),
            )
        case FaultKind.DROP:
            every = _count("every", p.get("every", "3"))
            times = _count("times", p.get("times", "5"))
            assert every is not None and times is not None
            return Drop(every=every, times=times)
        case FaultKind.SLOW_DOWNLOAD:
            return SlowDownload(kbps=_number("kbps", p["kbps"]))
        case FaultKind.FAIL_DOWNLOAD:
            return FailDownload(
                times=_count("times", p.get("times", "1"), always=True), cut=_number("cut", p.get("cut", "0.5"))
            )
        case FaultKind.SKEW:
            return Skew(offset_s=_seconds("offset", p["offset"], negative=True))
        case FaultKind.DRIFT:
            return Drift(ppm=_number("ppm", p["ppm"]))
        case FaultKind.PLAY_ERROR:
            return PlayError(
                reason=p.get("reason", DEVICE_UNAVAILABLE), times=_count("times", p.get("times", "always"), always=True)
            )
        case FaultKind.CRASH:
            return Crash(at=_seconds("at", p["at"]), down=_seconds("down", p.get("down", "3")))
        case FaultKind.POWER_CUT:
            during = p["during"]
            if during not in ("download", "play"):
                raise ValueError(f"during={during!r} must be 'download' or 'play'")
            return PowerCut(
                during="download" if during == "download" else "play", down=_seconds("down", p.get("down", "3"))
            )
    raise AssertionError(kind)  # pragma: no cover


def _target(text: str) -> tuple[tuple[str, ...], float | None]:
    if not text:
        raise ValueError("no target: give a fraction (0.1 or 10%) or agent ids")
    try:
        fraction = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        ids = tuple(a.strip() for a in text.split(","))
        if any(not a for a in ids):
            raise ValueError(f"empty agent id in {text!r}") from None
        return ids, None
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction {text!r} must be more than 0 and at most 1 (or 100%)")
    return (), fraction


def parse_fault(spec: str) -> FaultRule:
    """One rule from `KIND=TARGET[:KEY=VALUE]...`; see the module docstring."""
    head, _, rest = spec.strip().partition(":")
    name, eq, target = head.partition("=")
    kinds = ", ".join(k.value for k in FaultKind)
    try:
        kind = FaultKind(name.strip())
    except ValueError:
        raise ValueError(f"fault {spec!r}: unknown kind {name.strip()!r} (kinds: {kinds})") from None
    try:
        if not eq:
            raise ValueError("no target: write KIND=FRACTION or KIND=ID,ID,...")
        params: dict[str, str] = {}
        for item in rest.split(":") if rest else ():
            key, eq, value = item.partition("=")
            if not eq or not key or not value:
                raise ValueError(f"{item!r} is not KEY=VALUE")
            if key in params:
                raise ValueError(f"{key} given twice")
            params[key.strip()] = value.strip()
        agents, fraction = _target(target.strip())
        return FaultRule(_fault(kind, params), agents=agents, fraction=fraction)
    except ValueError as exc:
        raise ValueError(f"fault {spec!r}: {exc}") from None


def parse_faults(specs: Sequence[str], seed: int, *, exclusive: bool = False) -> FaultPlan:
    """A plan from CLI fault specs (see the module docstring). Raises ValueError naming the bad spec."""
    return FaultPlan(tuple(parse_fault(s) for s in specs), seed=seed, exclusive=exclusive)


# -- what a fault does to an agent's clock and player ----------------------------------------------


class SkewedClock(SystemClock):
    """Wall-clock time, `offset_s` seconds off and gaining `drift_ppm` millionths from `since`:
    the clock of a post whose NTP has not synced since it booted (a Pi has no battery clock)."""

    def __init__(self, offset_s: float = 0.0, drift_ppm: float = 0.0, *, since: datetime | None = None) -> None:
        super().__init__(timedelta(seconds=offset_s))
        self.rate = drift_ppm / 1e6
        self.since = since or utcnow()

    def now(self) -> datetime:
        real = utcnow()
        return real + self.offset + (real - self.since) * self.rate

    async def sleep_until(self, instant: datetime) -> None:
        # Its seconds pass (1 + rate) times as fast as real ones: convert before sleeping.
        remaining = (instant - self.now()).total_seconds()
        if remaining > self.fine_window_s:
            await asyncio.sleep((remaining - self.fine_window_s) / (1 + self.rate))
        while (remaining := (instant - self.now()).total_seconds()) > 0:
            await asyncio.sleep(min(remaining / (1 + self.rate), 0.002))


ALSA_STDERR = {
    DEVICE_UNAVAILABLE: (
        b"ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default\n"
        b"[src/libout123/modules/alsa.c:151] error: cannot open device default\n"
        b"main: [src/mpg123.c:1093] error: out123 error 7: failed to open device\n"
    ),
    DEVICE_BUSY: (
        b"[src/libout123/modules/alsa.c:151] error: cannot open device default\n"
        b"main: [src/mpg123.c:1093] error: out123 error 7: Device or resource busy\n"
    ),
    DECODE_ERROR: (
        b"[src/libmpg123/parse.c:1073] error: Giving up searching valid MPEG header after 65536 bytes of junk.\n"
        b"main: [src/mpg123.c:1200] error: Cannot read frame: decode error\n"
    ),
    PLAYER_ERROR: b"main: [src/mpg123.c:741] error: out of memory\n",
}
"""What mpg123 prints when ALSA or the file fails, so `failure_reason` words the reason as on a real post."""


class FaultyPlayer:
    """A post's player with its faults: playback errors, and the power going off.

    Wraps the post's `VirtualPlayer`, which outlives restarts, so its `history` covers the whole run.
    `power_off()` ends what plays; the `play()` in progress then raises `CancelledError`, as the
    process dies: the agent writes nothing more about that play. Until `power_on()`, nothing plays.
    With `cut_mid_play`, `on_power_cut` is called half-way through the first play.
    """

    def __init__(
        self,
        inner: Player,
        *,
        error: PlayError | None = None,
        cut_mid_play: bool = False,
        speed: float = 1.0,
        on_power_cut: Callable[[], None] | None = None,
    ) -> None:
        self.inner = inner
        self.error = error
        self.errors = 0
        self.speed = speed
        self._cut_pending = cut_mid_play
        self._on_power_cut = on_power_cut
        self._powered = True

    async def power_off(self) -> None:
        self._powered = False
        await self.inner.stop()

    def power_on(self) -> None:
        self._powered = True

    async def play(self, path: Path, *, volume: int, duration_s: float) -> PlayOutcome:
        if not self._powered:
            raise asyncio.CancelledError("no power")
        if self.error is not None and (self.error.times is None or self.errors < self.error.times):
            self.errors += 1
            now = utcnow()
            return PlayOutcome(False, now, now, 0.0, failure_reason(1, ALSA_STDERR[self.error.reason]))
        playing = asyncio.ensure_future(self.inner.play(path, volume=volume, duration_s=duration_s))
        if self._cut_pending:
            self._cut_pending = False
            done, _ = await asyncio.wait({playing}, timeout=duration_s / self.speed / 2)
            if not done and self._on_power_cut is not None:
                self._on_power_cut()
                await self.power_off()
        outcome = await playing
        if not self._powered:
            raise asyncio.CancelledError("power cut while playing")
        return outcome

    async def tone(self, *, seconds: float, frequency_hz: int, volume: int) -> PlayOutcome:
        if not self._powered:
            raise asyncio.CancelledError("no power")
        return await self.inner.tone(seconds=seconds, frequency_hz=frequency_hz, volume=volume)

    async def stop(self) -> None:
        await self.inner.stop()


@dataclass
class PostFaults:
    """The fault rules hitting one agent, and what each part of the post needs for them."""

    rules: list[FaultRule] = field(default_factory=list)

    def all(self, kind: type[F]) -> list[F]:
        return [r.fault for r in self.rules if isinstance(r.fault, kind)]

    def first(self, kind: type[F]) -> F | None:
        found = self.all(kind)
        return found[0] if found else None

    @property
    def needs_link(self) -> bool:
        return any(isinstance(r.fault, LINK_FAULTS) for r in self.rules)

    @property
    def needs_clock(self) -> bool:
        return bool(self.all(Skew) or self.all(Drift))

    @property
    def needs_player(self) -> bool:
        return bool(self.all(PlayError) or self.all(Crash) or self.all(PowerCut))

    def clock(self, since: datetime) -> SkewedClock:
        offset = sum(f.offset_s for f in self.all(Skew))
        ppm = sum(f.ppm for f in self.all(Drift))
        return SkewedClock(offset, ppm, since=since)

    def power_cut(self, during: str) -> PowerCut | None:
        return next((f for f in self.all(PowerCut) if f.during == during), None)
