"""The controller's database for local admin commands (`loa bulletin`, `loa schedule`, `loa user`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def local_database(data_dir: Path | None) -> Iterator[tuple[Any, Any]]:
    """The controller's settings and a session factory on its database, migrated, for local admin commands."""
    from controller.config import get_settings
    from controller.db.migrate import upgrade
    from controller.db.session import make_engine, make_session_factory

    settings = get_settings(**({"data_dir": data_dir} if data_dir else {}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        yield settings, make_session_factory(engine)
    finally:
        engine.dispose()
