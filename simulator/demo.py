"""`loa demo`: controller, broker and simulated agents in one process, one bulletin end to end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from common.clock import utcnow
from simulator.fleet import Fleet
from simulator.local import quiet_hours_away_from_now
from simulator.steps import ok as _ok

BULLETINS_DIR = Path(__file__).resolve().parents[1] / "bulletins"
VILLAGES = ("Thôn Đông", "Thôn Tây", "Thôn Nam", "Thôn Bắc")
Out = Callable[[str], None]


def sample_bulletin() -> Path:
    files = sorted(BULLETINS_DIR.glob("*.md"))
    files = [f for f in files if f.name.lower() != "readme.md"]
    if not files:
        raise FileNotFoundError(f"no sample bulletin in {BULLETINS_DIR}")
    return files[0]


def seed_commune(api: httpx.Client, agents: int, prefix: str = "sim") -> tuple[int, list[str]]:
    """Create a province, a commune with four villages, and `agents` clusters. Returns (commune id, agent ids)."""
    province = _ok(api.post("/api/provinces", json={"code": f"{prefix}-p", "name": "Tỉnh Mô Phỏng"}))
    commune = _ok(
        api.post(
            "/api/communes",
            json={"province_id": province["id"], "code": f"{prefix}-x", "name": "Xã Mô Phỏng"},
        )
    )
    quiet = quiet_hours_away_from_now()
    _ok(api.put(f"/api/communes/{commune['id']}/quiet-hours", json={"start": quiet[0], "end": quiet[1]}))
    villages = [
        _ok(api.post("/api/villages", json={"commune_id": commune["id"], "name": name}))["id"] for name in VILLAGES
    ]
    ids = [f"{prefix}-{i:04d}" for i in range(1, agents + 1)]
    for i, agent_id in enumerate(ids):
        body = {"id": agent_id, "commune_id": commune["id"], "village_id": villages[i % len(villages)]}
        _ok(api.post("/api/agents", json=body))
    return commune["id"], ids


async def broadcast_once(
    base_url: str,
    fleet: Fleet,
    *,
    bulletin_id: str,
    commune_id: int,
    lead_s: float,
    timeout_s: float,
    out: Out,
    auth: httpx.Auth | None = None,
) -> dict[str, Any]:
    """Start the fleet, book the bulletin `lead_s` ahead, and wait for every confirmation to be stored."""
    n = len(fleet.agent_ids)
    await fleet.start()
    if not await fleet.wait_for("connected", n, timeout=60):
        raise TimeoutError(f"only {fleet.progress.count('connected')}/{n} agents connected")
    out(f"{n} simulated agents connected.")
    async with httpx.AsyncClient(base_url=base_url, timeout=30, auth=auth) as api:
        starts_at = utcnow() + timedelta(seconds=lead_s)
        schedule = _ok(
            await api.post(
                "/api/schedules",
                json={
                    "bulletin_id": bulletin_id,
                    "commune_id": commune_id,
                    "starts_at": starts_at.isoformat(),
                    "slot_name": "Demo",
                },
            )
        )
        local = starts_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        out(f"Booked schedule {schedule['id']}: {schedule['play_count']} plays at {local:%H:%M:%S} (Asia/Ho_Chi_Minh).")
        deadline = time.monotonic() + timeout_s
        last = ""
        while True:
            plays = _ok(await api.get("/api/plays", params={"schedule_id": schedule["id"]}))
            done = sum(1 for p in plays if p["status"] in ("finished", "failed", "skipped"))
            line = f"  {fleet.progress.line()}  stored={done}/{len(plays)}"
            if line != last:
                out(line)
                last = line
            if done == len(plays):
                return dict(schedule)
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {done}/{len(plays)} plays confirmed after {timeout_s}s")
            await asyncio.sleep(0.5)


LOG_ROWS = 20
"""The demo prints this many broadcast-log rows; the simulator's report covers the rest."""


def print_log_and_report(api: httpx.Client, starts_at: str, out: Out) -> dict[str, Any]:
    """Print the broadcast log around `starts_at` and the quarterly report; return the report."""
    window = {"start": (utcnow() - timedelta(days=1)).isoformat(), "end": (utcnow() + timedelta(days=1)).isoformat()}
    entries = _ok(api.get("/api/reports/broadcast-log", params=window))
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    out("")
    out("Nhật ký phát thanh (broadcast log), giờ Việt Nam:")
    out(f"  {'cụm loa':<12} {'thôn':<10} {'bắt đầu':<9} {'kết thúc':<9} {'phát (s)':>8}  trạng thái")
    for e in entries[:LOG_ROWS]:
        s = _local(e["started_at"], tz)
        f = _local(e["ended_at"], tz)
        d = e["duration_played_s"]
        dur = f"{d:8.1f}" if d is not None else "       -"
        out(f"  {e['agent_id']:<12} {e['village_name'] or '-':<10} {s:<9} {f:<9} {dur}  {e['status']}")
    if len(entries) > LOG_ROWS:
        out(f"  ... and {len(entries) - LOG_ROWS} more entries (the web app's Nhật ký page lists them all)")
    when = datetime.fromisoformat(starts_at).astimezone(tz)
    quarter = (when.month - 1) // 3 + 1
    report = _ok(api.get("/api/reports/quarterly", params={"year": when.year, "quarter": quarter}))
    out("")
    out(f"Báo cáo quý {quarter}/{when.year} (quarterly report), from play confirmations:")
    out(f"  {'xã':<18} {'chuyên đề':<14} {'kế hoạch':>8} {'đã phát':>8} {'phút':>8} {'bản tin':>8}")
    for r in report["rows"][:LOG_ROWS]:
        out(
            f"  {r['commune_name']:<18} {r['topic']:<14} {r['planned_plays']:>8} {r['confirmed_plays']:>8}"
            f" {r['confirmed_minutes']:>8.1f} {r['bulletins_broadcast']:>8}"
        )
    if len(report["rows"]) > LOG_ROWS:
        out(f"  ... and {len(report['rows']) - LOG_ROWS} more rows")
    out(f"  total confirmed plays: {report['total_confirmed_plays']} of {report['total_planned_plays']} planned")
    return dict(report)


def _local(value: str | None, tz: ZoneInfo) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(tz).strftime("%H:%M:%S")


def run_demo(
    *,
    agents: int = 20,
    broker_url: str | None = None,
    speed: float = 30.0,
    data_dir: Path | None = None,
    processes: int | None = None,
    json_path: Path | None = None,
    out: Out = print,
) -> int:
    """Run one sample bulletin end to end. Returns 0 when every play was confirmed and counted once."""
    from simulator.slot import SlotOptions, SlotRun, run_slot, write_json

    quarterly: dict[str, Any] = {}

    def epilogue(api: httpx.Client, run: SlotRun) -> None:
        quarterly.update(print_log_and_report(api, run.schedules[0]["starts_at"], out))

    path = sample_bulletin()
    out(f"loa demo: {agents} simulated agents, one sample bulletin ({path.name}) end to end.")
    opts = SlotOptions(
        agents=agents,
        broker=broker_url or "embedded",
        speed=speed,
        processes=processes,
        bulletin=path,
        data_dir=data_dir,
    )
    run = run_slot(opts, out, epilogue)
    out("")
    out("Simulator report:")
    for line in run.report.lines():
        out(f"  {line}")
    if json_path is not None:
        write_json(run.report, json_path)
    ok = run.report.ok and quarterly.get("total_confirmed_plays") == agents
    out("")
    out(f"Done in {run.wall_s:.0f}s: {'all' if ok else 'NOT all'} {agents} plays confirmed and counted.")
    return 0 if ok else 1
