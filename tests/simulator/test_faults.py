"""Fault specs parse strictly, a plan picks the same agents every time, and the fault machinery acts for real."""

from __future__ import annotations

import asyncio
import json
import math
import pickle
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from common.clock import utcnow
from edge_agent.player import VirtualPlayer
from simulator.faults import (
    Crash,
    Drift,
    Drop,
    FailDownload,
    FaultKind,
    FaultPlan,
    FaultRule,
    FaultyPlayer,
    Flap,
    Offline,
    PlayError,
    PowerCut,
    Skew,
    SkewedClock,
    SlowDownload,
    parse_fault,
    parse_faults,
)
from simulator.link import Link, Outages, take_mqtt_packets

IDS = [f"sim-{i:04d}" for i in range(1, 301)]


# -- the grammar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("offline=0.1:at=2:for=20", Offline(at=2, for_s=20)),
        ("offline=0.1", Offline(at=0, for_s=math.inf)),
        ("flap=0.05:period=3", Flap(period=3)),
        ("flap=0.05:period=1.5:at=4:for=30", Flap(period=1.5, at=4, for_s=30)),
        ("drop=0.1", Drop(every=3, times=5)),
        ("drop=0.1:every=2:times=9", Drop(every=2, times=9)),
        ("slow-download=0.1:kbps=64", SlowDownload(kbps=64)),
        ("fail-download=0.05:times=2", FailDownload(times=2, cut=0.5)),
        ("fail-download=0.05:times=always:cut=0.25", FailDownload(times=None, cut=0.25)),
        ("skew=0.1:offset=1.5", Skew(offset_s=1.5)),
        ("skew=0.1:offset=-90", Skew(offset_s=-90)),
        ("drift=0.1:ppm=500", Drift(ppm=500)),
        ("play-error=0.05", PlayError(reason="device-unavailable", times=None)),
        ("play-error=0.05:reason=decode-error:times=1", PlayError(reason="decode-error", times=1)),
        ("crash=0.05:at=1:down=3", Crash(at=1, down=3)),
        ("crash=0.05:at=1:down=inf", Crash(at=1, down=math.inf)),
        ("power-cut=0.05:during=download", PowerCut(during="download", down=3)),
        ("power-cut=0.05:during=play:down=4", PowerCut(during="play", down=4)),
    ],
)
def test_each_kind_parses_with_its_defaults(spec: str, fault: object) -> None:
    rule = parse_fault(spec)
    assert rule.fault == fault
    assert rule.kind == spec.partition("=")[0]


def test_every_kind_has_a_spec_above() -> None:
    """The grammar covers the ten kinds the issue lists, no more, no fewer."""
    assert {k.value for k in FaultKind} == {
        "offline",
        "flap",
        "drop",
        "slow-download",
        "fail-download",
        "skew",
        "drift",
        "play-error",
        "crash",
        "power-cut",
    }


def test_targets_are_a_fraction_a_percentage_or_agent_ids() -> None:
    assert parse_fault("offline=0.1").fraction == 0.1
    assert parse_fault("offline=25%").fraction == 0.25
    assert parse_fault("offline=1").fraction == 1.0
    rule = parse_fault("offline=sim-0001,sim-0002:at=3")
    assert (rule.agents, rule.fraction, rule.fault) == (("sim-0001", "sim-0002"), None, Offline(at=3))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("meltdown=0.1", "unknown kind 'meltdown'"),
        ("offline", "no target"),
        ("offline=", "no target"),
        ("offline=0", "must be more than 0 and at most 1"),
        ("offline=1.5", "must be more than 0 and at most 1"),
        ("offline=150%", "must be more than 0 and at most 1"),
        ("offline=sim-1,,sim-2", "empty agent id"),
        ("offline=0.1:at", "'at' is not KEY=VALUE"),
        ("offline=0.1:at=soon", "at='soon' is not a number of seconds"),
        ("offline=0.1:at=-1", "at='-1' must be a number of seconds >= 0"),
        ("offline=0.1:for=0", "for > 0"),
        ("offline=0.1:period=3", "unknown key 'period' (keys for offline: at, for)"),
        ("offline=0.1:at=1:at=2", "at given twice"),
        ("flap=0.1", "flap needs period=..."),
        ("drop=0.1:every=0", "every and times must be >= 1"),
        ("drop=0.1:every=1.5", "every='1.5' is not a whole number"),
        ("slow-download=0.1", "slow-download needs kbps=..."),
        ("slow-download=0.1:kbps=0", "kbps must be > 0"),
        ("fail-download=0.1:times=never", "times='never' is not a whole number or 'always'"),
        ("fail-download=0.1:cut=1", "cut must be a fraction in [0, 1)"),
        ("skew=0.1", "skew needs offset=..."),
        ("drift=0.1:ppm=fast", "ppm='fast' is not a number"),
        ("play-error=0.1:reason=sad", "reason must be one of device-unavailable, device-busy"),
        ("crash=0.1", "crash needs at=..."),
        ("power-cut=0.1", "power-cut needs during=..."),
        ("power-cut=0.1:during=boot", "during='boot' must be 'download' or 'play'"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^fault ") as caught:
        parse_fault(spec)
    assert message in str(caught.value)
    assert repr(spec) in str(caught.value)


def test_a_rule_needs_exactly_one_kind_of_target() -> None:
    with pytest.raises(ValueError, match="either agent ids or a fraction"):
        FaultRule(Offline())
    with pytest.raises(ValueError, match="either agent ids or a fraction"):
        FaultRule(Offline(), agents=("sim-0001",), fraction=0.5)


def test_exclusive_fractions_cannot_exceed_the_fleet() -> None:
    with pytest.raises(ValueError, match=r"add up to 1\.2"):
        parse_faults(["offline=0.6", "drop=0.6"], seed=1, exclusive=True)
    parse_faults(["offline=0.6", "drop=0.6"], seed=1)  # overlapping rules may add up to more


# -- choosing agents -----------------------------------------------------------------------------


def hit(plan: FaultPlan, ids: list[str]) -> dict[str, list[str]]:
    return {a: [r.kind.value for r in rules] for a, rules in plan.assignments(ids).items() if rules}


def test_a_fraction_takes_exactly_its_share_of_the_fleet() -> None:
    plan = parse_faults(["offline=0.1", "play-error=5%", "crash=0.015:at=1"], seed=7)
    counts: dict[str, int] = {}
    for kinds in hit(plan, IDS).values():
        for kind in kinds:
            counts[kind] = counts.get(kind, 0) + 1
    assert counts == {"offline": 30, "play-error": 15, "crash": 4}  # round(0.015 * 300) = 4


def test_the_same_plan_picks_the_same_agents_whatever_the_order() -> None:
    plan = parse_faults(["offline=0.1", "drop=0.2", "skew=0.05:offset=2"], seed=42)
    shuffled = list(reversed(IDS))
    assert hit(plan, IDS) == hit(plan, shuffled)
    assert hit(plan, IDS) == hit(parse_faults(["offline=0.1", "drop=0.2", "skew=0.05:offset=2"], seed=42), IDS)


def test_another_seed_picks_other_agents() -> None:
    one = hit(parse_faults(["offline=0.1"], seed=1), IDS)
    two = hit(parse_faults(["offline=0.1"], seed=2), IDS)
    assert len(one) == len(two) == 30
    assert one != two


def test_two_rules_of_one_kind_pick_independently() -> None:
    plan = parse_faults(["offline=0.5:at=0:for=5", "offline=0.5:at=10:for=5"], seed=3)
    first, second = ({a for a, rules in plan.assignments(IDS).items() if r in rules} for r in plan.rules)
    assert len(first) == len(second) == 150
    assert first != second


def test_an_exclusive_plan_gives_no_agent_two_faults() -> None:
    specs = [f"{k.value}=0.1" + extra for k, extra in _ALL_KINDS]
    plan = parse_faults(specs, seed=11, exclusive=True)
    chosen = hit(plan, IDS)
    assert all(len(kinds) == 1 for kinds in chosen.values())
    assert len(chosen) == 300  # ten tenths: everyone
    overlapping = hit(parse_faults(specs, seed=11), IDS)
    assert any(len(kinds) > 1 for kinds in overlapping.values())


def test_explicit_ids_outside_the_fleet_are_ignored() -> None:
    plan = parse_faults(["play-error=sim-0002,sim-9999"], seed=0)
    assert hit(plan, IDS[:5]) == {"sim-0002": ["play-error"]}


def test_a_resolved_plan_hits_the_same_agents_in_every_slice() -> None:
    """A pool sends workers the plan resolved on the whole fleet: fractions stay of the whole fleet."""
    plan = parse_faults(["offline=0.1", "drop=0.05"], seed=5, exclusive=True)
    whole = hit(plan, IDS)
    resolved = plan.resolve(IDS)
    assert all(r.fraction is None for r in resolved.rules)
    sliced: dict[str, list[str]] = {}
    for start in range(0, 300, 70):
        sliced |= hit(resolved, IDS[start : start + 70])
    assert sliced == whole


_ALL_KINDS = [
    (FaultKind.OFFLINE, ""),
    (FaultKind.FLAP, ":period=3"),
    (FaultKind.DROP, ""),
    (FaultKind.SLOW_DOWNLOAD, ":kbps=64"),
    (FaultKind.FAIL_DOWNLOAD, ""),
    (FaultKind.SKEW, ":offset=1"),
    (FaultKind.DRIFT, ":ppm=100"),
    (FaultKind.PLAY_ERROR, ""),
    (FaultKind.CRASH, ":at=1"),
    (FaultKind.POWER_CUT, ":during=play"),
]


def test_a_plan_pickles_and_picks_the_same_agents_in_another_process(tmp_path: Path) -> None:
    plan = parse_faults([f"{k.value}=0.05" + extra for k, extra in _ALL_KINDS], seed=99, exclusive=True)
    assert pickle.loads(pickle.dumps(plan)) == plan
    blob = tmp_path / "plan.pickle"
    blob.write_bytes(pickle.dumps((plan, IDS)))
    code = (
        "import pickle, sys, json; plan, ids = pickle.load(open(sys.argv[1], 'rb')); "
        "print(json.dumps({a: [r.kind.value for r in rs] for a, rs in plan.assignments(ids).items() if rs}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(blob)], capture_output=True, text=True, check=True)

    assert json.loads(out.stdout) == hit(plan, IDS)


# -- outages, MQTT framing -------------------------------------------------------------------------


def test_outages_know_when_the_link_is_down_and_when_that_changes() -> None:
    outages = Outages([Offline(at=10, for_s=5), Flap(period=2, at=20, for_s=6)])
    assert [outages.down(t) for t in (0, 10, 14.9, 15, 20, 21.9, 22, 24, 26, 30)] == [
        False,
        True,
        True,
        False,
        True,
        True,
        False,
        True,
        False,
        False,
    ]
    assert outages.next_change(0) == 10
    assert outages.next_change(10) == 15
    assert outages.next_change(15) == 20
    assert outages.next_change(21) == 22
    assert outages.next_change(25) == 26
    assert outages.next_change(26) is None
    assert Outages([Offline()]).next_change(0) is None  # down for good


def test_mqtt_packets_are_split_whole_and_a_partial_one_waits() -> None:
    publish = bytes([0x32, 130, 1]) + b"x" * 130  # remaining length 130 takes two bytes
    puback = bytes([0x40, 2, 0, 1])
    buffer = bytearray(publish + puback + publish[:50])
    assert take_mqtt_packets(buffer) == [publish, puback]
    assert bytes(buffer) == publish[:50]
    buffer += publish[50:]
    assert take_mqtt_packets(buffer) == [publish]
    assert buffer == bytearray()


# -- the link on real sockets ----------------------------------------------------------------------


async def _echo_server() -> tuple[asyncio.Server, int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_a_link_forwards_then_cuts_and_refuses_while_down() -> None:
    async def scenario() -> None:
        server, port = await _echo_server()
        link = Link("sim-0001", broker=("127.0.0.1", port))
        await link.open()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", link.broker_port)
            writer.write(b"hello")
            assert await reader.readexactly(5) == b"hello"
            link.set_up(False)
            assert await reader.read(10) == b""  # cut: the connection ends
            reader2, writer2 = await asyncio.open_connection("127.0.0.1", link.broker_port)
            assert await reader2.read(10) == b""  # refused while down
            link.set_up(True)
            reader3, writer3 = await asyncio.open_connection("127.0.0.1", link.broker_port)
            writer3.write(b"again")
            assert await reader3.readexactly(5) == b"again"
            assert (link.stats.cuts, link.stats.refused) == (1, 1)
            for w in (writer, writer2, writer3):
                w.close()
        finally:
            await link.close()
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


def test_a_link_loses_every_nth_publish_with_the_connection() -> None:
    async def scenario() -> None:
        server, port = await _echo_server()
        link = Link("sim-0001", broker=("127.0.0.1", port), drop=Drop(every=2, times=1))
        await link.open()
        try:
            publish = bytes([0x30, 3]) + b"abc"
            reader, writer = await asyncio.open_connection("127.0.0.1", link.broker_port)
            writer.write(publish)  # the 1st PUBLISH goes through and echoes back: that is the 2nd, lost
            assert await reader.read(100) == b""
            writer.close()
            assert link.stats.lost_packets == 1
            reader, writer = await asyncio.open_connection("127.0.0.1", link.broker_port)
            writer.write(publish)  # lost once already: no more losses
            assert await reader.readexactly(5) == publish
            writer.close()
        finally:
            await link.close()
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


# -- clock and player ----------------------------------------------------------------------------


def test_a_skewed_clock_is_ahead_and_drifts() -> None:
    start = utcnow()
    clock = SkewedClock(90.0, 1e5, since=start - timedelta(seconds=10))  # 10 %: one second in ten
    offset = (clock.now() - utcnow()).total_seconds()
    assert 90.9 < offset < 91.1

    async def wait() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await clock.sleep_until(clock.now() + timedelta(seconds=0.22))
        return loop.time() - t0

    assert 0.19 < asyncio.run(wait()) < 0.3  # 0.22 s on a clock 10 % fast pass in 0.2 s


def test_a_play_error_reads_like_alsa_and_plays_nothing(tmp_path: Path) -> None:
    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"\xff\xfb")
    inner = VirtualPlayer(speed=100)
    player = FaultyPlayer(inner, error=PlayError(reason="device-busy", times=1))
    first = asyncio.run(player.play(audio, volume=80, duration_s=1.0))
    assert not first.completed and first.duration_played_s == 0
    assert first.error is not None and first.error.startswith("device-busy: ")
    assert "Device or resource busy" in first.error
    second = asyncio.run(player.play(audio, volume=80, duration_s=1.0))
    assert second.completed  # times=1: the device came back
    assert len(inner.history) == 1


def test_a_power_cut_mid_play_ends_the_play_like_a_dying_process(tmp_path: Path) -> None:
    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"\xff\xfb")
    inner = VirtualPlayer(speed=10)
    cuts: list[str] = []
    player = FaultyPlayer(inner, cut_mid_play=True, speed=10, on_power_cut=lambda: cuts.append("cut"))

    async def play() -> None:
        await player.play(audio, volume=80, duration_s=2.0)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(play())
    assert cuts == ["cut"]
    (record,) = inner.history
    assert record.outcome.error == "stopped" and 0.5 < record.outcome.duration_played_s < 1.5
    player.power_on()
    assert asyncio.run(player.play(audio, volume=80, duration_s=1.0)).completed  # once only
