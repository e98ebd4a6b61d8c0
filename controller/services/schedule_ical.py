"""A commune's schedule as iCalendar, for officers' phone and desktop calendars.

One event per programme and broadcast day, over the next days, at the programme's slot in the commune's
local time (with its VTIMEZONE). UIDs depend only on the commune, the programme and the date, so a
calendar that subscribes again updates its events instead of duplicating them.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from controller.db.models import AgentGroup, Bulletin, Programme, Village
from controller.scheduling.recurrence import Recurrence, local_instant, parse_hhmm
from controller.schemas import Target
from controller.services.geo import get_commune
from controller.services.programmes import list_programmes

PRODID = "-//loa-xa//Lich phat xa//VI"


def event_uid(commune_code: str, programme_id: int, day: date) -> str:
    """Stable across exports: the same broadcast day of the same programme keeps its UID."""
    return f"programme-{programme_id}-{day:%Y%m%d}@{commune_code}.loa-xa"


def export_ical(session: Session, commune_id: int, now: datetime, days: int = 30) -> bytes:
    """The commune's active programmes from today (local) for `days` days, one VEVENT per programme and day.

    Each event spans its slot; its description lists the bulletin titles in playing order.
    """
    commune = get_commune(session, commune_id)
    zone = commune.timezone
    today = now.astimezone(ZoneInfo(zone)).date()
    last = today + timedelta(days=max(days, 1) - 1)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Lịch phát {commune.name}")
    calendar.add("x-wr-timezone", zone)

    for row in list_programmes(session, [commune_id]):
        recurrence = Recurrence.model_validate_json(row.recurrence)
        titles = [session.get_one(Bulletin, b).title for b in json.loads(row.bulletin_ids)]
        description = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, 1))
        location = _target_vi(session, row)
        at = parse_hhmm(row.slot.start_time)
        for day in recurrence.dates_between(today, last):
            start = local_instant(day, at, zone)
            event = Event()
            event.add("uid", event_uid(commune.code, row.id, day))
            event.add("dtstamp", now)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=row.slot.length_min))
            event.add("summary", row.name)
            event.add("description", description)
            event.add("location", location)
            event.add("categories", [row.slot.name])
            calendar.add_component(event)
    calendar.add_missing_timezones()
    result: bytes = calendar.to_ical()
    return result


def _target_vi(session: Session, row: Programme) -> str:
    target = Target.model_validate_json(row.target)
    if target.whole_commune:
        return "Toàn xã"
    parts = [session.get_one(Village, v).name for v in target.village_ids]
    parts += [f"Nhóm {session.get_one(AgentGroup, g).name}" for g in target.group_ids]
    parts += [f"Cụm {a}" for a in target.agent_ids]
    return ", ".join(parts)
