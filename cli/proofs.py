"""Proof certificates of stored formulas, checked from the record (``esma verify ID --proof``).

A representative's certificate (``esma-tail-cert/1``) is checked against its own record; a member's
(``esma-member-cert/1``) is stored without the copy of its representative's proof, which is put back from the
representative's record (found by its key) before the whole is checked.  Either way ``esma.checker`` decides,
from the record and the theorem registry alone.  No mathematics and no SQL here.
"""

from __future__ import annotations

from esma import checker
from esma.prover import Formula, with_representative
from esma.records import Conjecture
from esma.theorems import MEMBER_FORMAT

__all__ = ["check_record"]


def check_record(catalog, conj: Conjecture) -> tuple[bool, str]:
    """(ok, reason) of the checker on the certificate stored with ``conj``."""
    cert = conj.certificate
    if cert is None:
        return False, f"no certificate: the formula is a {conj.status}"
    if not conj.polynomials:
        return False, "no closed form in interlaced polynomials: nothing a certificate can claim"
    if isinstance(cert, dict) and cert.get("format") == MEMBER_FORMAT:
        key = (cert.get("representative") or {}).get("key")
        rep = catalog.get_by_key(conj.constant, key) if isinstance(key, str) else None
        if rep is None:
            return False, f"the member certificate names no stored representative ({key!r})"
        if rep.certificate is None or not rep.polynomials:
            return False, f"the representative #{rep.id} has no certificate"
        cert = with_representative(cert, Formula.from_conjecture(rep), rep.certificate)
    try:
        return checker.check(cert, conj.constant, conj.lhs_numerator, conj.lhs_denominator, conj.signs,
                             conj.terms[: conj.preperiod], conj.period, conj.polynomials)
    except (TypeError, ValueError) as exc:  # a record the checker cannot read is not proved
        return False, f"malformed record: {exc}"
