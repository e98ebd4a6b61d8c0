"""Citizens' questions from the public page, and the officer's answers.

What a citizen types is kept as plain text (control characters removed, lengths capped) and only ever shown
escaped. Floods are refused and counted per day, never stored: a per-address limit in memory (keyed by a salted
hash, not the address), a honeypot field, and a cap on new questions per commune per day.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.db.models import Bulletin, CitizenQuestion, Commune
from controller.errors import ControllerError, InvalidInput, NotFound
from controller.public_input import plain_text
from controller.schemas import QuestionStatus
from controller.services import audit
from controller.services.access import Actor, require_commune
from controller.services.public import count_refusal

BODY_MAX = 1000
ANSWER_MAX = 4000
NAME_MAX = 120
CONTACT_MAX = 200


class Throttled(ControllerError):
    """Too many questions from one place or for one commune today."""

    status_code = 429


@dataclass(frozen=True)
class QuestionIn:
    """A question as the public form sent it, before it is checked."""

    body: str
    name: str = ""
    contact: str = ""
    topic: str = ""
    consent_publish: bool = False
    bulletin_id: str | None = None
    honeypot: str = ""


class QuestionThrottle:
    """Per-address sliding window, in memory only, keyed by a salted hash that changes with each process.

    Holds at most `max_keys` entries (the oldest are dropped), so a flood from many addresses cannot grow it.
    """

    def __init__(self, per_window: int = 5, window: timedelta = timedelta(hours=1), max_keys: int = 10_000) -> None:
        self.per_window = per_window
        self.window = window
        self.max_keys = max_keys
        self._salt = secrets.token_bytes(16)
        self._hits: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, address: str, now: datetime) -> bool:
        key = hashlib.sha256(self._salt + address.encode()).hexdigest()[:32]
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            allowed = len(hits) < self.per_window
            if allowed:
                hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return allowed


def ask(
    session: Session,
    commune: Commune,
    data: QuestionIn,
    *,
    now: datetime,
    tz: ZoneInfo,
    daily_cap: int = 200,
) -> CitizenQuestion | None:
    """Store a citizen's question as plain text. None when the honeypot was filled (counted, not stored).

    Raises InvalidInput for an empty or over-long question and Throttled once the commune's daily cap is reached.
    """
    if data.honeypot.strip():
        count_refusal(session, "honeypot", now, tz)
        return None
    if len(data.body) > BODY_MAX * 2:
        raise InvalidInput("question too long", f"Câu hỏi quá dài: tối đa {BODY_MAX} ký tự.")
    body = plain_text(data.body, BODY_MAX + 1, multiline=True)
    if not body:
        raise InvalidInput("empty question", "Hãy nhập nội dung câu hỏi.")
    if len(body) > BODY_MAX:
        raise InvalidInput("question too long", f"Câu hỏi quá dài: tối đa {BODY_MAX} ký tự.")
    day_start = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    today = session.scalar(
        select(func.count(CitizenQuestion.id)).where(
            CitizenQuestion.commune_id == commune.id, CitizenQuestion.created_at >= day_start
        )
    )
    if (today or 0) >= daily_cap:
        count_refusal(session, "commune-cap", now, tz)
        raise Throttled(
            f"commune {commune.code} reached its daily cap of {daily_cap} questions",
            "Hôm nay xã đã nhận quá nhiều câu hỏi. Mời bạn gửi lại vào ngày mai.",
        )
    bulletin_id = None
    if data.bulletin_id:
        bulletin = session.get(Bulletin, data.bulletin_id[:64])
        bulletin_id = bulletin.id if bulletin is not None and bulletin.commune_id == commune.id else None
    question = CitizenQuestion(
        commune_id=commune.id,
        bulletin_id=bulletin_id,
        topic=plain_text(data.topic, 64),
        name=plain_text(data.name, NAME_MAX),
        contact=plain_text(data.contact, CONTACT_MAX),
        body=body,
        consent_publish=data.consent_publish,
        created_at=now,
    )
    session.add(question)
    session.flush()
    return question


def get_question(session: Session, actor: Actor, question_id: int, *, write: bool = False) -> CitizenQuestion:
    question = session.get(CitizenQuestion, question_id)
    if question is None:
        raise NotFound(f"question {question_id} not found", "Không tìm thấy câu hỏi.")
    require_commune(session, actor, question.commune_id, write=write)
    return question


def inbox(
    session: Session, actor: Actor, commune_id: int, *, status: str | None = None, limit: int = 500
) -> list[CitizenQuestion]:
    """The commune's questions, newest first; `status` filters (new, answered, session)."""
    require_commune(session, actor, commune_id)
    stmt = (
        select(CitizenQuestion)
        .where(CitizenQuestion.commune_id == commune_id)
        .order_by(CitizenQuestion.created_at.desc(), CitizenQuestion.id.desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(CitizenQuestion.status == QuestionStatus(status).value)
    return list(session.scalars(stmt))


def answer(
    session: Session,
    actor: Actor,
    question_id: int,
    text: str,
    *,
    at_session: bool = False,
    publish: bool | None = None,
    now: datetime,
) -> CitizenQuestion:
    """Answer in writing, or mark it answered at a dialogue session (the text is then a short note)."""
    question = get_question(session, actor, question_id, write=True)
    cleaned = plain_text(text, ANSWER_MAX + 1, multiline=True)
    if len(cleaned) > ANSWER_MAX:
        raise InvalidInput("answer too long", f"Câu trả lời quá dài: tối đa {ANSWER_MAX} ký tự.")
    if not cleaned and not at_session:
        raise InvalidInput("empty answer", "Hãy nhập câu trả lời, hoặc đánh dấu đã trả lời tại buổi đối thoại.")
    question.answer = cleaned
    question.status = (QuestionStatus.SESSION if at_session else QuestionStatus.ANSWERED).value
    question.answered_by = actor.username
    question.answered_at = now
    audit.record(
        session, actor, "answer", "question", question.id, commune_id=question.commune_id, detail=question.status
    )
    if publish is not None:
        set_published(session, actor, question_id, publish, now=now)
    return question


def set_published(session: Session, actor: Actor, question_id: int, publish: bool, *, now: datetime) -> CitizenQuestion:
    """Show (or hide) the question and its answer on the public page: only with the asker's consent."""
    question = get_question(session, actor, question_id, write=True)
    if publish:
        if not question.consent_publish:
            raise InvalidInput(
                f"question {question_id} has no consent to publish",
                "Người hỏi không đồng ý công khai câu hỏi này.",
            )
        if not question.answer:
            raise InvalidInput(f"question {question_id} has no answer", "Hãy trả lời trước khi công khai.")
    if question.published != publish:
        question.published = publish
        question.published_at = now if publish else None
        audit.record(
            session,
            actor,
            "publish" if publish else "unpublish",
            "question",
            question.id,
            commune_id=question.commune_id,
        )
    return question
