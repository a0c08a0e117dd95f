"""Numba kernels on continued fractions: extending recurrences, convergent growth and products, and the simple
continued fraction of an enclosure with multi-limb integers.

Twins: ``esma.records.Recurrence.extend`` (exact Python integers), ``esma.growth._log10_q_growth``,
``esma.verify.prefix_matrix_py`` and ``esma.scf._simple_terms``.
"""

import math

import numpy as np
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


# ------------------------------------------------------------------ simple continued fractions, multi-limb

_MASK = 0xFFFFFFFF
_QMAX = 2**30  # quotients from here on go to the exact Python path (int64 products must not overflow)


@njit(cache=True)
def _top(x, n):  # pragma: no cover - compiled
    """Number of significant limbs of x[0:n]."""
    while n > 0 and x[n - 1] == 0:
        n -= 1
    return n


@njit(cache=True)
def _divmod_small(p, lp, q, lq, r):  # pragma: no cover - compiled
    """floor(P / Q) and R = P - a Q into r, for P >= 0, Q > 0 (limbs base 2^32); (a, len(R)), a = -1 if the
    quotient is 2^30 or more (the caller goes exact)."""
    if lp < lq:
        for i in range(lp):
            r[i] = p[i]
        return 0, lp
    if lp - lq >= 2:
        return -1, 0
    top = lp - 1
    pf = float(p[top]) * 18446744073709551616.0
    qf = float(q[top]) * 18446744073709551616.0 if top < lq else 0.0
    if top >= 1:
        pf += float(p[top - 1]) * 4294967296.0
        if top - 1 < lq:
            qf += float(q[top - 1]) * 4294967296.0
    if top >= 2:
        pf += float(p[top - 2])
        if top - 2 < lq:
            qf += float(q[top - 2])
    if qf <= 0.0:
        return -1, 0
    est = np.floor(pf / qf)
    if est >= _QMAX:
        return -1, 0
    a = np.int64(est)
    # R = P - a Q, limb by limb with a signed carry
    carry = np.int64(0)
    for i in range(lp):
        qi = q[i] if i < lq else 0
        t = p[i] - a * qi + carry
        r[i] = t & _MASK
        carry = t >> 32
    # the estimate may be off by a little either way: fix R into [0, Q)
    while carry < 0:
        a -= 1
        c2 = np.int64(0)
        for i in range(lp):
            qi = q[i] if i < lq else 0
            t = r[i] + qi + c2
            r[i] = t & _MASK
            c2 = t >> 32
        carry += c2
    lr = _top(r, lp)
    while True:
        # R >= Q ?
        ge = lr > lq
        if lr == lq:
            ge = True
            for i in range(lr - 1, -1, -1):
                if r[i] != q[i]:
                    ge = r[i] > q[i]
                    break
        if not ge:
            break
        a += 1
        c2 = np.int64(0)
        for i in range(lr):
            qi = q[i] if i < lq else 0
            t = r[i] - qi + c2
            r[i] = t & _MASK
            c2 = t >> 32
        lr = _top(r, lr)
    return a, lr


@njit(cache=True)
def simple_cf_kernel(num1, den1, num2, den2, width, max_terms, out, out_n):  # pragma: no cover - compiled
    """Per row: the simple continued fraction shared by num1/den1 and num2/den2 (each > 1 or at least >= 0,
    limbs base 2^32, little-endian), stopping as ``esma.scf._simple_terms`` does.

    out_n[row] = number of terms, or -1 where a quotient reaches 2^30 (the caller redoes that row exactly).
    """
    rows = num1.shape[0]
    bufs = np.zeros((6, width), np.int64)
    for row in range(rows):
        P1 = bufs[0]
        Q1 = bufs[1]
        P2 = bufs[2]
        Q2 = bufs[3]
        R1 = bufs[4]
        R2 = bufs[5]
        for i in range(width):
            P1[i] = num1[row, i]
            Q1[i] = den1[row, i]
            P2[i] = num2[row, i]
            Q2[i] = den2[row, i]
        lp1 = _top(P1, width)
        lq1 = _top(Q1, width)
        lp2 = _top(P2, width)
        lq2 = _top(Q2, width)
        k = 0
        status = 0
        while k < max_terms:
            a1, lr1 = _divmod_small(P1, lp1, Q1, lq1, R1)
            a2, lr2 = _divmod_small(P2, lp2, Q2, lq2, R2)
            if a1 < 0 or a2 < 0:
                status = -1
                break
            if a1 != a2:
                break
            out[row, k] = a1
            k += 1
            if lr1 == 0 or lr2 == 0:
                break
            # (P, Q) <- (Q, R): rotate the three buffers of each end
            P1, Q1, R1 = Q1, R1, P1
            lp1, lq1 = lq1, lr1
            P2, Q2, R2 = Q2, R2, P2
            lp2, lq2 = lq2, lr2
        out_n[row] = -1 if status < 0 else k
