"""Storing formulas and families: the families phase of a search writes its approved formulas
(``store_formulas``), links them to the search, and refreshes and ranks the families they belong to.

:class:`WritesMixin` is a part of :class:`~esma.db.repository.Catalog`; it relies on what the catalog sets
up: the sessionmaker ``_write`` and the shared helpers ``_constant_id``, ``_search`` and ``_unreadable``
(see ``esma.db.repository``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select, update

from esma.columns import COLUMNS, conjecture_columns
from esma.db._base import _batches, _chunks, _conj, _conj_text, _fam, _insert_ignore, _links, _raw
from esma.db.models import SearchRow, utcnow
from esma.db.rows import UnreadableRow, _Bad, _int_list
from esma.records import Conjecture

# Fields that a later, deeper verification of the same formula may improve (everything else is identity); gain
# is their ratio (digits per term over those of the simple continued fraction) and goes with them.
_DIGIT_FIELDS = ("verified_digits", "verify_terms", "digits_per_term", "scf_digits_per_term", "gain")
# Fields that follow the formula's family (its representative may change when a simpler member is found).
_FAMILY_FIELDS = ("family_key", "representative", "relation")
# Fields of a formula's proof: replaced when a new record brings another (never over a refutation).
_PROOF_FIELDS = ("status", "status_reason", "certificate")

class WritesMixin:
    """The storing stage of :class:`~esma.db.repository.Catalog` (uses its ``_write``, ``_constant_id``,
    ``_search`` and ``_unreadable``; ``_refresh_families`` serves the proofs stage too)."""

    # -- storing formulas and families ---------------------------------------------------------------------

    def store_formulas(
        self,
        search_id: int | None,
        conjectures: Sequence[Conjecture],
        found: Iterable[str] | None = None,
        clear_hits: bool = False,
    ) -> list[int]:
        """Store approved formulas (with their family fields) in one transaction; returns their ids in order.

        A new formula is inserted.  A stored one (same constant and key) keeps its row and identity; its family
        fields (family, representative, relation) are replaced, and so are its figures (verified digits, terms,
        digits per term, those of the simple continued fraction, gain) only when the new record has more
        verified digits or its family changed (they are then derived from another representative): what is
        stored does not depend on the order of searches.  Its proof (status, reason, certificate) is replaced
        unless it was refuted.  The formulas whose
        keys are in ``found`` (default: all) are linked to the search
        ``search_id``.  The families of every key touched are refreshed and the constants' families ranked.
        ``clear_hits`` forgets the search's pending hits in the same transaction (its families are stored).
        """
        values = [conjecture_columns(c) for c in conjectures]  # validate before taking the write lock
        return self._store_values(search_id, [c.constant for c in conjectures], values, found, clear_hits)

    def store_columns(
        self,
        search_id: int | None,
        constant: str,
        rows: Sequence[dict[str, Any]],
        found: Iterable[str] | None = None,
        clear_hits: bool = False,
    ) -> list[int]:
        """``store_formulas`` for formulas of ``constant`` already encoded as their stored columns
        (``esma.columns.conjecture_columns``, which checks them): how the families phase stores what its workers
        approved and encoded.  ``ValueError`` for a row without exactly those columns."""
        for row in rows:
            if tuple(row) != COLUMNS:
                raise ValueError(f"Argument 'rows' must hold esma.columns.conjecture_columns rows, not {row!r:.120}")
        return self._store_values(search_id, [constant] * len(rows), list(rows), found, clear_hits)

    def _store_values(self, search_id: int | None, constants: list[str], values: list[dict[str, Any]],
                      found: Iterable[str] | None, clear_hits: bool) -> list[int]:
        wanted = set(found) if found is not None else {v["key"] for v in values}
        with self._write.begin() as s:
            if search_id is not None:
                self._search(s, search_id)
            conn = s.connection()
            cache: dict[str, int] = {}
            const_ids = [self._constant_id(s, c, cache) for c in constants]
            now = utcnow()
            ids: dict[tuple[int, str], int] = {}
            existing: dict[tuple[int, str], dict[str, Any]] = {}
            by_constant: dict[int, list[str]] = {}
            for cid, v in zip(const_ids, values, strict=True):
                by_constant.setdefault(cid, []).append(v["key"])
            t = _conj_text  # stored text of the list and JSON columns, compared and written as is
            cols = [t.c.id, t.c.key, *(t.c[f] for f in (*_DIGIT_FIELDS, *_FAMILY_FIELDS, *_PROOF_FIELDS))]
            for cid, keys in by_constant.items():
                for part in _batches(sorted(set(keys))):
                    stmt = select(*cols).where(t.c.constant_id == cid, t.c.key.in_(part))
                    for m in conn.execute(stmt).mappings():
                        existing[(cid, m["key"])] = dict(m)
            fresh, changed, seen = [], {}, set()
            for cid, v in zip(const_ids, values, strict=True):
                k = (cid, v["key"])
                if k in seen:
                    continue
                seen.add(k)
                old = existing.get(k)
                if old is None:
                    fresh.append({"constant_id": cid, "first_search_id": search_id, "created_at": now,
                                  "updated_at": now, **v})
                    continue
                # the figures (digits, digits per term, those of the simple continued fraction, gain) are replaced
                # only by a deeper verification or a change of family: a search approving to fewer digits measures
                # the simple continued fraction at its own, lower depth, and must not overwrite what a deeper one
                # stored (the catalog would then depend on the order of searches; gain is not a family field)
                moved = bool(old["family_key"] != v["family_key"] or bool(old["representative"]) != v["representative"]
                             or (old["relation"] or "[1,0,0,1]") != v["relation"])
                upd = {f: v[f] for f in _FAMILY_FIELDS} if moved else {}
                if moved or v["verified_digits"] > old["verified_digits"]:
                    upd.update({f: v[f] for f in _DIGIT_FIELDS})
                if old["status"] != "refuted" and any(old[f] != v[f] for f in _PROOF_FIELDS):
                    upd.update({f: v[f] for f in _PROOF_FIELDS})
                if upd:
                    changed[old["id"]] = {"_id": old["id"], "updated_at": now, **upd}
            if fresh:
                _insert_ignore(conn, _conj_text, fresh, ("constant_id", "key"))
            if changed:
                # executemany per set of columns (rows that changed the same fields share one statement)
                groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                for row in changed.values():
                    groups.setdefault(tuple(sorted(row)), []).append(row)
                for names, rows in groups.items():
                    stmt = update(_conj_text).where(_conj_text.c.id == bindparam("_id")).values(
                        {n: bindparam(n) for n in names if n != "_id"})
                    conn.execute(stmt, rows)
            for cid, keys in by_constant.items():
                for part in _batches(sorted(set(keys))):
                    stmt = select(_conj.c.id, _conj.c.key).where(_conj.c.constant_id == cid, _conj.c.key.in_(part))
                    for rid, key in conn.execute(stmt):
                        ids[(cid, key)] = rid
            if search_id is not None:
                linked = {(cid, v["key"]) for cid, v in zip(const_ids, values, strict=True) if v["key"] in wanted}
                self._link(conn, search_id, [ids[k] for k in linked if k in ids])
            touched: dict[int, set[str]] = {}
            for cid, v in zip(const_ids, values, strict=True):
                touched.setdefault(cid, set()).add(v["family_key"])
            for k, old in existing.items():
                if old["family_key"]:
                    touched.setdefault(k[0], set()).add(old["family_key"])
            for cid, keys in touched.items():
                self._refresh_families(conn, cid, keys - {""}, now)
            if clear_hits and search_id is not None:
                conn.execute(update(_chunks).where(_chunks.c.search_id == search_id,
                                                   _chunks.c.hit_records.is_not(None)).values(hit_records=None))
            return [ids[(cid, v["key"])] for cid, v in zip(const_ids, values, strict=True)]

    @staticmethod
    def _link(conn, search_id: int, conjecture_ids: list[int]) -> None:
        """Link conjectures to the search that found them (once) and count the new links."""
        if not conjecture_ids:
            return
        have: set[int] = set()
        for part in _batches(sorted(set(conjecture_ids))):
            have |= set(conn.scalars(select(_links.c.conjecture_id).where(
                _links.c.search_id == search_id, _links.c.conjecture_id.in_(part))))
        rows = [{"search_id": search_id, "conjecture_id": i, "chunk_index": 0}
                for i in sorted(set(conjecture_ids)) if i not in have]
        added = len(_insert_ignore(conn, _links, rows, ("search_id", "conjecture_id"), "conjecture_id"))
        if added:
            conn.execute(update(SearchRow.__table__).where(SearchRow.id == search_id).values(
                conjectures=SearchRow.conjectures + added, updated_at=utcnow()))

    def _refresh_families(self, conn, constant_id: int, keys: set[str], now: datetime) -> None:
        """Recompute the family rows of ``keys`` from their members, then rank the constant's families."""
        if keys:
            stats: dict[str, tuple[int, int, bool]] = {}
            reps: dict[str, dict[str, Any]] = {}
            proved = func.sum(case((_conj.c.status == "proved", 1), else_=0))
            base = func.sum(case((and_(_conj.c.lhs == "c", _conj.c.signs == "+"), 1), else_=0))
            for part in _batches(sorted(keys)):
                stmt = (
                    select(_conj.c.family_key, func.count(), proved, base)
                    .where(_conj.c.constant_id == constant_id, _conj.c.family_key.in_(part))
                    .group_by(_conj.c.family_key)
                )
                for key, n, n_proved, n_base in conn.execute(stmt):
                    stats[key] = (int(n), int(n_proved or 0), bool(n_base))
                stmt = select(_conj.c.id, _conj.c.family_key, _conj.c.gain, _conj.c.kind, _conj.c.period,
                              _raw(_conj.c.recurrence), _raw(_conj.c.lhs_numerator),
                              _raw(_conj.c.lhs_denominator)).where(
                    _conj.c.constant_id == constant_id, _conj.c.family_key.in_(part), _conj.c.representative)
                for m in conn.execute(stmt).mappings():
                    r = dict(m)
                    try:  # an unreadable representative still gets a family row, sorted last among its peers
                        r["recurrence"] = _int_list(r["recurrence"], "recurrence")
                        r["lhs"] = (*_int_list(r["lhs_numerator"], "lhs_numerator"),
                                    *_int_list(r["lhs_denominator"], "lhs_denominator"))
                        if type(r["gain"]) not in (int, float) or not math.isfinite(r["gain"]):
                            raise _Bad("gain", f"its gain is not a finite number ({r['gain']!r:.40})")
                        if type(r["period"]) is not int or type(r["kind"]) is not str:
                            raise _Bad("period", "its period or kind has another type")
                    except _Bad as exc:
                        self._unreadable(UnreadableRow("formula", r["id"], exc.column, exc.reason))
                        r.update(recurrence=(0,), lhs=(2**31 - 1,), gain=0.0, period=2**31 - 1, kind="")
                    reps[m["family_key"]] = r
            present = {}
            for part in _batches(sorted(keys)):
                stmt = select(_fam.c.id, _fam.c.key).where(_fam.c.constant_id == constant_id, _fam.c.key.in_(part))
                present.update({key: fid for fid, key in conn.execute(stmt)})
            fresh, changed, gone = [], [], []
            for key in keys:
                if key not in stats or key not in reps:
                    if key in present:
                        gone.append(present[key])
                    continue
                n, n_proved, is_base = stats[key]
                r = reps[key]
                row = {
                    "representative_id": r["id"], "members": n, "proved_members": n_proved, "gain": r["gain"],
                    "kind": r["kind"], "period": r["period"], "recurrence_order": len(r["recurrence"]) - 1,
                    # a sort key: an LHS beyond 32 bits (never in a search's space) sorts last, not exactly
                    "height": min(max((abs(x) for x in r["lhs"]), default=0), 2**31 - 1),
                    "base": is_base, "updated_at": now,
                }
                if key in present:
                    changed.append({"_id": present[key], **row})
                else:
                    fresh.append({"constant_id": constant_id, "key": key, "rank": 0, "created_at": now, **row})
            fresh.sort(key=lambda r: (-r["gain"], r["period"], r["recurrence_order"], r["height"], r["key"]))
            _insert_ignore(conn, _fam, fresh, ("constant_id", "key"))
            if changed:
                stmt = update(_fam).where(_fam.c.id == bindparam("_id")).values(
                    {n: bindparam(n) for n in changed[0] if n != "_id"})
                conn.execute(stmt, changed)
            for part in _batches(gone):
                conn.execute(_fam.delete().where(_fam.c.id.in_(part)))
        rows = conn.execute(
            select(_fam.c.id, _fam.c.gain, _fam.c.period, _fam.c.recurrence_order, _fam.c.height, _fam.c.key,
                   _fam.c.rank).where(_fam.c.constant_id == constant_id)
        ).all()
        ordered = sorted(rows, key=lambda r: (-r.gain, r.period, r.recurrence_order, r.height, r.key))
        moves = [{"_id": r.id, "rank": i} for i, r in enumerate(ordered, 1) if r.rank != i]
        if moves:
            conn.execute(update(_fam).where(_fam.c.id == bindparam("_id")).values(rank=bindparam("rank")), moves)
