"""Newsletter subscribers: one per user, with consent record, optional email and the sign-up step.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_code_hash", sa.String(length=128), nullable=True),
        sa.Column("email_code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_code_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("email_code_sends", sa.Integer(), server_default="0", nullable=False),
        sa.Column("email_code_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_notice_version", sa.String(length=32), nullable=True),
        sa.Column("consent_channel", sa.String(length=16), nullable=True),
        sa.Column("consent_language", sa.String(length=8), nullable=True),
        sa.Column("awaiting", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'unsubscribed', 'unreachable')", name=op.f("ck_subscribers_status")
        ),
        sa.CheckConstraint("channel IN ('telegram', 'telegram+email')", name=op.f("ck_subscribers_channel")),
        sa.CheckConstraint(
            "consent_channel IS NULL OR consent_channel IN ('telegram', 'telegram+email')",
            name=op.f("ck_subscribers_consent_channel"),
        ),
        sa.CheckConstraint(
            "role IS NULL OR role IN ('citizen', 'city-government', 'other')", name=op.f("ck_subscribers_role")
        ),
        sa.CheckConstraint(
            "awaiting IS NULL OR awaiting IN ('email', 'code', 'organisation')", name=op.f("ck_subscribers_awaiting")
        ),
        sa.ForeignKeyConstraint(
            ["telegram_id"], ["users.telegram_id"], name=op.f("fk_subscribers_telegram_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_subscribers_telegram_id")),
    )
    op.create_index(op.f("ix_subscribers_status"), "subscribers", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_subscribers_status"), table_name="subscribers")
    op.drop_table("subscribers")
