"""public pages: held-back bulletins, daily reach counts and their salted de-duplication, refusals, questions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import controller.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_hold",
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("held_by", sa.String(length=80), nullable=False),
        sa.Column("held_at", controller.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletin.id"]),
        sa.PrimaryKeyConstraint("bulletin_id"),
    )
    op.create_table(
        "reach_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletin.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "bulletin_id", "kind"),
    )
    op.create_index(op.f("ix_reach_count_day"), "reach_count", ["day"], unique=False)
    op.create_index(op.f("ix_reach_count_bulletin_id"), "reach_count", ["bulletin_id"], unique=False)
    op.create_table(
        "reach_salt",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "reach_seen",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index(op.f("ix_reach_seen_day"), "reach_seen", ["day"], unique=False)
    op.create_table(
        "public_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "reason"),
    )
    op.create_index(op.f("ix_public_refusal_day"), "public_refusal", ["day"], unique=False)
    op.create_table(
        "citizen_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("consent_publish", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=80), nullable=True),
        sa.Column("answered_at", controller.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", controller.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", controller.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletin.id"]),
        sa.ForeignKeyConstraint(["commune_id"], ["commune.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_citizen_question_commune_id"), "citizen_question", ["commune_id"], unique=False)
    op.create_index(op.f("ix_citizen_question_bulletin_id"), "citizen_question", ["bulletin_id"], unique=False)
    op.create_index(op.f("ix_citizen_question_created_at"), "citizen_question", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("citizen_question")
    op.drop_table("public_refusal")
    op.drop_table("reach_seen")
    op.drop_table("reach_salt")
    op.drop_table("reach_count")
    op.drop_table("public_hold")
