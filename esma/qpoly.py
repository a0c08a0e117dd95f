"""The lag test: the smallest quasi-period of an eventually quasi-polynomial sequence (the deep search).

DESIGN 1 asks a search to find every formula whose partial denominators are eventually interlaced polynomials
of degree <= 2 with a quasi-period up to a few hundred after a pre-period up to about 150.  Berlekamp–Massey
needs 2L terms for a recurrence of order L, and such a tail has L up to R + 3P (e/5 = [0; 1, 1, 5, 4, 2, ...]
repeats every 19 terms after 8: L is about 56, beyond the paper's window of 100 terms).  The lag test instead
looks for the structure itself: a_n is a polynomial of degree <= 2 in m on every residue class n = R + P m + j
exactly when the third difference at lag P vanishes,

    D_P(n) = a_n - 3 a_{n-P} + 3 a_{n-2P} - a_{n-3P} = 0      for n >= R + 3P,

so R + 3P + margin terms decide it, not 2 (R + 3P) + margin; the search then confirms a candidate exactly, with
Berlekamp–Massey over more terms (``esma.search``).  The kernel is ``esma.kernels.qpoly.lag_kernel``; this
module holds its exact twin and the public wrapper.

>>> tail = [5, 9, 2, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14]   # e's pattern 1, 2m, 1 from index 3
>>> P, s = lag_test(tail, (1,), 5, 6, 0.0)
>>> P, s, preperiod_of(P, s)
(3, 12, 3)
>>> lag_test(tail[:14], (1,), 5, 6, 0.0)      # too short to show it with 6 predictions
(0, 0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["lag_test", "lag_test_py", "preperiod_of"]


def _check(seq, signs, max_p, min_run, min_digits) -> None:
    if isinstance(max_p, bool) or not isinstance(max_p, int) or max_p < 0:
        raise ValueError(f"Argument 'max_p' must be a non-negative integer, not {max_p!r}")
    if isinstance(min_run, bool) or not isinstance(min_run, int) or min_run < 1:
        raise ValueError(f"Argument 'min_run' must be a positive integer, not {min_run!r}")
    if not signs or any(s not in (1, -1) for s in signs):
        raise ValueError(f"Argument 'signs' must be a non-empty tuple of +1/-1, not {signs!r}")
    if min_digits < 0:
        raise ValueError(f"Argument 'min_digits' must be non-negative, not {min_digits!r}")


def lag_test(seq: Sequence[int], signs: Sequence[int], max_p: int, min_run: int,
             min_digits: float) -> tuple[int, int]:
    """(P, s): the smallest lag P <= ``max_p`` with D_P(n) = 0 for every n in [s, len(seq)), at least
    ``min_run`` such n, and those terms pinning at least ``min_digits`` digits of the value; (0, 0) if none.

    The pre-period of that candidate is ``preperiod_of(P, s)``.  Numba kernel for int64 terms, exact twin
    otherwise.
    """
    _check(seq, signs, max_p, min_run, min_digits)
    if not seq or max(seq) >= 2**61 or min(seq) <= -(2**61):
        return lag_test_py(seq, signs, max_p, min_run, min_digits)
    from esma.kernels.qpoly import lag_kernel

    n = len(seq)
    P, s = lag_kernel(np.array(seq, np.int64), n, np.array(signs, np.int64), len(signs), max_p, min_run,
                      float(min_digits), np.empty(n, np.float64))
    return int(P), int(s)


def lag_test_py(seq: Sequence[int], signs: Sequence[int], max_p: int, min_run: int,
                min_digits: float) -> tuple[int, int]:
    """Exact pure-Python twin of ``lag_kernel`` (Python integers, no wrap-around)."""
    from esma.growth import _log10_q_growth_py

    n = len(seq)
    growth = None
    for P in range(1, max_p + 1):
        if 3 * P + min_run > n:
            break
        k = n - 1
        while k >= 3 * P and seq[k] - 3 * seq[k - P] + 3 * seq[k - 2 * P] - seq[k - 3 * P] == 0:
            k -= 1
        s = k + 1
        if n - s < min_run:
            continue
        if growth is None:
            growth = _log10_q_growth_py(seq, signs)
        if 2.0 * (growth[n - 1] - growth[s - 1]) >= min_digits:
            return P, s
    return 0, 0


def preperiod_of(P: int, s: int) -> int:
    """The pre-period R = max(0, s - 3P) of a lag-test candidate (P, s)."""
    return max(0, s - 3 * P)
