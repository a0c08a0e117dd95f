"""The LHS space: rational transforms T(c) = P(c)/Q(c) of a constant c.

P and Q have degree at most ``d`` and integer coefficients in ``[-L, L]``; T must be non-constant.  Each
transform is kept once in canonical form (DESIGN section 1):

* *gcd-free*: a common polynomial factor of P and Q is cancelled (so ``(c^2 - 1)/(c^2 + c)`` is ``(c - 1)/c``);
* *primitive*: the gcd of all coefficients of P and Q together is 1;
* *sign-normalised*: T and -T count once (the signed continued fraction of -T is that of T with a_0 and b_0
  negated), and P/Q equals (-P)/(-Q); the leading coefficients of P and Q are made positive.

For a transcendental c this makes distinct forms distinct values; for algebraic c, values are compared as a
last resort (``distinct_values``).  Counts for c = e: d=1 and L=1, 2, 3 give 12, 112, 504 transforms;
d=2, L=2 gives 3344.

>>> len(transform_space(1, 1))
12
>>> Transform((0, 1), (-1, 1)).text
'c/(c - 1)'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from esma.polys import poly_divmod, poly_gcd, poly_text

__all__ = ["Transform", "layout", "transform_ball", "transform_space"]


def _trim(p: list[int] | tuple[int, ...]) -> list[int]:
    p = list(p)
    while p and p[-1] == 0:
        p.pop()
    return p


def _coprime(a: list[int], b: list[int]) -> bool:
    """True when the trimmed integer polynomials a and b have no common factor of positive degree.

    Their resultant (the determinant of the Sylvester matrix, computed fraction-free by Bareiss' method) is
    nonzero exactly then; this settles almost every pair without the rational Euclid of ``esma.polys.poly_gcd``.
    """
    m, n = len(a) - 1, len(b) - 1
    if m <= 0 or n <= 0:
        return True
    size = m + n
    rows = []
    for i in range(n):  # coefficients in descending powers, shifted
        rows.append([0] * i + list(reversed(a)) + [0] * (size - m - 1 - i))
    for i in range(m):
        rows.append([0] * i + list(reversed(b)) + [0] * (size - n - 1 - i))
    prev = 1
    for k in range(size - 1):
        if rows[k][k] == 0:
            swap = next((r for r in range(k + 1, size) if rows[r][k] != 0), None)
            if swap is None:
                return False
            rows[k], rows[swap] = rows[swap], rows[k]
        for i in range(k + 1, size):
            for j in range(k + 1, size):
                rows[i][j] = (rows[i][j] * rows[k][k] - rows[i][k] * rows[k][j]) // prev
        prev = rows[k][k]
    return rows[size - 1][size - 1] != 0


def _lead_sign(p: tuple[int, ...]) -> int:
    for x in reversed(p):
        if x:
            return 1 if x > 0 else -1
    return 0


def canonical(num: tuple[int, ...], den: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Canonical (numerator, denominator) of P/Q, or ``None`` when P/Q is constant or Q = 0.

    Coefficients are in ascending powers of c; both tuples are padded to the same length.

    >>> canonical((-1, 0, 1), (0, 1, 1))
    ((-1, 1), (0, 1))
    >>> canonical((2, 4), (1, 2)) is None
    True
    """
    p, q = _trim(num), _trim(den)
    if not q or not p:
        return None
    g = (1,) if _coprime(p, q) else poly_gcd(p, q)
    if len(g) > 1:
        fp, fq = poly_divmod(p, g)[0], poly_divmod(q, g)[0]
        den_l = math.lcm(*(x.denominator for x in fp + fq))
        p = _trim([int(x * den_l) for x in fp])
        q = _trim([int(x * den_l) for x in fq])
    if len(p) <= 1 and len(q) <= 1:
        return None  # constant
    c = math.gcd(*p, *q)
    p = [x // c for x in p]
    q = [x // c for x in q]
    width = max(len(p), len(q))
    tp = tuple(p + [0] * (width - len(p)))
    tq = tuple(q + [0] * (width - len(q)))
    if _lead_sign(tp) < 0:
        tp = tuple(-x for x in tp)
    if _lead_sign(tq) < 0:
        tq = tuple(-x for x in tq)
    return tp, tq


def _is_monomial(coeffs: tuple[int, ...]) -> bool:
    nz = [a for a in coeffs if a]
    return len(nz) == 1 and (abs(nz[0]) == 1 or coeffs[0] != 0)


def layout(num: tuple[int, ...], den: tuple[int, ...]) -> tuple[int, tuple[int, ...], bool, tuple[int, ...], bool]:
    """How P/Q is written by hand: ``(sign, P', P' ascending?, Q', Q' ascending?)`` with P/Q = sign P'/Q'.

    A negative leading coefficient of P (a transform negated to make its value positive) moves into a
    denominator with a negative constant term (``(c - 1)/(2 - c)``), else into an ascending numerator
    (``(1 - c)/(c + 2)``), else in front (``-(c + 1)/(c + 2)``).  ``Transform.text`` and ``esma.render`` both
    write T(c) through this, so the terminal, the pages and the stored text agree.

    >>> layout((1, -1), (-2, 1))
    (1, (-1, 1), False, (2, -1), True)
    """
    if _lead_sign(num) > 0:
        return 1, num, False, den, False
    neg_num = tuple(-x for x in num)
    if den[0] < 0:
        return 1, neg_num, False, tuple(-x for x in den), True
    if num[0] > 0:
        return 1, num, True, den, False
    return -1, neg_num, False, den, False


def _fraction_text(pt: str, num: tuple[int, ...], qt: str, den: tuple[int, ...]) -> str:
    """``pt/qt`` with parentheses where a sum needs them (none over a denominator 1)."""
    if _trim(den) == [1]:
        return pt
    pt = pt if _is_monomial(num) else f"({pt})"
    qt = qt if _is_monomial(den) else f"({qt})"
    return f"{pt}/{qt}"


@dataclass(frozen=True, order=True)
class Transform:
    """T(c) = P(c)/Q(c) with integer coefficients in ascending powers of c (canonical form expected)."""

    numerator: tuple[int, ...]
    denominator: tuple[int, ...]

    @classmethod
    def from_coefficients(cls, numerator, denominator) -> Transform:
        """Canonicalise and build; raises ``ValueError`` for a constant or undefined transform.

        >>> Transform.from_coefficients((0, -2), (2, 2)).text
        'c/(c + 1)'
        """
        can = canonical(tuple(int(x) for x in numerator), tuple(int(x) for x in denominator))
        if can is None:
            raise ValueError("Argument 'numerator/denominator' must define a non-constant transform")
        return cls(*can)

    @property
    def degree(self) -> int:
        return max(len(_trim(self.numerator)), len(_trim(self.denominator))) - 1

    @cached_property
    def text(self) -> str:
        """Text in c, parseable by ``esma.constants`` once c is substituted (``c/(c - 1)``, ``2*c + 1``).

        A numerator with a negative leading coefficient (a transform negated to make its value positive) is
        written as one writes it by hand: the sign moves into a denominator with a negative constant term
        (``(c - 1)/(2 - c)``), else into an ascending numerator (``(1 - c)/(c + 2)``), else in front.

        >>> Transform((1, -1), (-2, 1)).text, Transform((1, -1), (2, 1)).text, Transform((-1, -1), (2, 1)).text
        ('(c - 1)/(2 - c)', '(1 - c)/(c + 2)', '-(c + 1)/(c + 2)')
        """
        sign, num, num_up, den, den_up = layout(self.numerator, self.denominator)
        text = _fraction_text(poly_text(num, ascending=num_up), num, poly_text(den, ascending=den_up), den)
        return "-" + text if sign < 0 else text

    def substitute(self, expr_text: str) -> str:
        """The expression text of T(c) with the constant's text in place of c (for independent evaluation).

        >>> Transform((0, 1), (-1, 1)).substitute("e")
        '(e)/((e) - 1)'
        """
        return self.text.replace("c", f"({expr_text})")

    def key(self) -> str:
        """Stable identity: ``"num|den"`` with comma-separated coefficients."""
        return ",".join(map(str, self.numerator)) + "|" + ",".join(map(str, self.denominator))

    def evaluate(self, c):
        """T at ``c`` (anything with ring operations: an arb ball, an mpq, a Fraction)."""
        num = 0
        for a in reversed(self.numerator):
            num = num * c + a
        den = 0
        for a in reversed(self.denominator):
            den = den * c + a
        return num / den


def transform_space(
    degree: int, coeff_limit: int, progress: Callable[[int, int], None] | None = None
) -> tuple[Transform, ...]:
    """All canonical transforms with deg <= ``degree`` and coefficients in [-coeff_limit, coeff_limit].

    The order is deterministic (it defines the search's chunks): sorted by degree, then by the largest
    coefficient, then lexicographically, so small and simple transforms come first.  ``progress(done, total)``
    hears how many numerator vectors of ``total`` are laid out (a space already laid out is not laid out again).

    >>> [t.text for t in transform_space(1, 1)][:3]
    ['c', '1/c', 'c - 1']
    """
    if not isinstance(degree, int) or isinstance(degree, bool) or degree < 1:
        raise ValueError(f"Argument 'degree' must be a positive integer, not {degree!r}")
    if not isinstance(coeff_limit, int) or isinstance(coeff_limit, bool) or coeff_limit < 1:
        raise ValueError(f"Argument 'coeff_limit' must be a positive integer, not {coeff_limit!r}")
    key = (degree, coeff_limit)
    space = _SPACES.get(key)
    if space is None:
        space = _space(degree, coeff_limit, progress)
        if len(_SPACES) >= 32:  # a small cache, as lru_cache(32) was: the oldest space goes
            _SPACES.pop(next(iter(_SPACES)))
        _SPACES[key] = space
    return space


#: Laid-out spaces by (degree, coeff_limit): a space is laid out once per process (an exception, a stop asked
#: by ``progress`` included, caches nothing).
_SPACES: dict[tuple[int, int], tuple[Transform, ...]] = {}


def _space(degree: int, coeff_limit: int, progress: Callable[[int, int], None] | None) -> tuple[Transform, ...]:
    rng = range(-coeff_limit, coeff_limit + 1)
    # one representative per +-vector: P and -P give the same class after sign normalisation
    vecs = [v for v in itertools.product(rng, repeat=degree + 1) if any(v) and _lead_sign(v) > 0]
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    out: list[Transform] = []
    for i, p in enumerate(vecs):
        if progress is not None:  # numerators done of all: the time goes here for large spaces
            progress(i, len(vecs))
        for q in vecs:
            can = canonical(p, q)
            if can is None or can in seen:
                continue
            seen.add(can)
            out.append(Transform(*can))

    def order_key(t: Transform):
        height = max(abs(x) for x in t.numerator + t.denominator)
        nz = sum(1 for x in t.numerator + t.denominator if x)
        return (t.degree, height, nz, _trim(t.denominator) != [1], t.numerator[::-1], t.denominator[::-1])

    out.sort(key=order_key)
    return tuple(out)


def transform_ball(constant, transform: Transform, digits: int, cache: bool = True):
    """T(c) as an arb ball with about ``digits`` significant digits, computed afresh from the constant.

    ``constant`` is an ``esma.constants.Constant``.  Cached by (constant, transform, digits): every sign
    period of one transform shares it.  Near a pole or a zero T loses relative accuracy; the precision is then
    raised once (not for a decimal literal, which carries what it carries).
    """
    if cache:
        return _cached_transform_ball(constant, transform, digits)
    return _transform_ball(constant, transform, digits)


@lru_cache(maxsize=8192)
def _cached_transform_ball(constant, transform: Transform, digits: int):
    return _transform_ball(constant, transform, digits)


def _transform_ball(constant, transform: Transform, digits: int):
    from flint import ctx

    from esma.constants import accuracy_digits

    bits = int(digits * 3.3219280948873626) + 64
    c = constant.ball(digits + 10)
    with ctx.workprec(bits):
        t = transform.evaluate(c)
    if accuracy_digits(t) < digits and constant.max_digits is None:
        c = constant.ball(2 * digits + 40)
        with ctx.workprec(2 * bits):
            t = transform.evaluate(c)
    return t
