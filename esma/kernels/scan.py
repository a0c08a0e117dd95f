"""The fused search kernel: Gosper transducers over simple continued fractions + bounded BM mod p.

A Mobius image T(x) = (A x + B)/(C x + D) of a number x = [x_0; x_1, x_2, ...] is produced term by term by a
homographic transducer (R. W. Gosper, "Continued fraction arithmetic", HAKMEM item 101, 1972): the state
y = (A u + B)/(C u + D) has u the tail of x (u > 1 after x_0).  While the range of y over u in (1, inf) does not
fix the next signed term, a term of x is ingested (u = t + 1/u'); once it does, the term a_n is emitted with
floor (b_n = +1) or ceil (b_n = -1) and the state becomes b_n/(y - a_n).  Degree-1 transforms run over the
constant's own continued fraction; a quadratic transform's state would grow without bound in int64 (its
coefficients keep the unused half of the constant's information), so those run the identity map over the exact
simple continued fraction of T(c), computed once per transform: the batched exact path.

Everything is int64 with overflow detection (status 1: the caller recomputes that candidate exactly in Python
with ``esma.transducer``, the twin of these kernels).  Terms are then reduced modulo a prime p < 2^21 and their
linear complexity computed by an inversion-free Berlekamp–Massey in float64 that stops as soon as the complexity
exceeds its bound (for a random sequence, after about twice the bound terms).

Berlekamp–Massey in float64 is exact because every value is an integer below 2^53: the coefficients of the
connection polynomials are kept as representatives in [-p, 2p) (``x - floor(x / p) p`` without the final
correction, which would cost the vector loop a branch), the terms and discrepancies are reduced to [0, p), so an
update b C - d B stays below 4 p^2 < 2^44 and a discrepancy sum of 512 products below 2 p^2 512 < 2^52.  Each
step makes one pass over the connection polynomial that both updates it and accumulates the next discrepancy
(the terms are stored reversed, so that pass reads memory forwards), instead of the textbook three.
"""

import numpy as np
from numba import njit

from esma.kernels.qpoly import lag_kernel

LIMIT = 2.0**61  # magnitudes above this may overflow int64 in the next step: give up on the fast path
# Reassociation is exact here (every float is an integer below 2^53) and lets the discrepancy sum vectorise.
_EXACT_FM = {"reassoc", "contract"}


@njit(cache=True, error_model="numpy")
def _emit_floor(n1, d1, n2, d2):  # pragma: no cover - compiled
    """floor on the open interval between n1/d1 and n2/d2 (denominators nonzero); (ok, value)."""
    f1 = n1 // d1
    f2 = n2 // d2
    if f1 == f2:
        return True, f1
    if f2 == f1 + 1 and f2 * d2 == n2:
        return True, f1
    if f1 == f2 + 1 and f1 * d1 == n1:
        return True, f2
    return False, 0


@njit(cache=True, error_model="numpy")
def _emit_ceil(n1, d1, n2, d2):  # pragma: no cover - compiled
    """ceil on the open interval between n1/d1 and n2/d2; (ok, value)."""
    c1 = -((-n1) // d1)
    c2 = -((-n2) // d2)
    if c1 == c2:
        return True, c1
    if c1 == c2 - 1 and c1 * d1 == n1:
        return True, c2
    if c2 == c1 - 1 and c2 * d2 == n2:
        return True, c1
    return False, 0


@njit(cache=True, error_model="numpy")
def mobius_terms_kernel(cf, n_cf, coef, signs, period, depth, out):  # pragma: no cover - compiled
    """Signed terms of (A c + B)/(C c + D), coef = (A, B, C, D), into out[:n]; returns (n, status).

    status 0: stopped at depth or when c's terms ran out; 1: int64 overflow (out[:n] is still exact);
    2: the value is rational (the transducer met an exact end; the caller decides).
    """
    A = coef[0]
    B = coef[1]
    C = coef[2]
    D = coef[3]
    # x = c_0 + 1/x_1
    t = cf[0]
    if abs(float(A)) * (abs(float(t)) + 1.0) + abs(float(B)) > LIMIT:
        return 0, 1
    if abs(float(C)) * (abs(float(t)) + 1.0) + abs(float(D)) > LIMIT:
        return 0, 1
    A, B = A * t + B, A
    C, D = C * t + D, C
    k = 1
    n = 0
    si = 0  # n mod period
    while n < depth:
        b = signs[si]
        s1 = C + D
        if C != 0 and s1 != 0 and (C > 0) == (s1 > 0):
            if b > 0:
                ok, a = _emit_floor(A, C, A + B, s1)
            else:
                ok, a = _emit_ceil(A, C, A + B, s1)
            if ok:
                if abs(float(a)) * max(abs(float(C)), abs(float(D))) + max(abs(float(A)), abs(float(B))) > LIMIT:
                    return n, 1
                out[n] = a
                n += 1
                si += 1
                if si == period:
                    si = 0
                A, B, C, D = b * C, b * D, A - a * C, B - a * D
                if C == 0 and D == 0:
                    return n, 2
                continue
        if k >= n_cf:
            return n, 0
        t = cf[k]
        k += 1
        m = max(max(abs(float(A)), abs(float(B))), max(abs(float(C)), abs(float(D))))
        if m * (float(t) + 1.0) > LIMIT:
            return n, 1
        A, B = A * t + B, A
        C, D = C * t + D, C
    return n, 0


@njit(cache=True)
def bm_scratch_size(n):  # pragma: no cover - compiled
    """Length of the float64 scratch array ``bm_float_kernel`` needs for n terms."""
    return 6 * n + 12


@njit(cache=True, fastmath=_EXACT_FM, error_model="numpy")
def _reduce(x, fp, inv):  # pragma: no cover - compiled
    """The residue of the integer x (|x| < 2^53) in [0, p)."""
    x = x - np.floor(x * inv) * fp
    if x >= fp:
        x -= fp
    elif x < 0.0:
        x += fp
    return x


@njit(cache=True, fastmath=_EXACT_FM, error_model="numpy")
def _discrepancy(c, r, L, fp, inv):  # pragma: no cover - compiled
    """sum_{j <= L} c[j] r[j] mod p, in blocks of 512 so that every partial sum stays exact."""
    d = 0.0
    j0 = 0
    while j0 <= L:
        j1 = min(L + 1, j0 + 512)
        s = 0.0
        for j in range(j0, j1):
            s += c[j] * r[j]
        d += s - np.floor(s * inv) * fp
        j0 = j1
    return _reduce(d, fp, inv)


@njit(cache=True, fastmath=_EXACT_FM, error_model="numpy")
def bm_float_kernel(seq, n, p, max_l, scratch):  # pragma: no cover - compiled
    """Linear complexity of seq[0:n] mod p (p < 2^21), or -1 as soon as it exceeds max_l.

    Inversion-free (C <- bb C - d x^m B, no modular inverse).  ``scratch`` is float64 of length
    ``bm_scratch_size(n)``: the polynomial C, the reversed residues, and two buffers for B (the old C on a
    length change) with n + 1 zeros in front, so that x^m B is a plain forward view.
    """
    fp = float(p)
    inv = 1.0 / fp
    w = 2 * n + 4
    c = scratch[: n + 2]
    rr = scratch[n + 2 : 2 * n + 4]
    bufs = scratch[2 * n + 4 : 2 * n + 4 + 2 * w]
    off = n + 1
    for j in range(n + 2):
        c[j] = 0.0
        rr[j] = 0.0
    for j in range(2 * w):
        bufs[j] = 0.0
    # rr[n - 1 - i + j] = seq[i - j] mod p: the discrepancy of step i reads rr forwards from n - 1 - i
    big = 2.0**52
    for j in range(n):
        x = float(seq[j])
        rr[n - 1 - j] = _reduce(x, fp, inv) if -big < x < big else float(seq[j] % p)
    c[0] = 1.0
    bufs[off] = 1.0
    cur = 0
    L = 0
    m = 1
    bb = 1.0
    deg_b = 0
    d = _discrepancy(c, rr[n - 1 :], L, fp, inv) if n > 0 else 0.0
    for i in range(n):
        if d == 0.0:
            m += 1
            if i + 1 < n:
                d = _discrepancy(c, rr[n - 2 - i :], L, fp, inv)
            continue
        # deg C <= lim <= i + 1, so the fused next discrepancy below never reads past the first term
        lim = max(L, min(deg_b + m, n))
        nxt = n - 2 - i
        fuse = lim < 512 and i + 1 < n
        bs = bufs[cur * w + off - m :]
        rn = rr[max(nxt, 0) :]
        dn = 0.0
        if i >= 2 * L:
            saved = bufs[(1 - cur) * w + off :]
            for j in range(lim + 1):
                x = c[j]
                saved[j] = x
                y = bb * x - d * bs[j]
                y = y - np.floor(y * inv) * fp
                c[j] = y
                dn += y * rn[j]
            cur = 1 - cur
            deg_b = lim
            L = i + 1 - L
            bb = d
            m = 1
            if max_l < L:
                return -1
        else:
            for j in range(lim + 1):
                y = bb * c[j] - d * bs[j]
                y = y - np.floor(y * inv) * fp
                c[j] = y
                dn += y * rn[j]
            m += 1
        if i + 1 < n:
            d = _reduce(dn, fp, inv) if fuse else _discrepancy(c, rr[nxt:], L, fp, inv)
    return L


@njit(cache=True, nogil=True)
def scan_kernel(
    cf_table, cf_lens, cf_index, coefs, sign_table, sign_len, depth, bm_depth, p, margin, max_l, max_qp,
    min_digits, keep_all, terms, kept, n_out, l_out, status_out, qp_out, qs_out
):  # pragma: no cover - compiled
    """Every (row, sign period) pair: transducer terms, count, complexity, status, lag test; returns how many
    rows are kept.

    Row i runs the Mobius map coefs[i] = (A, B, C, D) over the continued fraction cf_table[cf_index[i]] (of
    length cf_lens[cf_index[i]]); candidate r = i * n_periods + j uses sign period j (sign_table[j, :sign_len[j]]).
    Up to ``depth`` terms are made.  l_out is the linear complexity mod p of the first min(n, bm_depth) terms,
    or -1 when it exceeds min(max_l, (n - margin) // 2), so that l_out >= 0 exactly when those terms hold
    2 L + margin (a hit of the paper's window).  Where that fails, the lag test (``esma.kernels.qpoly``) looks
    for interlaced polynomials of quasi-period <= max_qp in all n terms: (qp_out, qs_out) = (P, s), or (0, 0).

    Only the terms of the rows kept are written: the hits (l_out > 0 or qp_out > 0), or every row with
    ``keep_all``; the k-th kept row's terms go to terms[k] and its index to kept[k] while k < len(kept) (the
    count returned may exceed it: the caller then runs the chunk again with room for all).  Most candidates are
    no hit, so a chunk needs memory for its hits, not for every candidate's deep terms.
    """
    n_t = coefs.shape[0]
    n_p = sign_table.shape[0]
    cap = kept.shape[0]
    scratch = np.empty(bm_scratch_size(bm_depth), np.float64)
    growth = np.empty(depth, np.float64)
    row = np.empty(depth, np.int64)
    n_kept = 0
    for i in range(n_t):
        cf = cf_table[cf_index[i]]
        n_cf = cf_lens[cf_index[i]]
        for j in range(n_p):
            r = i * n_p + j
            qp_out[r] = 0
            qs_out[r] = 0
            if n_cf == 0:
                n_out[r] = 0
                status_out[r] = 0
                l_out[r] = -1
                continue
            n, st = mobius_terms_kernel(cf, n_cf, coefs[i], sign_table[j], sign_len[j], depth, row)
            n_out[r] = n
            status_out[r] = st
            nb = min(n, bm_depth)
            bound = min(max_l, (nb - margin) // 2)
            if st == 0 and bound >= 1:
                l_out[r] = bm_float_kernel(row, nb, p, bound, scratch)
            else:
                l_out[r] = -1
            if st == 0 and l_out[r] < 0 and max_qp > 0:
                P, s0 = lag_kernel(row, n, sign_table[j], sign_len[j], max_qp, max(margin, 1), min_digits,
                                   growth)
                qp_out[r] = P
                qs_out[r] = s0
            if keep_all or l_out[r] > 0 or qp_out[r] > 0:
                if n_kept < cap:
                    for t in range(n):
                        terms[n_kept, t] = row[t]
                    kept[n_kept] = r
                n_kept += 1
    return n_kept
