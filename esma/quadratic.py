"""Quadratic irrationals: exact arithmetic in Q(sqrt d), constants of degree 2, and eventually periodic
continued fractions as roots of quadratics (DESIGN sections 7 and 8).

**The field.**  A ``Surd`` is u + v sqrt(d) with u, v rational and d > 1 a squarefree integer (the zero
``v = 0`` keeps d); sums, products and quotients stay in the field, and the sign of u + v sqrt(d) is decided
exactly (compare u^2 with v^2 d), so is its floor.  No floating point anywhere.

**Constants.**  ``surd_of`` evaluates a parsed constant exactly when it lies in one field Q(sqrt d): integers,
``phi``, ``+ - * /``, integer powers, and square roots that land in the field (``sqrt(8) = 2 sqrt 2``,
``sqrt(3 + 2*sqrt(2)) = 1 + sqrt 2``); anything else (a decimal literal, ``e``, two different square roots
added ...) is ``None``.  ``minimal_polynomial`` of such a c of degree 2 is the primitive integer polynomial
A x^2 + B x + C (A > 0) with c as a root.

**Periodic continued fractions (Lagrange).**  Let the signed expansion of T(c) have, from an index k >= 1 on,
the period (b_n, a_n)_{k <= n < k+L} (a_{n+L} = a_n, b_{n+L} = b_n), and let M = [[alpha, beta], [gamma, delta]]
be the product of the matrices [[a_n, b_n], [1, 0]] over one period.  The complete quotient y = x_k satisfies
y = M(y), i.e. the quadratic gamma y^2 + (delta - alpha) y - beta = 0, and T(c) = H(y) with H the product of
the head's matrices (n < k).  Conversely, if the root y > 1 of that quadratic equals H^-1(T(c)) and the terms
are admissible (a_n >= 1 where b_n = +1, a_n >= 2 where b_n = -1, n >= 1), then every complete quotient
x_n (n >= 1) exceeds 1 and a_n is the floor (ceiling) of x_n: the ESMA expansion of T(c) is the claimed one.
``certificate`` writes this down (format ``esma-quadratic-cert/1``, checked by ``esma.checker``).

>>> c = surd_of_text("sqrt(2)")
>>> c, minimal_polynomial("sqrt(2)"), minimal_polynomial("(1 + sqrt(5))/2"), minimal_polynomial("pi")
(Surd(u=Fraction(0, 1), v=Fraction(1, 1), d=2), (-2, 0, 1), (-1, -1, 1), None)
>>> (c * c).is_rational, (c + 1).floor(), ((c + 1) / (c - 1)).sign()
(True, 2, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from esma.constants import BinOp, Call, Dec, Name, Neg, Node, Num, fold, parse
from esma.polys import poly_text
from esma.theorems import QUADRATIC_FORMAT, QuasiPolynomial

__all__ = ["Surd", "certificate", "minimal_polynomial", "periodic_part", "surd_of", "surd_of_text"]

#: Radicands are made squarefree by trial division up to this bound (a larger square factor is not found, and
#: the constant is then not recognised: it stays a constant of unknown degree, never a wrong one).
_SQUAREFREE_TRIAL = 10**5
_MAX_POWER = 256  # |k| of an integer power x**k evaluated exactly
_MAX_BISECT = 400  # halvings that separate a root from its conjugate


@dataclass(frozen=True)
class Surd:
    """u + v sqrt(d): u, v Fractions, d > 1 squarefree (an element of Q(sqrt d))."""

    u: Fraction
    v: Fraction
    d: int

    @property
    def is_rational(self) -> bool:
        return self.v == 0

    def _other(self, x) -> Surd:
        if isinstance(x, Surd):
            if x.d != self.d:
                raise ArithmeticError("elements of two different quadratic fields")
            return x
        return Surd(Fraction(x), Fraction(0), self.d)

    def __add__(self, x) -> Surd:
        x = self._other(x)
        return Surd(self.u + x.u, self.v + x.v, self.d)

    __radd__ = __add__

    def __neg__(self) -> Surd:
        return Surd(-self.u, -self.v, self.d)

    def __sub__(self, x) -> Surd:
        return self + -self._other(x)

    def __rsub__(self, x) -> Surd:
        return self._other(x) - self

    def __mul__(self, x) -> Surd:
        x = self._other(x)
        return Surd(self.u * x.u + self.v * x.v * self.d, self.u * x.v + self.v * x.u, self.d)

    __rmul__ = __mul__

    def norm(self) -> Fraction:
        """u^2 - d v^2 (zero only for zero)."""
        return self.u * self.u - self.d * self.v * self.v

    def __truediv__(self, x) -> Surd:
        x = self._other(x)
        n = x.norm()
        if n == 0:
            raise ZeroDivisionError("division by zero in Q(sqrt d)")
        # 1/(u + v sqrt d) = (u - v sqrt d)/(u^2 - d v^2)
        return self * Surd(x.u / n, -x.v / n, self.d)

    def __rtruediv__(self, x) -> Surd:
        return self._other(x) / self

    def conjugate(self) -> Surd:
        return Surd(self.u, -self.v, self.d)

    def sign(self) -> int:
        """-1, 0 or 1, exactly."""
        su, sv = (self.u > 0) - (self.u < 0), (self.v > 0) - (self.v < 0)
        if sv == 0 or su == sv:
            return su or sv
        if su == 0:
            return sv
        # opposite signs: the larger of u^2 and d v^2 decides
        return su if self.u * self.u > self.d * self.v * self.v else sv

    def floor(self) -> int:
        """floor(u + v sqrt d), exactly (integer square roots, then exact corrections)."""
        v = abs(self.v)
        r = math.isqrt(v.numerator**2 * self.d * v.denominator**2) if v else 0  # floor(|v| sqrt d) * den^2 scale
        est = self.u + Fraction(r if self.v >= 0 else -r, v.denominator**2 if v else 1)
        f = math.floor(est)
        while (self - f).sign() < 0:
            f -= 1
        while (self - (f + 1)).sign() >= 0:
            f += 1
        return f

    def compare(self, q: Fraction) -> int:
        """The sign of self - q."""
        return (self - q).sign()


def _squarefree(n: int) -> tuple[int, int] | None:
    """(s, d) with n = s^2 d, d squarefree (trial division: None when n keeps an unexplored large factor)."""
    s, d, p = 1, 1, 2
    while p * p <= n:
        if p > _SQUAREFREE_TRIAL:
            return None
        e = 0
        while n % p == 0:
            n //= p
            e += 1
        s *= p ** (e // 2)
        if e % 2:
            d *= p
        p += 1 if p == 2 else 2
    return s, d * n


def _sqrt_rational(q: Fraction) -> Fraction | Surd | None:
    """sqrt(q) for q >= 0 rational: a Fraction, or a Surd (0, s, d), or None (unrecognised)."""
    if q < 0:
        return None
    n = q.numerator * q.denominator  # sqrt(p/r) = sqrt(p r)/r
    found = _squarefree(n)
    if found is None:
        return None
    s, d = found
    if d == 1:
        return Fraction(s, q.denominator)
    return Surd(Fraction(0), Fraction(s, q.denominator), d)


def _sqrt(x: Fraction | Surd) -> Fraction | Surd | None:
    """sqrt(x) when it lies in Q or in x's field (denesting sqrt(u + v sqrt d) = a + b sqrt d), else None."""
    if not isinstance(x, Surd) or x.v == 0:
        return _sqrt_rational(x.u if isinstance(x, Surd) else x)
    if x.sign() <= 0:
        return None
    # (a + b sqrt d)^2 = a^2 + d b^2 + 2ab sqrt d: a^2 = (u +- sqrt(u^2 - d v^2))/2 must be a rational square
    root = _sqrt_rational(x.norm()) if x.norm() > 0 else None
    if not isinstance(root, Fraction):
        return None
    for a2 in ((x.u + root) / 2, (x.u - root) / 2):
        a = _sqrt_rational(a2) if a2 > 0 else None
        if isinstance(a, Fraction) and a:
            r = Surd(a, x.v / (2 * a), x.d)
            if r.sign() > 0:
                return r
    return None


def _combine(op: str, a, b):
    """a op b for Fractions and Surds (None when the two are in different fields and the result is not a
    product or quotient of pure square roots)."""
    if isinstance(a, Surd) and isinstance(b, Surd) and a.d != b.d:
        if a.v and b.v and not a.u and not b.u and op in "*/":  # r sqrt(d1) * s sqrt(d2) = r s sqrt(d1 d2)
            q = a.v * b.v if op == "*" else a.v / b.v
            root = _sqrt_rational(Fraction(a.d * b.d) if op == "*" else Fraction(a.d, b.d))
            return None if root is None else root * q
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b


def _power(x, k: int):
    if abs(k) > _MAX_POWER:
        return None
    acc, base, e = 1, x, abs(k)
    while e:
        if e & 1:
            acc = base * acc
        base, e = base * base, e >> 1
    return acc if k >= 0 else 1 / acc


def _value(node: Node):
    """A Fraction or Surd for the tree, or None."""
    if isinstance(node, Dec):
        return None  # a measured value: never an exact algebraic number
    if isinstance(node, Num):
        return Fraction(node.value)
    if isinstance(node, Name):
        return Surd(Fraction(1, 2), Fraction(1, 2), 5) if node.name == "phi" else None
    if isinstance(node, Neg):
        x = _value(node.arg)
        return None if x is None else -x
    if isinstance(node, Call):
        if node.func != "sqrt":
            return None
        x = _value(node.args[0])
        return None if x is None else _sqrt(x)
    if isinstance(node, BinOp):
        a = _value(node.left)
        if a is None:
            return None
        if node.op == "**":
            try:
                k = fold(node.right)
            except ValueError:
                return None
            if k is None or k.denominator not in (1, 2):
                return None
            if k.denominator == 2:  # x^(p/2) = sqrt(x)^p
                a = _sqrt(a)
                if a is None:
                    return None
            return _power(a, k.numerator)
        b = _value(node.right)
        if b is None:
            return None
        try:
            return _combine(node.op, a, b)
        except ZeroDivisionError:
            return None
    return None


def surd_of(node: Node) -> Surd | None:
    """The constant as an irrational element of a quadratic field, or None (not recognised as one)."""
    try:
        x = _value(node)
    except (ArithmeticError, ValueError, RecursionError):
        return None
    return x if isinstance(x, Surd) and x.v != 0 else None


@lru_cache(maxsize=256)
def surd_of_text(constant_text: str) -> Surd | None:
    """``surd_of`` of the parsed text (cached: one constant per search)."""
    try:
        return surd_of(parse(constant_text))
    except ValueError:
        return None


@lru_cache(maxsize=256)
def minimal_polynomial(constant_text: str) -> tuple[int, int, int] | None:
    """(C, B, A): the primitive A x^2 + B x + C (A > 0) with the constant as a root, for a quadratic
    irrational; None for any other constant (or one not recognised)."""
    c = surd_of_text(constant_text)
    if c is None:
        return None
    # (x - u)^2 = d v^2
    coeffs = (c.u * c.u - c.d * c.v * c.v, -2 * c.u, Fraction(1))
    den = math.lcm(*(x.denominator for x in coeffs))
    ints = [int(x * den) for x in coeffs]
    g = math.gcd(*ints)
    C, B, A = (x // g for x in ints)
    return (C, B, A)


def _poly_at(p, x: Surd) -> Surd:
    acc = Surd(Fraction(0), Fraction(0), x.d)
    for coeff in reversed(p):
        acc = acc * x + coeff
    return acc


def _mat_mul(x, y):
    return ((x[0][0] * y[0][0] + x[0][1] * y[1][0], x[0][0] * y[0][1] + x[0][1] * y[1][1]),
            (x[1][0] * y[0][0] + x[1][1] * y[1][0], x[1][0] * y[0][1] + x[1][1] * y[1][1]))


def _product(terms, signs):
    acc = ((1, 0), (0, 1))
    for a, b in zip(terms, signs, strict=True):
        acc = _mat_mul(acc, ((a, b), (1, 0)))
    return acc


def periodic_part(claim: QuasiPolynomial) -> tuple[int, int] | None:
    """(k, L): the claim is periodic with period L from index k >= 1 on (k its start, at least 1; L the lcm of
    its period and sign period), or None when its terms are not eventually periodic (a polynomial of positive
    degree)."""
    if claim.degree > 0:
        return None
    return max(claim.start, 1), math.lcm(claim.period, len(claim.signs))


def _isolate(eq: tuple[int, int, int], y: Surd) -> tuple[Fraction, Fraction] | None:
    """Rationals lo < y < hi with eq(lo) eq(hi) < 0 (so that y is the only root of eq between them)."""
    def at(t: Fraction) -> Fraction:
        return eq[0] + eq[1] * t + eq[2] * t * t

    lo = Fraction(y.floor())
    hi = lo + 1
    for _ in range(_MAX_BISECT):
        if at(lo) * at(hi) < 0:
            return lo, hi
        mid = (lo + hi) / 2
        if y.compare(mid) > 0:
            lo = mid
        else:
            hi = mid
    return None


def _fraction_text(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def certificate(constant_text: str, numerator, denominator, claim: QuasiPolynomial) -> tuple[dict | None, str]:
    """The certificate ``esma-quadratic-cert/1`` that T(c) = P(c)/Q(c) has the eventually periodic expansion
    ``claim`` (c a quadratic irrational), or (None, why not).  It is not checked here: ``esma.checker`` does.

    >>> from esma.theorems import QuasiPolynomial
    >>> cert, _ = certificate("sqrt(2)", (0, 1), (1,), QuasiPolynomial((1,), (1,), 1, ((2,),)))
    >>> cert["equation"], cert["root"], cert["head"], cert["period"]
    ([-1, -2, 1], ['2', '3'], {'terms': [1], 'signs': [1]}, {'terms': [2], 'signs': [1]})
    """
    mp = minimal_polynomial(constant_text)
    if mp is None:
        return None, f"{constant_text} is not recognised as a quadratic irrational"
    part = periodic_part(claim)
    if part is None:
        return None, "the terms are not eventually periodic"
    k, L = part
    try:
        terms = claim.terms(k + L)
    except ArithmeticError as exc:
        return None, f"the claim has non-integer terms: {exc}"
    signs = [claim.sign(n) for n in range(k + L)]
    (h11, h12), (h21, h22) = _product(terms[:k], signs[:k])
    (al, be), (ga, de) = _product(terms[k:], signs[k:])
    if ga == 0:
        return None, "the period's map has no quadratic fixed point"
    g = math.gcd(-be, de - al, ga) * (1 if ga > 0 else -1)
    eq = (-be // g, (de - al) // g, ga // g)
    c = surd_of_text(constant_text)
    assert c is not None
    try:
        t = _poly_at(numerator, c) / _poly_at(denominator, c)
        y = (h22 * t - h12) / (h11 - h21 * t)  # H^-1(T(c)): the complete quotient x_k
    except ZeroDivisionError:
        return None, "T(c) is not finite, or the head's map has a pole at it"
    if (y * y * eq[2] + y * eq[1] + eq[0]).sign() != 0:
        return None, "the value read off the period is not T(c)"
    if y.compare(Fraction(1)) <= 0:
        return None, "the complete quotient at the period's start is not above 1"
    box = _isolate(eq, y)
    if box is None:
        return None, "the root could not be isolated"
    return {
        "format": QUADRATIC_FORMAT,
        "constant": constant_text,
        "minimal_polynomial": list(mp),
        "lhs": {"numerator": list(numerator), "denominator": list(denominator)},
        "claim": claim.to_json(),
        "head": {"terms": list(terms[:k]), "signs": signs[:k]},
        "period": {"terms": list(terms[k:]), "signs": signs[k:]},
        "equation": list(eq),
        "root": [_fraction_text(box[0]), _fraction_text(box[1])],
    }, f"x_{k} is the root of {poly_text(eq, 'x')} in ({_fraction_text(box[0])}, {_fraction_text(box[1])})"
