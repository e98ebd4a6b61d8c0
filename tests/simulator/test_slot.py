"""`loa sim`'s slot: a local controller on Mosquitto, agents in worker processes, and the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.errors import LoaError
from simulator.pool import AgentResult, PlaySeen
from simulator.province import generate_layout, load_layout
from simulator.report import build_report, percentile
from simulator.slot import SlotOptions, SlotRun, run_slot, write_json
from tests.e2e.conftest import quarter_params

HEAD = "province: {code: p, name: P}\ncommunes:\n"
FLEET_FILE = """\
province: {code: tinh-thu, name: Tỉnh Thử}
communes:
  - code: xa-dong
    name: Xã Đông
    villages: [Thôn Một, Thôn Hai]
    agents: 14
  - code: xa-tay
    name: Xã Tây
    villages: [Thôn Ba]
    agents: 11
"""


def test_a_province_slot_is_played_and_confirmed_exactly_once(tmp_path: Path) -> None:
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(FLEET_FILE, encoding="utf-8")
    layout = load_layout(fleet_file)
    lines: list[str] = []
    quarterly: dict[str, int] = {}

    def epilogue(api: httpx.Client, run: SlotRun) -> None:
        params = quarter_params(run.schedules[0]["starts_at"])
        quarterly["total"] = api.get("/api/reports/quarterly", params=params).json()["total_confirmed_plays"]

    run = run_slot(
        SlotOptions(agents=layout.agents, layout=layout, broker="mosquitto", processes=2, data_dir=tmp_path / "run"),
        lines.append,
        epilogue,
    )
    report = run.report
    assert report.agents == 25 and report.plays_booked == 25
    assert len(run.schedules) == 2  # one booking per commune
    assert report.mode["processes"] == 2 and report.mode["broker"] == "private mosquitto"
    assert report.manifests_delivered == 25 and report.ready_before_start == 25
    assert report.plays_made == 25 and report.plays_finished_stored == 25
    assert report.lost_confirmations == 0 and report.duplicates == 0 and report.ok
    assert report.statuses == {"finished": 25}
    assert quarterly["total"] == 25  # the province's count agrees with the agents
    assert {p["agent_id"] for p in run.plays} == set(layout.agent_ids())
    # Every agent's player ran the bulletin once, and the latencies and skews are measured.
    assert all(len(r.plays) == 1 and r.plays[0].completed for r in run.results.values())
    assert report.dispatch_latency_p99_s is not None and report.dispatch_latency_p99_s >= 0
    assert report.start_skew_p99_ms is not None and report.start_spread_ms is not None
    assert any("connected" in line for line in lines)
    out = tmp_path / "report.json"
    write_json(report, out)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["lost_confirmations"] == 0 and data["plays_booked"] == 25 and data["statuses"] == {"finished": 25}


def test_generated_layouts_fill_communes_of_fifty() -> None:
    layout = generate_layout(120)
    assert [c.agents for c in layout.communes] == [50, 50, 20]
    assert len(layout.agent_ids()) == len(set(layout.agent_ids())) == 120
    assert all(len(c.villages) == 8 for c in layout.communes)
    with pytest.raises(LoaError):
        generate_layout(0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("province: {code: p, name: P}\ncommunes: [", "not valid YAML"),
        ("province: {code: p, name: P}\ncommunes: []", "communes"),
        (
            "province: {code: p, name: P}\ncommunes:\n  - {code: x, name: X, villages: [A], agents: 1, colour: red}",
            "colour",
        ),
        ("province: {code: p, name: P}\ncommunes:\n  - {code: X Y, name: X, villages: [A], agents: 1}", "code"),
        (
            "province: {code: p, name: P}\ncommunes:\n"
            "  - {code: x, name: X, villages: [A], agents: 1}\n  - {code: x, name: Y, villages: [B], agents: 1}",
            "repeat",
        ),
    ],
)
def test_a_bad_fleet_file_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoaError, match=message):
        load_layout(path)
    with pytest.raises(LoaError, match="cannot read"):
        load_layout(tmp_path / "missing.yaml")


def _seen(at: datetime, completed: bool = True) -> PlaySeen:
    return PlaySeen(started=at, duration_s=17.0, completed=completed, error=None if completed else "player-error")


def test_the_report_counts_lost_confirmations_and_duplicates() -> None:
    t = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    plays: list[dict[str, Any]] = [
        {"id": "p1", "agent_id": "a1", "status": "finished", "reason": None, "starts_at": t},
        {"id": "p2", "agent_id": "a2", "status": "missed", "reason": "no-confirmation", "starts_at": t},  # lost
        {"id": "p3", "agent_id": "a3", "status": "finished", "reason": None, "starts_at": t},  # played twice
        {"id": "p4", "agent_id": "a4", "status": "missed", "reason": "agent-offline", "starts_at": t},  # never played
        {"id": "p5", "agent_id": "a5", "status": "failed", "reason": "player-error", "starts_at": t},
    ]
    results = {
        "a1": AgentResult("a1", manifest_at=10.5, downloaded_at=11.0, plays=[_seen(t + timedelta(milliseconds=4))]),
        "a2": AgentResult("a2", manifest_at=10.2, downloaded_at=11.0, plays=[_seen(t - timedelta(milliseconds=8))]),
        "a3": AgentResult(
            "a3", manifest_at=11.0, downloaded_at=30.0, plays=[_seen(t + timedelta(milliseconds=2)), _seen(t)]
        ),
        "a4": AgentResult("a4"),
        "a5": AgentResult("a5", manifest_at=10.1, downloaded_at=12.0, plays=[_seen(t, completed=False)]),
    }
    booked = {a: 10.0 for a in results}
    report = build_report(plays=plays, results=results, booked_at=booked, start_at=20.0, mode={"test": 1})
    assert report.plays_booked == 5 and report.manifests_delivered == 4 and report.ready_before_start == 3
    assert report.plays_made == 4 and report.plays_finished_stored == 2 and report.confirmations_stored == 3
    assert report.lost_confirmations == 1 and report.lost_agents == ["a2"]
    assert report.duplicates == 1 and report.duplicate_agents == ["a3"]
    assert not report.ok
    assert report.statuses == {"finished": 2, "missed": 2, "failed": 1}
    assert report.reasons["missed: agent-offline"] == 1
    assert report.start_skew_p99_ms == pytest.approx(8.0)
    assert report.start_spread_ms == pytest.approx(12.0)
    assert report.dispatch_latency_p50_s == pytest.approx(0.2)
    assert any("lost at: a2" in line for line in report.lines())


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0 and percentile(values, 100) == 100.0
    assert percentile([], 50) is None
