"""Scan time apart from approval time: searches.scan_seconds and search_chunks.scan_seconds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 05:20:00

A search's ``seconds`` is all the work of its chunks, approvals included; ``scan_seconds`` is the part spent
scanning candidates, so that ``candidates / scan_seconds`` is the scan rate the performance model speaks of.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("searches") as batch:
        batch.add_column(sa.Column("scan_seconds", sa.Float(), nullable=False, server_default="0"))
    with op.batch_alter_table("search_chunks") as batch:
        batch.add_column(sa.Column("scan_seconds", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("search_chunks") as batch:
        batch.drop_column("scan_seconds")
    with op.batch_alter_table("searches") as batch:
        batch.drop_column("scan_seconds")
