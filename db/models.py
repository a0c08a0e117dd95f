"""SQLAlchemy models of the catalog (schema version: the head of ``esma/db/migrations``).

Every constraint and index is named through :data:`NAMING_CONVENTION`, so migrations can address them on any
backend (SQLite batch mode recreates tables and needs the names).  Integer sequences are stored as JSON text
by :class:`IntList` because recurrence coefficients and partial quotients outgrow 64-bit integers.

A change here needs a new migration in ``esma/db/migrations/versions`` (the test suite compares the migrated
schema with these models and fails on any difference).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from esma.columns import int_from_text, int_list_text, int_to_text, json_text  # the stored text (re-exported)
from esma.records import STATUSES  # the statuses a formula can have

__all__ = [
    "NAMING_CONVENTION",
    "SEARCH_STATUSES",
    "STATUSES",
    "Base",
    "ConjectureRow",
    "ConstantRow",
    "FamilyRow",
    "IntList",
    "JSONText",
    "SearchChunkRow",
    "SearchConjectureRow",
    "SearchRow",
    "UTCDateTime",
    "VerificationRow",
    "int_from_text",
    "int_list_text",
    "int_to_text",
    "json_text",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Statuses of a search.
SEARCH_STATUSES = ("running", "done", "interrupted")

class IntList(TypeDecorator[tuple[int, ...]]):
    """A tuple of Python ints stored as the JSON text of a list of integers, exact for any size.

    >>> t = IntList()
    >>> t.process_bind_param((1, -(10**40)), None)
    '[1,-10000000000000000000000000000000000000000]'
    >>> t.process_result_value('[1, -10000000000000000000000000000000000000000]', None)
    (1, -10000000000000000000000000000000000000000)
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect | None) -> str | None:
        return None if value is None else int_list_text(value)

    def process_result_value(self, value: Any, dialect: Dialect | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        return tuple(json.loads(value, parse_int=int_from_text))


class JSONText(TypeDecorator[Any]):
    """Any JSON-able value stored as canonical JSON text (sorted keys, no spaces).

    Text rather than the JSON type so the stored bytes are the same on every backend and big integers stay
    exact (JSON numbers are parsed back as Python ints).
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect | None) -> str | None:
        return json_text(value)

    def process_result_value(self, value: Any, dialect: Dialect | None) -> Any:
        if value is None:
            return None
        return json.loads(value, parse_int=int_from_text)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware UTC (SQLite stores no zone and returns naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class ConstantRow(Base):
    """A constant, by its canonical expression (``pi``, ``zeta(3)``, ``log(2)``...)."""

    __tablename__ = "constants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchRow(Base):
    """One search: a constant and a set of parameters.  Same constant + same parameters = same search,
    which is resumed rather than duplicated."""

    __tablename__ = "searches"
    __table_args__ = (
        UniqueConstraint("constant_id", "params_key"),
        CheckConstraint(f"status IN ({_in(SEARCH_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    constant_id: Mapped[int] = mapped_column(ForeignKey("constants.id"))
    params: Mapped[Any] = mapped_column(JSONText)
    params_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="running")
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    candidates: Mapped[int] = mapped_column(BigInteger, default=0)
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    conjectures: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    scan_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    scanned: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    families: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    approvals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    esma_version: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SearchChunkRow(Base):
    """Checkpoint: the row exists iff that chunk's scan was committed.  ``hits`` counts its confirmed hits and
    ``hit_records`` holds them (``esma.records.Hit`` as JSON, not yet approved) until the search has assembled
    and stored its families."""

    __tablename__ = "search_chunks"
    __table_args__ = (PrimaryKeyConstraint("search_id", "chunk_index"),)

    search_id: Mapped[int] = mapped_column(ForeignKey("searches.id", ondelete="CASCADE"))
    chunk_index: Mapped[int] = mapped_column(Integer)
    candidates: Mapped[int] = mapped_column(BigInteger, default=0)
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    scan_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    hit_records: Mapped[Any] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConjectureRow(Base):
    """One formula, unique per (constant, key).  Columns mirror :class:`esma.records.Conjecture`."""

    __tablename__ = "conjectures"
    __table_args__ = (
        UniqueConstraint("constant_id", "key"),
        Index(None, "constant_id", "kind"),
        Index(None, "group_key"),
        Index(None, "constant_id", "family_key"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    constant_id: Mapped[int] = mapped_column(ForeignKey("constants.id"))
    key: Mapped[str] = mapped_column(Text)
    group_key: Mapped[str] = mapped_column(Text, default="")
    lhs: Mapped[str] = mapped_column(Text)
    lhs_numerator: Mapped[tuple[int, ...]] = mapped_column(IntList)
    lhs_denominator: Mapped[tuple[int, ...]] = mapped_column(IntList)
    value: Mapped[str] = mapped_column(Text)
    signs: Mapped[str] = mapped_column(String(64))
    preperiod: Mapped[int] = mapped_column(Integer)
    terms: Mapped[tuple[int, ...]] = mapped_column(IntList)
    recurrence: Mapped[tuple[int, ...]] = mapped_column(IntList)
    polynomials: Mapped[Any] = mapped_column(JSONText)
    closed_form: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[int] = mapped_column(Integer, default=0)
    linear_complexity: Mapped[int] = mapped_column(Integer, default=0)
    verified_digits: Mapped[int] = mapped_column(Integer)
    digits_per_term: Mapped[float] = mapped_column(Float)
    scf_digits_per_term: Mapped[float] = mapped_column(Float)
    detection_terms: Mapped[int] = mapped_column(Integer, default=0)
    detection_digits: Mapped[int] = mapped_column(Integer, default=0)
    verify_terms: Mapped[int] = mapped_column(Integer, default=0)
    cf_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="conjecture")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    family_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    representative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    relation: Mapped[tuple[int, ...] | None] = mapped_column(IntList, nullable=True)
    gain: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    certificate: Mapped[Any] = mapped_column(JSONText, nullable=True)
    extra: Mapped[Any] = mapped_column(JSONText)
    first_search_id: Mapped[int | None] = mapped_column(ForeignKey("searches.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FamilyRow(Base):
    """One family of a constant (DESIGN section 7): the formulas sharing a canonical tail, summarised.

    ``representative_id`` is the simplest member; ``members`` and ``proved_members`` count the constant's
    formulas with this ``key``; ``gain``, ``kind``, ``period``, ``recurrence_order`` and ``height`` are the
    representative's; ``rank`` orders the constant's families (gain descending, then simplicity).
    """

    __tablename__ = "families"
    __table_args__ = (
        UniqueConstraint("constant_id", "key"),
        Index(None, "constant_id", "rank"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    constant_id: Mapped[int] = mapped_column(ForeignKey("constants.id"))
    key: Mapped[str] = mapped_column(Text)
    representative_id: Mapped[int | None] = mapped_column(ForeignKey("conjectures.id", ondelete="SET NULL"))
    members: Mapped[int] = mapped_column(Integer, default=0)
    proved_members: Mapped[int] = mapped_column(Integer, default=0)
    gain: Mapped[float] = mapped_column(Float, default=0.0)
    kind: Mapped[str] = mapped_column(String(32), default="")
    period: Mapped[int] = mapped_column(Integer, default=0)
    recurrence_order: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    base: Mapped[bool] = mapped_column(Boolean, default=False)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SearchConjectureRow(Base):
    """Which search found which conjecture (a conjecture found again by another search gets a second row)."""

    __tablename__ = "search_conjectures"
    __table_args__ = (
        PrimaryKeyConstraint("search_id", "conjecture_id"),
        Index(None, "conjecture_id"),
    )

    search_id: Mapped[int] = mapped_column(ForeignKey("searches.id", ondelete="CASCADE"))
    conjecture_id: Mapped[int] = mapped_column(ForeignKey("conjectures.id", ondelete="CASCADE"))
    chunk_index: Mapped[int] = mapped_column(Integer)


class VerificationRow(Base):
    """One verification run of a conjecture to some number of digits."""

    __tablename__ = "verifications"
    __table_args__ = (Index(None, "conjecture_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conjecture_id: Mapped[int] = mapped_column(ForeignKey("conjectures.id", ondelete="CASCADE"))
    digits_requested: Mapped[int] = mapped_column(Integer)
    verified_digits: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    terms_used: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    esma_version: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
