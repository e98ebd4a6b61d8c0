"""What the dashboard shows: today's programme per slot, plays done/pending/missed, clusters and alerts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin, Play, Programme, Schedule, SecurityEventRecord, Slot
from controller.db.status import PlayStatus
from controller.reports.labels import CLOCK_SKEW_LIMIT_S, DONE, MISSED

ALERTS_PER_KIND = 20
SECURITY_WINDOW = timedelta(hours=24)


@dataclass
class SlotItem:
    """One bulletin at one instant in a slot, over the clusters it targets."""

    bulletin_id: str
    title: str
    starts_at: datetime
    clusters: int = 0
    done: int = 0
    pending: int = 0
    missed: int = 0


@dataclass
class SlotPlan:
    """A slot of today's programme (or the bookings that carry its name)."""

    name: str
    starts_at: datetime
    items: list[SlotItem] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    """Something the officer should look at. `kind`: missed, offline, clock or security."""

    kind: str
    message_vi: str
    agent_id: str | None = None
    at: datetime | None = None


@dataclass
class Overview:
    day: date
    slots: list[SlotPlan]
    done: int
    pending: int
    missed: int
    online: int
    offline: int
    offline_agents: list[Agent]
    alerts: list[Alert]
    alert_counts: Counter[str]


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tz)
    return start, start + timedelta(days=1)


def today_overview(  # noqa: C901 - one pass over today's plays, counted by status
    session: Session,
    now: datetime,
    timezone: str,
    *,
    visible_communes: Collection[int] | None = None,
    commune_id: int | None = None,
) -> Overview:
    """The dashboard's figures for the local day that holds `now`."""
    tz = ZoneInfo(timezone)
    day = now.astimezone(tz).date()
    start, end = day_bounds(day, tz)
    where_agent: list[ColumnElement[bool]] = []
    if visible_communes is not None:
        where_agent.append(Agent.commune_id.in_(list(visible_communes)))
    if commune_id is not None:
        where_agent.append(Agent.commune_id == commune_id)

    stmt = (
        select(Play, Bulletin.title, Slot.name, Slot.start_time, Schedule.slot_name)
        .join(Agent, Agent.id == Play.agent_id)
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .outerjoin(Programme, Programme.id == Play.programme_id)
        .outerjoin(Slot, Slot.id == Programme.slot_id)
        .outerjoin(Schedule, Schedule.id == Play.schedule_id)
        .where(Play.starts_at >= start, Play.starts_at < end, Play.status != PlayStatus.CANCELLED, *where_agent)
        .order_by(Play.starts_at)
    )
    slots: dict[str, SlotPlan] = {}
    items: dict[tuple[str, str, datetime], SlotItem] = {}
    totals: Counter[str] = Counter()
    alerts: list[Alert] = []
    for play, title, slot_name, _slot_start, booking_slot in session.execute(stmt):
        name = slot_name or booking_slot or ("Khẩn cấp" if play.emergency_id else "Ngoài khung giờ")
        plan = slots.setdefault(name, SlotPlan(name, play.starts_at))
        key = (name, play.bulletin_id, play.starts_at)
        item = items.get(key)
        if item is None:
            item = items[key] = SlotItem(play.bulletin_id, title, play.starts_at)
            plan.items.append(item)
        item.clusters += 1
        group = "done" if play.status in DONE else "missed" if play.status in MISSED else "pending"
        setattr(item, group, getattr(item, group) + 1)
        totals[group] += 1
        if group == "missed":
            alerts.append(
                Alert("missed", f"Cụm loa {play.agent_id} không phát “{title}”.", play.agent_id, play.starts_at)
            )

    agents = list(session.scalars(select(Agent).where(*where_agent).order_by(Agent.id)))
    offline = [a for a in agents if a.status != "online"]
    for a in offline:
        seen = f"lần cuối {a.last_seen_at.astimezone(tz):%H:%M %d/%m}" if a.last_seen_at else "chưa từng kết nối"
        alerts.append(Alert("offline", f"Cụm loa {a.name or a.id} mất kết nối ({seen}).", a.id, a.last_seen_at))
    for a in agents:
        if a.clock_offset_s is not None and abs(a.clock_offset_s) > CLOCK_SKEW_LIMIT_S:
            alerts.append(Alert("clock", f"Đồng hồ cụm loa {a.name or a.id} lệch {a.clock_offset_s:+.1f} giây.", a.id))
    ids = [a.id for a in agents]
    if ids:
        events = session.scalars(
            select(SecurityEventRecord)
            .where(SecurityEventRecord.agent_id.in_(ids), SecurityEventRecord.at >= now - SECURITY_WINDOW)
            .order_by(SecurityEventRecord.at.desc())
        )
        for ev in events:
            alerts.append(
                Alert("security", f"Cụm loa {ev.agent_id} đã từ chối một lệnh ({ev.reason}).", ev.agent_id, ev.at)
            )
    counts = Counter(alert.kind for alert in alerts)
    shown: list[Alert] = []
    per_kind: Counter[str] = Counter()
    for alert in alerts:
        per_kind[alert.kind] += 1
        if per_kind[alert.kind] <= ALERTS_PER_KIND:
            shown.append(alert)
    return Overview(
        day=day,
        slots=sorted(slots.values(), key=lambda s: s.starts_at),
        done=totals["done"],
        pending=totals["pending"],
        missed=totals["missed"],
        online=len(agents) - len(offline),
        offline=len(offline),
        offline_agents=offline,
        alerts=shown,
        alert_counts=counts,
    )
