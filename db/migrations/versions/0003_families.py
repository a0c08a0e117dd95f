"""Families (DESIGN section 7) and proofs (section 8): what the catalog needs to show discoveries, not rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00

* ``conjectures`` gains ``family_key`` (canonical key of the formula's eventual tail), ``representative``,
  ``relation`` (G as JSON text, T(c) = G(T_rep(c))), ``gain`` and ``certificate`` (the proof object, JSON text);
* a ``families`` table: one row per (constant, family key) with its representative, member counts, gain,
  simplicity and rank among the constant's families;
* ``search_chunks.hit_records``: a chunk's confirmed (not yet approved) hits, kept until the search has assembled its
  families, so that a search killed between its scan and its approvals resumes without scanning again;
* ``searches`` gains ``scanned`` (candidates actually expanded: one per translation class), ``families`` and
  ``approvals``.

Rows stored before this revision get ``family_key`` '' here; the command line computes their families the next
time it opens the catalog (``esma.cli.families.backfill``): that needs the engine, which a migration must not
import.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conjectures") as batch:
        batch.add_column(sa.Column("family_key", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("representative", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("relation", sa.Text(), nullable=True))
        batch.add_column(sa.Column("gain", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("certificate", sa.Text(), nullable=True))
        batch.create_index(batch.f("ix_conjectures_constant_id_family_key"), ["constant_id", "family_key"])
    with op.batch_alter_table("search_chunks") as batch:
        batch.add_column(sa.Column("hit_records", sa.Text(), nullable=True))
    with op.batch_alter_table("searches") as batch:
        batch.add_column(sa.Column("scanned", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("families", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("approvals", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "families",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("constant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("proved_members", sa.Integer(), nullable=False),
        sa.Column("gain", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("recurrence_order", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("base", sa.Boolean(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["constant_id"], ["constants.id"], name=op.f("fk_families_constant_id_constants")
        ),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["conjectures.id"],
            name=op.f("fk_families_representative_id_conjectures"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_families")),
        sa.UniqueConstraint("constant_id", "key", name=op.f("uq_families_constant_id_key")),
    )
    op.create_index(op.f("ix_families_constant_id_rank"), "families", ["constant_id", "rank"])


def downgrade() -> None:
    op.drop_index(op.f("ix_families_constant_id_rank"), table_name="families")
    op.drop_table("families")
    with op.batch_alter_table("searches") as batch:
        batch.drop_column("approvals")
        batch.drop_column("families")
        batch.drop_column("scanned")
    with op.batch_alter_table("search_chunks") as batch:
        batch.drop_column("hit_records")
    with op.batch_alter_table("conjectures") as batch:
        batch.drop_index(batch.f("ix_conjectures_constant_id_family_key"))
        batch.drop_column("certificate")
        batch.drop_column("gain")
        batch.drop_column("relation")
        batch.drop_column("representative")
        batch.drop_column("family_key")
