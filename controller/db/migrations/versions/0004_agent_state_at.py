"""agent state_at: the instant of the state the agent's status came from; bulletin's audio FK on PostgreSQL

0001 declared bulletin.audio_asset_id's foreign key with use_alter (bulletin and audio_asset refer to each
other), and `op.create_table` leaves such keys to a later ALTER that never came: PostgreSQL databases have
no such constraint. It is added here where it is missing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import controller.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BULLETIN_AUDIO_FK = "fk_bulletin_audio_asset_id_audio_asset"


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_at", controller.db.base.UtcDateTime(timezone=True), nullable=True))
    if _lacks_bulletin_audio_fk():
        op.create_foreign_key(BULLETIN_AUDIO_FK, "bulletin", "audio_asset", ["audio_asset_id"], ["id"])


def _lacks_bulletin_audio_fk() -> bool:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return False  # SQLite wrote the key into CREATE TABLE; it cannot ALTER one in anyway
    return all(fk["name"] != BULLETIN_AUDIO_FK for fk in sa.inspect(bind).get_foreign_keys("bulletin"))


def downgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("state_at")
