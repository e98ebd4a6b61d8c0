"""Dates typed ngày/tháng/năm, whatever the browser's language."""

from __future__ import annotations

from datetime import date

import pytest

from controller.errors import InvalidInput
from controller.scheduling.recurrence import RecurrenceKind
from controller.web.schedule import ProgrammeForm
from controller.web.vn_dates import format_date, format_dates, parse_date, parse_dates


def test_vietnamese_and_iso_dates_are_read() -> None:
    assert parse_date("27/5/2026") == date(2026, 5, 27)
    assert parse_date(" 02.09.2026 ") == date(2026, 9, 2)
    assert parse_date("2026-05-27") == date(2026, 5, 27)
    assert parse_date("") is None
    assert parse_dates("10/10/2026, 2/9/2026\n02/09/2026") == (date(2026, 9, 2), date(2026, 10, 10))


def test_a_wrong_date_is_refused_in_vietnamese() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_date("31/02/2026")
    assert "ngày/tháng/năm" in info.value.message_vi


def test_dates_are_shown_day_first() -> None:
    assert format_date(date(2026, 5, 7)) == "07/05/2026"
    assert format_date("2026-05-07") == "07/05/2026"
    assert format_dates([date(2026, 10, 10), date(2026, 9, 2)]) == "02/09/2026, 10/10/2026"


def test_the_web_programme_form_has_the_date_list_and_days_off() -> None:
    form = ProgrammeForm(
        name="Ngày lễ",
        slot_id=1,
        bulletin_ids=["b1"],
        recurrence=RecurrenceKind.DATES.value,
        start_date="01/09/2026",
        dates="2/9/2026, 10/10/2026",
        except_dates="10/10/2026",
    )
    recurrence = form.schema(commune_id=1).recurrence
    assert recurrence.kind is RecurrenceKind.DATES
    assert recurrence.dates == (date(2026, 9, 2), date(2026, 10, 10))
    assert recurrence.start_date == date(2026, 9, 1)
    assert recurrence.dates_between(date(2026, 9, 1), date(2026, 12, 31)) == [date(2026, 9, 2)]
    with pytest.raises(InvalidInput) as info:
        ProgrammeForm(name="x", slot_id=1, bulletin_ids=["b1"], start_date="32/1/2026").schema(commune_id=1)
    assert "32/1/2026" in info.value.message_vi
