"""Reading the catalog: formulas (by id, key, filter, search or family), their JSON text streamed for
exports (``iter_records_json``), families and their members, and the constants with their counts.

Every reader checks each row (``esma.db.rows``): a row that cannot be read is reported through
``on_unreadable`` and skipped, never fails the whole result.  :class:`ReadsMixin` is a part of
:class:`~esma.db.repository.Catalog`; it relies on what the catalog sets up: the sessionmaker ``_read`` and
the shared helper ``_unreadable`` (see ``esma.db.repository``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from esma.db._base import _JSON_COLUMNS, _batches, _check_status, _conj, _fam, _links, _raw
from esma.db.models import STATUSES, ConjectureRow, ConstantRow, SearchRow
from esma.db.rows import UnreadableRow, _Bad, _certificate, _record, _record_json
from esma.db.rows import _family as _family_from_row
from esma.records import FAMILY_SORTS, Conjecture, Family


class ReadsMixin:
    """The reading stage of :class:`~esma.db.repository.Catalog` (uses its ``_read`` and ``_unreadable``)."""

    # -- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _find_constant(session: Session, text: str) -> int | None:
        return session.scalar(select(ConstantRow.id).where(ConstantRow.text == text))

    def _records(self, stmt: Select[Any], lenient: bool = False) -> list[Conjecture]:
        """Records from a Core select of the conjecture columns and ``constants.text`` (no ORM objects); a row
        that cannot be read is reported (``on_unreadable``) and skipped (``lenient``: see ``_record``)."""
        with self._read() as s:
            return [c for m in s.execute(stmt).mappings() if (c := self._read_record(m, lenient)) is not None]

    def _read_record(self, m: Any, lenient: bool = False) -> Conjecture | None:
        """The record of row ``m``, or ``None`` (reported) when it cannot be read."""
        try:
            c = _record(m, m["text"], lenient)
        except UnreadableRow as exc:
            self._unreadable(exc)
            return None
        if lenient and c.certificate is None and m["certificate"] is not None:
            try:
                _certificate(m["certificate"])
            except _Bad as exc:
                self._unreadable(UnreadableRow("formula", m["id"], exc.column, exc.reason,
                                               "read as a conjecture (to be proved again)"))
        return c

    @staticmethod
    def _family_of_row():
        return (
            select(_fam.c.id).where(_fam.c.constant_id == _conj.c.constant_id, _fam.c.key == _conj.c.family_key)
            .scalar_subquery()
        )

    def _conjecture_select(self) -> Select[Any]:
        # the integer-list and JSON columns as their stored text: ``_record`` checks and parses each row, so that
        # one unreadable row is skipped rather than failing the whole result
        cols = [_raw(c) if c.name in _JSON_COLUMNS else c for c in _conj.c]
        return select(*cols, ConstantRow.text, self._family_of_row().label("family_id")).join(
            ConstantRow.__table__, ConstantRow.id == _conj.c.constant_id)

    # -- formulas of a family (the families phase of a search) ---------------------------------------------

    def family_representatives(self, constant: str, keys: Iterable[str]) -> dict[str, Conjecture]:
        """The stored representative of each family key of ``constant`` that the catalog knows (one whose
        certificate cannot be read comes as a conjecture without one; one unreadable otherwise is left out)."""
        out: dict[str, Conjecture] = {}
        with self._read() as s:
            cid = self._find_constant(s, constant)
            if cid is None:
                return out
            for part in _batches(sorted(set(keys))):
                stmt = self._conjecture_select().where(
                    _conj.c.constant_id == cid, _conj.c.family_key.in_(part), _conj.c.representative)
                for m in s.execute(stmt).mappings():
                    c = self._read_record(m, lenient=True)
                    if c is not None:
                        out[m["family_key"]] = c
        return out

    def family_records(self, constant: str, key: str) -> list[Conjecture]:
        """Every stored member of the family ``key`` of ``constant`` (representative first, then by id).

        A member whose certificate cannot be read comes as a conjecture without one (the search proves it again);
        a member that cannot be read otherwise is reported and left out, as by every reader."""
        stmt = self._conjecture_select().where(
            ConstantRow.text == constant, _conj.c.family_key == key
        ).order_by(_conj.c.representative.desc(), _conj.c.id)
        return self._records(stmt, lenient=True)

    def unassigned(self, limit: int | None = None) -> list[Conjecture]:
        """Formulas stored before families existed (empty family key), oldest first."""
        stmt = self._conjecture_select().where(_conj.c.family_key == "").order_by(_conj.c.id)
        if limit is not None:
            stmt = stmt.limit(int(limit))
        return self._records(stmt)

    # -- reading formulas ----------------------------------------------------------------------------------

    def _filtered(
        self,
        stmt: Select[Any],
        constant: str | None = None,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
        family: str | None = None,
        representatives: bool = False,
        search_id: int | None = None,
    ) -> Select[Any]:
        if constant is not None:
            stmt = stmt.where(ConstantRow.text == constant)
        if kind is not None:
            stmt = stmt.where(_conj.c.kind == kind)
        if min_digits is not None:
            stmt = stmt.where(_conj.c.verified_digits >= int(min_digits))
        if status is not None:
            _check_status(status, STATUSES)
            stmt = stmt.where(_conj.c.status == status)
        if family is not None:
            stmt = stmt.where(_conj.c.family_key == family)
        if representatives:
            stmt = stmt.where(_conj.c.representative)
        if search_id is not None:
            stmt = stmt.where(_conj.c.id.in_(select(_links.c.conjecture_id).where(_links.c.search_id == search_id)))
        return stmt

    def conjectures(
        self,
        constant: str | None = None,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
        family: str | None = None,
        representatives: bool = False,
        limit: int | None = None,
        offset: int = 0,
        ranked: bool = False,
    ) -> list[Conjecture]:
        """Stored conjectures, filtered, ordered by constant then id (``ranked``: then by family rank, each
        representative first).

        ``min_digits`` keeps those with ``verified_digits >= min_digits``; ``family`` those of one family key;
        ``representatives`` only each family's representative.
        """
        stmt = self._filtered(self._conjecture_select(), constant, kind, min_digits, status, family,
                              representatives)
        order = [ConstantRow.text]
        if ranked:
            order += [func.coalesce(self._rank_of_family(), 1 << 30), _conj.c.representative.desc()]
        stmt = stmt.order_by(*order, _conj.c.id).offset(max(int(offset), 0))
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    def search_conjectures(self, search_id: int, limit: int | None = None, ranked: bool = False) -> list[Conjecture]:
        """The conjectures found by this search (including ones other searches found first), in id order (or,
        ``ranked``, by family rank with each representative first); the first ``limit`` of them when given."""
        stmt = self._filtered(self._conjecture_select(), search_id=search_id)
        if ranked:
            stmt = stmt.order_by(func.coalesce(self._rank_of_family(), 1 << 30), _conj.c.representative.desc(),
                                 _conj.c.id)
        else:
            stmt = stmt.order_by(_conj.c.id)
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    @staticmethod
    def _rank_of_family():
        return (
            select(_fam.c.rank).where(_fam.c.constant_id == _conj.c.constant_id, _fam.c.key == _conj.c.family_key)
            .scalar_subquery()
        )

    def search_proofs(self, search_id: int) -> dict[str, int]:
        """How many of the formulas and families a search found are proved: ``formulas, proved,
        families, proved_families``."""
        mine = select(_links.c.conjecture_id).where(_links.c.search_id == search_id)
        proved = func.sum(case((_conj.c.status == "proved", 1), else_=0))
        with self._read() as s:
            n, n_proved = s.execute(select(func.count(), proved).where(_conj.c.id.in_(mine))).one()
            stmt, rep = self._family_select()
            found = self._family_filters(stmt, rep, None, None, None, None, None, search_id).subquery()
            f, f_proved = s.execute(
                select(func.count(), func.sum(case((found.c.status == "proved", 1), else_=0))).select_from(found)
            ).one()
        return {"formulas": int(n or 0), "proved": int(n_proved or 0), "families": int(f or 0),
                "proved_families": int(f_proved or 0)}

    def get_by_key(self, constant: str, key: str) -> Conjecture | None:
        """The formula of ``constant`` with this key (``"num|den|signs"``), or ``None``."""
        found = self._records(self._conjecture_select().where(ConstantRow.text == constant, _conj.c.key == key))
        return found[0] if found else None

    def get(self, conjecture_id: int) -> Conjecture | None:
        """The conjecture with this id, or ``None`` (also when its row cannot be read: then it is reported)."""
        found = self._records(self._conjecture_select().where(_conj.c.id == int(conjecture_id)))
        return found[0] if found else None

    def conjectures_by_ids(self, ids: Iterable[int]) -> dict[int, Conjecture]:
        """The conjectures with these ids, by id (ids not in the catalog are left out): one query per 500 ids,
        in one read transaction (a page's family representatives: one query, not one ``get`` per row).

        >>> from esma.db import Catalog
        >>> with Catalog(":memory:") as cat:
        ...     cat.conjectures_by_ids([3, 1, 2])
        {}
        """
        wanted = sorted({int(i) for i in ids})
        found: dict[int, Conjecture] = {}
        if not wanted:
            return found
        with self._read() as s:
            for part in _batches(wanted):
                stmt = self._conjecture_select().where(_conj.c.id.in_(part))
                for m in s.execute(stmt).mappings():
                    c = self._read_record(m)
                    if c is not None:
                        found[m["id"]] = c
        return found

    def iter_records_json(
        self,
        constant: str | None = None,
        search_id: int | None = None,
        family: str | None = None,
        representatives: bool = False,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
        ranked: bool = True,
        batch: int = 2000,
    ) -> Iterator[str]:
        """The JSON text of each matching record (``Conjecture.to_dict`` fields), streamed in batches.

        No record object is built and the catalog is never read whole, but nothing stored is pasted: integer lists
        are checked against the JSON grammar of a list of integers, stored JSON (polynomials, certificates,
        extra fields) is parsed and written again by the C encoder, text by the C string encoder, numbers
        checked to be numbers.  A row that cannot be read is reported (``on_unreadable``) and skipped.
        ``ranked`` orders by constant, family rank, representative first, then id (else by id).
        """
        fam_rank = self._rank_of_family()
        fam_id = self._family_of_row()
        wanted = [c for c in _conj.c if c.name not in ("constant_id", "first_search_id", "created_at", "updated_at")]
        cols = [_raw(c) if c.name in _JSON_COLUMNS else c for c in wanted]
        stmt = select(*cols, ConstantRow.text.label("text"), fam_id.label("family_id")).join(
            ConstantRow.__table__, ConstantRow.id == _conj.c.constant_id)
        stmt = self._filtered(stmt, constant, kind, min_digits, status, family, representatives, search_id)
        if ranked:
            stmt = stmt.order_by(ConstantRow.text, func.coalesce(fam_rank, 1 << 30), _conj.c.representative.desc(),
                                 _conj.c.id)
        else:
            stmt = stmt.order_by(_conj.c.id)
        with self._read() as s:
            conn = s.connection().execution_options(stream_results=True, yield_per=batch)
            for m in conn.execute(stmt).mappings():
                try:
                    text = _record_json(m)
                except _Bad as exc:
                    self._unreadable(UnreadableRow("formula", m["id"], exc.column, exc.reason))
                    continue
                except (TypeError, ValueError, RecursionError) as exc:  # what the checks above did not foresee
                    self._unreadable(UnreadableRow("formula", m["id"], "", f"{type(exc).__name__}: {exc}"))
                    continue
                yield text

    # -- families ------------------------------------------------------------------------------------------

    def _family_select(self) -> Select[Any]:
        rep = ConjectureRow.__table__.alias("rep")
        return (
            select(
                _fam.c.id, _fam.c.key, _fam.c.members, _fam.c.proved_members, _fam.c.gain, _fam.c.kind,
                _fam.c.period, _fam.c.recurrence_order, _fam.c.height, _fam.c.base, _fam.c.rank,
                _fam.c.representative_id, ConstantRow.text,
                rep.c.status, rep.c.status_reason, rep.c.verified_digits, rep.c.digits_per_term,
                rep.c.scf_digits_per_term, rep.c.lhs, rep.c.signs, rep.c.closed_form, rep.c.cf_text,
            )
            .join(ConstantRow.__table__, ConstantRow.id == _fam.c.constant_id)
            .join(rep, rep.c.id == _fam.c.representative_id)
        ), rep

    #: A family from a row of ``_family_select`` (``esma.db.rows._family``).
    _family = staticmethod(_family_from_row)

    def _read_family(self, m: Any) -> Family | None:
        """The family of row ``m``, or ``None`` (reported) when it cannot be read."""
        try:
            return self._family(m)
        except UnreadableRow as exc:
            self._unreadable(exc)
            return None

    def _family_filters(self, stmt, rep, constant, kind, status, min_gain, min_digits, search_id=None):
        if constant is not None:
            stmt = stmt.where(ConstantRow.text == constant)
        if kind is not None:
            stmt = stmt.where(_fam.c.kind == kind)
        if status is not None:
            _check_status(status, STATUSES)
            stmt = stmt.where(rep.c.status == status)
        if min_gain is not None:
            stmt = stmt.where(_fam.c.gain >= float(min_gain))
        if min_digits is not None:
            stmt = stmt.where(rep.c.verified_digits >= int(min_digits))
        if search_id is not None:
            found = (
                select(_conj.c.constant_id, _conj.c.family_key)
                .join(_links, _links.c.conjecture_id == _conj.c.id)
                .where(_links.c.search_id == search_id)
                .distinct()
                .subquery()
            )
            stmt = stmt.where(
                select(found.c.family_key).where(
                    found.c.constant_id == _fam.c.constant_id, found.c.family_key == _fam.c.key
                ).exists()
            )
        return stmt

    def families(
        self,
        constant: str | None = None,
        *,
        kind: str | None = None,
        status: str | None = None,
        min_gain: float | None = None,
        min_digits: int | None = None,
        search_id: int | None = None,
        sort: str = "rank",
        descending: bool | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Family]:
        """Families, one row each, filtered and sorted in SQL (and paginated with ``limit``/``offset``).

        ``sort``: ``rank`` (gain descending, then simplicity), ``gain``, ``members``, ``digits`` (the
        representative's verified digits), ``simplicity`` (period, order, height); ``descending`` reverses
        the natural order of the sort (rank ascending, gain/members/digits descending, simplicity ascending).
        ``search_id`` keeps the families that search found members of.
        """
        if sort not in FAMILY_SORTS:
            raise ValueError(f"Argument 'sort' must be one of {', '.join(FAMILY_SORTS)}, not {sort!r}")
        stmt, rep = self._family_select()
        stmt = self._family_filters(stmt, rep, constant, kind, status, min_gain, min_digits, search_id)
        natural_desc = sort in ("gain", "members", "digits")
        desc = natural_desc if descending is None else bool(descending)
        cols = {
            "rank": [_fam.c.rank],
            "gain": [_fam.c.gain],
            "members": [_fam.c.members],
            "digits": [rep.c.verified_digits],
            "simplicity": [_fam.c.period, _fam.c.recurrence_order, _fam.c.height],
        }[sort]
        order = [c.desc() if desc else c.asc() for c in cols]
        stmt = stmt.order_by(ConstantRow.text, *order, _fam.c.rank, _fam.c.id).offset(max(int(offset), 0))
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        with self._read() as s:
            return [f for m in s.execute(stmt).mappings() if (f := self._read_family(m)) is not None]

    def count_families(
        self,
        constant: str | None = None,
        *,
        kind: str | None = None,
        status: str | None = None,
        min_gain: float | None = None,
        min_digits: int | None = None,
        search_id: int | None = None,
    ) -> int:
        """How many families ``families`` would list with these filters (for pagination)."""
        stmt, rep = self._family_select()
        stmt = self._family_filters(stmt, rep, constant, kind, status, min_gain, min_digits, search_id)
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    def family(self, family_id: int) -> Family | None:
        """The family with this id, or ``None``."""
        stmt, _ = self._family_select()
        with self._read() as s:
            m = s.execute(stmt.where(_fam.c.id == int(family_id))).mappings().first()
            return None if m is None else self._read_family(m)

    def family_by_key(self, constant: str, key: str) -> Family | None:
        """The family ``key`` of ``constant``, or ``None``."""
        stmt, _ = self._family_select()
        with self._read() as s:
            m = s.execute(stmt.where(ConstantRow.text == constant, _fam.c.key == key)).mappings().first()
            return None if m is None else self._read_family(m)

    def family_members(self, family_id: int, limit: int | None = None, offset: int = 0) -> list[Conjecture]:
        """The members of a family: the representative first, then by id (paginated)."""
        sub = select(_fam.c.constant_id, _fam.c.key).where(_fam.c.id == int(family_id)).subquery()
        stmt = (
            self._conjecture_select()
            .join(sub, and_(sub.c.constant_id == _conj.c.constant_id, sub.c.key == _conj.c.family_key))
            .order_by(_conj.c.representative.desc(), _conj.c.id)
            .offset(max(int(offset), 0))
        )
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    # -- constants -----------------------------------------------------------------------------------------

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

    def constants_overview(self) -> list[dict[str, Any]]:
        """Every constant with its counts: ``id, text, formulas, families, proved_formulas, proved_families,
        searches``, by text (aggregates in SQL; nothing is loaded whole)."""
        rep = ConjectureRow.__table__.alias("rep")
        formulas = (
            select(_conj.c.constant_id, func.count().label("n"),
                   func.sum(case((_conj.c.status == "proved", 1), else_=0)).label("proved"))
            .group_by(_conj.c.constant_id).subquery()
        )
        fams = (
            select(_fam.c.constant_id, func.count().label("n"),
                   func.sum(case((rep.c.status == "proved", 1), else_=0)).label("proved"))
            .join(rep, rep.c.id == _fam.c.representative_id)
            .group_by(_fam.c.constant_id).subquery()
        )
        searches = (
            select(SearchRow.constant_id, func.count().label("n")).group_by(SearchRow.constant_id).subquery()
        )
        stmt = (
            select(ConstantRow.id, ConstantRow.text, formulas.c.n, formulas.c.proved, fams.c.n, fams.c.proved,
                   searches.c.n)
            .outerjoin(formulas, formulas.c.constant_id == ConstantRow.id)
            .outerjoin(fams, fams.c.constant_id == ConstantRow.id)
            .outerjoin(searches, searches.c.constant_id == ConstantRow.id)
            .order_by(ConstantRow.text)
        )
        with self._read() as s:
            return [
                {"id": i, "text": t, "formulas": int(nf or 0), "proved_formulas": int(pf or 0),
                 "families": int(nfam or 0), "proved_families": int(pfam or 0), "searches": int(ns or 0)}
                for i, t, nf, pf, nfam, pfam, ns in s.execute(stmt).all()
            ]

    def constant_by_id(self, constant_id: int) -> dict[str, Any] | None:
        """``{"id", "text"}`` of a constant, or ``None``."""
        with self._read() as s:
            row = s.get(ConstantRow, int(constant_id))
            return None if row is None else {"id": row.id, "text": row.text}

    def constant_id_of(self, conjecture_id: int) -> int | None:
        """The constant id of a formula (the web pages link a formula to its constant), or ``None``."""
        with self._read() as s:
            return s.scalar(select(ConjectureRow.constant_id).where(ConjectureRow.id == int(conjecture_id)))
