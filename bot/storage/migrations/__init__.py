"""Alembic migrations of lcbot's database; shipped in the wheel so `lcbot` can upgrade an installed bot."""
