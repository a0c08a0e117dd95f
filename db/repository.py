"""The catalog: the only way the rest of esma touches the database.

A search checkpoints chunk by chunk; each chunk's conjectures and its checkpoint row are one transaction, so
an interrupted search resumes exactly where the last committed chunk left off::

    >>> cat = Catalog(":memory:")
    >>> sid = cat.start_search("pi", {"depth": 3}, chunks_total=2, esma_version="0.1.0")
    >>> cat.done_chunks(sid)
    set()
    >>> cat.commit_chunk(sid, 0, [], candidates=100, hits=0, seconds=0.5)
    []
    >>> cat.start_search("pi", {"depth": 3}, chunks_total=2, esma_version="0.1.0") == sid  # resumed
    True
    >>> cat.done_chunks(sid)
    {0}
    >>> cat.finish_search(sid)["candidates_per_second"]
    200.0
    >>> cat.close()

Conjectures are unique per (constant, key): finding a formula again returns the stored row's id.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, Select, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from esma.db.engine import display_url, make_engine, read_only
from esma.db.migrate import upgrade
from esma.db.models import (
    SEARCH_STATUSES,
    STATUSES,
    Base,
    ConjectureRow,
    ConstantRow,
    SearchChunkRow,
    SearchConjectureRow,
    SearchRow,
    VerificationRow,
    utcnow,
)
from esma.records import Conjecture, signs_from_text, signs_to_text

__all__ = ["Catalog", "params_key"]

_Row = TypeVar("_Row", bound=Base)

# Fields that a later, deeper verification of the same formula may improve (everything else is identity).
_DIGIT_FIELDS = ("verified_digits", "verify_terms", "digits_per_term", "scf_digits_per_term")


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def params_key(params: dict[str, Any]) -> str:
    """The identity of a search's parameters: sha256 of their canonical JSON (key order does not matter).

    >>> params_key({"a": 1, "b": [2, 3]}) == params_key({"b": [2, 3], "a": 1})
    True
    """
    return hashlib.sha256(_canonical_json(params).encode("utf-8")).hexdigest()


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _check_status(status: str, allowed: tuple[str, ...], what: str = "status") -> None:
    if status not in allowed:
        raise ValueError(f"Argument '{what}' must be one of {', '.join(allowed)}, not {status!r}")


def _row_values(c: Conjecture) -> dict[str, Any]:
    """Column values of a conjecture (everything but constant, id and timestamps)."""
    if not isinstance(c, Conjecture):
        raise TypeError(f"Expected a Conjecture, not {type(c).__name__}")
    if not c.key:
        raise ValueError(f"Conjecture {c.lhs!r} of {c.constant!r} has an empty 'key'; the catalog needs it")
    _check_status(c.status, STATUSES, "status of the conjecture")
    signs = tuple(int(s) for s in c.signs)
    if any(s not in (1, -1) for s in signs):
        raise ValueError(f"Signs must be +1 or -1, not {c.signs!r}")
    return {
        "key": c.key,
        "group_key": c.group,
        "lhs": c.lhs,
        "lhs_numerator": tuple(int(v) for v in c.lhs_numerator),
        "lhs_denominator": tuple(int(v) for v in c.lhs_denominator),
        "value": c.value,
        "signs": signs_to_text(signs),
        "preperiod": int(c.preperiod),
        "terms": tuple(int(v) for v in c.terms),
        "recurrence": tuple(int(v) for v in c.recurrence),
        "polynomials": [[str(x) for x in p] for p in c.polynomials],
        "closed_form": c.closed_form,
        "kind": c.kind,
        "period": int(c.period),
        "linear_complexity": int(c.linear_complexity),
        "verified_digits": int(c.verified_digits),
        "digits_per_term": float(c.digits_per_term),
        "scf_digits_per_term": float(c.scf_digits_per_term),
        "detection_terms": int(c.detection_terms),
        "detection_digits": int(c.detection_digits),
        "verify_terms": int(c.verify_terms),
        "cf_text": c.cf_text,
        "status": c.status,
        "status_reason": c.status_reason,
        "extra": dict(c.extra),
    }


def _record(row: ConjectureRow, constant: str) -> Conjecture:
    return Conjecture(
        constant=constant,
        lhs=row.lhs,
        lhs_numerator=tuple(row.lhs_numerator),
        lhs_denominator=tuple(row.lhs_denominator),
        value=row.value,
        signs=signs_from_text(row.signs) if row.signs else (),
        preperiod=row.preperiod,
        terms=tuple(row.terms),
        recurrence=tuple(row.recurrence),
        closed_form=row.closed_form,
        kind=row.kind,
        verified_digits=row.verified_digits,
        digits_per_term=row.digits_per_term,
        scf_digits_per_term=row.scf_digits_per_term,
        status=row.status,
        status_reason=row.status_reason,
        key=row.key,
        group=row.group_key,
        period=row.period,
        polynomials=tuple(tuple(str(x) for x in p) for p in (row.polynomials or ())),
        linear_complexity=row.linear_complexity,
        detection_terms=row.detection_terms,
        detection_digits=row.detection_digits,
        verify_terms=row.verify_terms,
        cf_text=row.cf_text,
        id=row.id,
        extra=dict(row.extra or {}),
    )


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


class Catalog:
    """A catalog database: searches, their checkpoints, conjectures and verifications.

    ``url_or_path``: an SQLite file path, a SQLAlchemy URL, or ``None`` for ``$ESMA_DB`` / ``./esma.sqlite``
    (see :func:`esma.db.engine.make_engine`).  Opening upgrades the schema to the newest migration.  Each
    method is its own transaction; a ``Catalog`` may be shared by threads and several processes may open
    the same file.

    >>> with Catalog(":memory:") as cat:
    ...     cat.url
    'sqlite:///:memory:'
    """

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

    # -- helpers -------------------------------------------------------------------------------------------

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

    @staticmethod
    def _summary(row: SearchRow, constant: str) -> dict[str, Any]:
        seconds = float(row.seconds)
        return {
            "id": row.id,
            "constant": constant,
            "params": row.params,
            "status": row.status,
            "chunks_total": row.chunks_total,
            "chunks_done": row.chunks_done,
            "candidates": row.candidates,
            "hits": row.hits,
            "conjectures": row.conjectures,
            "seconds": seconds,
            "candidates_per_second": row.candidates / seconds if seconds > 0 else 0.0,
            "scan_seconds": float(row.scan_seconds),
            "scan_candidates_per_second": row.candidates / row.scan_seconds if row.scan_seconds > 0 else 0.0,
            "esma_version": row.esma_version,
            "started_at": _iso(row.started_at),
            "finished_at": _iso(row.finished_at),
            "updated_at": _iso(row.updated_at),
        }

    def _records(self, stmt: Select[Any]) -> list[Conjecture]:
        with self._read() as s:
            return [_record(row, text) for row, text in s.execute(stmt).all()]

    # -- searches and checkpoints --------------------------------------------------------------------------

    def start_search(
        self, constant: str, params: dict[str, Any], chunks_total: int, esma_version: str
    ) -> int:
        """Create the search of ``params`` on ``constant``, or resume it: the same constant with the same
        parameters (compared as canonical JSON) is the same search, whose id is returned with its status
        set back to ``running``.

        ``params`` must be JSON-serialisable; they are stored canonically (sorted keys).
        """
        canonical = _canonical_json(params)
        key = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        with self._write.begin() as s:
            cid = self._constant_id(s, constant)
            row, created = _get_or_insert(
                s,
                SearchRow,
                {"constant_id": cid, "params_key": key},
                params=json.loads(canonical),
                status="running",
                chunks_total=int(chunks_total),
                esma_version=esma_version,
                started_at=utcnow(),
            )
            if not created:
                row.status = "running"
                row.finished_at = None
                row.chunks_total = int(chunks_total)
                row.esma_version = esma_version
                s.flush()
            return row.id

    def done_chunks(self, search_id: int) -> set[int]:
        """Indices of the chunks of this search whose results are committed."""
        with self._read() as s:
            stmt = select(SearchChunkRow.chunk_index).where(SearchChunkRow.search_id == search_id)
            return set(s.scalars(stmt).all())

    def commit_chunk(
        self,
        search_id: int,
        chunk_index: int,
        conjectures: Sequence[Conjecture],
        candidates: int,
        hits: int,
        seconds: float,
        scan_seconds: float = 0.0,
    ) -> list[int]:
        """Store one chunk's results and its checkpoint in ONE transaction; returns conjecture ids in input
        order.  ``seconds`` is the chunk's whole work, ``scan_seconds`` the part spent scanning candidates.

        Each conjecture is upserted by (constant, key): a new one is inserted; a known one keeps its row,
        whose verification figures (verified_digits, verify_terms, digits_per_term, scf_digits_per_term)
        are replaced only when the new record has more verified digits.  If the chunk is already committed
        (by another process, or an earlier run), nothing is written and the ids of the already stored
        conjectures are returned (input conjectures not in the catalog are then left out).
        """
        values = [_row_values(c) for c in conjectures]  # validate before taking the write lock
        if chunk_index < 0:
            raise ValueError(f"Argument 'chunk_index' must be >= 0, not {chunk_index}")
        with self._write.begin() as s:
            self._search(s, search_id)
            chunk = SearchChunkRow(
                search_id=search_id,
                chunk_index=int(chunk_index),
                candidates=int(candidates),
                hits=int(hits),
                seconds=float(seconds),
                scan_seconds=float(scan_seconds),
                created_at=utcnow(),
            )
            try:
                with s.begin_nested():
                    s.add(chunk)
            except IntegrityError:
                return self._existing_ids(s, conjectures)
            try:
                # one SELECT and one multi-row INSERT per table instead of a SAVEPOINT per row
                with s.begin_nested():
                    ids, new_links = self._bulk_upsert(s, search_id, chunk_index, conjectures, values)
            except IntegrityError:
                # lost a race with another writer (PostgreSQL): redo row by row, each in its own SAVEPOINT
                ids, new_links = self._rowwise_upsert(s, search_id, chunk_index, conjectures, values)
            # SQL-side increments: another process may be committing another chunk of the same search
            s.execute(
                update(SearchRow)
                .where(SearchRow.id == search_id)
                .values(
                    chunks_done=SearchRow.chunks_done + 1,
                    candidates=SearchRow.candidates + int(candidates),
                    hits=SearchRow.hits + int(hits),
                    conjectures=SearchRow.conjectures + new_links,
                    seconds=SearchRow.seconds + float(seconds),
                    scan_seconds=SearchRow.scan_seconds + float(scan_seconds),
                    updated_at=utcnow(),
                )
            )
            return ids

    def _rowwise_upsert(self, s: Session, search_id, chunk_index, conjectures, values) -> tuple[list[int], int]:
        cache: dict[str, int] = {}
        ids: list[int] = []
        new_links = 0
        for c, vals in zip(conjectures, values, strict=True):
            vals = dict(vals)
            cid = self._constant_id(s, c.constant, cache)
            key = vals.pop("key")
            row, created = _get_or_insert(
                s, ConjectureRow, {"constant_id": cid, "key": key}, first_search_id=search_id, **vals
            )
            if not created and vals["verified_digits"] > row.verified_digits:
                for name in _DIGIT_FIELDS:
                    setattr(row, name, vals[name])
                s.flush()
            _, linked = _get_or_insert(
                s,
                SearchConjectureRow,
                {"search_id": search_id, "conjecture_id": row.id},
                chunk_index=int(chunk_index),
            )
            new_links += linked
            ids.append(row.id)
        return ids, new_links

    def _bulk_upsert(self, s: Session, search_id, chunk_index, conjectures, values) -> tuple[list[int], int]:
        if not conjectures:
            return [], 0
        cache: dict[str, int] = {}
        const_ids = [self._constant_id(s, c.constant, cache) for c in conjectures]
        wanted = {(cid, v["key"]) for cid, v in zip(const_ids, values, strict=True)}

        def existing() -> dict[tuple[int, str], tuple[int, int]]:
            """(constant id, key) -> (row id, verified digits), without loading the JSON columns."""
            found: dict[tuple[int, str], tuple[int, int]] = {}
            for cid in set(const_ids):
                keys = [k for c2, k in wanted if c2 == cid]
                for i in range(0, len(keys), 500):
                    stmt = select(ConjectureRow.id, ConjectureRow.key, ConjectureRow.verified_digits).where(
                        ConjectureRow.constant_id == cid, ConjectureRow.key.in_(keys[i : i + 500])
                    )
                    for rid, key, digits in s.execute(stmt):
                        found[(cid, key)] = (rid, digits)
            return found

        rows = existing()
        now = utcnow()
        fresh, seen = [], set()
        for cid, vals in zip(const_ids, values, strict=True):
            k = (cid, vals["key"])
            if k in rows or k in seen:
                continue
            seen.add(k)
            stamps = {"created_at": now, "updated_at": now}
            fresh.append({"constant_id": cid, "first_search_id": search_id, **stamps, **vals})
        if fresh:
            # one multi-row INSERT ... RETURNING (SQLAlchemy "insertmanyvalues"), ids in parameter order
            stmt = insert(ConjectureRow).returning(ConjectureRow.id, sort_by_parameter_order=True)
            for row_id, vals in zip(s.scalars(stmt, fresh), fresh, strict=True):
                rows[(vals["constant_id"], vals["key"])] = (row_id, vals["verified_digits"])
        better: dict[int, dict[str, Any]] = {}
        for cid, vals in zip(const_ids, values, strict=True):
            rid, digits = rows[(cid, vals["key"])]
            if vals["verified_digits"] > max(digits, better.get(rid, {}).get("verified_digits", digits)):
                better[rid] = {"id": rid, "updated_at": now, **{name: vals[name] for name in _DIGIT_FIELDS}}
        if better:
            s.execute(update(ConjectureRow), list(better.values()))  # bulk UPDATE by primary key
        ids = [rows[(cid, v["key"])][0] for cid, v in zip(const_ids, values, strict=True)]
        linked = set(
            s.scalars(
                select(SearchConjectureRow.conjecture_id).where(
                    SearchConjectureRow.search_id == search_id, SearchConjectureRow.conjecture_id.in_(set(ids))
                )
            )
        )
        links = [
            {"search_id": search_id, "conjecture_id": cid, "chunk_index": int(chunk_index)}
            for cid in dict.fromkeys(ids)
            if cid not in linked
        ]
        if links:
            s.execute(insert(SearchConjectureRow), links)
        return ids, len(links)

    @staticmethod
    def _existing_ids(session: Session, conjectures: Iterable[Conjecture]) -> list[int]:
        ids = []
        for c in conjectures:
            stmt = (
                select(ConjectureRow.id)
                .join(ConstantRow, ConstantRow.id == ConjectureRow.constant_id)
                .where(ConstantRow.text == c.constant, ConjectureRow.key == c.key)
            )
            found = session.scalar(stmt)
            if found is not None:
                ids.append(found)
        return ids

    def finish_search(self, search_id: int, status: str = "done") -> dict[str, Any]:
        """Mark the search ``done`` (or ``interrupted``), stamp ``finished_at``; returns its summary."""
        _check_status(status, tuple(s for s in SEARCH_STATUSES if s != "running"))
        with self._write.begin() as s:
            row = self._search(s, search_id)
            row.status = status
            row.finished_at = utcnow()
            s.flush()
            return self._summary(row, s.get_one(ConstantRow, row.constant_id).text)

    def search_summary(self, search_id: int) -> dict[str, Any]:
        """Counters of a search: ``id, constant, params, status, chunks_total, chunks_done, candidates, hits,
        conjectures, seconds, candidates_per_second, esma_version, started_at, finished_at, updated_at``
        (timestamps as ISO 8601 strings in UTC, ``finished_at`` None while unfinished)."""
        with self._read() as s:
            row = self._search(s, search_id)
            return self._summary(row, s.get_one(ConstantRow, row.constant_id).text)

    def searches(self, constant: str | None = None) -> list[dict[str, Any]]:
        """Summaries of every search (of ``constant`` if given), oldest first."""
        stmt = select(SearchRow, ConstantRow.text).join(ConstantRow, ConstantRow.id == SearchRow.constant_id)
        if constant is not None:
            stmt = stmt.where(ConstantRow.text == constant)
        with self._read() as s:
            return [self._summary(row, text) for row, text in s.execute(stmt.order_by(SearchRow.id)).all()]

    def search_conjectures(self, search_id: int, limit: int | None = None) -> list[Conjecture]:
        """The conjectures found by any chunk of this search (including ones other searches found first),
        in id order; the first ``limit`` of them when it is given."""
        stmt = (
            select(ConjectureRow, ConstantRow.text)
            .join(ConstantRow, ConstantRow.id == ConjectureRow.constant_id)
            .join(SearchConjectureRow, SearchConjectureRow.conjecture_id == ConjectureRow.id)
            .where(SearchConjectureRow.search_id == search_id)
            .order_by(ConjectureRow.id)
        )
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    # -- conjectures ---------------------------------------------------------------------------------------

    def conjectures(
        self,
        constant: str | None = None,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
    ) -> list[Conjecture]:
        """Stored conjectures, filtered, ordered by constant then id.

        ``min_digits`` keeps those with ``verified_digits >= min_digits``.
        """
        stmt = select(ConjectureRow, ConstantRow.text).join(
            ConstantRow, ConstantRow.id == ConjectureRow.constant_id
        )
        if constant is not None:
            stmt = stmt.where(ConstantRow.text == constant)
        if kind is not None:
            stmt = stmt.where(ConjectureRow.kind == kind)
        if min_digits is not None:
            stmt = stmt.where(ConjectureRow.verified_digits >= int(min_digits))
        if status is not None:
            _check_status(status, STATUSES)
            stmt = stmt.where(ConjectureRow.status == status)
        return self._records(stmt.order_by(ConstantRow.text, ConjectureRow.id))

    def get(self, conjecture_id: int) -> Conjecture | None:
        """The conjecture with this id, or ``None``."""
        stmt = (
            select(ConjectureRow, ConstantRow.text)
            .join(ConstantRow, ConstantRow.id == ConjectureRow.constant_id)
            .where(ConjectureRow.id == conjecture_id)
        )
        found = self._records(stmt)
        return found[0] if found else None

    def add_verification(
        self,
        conjecture_id: int,
        digits_requested: int,
        verified_digits: int,
        ok: bool,
        terms_used: int,
        seconds: float,
        esma_version: str,
        status: str | None = None,
        status_reason: str | None = None,
    ) -> None:
        """Record a verification run.

        When ``ok`` and deeper than what is stored, the conjecture's ``verified_digits`` (and
        ``verify_terms`` = ``terms_used``) are raised.  ``status`` (e.g. ``'refuted'``) and ``status_reason``
        replace the conjecture's when given.  Raises ``KeyError`` for an unknown conjecture.
        """
        if status is not None:
            _check_status(status, STATUSES)
        with self._write.begin() as s:
            row = s.get(ConjectureRow, conjecture_id)
            if row is None:
                raise KeyError(f"No conjecture with id {conjecture_id}")
            s.add(
                VerificationRow(
                    conjecture_id=conjecture_id,
                    digits_requested=int(digits_requested),
                    verified_digits=int(verified_digits),
                    ok=bool(ok),
                    terms_used=int(terms_used),
                    seconds=float(seconds),
                    esma_version=esma_version,
                    created_at=utcnow(),
                )
            )
            if ok and verified_digits > row.verified_digits:
                row.verified_digits = int(verified_digits)
                row.verify_terms = int(terms_used)
            if status is not None:
                row.status = status
            if status_reason is not None:
                row.status_reason = status_reason

    def verifications(self, conjecture_id: int) -> list[dict[str, Any]]:
        """Verification runs of a conjecture, oldest first: ``id, conjecture_id, digits_requested,
        verified_digits, ok, terms_used, seconds, esma_version, created_at``."""
        stmt = (
            select(VerificationRow)
            .where(VerificationRow.conjecture_id == conjecture_id)
            .order_by(VerificationRow.id)
        )
        with self._read() as s:
            return [
                {
                    "id": v.id,
                    "conjecture_id": v.conjecture_id,
                    "digits_requested": v.digits_requested,
                    "verified_digits": v.verified_digits,
                    "ok": v.ok,
                    "terms_used": v.terms_used,
                    "seconds": v.seconds,
                    "esma_version": v.esma_version,
                    "created_at": _iso(v.created_at),
                }
                for v in s.scalars(stmt).all()
            ]

    def constants(self) -> list[dict[str, Any]]:
        """Every constant with its number of conjectures: ``[{"id", "text", "conjectures"}]`` by text."""
        stmt = (
            select(ConstantRow.id, ConstantRow.text, func.count(ConjectureRow.id))
            .outerjoin(ConjectureRow, ConjectureRow.constant_id == ConstantRow.id)
            .group_by(ConstantRow.id, ConstantRow.text)
            .order_by(ConstantRow.text)
        )
        with self._read() as s:
            return [{"id": i, "text": t, "conjectures": n} for i, t, n in s.execute(stmt).all()]

    # ======================================================================================================
    # Read-only access for the web pages (issue #12: ``esma serve`` and ``esma export --format html``).
    #
    # Until the families API (DESIGN 7) lands, the pages group formulas by ``group`` (formulas of equal value
    # T(c)); a group's id is the smallest id of its formulas, so its link is stable while formulas are only
    # ever added.  Every query is parameterised SQLAlchemy Core, aggregated and paginated in SQL.
    # ======================================================================================================

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
        from sqlalchemy.engine import URL

        from esma.db.engine import BUSY_TIMEOUT_MS, resolve_url
        from esma.db.migrate import current_revision, head_revision

        url = resolve_url(url_or_path)
        if url.get_backend_name() == "sqlite":
            path = url.database or ""
            if path in ("", ":memory:") or path.startswith("file:"):
                raise ValueError(f"A read-only catalog must be an SQLite file path, not {path or 'memory'!r}")
            if not os.path.isfile(path):
                raise FileNotFoundError(f"No catalog file {path}")
            ro = URL.create(url.drivername, database=f"file:{path}?mode=ro", query={"uri": "true"})
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
            raise ValueError(f"catalog {where} has schema {have}, unknown to this esma (a newer esma wrote it)")
        self = cls.__new__(cls)
        self._engine = engine
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read = sessionmaker(engine, expire_on_commit=False)
        self.url = display_url(url)
        return self

    def constant_counts(self) -> list[dict[str, Any]]:
        """Per constant, ordered by text: ``id, text, formulas, groups, proved_formulas, searches``.

        >>> with Catalog(":memory:") as cat:
        ...     cat.constant_counts()
        []
        """
        from sqlalchemy import case, distinct

        formulas = (
            select(
                ConjectureRow.constant_id.label("cid"),
                func.count().label("formulas"),
                func.count(distinct(ConjectureRow.group_key)).label("groups"),
                func.coalesce(func.sum(case((ConjectureRow.status == "proved", 1), else_=0)), 0).label("proved"),
            )
            .group_by(ConjectureRow.constant_id)
            .subquery()
        )
        searches = (
            select(SearchRow.constant_id.label("cid"), func.count().label("searches"))
            .group_by(SearchRow.constant_id)
            .subquery()
        )
        stmt = (
            select(
                ConstantRow.id,
                ConstantRow.text,
                func.coalesce(formulas.c.formulas, 0),
                func.coalesce(formulas.c.groups, 0),
                func.coalesce(formulas.c.proved, 0),
                func.coalesce(searches.c.searches, 0),
            )
            .outerjoin(formulas, formulas.c.cid == ConstantRow.id)
            .outerjoin(searches, searches.c.cid == ConstantRow.id)
            .order_by(ConstantRow.text)
        )
        names = ("id", "text", "formulas", "groups", "proved_formulas", "searches")
        with self._read() as s:
            return [dict(zip(names, row, strict=True)) for row in s.execute(stmt).all()]

    def constant_by_id(self, constant_id: int) -> dict[str, Any] | None:
        """``{"id", "text"}`` of a constant, or ``None``."""
        with self._read() as s:
            row = s.get(ConstantRow, int(constant_id))
            return None if row is None else {"id": row.id, "text": row.text}

    #: Sort orders of :meth:`value_groups`; "rank" is gain (descending), then simplicity.
    GROUP_SORTS = ("rank", "gain", "members", "digits", "simplicity")

    @staticmethod
    def _group_filters(constant_id, kind, status, min_digits) -> list[Any]:
        where = [ConjectureRow.constant_id == int(constant_id)]
        if kind is not None:
            where.append(ConjectureRow.kind == kind)
        if status is not None:
            _check_status(status, STATUSES)
            where.append(ConjectureRow.status == status)
        if min_digits is not None:
            where.append(ConjectureRow.verified_digits >= int(min_digits))
        return where

    @staticmethod
    def _gain_column() -> Any:
        from sqlalchemy import case

        # no division by zero on any backend: a record without a simple-fraction rate has no gain
        return case(
            (ConjectureRow.scf_digits_per_term > 0, ConjectureRow.digits_per_term / ConjectureRow.scf_digits_per_term),
            else_=None,
        )

    def _groups_stmt(self, constant_id, kind, status, min_gain, min_digits, key: str | None = None) -> Select[Any]:
        # the filters choose the groups and their best figures; a group's id and counts are those of the
        # whole group, so that a link and a member count do not change with the filters
        gain = func.max(self._gain_column())
        chosen = (
            select(
                ConjectureRow.group_key.label("key"),
                gain.label("gain"),
                func.max(ConjectureRow.verified_digits).label("digits"),
                func.min(ConjectureRow.period).label("period"),
                func.min(ConjectureRow.linear_complexity).label("complexity"),
                func.min(func.length(ConjectureRow.lhs)).label("lhs_length"),
            )
            .where(*self._group_filters(constant_id, kind, status, min_digits))
            .group_by(ConjectureRow.group_key)
        )
        if key is not None:
            chosen = chosen.where(ConjectureRow.group_key == key)
        if min_gain is not None:
            chosen = chosen.having(gain >= float(min_gain))
        chosen = chosen.subquery()
        whole = (
            select(
                ConjectureRow.group_key.label("key"),
                func.min(ConjectureRow.id).label("id"),
                func.count().label("members"),
                func.coalesce(func.sum(func.cast(ConjectureRow.status == "proved", Integer)), 0).label("proved"),
            )
            .where(ConjectureRow.constant_id == int(constant_id))
            .group_by(ConjectureRow.group_key)
        )
        if key is not None:
            whole = whole.where(ConjectureRow.group_key == key)
        whole = whole.subquery()
        return select(
            whole.c.id, chosen.c.key, whole.c.members, whole.c.proved, chosen.c.gain, chosen.c.digits,
            chosen.c.period, chosen.c.complexity, chosen.c.lhs_length,
        ).join(whole, whole.c.key == chosen.c.key)

    def value_groups(
        self,
        constant_id: int,
        *,
        kind: str | None = None,
        status: str | None = None,
        min_gain: float | None = None,
        min_digits: int | None = None,
        sort: str = "rank",
        descending: bool | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Groups of formulas of equal value of one constant, one dict each, sorted and paginated in SQL.

        Each has ``id`` (smallest formula id), ``key``, ``members``, ``proved``, ``gain`` (best
        digits_per_term / scf_digits_per_term), ``digits`` (most verified digits), ``period``, ``complexity``,
        ``lhs_length`` (smallest) and ``representative`` (the Conjecture with the shortest LHS, then the
        shortest sign period, then the smallest id).  The filters choose the groups and the formulas their
        figures and representative come from; ``id``, ``members`` and ``proved`` are those of the whole
        group; ``total`` is the number of groups passing the filters (what :meth:`count_value_groups`
        gives).  ``sort`` is one of :attr:`GROUP_SORTS`; ``descending`` defaults to True for gain, members
        and digits and False for simplicity ("rank" is fixed: gain descending, then simplicity).

        >>> with Catalog(":memory:") as cat:
        ...     cat.value_groups(1, sort="gain", limit=10)
        []
        """
        if sort not in self.GROUP_SORTS:
            raise ValueError(f"Argument 'sort' must be one of {', '.join(self.GROUP_SORTS)}, not {sort!r}")
        g = self._groups_stmt(constant_id, kind, status, min_gain, min_digits).subquery()
        simplicity = [g.c.period, g.c.complexity, g.c.lhs_length]
        if sort == "rank":
            order = [g.c.gain.desc().nulls_last(), *simplicity]
        else:
            down = descending if descending is not None else sort != "simplicity"
            cols = {"gain": [g.c.gain], "members": [g.c.members], "digits": [g.c.digits], "simplicity": simplicity}
            order = [c.desc().nulls_last() if down else c.asc().nulls_first() for c in cols[sort]]
        # the total rides along (a window count over the whole result): one scan instead of two per page
        stmt = select(g, func.count().over().label("total")).order_by(*order, g.c.id).offset(max(int(offset), 0))
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        with self._read() as s:
            groups = [dict(row._mapping) for row in s.execute(stmt).all()]
            if not groups:
                return []
            reps = self._representatives(s, constant_id, [grp["key"] for grp in groups], kind, status, min_digits)
        for grp in groups:
            grp["representative"] = reps.get(grp["key"])
        return groups

    def _representatives(self, s: Session, constant_id, keys, kind, status, min_digits) -> dict[str, Conjecture]:
        rank = (
            func.row_number()
            .over(
                partition_by=ConjectureRow.group_key,
                order_by=[func.length(ConjectureRow.lhs), func.length(ConjectureRow.signs), ConjectureRow.id],
            )
            .label("rn")
        )
        inner = (
            select(ConjectureRow.id, rank)
            .where(*self._group_filters(constant_id, kind, status, min_digits), ConjectureRow.group_key.in_(keys))
            .subquery()
        )
        stmt = (
            select(ConjectureRow, ConstantRow.text)
            .join(ConstantRow, ConstantRow.id == ConjectureRow.constant_id)
            .join(inner, inner.c.id == ConjectureRow.id)
            .where(inner.c.rn == 1)
        )
        return {row.group_key: _record(row, text) for row, text in s.execute(stmt).all()}

    def value_group(self, constant_id: int, key: str) -> dict[str, Any] | None:
        """One group of :meth:`value_groups` by its key (``None`` when no formula of the constant has it)."""
        stmt = self._groups_stmt(constant_id, None, None, None, None, key)
        with self._read() as s:
            row = s.execute(stmt).first()
            if row is None:
                return None
            group = dict(row._mapping)
            group["representative"] = self._representatives(s, constant_id, [key], None, None, None).get(key)
        return group

    def count_value_groups(
        self,
        constant_id: int,
        *,
        kind: str | None = None,
        status: str | None = None,
        min_gain: float | None = None,
        min_digits: int | None = None,
    ) -> int:
        """How many groups :meth:`value_groups` lists with these filters (for pagination)."""
        g = self._groups_stmt(constant_id, kind, status, min_gain, min_digits).subquery()
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(g)) or 0)

    def value_group_members(
        self, constant_id: int, group_key: str, limit: int | None = None, offset: int = 0
    ) -> list[Conjecture]:
        """The formulas of one group, simplest first (shortest LHS, then sign period, then id), paginated."""
        stmt = (
            select(ConjectureRow, ConstantRow.text)
            .join(ConstantRow, ConstantRow.id == ConjectureRow.constant_id)
            .where(ConjectureRow.constant_id == int(constant_id), ConjectureRow.group_key == group_key)
            .order_by(func.length(ConjectureRow.lhs), func.length(ConjectureRow.signs), ConjectureRow.id)
            .offset(max(int(offset), 0))
        )
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    def count_value_group_members(self, constant_id: int, group_key: str) -> int:
        """How many formulas one group holds."""
        stmt = select(func.count()).where(
            ConjectureRow.constant_id == int(constant_id), ConjectureRow.group_key == group_key
        )
        with self._read() as s:
            return int(s.scalar(stmt) or 0)

    def constant_id_of(self, conjecture_id: int) -> int | None:
        """The constant id of a formula (the web pages link a formula to its constant), or ``None``."""
        with self._read() as s:
            return s.scalar(select(ConjectureRow.constant_id).where(ConjectureRow.id == int(conjecture_id)))
