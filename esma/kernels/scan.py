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
linear complexity computed by an inversion-free Berlekamp–Massey in float64 (exact: products stay below 2^42,
sums below 2^53) that stops as soon as the complexity exceeds its bound.
"""

import numpy as np
from numba import njit

LIMIT = 2.0**61  # magnitudes above this may overflow int64 in the next step: give up on the fast path


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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
    while n < depth:
        b = signs[n % period]
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
def bm_float_kernel(seq, n, p, max_l, c, b, t, r):  # pragma: no cover - compiled
    """Linear complexity of seq[0:n] mod p (p < 2^21), or -1 once it exceeds max_l.

    c, b, t, r are float64 scratch arrays of length >= n + 1.  Inversion-free: C <- bb C - d x^m B; every
    product is below 2^42 and every sum below 2^53, so float64 is exact and the loops vectorise.
    """
    fp = float(p)
    inv = 1.0 / fp
    for j in range(n + 1):
        c[j] = 0.0
        b[j] = 0.0
    for j in range(n):
        r[j] = float(seq[j] % p)
    c[0] = 1.0
    b[0] = 1.0
    L = 0
    m = 1
    bb = 1.0
    deg_b = 0
    for i in range(n):
        d = 0.0
        for j in range(L + 1):
            d += c[j] * r[i - j]
        d = d - np.floor(d * inv) * fp
        if d >= fp:
            d -= fp
        elif d < 0.0:
            d += fp
        if d == 0.0:
            m += 1
            continue
        top = min(deg_b + m, n)
        lim = max(L, top)
        change = i >= 2 * L
        if change:
            for j in range(lim + 1):
                t[j] = c[j]
        for j in range(lim + 1):
            c[j] = bb * c[j]
        for j in range(m, min(lim, deg_b + m) + 1):
            c[j] -= d * b[j - m]
        for j in range(lim + 1):
            x = c[j]
            x = x - np.floor(x * inv) * fp
            if x >= fp:
                x -= fp
            elif x < 0.0:
                x += fp
            c[j] = x
        if change:
            new_l = i + 1 - L
            for j in range(lim + 1):
                b[j] = t[j]
            deg_b = lim
            L = new_l
            bb = d
            m = 1
            if max_l < L:
                return -1
        else:
            m += 1
    return L


@njit(cache=True)
def scan_kernel(cf_table, cf_lens, cf_index, coefs, sign_table, sign_len, depth, p, margin, max_l, terms, n_out,
                l_out, status_out):  # pragma: no cover - compiled
    """Every (row, sign period) pair: transducer terms into terms[r], count, complexity, status.

    Row i runs the Mobius map coefs[i] = (A, B, C, D) over the continued fraction cf_table[cf_index[i]] (of
    length cf_lens[cf_index[i]]); candidate r = i * n_periods + j uses sign period j (sign_table[j, :sign_len[j]]).
    l_out is the linear complexity mod p of the n_out terms, or -1 when it exceeds min(max_l, (n - margin) // 2),
    so that l_out >= 0 exactly when n >= 2 L + margin (a hit).
    """
    n_t = coefs.shape[0]
    n_p = sign_table.shape[0]
    c = np.empty(depth + 2, np.float64)
    b = np.empty(depth + 2, np.float64)
    t = np.empty(depth + 2, np.float64)
    res = np.empty(depth + 2, np.float64)
    for i in range(n_t):
        cf = cf_table[cf_index[i]]
        n_cf = cf_lens[cf_index[i]]
        for j in range(n_p):
            r = i * n_p + j
            if n_cf == 0:
                n_out[r] = 0
                status_out[r] = 0
                l_out[r] = -1
                continue
            n, st = mobius_terms_kernel(cf, n_cf, coefs[i], sign_table[j], sign_len[j], depth, terms[r])
            n_out[r] = n
            status_out[r] = st
            bound = min(max_l, (n - margin) // 2)
            if st == 0 and bound >= 1:
                l_out[r] = bm_float_kernel(terms[r], n, p, bound, c, b, t, res)
            else:
                l_out[r] = -1
