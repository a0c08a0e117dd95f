"""Initial catalog schema: constants, searches, search_chunks, conjectures, search_conjectures, verifications.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00

Types are spelled as their database types (Text, DateTime) rather than the models' TypeDecorators so this
script never changes when the models do.  Integer sequences (terms, recurrences, lhs numerator and
denominator) are JSON text: their values outgrow 64-bit integers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "constants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_constants")),
        sa.UniqueConstraint("text", name=op.f("uq_constants_text")),
    )
    op.create_table(
        "searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("constant_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("params_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("conjectures", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("esma_version", sa.String(length=64), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        _ts("updated_at"),
        sa.CheckConstraint("status IN ('running', 'done', 'interrupted')", name=op.f("ck_searches_status")),
        sa.ForeignKeyConstraint(
            ["constant_id"], ["constants.id"], name=op.f("fk_searches_constant_id_constants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_searches")),
        sa.UniqueConstraint("constant_id", "params_key", name=op.f("uq_searches_constant_id_params_key")),
    )
    op.create_table(
        "conjectures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("constant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("lhs", sa.Text(), nullable=False),
        sa.Column("lhs_numerator", sa.Text(), nullable=False),
        sa.Column("lhs_denominator", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("signs", sa.String(length=64), nullable=False),
        sa.Column("preperiod", sa.Integer(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("recurrence", sa.Text(), nullable=False),
        sa.Column("polynomials", sa.Text(), nullable=False),
        sa.Column("closed_form", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("linear_complexity", sa.Integer(), nullable=False),
        sa.Column("verified_digits", sa.Integer(), nullable=False),
        sa.Column("digits_per_term", sa.Float(), nullable=False),
        sa.Column("scf_digits_per_term", sa.Float(), nullable=False),
        sa.Column("detection_terms", sa.Integer(), nullable=False),
        sa.Column("detection_digits", sa.Integer(), nullable=False),
        sa.Column("verify_terms", sa.Integer(), nullable=False),
        sa.Column("cf_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("first_search_id", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint(
            "status IN ('conjecture', 'proved', 'refuted')", name=op.f("ck_conjectures_status")
        ),
        sa.ForeignKeyConstraint(
            ["constant_id"], ["constants.id"], name=op.f("fk_conjectures_constant_id_constants")
        ),
        sa.ForeignKeyConstraint(
            ["first_search_id"],
            ["searches.id"],
            name=op.f("fk_conjectures_first_search_id_searches"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conjectures")),
        sa.UniqueConstraint("constant_id", "key", name=op.f("uq_conjectures_constant_id_key")),
    )
    op.create_index(op.f("ix_conjectures_constant_id_kind"), "conjectures", ["constant_id", "kind"])
    op.create_index(op.f("ix_conjectures_group_key"), "conjectures", ["group_key"])
    op.create_table(
        "search_chunks",
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("candidates", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["searches.id"],
            name=op.f("fk_search_chunks_search_id_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("search_id", "chunk_index", name=op.f("pk_search_chunks")),
    )
    op.create_table(
        "search_conjectures",
        sa.Column("search_id", sa.Integer(), nullable=False),
        sa.Column("conjecture_id", sa.Integer(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conjecture_id"],
            ["conjectures.id"],
            name=op.f("fk_search_conjectures_conjecture_id_conjectures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["search_id"],
            ["searches.id"],
            name=op.f("fk_search_conjectures_search_id_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("search_id", "conjecture_id", name=op.f("pk_search_conjectures")),
    )
    op.create_index(op.f("ix_search_conjectures_conjecture_id"), "search_conjectures", ["conjecture_id"])
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conjecture_id", sa.Integer(), nullable=False),
        sa.Column("digits_requested", sa.Integer(), nullable=False),
        sa.Column("verified_digits", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("terms_used", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("esma_version", sa.String(length=64), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["conjecture_id"],
            ["conjectures.id"],
            name=op.f("fk_verifications_conjecture_id_conjectures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    op.create_index(op.f("ix_verifications_conjecture_id"), "verifications", ["conjecture_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_verifications_conjecture_id"), table_name="verifications")
    op.drop_table("verifications")
    op.drop_index(op.f("ix_search_conjectures_conjecture_id"), table_name="search_conjectures")
    op.drop_table("search_conjectures")
    op.drop_table("search_chunks")
    op.drop_index(op.f("ix_conjectures_group_key"), table_name="conjectures")
    op.drop_index(op.f("ix_conjectures_constant_id_kind"), table_name="conjectures")
    op.drop_table("conjectures")
    op.drop_table("searches")
    op.drop_table("constants")
