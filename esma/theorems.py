"""The registry of theorems: constants whose signed continued fraction is known exactly (DESIGN section 8).

A signed continued fraction x = a_0 + b_0/(a_1 + b_1/(a_2 + ...)) with b_n = signs[n mod p] is described
exactly by a *quasi-polynomial* (``QuasiPolynomial``): a head a_0, ..., a_{s-1} and N polynomials with
a(N m + j) = P_j(m) for every n = N m + j >= s.  Each registry entry (``Theorem``) is such a description
of the ESMA expansion of a base constant, with the theorem that proves it:

==============================  =============================================================  ===========
base x                          expansion                                                      theorem
==============================  =============================================================  ===========
e                               [2; 1, 2, 1, 1, 4, 1, 1, 6, ...]: a(3m+2) = 2m + 2             Euler
e^(1/k), k >= 2                 [1; k-1, 1, 1, 3k-1, 1, 1, 5k-1, ...]                          Euler
e^2                             [7; 2, 1, 1, 3, 18, 5, 1, 1, 6, 30, ...]                       Euler, Hurwitz
e^(2/k), k >= 3 odd             [1; (k-1)/2, 6k, (5k-1)/2, 1, 1, (7k-1)/2, 18k, ...]           Hurwitz
tan 1                           [1; 1, 1, 3, 1, 5, 1, 7, ...]                                  Lambert
tan(1/k), k >= 2                [0; k-1, 1, 3k-2, 1, 5k-2, 1, ...]                             Lambert
tanh(1/k), k >= 1               [0; k, 3k, 5k, ...]                                            Lambert
I_{A/D-1}(2/D)/I_{A/D}(2/D)     [A; A+D, A+2D, ...]                                            Lehmer
J_{A/D-1}(2/D)/J_{A/D}(2/D)     A - 1/(A+D - 1/(A+2D - ...)) (all signs -)                     Lommel
==============================  =============================================================  ===========

(k, A, D positive integers.)  Every base is transcendental (Lindemann for e^r, tan r, tanh r with r rational
and nonzero; Siegel for the Bessel ratios), so no nonzero integer polynomial vanishes at it: an identity of
rational functions is an identity of values.

A constant matches an entry by its *parsed expression*, never by its value (``match``): ``e``, ``exp(1)``,
``e**1``, ``sqrt(e)``, ``exp(2/3)``, ``tan(1/4)``, ``coth(1)``, ``besseli(1, 2)/besseli(0, 2)`` ... A match
carries a substitution x = S(c) (``Substitution``) from the constant c to the base x: x = c, a Möbius map of c
(``coth(1)`` is c = 1/x with x = tanh 1; ``e - 1`` is x = c + 1), or a quadratic that the registry vouches for
(x = c^2 for c = e^(1/k), double angles for tan and tanh).  A decimal literal never matches.

>>> [(m.theorem.key, m.substitution.text) for m in match("coth(1)")]
[('tanh(1)', 'x = 1/c'), ('exp(2)', 'x = (c + 1)/(c - 1)')]
>>> e = match("exp(1)")[0].theorem
>>> e.key, e.sequence.terms(9)
('e', (2, 1, 2, 1, 1, 4, 1, 1, 6))

Polynomials travel as text (``esma.polys.poly_text`` in the python style, read back by ``parse_poly``) in the
certificate format ``esma-tail-cert/1`` (``esma.checker`` documents it); the parser is strict and never evaluates
its input.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from esma.constants import BinOp, Call, Dec, Name, Neg, Node, fold, parse, to_text
from esma.polys import poly_add, poly_degree, poly_divmod, poly_gcd, poly_mul, poly_scale, poly_text, poly_trim

__all__ = [
    "FORMAT",
    "MEMBER_FORMAT",
    "QUADRATIC_FORMAT",
    "Match",
    "QuasiPolynomial",
    "Substitution",
    "Theorem",
    "bessel_i",
    "bessel_j",
    "e_power",
    "has_decimal",
    "match",
    "parse_poly",
    "registry",
    "tan_entry",
    "tanh_entry",
]

FORMAT = "esma-tail-cert/1"
#: Certificates of family members: the representative's tail certificate and the exact relation (DESIGN 7, 8).
MEMBER_FORMAT = "esma-member-cert/1"
#: Certificates of eventually periodic formulas of a quadratic irrational (Lagrange; DESIGN 8).
QUADRATIC_FORMAT = "esma-quadratic-cert/1"
MAX_POLY_DEGREE = 64  # a certificate's polynomial of higher degree is refused (bounded work for the checker)
MAX_POLY_TEXT = 10_000

# ------------------------------------------------------------------------------------------ polynomial text


_TERM = re.compile(
    r"\s*(?P<sign>[+-])?\s*(?:(?P<num>\d+)(?:\s*/\s*(?P<den>\d+))?)?\s*(?P<mul>\*)?\s*"
    r"(?P<var>[A-Za-z_]\w*)?(?:\s*(?:\^|\*\*)\s*(?P<exp>\d+))?\s*"
)


_OVER = re.compile(r"\s*\((?P<body>[^()]*)\)\s*/\s*(?P<den>\d+)\s*")


@lru_cache(maxsize=65536)
def parse_poly(text: str, var: str = "m") -> tuple[Fraction, ...]:
    """Ascending coefficients of a polynomial written as ``esma.polys.poly_text`` writes it in the ``python``
    style (``ValueError`` otherwise).

    Accepts ``c*m**e`` terms (``c`` an integer or ``p/q``, ``*`` optional, ``^`` for ``**``) joined by
    ``+``/``-``, the whole optionally over a common denominator, ``(...)/d``.

    >>> parse_poly("4*m + 2"), parse_poly("(-3*k**2 + 1)/2", "k") == parse_poly("-3/2*k^2 + 1/2", "k")
    ((Fraction(2, 1), Fraction(4, 1)), True)
    """
    if not isinstance(text, str):
        raise TypeError(f"Argument 'text' must be a str, not {type(text).__name__}")
    if not text.strip() or len(text) > MAX_POLY_TEXT:
        raise ValueError(f"Argument 'text' must be a polynomial in {var}, not {text[:60]!r}")
    over = _OVER.fullmatch(text)
    if over is not None:
        den = int(over.group("den"))
        if den == 0:
            raise ValueError(f"Argument 'text' must be a polynomial in {var}, not {text[:60]!r}")
        return tuple(c / den for c in parse_poly(over.group("body"), var))
    coeffs: dict[int, Fraction] = {}
    pos, first = 0, True
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"Argument 'text' must be a polynomial in {var}, not {text[:60]!r}")
        sign, num, den, mul, v, exp = (m.group(g) for g in ("sign", "num", "den", "mul", "var", "exp"))
        bad = (
            (sign is None and not first)
            or (num is None and v is None)
            or (v is not None and v != var)
            or (mul is not None and (num is None or v is None))
            or (exp is not None and v is None)
            or (den is not None and int(den) == 0)
        )
        if bad:
            raise ValueError(f"Argument 'text' must be a polynomial in {var}, not {text[:60]!r}")
        e = 0 if v is None else (1 if exp is None else int(exp))
        if e > MAX_POLY_DEGREE:
            raise ValueError(f"Argument 'text' has degree {e}, more than {MAX_POLY_DEGREE}")
        c = Fraction(int(num) if num is not None else 1, int(den) if den is not None else 1)
        coeffs[e] = coeffs.get(e, Fraction(0)) + (-c if sign == "-" else c)
        pos, first = m.end(), False
    return poly_trim(tuple(coeffs.get(e, Fraction(0)) for e in range(max(coeffs) + 1)))


# ---------------------------------------------------------------------------------------- quasi-polynomials


def _as_fraction(x, what: str) -> Fraction:
    if isinstance(x, bool):
        raise TypeError(f"Argument '{what}' must hold ints, Fractions or their text, not bool")
    if isinstance(x, (int, Fraction)):
        return Fraction(x)
    if isinstance(x, str):
        try:
            return Fraction(int(x)) if x.isdigit() else Fraction(x)
        except ValueError:
            raise ValueError(f"Argument '{what}' must hold rationals, not {x!r}") from None
    raise TypeError(f"Argument '{what}' must hold ints, Fractions or their text, not {type(x).__name__}")


def _as_int(x, what: str) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"Argument '{what}' must be an int, not {type(x).__name__}")
    return x


@dataclass(frozen=True)
class QuasiPolynomial:
    """A signed continued fraction described exactly: signs, a head, and interlaced polynomials.

    ``b_n = signs[n mod len(signs)]``; ``a_n = head[n]`` for n < s = ``len(head)`` and ``a(N m + j) = P_j(m)``
    for n = N m + j >= s, with N = ``period`` and ``polys[j]`` the ascending coefficients of P_j (Fractions).

    >>> tan1 = QuasiPolynomial((1, -1, 1), (), 3, ((1,), (2, 4), (4, 4)))
    >>> tan1.terms(9), tan1.sign(4)
    ((1, 2, 4, 1, 6, 8, 1, 10, 12), -1)
    """

    signs: tuple[int, ...]
    head: tuple[int, ...]
    period: int
    polys: tuple[tuple[Fraction, ...], ...]

    def __post_init__(self) -> None:
        signs = tuple(self.signs) if isinstance(self.signs, (tuple, list)) else None
        if not signs or not all(type(s) is int and (s == 1 or s == -1) for s in signs):
            raise ValueError(f"Argument 'signs' must be a non-empty sequence of +1/-1, not {self.signs!r}")
        if not isinstance(self.head, (tuple, list)):
            raise TypeError(f"Argument 'head' must be a sequence of ints, not {type(self.head).__name__}")
        head = tuple(self.head)
        if not all(type(a) is int for a in head):  # the common case checked in C; the rest says what is wrong
            head = tuple(_as_int(a, "head") for a in head)
        period = _as_int(self.period, "period")
        if period < 1:
            raise ValueError(f"Argument 'period' must be a positive integer, not {period}")
        if not isinstance(self.polys, (tuple, list)) or len(self.polys) != period:
            raise ValueError(f"Argument 'polys' must hold {period} polynomials (one per residue), not {self.polys!r}")
        polys = []
        for p in self.polys:
            if isinstance(p, str):
                polys.append(parse_poly(p, "m"))
                continue
            if not isinstance(p, (tuple, list)) or not p:
                raise ValueError(f"Argument 'polys' must hold non-empty coefficient sequences, not {p!r}")
            if len(p) > MAX_POLY_DEGREE + 1:
                raise ValueError(f"Argument 'polys' has a polynomial of degree above {MAX_POLY_DEGREE}")
            polys.append(poly_trim(tuple(c if type(c) is Fraction else _as_fraction(c, "polys") for c in p)))
        object.__setattr__(self, "signs", signs)
        object.__setattr__(self, "head", head)
        object.__setattr__(self, "polys", tuple(polys))
        # integer numerators over a common denominator per polynomial: terms in int arithmetic (hot in checks)
        ints = []
        for p in polys:
            den = math.lcm(*(c.denominator for c in p))
            ints.append((tuple(c.numerator * (den // c.denominator) for c in p), den))
        object.__setattr__(self, "_ints", tuple(ints))

    def __hash__(self) -> int:
        h = self.__dict__.get("_hash")
        if h is None:  # computed on first use: most descriptions are never hashed
            h = hash((self.signs, self.head, self.period, self._ints))
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other) -> bool:
        # the integer numerators and denominators determine the (trimmed) polynomials: compare those, fast
        if not isinstance(other, QuasiPolynomial):
            return NotImplemented
        return (hash(self) == hash(other) and self.signs == other.signs and self.head == other.head
                and self.period == other.period and self._ints == other._ints)

    def with_head(self, head: tuple[int, ...]) -> QuasiPolynomial:
        """The same signs and polynomials after another head (validated: ints only), without validating the
        rest again: how a family's members, which share their tail, are described cheaply."""
        head = tuple(head)
        if head and set(map(type, head)) != {int}:
            raise TypeError("Argument 'head' must be a sequence of ints")
        new = object.__new__(QuasiPolynomial)
        for name, value in (("signs", self.signs), ("head", head), ("period", self.period), ("polys", self.polys),
                            ("_ints", self._ints)):
            object.__setattr__(new, name, value)
        return new

    @property
    def start(self) -> int:
        """The first index the polynomials describe (the length of the head)."""
        return len(self.head)

    @property
    def degree(self) -> int:
        """The largest degree of the polynomials."""
        return max(len(p) for p in self.polys) - 1

    def sign(self, n: int) -> int:
        """b_n."""
        return self.signs[n % len(self.signs)]

    def value(self, n: int) -> Fraction:
        """a_n as a Fraction (an integer for a valid description)."""
        if n < self.start:
            return Fraction(self.head[n])
        m, j = divmod(n, self.period)
        acc = Fraction(0)
        for c in reversed(self.polys[j]):
            acc = acc * m + c
        return acc

    def term(self, n: int) -> int:
        """a_n; ``ArithmeticError`` if the description gives a non-integer there."""
        if n < len(self.head):
            return self.head[n]
        m, j = divmod(n, self.period)
        coeffs, den = self._ints[j]
        acc = 0
        for c in reversed(coeffs):
            acc = acc * m + c
        q, r = divmod(acc, den)
        if r:
            raise ArithmeticError(f"the description gives the non-integer {Fraction(acc, den)} at n = {n}")
        return q

    def terms(self, count: int) -> tuple[int, ...]:
        """a_0, ..., a_{count-1}."""
        return tuple(self.term(n) for n in range(count))

    def to_json(self) -> dict:
        """``{"signs", "head", "period", "polys"}`` with the polynomials as text in m (``poly_text``)."""
        return {
            "signs": list(self.signs),
            "head": list(self.head),
            "period": self.period,
            "polys": [poly_text(p, "m") for p in self.polys],
        }

    @classmethod
    def from_json(cls, d) -> QuasiPolynomial:
        """Inverse of ``to_json``; ``ValueError``/``TypeError`` on anything malformed."""
        if not isinstance(d, dict) or not {"signs", "head", "period", "polys"} <= set(d):
            raise ValueError("a sequence must be an object with 'signs', 'head', 'period' and 'polys'")
        polys, signs, head = d["polys"], d["signs"], d["head"]
        if not isinstance(polys, list) or not all(isinstance(p, str) for p in polys):
            raise TypeError("'polys' must be a list of polynomial texts in m")
        if not isinstance(signs, list) or not isinstance(head, list):
            raise TypeError("'signs' and 'head' must be lists of ints")
        if any(isinstance(x, bool) or not isinstance(x, int) for x in signs + head):
            raise TypeError("'signs' and 'head' must be lists of ints")
        return _sequence_from_json(tuple(signs), tuple(head), d["period"], tuple(polys))


@lru_cache(maxsize=16384)
def _sequence_from_json(signs, head, period, polys) -> QuasiPolynomial:
    # immutable values: one instance per text (members of a family repeat their claims' polynomials)
    return QuasiPolynomial(signs, head, period, tuple(parse_poly(p, "m") for p in polys))


# -------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Theorem:
    """A registry entry: the base constant ``key`` (canonical text) has the ESMA expansion ``sequence``."""

    key: str
    family: str
    reference: str
    sequence: QuasiPolynomial

    @property
    def name(self) -> str:
        """``key`` with its theorem, e.g. ``'tan(1/3) (Lambert)'``."""
        return f"{self.key} ({self.family})"


_EULER = (
    "L. Euler, De fractionibus continuis dissertatio (1737); proof: H. Cohn, A short proof of the simple "
    "continued fraction expansion of e, Amer. Math. Monthly 113 (2006) 57-62"
)
_HURWITZ = (
    "A. Hurwitz, Über die Kettenbruch-Entwicklung der Zahl e (1891); O. Perron, Die Lehre von den "
    "Kettenbrüchen (1913)"
)
_LAMBERT = (
    "J. H. Lambert, Mémoire sur quelques propriétés remarquables des quantités transcendantes circulaires "
    "et logarithmiques (1768)"
)
_LEHMER = "D. H. Lehmer, Continued fractions containing arithmetic progressions, Scripta Math. 29 (1973) 17-24"
_LOMMEL = (
    "the recurrence J_(nu-1)(z) + J_(nu+1)(z) = (2 nu/z) J_nu(z) (Lommel); G. N. Watson, A Treatise on the "
    "Theory of Bessel Functions (1944)"
)


def _qp(signs, head, polys) -> QuasiPolynomial:
    return QuasiPolynomial(tuple(signs), tuple(head), len(polys), tuple(tuple(Fraction(c) for c in p) for p in polys))


def _positive(k, what: str) -> int:
    k = _as_int(k, what)
    if k < 1:
        raise ValueError(f"Argument '{what}' must be a positive integer, not {k}")
    return k


def _ratio_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def e_power(numerator: int, k: int) -> Theorem:
    """e^(1/k) (Euler) for ``numerator`` 1, or e^(2/k) for odd k (Hurwitz) for ``numerator`` 2.

    >>> e_power(2, 1).sequence.terms(11)
    (7, 2, 1, 1, 3, 18, 5, 1, 1, 6, 30)
    >>> e_power(1, 3).sequence.terms(8)
    (1, 2, 1, 1, 8, 1, 1, 14)
    """
    return _e_power(_as_int(numerator, "numerator"), _positive(k, "k"))


@lru_cache(maxsize=1024)
def _e_power(numerator: int, k: int) -> Theorem:
    if numerator == 1:
        if k == 1:  # e = [2; 1, 2, 1, 1, 4, ...]: a(3m+1) = a(3m+3) = 1, a(3m+2) = 2m + 2
            return Theorem("e", "Euler", _EULER, _qp((1,), (2,), ((1,), (1,), (2, 2))))
        # e^(1/k) = [1; k-1, 1, 1, 3k-1, 1, 1, ...]: a(3m+1) = (2m+1)k - 1
        return Theorem(f"exp(1/{k})", "Euler", _EULER, _qp((1,), (1,), ((1,), (k - 1, 2 * k), (1,))))
    if numerator != 2 or k % 2 == 0:
        raise ValueError(f"Arguments 'numerator', 'k' must give e^(1/k) or e^(2/k) with k odd, not e^({numerator}/{k})")
    if k == 1:  # e^2 = [7; 2, 1, 1, 3, 18, 5, 1, 1, 6, 30, ...]
        return Theorem("exp(2)", "Euler, Hurwitz", _HURWITZ, _qp((1,), (7,), ((6, 12), (2, 3), (1,), (1,), (3, 3))))
    # e^(2/k) = [1; (k-1)/2 + 3km, 6k(2m+1), (5k-1)/2 + 3km, 1, 1]_{m >= 0}
    h = (k - 1) // 2
    polys = ((1,), (h, 3 * k), (6 * k, 12 * k), (h + 2 * k, 3 * k), (1,))
    return Theorem(f"exp(2/{k})", "Hurwitz", _HURWITZ, _qp((1,), (1,), polys))


def tan_entry(k: int) -> Theorem:
    """tan(1/k) (Lambert): tan 1 = [1; 1, 1, 3, 1, 5, ...], tan(1/k) = [0; k-1, 1, 3k-2, 1, 5k-2, ...].

    >>> tan_entry(1).sequence.terms(8), tan_entry(3).sequence.terms(6)
    ((1, 1, 1, 3, 1, 5, 1, 7), (0, 2, 1, 7, 1, 13))
    """
    return _tan_entry(_positive(k, "k"))


@lru_cache(maxsize=1024)
def _tan_entry(k: int) -> Theorem:
    if k == 1:  # a(2m) = 1 (m >= 1), a(2m+1) = 2m + 1
        return Theorem("tan(1)", "Lambert", _LAMBERT, _qp((1,), (1,), ((1,), (1, 2))))
    # a(2m) = 1, a(2m+1) = (2m+1)k - 2 for n >= 2
    return Theorem(f"tan(1/{k})", "Lambert", _LAMBERT, _qp((1,), (0, k - 1), ((1,), (k - 2, 2 * k))))


def tanh_entry(k: int) -> Theorem:
    """tanh(1/k) = [0; k, 3k, 5k, ...] (Lambert): a(n) = (2n - 1)k for n >= 1.

    >>> tanh_entry(2).sequence.terms(5)
    (0, 2, 6, 10, 14)
    """
    return _tanh_entry(_positive(k, "k"))


@lru_cache(maxsize=1024)
def _tanh_entry(k: int) -> Theorem:
    key = "tanh(1)" if k == 1 else f"tanh(1/{k})"
    return Theorem(key, "Lambert", _LAMBERT, _qp((1,), (0,), ((-k, 2 * k),)))


def _bessel_key(func: str, A: int, D: int) -> str:
    nu = Fraction(A, D)
    return to_text(parse(f"{func}({_ratio_text(nu - 1)}, {_ratio_text(Fraction(2, D))})/"
                         f"{func}({_ratio_text(nu)}, {_ratio_text(Fraction(2, D))})"))


def bessel_i(A: int, D: int) -> Theorem:
    """[A; A+D, A+2D, ...] = I_{A/D-1}(2/D)/I_{A/D}(2/D) (Lehmer).

    >>> t = bessel_i(1, 1)
    >>> t.key, t.sequence.terms(5)
    ('besseli(0, 2)/besseli(1, 2)', (1, 2, 3, 4, 5))
    """
    return _bessel("besseli", _positive(A, "A"), _positive(D, "D"))


def bessel_j(A: int, D: int) -> Theorem:
    """A - 1/(A+D - 1/(A+2D - ...)) = J_{A/D-1}(2/D)/J_{A/D}(2/D), all signs minus.

    >>> t = bessel_j(1, 2)      # cot 1 = 1 - 1/(3 - 1/(5 - ...))
    >>> t.key, t.sequence.terms(4), t.sequence.signs
    ('besselj(-1/2, 1)/besselj(1/2, 1)', (1, 3, 5, 7), (-1,))
    """
    return _bessel("besselj", _positive(A, "A"), _positive(D, "D"))


@lru_cache(maxsize=1024)
def _bessel(func: str, A: int, D: int) -> Theorem:
    if func == "besseli":
        return Theorem(_bessel_key(func, A, D), "Lehmer", _LEHMER, _qp((1,), (), ((A, D),)))
    return Theorem(_bessel_key(func, A, D), "Lommel", _LOMMEL, _qp((-1,), (), ((A, D),)))


def registry() -> tuple[tuple[str, str, str], ...]:
    """The registry's families: (base, expansion, reference), for listings."""
    return (
        ("e", "[2; 1, 2, 1, 1, 4, 1, 1, 6, ...]", _EULER),
        ("e^(1/k), k >= 2", "[1; k-1, 1, 1, 3k-1, 1, 1, 5k-1, ...]", _EULER),
        ("e^2", "[7; 2, 1, 1, 3, 18, 5, 1, 1, 6, ...]", _HURWITZ),
        ("e^(2/k), k >= 3 odd", "[1; (k-1)/2, 6k, (5k-1)/2, 1, 1, (7k-1)/2, 18k, ...]", _HURWITZ),
        ("tan(1)", "[1; 1, 1, 3, 1, 5, ...]", _LAMBERT),
        ("tan(1/k), k >= 2", "[0; k-1, 1, 3k-2, 1, 5k-2, ...]", _LAMBERT),
        ("tanh(1/k)", "[0; k, 3k, 5k, ...]", _LAMBERT),
        ("I_(A/D-1)(2/D)/I_(A/D)(2/D)", "[A; A+D, A+2D, ...]", _LEHMER),
        ("J_(A/D-1)(2/D)/J_(A/D)(2/D)", "A - 1/(A+D - 1/(A+2D - ...))", _LOMMEL),
    )


# ------------------------------------------------------------------------------------ rational functions
# Polynomials here are tuples of ascending coefficients (Fractions while computing, ints when published).


def _primitive(num, den) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Integer coefficients, gcd 1, the denominator's leading coefficient positive."""
    num = tuple(Fraction(x) for x in poly_trim(num))
    den = tuple(Fraction(x) for x in poly_trim(den))
    scale = math.lcm(*(x.denominator for x in num + den))
    ni = [int(x * scale) for x in num]
    di = [int(x * scale) for x in den]
    g = math.gcd(*ni, *di) or 1
    s = -1 if di[poly_degree(di)] < 0 else 1
    return tuple(s * x // g for x in ni), tuple(s * x // g for x in di)


def _reduce(num, den):
    """num/den in lowest terms, primitive (``ValueError`` for a zero denominator)."""
    if poly_degree(den) < 0:
        raise ValueError("zero denominator")
    g = poly_gcd(num, den)
    if poly_degree(g) > 0:
        num, den = poly_divmod(num, g)[0], poly_divmod(den, g)[0]
    return _primitive(num, den)


def _compose_mobius(num, den, mob):
    """num(y)/den(y) at y = (p c + q)/(r c + s), ``mob = ((p, q), (r, s))``, in lowest terms."""
    (p, q), (r, s) = mob
    d = max(poly_degree(num), poly_degree(den), 0)
    lin_num, lin_den = (q, p), (s, r)
    powers_n = [(1,)]
    powers_d = [(1,)]
    for _ in range(d):
        powers_n.append(poly_mul(powers_n[-1], lin_num))
        powers_d.append(poly_mul(powers_d[-1], lin_den))

    def hom(f):
        acc = (0,)
        for i, x in enumerate(f):
            if x:
                acc = poly_add(acc, poly_scale(poly_mul(powers_n[i], powers_d[d - i]), x))
        return acc

    return _reduce(hom(num), hom(den))




@dataclass(frozen=True)
class Substitution:
    """x = numerator(c)/denominator(c): how the base x of a theorem is computed from the constant c.

    Integer coefficients in ascending powers of c, in lowest terms, primitive, with a positive leading
    coefficient of the denominator.  ``degree`` is 1 for a Möbius map (c = 1/x, x = c + 1 ...), 2 for c^2 or
    a double angle.

    >>> Substitution((0, 2), (1, 0, -1)).text, Substitution((1,), (0, 1)).text
    ('x = -2c/(c^2 - 1)', 'x = 1/c')
    """

    numerator: tuple[int, ...]
    denominator: tuple[int, ...]

    def __post_init__(self) -> None:
        num, den = _reduce(tuple(self.numerator), tuple(self.denominator))
        object.__setattr__(self, "numerator", num)
        object.__setattr__(self, "denominator", den)

    @property
    def degree(self) -> int:
        return max(poly_degree(self.numerator), poly_degree(self.denominator))

    @functools.cached_property
    def text(self) -> str:
        n, d = poly_text(self.numerator, "c", "plain"), poly_text(self.denominator, "c", "plain")
        if self.denominator == (1,):
            return f"x = {n}"
        n = n if poly_degree(self.numerator) < 1 or len([x for x in self.numerator if x]) == 1 else f"({n})"
        d = d if len([x for x in self.denominator if x]) == 1 and self.denominator[-1] == 1 else f"({d})"
        return f"x = {n}/{d}"

    def to_json(self) -> dict:
        return {"numerator": list(self.numerator), "denominator": list(self.denominator), "text": self.text}


IDENTITY = Substitution((0, 1), (1,))


@dataclass(frozen=True)
class Match:
    """A registry theorem for a constant c and the substitution x = S(c) to its base x."""

    theorem: Theorem
    substitution: Substitution
    why: str


# ------------------------------------------------------------------------------------ expression analysis


@dataclass(frozen=True)
class _Atom:
    """A transcendental atom: ``kind`` with rational parameters (exp r; tan q; tanh q; bessel ratio nu, z)."""

    kind: str
    params: tuple[Fraction, ...]


class _NoMatch(Exception):
    pass


def _exp_rational(node: Node) -> Fraction | None:
    """r when the tree is e^r written as e, exp(q), sqrt, powers, products and quotients of those."""
    if isinstance(node, Name):
        return Fraction(1) if node.name == "e" else None
    if isinstance(node, Call) and node.func == "exp":
        return _fold(node.args[0])
    if isinstance(node, Call) and node.func == "sqrt":
        r = _exp_rational(node.args[0])
        return None if r is None else r / 2
    if isinstance(node, BinOp):
        if node.op == "**":
            r, q = _exp_rational(node.left), _fold(node.right)
            return None if r is None or q is None else r * q
        if node.op in ("*", "/"):
            r, s = _exp_rational(node.left), _exp_rational(node.right)
            if r is None or s is None:
                return None
            return r + s if node.op == "*" else r - s
    return None


def _fold(node: Node) -> Fraction | None:
    try:
        return fold(node)
    except ValueError:
        return None


_RECIPROCAL = ((0, 1), (1, 0))
_ONE = ((1, 0), (0, 1))
_NEGATE = ((-1, 0), (0, 1))


def _atom(node: Node) -> tuple[_Atom, tuple] | None:
    """(atom, M) with the tree's value M(atom value), M an integer Möbius matrix; None if not an atom."""
    r = _exp_rational(node)
    if r is not None:
        return (_Atom("exp", (r,)), _ONE) if r != 0 else None
    if isinstance(node, Call) and node.func in ("tan", "cot", "tanh", "coth"):
        q = _fold(node.args[0])
        if q is None or q == 0:
            return None
        kind = "tan" if node.func in ("tan", "cot") else "tanh"
        # all four are odd functions: f(-q) = -f(q); cot and coth are reciprocals
        mob = _NEGATE if q < 0 else _ONE
        if node.func in ("cot", "coth"):
            mob = _mat(_RECIPROCAL, mob)
        return _Atom(kind, (abs(q),)), mob
    if isinstance(node, BinOp) and node.op == "/":
        left, right = node.left, node.right
        if (
            isinstance(left, Call)
            and isinstance(right, Call)
            and left.func == right.func
            and left.func in ("besseli", "besselj")
        ):
            nu1, z1, nu2, z2 = (_fold(a) for a in (*left.args, *right.args))
            if None in (nu1, z1, nu2, z2) or z1 != z2 or z1 <= 0 or abs(nu1 - nu2) != 1:
                return None
            # the atom is B_nu(z)/B_(nu+1)(z); the reversed ratio is its reciprocal
            return _Atom(left.func, (min(nu1, nu2), z1)), (_ONE if nu1 < nu2 else _RECIPROCAL)
    return None


def _mat(a, b):
    return (
        (a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1]),
        (a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1]),
    )


def _rational_function(node: Node) -> tuple[_Atom | None, tuple, tuple]:
    """(atom, num, den): the tree's value num(a)/den(a) in its one atom a (degree <= 2), or a rational."""
    if isinstance(node, Dec):
        raise _NoMatch("a decimal literal never matches a theorem")
    q = _fold(node)
    if q is not None:
        return None, (q,), (Fraction(1),)
    found = _atom(node)
    if found is not None:
        atom, ((p, r), (s, t)) = found
        return atom, (Fraction(r), Fraction(p)), (Fraction(t), Fraction(s))
    if isinstance(node, Neg):
        atom, n, d = _rational_function(node.arg)
        return atom, poly_scale(n, -1), d
    if isinstance(node, BinOp) and node.op in "+-*/":
        a1, n1, d1 = _rational_function(node.left)
        a2, n2, d2 = _rational_function(node.right)
        if a1 is not None and a2 is not None and a1 != a2:
            raise _NoMatch("more than one transcendental atom")
        if node.op in "+-":
            s = 1 if node.op == "+" else -1
            n, d = poly_add(poly_mul(n1, d2), poly_scale(poly_mul(n2, d1), s)), poly_mul(d1, d2)
        elif node.op == "*":
            n, d = poly_mul(n1, n2), poly_mul(d1, d2)
        else:
            if poly_degree(n2) < 0:
                raise _NoMatch("division by zero")
            n, d = poly_mul(n1, d2), poly_mul(d1, n2)
        if poly_degree(d) < 0:
            raise _NoMatch("division by zero")
        g = poly_gcd(n, d)
        if poly_degree(g) > 0:
            n, d = poly_divmod(n, g)[0], poly_divmod(d, g)[0]
        if max(poly_degree(n), poly_degree(d)) > 2:
            raise _NoMatch("not a Möbius map of one atom")
        return a1 or a2, n, d
    raise _NoMatch("not a Möbius map of a registry constant")


def _unit_fraction(r: Fraction) -> int | None:
    """k when r = 1/k, k a positive integer."""
    return r.denominator if r > 0 and r.numerator == 1 else None


def _exp_theorem(r: Fraction) -> Theorem | None:
    """The registry entry for e^r (r > 0), if any."""
    if r.numerator == 1:
        return e_power(1, r.denominator)
    if r.numerator == 2 and r.denominator % 2:
        return e_power(2, r.denominator)
    return None


def _atom_matches(atom: _Atom) -> list[tuple[Theorem, tuple, tuple, str]]:
    """(theorem, num, den, identity) with the base x = num(a)/den(a) in the atom's value a."""
    out: list[tuple[Theorem, tuple, tuple, str]] = []
    a, inv = ((0, 1), (1,)), ((1,), (0, 1))
    if atom.kind == "exp":
        (r,) = atom.params
        rr = abs(r)
        # b = e^|r| is a for r > 0, 1/a for r < 0 (e^(-r) = 1/e^r); write the base in b, hence in a
        b_num, b_den = a if r > 0 else inv
        sq_num, sq_den = poly_mul(b_num, b_num), poly_mul(b_den, b_den)
        sign = "" if r > 0 else "e^(-r) = 1/e^r; "
        t = _exp_theorem(rr)
        if t is not None:
            out.append((t, b_num, b_den, f"{sign}the theorem's base"))
        k = _unit_fraction(rr / 2)
        if k is not None:
            why = f"{sign}tanh(r/2) = (e^r - 1)/(e^r + 1)"
            out.append((tanh_entry(k), poly_add(b_num, poly_scale(b_den, -1)), poly_add(b_num, b_den), why))
        t2 = _exp_theorem(2 * rr)
        if t2 is not None:
            out.append((t2, sq_num, sq_den, f"{sign}e^(2r) = (e^r)^2"))
        k = _unit_fraction(rr)
        if k is not None:
            why = f"{sign}tanh r = ((e^r)^2 - 1)/((e^r)^2 + 1)"
            out.append((tanh_entry(k), poly_add(sq_num, poly_scale(sq_den, -1)), poly_add(sq_num, sq_den), why))
    elif atom.kind in ("tan", "tanh"):
        (q,) = atom.params
        entry = tan_entry if atom.kind == "tan" else tanh_entry
        k = _unit_fraction(q)
        if k is not None:
            out.append((entry(k), a[0], a[1], "the theorem's base"))
            if atom.kind == "tan":  # cot(1/k) = [k; 3k, 5k, ...] with signs -: J_{-1/2}(1/k)/J_{1/2}(1/k)
                out.append((bessel_j(k, 2 * k), inv[0], inv[1], "cot q = 1/tan q = J_(-1/2)(q)/J_(1/2)(q)"))
        if atom.kind == "tanh":
            t = _exp_theorem(2 * q)
            if t is not None:
                out.append((t, (1, 1), (1, -1), "e^(2q) = (1 + tanh q)/(1 - tanh q)"))
        j = _unit_fraction(2 * q)
        if j is not None:
            if atom.kind == "tan":
                out.append((entry(j), (0, 2), (1, 0, -1), "tan 2q = 2 tan q/(1 - tan^2 q)"))
            else:
                out.append((entry(j), (0, 2), (1, 0, 1), "tanh 2q = 2 tanh q/(1 + tanh^2 q)"))
    elif atom.kind in ("besseli", "besselj"):
        nu, z = atom.params
        D = Fraction(2) / z
        A = (nu + 1) * D
        if D.denominator == 1 and A.denominator == 1 and A > 0:
            t = (bessel_i if atom.kind == "besseli" else bessel_j)(int(A), int(D))
            out.append((t, a[0], a[1], "the theorem's base"))
    return out


def has_decimal(constant_text: str) -> bool:
    """True when the expression contains a decimal literal (a measured value: never matched).

    >>> has_decimal("2.718*1"), has_decimal("exp(1/3)")
    (True, False)
    """
    stack = [parse(constant_text)]
    while stack:
        node = stack.pop()
        if isinstance(node, Dec):
            return True
        if isinstance(node, Neg):
            stack.append(node.arg)
        elif isinstance(node, BinOp):
            stack += [node.left, node.right]
        elif isinstance(node, Call):
            stack += list(node.args)
    return False


@lru_cache(maxsize=4096)
def match(constant_text: str) -> tuple[Match, ...]:
    """Registry theorems for the constant ``constant_text``, matched by its parsed expression, never its value.

    Each ``Match`` gives the substitution x = S(c) from the constant c to the theorem's base x; degree-1
    substitutions come first.  No match (a decimal literal, pi, a rational, a product of two different
    transcendental atoms ...) gives ``()``.  A text that does not parse raises ``ValueError``.

    >>> for m in match("sqrt(e)"):
    ...     print(m.theorem.key, m.substitution.text)
    exp(1/2) x = c
    tanh(1/4) x = (c - 1)/(c + 1)
    e x = c^2
    tanh(1/2) x = (c^2 - 1)/(c^2 + 1)
    >>> match("2.718281828459045"), match("pi")
    ((), ())
    """
    if not isinstance(constant_text, str):
        raise TypeError(f"Argument 'constant_text' must be a str, not {type(constant_text).__name__}")
    node = parse(constant_text)
    try:
        atom, num, den = _rational_function(node)
    except _NoMatch:
        return ()
    if atom is None or max(poly_degree(num), poly_degree(den)) != 1:
        return ()
    # c = (p a + q)/(r a + s)  ->  a = (s c - q)/(-r c + p)
    num = (*num, 0)[:2]
    den = (*den, 0)[:2]
    (q, p), (s, r) = num, den
    inverse = ((s, -q), (-r, p))
    out = []
    for theorem, xn, xd, why in _atom_matches(atom):
        sn, sd = _compose_mobius(xn, xd, inverse)
        out.append(Match(theorem, Substitution(sn, sd), why))
    out.sort(key=lambda m: m.substitution.degree)  # stable: the registry's order within a degree
    return tuple(out)
