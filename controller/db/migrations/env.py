"""Alembic environment. The controller passes its own connection in `config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from controller.db import models  # noqa: F401  (registers the tables)
from controller.db.base import Base
from controller.db.session import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection")
    with make_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
