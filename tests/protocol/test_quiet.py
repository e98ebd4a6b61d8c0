"""Quiet hours: one rule, one parser, and the controller and the agent give the same answer."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.scheduling.recurrence import in_quiet_hours, parse_hhmm, span_touches_quiet_hours
from edge_agent.config import AgentConfig
from protocol.quiet import InvalidQuietHours, QuietHours
from protocol.quiet import parse_hhmm as protocol_parse_hhmm

ZONES = ("Asia/Ho_Chi_Minh", "UTC", "Asia/Kolkata", "Pacific/Chatham")
"""Fixed-offset zones, including half-hour and 45-minute offsets (Vietnam has no daylight saving)."""

hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))
minute_instants = instants.map(lambda d: d.replace(second=0, microsecond=0))


def agent_side(start: str, end: str, zone: str) -> QuietHours:
    """Quiet hours exactly as the agent builds them: from its config file's values."""
    config = AgentConfig(
        agent_id="xa-test-01",
        broker_url="mqtts://broker.test:8883",
        media_base_url="https://media.test",
        state_dir=Path("/tmp/unused"),
        controller_public_key=base64.b64encode(bytes(32)).decode(),
        quiet_hours_start=start,
        quiet_hours_end=end,
        timezone=zone,
    )
    return config.quiet_hours


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(start=hhmm, end=hhmm, zone=st.sampled_from(ZONES), instant=instants)
def test_the_controller_and_the_agent_agree_for_any_window_and_instant(
    start: str, end: str, zone: str, instant: datetime
) -> None:
    assert in_quiet_hours(instant, start, end, zone) is agent_side(start, end, zone).contains(instant)


def brute_force_overlap(window: QuietHours, begin: datetime, seconds: int) -> bool:
    """The reference: step minute by minute through [begin, begin + seconds) and ask `contains`."""
    return any(window.contains(begin + timedelta(minutes=m)) for m in range(seconds // 60))


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(
    start=hhmm,
    end=hhmm,
    zone=st.sampled_from(ZONES),
    begin=minute_instants,
    minutes=st.integers(0, 36 * 60),
)
def test_the_interval_overlap_agrees_with_minute_stepping(
    start: str, end: str, zone: str, begin: datetime, minutes: int
) -> None:
    window = QuietHours.parse(start, end, zone)
    expected = brute_force_overlap(window, begin, minutes * 60)
    assert window.overlaps(begin, minutes * 60) is expected
    assert span_touches_quiet_hours(begin, minutes * 60, start, end, zone) is expected


def test_the_window_is_half_open() -> None:
    night = QuietHours.parse("21:00", "05:00", "UTC")
    assert night.contains(datetime(2026, 5, 26, 21, 0, tzinfo=UTC))
    assert not night.contains(datetime(2026, 5, 26, 5, 0, tzinfo=UTC))
    ends_at_nine = datetime(2026, 5, 26, 20, 50, tzinfo=UTC)
    assert not night.overlaps(ends_at_nine, 10 * 60)  # [20:50, 21:00) stops as the window opens
    assert night.overlaps(ends_at_nine, 10 * 60 + 1)
    assert not night.overlaps(ends_at_nine, 0)


@pytest.mark.parametrize("text", ["21:5", "9:00", "24:00", "21:60", "2100", "", "21:00:00", "９:００"])
def test_one_parser_refuses_the_same_text_on_both_sides(text: str) -> None:
    with pytest.raises(InvalidQuietHours, match="HH:MM"):
        protocol_parse_hhmm(text)
    with pytest.raises(ValueError, match="GG:PP"):
        parse_hhmm(text)  # the controller's officer-facing wording of the same refusal


def test_an_unknown_zone_is_the_same_error() -> None:
    with pytest.raises(InvalidQuietHours, match="time zone"):
        QuietHours.parse("21:00", "05:00", "Asia/Nowhere")


def test_the_parser_accepts_every_minute_of_the_day() -> None:
    assert protocol_parse_hhmm("00:00") == time(0, 0)
    assert protocol_parse_hhmm(" 23:59 ") == time(23, 59)
