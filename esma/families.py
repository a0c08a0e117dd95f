"""Families: one discovery, many formulas (DESIGN section 7).

Möbius images of one constant share the tails of their continued fractions.  Two formulas of the same constant
are in one *family* when their sign/term sequences agree from some index on, up to an index shift: there are
k, k' with (b_{k+n}, a_{k+n}) = (b'_{k'+n}, a'_{k'+n}) for all n >= 0.  This is decided exactly from the closed
forms, never from a window of terms.

**Tail.**  A formula with sign period p and interlaced polynomials a(N m + j) = P_j(m) (n = N m + j >= start)
has, with the joint period P = lcm(N, p), for n = P m + r >= start

    b_n = s_{r mod p},      a_n = Q_r(m) = P_{r mod N}((P/N) m + (r - r mod N)/N).

The polynomials extend the tail to every integer index, so a tail up to shift is a bi-infinite sequence up to
shift.  Its canonical form: for each rotation r0 of the residues, translate m so that, in the first residue
class of positive degree d (leading coefficient c_d), the coefficient of m^(d-1) lies in [0, d |c_d|); of the
P candidates keep the smallest (as the tuple of signs and integer coefficients over the common denominator).
The ``key`` is its text (``"3|+2m;+1;+1"`` for e's simple continued fraction: period 3, then sign and polynomial
per residue), the same in every run, executor and database whatever the order of discovery.  A formula's
*offset* places it on the canonical tail: its index n >= start is tail index n - offset.

**Exact relation.**  With H the product of the matrices [[a_n, b_n], [1, 0]] of a formula's head (the terms
before the shared tail, so that T(c) = H(x_tail) as a Möbius map), two members satisfy T_1(c) = G(T_2(c)) with
G = H_1 adj(H_2), det G = ±1.  The identity

    P_1 (g21 P_2 + g22 Q_2) = Q_1 (g11 P_2 + g12 Q_2)      in Z[c]

is checked exactly; when it holds, the member follows from the representative with no numerical work, and the
digits the representative's approval implies through G are ``derived_digits``.  When it fails (possible only for
an algebraic c), the two are not one family.

**Algebraic c.**  For a quadratic irrational c (``modulus`` its minimal polynomial) the identity is checked
modulo the minimal polynomial: the difference of its two sides must be divisible by it, since an integer
polynomial vanishes at c exactly when c's minimal polynomial divides it.  Every expansion of such a c is
eventually periodic, and every two members of a tail class are then related (the families are the tail classes).

**Representative.**  The most natural member, as a reader would name it (``simplicity``): T(c) = c itself,
then the fewest nonzero coefficients, the smallest LHS height, degree, the shortest pre-period, a positive
a_0, the canonical LHS text, and the signs.  **Gain**: digits per term over those of the simple continued
fraction of the same number.

Formulas whose terms are not interlaced polynomials (kinds ``exponential`` and ``other``) have no canonical
tail here: each is a family of its own (key ``"x|"`` + its own key) and is approved on its own.

>>> from fractions import Fraction as F
>>> tail, offset = tail_of((1,), 1, 3, ((F(1),), (F(1),), (F(2), F(2))))   # e = [2; 1, 2, 1, 1, 4, ...]
>>> tail.key, offset
('3|+2m;+1;+1', -1)
>>> [tail.term(n - offset) for n in range(1, 10)]
[1, 2, 1, 1, 4, 1, 1, 6, 1]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache

from esma.polys import moebius_identity, poly_add, poly_mul, poly_scale, poly_text, poly_trim

__all__ = [
    "KnownTail",
    "Placement",
    "Tail",
    "TailIndex",
    "derived_digits",
    "forget_polynomials",
    "head_matrix",
    "identity_holds",
    "lhs_height",
    "placement",
    "relation",
    "simplicity",
    "tail_from_key",
    "tail_of",
]

Poly = tuple[Fraction, ...]
Matrix = tuple[int, int, int, int]  # (g11, g12, g21, g22)


def _trim(p: Sequence[Fraction]) -> Poly:
    return tuple(x if type(x) is Fraction else Fraction(x) for x in poly_trim(p))


def _itrim(p: Sequence[int]) -> tuple[int, ...]:
    n = len(p)
    while n > 1 and p[n - 1] == 0:
        n -= 1
    return tuple(p[:n]) if n else (0,)


def _icompose(p: Sequence[int], alpha: int, beta: int) -> tuple[int, ...]:
    """p(alpha m + beta) for an integer polynomial, by Horner's rule on coefficient lists."""
    out = [0]
    for c in reversed(p):
        # out <- out * (alpha m + beta) + c
        nxt = [0] * (len(out) + 1)
        for k, v in enumerate(out):
            if v:
                nxt[k] += v * beta
                nxt[k + 1] += v * alpha
        nxt[0] += c
        out = nxt
    return _itrim(out)


@dataclass(frozen=True)
class Tail:
    """A canonical eventual (sign, term) sequence: index i = period m + r has sign ``signs[r]`` and term
    ``polys[r](m)`` (ascending coefficients in m), for every integer i."""

    period: int
    signs: tuple[int, ...]
    polys: tuple[Poly, ...]

    @cached_property
    def key(self) -> str:
        """Canonical text: the period, then ``sign polynomial`` per residue, separated by ``;``."""
        return _key_text(self.period, self.signs, self.polys)

    @cached_property
    def _integer_polys(self) -> tuple[int, tuple[tuple[int, ...], ...]]:
        den = math.lcm(*(c.denominator for p in self.polys for c in p))
        return den, tuple(tuple(int(c * den) for c in p) for p in self.polys)

    def term(self, i: int) -> int:
        """a at tail index i (any integer)."""
        m, r = divmod(i, self.period)
        den, polys = self._integer_polys
        v = 0
        for c in reversed(polys[r]):
            v = v * m + c
        q, rem = divmod(v, den)
        if rem:
            raise ArithmeticError(f"tail term at index {i} is not an integer")
        return q

    def sign(self, i: int) -> int:
        return self.signs[i % self.period]

    @classmethod
    def from_key(cls, key: str) -> Tail:
        """Inverse of ``key`` (for tests and for catalogs that store only the key).

        >>> [Tail.from_key("3|+1;+1;+2m").term(i) for i in range(3, 9)]
        [1, 1, 2, 1, 1, 4]
        """
        head, _, body = key.partition("|")
        period = int(head)
        signs, polys = [], []
        for part in body.split(";"):
            signs.append(1 if part[0] == "+" else -1)
            polys.append(_parse_plain(part[1:]))
        if len(signs) != period:
            raise ValueError(f"Argument 'key' must describe {period} residues, not {len(signs)}")
        return cls(period, tuple(signs), tuple(polys))


def _key_text(period: int, signs: tuple[int, ...], polys: tuple[Poly, ...]) -> str:
    return f"{period}|" + ";".join(("+" if s > 0 else "-") + poly_text(p, "m", "plain") for s, p in zip(
        signs, polys, strict=True))


def _parse_plain(text: str) -> Poly:
    """Inverse of ``poly_text(..., "m", "plain")`` (``(m^2 + m)/2``, ``-2m + 3``)."""
    text = text.strip()
    den = 1
    if text.startswith("(") and ")/" in text:
        body, _, d = text.rpartition(")/")
        text, den = body[1:], int(d)
    coeffs: dict[int, int] = {}
    for tok in text.replace("- ", "-").replace("+ ", "+").split():
        sign = -1 if tok.startswith("-") else 1
        tok = tok.lstrip("+-")
        if "m" in tok:
            mag, _, power = tok.partition("m")
            e = int(power[1:]) if power.startswith("^") else 1
            c = int(mag) if mag else 1
        else:
            e, c = 0, int(tok)
        coeffs[e] = coeffs.get(e, 0) + sign * c
    size = max(coeffs, default=0) + 1
    return _trim([Fraction(coeffs.get(e, 0), den) for e in range(size)])


def _normal_translation(polys: Sequence[tuple[int, ...]]) -> int:
    """The t that puts the first residue of positive degree d in normal form (m^(d-1) coefficient in [0, d|c_d|))."""
    for p in polys:
        d = len(p) - 1
        if d >= 1:
            u, c = d * p[d], p[d - 1]
            return -(c // u) if u > 0 else c // -u
    return 0


@lru_cache(maxsize=16384)
def _canonical(period: int, signs: tuple[int, ...], polys: tuple[tuple[int, ...], ...], den: int) -> tuple[Tail, int]:
    """Canonical rotation and translation of integer polynomials (over the common denominator ``den``).

    Of the ``period`` rotations r0, each translated to normal form (``_normal_translation``), the one whose
    (sign, polynomial) sequence is lexicographically smallest; ties keep the first r0.  Candidates are compared
    lazily, residue by residue, so a joint period of a thousand costs about a thousand compositions, not a
    million (the sequences of two rotations almost always differ at their first residues).
    """
    nonconstant = [r for r in range(period) if len(polys[r]) > 1]

    def translation(r0: int) -> int:
        if not nonconstant:
            return 0
        k = next((r for r in nonconstant if r >= r0), nonconstant[0] + period) - r0
        r = r0 + k
        return _normal_translation([_icompose(polys[r % period], 1, r // period)])

    def element(r0: int, t: int, k: int) -> tuple[int, tuple[int, ...]]:
        r = r0 + k
        q = polys[r % period]
        shift = r // period + t
        return signs[r % period], (_icompose(q, 1, shift) if shift and len(q) > 1 else q)

    best, best_t = 0, translation(0)
    best_cache: list[tuple[int, tuple[int, ...]]] = []
    for r0 in range(1, period):
        t = translation(r0)
        for k in range(period):
            if k == len(best_cache):
                best_cache.append(element(best, best_t, k))
            mine = element(r0, t, k)
            if mine != best_cache[k]:
                if mine < best_cache[k]:
                    best, best_t, best_cache = r0, t, [*best_cache[:k], mine]
                break
    pairs = [element(best, best_t, k) for k in range(period)]
    tail = Tail(period, tuple(sg for sg, _ in pairs), tuple(_trim([Fraction(c, den) for c in q]) for _, q in pairs))
    return tail, best + period * best_t


def tail_of(
    signs: Sequence[int], start: int, period: int, polynomials: Sequence[Sequence[Fraction]]
) -> tuple[Tail, int]:
    """The canonical tail of a formula and its offset (formula index n >= start is tail index n - offset).

    ``signs``: the sign period; ``polynomials[j]``: P_j with a(period m + j) = P_j(m) for n >= ``start``.
    Exact integer arithmetic over the polynomials' common denominator.
    """
    if period < 1 or len(polynomials) != period:
        raise ValueError(f"Argument 'polynomials' must hold {period} polynomials, not {len(polynomials)}")
    del start  # the tail does not depend on where the formula enters it
    return _tail_of(_primitive(tuple(1 if x > 0 else -1 for x in signs)), period,
                    tuple(tuple(Fraction(c) for c in p) for p in polynomials))


def _primitive(signs: tuple[int, ...]) -> tuple[int, ...]:
    """The shortest period of a sign period (``+++`` is ``+``, ``+-+-`` is ``+-``): searches whose period ranges
    start above 1 enumerate such tuples, and a tail must not depend on how its signs were written."""
    p = len(signs)
    for d in range(1, p):
        if p % d == 0 and signs == signs[:d] * (p // d):
            return signs[:d]
    return signs


@lru_cache(maxsize=16384)
def tail_from_key(key: str) -> Tail:
    """``Tail.from_key``, cached (every member of a family shares its tail)."""
    return Tail.from_key(key)


@lru_cache(maxsize=16384)
def _tail_of(signs: tuple[int, ...], period: int, polynomials: tuple[Poly, ...]) -> tuple[Tail, int]:
    p = len(signs)
    joint = math.lcm(period, p)
    q = joint // period
    den = math.lcm(*(c.denominator for poly in polynomials for c in poly))
    ints = [_itrim([int(c * den) for c in poly]) for poly in polynomials]
    polys = tuple(_icompose(ints[r % period], q, (r - r % period) // period) for r in range(joint))
    sg = tuple(signs[r % p] for r in range(joint))
    return _canonical(joint, sg, polys, den)


@dataclass(frozen=True)
class Placement:
    """Where a formula sits in its family: the family ``key``, and for a canonical ``tail`` (``None`` for the
    kinds without interlaced polynomials) the ``offset`` and the first index ``start`` of the tail regime."""

    key: str
    tail: Tail | None
    offset: int
    start: int


def placement(
    signs: Sequence[int],
    start: int,
    period: int,
    polynomials: Sequence[Sequence[Fraction]],
    own_key: str,
) -> Placement:
    """The placement of a formula from its closed form; ``own_key`` names a formula that has no canonical tail."""
    if not polynomials:
        return Placement("x|" + own_key, None, 0, start)
    tail, offset = tail_of(signs, start, period, polynomials)
    return Placement(tail.key, tail, offset, start)


def _mat_mul(x: Matrix, y: Matrix) -> Matrix:
    a, b, c, d = x
    e, f, g, h = y
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def head_matrix(head: Sequence[int], place: Placement, signs: Sequence[int], k: int) -> Matrix:
    """The product of [[a_n, b_n], [1, 0]] for n < k: T(c) = H(x_k) as a Möbius map (x_k the tail from k).

    Terms before ``place.start`` come from ``head``, the others from the tail.

    >>> from fractions import Fraction as F
    >>> pl = placement((1,), 1, 3, ((F(1),), (F(1),), (F(2), F(2))), "")
    >>> head_matrix((2,), pl, (1,), 3)     # [2; 1, 2] = 8/3, from the matrices [[8, 3], [3, 1]]
    (8, 3, 3, 1)
    """
    p = len(signs)
    m: Matrix = (1, 0, 0, 1)
    for n in range(k):
        a = head[n] if n < place.start else place.tail.term(n - place.offset)  # type: ignore[union-attr]
        m = _mat_mul(m, (a, signs[n % p], 1, 0))
    return m


def relation(
    member: tuple[Sequence[int], Placement, Sequence[int]],
    rep: tuple[Sequence[int], Placement, Sequence[int]],
) -> tuple[Matrix, int, int]:
    """(G, k_member, k_rep): G = H_member adj(H_rep) with H the products of the first k_member (k_rep) matrices,
    the heads before the shared tail (same family key required), sign-normalised so that (g21, g22) > (0, 0)
    lexicographically; T_member(c) = G(T_rep(c)) when the identity in Z[c] holds.

    Each argument is (terms, placement, signs), the terms covering the head.  The identity relation is
    (1, 0, 0, 1).
    """
    (h1, p1, s1), (h2, p2, s2) = member, rep
    if p1.key != p2.key or p1.tail is None:
        raise ValueError("Arguments 'member' and 'rep' must share a canonical tail")
    i0 = max(p1.start - p1.offset, p2.start - p2.offset)
    k1, k2 = i0 + p1.offset, i0 + p2.offset
    if all(len(p) == 1 for p in p1.tail.polys):
        k1, k2 = _shortest_heads(p1, p2, k1 - k2)
    a, b, c, d = head_matrix(h2, p2, s2, k2)
    g = _mat_mul(head_matrix(h1, p1, s1, k1), (d, -b, -c, a))
    if g[2] < 0 or (g[2] == 0 and g[3] < 0):
        g = (-g[0], -g[1], -g[2], -g[3])
    return g, k1, k2


def _shortest_heads(p1: Placement, p2: Placement, shift: int) -> tuple[int, int]:
    """(k1, k2), both in their formula's tail regime, with k1 - k2 = ``shift`` modulo the period P of a
    periodic tail, and k1 + k2 least: index k1 of the member and k2 of the representative are then one tail
    index up to a multiple of P, which a periodic tail does not see.  (Where the placements put them, possibly
    hundreds of terms on, G = H_1 adj(H_2) is also a true relation, T_1 = G(T_2) as values, since the period's
    map fixes the tail's value; but its entries are huge, so the digits derived through it are few.)"""
    P = p1.tail.period  # type: ignore[union-attr]
    best = None
    for k2 in range(p2.start, p2.start + P):
        k1 = p1.start + (k2 + shift - p1.start) % P
        if best is None or k1 + k2 < sum(best):
            best = (k1, k2)
    assert best is not None
    return best


def identity_holds(
    member: tuple[Sequence[int], Sequence[int]],
    rep: tuple[Sequence[int], Sequence[int]],
    g: Matrix,
    modulus: Sequence[int] | None = None,
) -> bool:
    """P_1 (g21 P_2 + g22 Q_2) == Q_1 (g11 P_2 + g12 Q_2) in Z[c], i.e. T_1 = G o T_2 as rational functions.

    ``member`` and ``rep`` are (numerator, denominator) coefficient tuples, ascending powers of c.  With
    ``modulus`` (the minimal polynomial of an algebraic c, ascending integer coefficients) the identity is
    checked modulo it, i.e. as values at c: the difference of the two sides is divisible by the minimal
    polynomial, and g21 P_2 + g22 Q_2 is not (G(T_2(c)) is finite).

    >>> identity_holds(((1, 1), (1,)), ((0, 1), (1,)), (1, 1, 0, 1))    # c + 1 = G(c) with G(x) = x + 1
    True
    >>> identity_holds(((1, 1), (1,)), ((0, 1), (1,)), (1, 2, 0, 1))
    False
    >>> identity_holds(((0, 2), (1,)), ((0, 0, 1), (0, 1)), (2, 0, 0, 1))   # c^2/c = c, also in Z[c]
    True
    >>> identity_holds(((2,), (0, 1)), ((0, 1), (1,)), (1, 0, 0, 1), (-2, 0, 1))   # 2/c = c for c = sqrt(2)
    True
    >>> identity_holds(((2,), (0, 1)), ((0, 1), (1,)), (1, 0, 0, 1))
    False
    """
    (p1, q1), (p2, q2) = member, rep
    if modulus is None:
        return moebius_identity(p1, q1, p2, q2, g)
    g11, g12, g21, g22 = g
    num = poly_add(poly_scale(p2, g11), poly_scale(q2, g12))
    den = poly_add(poly_scale(p2, g21), poly_scale(q2, g22))
    diff = poly_add(poly_mul(p1, den), poly_scale(poly_mul(q1, num), -1))
    return _divides(modulus, diff) and not _divides(modulus, den)


def _divides(m: Sequence[int], p: Sequence[int]) -> bool:
    """m divides p in Q[c] (integer m of degree >= 1): the pseudo-remainder, in integers, vanishes."""
    m, r = _itrim(tuple(m)), list(_itrim(tuple(p)))
    d, lead = len(m) - 1, m[-1]
    while len(r) - 1 >= d and any(r):
        top, shift = r[-1], len(r) - 1 - d
        r = [lead * x for x in r]
        for i, c in enumerate(m):
            r[shift + i] -= top * c
        r.pop()  # its leading coefficient is now zero
        while len(r) > 1 and r[-1] == 0:
            r.pop()
    return not any(r)


def derived_digits(rep_value, g: Matrix, digits: int) -> int:
    """Significant digits to which G(x) agrees with G(y) = T_member(c), given that x agrees with y = T_rep(c) to
    ``digits`` significant digits (|x - y| <= 10^-digits |y|).  ``rep_value`` is an arb ball of y.

    With det G = ±1, |G(x) - G(y)| / |G(y)| = |x - y| / (|g21 x + g22| |g11 y + g12|) <= 10^-digits A with
    A = |y| / ((|g21 y + g22| - |g21| 10^-digits |y|) |g11 y + g12|); the result is floor(digits - log10 A),
    certified with ball arithmetic, capped at ``digits``, and 0 when A cannot be bounded (a pole or a zero).

    >>> from flint import arb
    >>> derived_digits(arb(2.5), (1, 0, 0, 1), 1000), derived_digits(arb(2.5), (1, 7, 0, 1), 1000)
    (1000, 1000)
    >>> derived_digits(arb(2.5), (1, -2, 0, 1), 1000)      # y - 2: relative error grows by y/(y - 2) = 5
    999
    """
    from flint import arb, ctx

    g11, g12, g21, g22 = g
    if g21 == 0 and abs(g22) == 1 and abs(g11) == 1 and g12 == 0:
        return digits  # G(x) = ±x: relative errors are unchanged
    with ctx.workprec(128):
        y = rep_value
        eps = arb(10) ** (-min(digits, 10**6))
        den = abs(g21 * y + g22) - abs(g21) * eps * abs(y)
        num_lo = abs(g11 * y + g12)
        if not (den > 0 and num_lo > 0):
            return 0
        bound = abs(y) / (den * num_lo)
        upper = bound.upper()
        if not upper.is_finite() or not upper > 0:
            return 0
        loss = (upper.log() / arb(10).log()).upper()
        # float() rounds to nearest: step back a hair so that rounding can never round a bound up
        v = math.floor(float((arb(digits) - loss).lower()) - 1e-9)
    return max(0, min(digits, v))


def lhs_height(numerator: Sequence[int], denominator: Sequence[int]) -> int:
    """max |coefficient| of P and Q."""
    return max(abs(x) for x in (*numerator, *denominator))


def _degree(numerator: Sequence[int], denominator: Sequence[int]) -> int:
    def deg(p: Sequence[int]) -> int:
        d = len(p) - 1
        while d > 0 and p[d] == 0:
            d -= 1
        return d

    return max(deg(numerator), deg(denominator))


def _is_identity(numerator: Sequence[int], denominator: Sequence[int]) -> bool:
    """T(c) = c: P = q c and Q = q for some q != 0."""
    p, q = _itrim(tuple(numerator)), _itrim(tuple(denominator))
    return len(p) == 2 and p[0] == 0 and len(q) == 1 and p[1] == q[0] != 0


def simplicity(
    numerator: Sequence[int], denominator: Sequence[int], preperiod: int, lhs: str, signs_text: str, *, a0: int
) -> tuple[int, int, int, int, int, int, str, str]:
    """The order that picks a family's representative, the most natural member first (DESIGN 7): T(c) = c
    itself, then the fewest nonzero coefficients of P and Q, the smallest LHS height, degree, the shortest
    pre-period, a positive a_0 (``a0``, the formula's first term), the canonical LHS text, and the signs.

    >>> e = simplicity((0, 1), (1,), 1, "c", "+", a0=2)                 # e = [2; 1, 2, 1, 1, 4, ...]
    >>> e_minus_1 = simplicity((-1, 1), (1,), 0, "c - 1", "+", a0=1)    # e - 1 = [1; 1, 2, 1, 1, 4, ...]
    >>> inverse = simplicity((1,), (-1, 1), 0, "1/(c - 1)", "+", a0=0)  # 1/(e - 1) = [0; 1, 1, 2, 1, 1, 4, ...]
    >>> e < e_minus_1 < inverse
    True
    >>> simplicity((0, 1), (1,), 1, "c", "+", a0=2) < simplicity((0, 1), (1,), 1, "c", "+-", a0=3)
    True
    """
    nonzero = sum(1 for x in (*numerator, *denominator) if x)
    return (0 if _is_identity(numerator, denominator) else 1, nonzero, lhs_height(numerator, denominator),
            _degree(numerator, denominator), preperiod, 0 if a0 > 0 else 1, lhs, signs_text)


@dataclass(frozen=True)
class KnownTail:
    """A canonical tail with what a formula entering it needs (from the first formula of the family seen):
    its minimal recurrence ``recurrence`` (shift-invariant), the quasi-period ``period`` N of its terms, their
    polynomials in canonical indexing as integer numerators over ``den`` (canonical a(N m + j) = A_j(m) / den),
    and the ``kind`` of closed form."""

    tail: Tail
    recurrence: tuple[int, ...]
    period: int
    polys: tuple[tuple[int, ...], ...]
    den: int
    kind: str

    @classmethod
    def of(cls, tail: Tail, offset: int, recurrence: Sequence[int], period: int,
           polynomials: Sequence[Sequence[Fraction]], kind: str) -> KnownTail:
        """From one formula of the family: its offset, recurrence and closed form a(N m + j) = P_j(m)."""
        den = math.lcm(*(Fraction(c).denominator for p in polynomials for c in p))
        ints = [_itrim([int(Fraction(c) * den) for c in p]) for p in polynomials]
        canonical = []
        for j in range(period):  # canonical index i = N m + j is the formula's n = i + offset
            q, r = divmod(j + offset, period)
            canonical.append(_icompose(ints[r], 1, q))
        return cls(tail, tuple(recurrence), period, tuple(canonical), den, kind)

    def polynomials_at(self, offset: int) -> tuple[tuple[Fraction, ...], ...]:
        """P_j with a(N m + j) = P_j(m) for a formula whose index n is tail index n - ``offset``."""
        return _polynomials_at(self, offset)


@lru_cache(maxsize=4096)
def _polynomials_at(known: KnownTail, offset: int) -> tuple[tuple[Fraction, ...], ...]:
    N = known.period
    return tuple(_interned_poly(_icompose(known.polys[(j - offset) % N], 1, (j - offset) // N), known.den)
                 for j in range(N))


#: One object per distinct polynomial (ascending integer numerators over a denominator) that the scan hands to its
#: hits: a search keeps tens of thousands of hits whose polynomials are shifts of a few thousand tails', and the
#: same P(m) recurs in many of them, so sharing is most of their memory (bounded: cleared at a million).
_POLYS: dict[tuple[tuple[int, ...], int], tuple[Fraction, ...]] = {}


def forget_polynomials() -> None:
    """Forget the interned polynomials (those hits still hold stay alive with them)."""
    _POLYS.clear()
    _polynomials_at.cache_clear()


def _interned_poly(ints: tuple[int, ...], den: int) -> tuple[Fraction, ...]:
    key = (ints, den)
    poly = _POLYS.get(key)
    if poly is None:
        if len(_POLYS) >= 1_000_000:
            _POLYS.clear()
        poly = _POLYS[key] = _trim([Fraction(c, den) for c in ints])
    return poly


class TailIndex:
    """The tails met so far by one worker, indexed by windows of their terms, so that a hit whose tail is known
    gets its closed form without Berlekamp–Massey (a family has tens of members; most hits are not the first).

    A hit is matched by the signs and terms of a window near the end of its certified terms; the match is then
    verified term by term over the whole tail regime (from the first index where the terms follow the tail to
    the last certified term).  The answer is exactly the one of the full computation (the caller also checks
    that the complexity found by the scan is start + order, as Berlekamp–Massey would give).  Windows are
    indexed around where the first hit of each tail had its own, ``reach`` positions either way.
    """

    WINDOW = 12

    def __init__(self, reach: int = 32, span: int = 160, max_tails: int = 50_000) -> None:
        self.reach = reach
        self.span = span
        self.max_tails = max_tails
        self._windows: dict[int, list[tuple[str, int]]] = {}
        self._tails: dict[str, tuple[KnownTail, int, list[int], list[int]]] = {}

    def __len__(self) -> int:
        return len(self._tails)

    def __contains__(self, key: str) -> bool:
        """Whether the tail of canonical key ``key`` is known."""
        return key in self._tails

    @staticmethod
    def lesson(known: KnownTail, position: int) -> tuple:
        """``add``'s arguments as plain data (the tail by its key), for another process's index: ``learn``."""
        return (known.tail.key, known.recurrence, known.period, known.polys, known.den, known.kind, position)

    def learn(self, lesson: tuple) -> None:
        """``add`` the tail of a ``lesson`` unless it is known (the tail is parsed from its key only then)."""
        key, recurrence, period, polys, den, kind, position = lesson
        if key not in self._tails:
            self.add(KnownTail(tail_from_key(key), recurrence, period, polys, den, kind), position)

    @staticmethod
    def _key(signs: Sequence[int], terms: Sequence[int]) -> int:
        return hash((tuple(signs), tuple(terms)))

    def add(self, known: KnownTail, position: int) -> None:
        """Index ``known`` around tail index ``position`` (where the window of the hit that found it was).

        The tail's signs and terms are tabulated once from ``position - span`` on, so that matching compares
        lists rather than evaluating polynomials."""
        key = known.tail.key
        if key in self._tails or len(self._tails) >= self.max_tails:
            return
        t, w = known.tail, self.WINDOW
        lo = position - self.span
        hi = position + self.reach + w
        terms = [t.term(i) for i in range(lo, hi)]
        signs = [t.sign(i) for i in range(lo, hi)]
        self._tails[key] = [known, lo, terms, signs]
        for i in range(position - self.reach, position + self.reach + 1):
            h = self._key(signs[i - lo : i - lo + w], terms[i - lo : i - lo + w])
            self._windows.setdefault(h, []).append((key, i))

    def match(self, terms: Sequence[int], signs: Sequence[int]) -> tuple[KnownTail, int, int] | None:
        """(known tail, offset, start) when ``terms`` (under sign period ``signs``) follow a known tail from
        index ``start`` to their end, else None."""
        w = self.WINDOW
        n0 = len(terms) - w
        if n0 < 1:
            return None
        p = len(signs)
        h = self._key([signs[(n0 + k) % p] for k in range(w)], terms[n0:])
        for key, i in self._windows.get(h, ()):
            entry = self._tails[key]
            known, lo, values = entry[0], entry[1], entry[2]
            t, offset = known.tail, n0 - i
            if any(t.sign(n - offset) != signs[n % p] for n in range(n0, n0 + t.period * p)):
                continue
            # tail index n - offset is values[n - offset - lo]
            d = offset + lo
            if tuple(terms[n0:]) != tuple(values[n0 - d : n0 - d + w]):
                continue
            start = n0
            while start > 0:  # back along the tail, a block of terms at a time (long deep-search sequences)
                k = min(start, 32)
                if start - k - d < 0:  # formula index n is tail index n - offset, table index n - d
                    self._grow(entry, start - k - offset - 64)
                    lo, values = entry[1], entry[2]
                    d = offset + lo
                if list(terms[start - k : start]) == values[start - k - d : start - d]:
                    start -= k
                    continue
                while start > 0 and values[start - 1 - d] == terms[start - 1]:
                    start -= 1
                break
            return known, offset, start
        return None

    @staticmethod
    def _grow(entry: list, new_lo: int) -> None:
        """Tabulate the tail of ``entry`` down to tail index ``new_lo`` (once; later matches reuse it)."""
        known, lo = entry[0], entry[1]
        if new_lo >= lo:
            return
        t = known.tail
        entry[2] = [t.term(i) for i in range(new_lo, lo)] + entry[2]
        entry[3] = [t.sign(i) for i in range(new_lo, lo)] + entry[3]
        entry[1] = new_lo
