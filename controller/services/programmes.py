"""Slots, programmes and their expansion into concrete plays over a rolling horizon.

A programme is an ordered playlist in a commune's slot, with a recurrence and a target. Expansion turns
every (date, slot, cluster) into a sequence: priority bulletins first, then the rest, back to back from
the slot's start. Play ids are derived from (programme, date, position, cluster), so expanding again,
after a restart or an edit, finds the same plays instead of making new ones.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Agent, AgentGroup, Bulletin, Commune, Play, Programme, Slot
from controller.db.status import PlayStatus
from controller.errors import Conflict, InvalidInput, NotFound
from controller.scheduling.recurrence import Recurrence, local_instant, parse_hhmm, span_touches_quiet_hours
from controller.schemas import (
    GroupCreate,
    IssueKind,
    Origin,
    ProgrammeCheck,
    ProgrammeCreate,
    ProgrammeIssue,
    ProgrammePublic,
    QuietHours,
    SlotCreate,
    Target,
)
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.services.geo import add_unique, get_commune
from protocol.messages import Priority

GAP_S = 2.0
"""Silence between two bulletins in a slot."""
CONFLICT_LOOKAHEAD_DAYS = 366
UNUSUAL_SLOT_MINUTES = 90
ORIGIN_RANK = {Origin.CENTRAL.value: 0, Origin.PROVINCE.value: 1, Origin.COMMUNE.value: 2}
"""Within one priority level, the higher tier's bulletin plays first (the officer has acknowledged the clash)."""
PRIORITY_RANK = {Priority.EMERGENCY.value: 0, Priority.PRIORITY.value: 1, Priority.NORMAL.value: 2}


class ProgrammeRejected(Conflict):
    """Saving was refused: the issues must be fixed, or (conflicts) acknowledged."""

    def __init__(self, issues: list[ProgrammeIssue]) -> None:
        blocking = [i for i in issues if i.kind is not IssueKind.WARNING]
        super().__init__(
            "; ".join(i.message for i in blocking),
            " ".join(i.message_vi for i in blocking),
        )
        self.issues = issues

    def details(self) -> dict[str, object]:
        return {"issues": [i.model_dump(mode="json") for i in self.issues]}


# --- slots, groups, quiet hours -------------------------------------------------------------------


def create_slot(session: Session, data: SlotCreate, actor: Actor) -> Slot:
    require_commune(session, actor, data.commune_id, write=True)
    commune = get_commune(session, data.commune_id)
    start = local_instant(date(2026, 1, 5), parse_hhmm(data.start_time), commune.timezone)
    if span_touches_quiet_hours(start, data.length_min * 60, commune.quiet_start, commune.quiet_end, commune.timezone):
        raise InvalidInput(
            f"slot {data.name} {data.start_time}+{data.length_min}min falls in quiet hours",
            f"Khung giờ {data.name} ({data.start_time}, {data.length_min} phút) rơi vào giờ yên tĩnh "
            f"{commune.quiet_start}–{commune.quiet_end}. Không được phát bản tin thường vào giờ này.",
        )
    row = Slot(**data.model_dump())
    add_unique(session, row, f"slot {data.name}", f"Khung giờ {data.name}")
    audit.record(session, actor, "create", "slot", row.id, commune_id=data.commune_id, detail=data.model_dump_json())
    return row


def list_slots(session: Session, commune_id: int) -> Sequence[Slot]:
    return session.scalars(select(Slot).where(Slot.commune_id == commune_id).order_by(Slot.start_time)).all()


def get_slot(session: Session, slot_id: int) -> Slot:
    row = session.get(Slot, slot_id)
    if row is None:
        raise NotFound(f"slot {slot_id} not found", "Không tìm thấy khung giờ.")
    return row


def create_group(session: Session, data: GroupCreate, actor: Actor) -> AgentGroup:
    require_commune(session, actor, data.commune_id, write=True)
    _agents_in_commune(session, data.commune_id, data.agent_ids)
    row = AgentGroup(commune_id=data.commune_id, name=data.name, agent_ids=json.dumps(sorted(set(data.agent_ids))))
    add_unique(session, row, f"group {data.name}", f"Nhóm {data.name}")
    audit.record(session, actor, "create", "group", row.id, commune_id=data.commune_id, detail=row.agent_ids)
    return row


def set_quiet_hours(session: Session, commune_id: int, data: QuietHours, actor: Actor) -> Commune:
    require_commune(session, actor, commune_id, write=True)
    commune = get_commune(session, commune_id)
    commune.quiet_start, commune.quiet_end = data.start, data.end
    audit.record(
        session, actor, "quiet-hours", "commune", commune_id, commune_id=commune_id, detail=f"{data.start}-{data.end}"
    )
    return commune


# --- targets ---------------------------------------------------------------------------------------


def _agents_in_commune(session: Session, commune_id: int, agent_ids: Iterable[str]) -> list[Agent]:
    wanted = set(agent_ids)
    agents = list(session.scalars(select(Agent).where(Agent.commune_id == commune_id, Agent.id.in_(wanted))))
    missing = sorted(wanted - {a.id for a in agents})
    if missing:
        raise InvalidInput(
            f"agents not in commune {commune_id}: {missing}", f"Các cụm loa sau không thuộc xã: {', '.join(missing)}."
        )
    return agents


def target_agent_ids(session: Session, commune_id: int, target: Target) -> set[str]:
    """The clusters a target reaches: the whole commune, or the union of villages, clusters and groups."""
    if target.whole_commune:
        return set(session.scalars(select(Agent.id).where(Agent.commune_id == commune_id)))
    ids = {a.id for a in _agents_in_commune(session, commune_id, target.agent_ids)}
    if target.village_ids:
        ids |= set(
            session.scalars(
                select(Agent.id).where(Agent.commune_id == commune_id, Agent.village_id.in_(target.village_ids))
            )
        )
    for group_id in target.group_ids:
        group = session.get(AgentGroup, group_id)
        if group is None or group.commune_id != commune_id:
            raise InvalidInput(f"group {group_id} not in commune {commune_id}", "Nhóm cụm loa không thuộc xã này.")
        ids |= set(json.loads(group.agent_ids))
    return ids


# --- checks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """A programme as the checks see it: saved or about to be."""

    id: int | None
    name: str
    slot: Slot
    recurrence: Recurrence
    agents: frozenset[str]
    bulletins: tuple[Bulletin, ...]
    origin: str

    @property
    def seconds(self) -> float:
        return sum(b.audio_asset.duration_s + GAP_S for b in self.bulletins if b.audio_asset is not None)

    @property
    def has_priority(self) -> bool:
        return any(b.priority == Priority.PRIORITY.value for b in self.bulletins)


def _candidate(session: Session, row: Programme) -> _Candidate:
    bulletins = tuple(session.get_one(Bulletin, b) for b in json.loads(row.bulletin_ids))
    target = Target.model_validate_json(row.target)
    return _Candidate(
        id=row.id,
        name=row.name,
        slot=row.slot,
        recurrence=Recurrence.model_validate_json(row.recurrence),
        agents=frozenset(target_agent_ids(session, row.commune_id, target)),
        bulletins=bulletins,
        origin=row.origin,
    )


def check_programme(  # noqa: C901 - one check per TT39 rule, listed in order
    session: Session, data: ProgrammeCreate, now: datetime, *, replacing: int | None = None
) -> ProgrammeCheck:
    """Everything wrong or unusual with a programme, before it is saved. Nothing is written."""
    commune = get_commune(session, data.commune_id)
    slot = get_slot(session, data.slot_id)
    issues: list[ProgrammeIssue] = []
    if slot.commune_id != data.commune_id:
        raise InvalidInput(f"slot {slot.id} is not in commune {data.commune_id}", "Khung giờ không thuộc xã này.")
    bulletins: list[Bulletin] = []
    for bulletin_id in data.bulletin_ids:
        b = session.get(Bulletin, bulletin_id)
        if b is None:
            raise NotFound(f"bulletin {bulletin_id} not found", f"Không tìm thấy bản tin {bulletin_id}.")
        if b.commune_id not in (None, data.commune_id):
            raise InvalidInput(f"bulletin {b.id} belongs to another commune", f"Bản tin {b.id} thuộc xã khác.")
        bulletins.append(b)
        if b.status != "approved":
            issues.append(
                ProgrammeIssue(
                    code=f"unapproved:{b.id}",
                    kind=IssueKind.REFUSAL,
                    message=f"bulletin {b.id} is {b.status}, not approved",
                    message_vi=f"Bản tin '{b.title}' chưa được lãnh đạo duyệt, không thể xếp lịch.",
                )
            )
        if b.priority == Priority.EMERGENCY.value:
            issues.append(
                ProgrammeIssue(
                    code=f"emergency-in-programme:{b.id}",
                    kind=IssueKind.REFUSAL,
                    message=f"bulletin {b.id} is an emergency; use play-now",
                    message_vi=f"Bản tin '{b.title}' là tin khẩn cấp: hãy phát ngay ở trang Khẩn cấp, không xếp lịch.",
                )
            )
    agents = frozenset(target_agent_ids(session, data.commune_id, data.target))
    if not agents:
        raise InvalidInput("the programme reaches no cluster", "Không có cụm loa nào trong phạm vi đã chọn.")
    me = _Candidate(None, data.name, slot, data.recurrence, agents, tuple(bulletins), data.origin.value)

    slot_start = local_instant(date(2026, 1, 5), parse_hhmm(slot.start_time), commune.timezone)
    if span_touches_quiet_hours(
        slot_start, max(me.seconds, slot.length_min * 60), commune.quiet_start, commune.quiet_end, commune.timezone
    ):
        issues.append(
            ProgrammeIssue(
                code="quiet-hours",
                kind=IssueKind.REFUSAL,
                message=f"slot {slot.name} runs into quiet hours {commune.quiet_start}-{commune.quiet_end}",
                message_vi=f"Chương trình kéo dài vào giờ yên tĩnh {commune.quiet_start}–{commune.quiet_end}. "
                "Chỉ tin khẩn cấp được phát trong giờ này.",
            )
        )

    today = now.astimezone(ZoneInfo(commune.timezone)).date()
    horizon_days = [d for d in data.recurrence.dates_between(today, today + timedelta(CONFLICT_LOOKAHEAD_DAYS))]
    if not horizon_days:
        issues.append(
            ProgrammeIssue(
                code="no-dates",
                kind=IssueKind.WARNING,
                message="the recurrence gives no date in the coming year",
                message_vi="Lịch lặp lại không có ngày phát nào trong một năm tới.",
            )
        )
    others = [
        _candidate(session, row)
        for row in session.scalars(
            select(Programme).where(Programme.slot_id == slot.id, Programme.active.is_(True), Programme.id != replacing)
        )
    ]
    shared_days = set(horizon_days)
    sharing = [o for o in others if o.agents & agents and any(o.recurrence.matches(d) for d in shared_days)]
    load: dict[str, float] = defaultdict(float)
    for o in sharing:
        for a in o.agents & agents:
            load[a] += o.seconds
    worst = max((load[a] + me.seconds for a in agents), default=me.seconds)
    if worst > slot.length_min * 60:
        issues.append(
            ProgrammeIssue(
                code="overflow",
                kind=IssueKind.CONFLICT,
                message=f"slot {slot.name} needs {worst / 60:.1f} of {slot.length_min} minutes",
                message_vi=f"Tổng thời lượng trong khung giờ {slot.name} là {worst / 60:.1f} phút, "
                f"vượt quá {slot.length_min} phút. Nếu đồng ý, các bản tin cuối sẽ phát quá giờ.",
            )
        )
    for o in sharing:
        issues.append(
            ProgrammeIssue(
                code=f"overlap:{o.id}",
                kind=IssueKind.CONFLICT,
                message=f"programme {o.id} plays in the same slot on {len(o.agents & agents)} of these clusters",
                message_vi=f"Chương trình '{o.name}' cũng phát trong khung giờ {slot.name} trên "
                f"{len(o.agents & agents)} cụm loa này. Nếu đồng ý, hai chương trình phát nối tiếp nhau "
                "(tin ưu tiên phát trước).",
            )
        )
        if (
            me.has_priority
            and o.has_priority
            and {me.origin, o.origin} >= {Origin.COMMUNE.value}
            and me.origin != o.origin
        ):
            issues.append(
                ProgrammeIssue(
                    code=f"priority-clash:{o.id}",
                    kind=IssueKind.CONFLICT,
                    message=f"priority bulletins of {me.origin} and {o.origin} clash with programme {o.id}",
                    message_vi=f"Tin ưu tiên của {_ORIGIN_VI[me.origin]} trùng với tin ưu tiên của "
                    f"{_ORIGIN_VI[o.origin]} trong '{o.name}'. Cán bộ xã quyết định thứ tự: xác nhận để phát "
                    "tin cấp trên trước.",
                )
            )
    issues += _sanity_warnings(session, commune, slot, data.recurrence, horizon_days, now)
    plays = sum(1 for d in horizon_days if d <= today + timedelta(3)) * len(agents) * len(bulletins)
    return ProgrammeCheck(issues=issues, plays_in_horizon=plays, clusters=len(agents))


_ORIGIN_VI = {"commune": "xã", "province": "tỉnh", "central": "trung ương"}


def _sanity_warnings(
    session: Session, commune: Commune, slot: Slot, recurrence: Recurrence, days: list[date], now: datetime
) -> list[ProgrammeIssue]:
    warnings = []
    zone = ZoneInfo(commune.timezone)
    since = now - timedelta(days=60)
    history = list(
        session.scalars(
            select(Play.starts_at)
            .join(Agent, Agent.id == Play.agent_id)
            .where(Agent.commune_id == commune.id, Play.starts_at >= since, Play.starts_at < now)
            .limit(5000)
        )
    )
    start = parse_hhmm(slot.start_time)
    minutes = start.hour * 60 + start.minute
    usual = {t.astimezone(zone).hour * 60 + t.astimezone(zone).minute for t in history}
    usual |= {
        parse_hhmm(s.start_time).hour * 60 + parse_hhmm(s.start_time).minute
        for s in session.scalars(select(Slot).where(Slot.commune_id == commune.id, Slot.id != slot.id))
    }
    if usual and min(abs(minutes - u) for u in usual) > UNUSUAL_SLOT_MINUTES:
        warnings.append(
            ProgrammeIssue(
                code="unusual-time",
                kind=IssueKind.WARNING,
                message=f"{slot.start_time} is far from this commune's usual broadcast times",
                message_vi=f"Giờ phát {slot.start_time} khác xa các giờ phát thường lệ của xã. Hãy kiểm tra lại.",
            )
        )
    weekend = any(d.weekday() >= 5 for d in days)
    if weekend:
        earlier = session.scalars(
            select(Play.starts_at).join(Agent, Agent.id == Play.agent_id).where(Agent.commune_id == commune.id)
        )
        if not any(t.astimezone(zone).weekday() >= 5 for t in earlier):
            warnings.append(
                ProgrammeIssue(
                    code="first-weekend",
                    kind=IssueKind.WARNING,
                    message="first weekend broadcast for this commune",
                    message_vi="Đây là lần đầu xã phát vào cuối tuần. "
                    "Thông thường chỉ phát cuối tuần khi có việc đặc biệt.",
                )
            )
    return warnings


# --- saving ----------------------------------------------------------------------------------------


def _require_resolved(check: ProgrammeCheck, acknowledged: list[str]) -> None:
    unresolved = [
        i
        for i in check.issues
        if i.kind is IssueKind.REFUSAL or (i.kind is IssueKind.CONFLICT and i.code not in acknowledged)
    ]
    if unresolved:
        raise ProgrammeRejected(check.issues)


def create_programme(
    session: Session, data: ProgrammeCreate, actor: Actor, now: datetime, horizon: timedelta
) -> tuple[Programme, set[str]]:
    """Check, save and expand. Returns the programme and the clusters whose manifests changed."""
    require_commune(session, actor, data.commune_id, write=True)
    check = check_programme(session, data, now)
    _require_resolved(check, data.acknowledged)
    row = Programme(created_by=actor.username)
    _fill(row, data)
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "create", "programme", row.id, commune_id=data.commune_id, detail=_audit_detail(data, check)
    )
    return row, expand(session, now, horizon, programme_ids=[row.id])


def update_programme(
    session: Session, programme_id: int, data: ProgrammeCreate, actor: Actor, now: datetime, horizon: timedelta
) -> tuple[Programme, set[str]]:
    row = get_programme(session, programme_id)
    require_commune(session, actor, row.commune_id, write=True)
    if data.commune_id != row.commune_id:
        raise InvalidInput("a programme cannot move to another commune", "Không thể chuyển chương trình sang xã khác.")
    check = check_programme(session, data, now, replacing=row.id)
    _require_resolved(check, data.acknowledged)
    _fill(row, data)
    session.flush()
    audit.record(
        session, actor, "edit", "programme", row.id, commune_id=row.commune_id, detail=_audit_detail(data, check)
    )
    return row, expand(session, now, horizon, programme_ids=[row.id])


def cancel_programme(session: Session, programme_id: int, actor: Actor, now: datetime) -> set[str]:
    """Stop a programme: its future plays are cancelled and leave the manifests."""
    row = get_programme(session, programme_id)
    require_commune(session, actor, row.commune_id, write=True)
    row.active = False
    audit.record(session, actor, "cancel", "programme", row.id, commune_id=row.commune_id)
    return _cancel_future(session, row.id, now, keep=set())


def _audit_detail(data: ProgrammeCreate, check: ProgrammeCheck) -> str:
    accepted = [i.code for i in check.issues if i.kind is IssueKind.CONFLICT]
    return json.dumps({"bulletins": data.bulletin_ids, "slot": data.slot_id, "accepted": accepted}, ensure_ascii=False)


def _fill(row: Programme, data: ProgrammeCreate) -> None:
    row.commune_id = data.commune_id
    row.slot_id = data.slot_id
    row.name = data.name
    row.origin = data.origin.value
    row.bulletin_ids = json.dumps(data.bulletin_ids)
    row.recurrence = data.recurrence.model_dump_json()
    row.target = data.target.model_dump_json()
    row.active = True


def get_programme(session: Session, programme_id: int) -> Programme:
    row = session.get(Programme, programme_id)
    if row is None:
        raise NotFound(f"programme {programme_id} not found", "Không tìm thấy chương trình.")
    return row


def list_programmes(session: Session, commune_ids: list[int] | None) -> Sequence[Programme]:
    stmt = select(Programme).where(Programme.active.is_(True)).order_by(Programme.commune_id, Programme.id)
    if commune_ids is not None:
        stmt = stmt.where(Programme.commune_id.in_(commune_ids))
    return session.scalars(stmt).all()


def programme_public(row: Programme) -> ProgrammePublic:
    recurrence = Recurrence.model_validate_json(row.recurrence)
    return ProgrammePublic(
        id=row.id,
        commune_id=row.commune_id,
        slot_id=row.slot_id,
        slot_name=row.slot.name,
        name=row.name,
        bulletin_ids=json.loads(row.bulletin_ids),
        recurrence=recurrence,
        recurrence_vi=recurrence.describe_vi(),
        target=Target.model_validate_json(row.target),
        origin=Origin(row.origin),
        active=row.active,
        created_by=row.created_by,
    )


# --- expansion -------------------------------------------------------------------------------------


def play_id(programme_id: int, day: date, position: int, bulletin_id: str, agent_id: str) -> str:
    """Deterministic: the same occurrence always has the same id, across restarts and re-expansions.

    The bulletin is part of it, so replacing an item in a programme cancels the old play and makes a new one.
    """
    key = f"programme:{programme_id}|{day.isoformat()}|{position}|{bulletin_id}|{agent_id}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def expand(  # noqa: C901 - one branch per recurrence kind, as in schedule files
    session: Session, now: datetime, horizon: timedelta, *, programme_ids: Iterable[int] | None = None
) -> set[str]:
    """Make the plays of active programmes from now to now + horizon exist, and no others.

    Idempotent. Returns the clusters whose plays were added, moved or cancelled. Expansion is per slot
    and day, so when `programme_ids` is given, every programme sharing their slots is expanded too
    (their order within the slot may change).
    """
    stmt = select(Programme).where(Programme.active.is_(True))
    if programme_ids is not None:
        slots = set(session.scalars(select(Programme.slot_id).where(Programme.id.in_(list(programme_ids)))))
        stmt = stmt.where(Programme.slot_id.in_(slots))
    programmes = [_candidate(session, row) for row in session.scalars(stmt)]
    by_slot: dict[int, list[_Candidate]] = defaultdict(list)
    for p in programmes:
        by_slot[p.slot.id].append(p)

    wanted: dict[str, tuple[_Candidate, date, int, str, Bulletin, datetime, datetime]] = {}
    for slot_programmes in by_slot.values():
        slot = slot_programmes[0].slot
        commune = session.get_one(Commune, slot.commune_id)
        zone = ZoneInfo(commune.timezone)
        first = (now - timedelta(days=1)).astimezone(zone).date()
        last = (now + horizon).astimezone(zone).date()
        for day in (first + timedelta(n) for n in range((last - first).days + 1)):
            start = local_instant(day, parse_hhmm(slot.start_time), commune.timezone)
            slot_end = start + timedelta(minutes=slot.length_min)
            queues: dict[str, list[tuple[tuple[int, int, int, int], _Candidate, int, Bulletin]]] = defaultdict(list)
            for p in slot_programmes:
                if not p.recurrence.matches(day):
                    continue
                for position, b in enumerate(p.bulletins):
                    for agent in p.agents:
                        rank = (PRIORITY_RANK.get(b.priority, 2), ORIGIN_RANK.get(p.origin, 2), p.id or 0, position)
                        queues[agent].append((rank, p, position, b))
            for agent, items in queues.items():
                offset = 0.0
                for _, p, position, b in sorted(items, key=lambda item: item[0]):
                    at = start + timedelta(seconds=offset)
                    offset += (b.audio_asset.duration_s if b.audio_asset else 0.0) + GAP_S
                    if not now < at <= now + horizon:
                        continue
                    assert p.id is not None
                    wanted[play_id(p.id, day, position, b.id, agent)] = (p, day, position, agent, b, at, slot_end)

    changed: set[str] = set()
    existing = (
        {play.id: play for play in session.scalars(select(Play).where(Play.id.in_(list(wanted))))} if wanted else {}
    )
    for pid, (p, _day, _position, agent, b, at, slot_end) in wanted.items():
        play = existing.get(pid)
        if play is None:
            assert p.id is not None and b.audio_asset_id is not None
            session.add(
                Play(
                    id=pid,
                    programme_id=p.id,
                    agent_id=agent,
                    bulletin_id=b.id,
                    audio_asset_id=b.audio_asset_id,
                    starts_at=at,
                    slot_end=slot_end,
                    priority=b.priority,
                    status=PlayStatus.PLANNED if b.status == "approved" else PlayStatus.HELD,
                )
            )
            changed.add(agent)
        elif play.status in (PlayStatus.PLANNED, PlayStatus.HELD, PlayStatus.CANCELLED) and (
            play.starts_at != at or play.status == PlayStatus.CANCELLED
        ):
            play.starts_at, play.slot_end = at, slot_end
            if play.status == PlayStatus.CANCELLED:
                play.status = PlayStatus.PLANNED if b.status == "approved" else PlayStatus.HELD
            changed.add(agent)
    ids = {p.id for p in programmes if p.id is not None}
    if programme_ids is not None:
        ids |= set(programme_ids)
    for programme in ids:
        changed |= _cancel_future(session, programme, now, keep=set(wanted))
    session.flush()
    return changed


def _cancel_future(session: Session, programme_id: int, now: datetime, keep: set[str]) -> set[str]:
    stale = session.scalars(
        select(Play).where(
            Play.programme_id == programme_id,
            Play.starts_at > now,
            Play.status.in_((PlayStatus.PLANNED, PlayStatus.HELD)),
        )
    )
    changed = set()
    for play in stale:
        if play.id not in keep:
            play.status = PlayStatus.CANCELLED
            changed.add(play.agent_id)
    return changed
