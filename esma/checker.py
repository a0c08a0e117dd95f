"""An independent checker of proof certificates ``esma-tail-cert/1`` and ``esma-quadratic-cert/1`` (DESIGN 8).

It trusts nothing in a certificate: it reads the base's theorem from the registry (``esma.theorems``), the
claim from the record, and checks every identity and inequality exactly.  It imports only the standard
library, ``esma.theorems`` with the polynomial arithmetic and the expression parser it rests on
(``esma.polys``, ``esma.constants``), and sympy for a rare root isolation and for the minimal polynomial of an
algebraic constant; it never imports the prover (nor ``esma.quadratic``, the prover's field arithmetic).

**The tail lemma.**  Let the base x have the ESMA expansion x = q_0 + beta_0/(q_1 + beta_1/(q_2 + ...))
(a registry theorem), K_n = [[q_n, beta_n], [1, 0]], so that x = K_0 ... K_{n-1}(y_n) with y_n in (1, inf)
for every n >= 1.  Let F be the integer 2x2 matrix of a Möbius map with T(c) = F(x), and A_n = [[a_n, b_n],
[1, 0]] the claimed terms of T(c).  If, for block lengths L_in (a multiple of the base's period) and L_out (a
multiple of the claim's period and sign period), a sign sigma = +-1 and a matrix U(k) of polynomials in k,

1. head:  F K_0 ... K_{N0-1} = A_0 ... A_{M0-1} U(0), with N0 >= 1;
2. block: U(k) Kblock(k) = sigma Ablock(k) U(k+1) identically in k, where Kblock(k) is the product of the
   K_n for N0 + k L_in <= n < N0 + (k+1) L_in and Ablock(k) that of the A_n for M0 + k L_out <= n <
   M0 + (k+1) L_out (their entries are polynomials in k: the terms are polynomials in m there);
3. tail domain: for every integer k >= 0, U(k) maps (1, inf) into (1, inf);
4. admissible claim: a_n >= 1 where b_n = +1 and a_n >= 2 where b_n = -1, for every n >= 1, and the
   base's q_n >= 1 (>= 2 where beta_n = -1) for n >= 1,

then by induction F(x) = A_0 ... A_{M-1}(t) with M = M0 + k L_out and t = U(k)(y_{N0 + k L_in}) in (1, inf)
(sigma^k scales a matrix, not its Möbius map), and 4 makes every intermediate complete quotient exceed 1:
so a_0, ..., a_{M-1} are the first M terms of the ESMA expansion of T(c), for every k.

**The certificate** (JSON: plain ints, strings, lists)::

    {"format": "esma-tail-cert/1",
     "constant": "e",                                   informative copies of the record's constant c and
     "lhs": {"numerator": [..], "denominator": [..]},   T = P/Q (ascending powers of c); checked when present
     "base": {"theorem": "e",                           the registry entry, by its base's canonical text
              "reference": "...",                       (informative)
              "signs": [1], "head": [2], "period": 3,   the base's quasi-polynomial: beta_n = signs[n mod p],
              "polys": ["1", "1", "2*m + 2"]},          q_0..q_{s-1}, and q(N m + j) = P_j(m) for n >= s
     "map": {"degree": 1,                               degree of F; the format allows 2 (F acting on
                                                        (x^2, x, 1)), this checker proves degree 1 only
             "T": [[f11, f12], [f21, f22]],             F(x) = (f11 x + f12)/(f21 x + f22): the map from the
                                                        base x to T(c) (F = T itself when x = c)
             "substitution": {"numerator": [..], "denominator": [..], "text": "x = c^2"}},
                                                        x = S(c) = Sn(c)/Sd(c), ascending powers of c
     "claim": {"signs", "head", "period", "polys"},     the claimed expansion of T(c), same form as the base
     "cert": {"N0", "Lin", "M0", "Lout",                block offsets and lengths (ints): N0 base terms and
                                                        M0 claim terms before the first block
              "sigma": 1 or -1,                         the scalar of the block identity 2
              "U": [["..", ".."], ["..", ".."]]}}       U(k) as polynomial texts in k (rational coefficients)

``sigma``: the exact transducer states at successive block boundaries are S_k = sigma^k U(k); a Möbius map
is defined up to a scalar, and det Kblock = det Ablock = +-1 leaves only sigma = +-1 (in practice it is 1:
10,563 certificates measured).  The relation F(S(c)) = P(c)/Q(c) is checked as an identity in Z[c],
(f11 Sn + f12 Sd) Q = (f21 Sn + f22 Sd) P, with S = Sn/Sd one of the substitutions the registry vouches for
(``esma.theorems.match``); the bases are transcendental, so it is an identity of values.  The claim may use
another but equivalent description than the record's (start, period, sign period): they are compared as
exact descriptions of sequences, polynomial by polynomial on a common period.  A family member's
certificate, ``esma-member-cert/1`` (``_check_member``), holds its representative's certificate and the
exact relation G between the two.  Success reads ``proved from <theorem key> (<theorem>) with <x = S(c)>``.

**Bounded work** (DESIGN 8).  The caps on each part (polynomial degree 64, block lengths ``MAX_BLOCK``, heads
``MAX_HEAD``) do not bound their product: a block of 2000 terms of degree 64 is a polynomial of degree 128,000
with coefficients of ~10^6 bits, days of arithmetic.  So before any identity is checked, the cost of the whole
check (head products, block products and their products with U, the comparisons of descriptions, the
admissibility and tail-domain inequalities with their root isolations) is estimated from the certificate
and the record alone, in word products: degrees x block lengths x head lengths x coefficient sizes, with a
step cost per term and per residue class (``work``).  A check estimated above ``MAX_WORK`` = 10^9 is rejected,
``beyond the checker's bound``.  The estimate is an upper bound of the schoolbook cost, calibrated so that
10^9 is about one second of checking (measured: 0.4 to 1.2 ns per unit on forged blocks of degree 1 to 16;
a degree-64 root isolation takes ~2 s, so a claim of degree 64 is over the bound by itself).  Real
certificates are far below it: every formula of the default searches of e, tan(1) and exp(2) (5,188
certificates, members with their representatives) costs at most 2.6e6 (median 1e6), a claim described with
period 80 (Lout = 80) 6.2e6: 160 times below the bound at least (``tests/esma/test_checker.py`` measures them).

**Quadratic irrationals** (``esma-quadratic-cert/1``, ``_check_quadratic``).  For a constant c of degree 2 (read
from its parsed expression by sympy: its minimal polynomial A x^2 + B x + C, and which root it is, exactly; a
decimal literal is never read), an eventually periodic claim is a theorem (Lagrange)::

    {"format": "esma-quadratic-cert/1", "constant": "sqrt(2)",
     "minimal_polynomial": [C, B, A],                   c's, ascending: checked against sympy's
     "lhs": {...}, "claim": {...},                      informative copies of the record (checked when present)
     "head": {"terms": [a_0..a_(k-1)], "signs": [..]},  k >= 1 terms, at least the record's pre-period
     "period": {"terms": [a_k..a_(k+L-1)], "signs": [..]},   one period L (a multiple of the record's
                                                        period and sign period)
     "equation": [e0, e1, e2],                          e2 y^2 + e1 y + e0 = 0, read off the period
     "root": ["lo", "hi"]}                              rationals: the one root of the equation in (lo, hi)

Checked: the head and period are the record's first k + L terms and signs, and the record is periodic from k
on; a_n >= 1 where b_n = +1 and a_n >= 2 where b_n = -1 for 1 <= n < k + L; with M = [[alpha, beta], [gamma,
delta]] the product of the period's matrices [[a_n, b_n], [1, 0]], the equation is gamma y^2 + (delta -
alpha) y - beta (primitive, gamma > 0 after the sign); 1 <= lo < hi and the equation changes sign between
them; and y = H^-1(T(c)) (H the head's product), computed exactly in Q(sqrt(B^2 - 4AC)), is a root of the
equation in (lo, hi).  Then y = M(y) with y > 1: the ESMA expansion of y is the period repeated (each
complete quotient exceeds 1 and picks its term, by admissibility, back from x_(k+L) = y), and T(c) = H(y)
has the record's expansion (the head's quotients exceed 1 for n >= 1 likewise).  The reason names the
quadratic T(c) is a root of and an interval isolating it.  Work: a few exact operations per term, bounded by
the terms' sizes (``_quadratic_work``); sympy's minimal polynomial once per constant (at most 64 nodes and 3
square roots are read).

>>> cert = {"format": "esma-tail-cert/1",
...         "base": {"theorem": "e", "signs": [1], "head": [2], "period": 3, "polys": ["1", "1", "2*m + 2"]},
...         "map": {"degree": 1, "T": [[1, 0], [0, 1]], "substitution": {"numerator": [0, 1], "denominator": [1]}},
...         "claim": {"signs": [1], "head": [2], "period": 3, "polys": ["1", "1", "2*m + 2"]},
...         "cert": {"N0": 1, "Lin": 3, "M0": 1, "Lout": 3, "sigma": 1, "U": [["1", "0"], ["0", "1"]]}}
>>> check(cert, "e", (0, 1), (1,), (1,), (2,), 3, ((1,), (1,), (2, 2)))
(True, 'proved from e (Euler) with x = c')
>>> check(cert, "pi", (0, 1), (1,), (1,), (3,), 1, ((1,),))[0]
False
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

from esma import theorems
from esma.polys import moebius_identity, poly_add, poly_mul, poly_scale, poly_trim
from esma.theorems import FORMAT, MEMBER_FORMAT, QUADRATIC_FORMAT, QuasiPolynomial, parse_poly

__all__ = ["MAX_BLOCK", "MAX_HEAD", "MAX_WORK", "check", "clear_caches", "work"]

MAX_HEAD = 10_000  # N0 + M0 and head lengths: the head identity multiplies this many 2x2 matrices
MAX_BLOCK = 2_000  # L_in, L_out: a block multiplies this many matrices of polynomials
MAX_WORK = 10**9  # word products one check may cost, estimated before it starts (see "Bounded work")
_ROOT_COST = (10**6, 3_000)  # one root isolation (sympy): fixed, and per (degree + 1)^3 * words, measured
_STEP = 10_000  # word products a step of the interpreter costs as much as (one term, one residue class), measured
_ROOT_SCAN = 256  # below this root bound, integers are scanned; above it, roots are isolated (sympy)


class _Reject(Exception):
    """The certificate does not prove the record (the message says why)."""


class _Bound(_Reject):
    """The certificate is beyond the checker's bound on work."""


class _Budget:
    """The work one check may still cost; ``charge`` rejects, before the work is done, what would exceed it."""

    def __init__(self, bounded: bool = True) -> None:
        self.spent, self.bounded = 0, bounded

    def charge(self, units: int) -> None:
        self.spent += units
        if self.bounded and self.spent > MAX_WORK:
            raise _Bound(f"beyond the checker's bound: checking this certificate would cost about {self.spent:.1e} "
                          f"word products, more than {MAX_WORK:.0e}")


# --------------------------------------------------------------------------------- polynomials over Q
# A polynomial is a tuple of Fractions in ascending powers, trimmed (zero is (0,)): esma.polys does the
# arithmetic (the registry's own).


def _norm(p) -> tuple:
    """Integral coefficients as ints (exact, equal and hashing alike, and far faster than Fractions)."""
    return poly_trim(tuple(int(x) if isinstance(x, Fraction) and x.denominator == 1 else x for x in p))


def _is_zero(a) -> bool:
    return all(x == 0 for x in a)


def _eval(p, k):
    acc = 0
    for c in reversed(p):
        acc = acc * k + c
    return acc


@lru_cache(maxsize=65536)
def _shift(p: tuple, m0: int, step: int) -> tuple:
    """p(m0 + step k) as a polynomial in k."""
    out: tuple = (0,)
    lin = (m0, step)
    for c in reversed(p):
        out = poly_add(poly_mul(out, lin), (c,))
    return _norm(out)


def _mat_mul(x, y):
    """Product of 2x2 matrices whose entries are polynomials."""
    return tuple(
        tuple(poly_add(poly_mul(x[i][0], y[0][j]), poly_mul(x[i][1], y[1][j])) for j in (0, 1)) for i in (0, 1)
    )


def _int_mat_mul(x, y):
    return (
        (x[0][0] * y[0][0] + x[0][1] * y[1][0], x[0][0] * y[0][1] + x[0][1] * y[1][1]),
        (x[1][0] * y[0][0] + x[1][1] * y[1][0], x[1][0] * y[0][1] + x[1][1] * y[1][1]),
    )


# ------------------------------------------------------------------------------- sequences of terms


@lru_cache(maxsize=65536)
def _residue_poly(seq: QuasiPolynomial, n0: int, step: int) -> tuple:
    """a(n0 + step k) as a polynomial in k (n0 >= start, step a multiple of the period)."""
    m, j = divmod(n0, seq.period)
    return _shift(_poly_of(seq, j), m, step // seq.period)


@lru_cache(maxsize=16384)
def _same_sequence(x: QuasiPolynomial, y: QuasiPolynomial) -> bool:
    """True when x and y describe the same signed sequence (signs and terms, for every n)."""
    if x == y:
        return True
    p = math.lcm(len(x.signs), len(y.signs))
    if any(x.sign(i) != y.sign(i) for i in range(p)):
        return False
    s = max(x.start, y.start)
    period = math.lcm(x.period, y.period)
    if period > 20 * MAX_BLOCK:
        raise _Reject(f"malformed certificate: the periods {x.period} and {y.period} are too far apart to compare")
    if any(x.value(n) != y.value(n) for n in range(s)):
        return False
    # each residue class n = s + r + period*t is one polynomial in t for both; equal on all t iff identical
    return all(_residue_poly(x, s + r, period) == _residue_poly(y, s + r, period) for r in range(period))


# ------------------------------------------------------------------------- inequalities for all k >= 0


def _root_points(p: tuple) -> set[int]:
    """Integers k >= 0 that, with 0, meet every maximal root-free run of integers of p (see ``_for_all``).

    For each real root r: floor(r), ..., floor(r) + 1 (from an isolating interval narrower than 1).
    """
    d = len(p) - 1
    if d < 1:
        return set()
    if d == 1:
        r = math.floor(Fraction(-p[0]) / p[1])
        return {i for i in (r, r + 1) if i >= 0}
    bound = 1 + Fraction(max(abs(c) for c in p[:-1])) / abs(p[-1])  # Cauchy: every root has |r| < bound
    if bound <= _ROOT_SCAN:
        return set(range(0, math.floor(bound) + 2))
    from sympy.polys.domains import QQ
    from sympy.polys.rootisolation import dup_isolate_real_roots

    coeffs = [QQ(int(c.numerator), int(c.denominator)) for c in reversed(p)]
    out: set[int] = set()
    for (lo, hi), _ in dup_isolate_real_roots(coeffs, QQ, eps=QQ(1, 2)):
        flo = math.floor(Fraction(int(lo.numerator), int(lo.denominator)))
        fhi = math.floor(Fraction(int(hi.numerator), int(hi.denominator)))
        out.update(i for i in range(flo, fhi + 2) if i >= 0)
    return out


def _for_all(polys: tuple, predicate) -> int | None:
    """The first integer k >= 0 where ``predicate(values of polys at k)`` fails, or None if it holds for all.

    Exact: between consecutive real roots of the polynomials their signs are constant, and every run of
    integers k >= 0 free of roots contains 0 or some floor(r) + 1, which are all tested (as are the integers
    next to each root).  ``predicate`` may only depend on the signs of the values.
    """
    points = {0}
    for p in polys:
        if not _is_zero(p):
            points |= _root_points(p)
    for k in sorted(points):
        if not predicate([_eval(p, k) for p in polys]):
            return k
    return None


def _maps_into(values) -> bool:
    """(gamma, delta, alpha - gamma, beta - delta) of t -> U(1 + s): both linear forms in s have one sign."""
    g, d, n1, n0 = values
    if (g, d) == (0, 0) or (n1, n0) == (0, 0):
        return False
    return min(g, d, n1, n0) >= 0 or max(g, d, n1, n0) <= 0


@lru_cache(maxsize=4096)
def _tail_domain(U: tuple) -> int | None:
    """First k >= 0 where U(k) does not map (1, inf) into (1, inf), or None.

    With t = 1 + s, U(t) - 1 = ((alpha - gamma) s + (beta - delta))/(gamma s + delta), alpha = u11,
    beta = u11 + u12, gamma = u21, delta = u21 + u22.  It lies in (0, inf) for every s > 0 exactly when the
    denominator has no zero for s > 0 and both linear forms have the same sign there: when for one eps = +-1
    all four coefficients times eps are >= 0 and neither form is identically zero.  (A pole at t = 1 or an
    image endpoint at 1 or inf is allowed: the interval is open.)
    """
    (a, b), (c, d) = U
    beta, delta = poly_add(a, b), poly_add(c, d)
    return _for_all((c, delta, poly_add(a, poly_scale(c, -1)), poly_add(beta, poly_scale(delta, -1))), _maps_into)


def _admissible(seq: QuasiPolynomial, what: str) -> str | None:
    """None when a_n is an integer >= 1 (b_n = +1) or >= 2 (b_n = -1) for every n >= 1, else the reason."""
    for n in range(1, seq.start):
        low = 1 if seq.sign(n) > 0 else 2
        if seq.head[n] < low:
            return f"{what} is not admissible: a({n}) = {seq.head[n]} < {low} with b({n}) = {seq.sign(n):+d}"
    why = _admissible_tail(seq.signs, seq.period, seq._ints, max(seq.start, 1))
    return None if why is None else f"{what} {why}"


@lru_cache(maxsize=16384)
def _admissible_tail(signs: tuple, period: int, ints: tuple, first: int) -> str | None:
    """The residue classes from n = ``first`` on (members of a family share them: memoised on the form)."""
    polys = [p if d == 1 else tuple(Fraction(c, d) for c in p) for p, d in ints]
    L = math.lcm(period, len(signs))
    for n0 in range(first, first + L):
        m, j = divmod(n0, period)
        p = _shift(polys[j], m, L // period)  # a(n0 + L t) in powers of t
        # integer-valued on all t >= 0 iff integral at t = 0..deg (the Newton basis C(t, i) has integer values)
        if any(Fraction(_eval(p, t)).denominator != 1 for t in range(len(p))):
            return f"has non-integer terms in the class n = {n0} mod {L}"
        b = signs[n0 % len(signs)]
        low = 1 if b > 0 else 2
        bad = _for_all((poly_add(p, (-low,)),), lambda v: v[0] >= 0)
        if bad is not None:
            n = n0 + L * bad
            return f"is not admissible: a({n}) = {_eval(p, bad)} < {low} with b({n}) = {b:+d}"
    return None


# ------------------------------------------------------------------------------------------ the blocks


@lru_cache(maxsize=16384)
def _block_terms(seq: QuasiPolynomial, start: int, length: int) -> tuple:
    """((a(start + i + length k) as a polynomial in k, b_{start+i}) for i < length)."""
    return tuple((_residue_poly(seq, start + i, length), seq.sign(start + i)) for i in range(length))


@lru_cache(maxsize=4096)
def _block_product(terms: tuple) -> tuple:
    one, zero = (1,), (0,)
    acc = ((one, zero), (zero, one))
    for q, s in terms:
        acc = _mat_mul(acc, ((q, (s,)), (one, zero)))
    return acc


@lru_cache(maxsize=4096)
def _block_identity(k_terms: tuple, a_terms: tuple, U: tuple, sigma: int) -> bool:
    """U(k) Kblock(k) == sigma Ablock(k) U(k+1) as polynomials in k."""
    U1 = tuple(tuple(_shift(e, 1, 1) for e in row) for row in U)
    left = _mat_mul(U, _block_product(k_terms))
    right = _mat_mul(_block_product(a_terms), U1)
    return all(
        _is_zero(poly_add(left[i][j], poly_scale(right[i][j], -1) if sigma > 0 else right[i][j]))
        for i in (0, 1)
        for j in (0, 1)
    )


def _prefix(seq: QuasiPolynomial, count: int):
    acc = ((1, 0), (0, 1))
    for n in range(count):
        acc = _int_mat_mul(acc, ((seq.term(n), seq.sign(n)), (1, 0)))
    return acc


# ------------------------------------------------------------------------------------------ bounded work
# Estimates, in word products (a product of two 64-bit words), of what each step would cost, from the
# descriptions alone: degrees, coefficient sizes, block lengths, head lengths and periods, multiplied together.
# They are upper bounds of the schoolbook cost (Python's own multiplication is never slower), so a check whose
# estimate is within MAX_WORK does at most that much arithmetic.


def _words(bits: int) -> int:
    return bits // 64 + 1


@lru_cache(maxsize=16384)
def _shapes(seq: QuasiPolynomial) -> tuple[tuple[int, int], ...]:
    """(degree, bits of the largest coefficient numerator + log2 of the coefficient count) per residue."""
    return tuple((len(c) - 1, max(abs(x) for x in c).bit_length() + len(c).bit_length()) for c, _ in seq._ints)


def _shifted_bits(d: int, h: int, m: int) -> int:
    """Bits of the coefficients of P(m + t) for m, t >= 0 up to m (P of degree d, coefficients of h bits)."""
    return h + d * (m + 1).bit_length() + d + 1


def _head_work(seq: QuasiPolynomial, count: int) -> int:
    """The product of the first ``count`` matrices [[a_n, b_n], [1, 0]] (and the terms' evaluations)."""
    shapes, size, w = _shapes(seq), 1, 0
    for n in range(count):
        if n < seq.start:
            b = seq.head[n].bit_length() + 1
        else:
            m, j = divmod(n, seq.period)
            d, h = shapes[j]
            b = _shifted_bits(d, h, m)
            w += (d + 1) * _words(b) ** 2
        w += _STEP + 8 * _words(size) * _words(b)
        size += b + 1
    return w


def _block_work(seq: QuasiPolynomial, start: int, length: int, u_deg: int, u_bits: int) -> int:
    """A block's terms as polynomials in k, their product, and its products with U(k) and U(k + 1)."""
    shapes, step = _shapes(seq), length // seq.period
    deg, bits, w = 0, 1, 0
    for i in range(length):
        m, j = divmod(start + i, seq.period)
        d, h = shapes[j]
        hk = _shifted_bits(d, h, m + step)
        w += _STEP + (d + 1) ** 2 * _words(hk) + 24 * (deg + 1) * (d + 1) * (_words(bits) * _words(hk) + 8)
        deg, bits = deg + d, bits + hk + 2
    return w + 16 * (deg + 1) * (u_deg + 1) * _words(bits) * _words(u_bits + u_deg + 2)


def _compare_work(x: QuasiPolynomial, y: QuasiPolynomial) -> int:
    """``_same_sequence(x, y)``: every residue class of the common period as a polynomial, for both."""
    signs = math.lcm(len(x.signs), len(y.signs))
    period = math.lcm(x.period, y.period)
    if max(signs, period) > 20 * MAX_BLOCK:
        raise _Reject(f"malformed certificate: the periods {x.period} and {y.period} (signs {len(x.signs)} and "
                      f"{len(y.signs)}) are too far apart to compare")
    s = max(x.start, y.start)
    w = signs * _STEP
    for seq in (x, y):
        d, h = max(d for d, _ in _shapes(seq)), max(h for _, h in _shapes(seq))
        w += period * (_STEP + (d + 1) ** 2 * _words(_shifted_bits(d, h, s + period)))
        w += s * (d + 1) * _words(_shifted_bits(d, h, s)) ** 2
    return w


def _root_work(d: int, words: int) -> int:
    """``_root_points`` of a polynomial of degree d with coefficients of ``words`` words (sympy from d = 2)."""
    return _ROOT_COST[0] + _ROOT_COST[1] * (d + 1) ** 3 * words if d >= 2 else _STEP


def _admissible_work(seq: QuasiPolynomial) -> int:
    """``_admissible``: per residue class of lcm(period, sign period), a shift, values, and a root isolation."""
    classes = math.lcm(seq.period, len(seq.signs))
    d, h = max(d for d, _ in _shapes(seq)), max(h for _, h in _shapes(seq))
    wd = _words(_shifted_bits(d, h, seq.start + 2 * classes))
    per_class = _STEP + 3 * (d + 1) ** 2 * wd + _root_work(d, wd)
    return seq.start * _STEP + classes * per_class


def _u_shape(U: tuple) -> tuple[int, int]:
    d = max(len(e) - 1 for row in U for e in row)
    bits = max(max(abs(Fraction(c).numerator).bit_length() + Fraction(c).denominator.bit_length() for c in e)
               for row in U for e in row)
    return d, bits


def _tail_work(base, claim, record, N0, Lin, M0, Lout, U) -> int:
    """The whole of a tail certificate's check (steps (a) to (f) of ``_check``), estimated."""
    u_deg, u_bits = _u_shape(U)
    return (_compare_work(base, base) + _compare_work(claim, record)
            + _head_work(base, N0) + _head_work(claim, M0)
            + _block_work(base, N0, Lin, u_deg, u_bits) + _block_work(claim, M0, Lout, u_deg, u_bits)
            + 4 * _root_work(u_deg, _words(u_bits + u_deg + 2))
            + _admissible_work(record) + _admissible_work(base))


def _member_work(f: QuasiPolynomial, r: QuasiPolynomial, kf: int, kr: int) -> int:
    """A member's own part (``_member``): its head and the representative's, and the tails compared."""
    first = max(f.start - kf, r.start - kr, 0)
    L = math.lcm(f.period, r.period)
    if L > 20 * MAX_BLOCK:
        raise _Reject("malformed certificate: the periods are too far apart to compare")
    d = max(f.degree, r.degree)
    h = max(hh for seq in (f, r) for _, hh in _shapes(seq))
    far = kf + kr + first + L * (d + 1)
    tails = (first + L * (d + 1)) * (d + 1) * _words(_shifted_bits(d, h, far)) ** 2
    signs = math.lcm(len(f.signs), len(r.signs))
    return _head_work(f, kf) + _head_work(r, kr) + 2 * tails + (signs + first + L * (d + 1)) * _STEP


def work(certificate, constant_text: str, signs, head, period, polynomials) -> int | None:
    """The estimated cost of checking ``certificate`` for the record (arguments as for ``check``), in word
    products: what ``check`` compares with ``MAX_WORK`` before it starts; ``None`` for a certificate too
    malformed to estimate.  (For measurements: the bound must leave ample room for real certificates.)"""
    budget = _Budget(bounded=False)  # measure, never reject
    try:
        record = QuasiPolynomial(tuple(signs), tuple(head), period, tuple(polynomials))
        _check(certificate, constant_text, (0, 1), (1,), record, budget, estimate_only=True)
    except (_Reject, TypeError, ValueError, ArithmeticError):
        return None
    return budget.spent


# --------------------------------------------------------------------------------------- parsing input


def _int_list(x, what: str) -> tuple[int, ...]:
    if not isinstance(x, (list, tuple)) or not x or any(isinstance(v, bool) or not isinstance(v, int) for v in x):
        raise _Reject(f"malformed certificate: '{what}' must be a non-empty list of ints")
    return tuple(x)


def _get(d, key: str, what: str):
    if not isinstance(d, dict) or key not in d:
        raise _Reject(f"malformed certificate: {what} has no '{key}'")
    return d[key]


def _int_field(d, key: str, what: str) -> int:
    v = _get(d, key, what)
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Reject(f"malformed certificate: {what}.{key} must be an int")
    return v


def _sequence(d, what: str) -> QuasiPolynomial:
    try:
        seq = QuasiPolynomial.from_json(d)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise _Reject(f"malformed certificate: {what}: {exc}") from None
    if max(seq.period, len(seq.signs)) > MAX_BLOCK or seq.start > MAX_HEAD:
        raise _Reject(f"malformed certificate: {what}: periods must be at most {MAX_BLOCK}, heads {MAX_HEAD}")
    return seq


@lru_cache(maxsize=4096)
def _parse_U(rows: tuple) -> tuple:
    return tuple(tuple(_norm(parse_poly(e, "k")) for e in row) for row in rows)


def _matrix_U(u) -> tuple:
    if not (isinstance(u, list) and len(u) == 2 and all(isinstance(r, list) and len(r) == 2 for r in u)):
        raise _Reject("malformed certificate: cert.U must be a 2x2 list of polynomial texts in k")
    if not all(isinstance(e, str) for r in u for e in r):
        raise _Reject("malformed certificate: cert.U must hold polynomial texts in k")
    try:
        return _parse_U((tuple(u[0]), tuple(u[1])))
    except (TypeError, ValueError) as exc:
        raise _Reject(f"malformed certificate: cert.U: {exc}") from None


def _record_poly(x, what: str) -> tuple[int, ...]:
    if not isinstance(x, (list, tuple)) or not x or any(isinstance(v, bool) or not isinstance(v, int) for v in x):
        raise TypeError(f"Argument '{what}' must be a non-empty sequence of ints, not {x!r}")
    return tuple(x)


# ------------------------------------------------------------------------------------------- the check


@lru_cache(maxsize=65536)
def _relation_holds(F: tuple, sub: theorems.Substitution, P: tuple, Q: tuple) -> bool:
    """(f11 Sn + f12 Sd) Q == (f21 Sn + f22 Sd) P in Z[c], with nonzero denominators."""
    sn, sd = sub.numerator, sub.denominator
    num = poly_add(poly_mul((F[0][0],), sn), poly_mul((F[0][1],), sd))
    den = poly_add(poly_mul((F[1][0],), sn), poly_mul((F[1][1],), sd))
    if _is_zero(den) or _is_zero(Q):
        return False
    return _is_zero(poly_add(poly_mul(num, poly_trim(Q)), poly_scale(poly_mul(den, poly_trim(P)), -1)))


@lru_cache(maxsize=4096)
def _substitution(numerator: tuple, denominator: tuple) -> theorems.Substitution:
    return theorems.Substitution(numerator, denominator)


@lru_cache(maxsize=4096)
def _base_match(constant_text: str, key, base: QuasiPolynomial, sub: theorems.Substitution) -> theorems.Match:
    """The registry's match for (constant, theorem key, base sequence, substitution); ``_Reject`` if none."""
    matches = theorems.match(constant_text)
    same_key = [m for m in matches if m.theorem.key == key]
    if not same_key:
        raise _Reject(f"the certificate's base {key!r} is not a registry theorem for {constant_text}")
    same_base = [m for m in same_key if _same_sequence(m.theorem.sequence, base)]
    if not same_base:
        raise _Reject(f"the certificate's base is not the registry's continued fraction of {key}")
    vouched = [m for m in same_base if m.substitution == sub]
    if not vouched:
        raise _Reject(f"the substitution {sub.text} is not one the registry vouches for ({constant_text} -> {key})")
    return vouched[0]


def _representative(rep, constant_text: str, budget: _Budget,
                    estimate_only: bool = False) -> tuple[str, tuple, tuple, QuasiPolynomial]:
    """Check a member certificate's representative part: its own tail certificate against its own claim.
    Returns (reason, P_R, Q_R, claim_R)."""
    if not isinstance(rep, dict):
        raise _Reject("malformed certificate: the representative must be an object")
    lhs = _get(rep, "lhs", "representative")
    P = _record_poly(_get(lhs, "numerator", "representative.lhs"), "representative numerator")
    Q = _record_poly(_get(lhs, "denominator", "representative.lhs"), "representative denominator")
    if not any(Q):
        raise _Reject("malformed certificate: the representative's denominator is 0")
    claim = _sequence(_get(rep, "claim", "representative"), "representative.claim")
    reason = _check(_get(rep, "certificate", "representative"), constant_text, P, Q, claim, budget, estimate_only)
    return reason, P, Q, claim


class _Rep:
    """A checked representative (reason, P_R, Q_R, claim_R) with what its members' checks reuse: prefix
    matrices by length and shifted residue polynomials (pure functions of the claim, memoised per family)."""

    def __init__(self, checked: tuple[str, tuple, tuple, QuasiPolynomial]) -> None:
        self.reason, self.P, self.Q, self.claim = checked
        self._prefix: dict[int, tuple] = {}
        self._shifted: dict[tuple[int, int], tuple] = {}

    def prefix(self, k: int):
        if k not in self._prefix:
            self._prefix[k] = _prefix(self.claim, k)
        return self._prefix[k]

    def shifted(self, j: int, q: int) -> tuple:
        """P_j(m + q) of the claim's residue j."""
        if (j, q) not in self._shifted:
            self._shifted[(j, q)] = _shift(_poly_of(self.claim, j), q, 1)
        return self._shifted[(j, q)]


def _poly_of(seq: QuasiPolynomial, j: int) -> tuple:
    ints, den = seq._ints[j]
    return ints if den == 1 else _norm(seq.polys[j])


def _member(rep: _Rep, cert, P, Q, record: QuasiPolynomial, budget: _Budget, estimate_only: bool = False) -> str:
    """The member's own part of a member certificate, its representative ``rep`` being checked already."""
    PR, QR, claim_r = rep.P, rep.Q, rep.claim
    shift = _get(cert, "shift", "the certificate")
    kf, kr = _int_field(shift, "member", "shift"), _int_field(shift, "representative", "shift")
    if kr < 1 or kf < 0 or kf + kr > MAX_HEAD:
        raise _Reject(f"malformed certificate: shift needs representative >= 1 and member >= 0, sum <= {MAX_HEAD}")
    f, r = record, claim_r
    budget.charge(_member_work(f, r, kf, kr))
    if estimate_only:
        return ""
    G = _get(cert, "relation", "the certificate")
    if not (isinstance(G, list) and len(G) == 2 and all(isinstance(r, list) and len(r) == 2 for r in G)):
        raise _Reject("malformed certificate: relation must be a 2x2 list of ints")
    (g11, g12), (g21, g22) = _int_list(G[0], "relation"), _int_list(G[1], "relation")
    if abs(g11 * g22 - g12 * g21) != 1:
        raise _Reject("the relation G is not unimodular (det G must be +-1)")
    if not moebius_identity(P, Q, PR, QR, (g11, g12, g21, g22)):
        raise _Reject("the relation fails: T(c) != G(T_rep(c)) in Z[c]")
    p = math.lcm(len(f.signs), len(r.signs))
    if any(f.sign(kf + i) != r.sign(kr + i) for i in range(p)):
        raise _Reject("the member's signs are not the representative's from the shift on")
    first = max(f.start - kf, r.start - kr, 0)
    try:
        if any(f.term(kf + i) != r.term(kr + i) for i in range(first)):
            raise _Reject("the member's terms are not the representative's from the shift on")
        if f.period == r.period:
            # residue j of f (n = N m + j >= kf + first) is residue j' of r at m + q: one polynomial identity each
            N, d0 = f.period, kr - kf
            for j in range(N):
                q, jr = divmod(j + d0, N)
                if _poly_of(f, j) != rep.shifted(jr, q):
                    raise _Reject("the member's tail is not the representative's")
        else:
            # both are polynomials of degree <= d on each class i = i0 + L t from ``first`` on (L the lcm of the
            # periods): equal everywhere once equal on d + 1 consecutive points of every class
            L = math.lcm(f.period, r.period)
            if L > 20 * MAX_BLOCK:
                raise _Reject("malformed certificate: the periods are too far apart to compare")
            d = max(f.degree, r.degree)
            if any(f.term(kf + i) != r.term(kr + i) for i in range(first, first + L * (d + 1))):
                raise _Reject("the member's tail is not the representative's")
    except ArithmeticError as exc:
        raise _Reject(f"the member's claim has non-integer terms: {exc}") from None
    (a, b), (c, d) = rep.prefix(kr)
    m = _int_mat_mul(_prefix(f, kf), ((d, -b), (-c, a)))
    if m not in (((g11, g12), (g21, g22)), ((-g11, -g12), (-g21, -g22))):
        raise _Reject("the relation is not the one of the heads: G != +-H_member adj(H_rep)")
    for n in range(1, kf):
        low = 1 if f.sign(n) > 0 else 2
        if f.term(n) < low:
            raise _Reject(f"the member is not admissible: a({n}) = {f.term(n)} < {low} with b({n}) = {f.sign(n):+d}")
    return f"{rep.reason}, through the family's representative (T(c) = G(T_rep(c)))"


def _check_member(cert, constant_text: str, P, Q, record: QuasiPolynomial, budget: _Budget,
                  estimate_only: bool = False) -> str:
    """A family member (DESIGN 7 and 8): its representative R is proved by a tail certificate; the member F
    follows through the exact relation T_F(c) = G(T_R(c)).  Checked here: R's certificate against R's claim;
    G unimodular with P_F (g21 P_R + g22 Q_R) = Q_F (g11 P_R + g12 Q_R) in Z[c]; F's sequence from index k_F
    equal to R's from k_R >= 1 (signs and terms, as exact descriptions); G = +-H_F adj(H_R) with H the
    products of the first k_F (k_R) matrices [[a_n, b_n], [1, 0]]; F's terms 1..k_F - 1 admissible.  Then
    T_F(c) = H_F(t) with t = R's complete quotient y_(k_R) > 1, and every complete quotient of F exceeds 1:
    F's claim is the ESMA expansion of T_F(c)."""
    rep = _Rep(_representative(_get(cert, "representative", "the certificate"), constant_text, budget, estimate_only))
    return _member(rep, cert, P, Q, record, budget, estimate_only)


# ------------------------------------------------------------------ quadratic irrationals (Lagrange)
# A number of Q(sqrt D) is a triple (a, b, e) of ints, (a + b sqrt(D))/e with e > 0 (D > 0 not a square): the
# checker's own few lines of field arithmetic, independent of the engine's.

_MAX_RADICALS = 3  # square roots in a constant the checker reads (sympy's minimal polynomial stays cheap)
_MAX_NODES = 64
_MAX_INT_BITS = 256
_MAX_ROOT_TEXT = 2_000  # characters of each end of the root's interval
_MAX_TERM_BITS = 4_096  # bits of one term of a quadratic certificate


def _q_norm(a: int, b: int, e: int) -> tuple[int, int, int]:
    g = math.gcd(a, b, e)
    return (a // g, b // g, e // g) if g > 1 else (a, b, e)


def _q_add(x, y):
    return _q_norm(x[0] * y[2] + y[0] * x[2], x[1] * y[2] + y[1] * x[2], x[2] * y[2])


def _q_mul(x, y, D):
    return _q_norm(x[0] * y[0] + D * x[1] * y[1], x[0] * y[1] + x[1] * y[0], x[2] * y[2])


def _q_div(x, y, D):
    """x / y: 1/((c + d sqrt D)/f) = f (c - d sqrt D)/(c^2 - D d^2)."""
    c, d, f = y
    n = c * c - D * d * d
    if n == 0:
        raise _Reject("division by zero in Q(sqrt D): T(c) or the head's inverse map is not finite at c")
    s = 1 if n > 0 else -1
    return _q_mul(x, (s * f * c, -s * f * d, abs(n)), D)


def _q_sign(x, D) -> int:
    """The sign of (a + b sqrt(D))/e (e > 0), exactly (compare a^2 with D b^2 when the signs differ)."""
    a, b, _ = x
    sa, sb = (a > 0) - (a < 0), (b > 0) - (b < 0)
    if sb == 0 or sa == sb:
        return sa or sb
    if sa == 0:
        return sb
    return sa if a * a > D * b * b else sb


def _q_minus(x, q: Fraction):
    """x - q for a rational q."""
    return _q_norm(x[0] * q.denominator - q.numerator * x[2], x[1] * q.denominator, x[2] * q.denominator)


def _q_poly(p, x, D):
    acc = (0, 0, 1)
    for c in reversed(p):
        acc = _q_add(_q_mul(acc, x, D), (int(c), 0, 1))
    return acc


def _sympy_of(node, count: list[int]):
    """The constant's tree as a sympy expression (built node by node: no text is parsed by sympy), for the
    algebraic constants the checker reads: integers, phi, + - * /, integer and half-integer powers, sqrt."""
    import sympy

    from esma.constants import BinOp, Call, Dec, Name, Neg, Num, fold

    count[0] += 1
    if count[0] > _MAX_NODES:
        raise _Reject(f"the constant has more than {_MAX_NODES} nodes: not read as a quadratic irrational")
    if isinstance(node, Dec):
        raise _Reject("a decimal literal is never proved")
    if isinstance(node, Num):
        if node.value.bit_length() > _MAX_INT_BITS:
            raise _Reject("the constant has an integer of more than 256 bits")
        return sympy.Integer(node.value)
    if isinstance(node, Name):
        if node.name != "phi":
            raise _Reject(f"{node.name} is not an algebraic number")
        count[1] += 1
        return (1 + sympy.sqrt(5)) / 2
    if isinstance(node, Neg):
        return -_sympy_of(node.arg, count)
    if isinstance(node, Call):
        if node.func != "sqrt":
            raise _Reject(f"{node.func}(...) is not read as an algebraic number")
        count[1] += 1
        return sympy.sqrt(_sympy_of(node.args[0], count))
    if isinstance(node, BinOp):
        left = _sympy_of(node.left, count)
        if node.op == "**":
            try:
                k = fold(node.right)
            except ValueError:
                k = None
            if k is None or k.denominator not in (1, 2) or abs(k.numerator) > 64:
                raise _Reject("the constant has a power that is not read as algebraic (exponents k or k/2, |k| <= 64)")
            if k.denominator == 2:
                count[1] += 1
            return left ** sympy.Rational(k.numerator, k.denominator)
        right = _sympy_of(node.right, count)
        if node.op == "/" and right == 0:
            raise _Reject("division by zero in the constant")
        return {"+": left + right, "-": left - right, "*": left * right, "/": left / right}[node.op]
    raise _Reject("the constant is not read as an algebraic number")


@lru_cache(maxsize=64)
def _quadratic_constant(constant_text: str) -> tuple[int, int, int, int, int] | str:
    """(A, B, C, D, s): c = (-B + s sqrt(D))/(2A) with A x^2 + B x + C its minimal polynomial (sympy, exact)
    and D = B^2 - 4AC; or the reason it is not a quadratic irrational."""
    import sympy

    from esma.constants import parse

    try:
        count = [0, 0]
        expr = _sympy_of(parse(constant_text), count)
        if count[1] > _MAX_RADICALS:
            return f"the constant has more than {_MAX_RADICALS} square roots: not read as a quadratic irrational"
        x = sympy.Symbol("x")
        mp = sympy.Poly(sympy.minimal_polynomial(expr, x), x)
    except _Reject as exc:
        return str(exc)
    except (ValueError, NotImplementedError, ZeroDivisionError, TypeError) as exc:
        return f"the constant is not read as an algebraic number ({type(exc).__name__})"
    if mp.degree() != 2:
        return f"the constant has degree {mp.degree()}, not 2: not a quadratic irrational"
    A, B, C = (int(c) for c in mp.all_coeffs())
    if A < 0:
        A, B, C = -A, -B, -C
    D = B * B - 4 * A * C
    if D <= 0 or math.isqrt(D) ** 2 == D:
        return "the constant is not a real quadratic irrational"
    for s in (1, -1):  # which root: c - root has minimal polynomial x exactly when it is zero
        if sympy.minimal_polynomial(expr - (-B + s * sympy.sqrt(D)) / (2 * A), x) == x:
            return A, B, C, D, s
    return "the constant is neither root of its minimal polynomial"  # cannot happen: sympy's answer is exact


def _fraction_of(text, what: str) -> Fraction:
    if not isinstance(text, str) or not 0 < len(text) <= _MAX_ROOT_TEXT:
        raise _Reject(f"malformed certificate: {what} must be a rational as text (at most {_MAX_ROOT_TEXT} characters)")
    num, _, den = text.strip().partition("/")
    try:
        if not num.lstrip("-").isdigit() or (den and not den.isdigit()):
            raise ValueError
        q = Fraction(int(num), int(den) if den else 1)
    except (ValueError, ZeroDivisionError):
        raise _Reject(f"malformed certificate: {what} must be a rational as text, like 7/5") from None
    return q


def _int_terms(d, what: str, limit: int, allow_empty: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    terms, signs = _get(d, "terms", what), _get(d, "signs", what)
    for x in (terms, signs):
        if not isinstance(x, list) or len(x) > limit or (not x and not allow_empty) or any(
                isinstance(v, bool) or not isinstance(v, int) for v in x):
            raise _Reject(f"malformed certificate: {what} must hold lists of at most {limit} ints")
    if len(terms) != len(signs) or any(s not in (1, -1) for s in signs):
        raise _Reject(f"malformed certificate: {what} needs one sign (+1 or -1) per term")
    if any(v.bit_length() > _MAX_TERM_BITS for v in terms):
        raise _Reject(f"malformed certificate: {what} has a term of more than {_MAX_TERM_BITS} bits")
    return tuple(terms), tuple(signs)


def _quadratic_work(terms, P, Q, root_texts) -> int:
    """Matrix products over the terms, the value of T(c) and its comparisons, and sympy's minimal polynomial."""
    bits = sum(t.bit_length() + 2 for t in terms)
    w = _words(bits + sum(len(t) * 4 for t in root_texts) + max(abs(c).bit_length() for c in (*P, *Q)) * 3)
    return len(terms) * (_STEP + 8 * _words(bits)) + 400 * w * w + 64 * _STEP + _ROOT_COST[0]


def _isolating(poly, x, D) -> tuple[Fraction, Fraction] | None:
    """Rationals lo < x < hi where the quadratic ``poly`` (ascending) changes sign (x its only root there)."""
    def at(t):
        return poly[0] + poly[1] * t + poly[2] * t * t

    a, b, e = x
    # floor((a + b sqrt D)/e): |b| sqrt D is within 1 of isqrt(b^2 D); then exact corrections
    r = math.isqrt(b * b * D)
    lo = Fraction((a + (r if b >= 0 else -r)) // e)
    while _q_sign(_q_minus(x, lo), D) < 0:
        lo -= 1
    while _q_sign(_q_minus(x, lo + 1), D) >= 0:
        lo += 1
    hi = lo + 1
    for _ in range(64):
        if at(lo) * at(hi) < 0:
            return lo, hi
        mid = (lo + hi) / 2
        if _q_sign(_q_minus(x, mid), D) > 0:
            lo = mid
        else:
            hi = mid
    return None


def _text_q(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _check_quadratic(cert, constant_text: str, P, Q, record: QuasiPolynomial, budget: _Budget,
                     estimate_only: bool = False) -> str:
    """An eventually periodic formula of a quadratic irrational c (``esma-quadratic-cert/1``; see the module
    docstring): the period read off the record, its quadratic, the root's interval, and T(c) = H(root) in
    Q(sqrt D) with c's minimal polynomial from sympy."""
    head, hsigns = _int_terms(_get(cert, "head", "the certificate"), "head", MAX_HEAD, False)
    period, psigns = _int_terms(_get(cert, "period", "the certificate"), "period", MAX_BLOCK, False)
    eq = _int_list(_get(cert, "equation", "the certificate"), "equation")
    mp = _int_list(_get(cert, "minimal_polynomial", "the certificate"), "minimal_polynomial")
    box = _get(cert, "root", "the certificate")
    if not (isinstance(box, list) and len(box) == 2):
        raise _Reject("malformed certificate: root must be [lo, hi], two rationals as text")
    if len(eq) != 3 or len(mp) != 3 or any(abs(x).bit_length() > _MAX_TERM_BITS * 4 for x in eq):
        raise _Reject("malformed certificate: equation and minimal_polynomial must be 3 ints each (ascending)")
    budget.charge(_quadratic_work(head + period, P, Q, [str(t) for t in box]))
    if estimate_only:
        return ""
    lo, hi = _fraction_of(box[0], "root[0]"), _fraction_of(box[1], "root[1]")

    # (a) c is a quadratic irrational, and the certificate names its minimal polynomial
    found = _quadratic_constant(constant_text)
    if isinstance(found, str):
        raise _Reject(found)
    A, B, C, D, s = found
    if tuple(mp) != (C, B, A):
        raise _Reject(f"the certificate's minimal polynomial is not the constant's ({A}x^2 + {B}x + {C})")
    if cert.get("constant", constant_text) != constant_text:
        raise _Reject("the certificate's constant is not the record's")
    if "lhs" in cert:
        lhs = cert["lhs"]
        if not isinstance(lhs, dict) or [*lhs.get("numerator", ())] != [*P] or [*lhs.get("denominator", ())] != [*Q]:
            raise _Reject("the certificate's lhs is not the record's")

    # (b) the record is eventually periodic: period L from index k >= 1, the certificate's terms its own
    k, L = len(head), len(period)
    if record.degree > 0:
        raise _Reject("the record's terms are not eventually periodic")
    if k < max(record.start, 1):
        raise _Reject("the head must reach the record's start and be at least 1 term long")
    if L % math.lcm(record.period, len(record.signs)):
        raise _Reject("the period's length is not a multiple of the record's period and sign period")
    terms, signs = head + period, hsigns + psigns
    try:
        if any(record.term(n) != terms[n] or record.sign(n) != signs[n] for n in range(k + L)):
            raise _Reject("the certificate's terms are not the record's")
    except ArithmeticError as exc:
        raise _Reject(f"the record has non-integer terms: {exc}") from None
    if "claim" in cert and not _same_sequence(_sequence(cert["claim"], "claim"), record):
        raise _Reject("the certificate's claim is not the record's sequence")

    # (c) admissible: x_n > 1 for every n >= 1 follows from x_k > 1 (periodicity covers n >= k + L)
    for n in range(1, k + L):
        low = 1 if signs[n] > 0 else 2
        if terms[n] < low:
            raise _Reject(f"the claim is not admissible: a({n}) = {terms[n]} < {low} with b({n}) = {signs[n]:+d}")

    # (d) the quadratic read off the period: y = M(y) <=> gamma y^2 + (delta - alpha) y - beta = 0
    (h11, h12), (h21, h22) = _prefix_of(head, hsigns)
    (al, be), (ga, de) = _prefix_of(period, psigns)
    if ga == 0:
        raise _Reject("the period's map has no quadratic fixed point (gamma = 0)")
    g = math.gcd(be, de - al, ga) * (1 if ga > 0 else -1)
    if tuple(eq) != (-be // g, (de - al) // g, ga // g):
        raise _Reject("the certificate's equation is not the one read off the period")

    # (e) the interval holds exactly one root, and it lies above 1
    def at(t):
        return eq[0] + eq[1] * t + eq[2] * t * t

    if not (1 <= lo < hi) or at(lo) * at(hi) >= 0:
        raise _Reject("the root's interval does not isolate one root above 1 (need 1 <= lo < hi, a sign change)")

    # (f) T(c) = H(y): y = H^-1(T(c)) is that root, exactly in Q(sqrt D)
    c = (-B, s, 2 * A)
    t = _q_div(_q_poly(P, c, D), _q_poly(Q, c, D), D)
    y = _q_div(_q_add((-h12, 0, 1), _q_mul((h22, 0, 1), t, D)), _q_add((h11, 0, 1), _q_mul((-h21, 0, 1), t, D)), D)
    if _q_sign(_q_poly(eq, y, D), D) != 0:
        raise _Reject("the value read off the period is not T(c): H^-1(T(c)) is not a root of the equation")
    if _q_sign(_q_minus(y, lo), D) <= 0 or _q_sign(_q_minus(y, hi), D) >= 0:
        raise _Reject("H^-1(T(c)) is not the root in the certificate's interval")

    # the reason: the quadratic T(c) itself is a root of, with an interval that isolates it
    a_, b_ = (-h12, h22), (h11, -h21)  # y = a_(T)/b_(T), linear in T
    tq = poly_add(poly_add(poly_scale(poly_mul(a_, a_), eq[2]), poly_scale(poly_mul(a_, b_), eq[1])),
                  poly_scale(poly_mul(b_, b_), eq[0]))
    tq = tuple(int(x) for x in (*tq, 0, 0)[:3])
    gq = math.gcd(*tq) * (1 if tq[2] > 0 else -1)
    tq = tuple(x // gq for x in tq)
    where = _isolating(tq, t, D) if tq[2] else None
    if where is None:
        return (f"eventually periodic: x_{k} is the root of {_poly_x(eq)} in ({_text_q(lo)}, {_text_q(hi)}) and "
                "T(c) is the head's map of it (Lagrange); checked exactly")
    return (f"eventually periodic: T(c) is the root of {_poly_x(tq)} in ({_text_q(where[0])}, "
            f"{_text_q(where[1])}) (Lagrange); checked exactly")


def _poly_x(p) -> str:
    from esma.polys import poly_text

    return poly_text(p, "x", "plain")


def _prefix_of(terms, signs):
    acc = ((1, 0), (0, 1))
    for a, b in zip(terms, signs, strict=True):
        acc = _int_mat_mul(acc, ((a, b), (1, 0)))
    return acc


def _check(cert, constant_text: str, P, Q, record: QuasiPolynomial, budget: _Budget,
           estimate_only: bool = False) -> str:
    if not isinstance(cert, dict):
        raise _Reject(f"malformed certificate: expected an object, not {type(cert).__name__}")
    if cert.get("format") == MEMBER_FORMAT:
        return _check_member(cert, constant_text, P, Q, record, budget, estimate_only)
    if cert.get("format") == QUADRATIC_FORMAT:
        return _check_quadratic(cert, constant_text, P, Q, record, budget, estimate_only)
    if cert.get("format") != FORMAT:
        raise _Reject(f"unknown certificate format {cert.get('format')!r} (expected {FORMAT!r})")
    if not theorems.match(constant_text):
        why = " (a decimal literal is never proved)" if theorems.has_decimal(constant_text) else ""
        raise _Reject(f"no registry entry for {constant_text}{why}")

    # the certificate read (cheap: texts and ints of bounded size), then its work bounded before any check
    base_d = _get(cert, "base", "the certificate")
    key = _get(base_d, "theorem", "base")
    base = _sequence(base_d, "base")
    map_d = _get(cert, "map", "the certificate")
    degree = _int_field(map_d, "degree", "map")
    if degree != 1:
        raise _Reject(f"map of degree {degree}: only Möbius maps (degree 1) of a registry base are checked")
    T = _get(map_d, "T", "map")
    if not (isinstance(T, list) and len(T) == 2 and all(isinstance(r, list) and len(r) == 2 for r in T)):
        raise _Reject("malformed certificate: map.T must be a 2x2 list of ints")
    F = (_int_list(T[0], "map.T"), _int_list(T[1], "map.T"))
    sub_d = _get(map_d, "substitution", "map")
    try:
        sub = _substitution(_int_list(_get(sub_d, "numerator", "map.substitution"), "numerator"),
                            _int_list(_get(sub_d, "denominator", "map.substitution"), "denominator"))
    except ValueError as exc:
        raise _Reject(f"malformed certificate: map.substitution: {exc}") from None
    if not isinstance(key, str):
        raise _Reject("malformed certificate: base.theorem must be a string")
    claim = _sequence(_get(cert, "claim", "the certificate"), "claim")
    c = _get(cert, "cert", "the certificate")
    N0, Lin, M0, Lout = (_int_field(c, f, "cert") for f in ("N0", "Lin", "M0", "Lout"))
    sigma = _int_field(c, "sigma", "cert")
    U = _matrix_U(_get(c, "U", "cert"))
    base_l = math.lcm(base.period, len(base.signs))
    claim_l = math.lcm(claim.period, len(claim.signs))
    problems = [
        (N0 < 1, "N0 must be >= 1 (the base's complete quotients exceed 1 from y_1 on)"),
        (N0 < base.start, "N0 must be at least the base's start"),
        (M0 < claim.start, "M0 must be at least the claim's start"),
        (M0 < 0, "M0 must be >= 0"),
        (N0 + M0 > MAX_HEAD, f"N0 + M0 must be at most {MAX_HEAD}"),
        (not 1 <= Lin <= MAX_BLOCK or Lin % base_l, f"Lin must be a positive multiple of {base_l}"),
        (not 1 <= Lout <= MAX_BLOCK or Lout % claim_l, f"Lout must be a positive multiple of {claim_l}"),
        (sigma not in (1, -1), "sigma must be 1 or -1"),
    ]
    malformed = [why for bad, why in problems if bad]
    if malformed:  # reported after (a) and (b), which say more; bounded alone
        budget.charge(_compare_work(base, base) + _compare_work(claim, record))
    else:
        budget.charge(_tail_work(base, claim, record, N0, Lin, M0, Lout, U))
    if estimate_only:
        return ""

    # (a) the base is the registry's theorem for this constant, by a substitution the registry vouches for
    theorem = _base_match(constant_text, key, base, sub).theorem
    if not _relation_holds(F, sub, P, Q):
        raise _Reject(f"the map T is not the record's P/Q: F({sub.text[4:]}) != P(c)/Q(c) in Z[c]")
    if cert.get("constant", constant_text) != constant_text:  # informative copy, like lhs
        raise _Reject("the certificate's constant is not the record's")
    if "lhs" in cert:  # informative copy: it must agree with the record when present
        lhs = cert["lhs"]
        if not isinstance(lhs, dict) or [*lhs.get("numerator", ())] != [*P] or [*lhs.get("denominator", ())] != [*Q]:
            raise _Reject("the certificate's lhs is not the record's")

    # (b) the claim is the record's sequence (possibly described differently)
    if not _same_sequence(claim, record):
        raise _Reject("the certificate's claim is not the record's sequence")
    if malformed:
        raise _Reject(f"malformed certificate: {malformed[0]}")

    # (c) head identity, exact integers
    left = _int_mat_mul(F, _prefix(base, N0))
    right = _prefix(claim, M0)
    right = _int_mat_mul(right, tuple(tuple(_eval(e, 0) for e in row) for row in U))
    if left != right:
        raise _Reject("the head identity fails: F K_0...K_(N0-1) != A_0...A_(M0-1) U(0)")

    # (d) block identity, a polynomial identity in k
    if not _block_identity(_block_terms(base, N0, Lin), _block_terms(claim, M0, Lout), U, sigma):
        raise _Reject("the block identity fails: U(k) Kblock(k) != sigma Ablock(k) U(k+1) as polynomials in k")

    # (e) tail domain
    bad_k = _tail_domain(U)
    if bad_k is not None:
        raise _Reject(f"tail domain: U({bad_k}) does not map (1, inf) into (1, inf)")

    # (f) admissible claim and base
    for seq, what in ((record, "the claim"), (base, "the base")):
        why = _admissible(seq, what)
        if why is not None:
            raise _Reject(why)
    return f"proved from {theorem.name} with {sub.text}"


@lru_cache(maxsize=16384)
def _record(signs, head, period, polys) -> QuasiPolynomial:
    return QuasiPolynomial(signs, head, period, polys)


def check(certificate, constant_text: str, lhs_numerator, lhs_denominator, signs, head, period, polynomials):
    """Check a certificate for the record (constant, T = P/Q, claimed expansion): ``(ok, reason)``.

    ``lhs_numerator``/``lhs_denominator`` are integer coefficients in ascending powers of c; ``signs`` the
    sign period (+1/-1); ``head`` the terms before the closed form; ``period`` N and ``polynomials`` the P_j
    (ascending coefficients in m, ints, Fractions or their text, as in ``esma.records.Conjecture``).  A
    certificate that does not prove the record gives ``(False, reason)``; malformed record arguments raise
    ``TypeError``/``ValueError``.  See the module docstring for what is checked.  The cost of the whole check
    is estimated first (``work``): beyond ``MAX_WORK`` the answer is ``(False, "beyond the checker's bound:
    ...")``, before any identity is checked.
    """
    if not isinstance(constant_text, str):
        raise TypeError(f"Argument 'constant_text' must be a str, not {type(constant_text).__name__}")
    P = _record_poly(lhs_numerator, "lhs_numerator")
    Q = _record_poly(lhs_denominator, "lhs_denominator")
    if not any(Q):
        raise ValueError("Argument 'lhs_denominator' must be a nonzero polynomial, not 0")
    if not isinstance(signs, (list, tuple)) or not isinstance(head, (list, tuple)):
        raise TypeError("Arguments 'signs' and 'head' must be sequences of ints")
    if not isinstance(polynomials, (list, tuple)):
        raise TypeError(f"Argument 'polynomials' must be a sequence of polynomials, not {type(polynomials).__name__}")
    polys = tuple(tuple(p) if isinstance(p, (list, tuple)) else p for p in polynomials)
    try:
        record = _record(tuple(signs), tuple(head), period, polys)
    except TypeError:  # unhashable parts: build it uncached, for the error message
        record = QuasiPolynomial(tuple(signs), tuple(head), period, polys)
    try:
        # the whole check (a member's representative included) is estimated before any of it is done; a
        # certificate too malformed to estimate is rejected below, where the check finds it (bounded step by step)
        _check(certificate, constant_text, P, Q, record, _Budget(), estimate_only=True)
    except _Bound as exc:
        return False, str(exc)
    except _Reject:
        pass
    try:
        return True, _check(certificate, constant_text, P, Q, record, _Budget())
    except _Reject as exc:
        return False, str(exc)


def check_members(representative, constant_text: str, members) -> list[tuple[bool, str]]:
    """Check the member certificates of one family at once: ``representative`` is their shared (complete)
    ``representative`` object, checked once; ``members`` holds, per member, (certificate, lhs_numerator,
    lhs_denominator, signs, head, period, polynomials) as for ``check``.  Returns ``(ok, reason)`` per member,
    exactly what ``check`` would (each certificate must name the same representative object)."""
    try:
        rep = _Rep(_representative(representative, constant_text, _Budget()))
    except _Reject as exc:
        return [(False, str(exc))] * len(members)
    out = []
    # members sharing their signs and polynomials (the same objects: a search's translation class) are
    # described from one validated description; the key holds the polynomials, so their id stays theirs
    tails: dict[tuple, tuple[object, QuasiPolynomial]] = {}
    for cert, lhs_numerator, lhs_denominator, signs, head, period, polynomials in members:
        P = _record_poly(lhs_numerator, "lhs_numerator")
        Q = _record_poly(lhs_denominator, "lhs_denominator")
        key = (tuple(signs), period, id(polynomials))
        known = tails.get(key)
        if known is None or known[0] is not polynomials:
            proto = QuasiPolynomial(tuple(signs), (), period, tuple(tuple(p) for p in polynomials))
            known = tails[key] = (polynomials, proto)
        record = known[1].with_head(tuple(head))
        try:
            if not isinstance(cert, dict) or cert.get("format") != MEMBER_FORMAT:
                raise _Reject(f"unknown certificate format {cert.get('format') if isinstance(cert, dict) else cert!r}")
            if cert.get("representative") is not representative:
                raise _Reject("the certificate does not name the family's representative")
            out.append((True, _member(rep, cert, P, Q, record, _Budget())))
        except _Reject as exc:
            out.append((False, str(exc)))
    return out


def clear_caches() -> None:
    """Forget the memoised sub-checks (they are pure: this only costs time; for timings and long runs)."""
    for fn in (_shift, _residue_poly, _same_sequence, _tail_domain, _admissible_tail, _block_terms, _block_product,
               _block_identity, _parse_U, _relation_holds, _substitution, _base_match, _record, _shapes):
        fn.cache_clear()
