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

REJECT_REASON_VI: dict[str, str] = {
    "malformed": "vì lệnh sai định dạng",
    "unsigned": "vì lệnh không có chữ ký",
    "unknown-key": "vì chữ ký bằng khóa lạ",
    "bad-signature": "vì chữ ký không hợp lệ",
    "expired": "vì lệnh đã hết hạn",
    "not-yet-valid": "vì lệnh chưa đến giờ có hiệu lực (đồng hồ lệch?)",
    "replayed": "vì lệnh bị gửi lại (nghi giả mạo)",
    "wrong-address": "vì lệnh gửi nhầm địa chỉ",
    "not-admin": "vì lệnh cần khóa quản trị",
    "quiet-hours": "vì giờ yên tĩnh",
}
"""protocol.errors.RejectReason, as the dashboard says it."""

DONE = frozenset({PlayStatus.FINISHED})
PENDING = frozenset({PlayStatus.PLANNED, PlayStatus.DOWNLOADED, PlayStatus.STARTED, PlayStatus.HELD})
MISSED = frozenset({PlayStatus.MISSED, PlayStatus.FAILED, PlayStatus.SKIPPED})

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

CLOCK_SKEW_LIMIT_S = 1.0
"""Beyond this, neighbouring clusters are audibly out of step (an echo)."""


def play_status_vi(status: str) -> str:
    return PLAY_STATUS_VI.get(status, status)


def agent_status_vi(status: str) -> str:
    return AGENT_STATUS_VI.get(status, status)


def reject_reason_vi(reason: str) -> str:
    """Why a cluster refused a command, in Vietnamese; an unknown code is not shown raw."""
    return REJECT_REASON_VI.get(reason, "vì lý do an toàn")
