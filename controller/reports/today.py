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
from controller.db.status import REFUSED_BY_CONTROLLER, PlayStatus
from controller.reports.labels import CLOCK_SKEW_LIMIT_S, DONE, MISSED, REPORT_REFUSALS_VI, reject_reason_vi
from controller.reports.sequences import missing_confirmations

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
    """Something the officer should look at. `kind`: missed, offline, clock or security.

    One event over many clusters is one alert: `clusters` names them (a single cluster is in the message).
    """

    kind: str
    message_vi: str
    agent_id: str | None = None
    at: datetime | None = None
    clusters: tuple[str, ...] = ()


NAMES_SHOWN = 8


def cluster_vi(name: str) -> str:
    """A cluster as a sentence names it: "Cụm loa Ngã ba chợ", but "Cụm 4 Thôn Hai" as it is."""
    return name if name.casefold().startswith("cụm") else f"Cụm loa {name}"


def _grouped(kind: str, names: list[str], what: str, at: datetime | None) -> Alert:
    """One alert for an event over several clusters, by name: "12 cụm loa đã từ chối lệnh vì giờ yên tĩnh"."""
    if len(names) == 1:
        return Alert(kind, f"{cluster_vi(names[0])} {what}.", None, at)
    return Alert(kind, f"{len(names)} cụm loa {what}.", None, at, tuple(names))


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
    missed_by: dict[tuple[str, datetime], list[str]] = {}
    for play, title, slot_name, _slot_start, booking_slot in session.execute(stmt):
        if play.status == PlayStatus.SKIPPED and (play.reason or "").startswith("stopped"):
            continue  # stopped on purpose (stop-all, the cluster's stop button): not a missed play
        if play.stale_schedule:  # it sounded, but from a schedule since held or cancelled: never counted as done
            alerts.append(
                Alert(
                    "security", f"Cụm loa {play.agent_id} phát theo lịch cũ “{title}”.", play.agent_id, play.starts_at
                )
            )
            continue
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
            missed_by.setdefault((title, play.starts_at), []).append(play.agent_id)

    agents = list(session.scalars(select(Agent).where(*where_agent).order_by(Agent.id)))
    names = {a.id: a.name or a.id for a in agents}
    for (title, starts_at), agent_ids in missed_by.items():
        alerts.append(_grouped("missed", [names.get(i, i) for i in agent_ids], f"không phát “{title}”", starts_at))
    offline = [a for a in agents if a.status != "online"]
    if len(offline) == 1:
        a = offline[0]
        seen = f"lần cuối {a.last_seen_at.astimezone(tz):%H:%M %d/%m}" if a.last_seen_at else "chưa từng kết nối"
        alerts.append(Alert("offline", f"{cluster_vi(names[a.id])} mất kết nối ({seen}).", a.id, a.last_seen_at))
    elif offline:
        last = max((a.last_seen_at for a in offline if a.last_seen_at), default=None)
        alerts.append(_grouped("offline", [names[a.id] for a in offline], "mất kết nối", last))
    for a in agents:
        if a.clock_offset_s is not None and abs(a.clock_offset_s) > CLOCK_SKEW_LIMIT_S:
            alerts.append(Alert("clock", f"Đồng hồ cụm loa {names[a.id]} lệch {a.clock_offset_s:+.1f} giây.", a.id))
    ids = [a.id for a in agents]
    if ids:
        events = session.scalars(
            select(SecurityEventRecord)
            .where(SecurityEventRecord.agent_id.in_(ids), SecurityEventRecord.at >= now - SECURITY_WINDOW)
            .order_by(SecurityEventRecord.at.desc())
        )
        refused: dict[tuple[bool, str], tuple[dict[str, None], datetime]] = {}
        for ev in events:  # newest first: one alert per kind of refusal, dated by its latest
            by_controller = ev.topic.startswith(REFUSED_BY_CONTROLLER) and ev.reason in REPORT_REFUSALS_VI
            who, _ = refused.setdefault((by_controller, ev.reason), ({}, ev.at))
            who[names.get(ev.agent_id, ev.agent_id)] = None
        for (by_controller, reason), (who, at) in refused.items():
            what = (
                f"có báo cáo bị từ chối ({REPORT_REFUSALS_VI[reason]})"
                if by_controller
                else f"đã từ chối lệnh {reject_reason_vi(reason)}"
            )
            alerts.append(_grouped("security", list(who), what, at))
        for agent_id, seqs in missing_confirmations(session, ids).items():
            shown_seqs = ", ".join(str(n) for n in seqs[:5]) + (", …" if len(seqs) > 5 else "")
            alerts.append(
                Alert(
                    "security",
                    f"{cluster_vi(names.get(agent_id, agent_id))} thiếu {len(seqs)} xác nhận phát"
                    f" (số thứ tự {shown_seqs}).",
                    agent_id,
                )
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
