"""Berlekamp–Massey modulo a prime, compiled with Numba.

Inversion-free form: on a discrepancy d with last discrepancy b, C <- b*C - d*x^m*B, which scales the
connection polynomial by a unit instead of dividing, so no modular inverse is needed in the loop.  The modulus
must be below 2^31 so that products of residues fit in int64.

Reference: J. L. Massey, "Shift-register synthesis and BCH decoding", IEEE Trans. Inf. Theory 15 (1969).
"""

import numpy as np
from numba import njit


@njit(cache=True)
def bm_complexity_kernel(seq, n, p, max_l):  # pragma: no cover - compiled
    """Linear complexity of seq[0:n] mod p, or -1 as soon as it exceeds max_l (early abort)."""
    c = np.zeros(n + 2, np.int64)
    b = np.zeros(n + 2, np.int64)
    t = np.zeros(n + 2, np.int64)
    c[0] = 1
    b[0] = 1
    L = 0
    m = 1
    bb = 1
    deg_c = 0
    deg_b = 0
    for i in range(n):
        # c[0] is a unit but not 1 in the inversion-free form, so it enters the discrepancy
        d = (c[0] * (seq[i] % p)) % p
        for j in range(1, min(L, deg_c) + 1):
            d = (d + c[j] * (seq[i - j] % p)) % p
        if d == 0:
            m += 1
            continue
        if i >= 2 * L:
            for j in range(deg_c + 1):
                t[j] = c[j]
            deg_t = deg_c
            for j in range(deg_c + 1):
                c[j] = (bb * c[j]) % p
            top = min(deg_b + m, n)
            for j in range(deg_c + 1, top + 1):
                c[j] = 0
            for j in range(min(deg_b, n - m) + 1):
                c[j + m] = (c[j + m] - d * b[j]) % p
            if top > deg_c:
                deg_c = top
            L = i + 1 - L
            for j in range(deg_t + 1):
                b[j] = t[j]
            deg_b = deg_t
            bb = d
            m = 1
            if max_l < L:
                return -1
        else:
            for j in range(deg_c + 1):
                c[j] = (bb * c[j]) % p
            top = min(deg_b + m, n)
            for j in range(deg_c + 1, top + 1):
                c[j] = 0
            for j in range(min(deg_b, n - m) + 1):
                c[j + m] = (c[j + m] - d * b[j]) % p
            if top > deg_c:
                deg_c = top
            m += 1
    return L


@njit(cache=True)
def bm_batch_kernel(seqs, lengths, p, max_l):  # pragma: no cover - compiled
    """Linear complexities of many sequences (rows of seqs, row i has lengths[i] terms); -1 when > max_l."""
    k = seqs.shape[0]
    out = np.empty(k, np.int64)
    for r in range(k):
        out[r] = bm_complexity_kernel(seqs[r], lengths[r], p, max_l)
    return out


@njit(cache=True)
def bm_connection_kernel(seq, n, p):  # pragma: no cover - compiled
    """Connection polynomial (normalised so c[0] = 1) and linear complexity of seq[0:n] mod p.

    Returns (c, L) where c has n+1 entries, c[0] = 1 and sum_j c[j] seq[i-j] = 0 mod p for L <= i < n.
    """
    c = np.zeros(n + 2, np.int64)
    b = np.zeros(n + 2, np.int64)
    t = np.zeros(n + 2, np.int64)
    c[0] = 1
    b[0] = 1
    L = 0
    m = 1
    bb = 1
    for i in range(n):
        d = (c[0] * (seq[i] % p)) % p
        for j in range(1, L + 1):
            d = (d + c[j] * (seq[i - j] % p)) % p
        if d == 0:
            m += 1
            continue
        if i >= 2 * L:
            for j in range(n + 2):
                t[j] = c[j]
            for j in range(n + 2):
                c[j] = (bb * c[j]) % p
            for j in range(n + 2 - m):
                c[j + m] = (c[j + m] - d * b[j]) % p
            L = i + 1 - L
            for j in range(n + 2):
                b[j] = t[j]
            bb = d
            m = 1
        else:
            for j in range(n + 2):
                c[j] = (bb * c[j]) % p
            for j in range(n + 2 - m):
                c[j + m] = (c[j + m] - d * b[j]) % p
            m += 1
    # normalise c[0] to 1 with a modular inverse (Fermat), once, outside the loop
    inv = 1
    base = c[0] % p
    e = p - 2
    while e > 0:
        if e & 1:
            inv = (inv * base) % p
        base = (base * base) % p
        e >>= 1
    out = np.empty(n + 1, np.int64)
    for j in range(n + 1):
        out[j] = (c[j] * inv) % p
    return out, L
