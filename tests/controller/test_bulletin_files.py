"""Bulletin files: the sample library, lossless import/export, and no approval through a file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from controller.audio import MediaStore
from controller.db.models import Bulletin
from controller.db.session import transaction
from controller.errors import InvalidInput
from controller.services import approval
from controller.services.access import Actor
from controller.services.bulletin_files import export_bulletin, import_bulletin_file, parse_bulletin_text
from controller.services.bulletin_render import MAX_BYTES_PER_5_MIN, render_files
from controller.topics import DEFAULT_TOPICS
from tests.controller.conftest import Seed

LIBRARY = Path(__file__).parents[2] / "bulletins"
SAMPLES = sorted(p for p in LIBRARY.glob("*.md") if p.name != "README.md")
NOW = datetime(2026, 5, 27, 3, 0, tzinfo=UTC)
SYSTEM = Actor.system("test")


def test_the_library_has_one_bulletin_per_priority_topic() -> None:
    topics = sorted(parse_bulletin_text(p.read_text(), p.name)[0].topic for p in SAMPLES)
    assert len(SAMPLES) >= 7
    assert set(DEFAULT_TOPICS) <= set(topics)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_import_then_export_gives_the_same_bulletin(
    session_factory: sessionmaker[Session], path: Path, tmp_path: Path
) -> None:
    original, _ = parse_bulletin_text(path.read_text(), path.name, default_id=path.stem)
    with transaction(session_factory) as s:
        import_bulletin_file(s, path, SYSTEM, NOW)
        text = export_bulletin(s, s.get_one(Bulletin, path.stem))
    again, _ = parse_bulletin_text(text, "exported.md")
    assert again == original
    # and once more through the database: a second import of the export changes nothing
    exported = tmp_path / path.name
    exported.write_text(text)
    with transaction(session_factory) as s:
        assert import_bulletin_file(s, exported, SYSTEM, NOW).action == "unchanged"


def test_a_file_cannot_claim_approval(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "tu-duyet.md"
    path.write_text("---\ntitle: Tin\ntopic: dat-dai\nstatus: approved\napproved_by: chu-tich\n---\nNội dung.\n")
    with pytest.raises(InvalidInput) as err, transaction(session_factory) as s:
        import_bulletin_file(s, path, SYSTEM, NOW)
    assert "approved_by, status" in err.value.message_vi


def test_reimporting_a_changed_approved_bulletin_makes_it_a_draft(
    session_factory: sessionmaker[Session], seed: Seed, tmp_path: Path
) -> None:
    with transaction(session_factory) as s:
        text = export_bulletin(s, s.get_one(Bulletin, seed.bulletin_id))
    assert "commune: x1" in text
    path = tmp_path / f"{seed.bulletin_id}.md"
    path.write_text(text)
    with transaction(session_factory) as s:
        assert import_bulletin_file(s, path, SYSTEM, NOW).action == "unchanged"
        assert s.get_one(Bulletin, seed.bulletin_id).status == "approved"
    path.write_text(text.replace("Nội dung.", "Nội dung mới."))
    with transaction(session_factory) as s:
        assert import_bulletin_file(s, path, SYSTEM, NOW).action == "updated"
        row = s.get_one(Bulletin, seed.bulletin_id)
        assert (row.status, row.body) == ("draft", "Nội dung mới.")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("no front matter", "thiếu phần khai báo"),
        ("---\n[a, b]\n---\nx", "khai báo sai dạng"),
        ("---\ntitle: [\n---\nx", "phần khai báo bị lỗi"),
        ("---\ntitle: Tin\ntopic: Đất Đai\n---\nx", "trường 'topic'"),
        ("---\ntitle: Tin\ntopic: dat-dai\npriority: urgent\n---\nx", "trường 'priority'"),
    ],
)
def test_bad_files_get_a_clear_vietnamese_error(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_bulletin_text(text, "x.md", default_id="x")
    assert fragment in err.value.message_vi


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_sample_library_renders_offline_within_every_target(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """Every sample: 3-5 minutes, -16 LUFS within 1 LU, true peak at most -1.5 dBTP, at most 1.2 MB per 5 min."""
    store = MediaStore(tmp_path / "media")
    reports = list(
        render_files(session_factory, store, SAMPLES, now=lambda: NOW, window=approval.DurationWindow(180, 300))
    )
    assert [r.error for r in reports] == [None] * len(SAMPLES)
    for r in reports:
        assert r.engine == "espeak-ng" and r.fallback is None, r
        assert 180 <= r.duration_s <= 300 and r.problem is None, r
        assert r.lufs is not None and abs(r.lufs + 16.0) <= 1.0, r
        assert r.true_peak_dbtp is not None and r.true_peak_dbtp <= -1.5, r
        assert r.size_bytes <= MAX_BYTES_PER_5_MIN, r
    with session_factory() as s:
        assert {s.get_one(Bulletin, r.bulletin_id).status for r in reports} == {"draft"}
