"""The simulator's end-of-run report: what the agents did, against what the controller stored.

Two sources are compared, agent by agent:

- the agents' own records, from the simulator workers (`simulator.pool.AgentResult`): when each
  first accepted the booking's manifest, and every play its player made;
- the controller's plays for the slot (`GET /api/plays`): status, reason, booked instant.

A **lost confirmation** is a play an agent made (its player ran it) whose final confirmation the
controller never stored. A **duplicate** is a booked play an agent's player started more than
once. The database itself keeps one row per (play, event) under a unique key, so it cannot count
a confirmation twice; the report counts what the agents did.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from simulator.pool import AgentResult

AGENT_FINAL = ("finished", "failed", "skipped")
"""Statuses only an agent's confirmation sets."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class SimReport:
    agents: int
    mode: dict[str, Any]
    """How the run was made: broker, processes, player speed, audio length, faults."""
    plays_booked: int
    manifests_delivered: int
    ready_before_start: int
    """Agents whose audio was downloaded and checked before the booked instant."""
    plays_made: int
    plays_finished_stored: int
    confirmations_stored: int
    lost_confirmations: int
    duplicates: int
    dispatch_latency_p50_s: float | None
    dispatch_latency_p99_s: float | None
    start_skew_p50_ms: float | None
    start_skew_p99_ms: float | None
    start_spread_ms: float | None
    statuses: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    lost_agents: list[str] = field(default_factory=list)
    duplicate_agents: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost_confirmations == 0 and self.duplicates == 0

    def rate(self, part: int) -> str:
        return f"{part}/{self.plays_booked} ({100 * part / self.plays_booked:.1f}%)" if self.plays_booked else "-"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=str)

    def lines(self) -> list[str]:
        def num(value: float | None, fmt: str) -> str:
            return "-" if value is None else format(value, fmt)

        rows = [
            ("agents", f"{self.agents}"),
            ("mode", ", ".join(f"{k}={v}" for k, v in self.mode.items())),
            ("delivery (manifest accepted)", self.rate(self.manifests_delivered)),
            ("audio ready before the start instant", self.rate(self.ready_before_start)),
            ("played (player ran it)", self.rate(self.plays_made)),
            ("confirmed (final confirmation stored)", self.rate(self.confirmations_stored)),
            ("  of which finished", self.rate(self.plays_finished_stored)),
            (
                "dispatch latency p50 / p99",
                f"{num(self.dispatch_latency_p50_s, '.3f')} s / {num(self.dispatch_latency_p99_s, '.3f')} s",
            ),
            (
                "start skew p50 / p99 (|start - booked|)",
                f"{num(self.start_skew_p50_ms, '.1f')} ms / {num(self.start_skew_p99_ms, '.1f')} ms",
            ),
            ("start spread across agents (max - min)", f"{num(self.start_spread_ms, '.1f')} ms"),
            ("lost confirmations", f"{self.lost_confirmations}"),
            ("duplicates", f"{self.duplicates}"),
            ("stored statuses", ", ".join(f"{k}={v}" for k, v in sorted(self.statuses.items())) or "-"),
        ]
        if self.reasons:
            rows.append(("reasons", ", ".join(f"{k}={v}" for k, v in sorted(self.reasons.items()))))
        width = max(len(k) for k, _ in rows)
        out = [f"| {'measure':<{width}} | value |", f"|{'-' * (width + 2)}|-------|"]
        out += [f"| {k:<{width}} | {v} |" for k, v in rows]
        if self.lost_agents:
            out.append(f"lost at: {', '.join(self.lost_agents[:20])}{' ...' if len(self.lost_agents) > 20 else ''}")
        if self.duplicate_agents:
            out.append(f"duplicated at: {', '.join(self.duplicate_agents[:20])}")
        return out


def _ready(result: AgentResult, start_at: float) -> bool:
    return result.downloaded_at is not None and result.downloaded_at <= start_at


def _instant(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def build_report(
    *,
    plays: Iterable[Mapping[str, Any]],
    results: Mapping[str, AgentResult],
    booked_at: Mapping[str, float],
    start_at: float,
    mode: dict[str, Any],
) -> SimReport:
    """Compare the controller's stored plays with what each agent did after its booking.

    `booked_at` maps each agent id to `time.monotonic()` when its commune's booking was posted;
    `start_at` is the booked instant on the same clock.
    """
    plays = list(plays)
    by_agent: dict[str, list[Mapping[str, Any]]] = {}
    for p in plays:
        by_agent.setdefault(p["agent_id"], []).append(p)
    statuses = Counter(p["status"] for p in plays)
    reasons = Counter(f"{p['status']}: {p['reason']}" for p in plays if p.get("reason"))

    latencies = [
        r.manifest_at - booked_at[a]
        for a, r in results.items()
        if a in by_agent and a in booked_at and r.manifest_at is not None
    ]
    skews: list[float] = []
    starts: list[float] = []
    lost: list[str] = []
    lost_count = 0
    duplicates: list[str] = []
    made = 0
    for agent_id, booked in sorted(by_agent.items()):
        result = results.get(agent_id)
        seen = result.plays if result else []
        made += min(len(seen), len(booked))
        if len(seen) > len(booked):
            duplicates.append(agent_id)
        confirmed = [p for p in booked if p["status"] in AGENT_FINAL]
        missing = min(len(seen), len(booked)) - len(confirmed)
        if missing > 0:
            lost.append(agent_id)
            lost_count += missing
        # Match plays in booked order with the player's plays in the order they ran.
        for play, record in zip(sorted(booked, key=lambda p: _instant(p["starts_at"])), seen, strict=False):
            skew = (record.started - _instant(play["starts_at"])).total_seconds() * 1000
            skews.append(abs(skew))
            starts.append(skew)
    return SimReport(
        agents=len(results) or len(by_agent),
        mode=mode,
        plays_booked=len(plays),
        manifests_delivered=len(latencies),
        ready_before_start=sum(1 for a, r in results.items() if a in by_agent and _ready(r, start_at)),
        plays_made=made,
        plays_finished_stored=statuses.get("finished", 0),
        confirmations_stored=sum(statuses.get(s, 0) for s in AGENT_FINAL),
        lost_confirmations=lost_count,
        duplicates=len(duplicates),
        dispatch_latency_p50_s=percentile(latencies, 50),
        dispatch_latency_p99_s=percentile(latencies, 99),
        start_skew_p50_ms=percentile(skews, 50),
        start_skew_p99_ms=percentile(skews, 99),
        start_spread_ms=(max(starts) - min(starts)) if starts else None,
        statuses=dict(statuses),
        reasons=dict(reasons),
        lost_agents=lost,
        duplicate_agents=duplicates,
    )
