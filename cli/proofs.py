"""Proof certificates of stored formulas, checked from the record (``esma verify ID --proof``).

A representative's certificate (``esma-tail-cert/1``) is checked against its own record; a member's
(``esma-member-cert/1``) is stored without the copy of its representative's proof, which is put back from the
representative's record (found by its key) before the whole is checked.  Either way ``esma.checker`` decides,
from the record and the theorem registry alone, within its bound on work (``esma.checker.MAX_WORK``).  The
stored text of a certificate is decoded here, bounded too: at most ``MAX_CERTIFICATE_TEXT`` characters of JSON,
nested no deeper than the interpreter allows; a text that cannot be read is a rejected certificate, never an
error.  No mathematics and no SQL here.
"""

from __future__ import annotations

import json

from esma import checker
from esma.db.models import int_from_text
from esma.prover import Formula, with_representative
from esma.records import Conjecture
from esma.theorems import MEMBER_FORMAT

__all__ = ["MAX_CERTIFICATE_TEXT", "check_record", "read_certificate"]

#: Characters of a stored certificate's JSON (real ones hold 1 to 3 thousand).
MAX_CERTIFICATE_TEXT = 1_000_000


def read_certificate(text: str) -> object:
    """The certificate decoded from its stored JSON text; ``ValueError`` with a one-line reason if it cannot
    be read (empty, too long, not JSON, nested too deeply).

    >>> read_certificate('{"format": "esma-tail-cert/1"}')
    {'format': 'esma-tail-cert/1'}
    >>> read_certificate("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ...
    ValueError: unreadable certificate: nested too deeply
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("unreadable certificate: empty")
    if len(text) > MAX_CERTIFICATE_TEXT:
        raise ValueError(f"unreadable certificate: {len(text)} characters, more than {MAX_CERTIFICATE_TEXT}")
    try:
        return json.loads(text, parse_int=int_from_text)
    except RecursionError:
        raise ValueError("unreadable certificate: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError included
        raise ValueError(f"unreadable certificate: not JSON ({str(exc).splitlines()[0][:200]})") from None


def check_record(catalog, conj: Conjecture, certificate_text: str | None) -> tuple[bool, str]:
    """(ok, reason) of the checker on the certificate stored with ``conj``, given as its stored text (see
    ``esma.db.Catalog.proof_record``)."""
    if certificate_text is None:
        return False, f"no certificate: the formula is a {conj.status}"
    try:
        cert = read_certificate(certificate_text)
    except ValueError as exc:
        return False, str(exc)
    if not conj.polynomials:
        return False, "no closed form in interlaced polynomials: nothing a certificate can claim"
    try:
        if isinstance(cert, dict) and cert.get("format") == MEMBER_FORMAT:
            key = (cert.get("representative") or {}).get("key") if isinstance(cert.get("representative"), dict) \
                else None
            found = catalog.proof_record(constant=conj.constant, key=key) if isinstance(key, str) else None
            if found is None:
                return False, f"the member certificate names no stored representative ({key!r})"
            rep, rep_text = found
            if rep_text is None or not rep.polynomials:
                return False, f"the representative #{rep.id} has no certificate"
            try:
                rep_cert = read_certificate(rep_text)
            except ValueError as exc:
                return False, f"the representative #{rep.id}: {exc}"
            cert = with_representative(cert, Formula.from_conjecture(rep), rep_cert)
        return checker.check(cert, conj.constant, conj.lhs_numerator, conj.lhs_denominator, conj.signs,
                             conj.terms[: conj.preperiod], conj.period, conj.polynomials)
    except (TypeError, ValueError, ArithmeticError) as exc:  # a record the checker cannot read is not proved
        return False, f"malformed record: {exc}"
