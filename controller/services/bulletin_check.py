"""`loa bulletin check`: what a bulletin file will sound like, before anything is rendered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from controller.audio.engine import DEFAULT_PITCH, DEFAULT_RATE_WPM, Voice
from controller.audio.estimate import estimate_seconds
from controller.services.bulletin_files import parse_bulletin_file
from controller.services.bulletins import spoken
from controller.text.normalize import ambiguities
from controller.topics import DEFAULT_TOPICS
from protocol.messages import Priority

MIN_SECONDS = 180.0
MAX_SECONDS = 300.0


@dataclass
class BulletinCheck:
    """The normalised text, the estimate and every problem found, in Vietnamese for the officer."""

    path: Path
    title: str
    spoken_text: str
    estimated_s: float
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_bulletin_file(path: Path) -> BulletinCheck:
    data = parse_bulletin_file(path)
    pins = [(r.written, r.spoken) for r in data.pinned_readings]
    text = spoken(data.title, data.body, pins)
    estimate = estimate_seconds(
        text,
        Voice(
            engine=data.voice.engine,
            name=data.voice.name,
            rate_wpm=data.voice.rate_wpm or DEFAULT_RATE_WPM,
            pitch=data.voice.pitch if data.voice.pitch is not None else DEFAULT_PITCH,
        ),
    )
    check = BulletinCheck(path=path, title=data.title, spoken_text=text, estimated_s=estimate)
    check.problems += text_problems(text, estimate, data.priority)
    check.problems += ambiguity_problems(f"{data.title}\n{data.body}", pins)
    if data.topic not in DEFAULT_TOPICS:
        check.notes.append(f"Chuyên đề '{data.topic}' không thuộc danh sách mặc định; xã có thể tự thêm.")
    return check


def text_problems(spoken_text: str, estimate_s: float, priority: Priority) -> list[str]:
    """What the officer should fix before rendering, in Vietnamese."""
    problems = []
    if priority is not Priority.EMERGENCY and not MIN_SECONDS <= estimate_s <= MAX_SECONDS:
        problems.append(f"Thời lượng ước tính {_mmss(estimate_s)} nằm ngoài khoảng 3–5 phút của một bản tin.")
    leftover = sorted({w for w in spoken_text.split() if any(c.isdigit() for c in w)})
    if leftover:
        problems.append(f"Còn chữ số chưa được đọc thành lời: {', '.join(leftover[:10])}.")
    return problems


def ambiguity_problems(written_text: str, pins: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Abbreviations the normaliser could not read from their context and no pin covers, in Vietnamese."""
    for written, _ in pins:
        written_text = written_text.replace(written, " ")
    unresolved = ambiguities(written_text)
    if not unresolved:
        return []
    return [f"Chữ viết tắt có nhiều cách đọc: {', '.join(unresolved)}. Hãy viết rõ ra hoặc ghim cách đọc cho bản tin."]


def _mmss(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


def format_check(check: BulletinCheck) -> str:
    lines = [
        f"== {check.path.name}: {check.title}",
        f"Thời lượng ước tính: {_mmss(check.estimated_s)}",
        "Văn bản sẽ được đọc:",
        check.spoken_text,
    ]
    lines += [f"Lưu ý: {n}" for n in check.notes]
    lines += [f"VẤN ĐỀ: {p}" for p in check.problems] or ["Không phát hiện vấn đề."]
    return "\n".join(lines)
