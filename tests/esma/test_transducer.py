"""The fused scan kernels against their exact twins and against the independent enclosure expansion."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import esma
from esma.bm import linear_complexity_py
from esma.constants import ball_to_enclosure
from esma.constants import constant as make_constant
from esma.growth import _log10_q_growth, _log10_q_growth_py
from esma.kernels.scan import bm_float_kernel, bm_scratch_size
from esma.records import Recurrence
from esma.scf import expand_enclosure, sign_periods
from esma.transducer import (
    SCAN_PRIME,
    _mobius_coef,
    constant_cf,
    mobius_terms,
    mobius_terms_py,
    scan,
    scan_py,
    scan_rows,
)
from esma.transforms import transform_space
from esma.verify import transform_ball

signs_st = st.lists(st.sampled_from([1, -1]), min_size=1, max_size=6).map(tuple)


@pytest.mark.parametrize("expr", ["e", "pi", "tan(1)", "sqrt(2)", "zeta(3)"])
def test_transducer_matches_enclosure_expansion(expr):
    """Terms from c's continued fraction through the transducer = terms from an enclosure of T(c) itself."""
    c = make_constant(expr)
    cf = constant_cf(c, 300)
    rng = random.Random(expr)
    space = transform_space(1, 3)
    for t in rng.sample(space, 25):
        lo, hi = ball_to_enclosure(transform_ball(c, t, 300))
        for signs in rng.sample(sign_periods(1, 5), 6):
            fast, st_fast = mobius_terms(cf, _mobius_coef(t), signs, 80)
            slow, st_slow = mobius_terms_py(cf, _mobius_coef(t), signs, 80)
            assert (fast, st_fast) == (slow, st_slow)
            ref = expand_enclosure(lo, hi, signs, 80).terms
            n = min(len(fast), len(ref))
            assert n >= 60
            assert fast[:n] == ref[:n]


@given(
    coef=st.tuples(*[st.integers(-5, 5)] * 4).filter(lambda v: v[0] * v[3] - v[1] * v[2] != 0),
    signs=signs_st,
)
@settings(max_examples=100, deadline=None)
def test_kernel_equals_twin(coef, signs):
    cf = constant_cf(make_constant("e"), 200)
    assert mobius_terms(cf, coef, signs, 60) == mobius_terms_py(cf, coef, signs, 60)


def test_kernel_overflow_falls_back_exactly():
    # huge coefficients overflow int64 quickly; the wrapper must return the exact twin's answer
    cf = constant_cf(make_constant("pi"), 200)
    coef = (10**17 + 3, 7, 5, 10**17 - 1)
    assert mobius_terms(cf, coef, (1, -1), 40) == mobius_terms_py(cf, coef, (1, -1), 40)


@pytest.mark.parametrize("p", [SCAN_PRIME, 199, 7])
@given(seq=st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=60), bound=st.integers(1, 40))
@settings(max_examples=80, deadline=None)
def test_float_bm_equals_twin(p, seq, bound):
    n = len(seq)
    scratch = np.full(bm_scratch_size(n), np.nan)  # the kernel must not read what it did not write
    got = bm_float_kernel(np.array(seq, np.int64), n, p, bound, scratch)
    want = linear_complexity_py(seq, p, bound)
    assert got == (-1 if want is None else want)


@pytest.mark.parametrize(("expr", "degree", "limit", "periods"), [("e", 1, 2, 3), ("pi", 1, 2, 3), ("e", 2, 1, 2)])
def test_scan_equals_twin(expr, degree, limit, periods):
    c = make_constant(expr)
    transforms = transform_space(degree, limit)[:60]
    ps = sign_periods(1, periods)
    rows = scan_rows(c, transforms, 300, 100)
    res = scan(rows, ps, 100, 10, 45, keep_all=True)
    hits = scan(rows, ps, 100, 10, 45)
    twin = scan_py(rows, ps, 100, 10, 45)
    for r, (t_py, l_py, p_py, s_py) in enumerate(twin):
        assert res.terms_of(r) == t_py
        assert int(res.complexity[r]) == l_py
        assert (int(res.qp[r]), int(res.qs[r])) == (p_py, s_py) == (0, 0)
        # without keep_all only the hits' terms are kept, the same
        assert (hits.terms_of(r) == t_py) if l_py > 0 else r not in set(hits.kept.tolist())


@pytest.mark.parametrize(("expr", "degree", "limit", "deep"),
                         [("e", 1, 2, True), ("pi", 1, 1, False), ("e", 2, 1, None), ("e/5", 1, 1, True)])
def test_deep_scan_equals_twin(expr, degree, limit, deep):
    """The window of 100 terms with the lag test over 400: kernel and twin agree on terms, complexity and (P, s),
    and the lag test finds something (e's long quasi-periods) where it should and nothing for pi."""
    c = make_constant(expr)
    transforms = transform_space(degree, limit)[:40]
    ps = sign_periods(1, 3)
    rows = scan_rows(c, transforms, 3000, 400)
    knobs = {"bm_depth": 100, "max_qp": 120, "min_digits": 10.0}
    res = scan(rows, ps, 400, 10, 45, keep_all=True, **knobs)
    twin = scan_py(rows, ps, 400, 10, 45, **knobs)
    for r, (t_py, l_py, p_py, s_py) in enumerate(twin):
        assert res.terms_of(r) == t_py
        assert (int(res.complexity[r]), int(res.qp[r]), int(res.qs[r])) == (l_py, p_py, s_py)
    if deep is not None:
        assert bool((res.qp > 0).any()) == deep


@given(
    coeffs=st.lists(st.integers(-3, 3), min_size=1, max_size=6).filter(lambda c: c[-1] != 0),
    head=st.lists(st.integers(-50, 50), min_size=6, max_size=6),
)
@settings(max_examples=60, deadline=None)
def test_extend_kernel_equals_twin(coeffs, head):
    rec = Recurrence((1, *coeffs), 0)
    h = head[: rec.order]
    try:
        want = rec.extend_py(h, 300)
    except ArithmeticError:
        return
    assert rec.extend(h, 300) == want


def test_growth_kernel_equals_twin():
    rng = random.Random(5)
    for _ in range(20):
        terms = [rng.randint(1, 40) for _ in range(rng.randint(65, 400))]
        signs = tuple(rng.choice([1, -1]) for _ in range(rng.randint(1, 5)))
        fast = _log10_q_growth(terms, signs)
        slow = _log10_q_growth_py(terms, signs)
        assert max(abs(a - b) for a, b in zip(fast, slow, strict=True)) < 1e-9


@pytest.mark.parametrize("expr", ["e", "exp(2)", "tan(1)", "besseli(1, 2)/besseli(0, 2)", "pi"])
def test_fast_and_reference_paths_agree(expr):
    fast = esma.search(expr, coeff_limit=1, max_period=4)
    ref = esma.search(expr, coeff_limit=1, max_period=4, reference=True)
    assert [c.to_dict() for c in fast.conjectures] == [c.to_dict() for c in ref.conjectures]
    assert fast.hits == ref.hits
    if expr == "pi":
        assert fast.conjectures == []
    else:
        assert len(fast.conjectures) > 10


@pytest.mark.parametrize("p", [SCAN_PRIME, 7])
def test_float_bm_long_sequences_equal_twin(p):
    # past 512 coefficients the kernel sums the discrepancy in exact blocks instead of fusing it
    rng = random.Random(p)
    random_seq = [rng.randrange(-(10**15), 10**15) for _ in range(1100)]
    taps = [rng.randrange(p) for _ in range(300)]
    lfsr = [rng.randrange(p) for _ in range(300)]
    while len(lfsr) < 1100:
        lfsr.append(sum(a * b for a, b in zip(taps, lfsr[-300:], strict=True)) % p)
    for seq in (random_seq, lfsr):
        want = linear_complexity_py(seq, p, None)
        got = bm_float_kernel(np.array(seq, np.int64), len(seq), p, len(seq), np.empty(bm_scratch_size(len(seq))))
        assert got == want
    assert linear_complexity_py(lfsr, p, None) <= 300
