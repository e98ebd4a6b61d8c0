"""One broadcast slot, end to end, on a local controller: what `loa sim` and `loa demo` run.

A real controller (HTTP server, scheduler, bus, SQLite) starts in this process, on a private
Mosquitto, the embedded broker, or a broker URL. The province is registered, one bulletin is
rendered and approved, and a `FleetPool` of real agents connects. Then every commune books the
bulletin for the same instant, the agents fetch, play and confirm, and the run ends when every
play has a final status. The report compares what the agents did with what the database holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from common.clock import utcnow
from controller.app import create_app
from controller.config import Settings
from controller.db.models import Play
from controller.runtime import Controller
from controller.server import ServerThread
from controller.services.bulletin_files import parse_bulletin_file
from edge_agent.config import DEFAULT_LATE_GRACE_S
from simulator.faults import FaultPlan
from simulator.fleet import FleetSpec
from simulator.local import free_port, private_mosquitto, quiet_hours_away_from_now, throwaway_admin
from simulator.pool import AgentResult, FleetPool
from simulator.province import ProvinceLayout, SeededProvince, communes_of, generate_layout, seed_province
from simulator.report import AGENT_FINAL, SimReport, build_report
from simulator.steps import submit_and_approve

Out = Callable[[str], None]
AGENT_LATE_GRACE_S = DEFAULT_LATE_GRACE_S
SHORT_SCRIPT = (
    "Kính thưa bà con. Đây là bản tin thử của hệ thống truyền thanh thông minh. "
    "Đề nghị bà con không cung cấp mã xác thực cho bất kỳ ai gọi điện tự xưng là cơ quan công an."
)
"""Short test audio (about 10 s): the simulator's default, so a 5,000-agent slot costs little bandwidth."""


@dataclass
class SlotOptions:
    agents: int
    layout: ProvinceLayout | None = None
    broker: str = "embedded"
    """"embedded", "mosquitto" (a private one, started here) or an MQTT URL."""
    speed: float = 30.0
    processes: int | None = None
    bulletin: Path | None = None
    """A bulletin file to render; None means short test audio."""
    faults: FaultPlan | None = None
    fault_label: str = "none"
    """How the faults were asked for, for the report."""
    lead_s: float | None = None
    data_dir: Path | None = None
    progress_every_s: float = 1.0
    missed_grace_s: float = 5.0


@dataclass
class SlotRun:
    report: SimReport
    schedules: list[dict[str, Any]]
    plays: list[dict[str, Any]]
    results: dict[str, AgentResult]
    api_base: str
    admin: tuple[str, str]
    wall_s: float
    notes: list[str] = field(default_factory=list)


def default_lead(agents: int, communes: int, audio_bytes: int, embedded: bool) -> float:
    """Seconds between booking and playing: enough to book every commune, deliver every manifest and
    let every agent fetch the audio, at rates measured on a 2-core machine (the embedded broker
    delivers about a third as fast as Mosquitto; the controller serves about 40 MB/s of audio).
    In the field a slot is booked hours ahead."""
    delivery = agents / 100 * (3 if embedded else 1)
    return 10.0 + delivery + communes * 0.05 + agents * audio_bytes / 40e6


@contextlib.contextmanager
def _broker(choice: str) -> Iterator[str | None]:
    if choice == "embedded":
        yield None
    elif choice == "mosquitto":
        with private_mosquitto() as port:
            yield f"mqtt://127.0.0.1:{port}"
    else:
        yield choice


def _broker_label(choice: str, url: str | None) -> str:
    if url is None:
        return "embedded amqtt"
    return "private mosquitto" if choice == "mosquitto" else url


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def _prepare_bulletin(api: httpx.Client, bulletin: Path | None, out: Out) -> dict[str, Any]:
    if bulletin is None:
        data: dict[str, Any] = {
            "title": "Bản tin thử của trình mô phỏng",
            "topic": "an-ninh-mang",
            "body": SHORT_SCRIPT,
            "legal_references": ["Luật An ninh mạng số 24/2018/QH14"],
        }
        override = "Âm thanh thử ngắn cho trình mô phỏng."
    else:
        data = parse_bulletin_file(bulletin).model_dump(mode="json")
        override = ""
    created = _ok(api.post("/api/bulletins", json=data))
    t = time.monotonic()
    asset = _ok(api.post(f"/api/bulletins/{created['id']}/render"))
    submit_and_approve(api, created["id"], override)
    source = bulletin.name if bulletin else "short test audio"
    out(
        f"Bulletin '{created['title']}' ({source}): rendered offline in {time.monotonic() - t:.1f}s, "
        f"{asset['duration_s']:.1f}s of audio, {asset['size_bytes'] / 1024:.0f} KiB; submitted and approved."
    )
    return {**created, "duration_s": asset["duration_s"], "size_bytes": asset["size_bytes"]}


def _plays(controller: Controller, schedule_ids: list[int]) -> list[dict[str, Any]]:
    with controller.session_factory() as session:
        rows = session.scalars(select(Play).where(Play.schedule_id.in_(schedule_ids))).all()
        return [
            {
                "id": p.id,
                "agent_id": p.agent_id,
                "status": p.status,
                "reason": p.reason,
                "starts_at": p.starts_at,
            }
            for p in rows
        ]


async def _wait_or_stall(pool: FleetPool, milestone: str, n: int, timeout: float, stall: float) -> bool:
    """Wait until `n` agents reached `milestone`; give up after `timeout`, or after `stall` seconds without progress."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while (count := pool.progress.count(milestone)) < n:
        now = time.monotonic()
        if count != last:
            last, since = count, now
        if now > deadline or now - since > stall:
            return False
        await pool.wait_for(milestone, n, 0.2)
    return True


async def _run_slot(
    controller: Controller,
    api_base: str,
    admin: tuple[str, str],
    pool: FleetPool,
    seeded: SeededProvince,
    layout: ProvinceLayout,
    bulletin: dict[str, Any],
    opts: SlotOptions,
    out: Out,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, AgentResult], dict[str, float], float]:
    n = len(pool.agent_ids)
    communes = communes_of(layout, seeded)
    t = time.monotonic()
    await pool.start()
    out(f"{n} agents started in {pool.processes} process(es) in {time.monotonic() - t:.1f}s; connecting ...")
    connect_timeout = 60 + n / 20
    # Agents a fault keeps offline never connect: stop waiting once the count stops moving.
    stall = 5.0 if opts.faults else connect_timeout
    for milestone in ("connected", "manifest"):
        if not await _wait_or_stall(pool, milestone, n, connect_timeout, stall):
            out(f"  {pool.progress.count(milestone)}/{n} agents reached '{milestone}'; going on")
    out(f"  {pool.progress.count('connected')}/{n} connected in {time.monotonic() - t:.1f}s.")
    await pool.arm()
    embedded = controller.embedded_broker is not None
    lead = opts.lead_s if opts.lead_s is not None else default_lead(n, len(communes), bulletin["size_bytes"], embedded)
    starts_at = utcnow() + timedelta(seconds=lead)
    start_mono = time.monotonic() + lead
    booked_at: dict[str, float] = {}
    schedules = []
    by_commune = {seeded.commune_ids[c.code]: c.agent_ids() for c in layout.communes}
    async with httpx.AsyncClient(base_url=api_base, timeout=120, auth=admin) as api:
        for commune_id, _ in communes:
            posted = time.monotonic()
            body = {
                "bulletin_id": bulletin["id"],
                "commune_id": commune_id,
                "starts_at": starts_at.isoformat(),
                "slot_name": "Mô phỏng",
            }
            schedules.append(_ok(await api.post("/api/schedules", json=body)))
            booked_at.update((a, posted) for a in by_commune[commune_id])
    out(
        f"Booked {len(schedules)} commune slot(s), {sum(s['play_count'] for s in schedules)} plays, "
        f"{lead:.0f}s ahead; players run {opts.speed:g}x real time."
    )
    schedule_ids = [s["id"] for s in schedules]
    audio_end = lead + bulletin["duration_s"]
    deadline = time.monotonic() + audio_end + AGENT_LATE_GRACE_S + 120 + n / 50
    missed_after = starts_at + timedelta(seconds=bulletin["duration_s"] + opts.missed_grace_s)
    # An agent still plays a late item within its late grace (60 s), and a missed play it confirms
    # becomes finished; after that, a missed play stays missed.
    settled_after = starts_at + timedelta(seconds=AGENT_LATE_GRACE_S + bulletin["duration_s"] / opts.speed + 5)
    last_print = last_missed = 0.0
    while True:
        plays = await asyncio.to_thread(_plays, controller, schedule_ids)
        confirmed = sum(1 for p in plays if p["status"] in AGENT_FINAL)
        missed = sum(1 for p in plays if p["status"] == "missed")
        now = time.monotonic()
        if now - last_print >= opts.progress_every_s or confirmed == len(plays):
            out(f"  {pool.progress.line()}  stored={confirmed}/{len(plays)} missed={missed}")
            last_print = now
        if confirmed == len(plays) or (confirmed + missed == len(plays) and utcnow() > settled_after):
            break
        if now > deadline:
            out(f"  timed out: {confirmed + missed}/{len(plays)} plays have a final status")
            break
        # A play nobody confirms (its agent offline through the slot) becomes missed after the grace
        # period. The scheduler checks once a minute; a simulated slot asks every second.
        if utcnow() > missed_after and now - last_missed >= 1.0:
            await asyncio.to_thread(controller.jobs.mark_missed)
            last_missed = now
        await asyncio.sleep(0.3)
    t = time.monotonic()
    results = await pool.stop()
    out(f"Agents stopped in {time.monotonic() - t:.1f}s.")
    return schedules, await asyncio.to_thread(_plays, controller, schedule_ids), results, booked_at, start_mono


def run_slot(
    opts: SlotOptions,
    out: Out = print,
    epilogue: Callable[[httpx.Client, SlotRun], None] | None = None,
) -> SlotRun:
    """Run one slot on a fresh local controller and return the report (printing progress through `out`).

    `epilogue(api, run)` runs before the controller stops, for output that needs the API.
    """
    t0 = time.monotonic()
    workdir = opts.data_dir or Path(tempfile.mkdtemp(prefix="loa-sim-"))
    layout = opts.layout or generate_layout(opts.agents)
    run_id = uuid.uuid4().hex[:8]
    admin = throwaway_admin()
    with ExitStack() as stack:
        broker_url = stack.enter_context(_broker(opts.broker))
        settings = Settings(
            admin_username=admin[0],
            admin_password=SecretStr(admin[1]),
            data_dir=workdir,
            mqtt_url=broker_url,
            embedded_mqtt_port=free_port(),
            http_port=free_port(),
            mqtt_client_id=f"loa-sim-{run_id}",
            topic_root=f"sim-{run_id}/loa/v1",
            missed_grace_s=opts.missed_grace_s,
        )
        app = create_app(settings)
        controller: Controller = app.state.controller
        server = ServerThread(app, settings.http_host, settings.http_port)
        server.start()
        stack.callback(server.stop)
        base = settings.resolved_public_base_url
        broker_name = broker_url or f"embedded amqtt at {controller.broker_url}"
        out(f"Controller at {base}, broker {broker_name}, SQLite in {workdir}.")
        quiet = quiet_hours_away_from_now()
        t = time.monotonic()
        seeded = seed_province(controller, layout, quiet)
        out(
            f"Registered {len(seeded.agent_ids)} clusters in {len(layout.communes)} commune(s) "
            f"in {time.monotonic() - t:.1f}s."
        )
        with httpx.Client(base_url=base, timeout=300, auth=admin) as api:
            bulletin = _prepare_bulletin(api, opts.bulletin, out)
        embedded = controller.embedded_broker
        spec = FleetSpec(
            broker_url=controller.broker_url,
            public_key=controller.public_key,
            topic_root=settings.topic_root,
            media_base_url=base,
            state_root=workdir / "agents",
            speed=opts.speed,
            credentials=embedded.client_credentials if embedded else None,
            quiet_hours=quiet,
            # Fractions of the whole fleet, not of each worker's slice.
            faults=opts.faults.resolve(seeded.agent_ids) if opts.faults else None,
            warmup_s=1.0,
        )
        # With faults, agents warn at every failed reconnect; the report is what matters then.
        level = logging.ERROR if opts.faults else logging.WARNING
        pool = FleetPool(seeded.agent_ids, spec, processes=opts.processes, worker_log_level=level)
        schedules, plays, results, booked_at, start_mono = asyncio.run(
            _run_slot(controller, base, admin, pool, seeded, layout, bulletin, opts, out)
        )
        mode = {
            "broker": _broker_label(opts.broker, broker_url),
            "processes": pool.processes,
            "player_speed": f"{opts.speed:g}x",
            "audio_s": round(bulletin["duration_s"], 1),
            "audio": opts.bulletin.name if opts.bulletin else "short test audio",
            "faults": opts.fault_label if opts.faults else "none",
        }
        report = build_report(plays=plays, results=results, booked_at=booked_at, start_at=start_mono, mode=mode)
        run = SlotRun(report, schedules, plays, results, base, admin, time.monotonic() - t0)
        if epilogue is not None:
            with httpx.Client(base_url=base, timeout=120, auth=admin) as api:
                epilogue(api, run)
        return run


def write_json(report: SimReport, path: Path) -> None:
    """The report as JSON, to `path` (`-` for standard output)."""
    text = report.to_json()
    if str(path) == "-":
        print(text)
    else:
        path.write_text(text + "\n", encoding="utf-8")
