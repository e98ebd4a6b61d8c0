"""Bulletin files: Markdown with YAML front matter, imported into and exported from the database.

Files carry content only. Approval is workflow state in the database and is never read from a file:
an imported bulletin is a draft, and a changed one goes back to draft, so no file can put unapproved
audio on air.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, Commune
from controller.errors import InvalidInput
from controller.schemas import BulletinCreate, BulletinUpdate
from controller.services.access import Actor
from controller.services.bulletins import (
    create_bulletin,
    legal_references,
    pinned_readings,
    update_bulletin,
    voice_spec,
)

FRONT_MATTER_KEYS = (
    "id",
    "title",
    "topic",
    "legal_references",
    "voice",
    "priority",
    "language",
    "intro_jingle",
    "outro_jingle",
    "pinned_readings",
    "commune",
)


def parse_bulletin_text(text: str, name: str, *, default_id: str | None = None) -> tuple[BulletinCreate, str | None]:
    """Parse one bulletin file's text. Returns the bulletin and the commune code it names, if any."""
    if not text.startswith("---"):
        raise InvalidInput(f"{name}: missing YAML front matter", f"Tệp {name} thiếu phần khai báo (front matter).")
    try:
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{name}: bad front matter: {exc}", f"Tệp {name}: phần khai báo bị lỗi.") from exc
    if not isinstance(meta, dict):
        raise InvalidInput(f"{name}: front matter is not a mapping", f"Tệp {name}: khai báo sai dạng.")
    unknown = sorted(set(meta) - set(FRONT_MATTER_KEYS))
    if unknown:
        raise InvalidInput(
            f"{name}: unknown front matter keys {unknown}",
            f"Tệp {name}: có trường không được hỗ trợ: {', '.join(map(str, unknown))}.",
        )
    commune = meta.pop("commune", None)
    if default_id is not None:
        meta.setdefault("id", default_id)
    meta["body"] = body.strip()
    try:
        data = BulletinCreate.model_validate(meta)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InvalidInput(
            f"{name}: field {field}: {err['msg']}", f"Tệp {name}: trường '{field}' không hợp lệ."
        ) from None
    return data, str(commune) if commune is not None else None


def parse_bulletin_file(path: Path) -> BulletinCreate:
    """Read a Markdown bulletin with YAML front matter (see bulletins/README.md)."""
    data, _ = parse_bulletin_text(path.read_text(encoding="utf-8"), path.name, default_id=path.stem)
    return data


def export_bulletin(session: Session, row: Bulletin) -> str:
    """The bulletin as a file that `parse_bulletin_text` reads back to the same content."""
    meta: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "topic": row.topic,
        "legal_references": legal_references(row),
        "voice": voice_spec(row).model_dump(exclude_none=True),
        "priority": row.priority,
        "language": row.language,
    }
    if row.intro_jingle:
        meta["intro_jingle"] = row.intro_jingle
    if row.outro_jingle:
        meta["outro_jingle"] = row.outro_jingle
    pins = pinned_readings(row)
    if pins:
        meta["pinned_readings"] = [{"written": w, "spoken": s} for w, s in pins]
    if row.commune_id is not None:
        meta["commune"] = session.scalar(select(Commune.code).where(Commune.id == row.commune_id))
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{row.body.strip()}\n"


@dataclass(frozen=True)
class ImportResult:
    """What an import did to one file: created, updated (back to draft), or unchanged."""

    path: Path
    bulletin_id: str
    action: str
    held_agents: frozenset[str] = frozenset()


def import_bulletin_file(session: Session, path: Path, actor: Actor, now: datetime) -> ImportResult:
    """Create the bulletin, or update it in place when its id exists. Either way it is not approved by this."""
    data, commune_code = parse_bulletin_text(path.read_text(encoding="utf-8"), path.name, default_id=path.stem)
    if commune_code is not None:
        commune_id = session.scalar(select(Commune.id).where(Commune.code == commune_code))
        if commune_id is None:
            raise InvalidInput(
                f"{path.name}: unknown commune {commune_code}", f"Tệp {path.name}: không có xã mã {commune_code}."
            )
        data = data.model_copy(update={"commune_id": commune_id})
    assert data.id is not None
    existing = session.get(Bulletin, data.id)
    if existing is None:
        create_bulletin(session, data, actor)
        return ImportResult(path, data.id, "created")
    before = export_bulletin(session, existing)
    update = BulletinUpdate.model_validate(data.model_dump(exclude={"id", "commune_id"}))
    _, held = update_bulletin(session, data.id, update, actor, now)
    changed = export_bulletin(session, existing) != before
    return ImportResult(path, data.id, "updated" if changed else "unchanged", frozenset(held))


def export_all(session: Session, directory: Path, rows: list[Bulletin]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        path = directory / f"{row.id}.md"
        path.write_text(export_bulletin(session, row), encoding="utf-8")
        written.append(path)
    return written
