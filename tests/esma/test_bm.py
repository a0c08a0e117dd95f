"""Berlekamp–Massey: the Numba kernels and their pure-Python twins must agree, and both must be right."""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from esma import bm
from esma.records import Recurrence

# (kernel, twin) pairs: every assertion runs on both
COMPLEXITY = [
    pytest.param(bm.linear_complexity, id="numba"),
    pytest.param(bm.linear_complexity_py, id="python"),
]
BATCH = [
    pytest.param(bm.batch_linear_complexity, id="numba"),
    pytest.param(bm.batch_linear_complexity_py, id="python"),
]
CONNECTION = [
    pytest.param(bm.connection_polynomial, id="numba"),
    pytest.param(bm.connection_polynomial_py, id="python"),
]


def _recurrent(coeffs: list[int], head: list[int], pre: list[int], n: int) -> list[int]:
    """pre + a sequence with a_k = sum coeffs[i] a_{k-1-i} seeded by head."""
    seq = list(head)
    while len(seq) < n:
        seq.append(sum(c * seq[-1 - i] for i, c in enumerate(coeffs)))
    return pre + seq[: max(0, n - len(pre))]


recurrences = st.tuples(
    st.lists(st.integers(-3, 3), min_size=1, max_size=5).filter(lambda c: c[-1] != 0),
    st.lists(st.integers(-9, 9), min_size=5, max_size=5),
    st.lists(st.integers(-9, 9), max_size=4),
)


@pytest.mark.parametrize("lc", COMPLEXITY)
@pytest.mark.parametrize(
    ("seq", "expected"),
    [
        ([1, 1, 2, 3, 5, 8, 13, 21, 34], 2),
        (list(range(20)), 2),
        ([2] * 15, 1),
        ([5, 2, 2, 2, 2, 2, 2, 2], 2),
        ([1, 2, 4, 1, 6, 8, 1, 10, 12, 1, 14, 16, 1, 18], 6),
        ([0, 0, 0, 1], 4),
        ([], 0),
    ],
)
def test_known_complexities(lc, seq, expected):
    assert lc(seq) == expected


@pytest.mark.parametrize("lc", COMPLEXITY)
@given(rec=recurrences)
@settings(max_examples=60, deadline=None)
def test_random_recurrences_are_recovered(lc, rec):
    coeffs, head, pre = rec
    seq = _recurrent(coeffs, head[: len(coeffs)], pre, 40)
    assume(any(seq))  # the zero sequence has complexity 0 and no recurrence to find
    exact = bm.find_recurrence(seq)
    # the exact layer recovers a recurrence that regenerates the whole sequence from its head
    assert exact is not None
    assert exact.linear_complexity <= len(coeffs) + len(pre)
    assert exact.extend(seq[: exact.linear_complexity], len(seq)) == seq
    # modulo a large prime, the complexity equals the rational one for these small integers
    assert lc(seq) == exact.linear_complexity


@pytest.mark.parametrize("lc", COMPLEXITY)
def test_random_sequences_have_complexity_near_half(lc):
    rng = random.Random(12345)
    for _ in range(40):
        n = rng.randint(20, 120)
        seq = [rng.randint(1, 50) for _ in range(n)]
        L = lc(seq)
        assert abs(L - n / 2) <= 3, (n, L)


@pytest.mark.parametrize("lc", COMPLEXITY)
def test_early_abort(lc):
    rng = random.Random(7)
    seq = [rng.randint(1, 50) for _ in range(100)]
    assert lc(seq, max_complexity=10) is None
    assert lc(list(range(100)), max_complexity=10) == 2


@pytest.mark.parametrize("batch", BATCH)
def test_batch_matches_single(batch):
    rng = random.Random(3)
    seqs = [[rng.randint(-20, 20) for _ in range(rng.randint(0, 60))] for _ in range(50)]
    seqs += [list(range(k)) for k in range(10)]
    got = list(batch(seqs, bm.PRIME, 25))
    want = [bm.linear_complexity_py(s, bm.PRIME, 25) for s in seqs]
    assert got == [-1 if w is None else w for w in want]


@pytest.mark.parametrize("conn", CONNECTION)
@pytest.mark.parametrize("p", [bm.PRIME, 199, 7])
@given(rec=recurrences)
@settings(max_examples=40, deadline=None)
def test_connection_polynomial_annihilates(conn, p, rec):
    coeffs, head, pre = rec
    seq = _recurrent(coeffs, head[: len(coeffs)], pre, 30)
    c, L = conn(seq, p)
    assert c[0] == 1 and len(c) == L + 1
    for n in range(L, len(seq)):
        assert sum(c[j] * seq[n - j] for j in range(L + 1)) % p == 0


@given(seq=st.lists(st.integers(-10**30, 10**30), max_size=30), p=st.sampled_from([bm.PRIME, 199, 101]))
@settings(max_examples=100, deadline=None)
def test_kernel_equals_twin_on_anything(seq, p):
    assert bm.linear_complexity(seq, p) == bm.linear_complexity_py(seq, p)
    assert bm.connection_polynomial(seq, p) == bm.connection_polynomial_py(seq, p)


def test_pre_period_of_e():
    terms = [2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14, 1, 1, 16, 1, 1, 18]
    rec = bm.find_recurrence(terms, margin=10)
    assert rec == Recurrence((1, 0, 0, -2, 0, 0, 1), preperiod=1)


def test_margin_is_required():
    # 2L + margin terms are needed: 11 terms of a complexity-6 sequence are not enough
    seq = [1, 2, 4, 1, 6, 8, 1, 10, 12, 1, 14]
    assert bm.find_recurrence(seq, margin=0) is None
    assert bm.find_recurrence([*seq, 16, 1, 18, 20, 1, 22, 24], margin=6) is not None


@pytest.mark.parametrize("fn", [bm.linear_complexity, bm.linear_complexity_py])
def test_bad_input(fn):
    with pytest.raises(ValueError, match="modulus"):
        fn([1, 2, 3], 2**40)
    with pytest.raises(TypeError):
        fn([1, 2, 3], "7")
    if fn is bm.linear_complexity:
        with pytest.raises(TypeError, match="integers"):
            fn([1, 2.5, 3])
        with pytest.raises(TypeError, match="sequence"):
            fn("123")


@given(
    coeffs=st.lists(st.integers(-4, 4), min_size=1, max_size=5).filter(lambda c: c[-1] != 0),
    head=st.lists(st.integers(-30, 30), min_size=5, max_size=5),
    length=st.integers(0, 120),
    flip=st.integers(-1, 119),
)
@settings(max_examples=200, deadline=None)
def test_holds_on_vectorised_equals_twin(coeffs, head, length, flip):
    rec = Recurrence((1, *coeffs), 0)
    try:
        seq = rec.extend_py(head[: rec.order], max(length, rec.order))
    except ArithmeticError:
        return
    if 0 <= flip < len(seq):  # break the recurrence at one term (or not)
        seq[flip] += 1
    assert rec.holds_on(seq) == rec.holds_on_py(seq)
    if not 0 <= flip < len(seq):
        assert rec.holds_on(seq)
    elif flip >= rec.order and any(c != 0 for c in coeffs):
        assert not rec.holds_on(seq)  # a term after the head no longer follows from the ones before
