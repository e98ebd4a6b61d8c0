"""wire trust (protocol v1.2): agent keys, confirmation sequence numbers and manifest revisions, stale plays,
retired agents

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import controller.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("key_set_at", controller.db.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retired_at", controller.db.base.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("play_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("manifest_revision", sa.Integer(), nullable=True))
    with op.batch_alter_table("play", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stale_schedule", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "report_seq",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("received_at", controller.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("report_seq")
    with op.batch_alter_table("play", schema=None) as batch_op:
        batch_op.drop_column("stale_schedule")
    with op.batch_alter_table("play_event", schema=None) as batch_op:
        batch_op.drop_column("manifest_revision")
        batch_op.drop_column("seq")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("key_set_at")
        batch_op.drop_column("public_key")
