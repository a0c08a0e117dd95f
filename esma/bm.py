"""Berlekamp–Massey: linear complexity and exact integer recurrences of integer sequences.

The linear complexity L of s_0..s_{N-1} is the length of the shortest linear feedback shift register that
generates it: a connection polynomial C(x) = 1 + c_1 x + ... + c_L x^L with s_n + c_1 s_{n-1} + ... + c_L s_{n-L} = 0
for L <= n < N.  When deg C = d < L the recurrence has order d and the first L - d terms are a *pre-period*
that it does not explain (e = [2; 1, 2, 1, 1, 4, ...] has one).  A sequence with L <= (N - margin)/2 is a hit:
BM over a field is unique once N >= 2L, so the margin terms are genuine predictions.

Two layers, as in the hot loop of the search: the Numba kernels of ``esma.kernels.bm`` work modulo a prime
(``PRIME = 2^31 - 1``; the modulus is a parameter), and every hit is confirmed here exactly over the rationals.
Each kernel has a pure-Python twin (``*_py``) running the same inversion-free algorithm on Python ints; tests
assert the same things of both.

>>> linear_complexity([1, 1, 2, 3, 5, 8, 13, 21])
2
>>> find_recurrence([2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14, 1, 1, 16])
Recurrence(coefficients=(1, 0, 0, -2, 0, 0, 1), preperiod=1)
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import gcd, isqrt, lcm

import numpy as np

from esma.records import Recurrence

__all__ = [
    "PRIME",
    "batch_linear_complexity",
    "batch_linear_complexity_py",
    "berlekamp_massey_rational",
    "connection_polynomial",
    "connection_polynomial_py",
    "find_recurrence",
    "linear_complexity",
    "linear_complexity_py",
]

PRIME = 2_147_483_647  # 2^31 - 1: residues multiply within int64


def _check_modulus(modulus: int) -> int:
    if not isinstance(modulus, int | np.integer) or isinstance(modulus, bool):
        raise TypeError(f"Argument 'modulus' must be an int, not {type(modulus).__name__}")
    modulus = int(modulus)
    if not 2 <= modulus < 2**31:
        raise ValueError(f"Argument 'modulus' must be a prime in [2, 2^31), not {modulus}")
    return modulus


def _reduce(seq: Sequence[int], modulus: int) -> np.ndarray:
    if isinstance(seq, str | bytes) or not hasattr(seq, "__len__"):
        raise TypeError(f"Argument 'seq' must be a sequence of integers, not {type(seq).__name__}")
    if isinstance(seq, np.ndarray) and seq.dtype == np.int64:
        return seq % modulus
    try:
        if all(type(v) is int for v in seq) and (not seq or (max(seq) < 2**62 and min(seq) > -(2**62))):
            return np.array(seq, np.int64) % modulus
    except TypeError:
        pass
    out = np.empty(len(seq), np.int64)
    for i, v in enumerate(seq):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise TypeError(f"Argument 'seq' must hold integers, not {type(v).__name__} at index {i}")
        out[i] = int(v) % modulus
    return out


def _max_l(max_complexity: int | None, n: int) -> int:
    if max_complexity is None:
        return n + 1
    if not isinstance(max_complexity, int) or max_complexity < 0:
        raise ValueError(f"Argument 'max_complexity' must be a non-negative integer, not {max_complexity!r}")
    return max_complexity


# ---------------------------------------------------------------- pure-Python twins of the kernels


def _bm_mod_py(seq: Sequence[int], p: int, max_l: int) -> tuple[list[int], int] | None:
    """The inversion-free algorithm of the kernels on Python ints: (C, L), or None once L exceeds max_l."""
    s = [int(v) % p for v in seq]
    c, b = [1], [1]
    L, m, bb = 0, 1, 1
    for i in range(len(s)):
        d = (c[0] * s[i]) % p  # c[0] is a unit, not 1, in the inversion-free form
        for j in range(1, min(L, len(c) - 1) + 1):
            d = (d + c[j] * s[i - j]) % p
        if d == 0:
            m += 1
            continue
        new = [(bb * x) % p for x in c] + [0] * max(0, len(b) + m - len(c))
        for j, x in enumerate(b):
            new[j + m] = (new[j + m] - d * x) % p
        if 2 * L <= i:
            b, bb, L, m = c, d, i + 1 - L, 1
            if L > max_l:
                return None
        else:
            m += 1
        c = new
    return c, L


def linear_complexity_py(seq: Sequence[int], modulus: int = PRIME, max_complexity: int | None = None) -> int | None:
    """Twin of ``linear_complexity``: same inversion-free algorithm on Python ints."""
    p = _check_modulus(modulus)
    out = _bm_mod_py(seq, p, _max_l(max_complexity, len(seq)))
    return None if out is None else out[1]


def batch_linear_complexity_py(
    seqs: Sequence[Sequence[int]], modulus: int = PRIME, max_complexity: int | None = None
) -> list[int]:
    """Twin of ``batch_linear_complexity`` (-1 where the complexity exceeds the bound)."""
    out = []
    for s in seqs:
        v = linear_complexity_py(s, modulus, max_complexity)
        out.append(-1 if v is None else v)
    return out


def connection_polynomial_py(seq: Sequence[int], modulus: int = PRIME) -> tuple[tuple[int, ...], int]:
    """Twin of ``connection_polynomial``: (c_0 = 1, c_1, ..., c_L) mod p and the linear complexity L."""
    p = _check_modulus(modulus)
    c, L = _bm_mod_py(seq, p, len(seq) + 1)  # type: ignore[misc]
    inv = pow(c[0], p - 2, p)
    c = [(x * inv) % p for x in c] + [0] * (L + 1)
    return tuple(c[: L + 1]), L


# ---------------------------------------------------------------- compiled wrappers


def linear_complexity(seq: Sequence[int], modulus: int = PRIME, max_complexity: int | None = None) -> int | None:
    """Linear complexity of ``seq`` modulo the prime ``modulus`` (Numba kernel).

    Returns ``None`` as soon as the complexity exceeds ``max_complexity`` (the kernel aborts early).

    >>> linear_complexity([0, 1, 2, 3, 4, 5, 6])
    2
    >>> linear_complexity([3, 1, 4, 1, 5, 9, 2, 6], max_complexity=2) is None
    True
    """
    from esma.kernels.bm import bm_complexity_kernel

    p = _check_modulus(modulus)
    arr = _reduce(seq, p)
    v = int(bm_complexity_kernel(arr, len(arr), p, _max_l(max_complexity, len(arr))))
    return None if v < 0 else v


def batch_linear_complexity(
    seqs: Sequence[Sequence[int]], modulus: int = PRIME, max_complexity: int | None = None
) -> np.ndarray:
    """Linear complexities of many sequences in one kernel call (-1 where it exceeds ``max_complexity``)."""
    from esma.kernels.bm import bm_batch_kernel

    p = _check_modulus(modulus)
    k = len(seqs)
    width = max((len(s) for s in seqs), default=0)
    arr = np.zeros((k, max(width, 1)), np.int64)
    lengths = np.empty(k, np.int64)
    for r, s in enumerate(seqs):
        arr[r, : len(s)] = _reduce(s, p)
        lengths[r] = len(s)
    max_l = _max_l(max_complexity, width)
    return bm_batch_kernel(arr, lengths, p, max_l)


def connection_polynomial(seq: Sequence[int], modulus: int = PRIME) -> tuple[tuple[int, ...], int]:
    """Connection polynomial (c_0 = 1, ..., c_L) modulo ``modulus`` and the linear complexity L (Numba)."""
    from esma.kernels.bm import bm_connection_kernel

    p = _check_modulus(modulus)
    arr = _reduce(seq, p)
    c, L = bm_connection_kernel(arr, len(arr), p)
    return tuple(int(x) for x in c[: int(L) + 1]), int(L)


# ---------------------------------------------------------------- exact layer


def berlekamp_massey_rational(seq: Sequence[int]) -> tuple[tuple[Fraction, ...], int]:
    """Berlekamp–Massey over the rationals: (C = (1, c_1, ..., c_L), L), exact.

    >>> berlekamp_massey_rational([1, 2, 4, 8, 16])
    ((Fraction(1, 1), Fraction(-2, 1)), 1)
    """
    s = [Fraction(int(v)) for v in seq]
    c: list[Fraction] = [Fraction(1)]
    b: list[Fraction] = [Fraction(1)]
    L, m, bb = 0, 1, Fraction(1)
    for i in range(len(s)):
        d = s[i]
        for j in range(1, min(L, len(c) - 1) + 1):
            d += c[j] * s[i - j]
        if d == 0:
            m += 1
            continue
        coef = d / bb
        new = c + [Fraction(0)] * max(0, len(b) + m - len(c))
        for j, x in enumerate(b):
            new[j + m] -= coef * x
        if i >= 2 * L:
            b, bb, L, m = c, d, i + 1 - L, 1
        else:
            m += 1
        c = new
    c = c + [Fraction(0)] * (L + 1)
    return tuple(c[: L + 1]), L


def _rational_reconstruct(a: int, p: int) -> Fraction | None:
    """The fraction r/s with r = a s (mod p) and |r|, s <= sqrt(p/2), when it exists (Wang's algorithm)."""
    bound = isqrt(p // 2)
    r0, r1 = p, a % p
    s0, s1 = 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        s0, s1 = s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound or gcd(r1, abs(s1)) != 1:
        return None
    return Fraction(r1, s1)


def _integer_recurrence(c: Sequence[Fraction], L: int) -> Recurrence | None:
    deg = L
    while deg > 0 and c[deg] == 0:
        deg -= 1
    den = lcm(*(x.denominator for x in c[: deg + 1]))
    ints = [int(x * den) for x in c[: deg + 1]]
    g = gcd(*ints)
    if g == 0:
        return None
    ints = [x // g for x in ints]
    if ints[0] < 0:
        ints = [-x for x in ints]
    return Recurrence(tuple(ints), preperiod=L - deg)


def find_recurrence(seq: Sequence[int], margin: int = 0, modulus: int = PRIME) -> Recurrence | None:
    """The exact minimal integer recurrence of ``seq`` with its pre-period, or ``None``.

    ``None`` unless ``len(seq) >= 2 L + margin``.  Fast path: the Numba connection polynomial modulo a prime,
    lifted to rationals by rational reconstruction and checked exactly over the integers on every term; an
    integer recurrence of the modular complexity that holds exactly is the rational minimum too (reduction
    mod p cannot raise the complexity).  Otherwise the exact rational Berlekamp–Massey decides.
    """
    seq = [int(v) for v in seq]
    if not seq:
        return None
    c_mod, L = connection_polynomial(seq, modulus)
    if L == 0 or len(seq) < 2 * L + margin:
        return None
    lifted = [_rational_reconstruct(x, modulus) for x in c_mod]
    if all(x is not None for x in lifted):
        rec = _integer_recurrence(lifted, L)  # type: ignore[arg-type]
        if rec is not None and rec.holds_on(seq):
            return rec
    c, L = berlekamp_massey_rational(seq)
    if len(seq) < 2 * L + margin or L == 0:
        return None
    rec = _integer_recurrence(c, L)
    if rec is None or not rec.holds_on(seq):
        return None  # cannot happen for a correct BM; kept as a guard on the contract
    return rec
