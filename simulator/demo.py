"""`loa demo`: controller, broker and simulated agents in one process, one bulletin end to end."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr

from controller.app import create_app
from controller.config import Settings
from controller.runtime import Controller
from controller.server import ServerThread
from controller.services.bulletin_files import parse_bulletin_file
from loa.clock import utcnow
from simulator.fleet import Fleet, FleetSpec
from simulator.local import free_port, quiet_hours_away_from_now, throwaway_admin

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


def submit_and_approve(api: httpx.Client, bulletin_id: str, override: str = "") -> dict[str, Any]:
    """Send a rendered bulletin for approval and approve it (the caller must be a leader or an admin).

    `override` is the reason recorded when the audio is outside the 3-5 minute window, as for short test audio.
    """
    _ok(api.post(f"/api/bulletins/{bulletin_id}/submit", json={"duration_override": override}))
    return dict(_ok(api.post(f"/api/bulletins/{bulletin_id}/approve", json={"comment": "Đồng ý phát."})))


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


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


def print_log_and_report(api: httpx.Client, schedule: dict[str, Any], out: Out) -> dict[str, Any]:
    start = schedule["starts_at"]
    day_start = utcnow() - timedelta(days=1)
    entries = _ok(
        api.get(
            "/api/reports/broadcast-log",
            params={"start": day_start.isoformat(), "end": (utcnow() + timedelta(days=1)).isoformat()},
        )
    )
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    out("")
    out("Nhật ký phát thanh (broadcast log), giờ Việt Nam:")
    out(f"  {'cụm loa':<10} {'thôn':<10} {'bắt đầu':<9} {'kết thúc':<9} {'phát (s)':>8}  trạng thái")
    for e in entries:
        s = _local(e["started_at"], tz)
        f = _local(e["ended_at"], tz)
        d = e["duration_played_s"]
        dur = f"{d:8.1f}" if d is not None else "       -"
        out(f"  {e['agent_id']:<10} {e['village_name'] or '-':<10} {s:<9} {f:<9} {dur}  {e['status']}")
    when = datetime.fromisoformat(start).astimezone(tz)
    quarter = (when.month - 1) // 3 + 1
    report = _ok(api.get("/api/reports/quarterly", params={"year": when.year, "quarter": quarter}))
    out("")
    out(f"Báo cáo quý {quarter}/{when.year} (quarterly report), from play confirmations:")
    out(f"  {'xã':<14} {'chuyên đề':<14} {'kế hoạch':>8} {'đã phát':>8} {'phút':>8} {'bản tin':>8}")
    for r in report["rows"]:
        out(
            f"  {r['commune_name']:<14} {r['topic']:<14} {r['planned_plays']:>8} {r['confirmed_plays']:>8}"
            f" {r['confirmed_minutes']:>8.1f} {r['bulletins_broadcast']:>8}"
        )
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
    out: Out = print,
) -> int:
    """Run the whole loop once. Returns 0 when every agent's play was confirmed and counted."""
    workdir = data_dir or Path(tempfile.mkdtemp(prefix="loa-demo-"))
    http_port = free_port()
    run_id = uuid.uuid4().hex[:8]
    admin = throwaway_admin()
    settings = Settings(
        admin_username=admin[0],
        admin_password=SecretStr(admin[1]),
        data_dir=workdir,
        mqtt_url=broker_url,
        embedded_mqtt_port=free_port(),
        http_port=http_port,
        mqtt_client_id=f"loa-demo-{run_id}",
        topic_root=f"demo-{run_id}/loa/v1",
    )
    out(f"loa demo: data in {workdir}")
    t0 = time.monotonic()
    app = create_app(settings)
    controller: Controller = app.state.controller
    server = ServerThread(app, settings.http_host, http_port)
    server.start()
    try:
        broker = broker_url or f"embedded amqtt at {controller.broker_url}"
        out(f"Controller up at {settings.resolved_public_base_url} (OpenAPI: /docs), broker: {broker}, SQLite.")
        base = settings.resolved_public_base_url
        with httpx.Client(base_url=base, timeout=120, auth=admin) as api:
            commune_id, ids = seed_commune(api, agents)
            path = sample_bulletin()
            data = parse_bulletin_file(path)
            bulletin = _ok(api.post("/api/bulletins", json=data.model_dump(mode="json")))
            out(f"Bulletin '{bulletin['title']}' ({path.name}), rendering offline with espeak-ng ...")
            t = time.monotonic()
            asset = _ok(api.post(f"/api/bulletins/{bulletin['id']}/render"))
            submit_and_approve(api, bulletin["id"])
            out("  submitted and approved (the demo's admin login plays the commune leader).")
            out(
                f"  rendered in {time.monotonic() - t:.1f}s: {asset['duration_s']:.0f}s of audio, "
                f"{asset['size_bytes'] / 1024:.0f} KiB MP3, sha256 {asset['sha256'][:12]}..."
            )
            out(
                f"Simulated players run {speed:g}x faster than real time: this bulletin plays in "
                f"{asset['duration_s'] / speed:.1f}s of wall time (the broadcast log shows simulated seconds)."
            )
            fleet = Fleet(
                ids,
                FleetSpec(
                    quiet_hours=quiet_hours_away_from_now(),
                    broker_url=controller.broker_url,
                    public_key=controller.public_key,
                    topic_root=settings.topic_root,
                    media_base_url=base,
                    state_root=workdir / "agents",
                    speed=speed,
                    credentials=controller.embedded_broker.credentials if controller.embedded_broker else None,
                ),
            )

            async def main() -> dict[str, Any]:
                try:
                    return await broadcast_once(
                        base,
                        fleet,
                        bulletin_id=bulletin["id"],
                        commune_id=commune_id,
                        lead_s=5.0,
                        timeout_s=90.0 + asset["duration_s"] / speed,
                        out=out,
                        auth=api.auth,
                    )
                finally:
                    await fleet.stop()

            schedule = asyncio.run(main())
            report = print_log_and_report(api, schedule, out)
        ok = report["total_confirmed_plays"] == agents
        out("")
        out(f"Done in {time.monotonic() - t0:.0f}s: {'all' if ok else 'NOT all'} {agents} plays confirmed and counted.")
        return 0 if ok else 1
    finally:
        server.stop()
