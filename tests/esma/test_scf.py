"""Certified signed continued fractions and sign-period enumeration."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esma.scf import expand_enclosure, sign_periods
from esma.verify import convergent

signs_st = st.lists(st.sampled_from([1, -1]), min_size=1, max_size=6).map(tuple)


def test_period_counts():
    assert len(sign_periods(1, 4)) == 22
    assert len(sign_periods(1, 6)) == 106
    assert sign_periods(2, 2) == ((1, 1), (1, -1), (-1, 1), (-1, -1))
    assert sign_periods(1, 2) == ((1,), (-1,), (1, -1), (-1, 1))
    # no tuple repeats a shorter enumerated period
    for t in sign_periods(1, 6):
        assert not any(len(t) % d == 0 and t == t[:d] * (len(t) // d) for d in range(1, len(t)))


@pytest.mark.parametrize(("lo", "hi"), [(0, 0), (3, 2)])
def test_bad_period_bounds(lo, hi):
    with pytest.raises(ValueError, match="min_period"):
        sign_periods(lo, hi)


@given(
    num=st.integers(-10**6, 10**6),
    den=st.integers(1, 10**6),
    signs=signs_st,
)
@settings(max_examples=200, deadline=None)
def test_rational_expansion_is_exact_and_valid(num, den, signs):
    x = Fraction(num, den)
    # a negative fraction can take about den terms (1/N = [1; 2, 2, ..., 2] with all signs -): room for them all
    cf = expand_enclosure(x, x, signs, den + 64)
    assert cf.exact
    # the finite fraction evaluates back to x exactly
    p, q = convergent(cf.terms, signs)
    assert Fraction(int(p), int(q)) == x
    # the extraction rule: x_{n+1} > 1, so later terms are >= 1, and >= 2 after a minus numerator
    for n in range(1, len(cf.terms)):
        b_prev = signs[(n - 1) % len(signs)]
        assert cf.terms[n] >= 1
        if signs[n % len(signs)] < 0 and n < len(cf.terms) - 1:
            assert cf.terms[n] >= 2, (cf, n, b_prev)


@given(
    num=st.integers(-10**40, 10**40),
    den=st.integers(1, 10**40),
    width=st.integers(1, 10**6),
    signs=signs_st,
)
@settings(max_examples=200, deadline=None)
def test_enclosure_terms_are_certified(num, den, width, signs):
    """Every term emitted for [lo, hi] is a term of every rational inside it (so more precision cannot change it)."""
    lo = Fraction(num, den)
    hi = lo + Fraction(width, 10**30)
    cf = expand_enclosure(lo, hi, signs, 200)
    for x in (lo, hi, (lo + hi) / 2, lo + (hi - lo) / 3):
        exact = expand_enclosure(x, x, signs, len(cf.terms) + 1)
        assert exact.terms[: len(cf.terms)] == cf.terms


def test_known_values():
    assert expand_enclosure(Fraction(43, 30), Fraction(43, 30), (1,), 10).terms == (1, 2, 3, 4)
    # 1/2 = 1 - 1/2 under ceilings
    assert expand_enclosure(Fraction(1, 2), Fraction(1, 2), (-1,), 10).terms == (1, 2)
    # an enclosure straddling an integer certifies nothing
    assert expand_enclosure(Fraction(19, 10), Fraction(21, 10), (1,), 10).terms == ()


def test_bad_arguments():
    with pytest.raises(ValueError, match="lo"):
        expand_enclosure(Fraction(2), Fraction(1), (1,), 5)
    with pytest.raises(ValueError, match="signs"):
        expand_enclosure(Fraction(1), Fraction(1), (2,), 5)


@given(
    num=st.integers(-(10**60), 10**60),
    den=st.integers(1, 10**50),
    width=st.integers(1, 10**20),
    wden=st.integers(1, 10**80),
    n=st.integers(1, 200),
)
@settings(max_examples=300, deadline=None)
def test_simple_fast_path_equals_general_loop(num, den, width, wden, n):
    from gmpy2 import mpq, mpz

    from esma.scf import _expand, _simple_terms

    lo = mpq(num, den)
    hi = lo + mpq(width, wden)
    p1, q1, p2, q2 = mpz(lo.numerator), mpz(lo.denominator), mpz(hi.numerator), mpz(hi.denominator)
    general = _expand(p1, q1, p2, q2, (1,), n, False)
    assert _simple_terms(p1, q1, p2, q2, n) == general.terms
    assert expand_enclosure(lo, hi, (1,), n) == general


enclosure_st = st.tuples(
    st.integers(-(10**200), 10**200), st.integers(1, 10**190), st.integers(0, 10**40), st.integers(1, 10**230)
)


@given(encls=st.lists(enclosure_st, min_size=1, max_size=6), n=st.integers(0, 150))
@settings(max_examples=200, deadline=None)
def test_simple_cfs_kernel_equals_twin(encls, n):
    from esma.scf import simple_cfs

    pairs = [(Fraction(a, b), Fraction(a, b) + Fraction(w, wd)) for a, b, w, wd in encls]
    assert simple_cfs(pairs, n) == [expand_enclosure(lo, hi, (1,), n).terms for lo, hi in pairs]


def test_simple_cfs_huge_quotients_and_exact_values():
    from esma.scf import simple_cfs

    # a partial quotient of 2^40 (over the kernel's 2^30) midway, an exact rational, a negative value
    big = Fraction(1, 1) + 1 / (Fraction(2**40) + 1 / Fraction(7, 3))
    pairs = [
        (big - Fraction(1, 10**60), big + Fraction(1, 10**60)),
        (Fraction(355, 113), Fraction(355, 113)),
        (Fraction(-314159, 100000), Fraction(-314158, 100000)),
        (Fraction(3), Fraction(7, 2)),
    ]
    got = simple_cfs(pairs, 40)
    assert got == [expand_enclosure(lo, hi, (1,), 40).terms for lo, hi in pairs]
    assert got[0][:2] == (1, 2**40) and got[1] == (3, 7, 16) and got[2][0] == -4 and got[3] == (3,)
