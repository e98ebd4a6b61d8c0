"""Vietnamese names for play states and the groups the dashboard counts them in."""

from __future__ import annotations

from controller.db.status import PlayStatus

PLAY_STATUS_VI: dict[str, str] = {
    PlayStatus.PLANNED: "Chờ phát",
    PlayStatus.DOWNLOADED: "Đã tải, chờ phát",
    PlayStatus.STARTED: "Đang phát",
    PlayStatus.HELD: "Tạm giữ",
    PlayStatus.FINISHED: "Đã phát",
    PlayStatus.FAILED: "Lỗi",
    PlayStatus.SKIPPED: "Bỏ qua",
    PlayStatus.MISSED: "Bỏ lỡ",
    PlayStatus.CANCELLED: "Đã hủy",
}

AGENT_STATUS_VI: dict[str, str] = {"online": "Trực tuyến", "offline": "Mất kết nối", "unknown": "Chưa rõ"}

DONE = frozenset({PlayStatus.FINISHED})
PENDING = frozenset({PlayStatus.PLANNED, PlayStatus.DOWNLOADED, PlayStatus.STARTED, PlayStatus.HELD})
MISSED = frozenset({PlayStatus.MISSED, PlayStatus.FAILED, PlayStatus.SKIPPED})

CLOCK_SKEW_LIMIT_S = 1.0
"""Beyond this, neighbouring clusters are audibly out of step (an echo)."""


def play_status_vi(status: str) -> str:
    return PLAY_STATUS_VI.get(status, status)


def agent_status_vi(status: str) -> str:
    return AGENT_STATUS_VI.get(status, status)
