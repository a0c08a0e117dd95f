"""The catalog: the only way the rest of esma touches the database.

A search runs in two phases (``esma.search``).  The scan checkpoints chunk by chunk: a chunk's confirmed hits
(not yet approved: ``esma.records.Hit``) and its checkpoint row are one transaction, and empty chunks are
committed in batches.  The families phase then stores the approved formulas (``store_formulas``) and the
family summaries, and clears the pending hits.  An interrupted search resumes exactly where it stopped::

    >>> cat = Catalog(":memory:")
    >>> sid = cat.start_search("pi", {"depth": 3}, chunks_total=2, esma_version="0.1.0")
    >>> cat.done_chunks(sid)
    set()
    >>> cat.commit_chunk(sid, 0, candidates=100, seconds=0.5)
    True
    >>> cat.start_search("pi", {"depth": 3}, chunks_total=2, esma_version="0.1.0") == sid  # resumed
    True
    >>> cat.done_chunks(sid)
    {0}
    >>> cat.finish_search(sid)["candidates_per_second"]
    200.0
    >>> cat.close()

Conjectures are unique per (constant, key): storing a formula again keeps the stored row (and its id).
Families are unique per (constant, family key); their rows are refreshed from their members whenever
formulas are stored, and ranked per constant (gain descending, then simplicity).  Hot paths (bulk writes,
exports) use SQLAlchemy Core statements, not the ORM.

``Catalog`` (here: opening, sessions, read-only opening and the helpers every stage shares) is assembled
from one mixin per stage:

- :mod:`esma.db.searches`: searches, chunk checkpoints and pending hits;
- :mod:`esma.db.writes`: storing formulas and refreshing and ranking their families;
- :mod:`esma.db.proofs`: proofs, status changes and verification runs;
- :mod:`esma.db.reads`: reading formulas, families, members and constants, and streaming JSON records.

:mod:`esma.db.rows` reads stored text back as records (checking every value) and :mod:`esma.db._base`
holds the table handles and statements the stages share.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from esma.db._base import _get_or_insert
from esma.db.engine import display_url, make_engine, read_only
from esma.db.migrate import upgrade
from esma.db.models import ConstantRow, SearchRow
from esma.db.proofs import ProofsMixin
from esma.db.reads import ReadsMixin
from esma.db.rows import UnreadableRow, report_unreadable
from esma.db.searches import SearchesMixin, params_key
from esma.db.writes import WritesMixin
from esma.records import FAMILY_SORTS

__all__ = ["FAMILY_SORTS", "Catalog", "UnreadableRow", "params_key", "report_unreadable"]


class Catalog(SearchesMixin, WritesMixin, ProofsMixin, ReadsMixin):
    """A catalog database: searches, their checkpoints, conjectures, families and verifications.

    ``url_or_path``: an SQLite file path, a SQLAlchemy URL, or ``None`` for ``$ESMA_DB`` / ``./esma.sqlite``
    (see :func:`esma.db.engine.make_engine`).  Opening upgrades the schema to the newest migration.  Each
    method is its own transaction; a ``Catalog`` may be shared by threads and several processes may open
    the same file.

    >>> with Catalog(":memory:") as cat:
    ...     cat.url
    'sqlite:///:memory:'
    """

    #: Called with an :class:`UnreadableRow` for each stored row a reader skips (or, for the search's readers,
    #: reads without its certificate), once per row and column; the default writes one line on stderr.  Set it
    #: on an instance to collect or log them instead.
    on_unreadable = staticmethod(report_unreadable)

    def __init__(self, url_or_path: str | os.PathLike[str] | None = None) -> None:
        self._engine = make_engine(url_or_path)
        try:
            upgrade(self._engine)
        except BaseException:
            self._engine.dispose()
            raise
        # expire_on_commit=False: rows are read after their transaction ended (ids, counters)
        self._write = sessionmaker(self._engine, expire_on_commit=False)
        self._read = sessionmaker(read_only(self._engine), expire_on_commit=False)
        #: The database URL with any password masked, for display.
        self.url: str = display_url(self._engine.url)

    # -- lifecycle -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release every pooled connection (the catalog cannot be used afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({self.url!r})"

    # -- helpers shared by the stages ----------------------------------------------------------------------

    @staticmethod
    def _constant_id(session: Session, text: str, cache: dict[str, int] | None = None) -> int:
        if cache is not None and text in cache:
            return cache[text]
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"Argument 'constant' must be a non-empty string, not {text!r}")
        row, _ = _get_or_insert(session, ConstantRow, {"text": text})
        if cache is not None:
            cache[text] = row.id
        return row.id

    @staticmethod
    def _search(session: Session, search_id: int) -> SearchRow:
        row = session.get(SearchRow, search_id)
        if row is None:
            raise KeyError(f"No search with id {search_id}")
        return row

    def _unreadable(self, error: UnreadableRow) -> None:
        """Report ``error`` through ``on_unreadable``, once per row and column for this catalog object (a page
        or an export reads a representative many times; a server reports it once)."""
        seen = self.__dict__.setdefault("_reported", set())
        key = (error.what, error.row_id, error.column)
        if key in seen:
            return
        if len(seen) < 100_000:
            seen.add(key)
        self.on_unreadable(error)

    # -- read-only access (``esma serve``, ``esma export --format html``) -------------------------------------

    @classmethod
    def open_read_only(cls, url_or_path: str | os.PathLike[str] | None = None) -> Catalog:
        """Open an existing catalog so that it cannot be written, without migrating it.

        SQLite: the file is opened with the ``mode=ro`` URI and ``PRAGMA query_only`` (the journal mode is
        left as it is: switching to WAL would be a write); PostgreSQL: every transaction is
        ``READ ONLY``.  Raises ``FileNotFoundError`` for a missing SQLite file, and ``ValueError`` with one
        line when the schema is not the one this esma writes (older: run any esma command on it once to
        migrate; newer: upgrade esma).

        >>> import tempfile, os.path
        >>> path = os.path.join(tempfile.mkdtemp(), "c.sqlite")
        >>> Catalog(path).close()                                 # create and migrate
        >>> with Catalog.open_read_only(path) as cat:
        ...     cat.constants()
        []
        """
        from sqlalchemy import create_engine

        from esma.db.engine import BUSY_TIMEOUT_MS, read_only_url, resolve_url
        from esma.db.migrate import current_revision, head_revision

        url = resolve_url(url_or_path)
        if url.get_backend_name() == "sqlite":
            path = url.database or ""
            if path in ("", ":memory:") or path.startswith("file:"):
                raise ValueError(f"A read-only catalog must be an SQLite file path, not {path or 'memory'!r}")
            if not os.path.isfile(path):
                raise FileNotFoundError(f"No catalog file {path}")
            ro = read_only_url(url)  # mode=ro (and immutable=1 on a read-only medium)
            engine = create_engine(ro, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

            @event.listens_for(engine, "connect")
            def _query_only(dbapi_connection: Any, connection_record: Any) -> None:
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                    cursor.execute("PRAGMA query_only=ON")
                finally:
                    cursor.close()
        elif url.get_backend_name() == "postgresql":
            engine = create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
        else:
            engine = create_engine(url)
        try:
            have, want = current_revision(engine), head_revision()
        except BaseException:
            engine.dispose()
            raise
        if have != want:
            engine.dispose()
            where = display_url(url)
            if have is None:
                raise ValueError(f"{where} is not an esma catalog (no schema version)")
            from alembic.script import ScriptDirectory

            from esma.db.migrate import alembic_config

            known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
            if have in known:
                raise ValueError(
                    f"catalog {where} has the older schema {have} (this esma needs {want}): "
                    f"run any esma command on it once to migrate it, e.g. esma list --db {where}"
                )
            from esma.db.migrate import NewerSchemaError

            raise NewerSchemaError(have, where)
        self = cls.__new__(cls)
        self._engine = engine
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read = sessionmaker(engine, expire_on_commit=False)
        self.url = display_url(url)
        return self
