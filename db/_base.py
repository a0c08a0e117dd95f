"""What every stage of the catalog shares: the tables as Core handles, batching of key lists, the
insert-or-skip statements that stay exact when writers race, status checks and the raw-text view of a column.

Nothing here opens a session: these are module-level helpers that the stages of
:class:`~esma.db.repository.Catalog` (``esma.db.searches``, ``esma.db.writes``, ``esma.db.proofs``,
``esma.db.reads``) call with the session or connection they hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, MetaData, Table, Text, insert, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from esma.db.models import Base, ConjectureRow, FamilyRow, IntList, JSONText, SearchChunkRow, SearchConjectureRow

_Row = TypeVar("_Row", bound=Base)

_BATCH = 500  # keys per IN (...) list: far below every backend's parameter limit

_conj = ConjectureRow.__table__
_fam = FamilyRow.__table__
_links = SearchConjectureRow.__table__
_chunks = SearchChunkRow.__table__


def _as_text(table: Table) -> Table:
    """The same table with its integer-list and JSON columns as plain text: bulk writes bind the text made
    once (``esma.columns``, often by the worker that made the record) instead of running every value through
    the column types again."""
    return Table(table.name, MetaData(), *[
        Column(c.name, Text() if isinstance(c.type, IntList | JSONText) else c.type, primary_key=c.primary_key)
        for c in table.c])


_conj_text = _as_text(_conj)
_chunks_text = _as_text(_chunks)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _check_status(status: str, allowed: tuple[str, ...], what: str = "status") -> None:
    if status not in allowed:
        raise ValueError(f"Argument '{what}' must be one of {', '.join(allowed)}, not {status!r}")


def _batches(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _get_or_insert(
    session: Session, model: type[_Row], lookup: dict[str, Any], **values: Any
) -> tuple[_Row, bool]:
    """The row of ``model`` matching ``lookup`` (a unique key), inserting it with ``values`` if missing.

    The insert runs in a SAVEPOINT so that losing a race to another writer (PostgreSQL; on SQLite writers
    are serialized by BEGIN IMMEDIATE) only undoes the insert, not the caller's transaction.  Returns
    ``(row, created)``.
    """
    stmt = select(model).filter_by(**lookup)
    row = session.scalars(stmt).first()
    if row is not None:
        return row, False
    row = model(**lookup, **values)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = session.scalars(stmt).first()
        if found is None:  # the error was not a duplicate key (e.g. a foreign key): surface it
            raise
        return found, False
    return row, True


def _insert_ignore(conn, table, rows: list[dict[str, Any]], conflict: Sequence[str], returning: str | None = None):
    """INSERT rows, skipping those whose unique key ``conflict`` another writer stored first.

    With ``returning`` (a column name), returns that column of the rows this statement inserted (RETURNING
    gives only those), so that counters stay exact when two writers race.
    """
    if not rows:
        return []
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:  # pragma: no cover - other backends: a plain insert (single writer assumed)
        conn.execute(insert(table), rows)
        return [r[returning] for r in rows] if returning else []
    stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    if returning is None:
        _executemany(conn, stmt, rows)
        return []
    return [r[0] for r in conn.execute(stmt.returning(table.c[returning]), rows).all()]


def _executemany(conn, stmt, rows: list[dict[str, Any]]) -> None:
    """``stmt`` for every row, as one driver-level executemany: compiled once, each value through its column's
    bind processor only where it has one (timestamps, booleans); SQLAlchemy's per-row parameter handling costs
    more than the database's work for the tens of thousands of formulas a search stores."""
    names = list(rows[0])
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    table = stmt.table
    procs = {}
    for name in names:
        proc = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) if name in table.c else None
        if proc is not None:
            procs[name] = proc
    if procs:
        rows = [{**row, **{k: f(row[k]) for k, f in procs.items()}} for row in rows]
    if compiled.positional:
        order = compiled.positiontup
        params: list[Any] = [tuple(row[k] for k in order) for row in rows]
    else:
        params = rows
    conn.exec_driver_sql(compiled.string, params)


_JSON_COLUMNS = frozenset(
    {"lhs_numerator", "lhs_denominator", "terms", "recurrence", "polynomials", "relation", "certificate", "extra"}
)


def _raw(column):
    """The column's stored text, without its TypeDecorator (the JSON is spliced into the output as is)."""
    return type_coerce(column, Text()).label(column.name)
