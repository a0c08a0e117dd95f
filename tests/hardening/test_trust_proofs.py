"""Issue 18, "verify approves what it does not show": a stored record's terms, recurrence and closed form must
describe one sequence before ``verify`` approves it; real records always do.

On the engine (``esma.verify.record_mismatch``, ``verify_record``) with records of real searches; the command
line is tested in ``tests/cli/test_verify.py``.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

import esma
from esma.patterns import closed_form, closed_form_text
from esma.records import Conjecture, Recurrence
from esma.verify import record_mismatch, verify_record


@pytest.fixture(scope="module")
def searched() -> dict[str, list[Conjecture]]:
    return {c: esma.search(c, verify_digits=300).conjectures for c in ("e", "tan(1)", "exp(2)", "sqrt(2)")}


def test_records_of_real_searches_are_consistent(searched):
    kinds = set()
    for constant, records in searched.items():
        assert len(records) > 1000, constant
        assert [(r.lhs, r.signs_text, record_mismatch(r)) for r in records if record_mismatch(r)] == [], constant
        kinds |= {r.kind for r in records}
    assert kinds == {"polynomial", "periodic"}


@pytest.fixture(scope="module")
def e_over_e_minus_1(searched) -> Conjecture:
    """e/(e - 1) = [1; 2, 3, 2, 5, 2, 7, ...] with signs +-: a(2m) = 2m + 1, a(2m+1) = 2."""
    [r] = [r for r in searched["e"] if r.lhs == "c/(c - 1)" and r.signs_text == "+-"]
    assert r.terms[:6] == (1, 2, 3, 2, 5, 2) and r.closed_form == "a(2m) = 2m + 1, a(2m+1) = 2"
    return r


CHANGES = {
    # the attack of the issue: the closed form a(2m) = 2m + 3 stored (text and polynomials), the terms kept
    "closed form": {"closed_form": "a(2m) = 2m + 3, a(2m+1) = 2", "polynomials": (("3", "2"), ("2",))},
    "text only": {"closed_form": "a(2m) = 2m + 3, a(2m+1) = 2"},
    "polynomials only": {"polynomials": (("3", "2"), ("2",))},
    "period": {"closed_form": "a(n) = 2n + 1", "polynomials": (("1", "2"),), "period": 1},
    "kind": {"kind": "periodic"},
    "head": {"closed_form": "a(2m) = 2m + 1, a(2m+1) = 2 for n >= 1; a(0) = 7", "preperiod": 1},
    "unreadable polynomials": {"polynomials": (("2m + 1",), ("2",))},
    "no polynomials": {"polynomials": (), "period": 0},
}


@pytest.mark.parametrize("case", list(CHANGES))
def test_a_record_whose_parts_disagree_is_not_approved(e_over_e_minus_1, case):
    record = dataclasses.replace(e_over_e_minus_1, **CHANGES[case])
    why = record_mismatch(record)
    assert why is not None and ("closed form" in why or "recurrence" in why), why
    verdict = verify_record(record, 2000)
    assert not verdict.ok and verdict.reason == why and verdict.verified_digits == 0
    # and the record as stored is approved
    assert record_mismatch(e_over_e_minus_1) is None
    assert verify_record(e_over_e_minus_1, 2000).ok


def test_the_closed_form_is_checked_past_the_stored_terms(e_over_e_minus_1):
    # keep only the recurrence's initial terms; a(2m) = 2m + 1 + m (m - 1) ... (m - M + 1) agrees with every
    # stored term (m < M) and not with the recurrence after them
    r = e_over_e_minus_1
    rec = Recurrence(tuple(r.recurrence), r.preperiod)
    short = dataclasses.replace(r, terms=r.terms[: rec.linear_complexity])
    assert record_mismatch(short) is None
    M = (len(short.terms) + 1) // 2  # the stored a(2m) are m = 0 .. M - 1
    prod = [1]  # ascending coefficients of m (m - 1) ... (m - M + 1)
    for i in range(M):
        prod = [(prod[k - 1] if k else 0) - i * (prod[k] if k < len(prod) else 0) for k in range(len(prod) + 1)]
    p0 = [1 + prod[0], 2 + prod[1], *prod[2:]]
    polys = (tuple(str(c) for c in p0), ("2",))
    text = closed_form_text(2, 0, (), tuple(tuple(Fraction(c) for c in p) for p in polys))
    forged = dataclasses.replace(short, polynomials=polys, closed_form=text)
    assert all(forged.terms[n] == sum(c * (n // 2) ** i for i, c in enumerate((p0, [2])[n % 2]))
               for n in range(len(forged.terms)))  # every stored term agrees
    why = record_mismatch(forged)
    assert why is not None and why.startswith(f"the closed form gives a({2 * M}) = ") and "stored term" not in why


def test_records_without_interlaced_polynomials():
    fib = [1, 1]
    while len(fib) < 40:
        fib.append(fib[-1] + fib[-2])
    rec = Recurrence((1, -1, -1), 0)
    form = closed_form(rec, fib)
    assert form.kind == "other" and not form.polynomials
    record = Conjecture(constant="e", lhs="c", lhs_numerator=(0, 1), lhs_denominator=(1,), value="", signs=(1,),
                        preperiod=0, terms=tuple(fib), recurrence=(1, -1, -1), closed_form=form.text,
                        kind=form.kind, verified_digits=0, digits_per_term=0.0, scf_digits_per_term=0.0)
    assert record_mismatch(record) is None
    assert "not the recurrence's" in record_mismatch(dataclasses.replace(record, closed_form="a(n) = 2*a(n-1)"))
    assert "not the recurrence's" in record_mismatch(dataclasses.replace(record, recurrence=(1, -1, -1, 0)))
    assert "stores no interlaced polynomials" in record_mismatch(dataclasses.replace(record, kind="polynomial"))
