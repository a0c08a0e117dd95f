"""Numba kernels for approval: extending integer recurrences and the growth of convergent denominators.

Twins: ``esma.records.Recurrence.extend`` (exact Python integers) and ``esma.verify._log10_q_growth``.
"""

import math

from numba import njit

SAFE = 2.0**62


@njit(cache=True)
def extend_kernel(seq, n_head, taps_i, taps_c, c0, count):  # pragma: no cover - compiled
    """Fill seq[n_head:count] from sum_i c_i a_{n-i} = 0 (taps: the nonzero c_i, i >= 1, negated).

    Returns how many terms are filled (count, or fewer where int64 might overflow or a division is inexact:
    the caller continues exactly in Python from there).
    """
    k = taps_i.shape[0]
    for n in range(n_head, count):
        acc = 0
        bound = 0.0
        for r in range(k):
            v = seq[n - taps_i[r]]
            bound += abs(float(taps_c[r])) * abs(float(v))
            acc += taps_c[r] * v
        if bound > SAFE:
            return n
        if c0 == 1:
            seq[n] = acc
        else:
            if acc % c0 != 0:
                return n
            seq[n] = acc // c0
    return count


@njit(cache=True)
def log10_growth_kernel(terms, n, signs, period, out):  # pragma: no cover - compiled
    """out[k] = log10 |q_k| for the convergents of the first n terms (floating point, rescaled)."""
    q_prev = 1.0
    q = 0.0
    scale = 0.0
    for k in range(n):
        b = 1.0
        if k > 0:
            b = float(signs[(k - 1) % period])
        q_prev, q = q, float(terms[k]) * q + b * q_prev
        big = max(abs(q), abs(q_prev))
        if big > 1e100:
            q /= big
            q_prev /= big
            scale += math.log10(big)
        out[k] = scale + math.log10(max(abs(q), 1e-300))
