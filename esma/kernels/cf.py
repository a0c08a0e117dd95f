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


@njit(cache=True)
def block_products_kernel(terms, n, signs, period, mats, ends):  # pragma: no cover - compiled
    """Products of consecutive convergent matrices M_k = [[a_k, 1], [b_{k-1}, 0]] (b_{-1} = 1) in int64.

    Block j is the product over terms [ends[j-1], ends[j]) (ends[-1] = 0), stored row-major in mats[j]; a block
    closes before an entry could pass 2^62.  Returns the number of blocks; they cover terms[0:ends[nb-1]], which
    is all n terms unless a single term is too large for int64 products (the caller goes on exactly).
    """
    nb = 0
    k = 0
    while k < n:
        a = terms[k]
        if abs(float(a)) + 1.0 > SAFE:
            break
        b = 1
        if k > 0:
            b = signs[(k - 1) % period]
        x00 = a
        x01 = 1
        x10 = b
        x11 = 0
        k += 1
        while k < n:
            a = terms[k]
            big = max(max(abs(float(x00)), abs(float(x01))), max(abs(float(x10)), abs(float(x11))))
            if big * (abs(float(a)) + 1.0) > SAFE:
                break
            b = signs[(k - 1) % period]
            # [x00 x01; x10 x11] [a 1; b 0]
            x00, x01 = x00 * a + x01 * b, x00
            x10, x11 = x10 * a + x11 * b, x10
            k += 1
        mats[nb, 0] = x00
        mats[nb, 1] = x01
        mats[nb, 2] = x10
        mats[nb, 3] = x11
        ends[nb] = k
        nb += 1
    return nb
