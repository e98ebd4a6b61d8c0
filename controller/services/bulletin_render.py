"""`loa bulletin render`: import bulletin files into the controller database and render their audio."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from controller.audio import MediaStore
from controller.db.models import Bulletin
from controller.db.session import transaction
from controller.errors import ControllerError
from controller.services.access import Actor
from controller.services.approval import DurationWindow
from controller.services.bulletin_files import import_bulletin_file
from controller.services.bulletins import render_bulletin
from protocol.messages import Priority

MAX_BYTES_PER_5_MIN = 1_200_000


@dataclass(frozen=True)
class RenderReport:
    """One file's outcome: the audio's figures, or the error that stopped it."""

    path: Path
    bulletin_id: str | None = None
    import_action: str = ""
    duration_s: float = 0.0
    lufs: float | None = None
    true_peak_dbtp: float | None = None
    size_bytes: int = 0
    engine: str = ""
    voice: str = ""
    fallback: str | None = None
    problem: str | None = None
    error: str | None = None


def render_files(
    factory: sessionmaker[Session],
    store: MediaStore,
    paths: Iterable[Path],
    *,
    now: Callable[[], datetime],
    window: DurationWindow,
    actor: Actor | None = None,
    jingles_dir: Path | None = None,
    emergency_ids: Callable[[str], bool] | None = None,
) -> Iterable[RenderReport]:
    """Import each file (as a draft, or back to draft if changed) and render it, one transaction per file.

    Yields a report per file as it finishes, so a caller can show progress. A bad file is reported, not raised.
    """
    actor = actor or Actor.system("loa bulletin render")
    for path in paths:
        try:
            with transaction(factory) as session:
                result = import_bulletin_file(session, path, actor, now())
                asset, _ = render_bulletin(session, store, result.bulletin_id, actor, now(), jingles_dir=jingles_dir)
                priority = session.get_one(Bulletin, result.bulletin_id).priority
                problem = None if priority == Priority.EMERGENCY.value else window.problem(asset.duration_s)
                yield RenderReport(
                    path=path,
                    bulletin_id=result.bulletin_id,
                    import_action=result.action,
                    duration_s=asset.duration_s,
                    lufs=asset.lufs,
                    true_peak_dbtp=asset.true_peak_dbtp,
                    size_bytes=asset.size_bytes,
                    engine=asset.engine,
                    voice=asset.voice,
                    fallback=asset.fallback_reason,
                    problem=problem,
                )
        except ControllerError as exc:
            yield RenderReport(path=path, error=exc.message_vi)
        except OSError as exc:
            yield RenderReport(path=path, error=f"Không đọc được tệp: {exc.strerror or exc}")
