"""Closed forms: interlaced polynomials and kinds."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from esma.bm import find_recurrence
from esma.patterns import closed_form
from esma.polys import poly_text


def _form(seq):
    rec = find_recurrence(seq)
    assert rec is not None
    return closed_form(rec, seq)


def test_paper_tan1():
    seq = [1, 2, 4, 1, 6, 8, 1, 10, 12, 1, 14, 16, 1, 18, 20]
    f = _form(seq)
    assert f.kind == "polynomial"
    assert f.text == "a(3m) = 1, a(3m+1) = 4m + 2, a(3m+2) = 4m + 4"


def test_e_with_pre_period():
    seq = [2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14]
    f = _form(seq)
    assert (f.kind, f.period, f.start, f.head) == ("polynomial", 3, 1, (2,))
    assert f.polynomials == ((Fraction(1),), (Fraction(1),), (Fraction(2), Fraction(2)))
    assert [f.term(n) for n in range(len(seq))] == seq


def test_periodic_and_exponential():
    assert _form([1] + [2] * 12).kind == "periodic"
    assert _form([3, 1, 2] * 6).kind == "periodic"
    assert _form([2**k for k in range(12)]).kind == "exponential"
    fib = [1, 1]
    while len(fib) < 14:
        fib.append(fib[-1] + fib[-2])
    assert _form(fib).kind == "other"


def test_poly_text():
    assert poly_text((Fraction(2), Fraction(4)), "m", "plain") == "4m + 2"
    assert poly_text((Fraction(0), Fraction(1, 2), Fraction(1, 2)), "m", "plain") == "(m^2 + m)/2"
    assert poly_text((Fraction(-3),), "m", "plain") == "-3"


@given(
    period=st.integers(1, 4),
    coeffs=st.lists(st.lists(st.integers(-5, 5), min_size=1, max_size=3), min_size=4, max_size=4),
    head=st.lists(st.integers(1, 99), max_size=2),
)
@settings(max_examples=60, deadline=None)
def test_interlaced_polynomials_recovered(period, coeffs, head):
    polys = [[Fraction(c) for c in coeffs[j]] for j in range(period)]
    n0 = len(head)
    seq = list(head)
    for n in range(n0, n0 + 30 * period):
        m, j = divmod(n, period)
        seq.append(int(sum(c * m**k for k, c in enumerate(polys[j]))))
    rec = find_recurrence(seq)
    if rec is None or len(seq) < 2 * rec.linear_complexity + 4:
        return
    f = closed_form(rec, seq)
    assert f.kind in ("periodic", "polynomial")
    assert [f.term(n) for n in range(len(seq))] == seq
