"""The broadcast log's filters, parsed once for both front-ends (the API's query and the log page's form)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from controller.db.status import PlayStatus
from controller.errors import InvalidInput
from controller.reports.quarterly import broadcast_log
from controller.schemas import BroadcastLogEntry

MAX_TEXT = 200


@dataclass(frozen=True)
class LogFilter:
    """Which plays of the log to show: one commune, one cluster, a topic, a status, text to find."""

    commune_id: int | None = None
    agent_id: str | None = None
    topic: str | None = None
    status: PlayStatus | None = None
    text: str | None = None

    @classmethod
    def parse(
        cls,
        commune_id: int | None = None,
        agent_id: str | None = None,
        topic: str | None = None,
        status: str | None = None,
        q: str | None = None,
    ) -> LogFilter:
        """Blank fields are no filter; an unknown status or an over-long search text is refused."""
        status = (status or "").strip()
        if status and status not in PlayStatus.__members__.values():
            raise InvalidInput(f"unknown play status {status!r}", "Trạng thái lượt phát không hợp lệ.")
        text = (q or "").strip()
        if len(text) > MAX_TEXT:
            raise InvalidInput("log search text too long", f"Nội dung tìm kiếm dài quá {MAX_TEXT} ký tự.")
        return cls(
            commune_id=commune_id,
            agent_id=(agent_id or "").strip() or None,
            topic=(topic or "").strip() or None,
            status=PlayStatus(status) if status else None,
            text=text or None,
        )


def search_log(
    session: Session,
    start: datetime,
    end: datetime,
    filters: LogFilter,
    *,
    visible_communes: Collection[int] | None,
    limit: int = 5000,
) -> list[BroadcastLogEntry]:
    """The log entries in [start, end) that pass `filters`, within the communes a login may see."""
    return broadcast_log(
        session,
        start,
        end,
        commune_id=filters.commune_id,
        visible_communes=visible_communes,
        agent_id=filters.agent_id,
        topic=filters.topic,
        status=filters.status,
        text=filters.text,
        limit=limit,
    )
