"""Proofs and verifications of stored formulas: recording proofs and status changes (``set_proofs``), the
record and raw certificate a proof checker reads (``proof_record``), and verification runs
(``add_verification``, ``verifications``).

:class:`ProofsMixin` is a part of :class:`~esma.db.repository.Catalog`; it relies on what the catalog sets
up: the sessionmakers ``_write`` and ``_read``, ``_refresh_families`` (``esma.db.writes``) and
``_family_of_row`` (``esma.db.reads``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, update

from esma.db._base import _JSON_COLUMNS, _batches, _check_status, _conj, _iso, _raw
from esma.db.models import STATUSES, ConstantRow, VerificationRow, utcnow
from esma.db.rows import _record
from esma.records import Conjecture


class ProofsMixin:
    """The proofs and verifications stage of :class:`~esma.db.repository.Catalog` (uses its ``_write``,
    ``_read``, ``_refresh_families`` and ``_family_of_row``)."""

    # -- proofs --------------------------------------------------------------------------------------------

    def set_proofs(self, updates: Sequence[tuple[int, str, str, dict[str, Any] | None]]) -> None:
        """Record proofs: (conjecture id, status, status_reason, certificate or None) per formula; the
        families' proved counts follow."""
        if not updates:
            return
        for _, status, _, _ in updates:
            _check_status(status, STATUSES)
        with self._write.begin() as s:
            conn = s.connection()
            now = utcnow()
            conn.execute(
                update(_conj).where(_conj.c.id == bindparam("_id")).values(
                    status=bindparam("status"), status_reason=bindparam("status_reason"),
                    certificate=bindparam("certificate"), updated_at=bindparam("updated_at")),
                [{"_id": i, "status": st, "status_reason": why, "certificate": cert, "updated_at": now}
                 for i, st, why, cert in updates],
            )
            touched: dict[int, set[str]] = {}
            for part in _batches(sorted({u[0] for u in updates})):
                for cid, key in conn.execute(select(_conj.c.constant_id, _conj.c.family_key).where(
                        _conj.c.id.in_(part))):
                    touched.setdefault(cid, set()).add(key)
            for cid, keys in touched.items():
                self._refresh_families(conn, cid, keys - {""}, now)

    def proof_record(
        self, conjecture_id: int | None = None, constant: str | None = None, key: str | None = None
    ) -> tuple[Conjecture, str | None] | None:
        """A formula whose proof is to be checked, by id (or by constant and key): its record without the
        certificate, and the certificate's stored text as it is (``None`` when there is none), undecoded, so
        that a certificate that is not JSON is the checker's to reject, not an error of the catalog.
        ``None`` if there is no such formula."""
        # every stored JSON column read as its text (the record reader checks that text itself)
        cols = [_raw(c) if c.name in _JSON_COLUMNS else c for c in _conj.c]
        stmt = select(*cols, ConstantRow.text, self._family_of_row().label("family_id")).join(
            ConstantRow.__table__, ConstantRow.id == _conj.c.constant_id)
        if conjecture_id is not None:
            stmt = stmt.where(_conj.c.id == int(conjecture_id))
        else:
            stmt = stmt.where(ConstantRow.text == str(constant), _conj.c.key == str(key))
        with self._read() as s:
            m = s.execute(stmt).mappings().first()
        if m is None:
            return None
        text = m["certificate"]
        return _record({**m, "certificate": None}, m["text"]), text

    # -- verifications -------------------------------------------------------------------------------------

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
            # the columns it needs, not the ORM row: a certificate that cannot be read must not stop a verification
            row = s.execute(select(_conj.c.verified_digits, _conj.c.family_key, _conj.c.constant_id)
                            .where(_conj.c.id == int(conjecture_id))).first()
            if row is None:
                raise KeyError(f"No formula with id {conjecture_id}")
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
            values: dict[str, Any] = {}
            if ok and verified_digits > row.verified_digits:
                values.update(verified_digits=int(verified_digits), verify_terms=int(terms_used))
            if status is not None:
                values["status"] = status
                if status != "proved":
                    values["certificate"] = None
            if status_reason is not None:
                values["status_reason"] = status_reason
            if values:
                s.execute(update(_conj).where(_conj.c.id == int(conjecture_id)).values(**values))
            s.flush()
            if row.family_key:
                self._refresh_families(s.connection(), row.constant_id, {row.family_key}, utcnow())

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
