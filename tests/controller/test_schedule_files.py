"""Schedule files: YAML import and export through the programme service, iCalendar export, the API and CLI."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import ManualClock
from controller.api import schedule_files as schedule_api
from controller.audio import MediaStore
from controller.config import Settings
from controller.db.models import AudioAsset, Bulletin, Play, Programme, Slot
from controller.db.session import transaction
from controller.deps import current_actor, get_context
from controller.errors import ControllerError, Forbidden, InvalidInput
from controller.schemas import AgentCreate, CommuneCreate, ProvinceCreate, VillageCreate
from controller.services import audit, geo, programmes
from controller.services.access import Actor
from controller.services.context import Context
from controller.services.programmes import ProgrammeRejected
from controller.services.schedule_files import (
    QuietHoursEntry,
    ScheduleImportReport,
    export_schedule,
    import_schedule,
    parse_schedule_text,
)
from controller.services.schedule_ical import event_uid, export_ical
from controller.services.users import Role
from protocol import SignedMessage
from tests.controller.conftest import Seed

NOW = datetime(2026, 5, 27, 3, 0, tzinfo=UTC)  # 10:00 on Wednesday 27 May, Asia/Ho_Chi_Minh
HORIZON = timedelta(hours=72)
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
EXAMPLE = Path(__file__).resolve().parents[2] / "schedules" / "example-xa-mau.yaml"


def officer(seed: Seed) -> Actor:
    return Actor("can-bo", Role.OFFICER, seed.commune_id)


def add_bulletin(
    s: Session, commune_id: int, bid: str, *, status: str = "approved", seconds: float = 240.0, title: str = ""
) -> str:
    b = Bulletin(id=bid, commune_id=commune_id, title=title or bid, topic="dat-dai", body="x", status=status)
    s.add(b)
    s.flush()
    a = AudioAsset(
        bulletin_id=bid, sha256=bid.ljust(64, "0")[:64], size_bytes=1, duration_s=seconds, engine="e", voice="v"
    )
    s.add(a)
    s.flush()
    b.audio_asset_id = a.id
    return bid


def run_import(
    factory: sessionmaker[Session], seed: Seed, source: Path | str, now: datetime = NOW
) -> ScheduleImportReport:
    with transaction(factory) as s:
        return import_schedule(s, source, officer(seed), now, HORIZON)


def export(factory: sessionmaker[Session], commune_id: int) -> str:
    with factory() as s:
        return export_schedule(s, commune_id)


def count(factory: sessionmaker[Session], model: type[Programme] | type[Slot] | type[Play]) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


FULL = """\
commune: x1
quiet_hours: {start: "21:30", end: "05:00"}
slots:
  - {name: Sáng, start: 05:30, length_min: 30}
  - {name: Chiều, start: "17:00", length_min: 30}
groups:
  - {name: Ven sông, clusters: [cum-1, cum-3]}
programmes:
  - name: Tin sáng
    slot: Sáng
    bulletins: [b-an-ninh-mang, b-dat-dai]
    recurrence: {kind: weekdays, start_date: 2026-06-01, except_dates: [2026-09-02]}
  - name: Tin chiều
    slot: Chiều
    bulletins: [b-dat-dai]
    recurrence: {kind: days, weekdays: [0, 2, 4], end_date: 2026-12-31}
    target: {villages: [Thôn 1], groups: [Ven sông]}
    origin: province
  - name: Hòa giải
    slot: Chiều
    bulletins: [b-hoa-giai]
    recurrence: {kind: dates, dates: [2026-06-01, 2026-06-03]}
    target: {clusters: [cum-0]}
    acknowledged: ["overlap:Tin chiều"]
"""


@pytest.fixture
def bulletins(session_factory: sessionmaker[Session], seed: Seed) -> None:
    with transaction(session_factory) as s:
        add_bulletin(s, seed.commune_id, "b-dat-dai", title="Đất đai")
        add_bulletin(s, seed.commune_id, "b-hoa-giai", title="Hòa giải")


def test_import_creates_slots_groups_and_programmes_through_the_service(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None, tmp_path: Path
) -> None:
    path = tmp_path / "x1.yaml"
    path.write_text(FULL, encoding="utf-8")
    report = run_import(session_factory, seed, path)
    assert (report.slots_created, report.groups_created) == (["Sáng", "Chiều"], ["Ven sông"])
    assert report.created == ["Tin sáng", "Tin chiều", "Hòa giải"] and report.quiet_hours_changed
    with session_factory() as s:
        rows = {p.name: programmes.programme_public(p) for p in programmes.list_programmes(s, [seed.commune_id])}
        assert rows["Tin chiều"].target.village_ids == [seed.village_ids[0]]
        assert rows["Tin chiều"].origin == "province"
        assert rows["Tin sáng"].recurrence.except_dates == (date(2026, 9, 2),)
        assert programmes.target_agent_ids(s, seed.commune_id, rows["Tin chiều"].target) == {
            "cum-0",
            "cum-1",
            "cum-2",
            "cum-3",
        }
        # Expanded at once over the 72 h horizon (to Saturday 30 May): Tin sáng starts in June, Hòa giải is
        # on June dates, so only Tin chiều (Mon, Wed, Fri) plays, on Wednesday 27 and Friday 29 May.
        plays = list(s.scalars(select(Play)))
        assert {(p.bulletin_id, p.starts_at.astimezone(HCM).date()) for p in plays} == {
            ("b-dat-dai", date(2026, 5, 27)),
            ("b-dat-dai", date(2026, 5, 29)),
        }
        assert len(plays) == 8
    assert report.changed_agents == ["cum-0", "cum-1", "cum-2", "cum-3"]


def test_export_then_import_is_lossless(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None, tmp_path: Path
) -> None:
    path = tmp_path / "x1.yaml"
    path.write_text(FULL, encoding="utf-8")
    run_import(session_factory, seed, path)
    first = export(session_factory, seed.commune_id)
    assert parse_schedule_text(first) == parse_schedule_text(FULL)

    again = tmp_path / "again.yaml"
    again.write_text(first, encoding="utf-8")
    report = run_import(session_factory, seed, again)
    assert report.unchanged == ["Tin sáng", "Tin chiều", "Hòa giải"]
    assert (report.created, report.updated, report.changed_agents) == ([], [], [])
    assert export(session_factory, seed.commune_id) == first

    # Into a commune with none of these programmes (new ids): the by-name acknowledgement still resolves.
    with transaction(session_factory) as s:
        old_ids = [p.id for p in programmes.list_programmes(s, [seed.commune_id])]
        for pid in old_ids:
            programmes.cancel_programme(s, pid, officer(seed), NOW)
    report = run_import(session_factory, seed, again)
    assert report.created == ["Tin sáng", "Tin chiều", "Hòa giải"]
    assert export(session_factory, seed.commune_id) == first
    with session_factory() as s:
        assert not {p.id for p in programmes.list_programmes(s, [seed.commune_id])} & set(old_ids)


def test_an_edited_programme_is_updated_in_place_and_others_are_left_alone(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None
) -> None:
    run_import(session_factory, seed, FULL)
    with session_factory() as s:
        before = {p.name: p.id for p in programmes.list_programmes(s, [seed.commune_id])}
    edited = FULL.replace("bulletins: [b-an-ninh-mang, b-dat-dai]", "bulletins: [b-dat-dai]")
    head, _, _ = edited.partition("  - name: Tin chiều")
    report = run_import(session_factory, seed, head)
    assert (report.updated, report.untouched) == (["Tin sáng"], ["Hòa giải", "Tin chiều"])
    with session_factory() as s:
        rows = {p.name: p for p in programmes.list_programmes(s, [seed.commune_id])}
        assert {n: r.id for n, r in rows.items()} == before
        assert json.loads(rows["Tin sáng"].bulletin_ids) == ["b-dat-dai"]


FILE_ERRORS = [
    (
        "commune: x1\nprogrammes:\n  - {name: Tin sáng, slot: Sáng, bulletins: [b], colour: đỏ}\n",
        "trường programmes[1] 'Tin sáng'.colour không được hỗ trợ",
    ),
    (
        "commune: x1\nslots:\n  - {name: Sáng, start: 5h30, length_min: 30}\n",
        "trường slots[1] 'Sáng'.start phải là giờ dạng GG:PP trong ngoặc kép, ví dụ \"05:30\"",
    ),
    (
        "commune: x1\nslots:\n  - {name: Sáng, start: 05:30, length_min: 0}\n",
        "trường slots[1] 'Sáng'.length_min quá nhỏ",
    ),
    (
        "commune: x1\nprogrammes:\n  - {name: T, slot: S, bulletins: [b], recurrence: {kind: days}}\n",
        "trường programmes[1] 'T'.recurrence chọn ít nhất một ngày trong tuần",
    ),
    (
        "commune: x1\nprogrammes:\n  - {name: T, slot: S, bulletins: [b], recurrence: {kind: monthly}}\n",
        "trường programmes[1] 'T'.recurrence.kind không nằm trong các giá trị cho phép",
    ),
    (
        "commune: x1\nprogrammes:\n  - {name: T, slot: S, bulletins: [b], recurrence: {except_dates: [2026-02-30]}}\n",
        "trường programmes[1] 'T'.recurrence.except_dates[1] phải là ngày",
    ),
    (
        "commune: x1\nprogrammes:\n  - {name: T, slot: S, bulletins: []}\n",
        "trường programmes[1] 'T'.bulletins không được để trống",
    ),
    (
        "commune: x1\nprogrammes:\n  - {name: T, slot: S, bulletins: [b], acknowledged: [quiet-hours]}\n",
        "mã xung đột 'quiet-hours' không hợp lệ",
    ),
    (
        "commune: x1\nprogrammes:\n  - {name: T, slot: S, bulletins: [b]}\n  - {name: T, slot: S, bulletins: [c]}\n",
        "có hai chương trình cùng tên 'T'",
    ),
    ("slots: []\n", "trường commune bị thiếu"),
    ("commune: x1\nslots: [\n", "không đúng cú pháp YAML"),
    ("- commune: x1\n", "phải là một bảng"),
    ("version: 2\ncommune: x1\n", "trường version quá lớn"),
]


@pytest.mark.parametrize(("text", "message"), FILE_ERRORS)
def test_invalid_files_are_refused_naming_the_field_in_vietnamese(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "xau.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        parse_schedule_text(path.read_text(encoding="utf-8"), path.name)
    assert message in err.value.message_vi
    assert err.value.message_vi.startswith("Tệp xau.yaml")


def test_bare_times_and_dates_are_read_as_written() -> None:
    schedule = parse_schedule_text(
        "commune: x1\nquiet_hours: {start: 21:00, end: 05:00}\nslots: [{name: S, start: 17:30, length_min: 20}]\n"
        "programmes: [{name: T, slot: S, bulletins: [b], recurrence: {kind: dates, dates: [2026-12-31]}}]\n"
    )
    assert schedule.quiet_hours == QuietHoursEntry(start="21:00", end="05:00")
    assert schedule.slots[0].start == "17:30"
    assert schedule.programmes[0].recurrence.dates == (date(2026, 12, 31),)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("commune: x1", "commune: khong-co"), "không có xã mã khong-co"),
        (("villages: [Thôn 1]", "villages: [Thôn 9]"), "Chương trình 'Tin chiều': xã không có thôn 'Thôn 9'"),
        (("slot: Sáng", "slot: Trưa"), "Chương trình 'Tin sáng': không có khung giờ 'Trưa'"),
        (
            ("clusters: [cum-0]", "clusters: [cum-other]"),
            "Chương trình 'Hòa giải': Các cụm loa sau không thuộc xã: cum-other",
        ),
        (("b-hoa-giai]", "b-khong-co]"), "Chương trình 'Hòa giải': Không tìm thấy bản tin b-khong-co"),
        (('"overlap:Tin chiều"', '"overlap:Tin tối"'), "chương trình 'Tin tối' không có"),
    ],
)
def test_names_that_do_not_resolve_are_refused_and_nothing_is_written(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(ControllerError) as err:
        run_import(session_factory, seed, FULL.replace(*change))
    assert message in err.value.message_vi
    assert (count(session_factory, Slot), count(session_factory, Programme)) == (0, 0)


def test_an_unapproved_bulletin_in_a_file_is_refused(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None
) -> None:
    with transaction(session_factory) as s:
        add_bulletin(s, seed.commune_id, "b-nhap", status="submitted", title="Bản nháp")
    with pytest.raises(ProgrammeRejected) as err:
        run_import(session_factory, seed, FULL.replace("[b-hoa-giai]", "[b-hoa-giai, b-nhap]"))
    assert "unapproved:b-nhap" in {i.code for i in err.value.issues}
    assert err.value.message_vi.startswith("Chương trình 'Hòa giải': ")
    assert "Bản tin 'Bản nháp' chưa được lãnh đạo duyệt" in err.value.message_vi
    # All or nothing: the earlier programmes of the same file were rolled back too.
    assert (count(session_factory, Programme), count(session_factory, Play)) == (0, 0)


def test_quiet_hours_refuse_a_slot_and_a_programme_running_into_them(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None
) -> None:
    late_slot = "commune: x1\nslots:\n  - {name: Tối, start: '22:00', length_min: 30}\n"
    with pytest.raises(InvalidInput) as err:
        run_import(session_factory, seed, late_slot)
    assert err.value.message_vi.startswith("Khung giờ 'Tối': ") and "giờ yên tĩnh 21:00–05:00" in err.value.message_vi

    # The file's own quiet hours apply before its slots are created.
    with pytest.raises(InvalidInput, match="quiet hours"):
        run_import(session_factory, seed, FULL.replace('start: "21:30"', 'start: "16:00"'))

    long_programme = (
        "commune: x1\nslots:\n  - {name: Tối, start: '20:30', length_min: 30}\nprogrammes:\n"
        "  - {name: Dài, slot: Tối, bulletins: [b-dat-dai, b-hoa-giai, b-an-ninh-mang, b-dat-dai, b-hoa-giai,"
        " b-an-ninh-mang, b-dat-dai, b-hoa-giai], acknowledged: [overflow]}\n"
    )
    with pytest.raises(ProgrammeRejected) as rejected:
        run_import(session_factory, seed, long_programme)
    codes = {i.code: i.kind.value for i in rejected.value.issues}
    assert codes["quiet-hours"] == "refusal" and codes["overflow"] == "conflict"
    assert count(session_factory, Programme) == 0


def test_conflicts_between_programmes_need_acknowledgement_by_name(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None
) -> None:
    unacknowledged = FULL.replace('    acknowledged: ["overlap:Tin chiều"]\n', "")
    with pytest.raises(ProgrammeRejected) as err:
        run_import(session_factory, seed, unacknowledged)
    assert [i.kind.value for i in err.value.issues if i.code.startswith("overlap:")] == ["conflict"]
    assert "Chương trình 'Tin chiều' cũng phát trong khung giờ Chiều" in err.value.message_vi
    assert count(session_factory, Programme) == 0
    report = run_import(session_factory, seed, FULL)
    assert "Hòa giải" in report.created
    with session_factory() as s:
        ids = {p.name: p.id for p in programmes.list_programmes(s, [seed.commune_id])}
        trail = [e.detail for e in audit.trail(s, "programme", ids["Hòa giải"])]
    assert json.loads(trail[-1])["accepted"] == [f"overlap:{ids['Tin chiều']}"]


def test_an_existing_slot_with_other_times_is_not_silently_changed(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None
) -> None:
    run_import(session_factory, seed, FULL)
    with pytest.raises(InvalidInput) as err:
        run_import(session_factory, seed, FULL.replace("start: 05:30", "start: 06:00"))
    assert err.value.message_vi.startswith("Khung giờ 'Sáng': đã có, bắt đầu 05:30")
    with pytest.raises(Forbidden), transaction(session_factory) as s:
        import_schedule(s, FULL, Actor("khac", Role.OFFICER, seed.other_commune_id), NOW, HORIZON)


def test_the_example_file_parses_and_imports_into_a_matching_commune(session_factory: sessionmaker[Session]) -> None:
    schedule = parse_schedule_text(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name)
    bulletin_ids = {b for p in schedule.programmes for b in p.bulletins}
    shipped = {p.stem for p in (EXAMPLE.parents[1] / "bulletins").glob("*.md")}
    assert bulletin_ids <= shipped
    with transaction(session_factory) as s:
        province = geo.create_province(s, ProvinceCreate(code="MAU", name="Tỉnh mẫu"))
        commune = geo.create_commune(s, CommuneCreate(province_id=province.id, code="xa-mau", name="Xã Mẫu"))
        village = geo.create_village(s, VillageCreate(commune_id=commune.id, name="Thôn Đông"))
        for n in (1, 2, 3):
            geo.register_agent(s, AgentCreate(id=f"xa-mau-cum-0{n}", commune_id=commune.id, village_id=village.id))
        for bid in sorted(bulletin_ids):
            add_bulletin(s, commune.id, bid)
    with transaction(session_factory) as s:
        report = import_schedule(s, EXAMPLE, Actor.system("test"), NOW, HORIZON)
    assert report.created == [p.name for p in schedule.programmes]
    with session_factory() as s:
        assert parse_schedule_text(export_schedule(s, commune.id)) == schedule


def calendar_events(data: bytes) -> list[tuple[str, datetime, datetime, str, str]]:
    cal = Calendar.from_ical(data)
    return [
        (str(e["UID"]), e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"]), str(e["DESCRIPTION"]))
        for e in cal.walk("VEVENT")
    ]


def test_ical_has_one_event_per_programme_and_day_across_month_and_year_boundaries(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None
) -> None:
    december = datetime(2026, 12, 20, 3, 0, tzinfo=UTC)
    run_import(session_factory, seed, FULL, now=december)
    with session_factory() as s:
        data = export_ical(s, seed.commune_id, december, days=30)
        again = export_ical(s, seed.commune_id, december, days=30)
        ids = {p.name: p.id for p in programmes.list_programmes(s, [seed.commune_id])}
    assert data == again
    cal = Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    events = calendar_events(data)
    days = [date(2026, 12, 20) + timedelta(n) for n in range(30)]  # to Monday 18 January 2027
    weekdays = [d for d in days if d.weekday() < 5]
    mon_wed_fri_2026 = [d for d in days if d.weekday() in (0, 2, 4) and d.year == 2026]
    expected = {
        (event_uid("x1", ids["Tin sáng"], d), datetime(d.year, d.month, d.day, 5, 30, tzinfo=HCM)) for d in weekdays
    } | {
        (event_uid("x1", ids["Tin chiều"], d), datetime(d.year, d.month, d.day, 17, 0, tzinfo=HCM))
        for d in mon_wed_fri_2026
    }
    assert {(uid, start) for uid, start, *_ in events} == expected
    assert len(events) == len(expected) == 21 + 5
    for _, start, end, summary, description in events:
        assert str(start.tzinfo) == "Asia/Ho_Chi_Minh"
        assert end - start == timedelta(minutes=30)
        if summary == "Tin sáng":
            assert description == "1. Cảnh giác lừa đảo\n2. Đất đai"
    starts = {start.date() for _, start, *_ in events}
    assert {date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 18)} <= starts
    assert date(2026, 12, 19) not in starts and date(2027, 1, 19) not in starts

    # Across the May-June boundary, from 01:00 local on Monday 1 June (still 31 May in UTC).
    with session_factory() as s:
        june = calendar_events(export_ical(s, seed.commune_id, datetime(2026, 5, 31, 18, 0, tzinfo=UTC), days=3))
    assert sorted((summary, start.date()) for _, start, _, summary, _ in june) == [
        ("Hòa giải", date(2026, 6, 1)),
        ("Hòa giải", date(2026, 6, 3)),
        ("Tin chiều", date(2026, 6, 1)),
        ("Tin chiều", date(2026, 6, 3)),
        ("Tin sáng", date(2026, 6, 1)),
        ("Tin sáng", date(2026, 6, 2)),
        ("Tin sáng", date(2026, 6, 3)),
    ]
    with session_factory() as s:
        may = calendar_events(export_ical(s, seed.commune_id, NOW, days=10))  # 27 May to 5 June
    assert {start.date() for _, start, _, summary, _ in may if summary == "Tin chiều"} == {
        date(2026, 5, 27),
        date(2026, 5, 29),
        date(2026, 6, 1),
        date(2026, 6, 3),
        date(2026, 6, 5),
    }


# --- the HTTP routes, on a bare app with the real router and database ---------------------------------


class FakePublisher:
    def __init__(self) -> None:
        self.refreshed: list[set[str]] = []

    def send(self, messages: Iterable[SignedMessage]) -> int:
        raise AssertionError("a schedule import sends no command")

    def refresh(self, agent_ids: Iterable[str] | None = None, *, force: bool = False) -> int:
        self.refreshed.append(set(agent_ids or ()))
        return 0


def bare_app(
    session_factory: sessionmaker[Session], publisher: FakePublisher, actors: list[Actor], tmp_path: Path
) -> FastAPI:
    """The real router and database behind a minimal app: the controller's clock, horizon and publisher faked."""
    app = FastAPI()
    app.state.controller = SimpleNamespace(
        session_factory=session_factory,
        clock=SimpleNamespace(now=lambda: NOW),
        jobs=SimpleNamespace(horizon=HORIZON),
        publisher=publisher,
    )

    @app.exception_handler(ControllerError)
    async def controller_error(_request: Request, exc: ControllerError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.message_vi, **exc.details()})

    app.include_router(schedule_api.router)
    app.dependency_overrides[current_actor] = lambda: actors[0]
    app.dependency_overrides[get_context] = lambda: Context(
        session_factory=session_factory,
        clock=ManualClock(NOW),
        settings=Settings(manifest_horizon_hours=HORIZON.total_seconds() / 3600),
        dispatcher=publisher,
        store=MediaStore(tmp_path / "media"),
        confirm_secret=b"",
    )
    return app


@pytest.mark.asyncio
async def test_http_import_export_and_calendar(
    session_factory: sessionmaker[Session], seed: Seed, bulletins: None, tmp_path: Path
) -> None:
    publisher, actors = FakePublisher(), [officer(seed)]
    transport = httpx.ASGITransport(app=bare_app(session_factory, publisher, actors, tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        base = f"/api/communes/{seed.commune_id}/schedule"
        answer = await http.post(base, content=FULL.encode(), headers={"content-type": "text/yaml"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["created"] == ["Tin sáng", "Tin chiều", "Hòa giải"]
        assert publisher.refreshed == [{"cum-0", "cum-1", "cum-2", "cum-3"}]

        exported = await http.get(f"{base}.yaml")
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/yaml")
        assert parse_schedule_text(exported.text) == parse_schedule_text(FULL)

        ics = await http.get(f"{base}.ics", params={"days": 4})  # 27 to 30 May
        assert ics.headers["content-type"].startswith("text/calendar")
        assert {str(e["SUMMARY"]) for e in Calendar.from_ical(ics.content).walk("VEVENT")} == {"Tin chiều"}

        unacknowledged = FULL.replace("[b-hoa-giai]", "[b-an-ninh-mang, b-hoa-giai]").replace(
            '    acknowledged: ["overlap:Tin chiều"]\n', ""
        )
        rejected = await http.post(base, content=unacknowledged.encode())
        assert rejected.status_code == 409
        assert "Chương trình 'Hòa giải'" in rejected.json()["detail"]
        assert [i["code"] for i in rejected.json()["issues"] if i["kind"] == "conflict"] == [
            f"overlap:{answer_id(session_factory, 'Tin chiều')}"
        ]
        assert publisher.refreshed == [{"cum-0", "cum-1", "cum-2", "cum-3"}]
        other = await http.post(f"/api/communes/{seed.other_commune_id}/schedule", content=FULL.encode())
        assert other.status_code == 403
        assert (await http.post(base, content=b"commune: x2\n")).status_code == 422

        actors[0] = Actor("khac", Role.OFFICER, seed.other_commune_id)
        assert (await http.get(f"{base}.yaml")).status_code == 403
        assert (await http.get(f"{base}.ics")).status_code == 403


def answer_id(factory: sessionmaker[Session], name: str) -> int:
    with factory() as s:
        return next(p.id for p in programmes.list_programmes(s, None) if p.name == name)


# --- the CLI ----------------------------------------------------------------------------------------


def test_cli_imports_and_exports_against_the_local_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from controller.config import get_settings
    from controller.db.migrate import upgrade
    from controller.db.session import make_engine, make_session_factory
    from loa.commands.schedule import add_commands as add_schedule_commands

    monkeypatch.delenv("LOA_DATABASE_URL", raising=False)
    data_dir = tmp_path / "data"
    engine = make_engine(get_settings(data_dir=data_dir).resolved_database_url)
    try:
        upgrade(engine)
        with transaction(make_session_factory(engine)) as s:
            province = geo.create_province(s, ProvinceCreate(code="NA", name="Nghệ An"))
            commune = geo.create_commune(s, CommuneCreate(province_id=province.id, code="x1", name="Xã Một"))
            geo.register_agent(s, AgentCreate(id="cum-0", commune_id=commune.id))
            add_bulletin(s, commune.id, "b-dat-dai")
    finally:
        engine.dispose()
    schedule = tmp_path / "x1.yaml"
    schedule.write_text(
        "commune: x1\nslots: [{name: Sáng, start: 05:30, length_min: 30}]\n"
        "programmes: [{name: Tin sáng, slot: Sáng, bulletins: [b-dat-dai], recurrence: {kind: weekdays}}]\n",
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser()
    add_schedule_commands(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        code: int = args.func(args)
        return code

    assert run("schedule", "import", str(schedule), "--data-dir", str(data_dir)) == 0
    assert "1 chương trình mới" in capsys.readouterr().out
    out = tmp_path / "out.yaml"
    assert run("schedule", "export", "x1", "-o", str(out), "--data-dir", str(data_dir)) == 0
    assert [p.name for p in parse_schedule_text(out.read_text(encoding="utf-8")).programmes] == ["Tin sáng"]
    assert run("schedule", "export", "khong-co", "--data-dir", str(data_dir)) == 2
    assert run("schedule", "import", str(schedule).replace("x1.yaml", "none.yaml"), "--data-dir", str(data_dir)) == 1
