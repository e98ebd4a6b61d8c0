"""Pinned readings: the officer decides how one span of a bulletin is read ("QL1A" → "quốc lộ một A").

A pin is saved with the bulletin, travels in its file, and replaces the normaliser's reading of that
span for every engine. It changes what listeners hear, so like any edit it sends a submitted or
approved bulletin back to draft and holds its future plays.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from controller.db.models import Bulletin
from controller.errors import InvalidInput, NotFound
from controller.schemas import PinnedReading
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.services.bulletins import encode_pinned, get_bulletin, pinned_readings, return_to_draft
from controller.text.pinned import span_pattern


def _reading(written: str, spoken: str) -> PinnedReading:
    try:
        return PinnedReading(written=written, spoken=spoken)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        if field == "written":
            raise InvalidInput(
                f"bad pinned span {written!r}: {exc.errors()[0]['msg']}",
                "Hãy ghi đoạn chữ cần ghim (tối đa 200 ký tự).",
            ) from None
        raise InvalidInput(
            f"bad pinned reading {spoken!r}: {exc.errors()[0]['msg']}",
            "Cách đọc phải viết bằng chữ (không có chữ số), tối đa 400 ký tự.",
        ) from None


def _appears(row: Bulletin, written: str) -> bool:
    pattern = span_pattern(written)
    return bool(pattern.search(row.title) or pattern.search(" ".join(row.body.split())))


def pin_reading(
    session: Session, bulletin_id: str, written: str, spoken: str, actor: Actor, now: datetime
) -> tuple[Bulletin, set[str]]:
    """Read `written` as `spoken` in this bulletin, replacing an earlier pin of the same span.

    Returns the bulletin and the clusters whose plays were held because it went back to draft."""
    row = get_bulletin(session, bulletin_id)
    require_commune(session, actor, row.commune_id, write=True)
    reading = _reading(written, spoken)
    if not _appears(row, reading.written):
        raise InvalidInput(
            f"{reading.written!r} does not appear in bulletin {row.id}",
            f"Không thấy «{reading.written}» trong tiêu đề hay nội dung bản tin.",
        )
    pins = [(w, s) for w, s in pinned_readings(row) if w != reading.written]
    pins.append((reading.written, reading.spoken))
    return _save(session, row, pins, actor, now, "pin-reading", f"«{reading.written}» → «{reading.spoken}»")


def unpin_reading(
    session: Session, bulletin_id: str, written: str, actor: Actor, now: datetime
) -> tuple[Bulletin, set[str]]:
    """Let the normaliser read `written` again. Raises NotFound if it was not pinned."""
    row = get_bulletin(session, bulletin_id)
    require_commune(session, actor, row.commune_id, write=True)
    written = " ".join(written.split())
    pins = pinned_readings(row)
    kept = [(w, s) for w, s in pins if w != written]
    if len(kept) == len(pins):
        raise NotFound(f"no pinned reading {written!r} in bulletin {row.id}", f"Chưa ghim cách đọc «{written}».")
    return _save(session, row, kept, actor, now, "unpin-reading", f"«{written}»")


def _save(
    session: Session, row: Bulletin, pins: list[tuple[str, str]], actor: Actor, now: datetime, action: str, detail: str
) -> tuple[Bulletin, set[str]]:
    row.pinned_readings = encode_pinned(pins)
    held = return_to_draft(session, row, actor, now, reason="reading pinned")
    audit.record(session, actor, action, "bulletin", row.id, commune_id=row.commune_id, detail=detail)
    session.flush()
    return row, held
