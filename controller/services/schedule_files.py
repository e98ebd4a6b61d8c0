"""Schedule files: a commune's slots, groups and programmes as one YAML file, imported and exported.

A file names things the way an officer does (village names, group names, slot names, programme names)
and never database ids, so the same file reads the same in any controller. Importing goes through the
programme service, exactly as the API does: approval, quiet hours and conflict checks apply to files too,
and a conflict with another programme is acknowledged by that programme's name (`overlap:Tin chiều`).
See schedules/README.md for the format.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import AgentGroup, AuditEvent, Commune, Programme, Slot, Village
from controller.errors import ControllerError, InvalidInput
from controller.scheduling.recurrence import Recurrence
from controller.schemas import HHMM, GroupCreate, IssueKind, Origin, ProgrammeCreate, QuietHours, SlotCreate, Target
from controller.services.access import Actor, require_commune
from controller.services.geo import get_commune
from controller.services.programmes import (
    check_programme,
    create_group,
    create_programme,
    create_slot,
    list_programmes,
    set_quiet_hours,
    update_programme,
)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
NAMED_CONFLICTS = ("overlap", "priority-clash")
"""Conflict codes that point at another programme: `overlap:<id>` in the service, `overlap:<name>` in files."""
PLAIN_CONFLICTS = ("overflow",)


# --- the file format -------------------------------------------------------------------------------


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Name = Annotated[str, Field(min_length=1, max_length=200)]


class SlotEntry(_FileModel):
    """A daily session: `{name: Sáng, start: "05:30", length_min: 30}`."""

    name: str = Field(min_length=1, max_length=80)
    start: HHMM
    length_min: int = Field(ge=1, le=240)


class GroupEntry(_FileModel):
    """A named set of clusters."""

    name: str = Field(min_length=1, max_length=120)
    clusters: list[str] = Field(min_length=1)


class TargetEntry(_FileModel):
    """Where a programme plays, by names. All empty (or absent) means the whole commune."""

    villages: list[Name] = Field(default_factory=list)
    clusters: list[str] = Field(default_factory=list)
    groups: list[Name] = Field(default_factory=list)


class ProgrammeEntry(_FileModel):
    """An ordered playlist in a slot, with a recurrence, a target and the conflicts the officer accepts."""

    name: Name
    slot: str = Field(min_length=1, max_length=80)
    bulletins: list[str] = Field(min_length=1, max_length=50)
    recurrence: Recurrence = Field(default_factory=Recurrence)
    target: TargetEntry = Field(default_factory=TargetEntry)
    origin: Origin = Origin.COMMUNE
    acknowledged: list[str] = Field(default_factory=list)

    @field_validator("acknowledged")
    @classmethod
    def _known_codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            kind, sep, other = code.partition(":")
            if not ((kind in PLAIN_CONFLICTS and not sep) or (kind in NAMED_CONFLICTS and other.strip())):
                raise ValueError(
                    f"mã xung đột '{code}' không hợp lệ; dùng overflow, overlap:<tên chương trình> "
                    "hoặc priority-clash:<tên chương trình>"
                )
        return codes


class QuietHoursEntry(_FileModel):
    start: HHMM
    end: HHMM


class ScheduleFile(_FileModel):
    """One commune's schedule, as it is written in `schedules/*.yaml`."""

    version: int = Field(default=FORMAT_VERSION, ge=FORMAT_VERSION, le=FORMAT_VERSION)
    commune: str = Field(min_length=1, max_length=32)
    quiet_hours: QuietHoursEntry | None = None
    slots: list[SlotEntry] = Field(default_factory=list)
    groups: list[GroupEntry] = Field(default_factory=list)
    programmes: list[ProgrammeEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> ScheduleFile:
        for what, names in (
            ("khung giờ", [s.name for s in self.slots]),
            ("nhóm", [g.name for g in self.groups]),
            ("chương trình", [p.name for p in self.programmes]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"có hai {what} cùng tên '{name}'")
                seen.add(name)
        return self


# --- parsing ---------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML without sexagesimal integers (`05:30` stays "05:30", not 330) and without implicit dates,
    so a date such as 2026-02-30 is reported by the schema, with its field, instead of failing the parser."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*))$"),
    list("-+0123456789"),
)


class _Dumper(yaml.SafeDumper):
    """Writes times always quoted ("05:30") and short lists of plain values on one line."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '"' if re.fullmatch(r"\d\d:\d\d", value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flow = all(isinstance(v, str | int | date) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)

_ERROR_VI = {
    "missing": "bị thiếu",
    "extra_forbidden": "không được hỗ trợ (kiểm tra lại tên trường)",
    "string_type": "phải là chữ",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "list_type": "phải là một danh sách",
    "tuple_type": "phải là một danh sách",
    "dict_type": "phải là một bảng (tên: giá trị)",
    "model_type": "phải là một bảng (tên: giá trị)",
    "date_type": "phải là ngày dạng NNNN-TT-NN, ví dụ 2026-09-02",
    "date_parsing": "phải là ngày dạng NNNN-TT-NN, ví dụ 2026-09-02",
    "date_from_datetime_parsing": "phải là ngày dạng NNNN-TT-NN, ví dụ 2026-09-02",
    "enum": "không nằm trong các giá trị cho phép",
    "string_too_short": "không được để trống",
    "too_short": "không được để trống",
    "too_long": "quá dài",
    "string_too_long": "quá dài",
    "greater_than_equal": "quá nhỏ",
    "less_than_equal": "quá lớn",
}


def _describe(err: ErrorDetails, data: object) -> tuple[str, str]:
    """An English and a Vietnamese sentence naming the field, e.g. `programmes[2] 'Tin sáng'.slot`."""
    loc = list(err["loc"])
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            name = node[item].get("name") if isinstance(node, list) and isinstance(node[item], dict) else None
            parts[-1] += f"[{item + 1}]" + (f" '{name}'" if name else "")
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    field = ".".join(parts)
    if err["type"] == "value_error":
        reason = str(err["ctx"].get("error", err["msg"])) if "ctx" in err else err["msg"]
    elif err["type"] == "string_pattern_mismatch" and loc and loc[-1] in ("start", "end"):
        reason = 'phải là giờ dạng GG:PP trong ngoặc kép, ví dụ "05:30"'
    elif err["type"] == "string_pattern_mismatch":
        reason = "không đúng dạng"
    else:
        reason = _ERROR_VI.get(err["type"], "không hợp lệ")
    if not field:
        return err["msg"], reason
    return f"field {field}: {err['msg']}", f"trường {field} {reason}"


def parse_schedule_text(text: str, name: str = "lịch") -> ScheduleFile:
    """Read and validate a schedule file's text. Raises InvalidInput naming the faulty field in Vietnamese."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (dòng {mark.line + 1})" if mark is not None else ""
        raise InvalidInput(f"{name}: not valid YAML: {exc}", f"Tệp {name} không đúng cú pháp YAML{where}.") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{name}: not a mapping", f"Tệp {name} phải là một bảng bắt đầu bằng 'commune:'.")
    try:
        return ScheduleFile.model_validate(data)
    except ValidationError as exc:
        errors = [_describe(err, data) for err in exc.errors()[:5]]
        raise InvalidInput(
            f"{name}: " + "; ".join(en for en, _ in errors),
            f"Tệp {name}: " + "; ".join(vi for _, vi in errors) + ".",
        ) from None


def read_schedule(path_or_text: Path | str) -> tuple[ScheduleFile, str]:
    """A `Path` is read as a file; a `str` is the file's text. Returns the schedule and a name for messages."""
    if isinstance(path_or_text, Path):
        try:
            text = path_or_text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"cannot read {path_or_text}: {exc}", f"Không đọc được tệp {path_or_text.name}."
            ) from None
        return parse_schedule_text(text, path_or_text.name), path_or_text.name
    return parse_schedule_text(path_or_text), "lịch"


# --- import ----------------------------------------------------------------------------------------


class ScheduleImportReport(BaseModel):
    """What an import did: programmes created, updated or unchanged, and whose manifests changed.

    Programmes of the commune that the file does not mention are left as they are and listed in `untouched`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    commune_id: int
    commune_code: str
    quiet_hours_changed: bool = False
    slots_created: list[str] = Field(default_factory=list)
    groups_created: list[str] = Field(default_factory=list)
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    untouched: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    """Sanity warnings (unusual time, first weekend broadcast) in Vietnamese, prefixed by the programme."""
    changed_agents: list[str] = Field(default_factory=list)


@contextmanager
def _about(what_en: str, what_vi: str) -> Iterator[None]:
    """Prefix any controller error raised inside with the file entry it came from, keeping its type."""
    try:
        yield
    except ControllerError as exc:
        exc.message_vi = f"{what_vi}: {exc.message_vi}"
        exc.args = (f"{what_en}: {exc}",)
        raise


def import_schedule(  # noqa: C901 - validates each field of the file in turn
    session: Session,
    path_or_text: Path | str,
    actor: Actor,
    now: datetime,
    horizon: timedelta,
    *,
    commune_id: int | None = None,
) -> ScheduleImportReport:
    """Apply a schedule file to its commune, in the caller's transaction; any error leaves nothing written.

    Quiet hours are set, missing slots and groups are created, and each programme is created or updated
    (matched by name among the commune's active programmes) through `create_programme`/`update_programme`,
    in file order. A slot or group that exists with other settings is refused, not changed.
    With `commune_id`, a file for another commune is refused.
    """
    schedule, name = read_schedule(path_or_text)
    commune = session.scalar(select(Commune).where(Commune.code == schedule.commune))
    if commune is None:
        raise InvalidInput(
            f"{name}: unknown commune {schedule.commune}", f"Tệp {name}: không có xã mã {schedule.commune}."
        )
    if commune_id is not None and commune.id != commune_id:
        raise InvalidInput(
            f"{name} is for commune {schedule.commune}, not {commune_id}",
            f"Tệp {name} là lịch của xã mã {schedule.commune}, không phải xã đang chọn.",
        )
    require_commune(session, actor, commune.id, write=True)

    quiet_changed = False
    if schedule.quiet_hours and (schedule.quiet_hours.start, schedule.quiet_hours.end) != (
        commune.quiet_start,
        commune.quiet_end,
    ):
        set_quiet_hours(
            session, commune.id, QuietHours(start=schedule.quiet_hours.start, end=schedule.quiet_hours.end), actor
        )
        quiet_changed = True

    slots = {s.name: s for s in session.scalars(select(Slot).where(Slot.commune_id == commune.id))}
    slots_created = []
    for slot in schedule.slots:
        with _about(f"slot {slot.name!r}", f"Khung giờ '{slot.name}'"):
            existing = slots.get(slot.name)
            if existing is None:
                slot_data = SlotCreate(
                    commune_id=commune.id, name=slot.name, start_time=slot.start, length_min=slot.length_min
                )
                slots[slot.name] = create_slot(session, slot_data, actor)
                slots_created.append(slot.name)
            elif (existing.start_time, existing.length_min) != (slot.start, slot.length_min):
                raise InvalidInput(
                    f"exists as {existing.start_time}+{existing.length_min}min; the file says "
                    f"{slot.start}+{slot.length_min}min",
                    f"đã có, bắt đầu {existing.start_time} dài {existing.length_min} phút, khác với tệp "
                    f"({slot.start}, {slot.length_min} phút). Tệp không sửa khung giờ đã có: hãy đổi tên "
                    "khung giờ trong tệp, hoặc sửa tệp cho khớp.",
                )

    groups = {g.name: g for g in session.scalars(select(AgentGroup).where(AgentGroup.commune_id == commune.id))}
    groups_created = []
    for group in schedule.groups:
        with _about(f"group {group.name!r}", f"Nhóm '{group.name}'"):
            existing_group = groups.get(group.name)
            if existing_group is None:
                groups[group.name] = create_group(
                    session, GroupCreate(commune_id=commune.id, name=group.name, agent_ids=group.clusters), actor
                )
                groups_created.append(group.name)
            elif sorted(json.loads(existing_group.agent_ids)) != sorted(set(group.clusters)):
                raise InvalidInput(
                    "exists with other clusters",
                    f"đã có với các cụm loa {', '.join(json.loads(existing_group.agent_ids))}, khác với tệp. "
                    "Tệp không sửa nhóm đã có: hãy đặt tên nhóm khác, hoặc sửa tệp cho khớp.",
                )

    villages = {v.name: v.id for v in session.scalars(select(Village).where(Village.commune_id == commune.id))}
    rows = list(list_programmes(session, [commune.id]))
    active = {p.name: p for p in rows}
    mentioned = {p.name for p in schedule.programmes}
    ambiguous = sorted(n for n in mentioned if sum(1 for r in rows if r.name == n) > 1)
    if ambiguous:
        raise InvalidInput(
            f"{name}: several active programmes are named {ambiguous}",
            f"Tệp {name}: xã có nhiều chương trình cùng tên {', '.join(ambiguous)}, không biết sửa chương trình nào. "
            "Hãy đổi tên cho khác nhau trước.",
        )
    report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "warnings": []}
    changed_agents: set[str] = set()
    for entry in schedule.programmes:
        with _about(f"programme {entry.name!r}", f"Chương trình '{entry.name}'"):
            data = _programme_create(entry, commune.id, slots, groups, villages, active)
            row = active.get(entry.name)
            if row is not None and _same(row, data):
                report["unchanged"].append(entry.name)
                continue
            check = check_programme(session, data, now, replacing=row.id if row is not None else None)
            report["warnings"] += [f"{entry.name}: {i.message_vi}" for i in check.issues if i.kind is IssueKind.WARNING]
            if row is None:
                row, changed = create_programme(session, data, actor, now, horizon)
                active[entry.name] = row
                report["created"].append(entry.name)
            else:
                row, changed = update_programme(session, row.id, data, actor, now, horizon)
                report["updated"].append(entry.name)
            changed_agents |= changed
    log.info(
        "schedule %s for commune %s: %d created, %d updated, %d unchanged, %d clusters changed",
        name,
        commune.code,
        len(report["created"]),
        len(report["updated"]),
        len(report["unchanged"]),
        len(changed_agents),
    )
    return ScheduleImportReport(
        commune_id=commune.id,
        commune_code=commune.code,
        quiet_hours_changed=quiet_changed,
        slots_created=slots_created,
        groups_created=groups_created,
        untouched=sorted(set(active) - mentioned),
        changed_agents=sorted(changed_agents),
        **report,
    )


def _programme_create(
    entry: ProgrammeEntry,
    commune_id: int,
    slots: dict[str, Slot],
    groups: dict[str, AgentGroup],
    villages: dict[str, int],
    active: dict[str, Programme],
) -> ProgrammeCreate:
    """The file entry in service terms: names become ids; `overlap:<name>` becomes `overlap:<id>`."""
    slot = slots.get(entry.slot)
    if slot is None:
        raise InvalidInput(
            f"unknown slot {entry.slot!r}",
            f"không có khung giờ '{entry.slot}'. Hãy khai báo nó trong mục slots của tệp.",
        )
    unknown_villages = [v for v in entry.target.villages if v not in villages]
    if unknown_villages:
        raise InvalidInput(
            f"unknown villages {unknown_villages}", f"xã không có thôn {', '.join(repr(v) for v in unknown_villages)}."
        )
    unknown_groups = [g for g in entry.target.groups if g not in groups]
    if unknown_groups:
        raise InvalidInput(
            f"unknown groups {unknown_groups}",
            f"không có nhóm {', '.join(repr(g) for g in unknown_groups)}. Hãy khai báo trong mục groups của tệp.",
        )
    acknowledged = []
    for code in entry.acknowledged:
        kind, _, other = code.partition(":")
        if kind in NAMED_CONFLICTS:
            target = active.get(other.strip())
            if target is None:
                raise InvalidInput(
                    f"acknowledged {code!r} names no active programme",
                    f"mục acknowledged '{code}' nhắc đến chương trình '{other.strip()}' không có "
                    "(chương trình phải đứng trước trong tệp hoặc đã có trong hệ thống).",
                )
            code = f"{kind}:{target.id}"
        acknowledged.append(code)
    return ProgrammeCreate(
        commune_id=commune_id,
        slot_id=slot.id,
        name=entry.name,
        bulletin_ids=entry.bulletins,
        recurrence=entry.recurrence,
        target=Target(
            village_ids=[villages[v] for v in entry.target.villages],
            agent_ids=entry.target.clusters,
            group_ids=[groups[g].id for g in entry.target.groups],
        ),
        origin=entry.origin,
        acknowledged=acknowledged,
    )


def _same(row: Programme, data: ProgrammeCreate) -> bool:
    """Whether saving `data` would leave the programme as it is."""
    return (
        row.slot_id == data.slot_id
        and json.loads(row.bulletin_ids) == data.bulletin_ids
        and Recurrence.model_validate_json(row.recurrence) == data.recurrence
        and Target.model_validate_json(row.target) == data.target
        and row.origin == data.origin.value
    )


# --- export ----------------------------------------------------------------------------------------


def schedule_of(session: Session, commune_id: int) -> ScheduleFile:
    """The commune's current schedule in file terms: every slot and group, and its active programmes."""
    commune = get_commune(session, commune_id)
    slots = list(session.scalars(select(Slot).where(Slot.commune_id == commune_id).order_by(Slot.start_time, Slot.id)))
    groups = list(
        session.scalars(select(AgentGroup).where(AgentGroup.commune_id == commune_id).order_by(AgentGroup.id))
    )
    village_names = {v.id: v.name for v in session.scalars(select(Village).where(Village.commune_id == commune_id))}
    group_names = {g.id: g.name for g in groups}
    rows = list(list_programmes(session, [commune_id]))
    names = [r.name for r in rows]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInput(
            f"commune {commune.code} has active programmes sharing a name: {duplicated}",
            f"Xã có nhiều chương trình trùng tên ({', '.join(duplicated)}). Tệp lịch nhận chương trình theo tên: "
            "hãy đổi tên cho khác nhau rồi xuất lại.",
        )
    by_id = {r.id: r.name for r in rows}
    programmes = []
    for row in rows:
        target = Target.model_validate_json(row.target)
        programmes.append(
            ProgrammeEntry(
                name=row.name,
                slot=row.slot.name,
                bulletins=json.loads(row.bulletin_ids),
                recurrence=Recurrence.model_validate_json(row.recurrence),
                target=TargetEntry(
                    villages=[village_names[v] for v in target.village_ids],
                    clusters=target.agent_ids,
                    groups=[group_names[g] for g in target.group_ids],
                ),
                origin=Origin(row.origin),
                acknowledged=_acknowledged(session, row.id, by_id),
            )
        )
    return ScheduleFile(
        commune=commune.code,
        quiet_hours=QuietHoursEntry(start=commune.quiet_start, end=commune.quiet_end),
        slots=[SlotEntry(name=s.name, start=s.start_time, length_min=s.length_min) for s in slots],
        groups=[GroupEntry(name=g.name, clusters=json.loads(g.agent_ids)) for g in groups],
        programmes=programmes,
    )


def _acknowledged(session: Session, programme_id: int, names: dict[int, str]) -> list[str]:
    """The conflicts accepted when the programme was last saved, from its audit record, by programme name.

    Conflicts with programmes since cancelled are dropped: they no longer exist.
    """
    event = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "programme",
            AuditEvent.object_id == str(programme_id),
            AuditEvent.action.in_(("create", "edit")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return []
    try:
        accepted = json.loads(event.detail).get("accepted", [])
    except (ValueError, AttributeError):
        return []
    codes = []
    for code in accepted:
        kind, sep, other = str(code).partition(":")
        if kind in PLAIN_CONFLICTS and not sep:
            codes.append(kind)
        elif kind in NAMED_CONFLICTS and other.isdigit() and int(other) in names:
            codes.append(f"{kind}:{names[int(other)]}")
    return codes


def dump_schedule(schedule: ScheduleFile) -> str:
    """The YAML text of a schedule: times quoted, dates bare, empty fields left out."""
    data: dict[str, Any] = {"version": schedule.version, "commune": schedule.commune}
    if schedule.quiet_hours is not None:
        data["quiet_hours"] = schedule.quiet_hours.model_dump()
    data["slots"] = [s.model_dump() for s in schedule.slots]
    data["groups"] = [g.model_dump() for g in schedule.groups]
    data["programmes"] = []
    for p in schedule.programmes:
        entry: dict[str, Any] = {"name": p.name, "slot": p.slot, "bulletins": p.bulletins}
        recurrence = p.recurrence.model_dump(exclude_defaults=True)
        entry["recurrence"] = {"kind": p.recurrence.kind.value} | {
            k: list(v) if isinstance(v, tuple) else v for k, v in recurrence.items() if k != "kind"
        }
        target = p.target.model_dump(exclude_defaults=True)
        if target:
            entry["target"] = target
        entry["origin"] = p.origin.value
        if p.acknowledged:
            entry["acknowledged"] = p.acknowledged
        data["programmes"].append(entry)
    header = (
        f"# Lịch phát của xã {schedule.commune}. Giờ là giờ địa phương (Asia/Ho_Chi_Minh).\n"
        "# Nhập bằng: loa schedule import <tệp>  (xem schedules/README.md)\n"
    )
    return header + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def export_schedule(session: Session, commune_id: int) -> str:
    """The commune's schedule as a file that `import_schedule` reads back to the same schedule."""
    return dump_schedule(schedule_of(session, commune_id))
