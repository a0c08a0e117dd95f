"""Closed forms of linear recurrences (DESIGN section 1, "Closed form").

A recurrence sum_i c_i a_{n-i} = 0 has characteristic polynomial chi(t) = c_0 t^L + c_1 t^(L-1) + ... + c_L.
When every root of chi is a root of unity (every irreducible factor is cyclotomic), with N the lcm of their
orders and mu the largest multiplicity, the sequence is N interlaced polynomials of degree < mu:

    a(N m + j) = P_j(m)      for every n = N m + j >= start.

Kinds: ``periodic`` (mu = 1: eventually periodic, so the value is a quadratic irrational: a theorem, not news),
``polynomial`` (mu > 1), ``exponential`` (some root is not a root of unity but all roots are rational),
``other`` (irrational or complex roots off the unit circle).

>>> from esma.records import Recurrence
>>> cf = closed_form(Recurrence((1, 0, 0, -2, 0, 0, 1), 0), [1, 2, 4, 1, 6, 8, 1, 10, 12])
>>> cf.kind, cf.text
('polynomial', 'a(3m) = 1, a(3m+1) = 4m + 2, a(3m+2) = 4m + 4')
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import lcm

from esma.polys import poly_text
from esma.records import ClosedForm, Recurrence

__all__ = ["closed_form", "closed_form_text"]

@lru_cache(maxsize=4096)
def _factor(coeffs: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], int], ...]:
    """Irreducible factors over Z of the characteristic polynomial (descending coefficients), with multiplicity."""
    import sympy  # imported on first use: sympy is slow to import and most runs never factor

    _T = sympy.Symbol("t")
    poly = sympy.Poly(list(coeffs), _T)
    _, factors = sympy.factor_list(poly)
    return tuple((tuple(int(x) for x in f.all_coeffs()), int(k)) for f, k in factors)


@lru_cache(maxsize=256)
def _cyclotomic_poly(n: int) -> tuple[int, ...]:
    """Phi_n, descending integer coefficients: t^n - 1 divided by Phi_d for every proper divisor d of n."""
    p = (1, *([0] * (n - 1)), -1)
    for d in range(1, n):
        if n % d == 0:
            p = _exact_quotient(p, _cyclotomic_poly(d))
    return p


def _exact_quotient(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """a / b for integer polynomials (descending coefficients, b monic up to sign), or None if b does not divide a."""
    a = list(a)
    lead = b[0]
    q = []
    for i in range(len(a) - len(b) + 1):
        c, r = divmod(a[i], lead)
        if r:
            return None
        q.append(c)
        if c:
            for j, x in enumerate(b):
                a[i + j] -= c * x
    if any(a[len(a) - len(b) + 1 :]):
        return None
    return tuple(q)


@lru_cache(maxsize=4096)
def _cyclotomic_split(chi: tuple[int, ...], period: int = 0) -> dict[int, int] | None:
    """{n: multiplicity} when the characteristic polynomial ``chi`` (descending) is +-1 times a product of
    cyclotomic polynomials Phi_n (every root a root of unity), else None.  Exact integer division; phi(n) <= deg
    bounds n by 2 deg^2 + 2 (phi(n) >= sqrt(n/2)).  ``period``, when known to be a multiple of every such n
    (the lag of the deep search), limits the orders tried to its divisors: for a recurrence of order 600 the
    general bound would try 720,000 orders."""
    rest = tuple(chi)
    deg = len(rest) - 1
    # a product of cyclotomic polynomials is monic up to sign and palindromic up to sign (x^deg chi(1/x) = +-chi)
    if deg > 0 and (abs(rest[0]) != 1 or (rest != rest[::-1] and rest != tuple(-x for x in rest[::-1]))):
        return None
    found: dict[int, int] = {}
    orders = [d for d in range(1, period + 1) if period % d == 0] if period else None
    n, k = 1, 0
    while len(rest) > 1:
        if orders is not None:
            if k >= len(orders):
                break
            n = orders[k]
        elif n > 2 * deg * deg + 2:
            break
        q = _exact_quotient(rest, _cyclotomic_poly(n))
        if q is None:
            n, k = n + 1, k + 1
            continue
        found[n] = found.get(n, 0) + 1
        rest = q
    if len(rest) == 1 and abs(rest[0]) == 1:
        return found
    return _cyclotomic_split(chi) if period else None


@lru_cache(maxsize=1024)
def _cyclotomic_order(coeffs: tuple[int, ...]) -> int | None:
    """n when the primitive irreducible polynomial ``coeffs`` (descending) is +-Phi_n, else None."""
    deg = len(coeffs) - 1
    if deg < 1 or abs(coeffs[0]) != 1 or abs(coeffs[-1]) != 1:
        return None
    import sympy

    _T = sympy.Symbol("t")
    sign = 1 if coeffs[0] > 0 else -1
    target = tuple(sign * c for c in coeffs)
    # phi(n) = deg forces n <= 2 deg^2 + 2 (crude but safe: phi(n) >= sqrt(n/2))
    for n in range(1, 2 * deg * deg + 3):
        if sympy.totient(n) != deg:
            continue
        cyc = sympy.Poly(sympy.cyclotomic_poly(n, _T), _T)
        if tuple(int(x) for x in cyc.all_coeffs()) == target:
            return n
    return None


def _fit_polynomial(points: list[tuple[int, int]], degree: int) -> tuple[Fraction, ...]:
    """Exact interpolation through the first degree+1 points (m, value); ascending coefficients."""
    pts = points[: degree + 1]
    if degree == 0:
        return (Fraction(pts[0][1]),)
    if degree == 1 and pts[1][0] - pts[0][0] == 1:  # consecutive m: slope is the difference
        slope = pts[1][1] - pts[0][1]
        coeffs = (Fraction(pts[0][1] - slope * pts[0][0]), Fraction(slope))
        return coeffs if slope else coeffs[:1]
    k = len(pts)
    # Vandermonde solve by Gaussian elimination over Q (k is small)
    rows = [[Fraction(m) ** e for e in range(k)] + [Fraction(v)] for m, v in pts]
    for col in range(k):
        piv = next(r for r in range(col, k) if rows[r][col] != 0)
        rows[col], rows[piv] = rows[piv], rows[col]
        inv = 1 / rows[col][col]
        rows[col] = [x * inv for x in rows[col]]
        for r in range(k):
            if r != col and rows[r][col] != 0:
                f = rows[r][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col], strict=True)]
    coeffs = [rows[i][k] for i in range(k)]
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    return tuple(coeffs)


def _horner(ints: tuple[int, ...], m: int) -> int:
    """sum_e ints[e] m^e, exactly."""
    acc = 0
    for c in reversed(ints):
        acc = acc * m + c
    return acc


def _eval(coeffs: tuple[Fraction, ...], m: int) -> Fraction:
    return sum((c * m**e for e, c in enumerate(coeffs)), Fraction(0))


@lru_cache(maxsize=4096)
def _poly_plain(coeffs: tuple[Fraction, ...], var: str) -> str:
    """``esma.polys.poly_text`` in the plain style, cached: closed forms repeat the same few polynomials."""
    return poly_text(coeffs, var, "plain")


def _index_text(period: int, j: int) -> str:
    if period == 1:
        return "n"
    return f"{period}m" if j == 0 else f"{period}m+{j}"


def _recurrence_text(rec: Recurrence) -> str:
    c = rec.coefficients
    parts = []
    for i in range(1, len(c)):
        coef = Fraction(-c[i], c[0])
        if coef == 0:
            continue
        mag = abs(coef)
        body = f"a(n-{i})" if mag == 1 else f"{mag}*a(n-{i})"
        if not parts:
            parts.append(body if coef > 0 else f"-{body}")
        else:
            parts.append(("+ " if coef > 0 else "- ") + body)
    rhs = " ".join(parts) if parts else "0"
    return f"a(n) = {rhs} for n >= {rec.linear_complexity}"


def closed_form_text(
    period: int, start: int, head: tuple[int, ...] | list[int], polynomials: tuple[tuple[Fraction, ...], ...]
) -> str:
    """The text of interlaced polynomials a(N m + j) = P_j(m) for n >= ``start``, after the ``head`` terms.

    >>> closed_form_text(3, 1, (2,), ((Fraction(1),), (Fraction(1),), (Fraction(2), Fraction(2))))
    'a(3m) = 1, a(3m+1) = 1, a(3m+2) = 2m + 2 for n >= 1; a(0) = 2'
    """
    var = "n" if period == 1 else "m"
    body = ", ".join(f"a({_index_text(period, j)}) = {_poly_plain(tuple(p), var)}" for j, p in enumerate(polynomials))
    if not start:
        return body
    head_text = ", ".join(f"a({i}) = {head[i]}" for i in range(start))
    return f"{body} for n >= {start}; {head_text}"


def closed_form(rec: Recurrence, terms: list[int] | tuple[int, ...], period: int = 0) -> ClosedForm:
    """Closed form of the sequence that starts with ``terms`` and obeys ``rec``.

    ``terms`` must hold at least ``rec.linear_complexity`` terms; more are generated from the recurrence.
    ``period``: a multiple of the quasi-period when one is known (the deep search's lag), which makes long
    quasi-periods cheap to split; the result is the same.
    """
    order = rec.order
    chi = rec.coefficients  # c_0 t^L + ... + c_L: the descending coefficients are the recurrence itself
    start = rec.preperiod
    cyclotomic = _cyclotomic_split(chi, period) if order > 0 else {}
    all_cyclotomic = cyclotomic is not None
    orders: list[int] = list(cyclotomic or ())
    mult = max((cyclotomic or {}).values(), default=1)
    all_rational = True
    if not all_cyclotomic:  # some root is not a root of unity: factor (sympy) to tell the kinds apart
        all_rational = all(len(f) <= 2 or _cyclotomic_order(f) is not None for f, _ in _factor(chi))
    if all_cyclotomic:  # order 0 included: the sequence vanishes after its pre-period
        period = lcm(*orders) if orders else 1
        degree = mult - 1
        need = start + period * (degree + 3) + period
        seq = rec.extend(list(terms), max(need, len(terms)))
        polys: list[tuple[Fraction, ...]] = []
        for j in range(period):
            pts = [(n // period, seq[n]) for n in range(j, len(seq), period) if n >= start]
            poly = _fit_polynomial(pts, degree)
            # exact check in integers: den * P(m) == den * a(n) for every point
            den = lcm(*(x.denominator for x in poly))
            ints = tuple(int(x * den) for x in poly)
            if any(_horner(ints, m) != den * v for m, v in pts):
                raise ArithmeticError("interlaced polynomials do not reproduce the sequence")
            polys.append(poly)
        kind = "periodic" if all(len(p) == 1 for p in polys) else "polynomial"
        # the first index the polynomials describe may be earlier than the BM pre-period
        first = start
        while first > 0:
            m, j = divmod(first - 1, period)
            if _eval(polys[j], m) != seq[first - 1]:
                break
            first -= 1
        return ClosedForm(
            kind=kind,
            text=closed_form_text(period, first, seq[:first], polys),
            period=period,
            start=first,
            head=tuple(int(x) for x in seq[:first]),
            polynomials=tuple(polys),
        )
    kind = "exponential" if all_rational else "other"
    return ClosedForm(kind=kind, text=_recurrence_text(rec), start=start, head=tuple(terms[:start]))
