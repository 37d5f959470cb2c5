"""Question ids made by the application (random 62-bit), so a question can be logged without waiting
for the database to number it: suggestion buttons carry the id before the row is written.

PostgreSQL widens the column to BIGINT. SQLite's INTEGER PRIMARY KEY already holds 64-bit values.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("questions", "id", type_=sa.BigInteger(), existing_type=sa.Integer(),
                        existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("questions", "id", type_=sa.Integer(), existing_type=sa.BigInteger(),
                        existing_nullable=False)
