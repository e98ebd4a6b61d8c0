"""The citizens' side, with no login: a commune's public page, podcast feeds, QR codes, posters and questions.

It never touches the session, so a visitor gets no cookie, and it keeps no address (see services/public.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from controller.services.questions import QuestionThrottle

STATIC = Path(__file__).parent / "static"


def mount_public(app: FastAPI) -> None:
    """Add the public routes, their static files and the question throttle (in memory, per process)."""
    from controller.public.routes import router

    app.state.question_throttle = QuestionThrottle()
    app.include_router(router)
    app.mount("/p-static", StaticFiles(directory=STATIC), name="public-static")
