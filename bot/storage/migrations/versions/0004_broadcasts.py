"""Newsletter broadcasts: each issue with its texts and lease, one delivery row per (issue, subscriber).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcast_issues",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("default_language", sa.String(length=8), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('loaded', 'running', 'stopped', 'done')", name=op.f("ck_broadcast_issues_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_issues")),
    )
    op.create_table(
        "broadcast_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.String(length=64), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("runner", sa.String(length=128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'uncertain', 'skipped')",
            name=op.f("ck_broadcast_deliveries_state"),
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["broadcast_issues.id"], name=op.f("fk_broadcast_deliveries_issue_id_broadcast_issues"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["telegram_id"], ["users.telegram_id"], name=op.f("fk_broadcast_deliveries_telegram_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_deliveries")),
        sa.UniqueConstraint("issue_id", "telegram_id", name="uq_broadcast_deliveries_issue_id_telegram_id"),
    )
    op.create_index("ix_broadcast_deliveries_issue_id_state_id", "broadcast_deliveries", ["issue_id", "state", "id"])
    op.create_index(op.f("ix_broadcast_deliveries_telegram_id"), "broadcast_deliveries", ["telegram_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_broadcast_deliveries_telegram_id"), table_name="broadcast_deliveries")
    op.drop_index("ix_broadcast_deliveries_issue_id_state_id", table_name="broadcast_deliveries")
    op.drop_table("broadcast_deliveries")
    op.drop_table("broadcast_issues")
