"""Approval arithmetic: exact convergents, certified agreement digits, the approval verdict."""

from __future__ import annotations

import math
from fractions import Fraction

from gmpy2 import mpq, mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from esma.constants import constant as make_constant
from esma.records import Recurrence
from esma.transforms import Transform
from esma.verify import (
    _Convergents,
    agreement_digits,
    approve,
    convergent,
    prefix_matrix,
    prefix_matrix_py,
    terms_to_digits,
)


@given(
    p=st.integers(-(10**30), 10**30),
    q=st.integers(1, 10**30),
    num=st.integers(1, 10**40),
    den=st.integers(1, 10**40),
    width=st.integers(0, 10**6),
    neg=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_agreement_is_a_lower_bound(p, q, num, den, width, neg):
    lo = Fraction(num, den)
    hi = lo + Fraction(width, 10**45)
    if neg:
        lo, hi = -hi, -lo
    got = agreement_digits(mpz(p), mpz(q), mpq(lo.numerator, lo.denominator), mpq(hi.numerator, hi.denominator))
    r = Fraction(p, q)
    worst = max(abs(r - lo), abs(r - hi)) / min(abs(lo), abs(hi))
    if worst == 0:
        assert got >= 10**6
        return
    true_digits = -math.log10(worst)
    assert got <= max(true_digits, 0) + 1e-9  # never overstated
    assert got >= math.floor(true_digits) - 2  # and not wastefully low


def test_convergent_product_tree_equals_recurrence():
    terms = [3, 7, 15, 1, 292, 1, 1, 1, 2, 1, 3]
    p, q = convergent(terms, (1,))
    x = Fraction(terms[-1])
    for a in reversed(terms[:-1]):
        x = a + 1 / x
    assert Fraction(int(p), int(q)) == x
    # signed: 1 + 1/(2 - 1/(4 + 1/1)) with signs +-+
    p, q = convergent([1, 2, 4, 1], (1, -1, 1))
    assert Fraction(int(p), int(q)) == 1 + 1 / (2 - 1 / (4 + Fraction(1, 1)))


def test_terms_to_digits_is_minimal():
    terms = [2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14, 1, 1, 16, 1, 1, 18]
    e = make_constant("e")
    from esma.constants import ball_to_enclosure

    lo, hi = ball_to_enclosure(e.ball(60))
    k, got = terms_to_digits(terms, (1,), lo, hi, 20)
    assert got >= 20
    p, q = convergent(terms[: k - 1], (1,))
    assert agreement_digits(p, q, lo, hi) < 20


def test_approval_refutes_a_wrong_formula():
    tan1 = make_constant("tan(1)")
    rec = Recurrence((1, 0, 0, -2, 0, 0, 1), 0)
    head = [1, 2, 4, 1, 6, 8, 1, 10, 12]
    good = approve(tan1, Transform((0, 1), (1, 0)), (1, -1, 1), rec, head, 500)
    assert good.ok and good.verified_digits >= 500
    # the same fraction claimed for tan(1) + 1 must fail
    bad = approve(tan1, Transform((1, 1), (1, 0)), (1, -1, 1), rec, head, 500)
    assert not bad.ok and bad.reason
    # a formula whose seed is wrong in one term agrees for a while and then drifts: it must fail too
    drift = approve(tan1, Transform((0, 1), (1, 0)), (1, -1, 1), rec, [1, 2, 4, 1, 6, 9], 500)
    assert not drift.ok and "term 5" in drift.reason


def _naive_convergents(terms, signs):
    """p_k, q_k by the textbook recurrence, one Fraction-free step per term (independent of esma.verify)."""
    out = [(1, 0)]
    p_prev, p, q_prev, q = 0, 1, 1, 0
    for n, a in enumerate(terms):
        b = signs[(n - 1) % len(signs)] if n else 1
        p_prev, p = p, a * p + b * p_prev
        q_prev, q = q, a * q + b * q_prev
        out.append((p, q))
    return out


term_lists = st.lists(
    st.one_of(st.integers(1, 40), st.integers(-(10**6), 10**6), st.integers(2**40, 2**70)), min_size=1, max_size=120
)


@given(terms=term_lists, signs=st.lists(st.sampled_from([1, -1]), min_size=1, max_size=5), data=st.data())
@settings(max_examples=150, deadline=None)
def test_prefix_matrix_kernel_equals_twin_and_recurrence(terms, signs, data):
    naive = _naive_convergents(terms, signs)
    k = data.draw(st.integers(0, len(terms)))
    fast = prefix_matrix(terms, tuple(signs), k)
    assert fast == prefix_matrix_py(terms, tuple(signs), k)
    assert (fast[0], fast[2]) == naive[k]
    if k:
        assert (fast[1], fast[3]) == naive[k - 1]


@given(terms=term_lists, signs=st.lists(st.sampled_from([1, -1]), min_size=1, max_size=5), data=st.data())
@settings(max_examples=100, deadline=None)
def test_convergent_cursor_moves_both_ways(terms, signs, data):
    naive = _naive_convergents(terms, signs)
    conv = _Convergents(terms, tuple(signs))
    for k in data.draw(st.lists(st.integers(0, len(terms)), min_size=1, max_size=12)):
        assert conv.at(k) == naive[k]
