"""The schedule's week view: per slot and day, the bulletins and how many clusters play (and played) them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Agent, Bulletin, Play, Programme, Schedule, Slot
from controller.db.status import PlayStatus

ONE_OFF = "Phát một lần"
"""The slot name of one-off bookings."""


@dataclass
class Cell:
    """What one slot holds on one day: bulletins with their number of clusters."""

    items: dict[str, list[int]] = field(default_factory=dict)
    """title -> [clusters, finished]"""


@dataclass
class Week:
    days: list[date]
    rows: list[tuple[str, str, list[Cell]]]
    """(slot name, start HH:MM, one cell per day)"""


def week_view(session: Session, commune_id: int, monday: date, timezone: str) -> Week:
    tz = ZoneInfo(timezone)
    days = [monday + timedelta(days=i) for i in range(7)]
    start = datetime.combine(monday, time(0), tz)
    end = start + timedelta(days=7)
    stmt = (
        select(Play.starts_at, Play.status, Bulletin.title, Slot.name, Slot.start_time, Schedule.slot_name)
        .join(Agent, Agent.id == Play.agent_id)
        .join(Bulletin, Bulletin.id == Play.bulletin_id)
        .outerjoin(Programme, Programme.id == Play.programme_id)
        .outerjoin(Slot, Slot.id == Programme.slot_id)
        .outerjoin(Schedule, Schedule.id == Play.schedule_id)
        .where(Agent.commune_id == commune_id, Play.starts_at >= start, Play.starts_at < end)
        .where(Play.status != PlayStatus.CANCELLED)
        .order_by(Play.starts_at)
    )
    slot_rows = session.scalars(select(Slot).where(Slot.commune_id == commune_id).order_by(Slot.start_time))
    slots = {s.name: s.start_time for s in slot_rows}
    cells: dict[str, list[Cell]] = {name: [Cell() for _ in days] for name in slots}
    for starts_at, status, title, slot_name, slot_start, booking_slot in session.execute(stmt):
        local = starts_at.astimezone(tz)
        name = slot_name or booking_slot or ONE_OFF
        if name not in slots:
            slots[name] = slot_start or local.strftime("%H:%M")
        row = cells.setdefault(name, [Cell() for _ in days])
        label = title if slot_name else f"{local:%H:%M} {title}"
        counts = row[(local.date() - monday).days].items.setdefault(label, [0, 0])
        counts[0] += 1
        counts[1] += status == PlayStatus.FINISHED
    ordered = sorted(cells, key=lambda n: slots.get(n, "99:99"))
    return Week(days, [(name, slots.get(name, ""), cells[name]) for name in ordered])
