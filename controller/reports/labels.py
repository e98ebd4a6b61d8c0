"""Vietnamese names for play states and the groups the dashboard counts them in."""

from __future__ import annotations

PLAY_STATUS_VI: dict[str, str] = {
    "planned": "Chờ phát",
    "downloaded": "Đã tải, chờ phát",
    "started": "Đang phát",
    "held": "Tạm giữ",
    "finished": "Đã phát",
    "failed": "Lỗi",
    "skipped": "Bỏ qua",
    "missed": "Bỏ lỡ",
    "cancelled": "Đã hủy",
}

AGENT_STATUS_VI: dict[str, str] = {"online": "Trực tuyến", "offline": "Mất kết nối", "unknown": "Chưa rõ"}

DONE = frozenset({"finished"})
PENDING = frozenset({"planned", "downloaded", "started", "held"})
MISSED = frozenset({"missed", "failed", "skipped"})

CLOCK_SKEW_LIMIT_S = 1.0
"""Beyond this, neighbouring clusters are audibly out of step (an echo)."""


def play_status_vi(status: str) -> str:
    return PLAY_STATUS_VI.get(status, status)


def agent_status_vi(status: str) -> str:
    return AGENT_STATUS_VI.get(status, status)
