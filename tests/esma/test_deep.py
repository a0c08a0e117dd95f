"""The deep search (DESIGN 1, completeness): long quasi-periods beyond the paper's window of 100 terms.

Golden data are computed here independently of the engine: the simple continued fraction of e/5 from mpmath at
high precision with exact Fractions, and the quasi-polynomial structure checked per residue class by exact
interpolation.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import esma
from esma import checker
from esma.qpoly import lag_test, lag_test_py, preperiod_of


def _simple_cf(x: Fraction, n: int) -> list[int]:
    out = []
    for _ in range(n):
        a = x.numerator // x.denominator
        out.append(a)
        x = 1 / (x - a)
    return out


def _e_over_5_terms(n: int) -> list[int]:
    """The simple continued fraction of e/5 from 1500 digits (both ends of the enclosure agree on these)."""
    with mpmath.workdps(1500):
        v = mpmath.e / 5
        lo = Fraction(int(mpmath.floor(v * 10**1480)), 10**1480)
    hi = lo + Fraction(1, 10**1480)
    a, b = _simple_cf(lo, n), _simple_cf(hi, n)
    assert a == b
    return a


def _is_quasi_polynomial(terms: list[int], period: int, start: int, degree: int = 1) -> bool:
    """Every residue class n = start + period m + j is a polynomial of degree <= ``degree`` in m (exact finite
    differences over all available points)."""
    for j in range(period):
        cls = terms[start + j :: period]
        for _ in range(degree + 1):
            cls = [b - a for a, b in itertools.pairwise(cls)]
        if any(cls):
            return False
    return True


@pytest.fixture(scope="module")
def e5():
    return esma.search("e/5", verify_digits=300)


def test_e_over_5_has_period_19_after_8_independently():
    terms = _e_over_5_terms(400)
    assert terms[:8] == [0, 1, 1, 5, 4, 2, 2, 2]
    assert _is_quasi_polynomial(terms, 19, 8)
    assert not _is_quasi_polynomial(terms, 19, 7)
    assert not any(_is_quasi_polynomial(terms, p, 8) for p in range(1, 19))


def test_default_search_finds_the_period_19_formula_of_e_over_5(e5):
    terms = _e_over_5_terms(120)
    found = [c for c in e5.conjectures if c.lhs == "c" and c.signs == (1,)]
    assert len(found) == 1
    c = found[0]
    assert (c.period, c.preperiod, c.kind) == (19, 8, "polynomial")
    assert list(c.terms[:40]) == terms[:40]
    # its recurrence (order 2 x 19) is beyond what 100 terms show Berlekamp–Massey (2 L + margin > 100)
    assert 2 * (c.preperiod + len(c.recurrence) - 1) + 10 > 100
    assert c.verified_digits >= 300


def test_a_quasi_period_above_100_is_found_and_proved_at_the_defaults(e5):
    long = [c for c in e5.conjectures if c.period > 100]
    assert long, "no quasi-period above 100"
    assert all(c.status == "proved" for c in long)
    c = max((c for c in long if c.representative), key=lambda c: c.period)
    assert c.certificate is not None
    # the stored certificate passes the independent checker again
    ok, why = checker.check(c.certificate, c.constant, c.lhs_numerator, c.lhs_denominator, c.signs,
                            c.terms[: c.preperiod], c.period, c.polynomials)
    assert ok, why
    # and its terms are what exact arithmetic gives for T(e/5), far beyond the stored closed form's start
    with mpmath.workdps(3000):
        x = mpmath.e / 5
        t = sum(a * x**k for k, a in enumerate(c.lhs_numerator)) / sum(
            a * x**k for k, a in enumerate(c.lhs_denominator))
        lo = Fraction(int(mpmath.floor(t * 10**2980)), 10**2980)
    rec = esma.Recurrence(tuple(c.recurrence), c.preperiod)
    extended = rec.extend(list(c.terms), 2 * c.period + c.preperiod + 40)
    assert _signed(lo, c.signs, len(extended)) == extended == _signed(lo + Fraction(1, 10**2980), c.signs,
                                                                       len(extended))


def _signed(x: Fraction, signs, n: int) -> list[int]:
    out = []
    for i in range(n):
        b = signs[i % len(signs)]
        a = x.numerator // x.denominator if b > 0 else -((-x.numerator) // x.denominator)
        out.append(a)
        x = b / (x - a)
    return out


def test_the_paper_window_alone_misses_them():
    plain = esma.search("e/5", verify_digits=300, max_qperiod=0, max_period=1)
    deep = esma.search("e/5", verify_digits=300, max_period=1)
    assert len(deep.families) > len(plain.families)
    assert {c.key for c in plain.conjectures} < {c.key for c in deep.conjectures}


@given(
    period=st.integers(1, 12),
    head=st.lists(st.integers(1, 30), min_size=0, max_size=20),
    polys=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 9), st.integers(0, 1)), min_size=12, max_size=12),
    noise=st.integers(0, 1),
)
@settings(max_examples=80, deadline=None)
def test_lag_kernel_equals_twin_and_finds_planted_tails(period, head, polys, noise):
    """A planted tail a(R + P m + j) = c2 m^2 + c1 m + c0 is found at its period (or a divisor), with the
    pre-period of the planted head at most; kernel and twin agree on every input."""
    n = len(head) + 3 * period + 40
    tail = [polys[j % 12][2] * m * m + polys[j % 12][0] * m + polys[j % 12][1]
            for i in range(n - len(head)) for m, j in [divmod(i, period)]]
    seq = head + tail
    if noise:
        seq[-1] += 1  # the last term breaks every lag
    got = lag_test(seq, (1,), 20, 10, 0.0)
    assert got == lag_test_py(seq, (1,), 20, 10, 0.0)
    if noise:
        assert got == (0, 0)
        return
    P, s = got
    assert P >= 1 and period % P == 0
    assert preperiod_of(P, s) <= len(head)


def test_lag_test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="max_p"):
        lag_test([1, 2, 3], (1,), -1, 10, 0.0)
    with pytest.raises(ValueError, match="signs"):
        lag_test([1, 2, 3], (2,), 5, 10, 0.0)
