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

REPORT_REFUSALS_VI: dict[str, str] = {
    "implausible": "số liệu không thể đúng",
    "future-dated": "thời điểm ở tương lai",
    "out-of-order": "sự kiện sai thứ tự",
    "unsigned": "không có chữ ký",
    "bad-signature": "chữ ký sai",
    "unknown-key": "ký bằng khóa lạ",
    "sequence-gap": "thiếu xác nhận trong chuỗi",
    "malformed": "dữ liệu hỏng",
}
"""Security events the controller records about an agent's report it refused (not the agent's own refusals)."""
REFUSED_BY_CONTROLLER = "controller:"
"""The `topic` prefix of those records: `controller:<kind of the refused report>`."""

CLOCK_SKEW_LIMIT_S = 1.0
"""Beyond this, neighbouring clusters are audibly out of step (an echo)."""


def play_status_vi(status: str) -> str:
    return PLAY_STATUS_VI.get(status, status)


def agent_status_vi(status: str) -> str:
    return AGENT_STATUS_VI.get(status, status)
