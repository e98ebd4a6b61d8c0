"""The public side's operations both front-ends call: holding back, counting reach, questions and answers.

Each opens its own transaction and writes its audit entry (holds, answers, publication) in it. The
session-level steps live in `public` and `questions`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from controller.db.models import CitizenQuestion, Commune
from controller.errors import NotFound
from controller.services import public, questions
from controller.services.access import Actor
from controller.services.context import Context


def _tz(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.settings.timezone)


def hold_back(ctx: Context, bulletin_id: str, actor: Actor, reason: str = "") -> int | None:
    """Take a bulletin off the public page and feeds at once. Returns its commune."""
    with ctx.transaction() as session:
        return public.hold_back(session, actor, bulletin_id, reason).commune_id


def release(ctx: Context, bulletin_id: str, actor: Actor) -> int | None:
    """Show a held-back bulletin again. Returns its commune."""
    with ctx.transaction() as session:
        return public.release(session, actor, bulletin_id).commune_id


def count_reach(ctx: Context, bulletin_id: str, kind: str, visitor: str) -> bool:
    """One view or listen of a public bulletin, once per visitor per day (see `public.count_reach`)."""
    with ctx.transaction() as session:
        return public.count_reach(session, bulletin_id, kind, visitor, now=ctx.now(), tz=_tz(ctx))


def ask(
    ctx: Context,
    commune_id: int,
    data: questions.QuestionIn,
    *,
    address: str,
    throttle: questions.QuestionThrottle,
) -> CitizenQuestion | None:
    """A citizen's question, unless this address sent too many lately (refused and counted, raises Throttled)."""
    now, tz = ctx.now(), _tz(ctx)
    with ctx.transaction() as session:
        commune = session.get(Commune, commune_id)
        if commune is None:
            raise NotFound(f"commune {commune_id} not found", "Không tìm thấy xã/phường này.")
        if not data.honeypot.strip() and not throttle.allow(address, now):
            public.count_refusal(session, "flood", now, tz)
            refused = questions.Throttled(
                "too many questions from one address",
                "Bạn đã gửi nhiều câu hỏi trong thời gian ngắn. Mời bạn thử lại sau một giờ.",
            )
        else:
            try:
                return questions.ask(session, commune, data, now=now, tz=tz)
            except questions.Throttled as exc:  # the commune's daily cap: counted in this transaction
                refused = exc
    raise refused  # after the commit, so the refusal stays counted


def answer(
    ctx: Context,
    question_id: int,
    actor: Actor,
    text: str,
    *,
    at_session: bool = False,
    publish: bool | None = None,
) -> CitizenQuestion:
    """Answer in writing or mark answered at a dialogue session; `publish` shows it (only with consent)."""
    with ctx.transaction() as session:
        return questions.answer(
            session, actor, question_id, text, at_session=at_session, publish=publish, now=ctx.now()
        )


def set_published(ctx: Context, question_id: int, actor: Actor, publish: bool) -> CitizenQuestion:
    """Show or hide a question and its answer on the public page."""
    with ctx.transaction() as session:
        return questions.set_published(session, actor, question_id, publish, now=ctx.now())
