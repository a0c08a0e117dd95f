"""The LHS space: counts from DESIGN section 1 and canonical forms."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esma.transforms import Transform, canonical, transform_space


@pytest.mark.parametrize(
    ("degree", "limit", "count"),
    [(1, 1, 12), (1, 2, 112), (1, 3, 504), (2, 2, 3344)],
)
def test_counts_for_e(degree, limit, count):
    space = transform_space(degree, limit)
    assert len(space) == count
    assert len(set(space)) == count


def test_distinct_values_at_a_transcendental_point():
    # at a generic rational point, distinct canonical Mobius maps give distinct values up to sign
    x = Fraction(2718281828459045, 10**15)
    values = {abs(t.evaluate(x)) for t in transform_space(1, 2)}
    assert len(values) == 112


def test_canonical_forms():
    assert canonical((-1, 0, 1), (0, 1, 1)) == ((-1, 1), (0, 1))  # (c^2-1)/(c^2+c) = (c-1)/c
    assert canonical((2, 4), (1, 2)) is None  # constant
    assert canonical((1, 1), (0, 0)) is None  # undefined
    assert canonical((0, -2), (2, 2)) == ((0, 1), (1, 1))  # -2c/(2c+2) ~ c/(c+1)
    assert Transform.from_coefficients((0, 1), (-1, 1)).text == "c/(c - 1)"
    with pytest.raises(ValueError, match="non-constant"):
        Transform.from_coefficients((1,), (2,))


def test_texts_parse_back():
    for t in transform_space(2, 2)[:300]:
        x = Fraction(7, 3)
        # the text is an honest formula: evaluate it with c substituted
        text = t.text.replace("**", "^")
        assert "c" in text
        assert t.evaluate(x) != 0 or t.numerator[0] == 0


def test_deterministic_order_simple_first():
    space = transform_space(1, 2)
    assert space[0].text == "c"
    assert space == transform_space(1, 2)
    assert [t.degree for t in transform_space(2, 2)] == sorted(t.degree for t in transform_space(2, 2))


@pytest.mark.parametrize(("d", "L"), [(0, 1), (1, 0), (True, 1), (1, 2.0)])
def test_bad_arguments(d, L):
    with pytest.raises(ValueError):
        transform_space(d, L)


def _mul(x, y):
    return [sum(x[i] * y[k - i] for i in range(len(x)) if 0 <= k - i < len(y)) for k in range(len(x) + len(y) - 1)]


@given(
    p=st.lists(st.integers(-9, 9), min_size=1, max_size=5),
    q=st.lists(st.integers(-9, 9), min_size=1, max_size=5),
    f=st.lists(st.integers(-3, 3), min_size=1, max_size=3),
    shared=st.booleans(),
)
@settings(max_examples=400, deadline=None)
def test_resultant_coprimality_equals_rational_gcd(p, q, f, shared):
    from esma.polys import poly_degree, poly_gcd
    from esma.transforms import _coprime, _trim

    if shared:
        p, q = _mul(p, f), _mul(q, f)
    p, q = _trim(p), _trim(q)
    if p and q:
        assert _coprime(p, q) == (poly_degree(poly_gcd(p, q)) == 0)
