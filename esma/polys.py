"""Polynomials over Q: the arithmetic, and the one formatter every rendering of a polynomial goes through.

A polynomial is given by its coefficients in ascending powers (``(2, 4)`` is 4x + 2), as ints or exact
fractions.  The arithmetic (``poly_add``, ``poly_mul``, ``poly_divmod``, ``poly_gcd`` ...) returns trimmed tuples:
no trailing zeros, and the zero polynomial is ``(0,)``, of degree -1.  Integers stay integers (products and sums
of ints); division brings Fractions.

>>> poly_mul((1, 1), (-1, 1)), poly_degree((0,)), poly_divmod((-1, 0, 1), (1, 1))
((-1, 0, 1), -1, ((Fraction(-1, 1), Fraction(1, 1)), (Fraction(0, 1),)))

In text, rational coefficients are written over their common denominator, so the text stays exact.  Three
styles cover every use:

* ``python``: what ``esma.constants`` parses once the variable is substituted (``3*c**2 - 2*c + 1``), used for
  the LHS texts T(c), and in proof certificates (``esma.theorems.parse_poly`` reads it back);
* ``plain``: what a human reads in a terminal (``4m + 2``, ``(m^2 + m)/2``), used for closed forms and family keys;
* ``latex``: for papers and pages (``3c^{2} - 2c + 1``, ``\\frac{m^{2} + m}{2}``); ``var`` may itself be LaTeX.

>>> poly_text((1, -2, 3))
'3*c**2 - 2*c + 1'
>>> from fractions import Fraction
>>> poly_text((0, Fraction(1, 2), Fraction(1, 2)), "m", "plain")
'(m^2 + m)/2'
>>> poly_text((2, 4), "m", "latex")
'4m + 2'
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import lcm

__all__ = ["STYLES", "moebius_identity", "poly_add", "poly_degree", "poly_divmod", "poly_gcd", "poly_mul",
           "poly_scale", "poly_text", "poly_trim"]

STYLES = ("python", "plain", "latex")


def poly_trim(p: Sequence) -> tuple:
    """``p`` without trailing zeros; the zero polynomial (also ``()``) is ``(0,)``."""
    out = list(p)
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return tuple(out) if out else (0,)


def poly_degree(p: Sequence) -> int:
    """The degree of ``p``; -1 for the zero polynomial."""
    p = poly_trim(p)
    return -1 if p == (0,) else len(p) - 1


def poly_add(a: Sequence, b: Sequence) -> tuple:
    """a + b."""
    if len(a) < len(b):
        a, b = b, a
    return poly_trim(tuple(x + b[i] if i < len(b) else x for i, x in enumerate(a)))


def poly_scale(a: Sequence, s) -> tuple:
    """s a for a number s."""
    return poly_trim(tuple(s * x for x in a))


def poly_mul(a: Sequence, b: Sequence) -> tuple:
    """a b (schoolbook: these polynomials have a few coefficients)."""
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[i + j] += x * y
    return poly_trim(out)


def poly_divmod(a: Sequence, b: Sequence) -> tuple[tuple, tuple]:
    """(q, r) with a = q b + r and deg r < deg b, over Q (Fractions); ``ZeroDivisionError`` when b = 0.

    >>> poly_divmod((1, 0, 1), (1, 1))
    ((Fraction(-1, 1), Fraction(1, 1)), (Fraction(2, 1),))
    """
    r = [Fraction(x) for x in poly_trim(a)]
    d = [Fraction(x) for x in poly_trim(b)]
    if d == [0]:
        raise ZeroDivisionError("polynomial division by zero")
    q = [Fraction(0)] * max(len(r) - len(d) + 1, 1)
    while len(r) >= len(d) and r != [0]:
        k = r[-1] / d[-1]
        s = len(r) - len(d)
        q[s] = k
        for i, y in enumerate(d):
            r[i + s] -= k * y
        r = list(poly_trim(r))
    return poly_trim(q), tuple(r)


def poly_gcd(a: Sequence, b: Sequence) -> tuple:
    """A greatest common divisor of a and b over Q (Euclid; not normalised: scale it as you need).

    >>> poly_degree(poly_gcd((2, 3, 1), (3, 4, 1)))  # (x + 1)(x + 2) and (x + 1)(x + 3)
    1
    """
    a, b = poly_trim(tuple(Fraction(x) for x in a)), poly_trim(tuple(Fraction(x) for x in b))
    while b != (0,):
        a, b = b, poly_divmod(a, b)[1]
    return a


def moebius_identity(P: Sequence[int], Q: Sequence[int], PR: Sequence[int], QR: Sequence[int],
                     g: Sequence[int]) -> bool:
    """P (g21 PR + g22 QR) == Q (g11 PR + g12 QR): T = P/Q is G(T_R) for T_R = PR/QR and the Möbius map
    G = (g11, g12, g21, g22), as rational functions (integer coefficients, ascending powers).

    >>> moebius_identity((1, 1), (1,), (0, 1), (1,), (1, 1, 0, 1))    # c + 1 = G(c) with G(x) = x + 1
    True
    >>> moebius_identity((1, 1), (1,), (0, 1), (1,), (1, 2, 0, 1))
    False
    """
    g11, g12, g21, g22 = g
    n = max(len(PR), len(QR))
    pr, qr = [*PR, *[0] * (n - len(PR))], [*QR, *[0] * (n - len(QR))]
    num = [g11 * a + g12 * b for a, b in zip(pr, qr, strict=True)]
    den = [g21 * a + g22 * b for a, b in zip(pr, qr, strict=True)]
    acc = [0] * (max(len(P), len(Q)) + n)
    for i, x in enumerate(P):  # one pass each, on plain lists: this runs for every family member
        if x:
            for j, y in enumerate(den):
                acc[i + j] += x * y
    for i, x in enumerate(Q):
        if x:
            for j, y in enumerate(num):
                acc[i + j] -= x * y
    return not any(acc)


def _power(var: str, e: int, style: str) -> str:
    if e == 1:
        return var
    if style == "python":
        return f"{var}**{e}"
    if style == "plain":
        return f"{var}^{e}"
    return f"{var}^{{{e}}}"


def poly_text(coeffs: Sequence[int | Fraction], var: str = "c", style: str = "python", ascending: bool = False) -> str:
    """The polynomial sum_e coeffs[e] var^e as text in ``style`` (descending powers, ``0`` when it vanishes;
    ascending powers with ``ascending=True``, as one writes ``2 - c``).

    >>> poly_text((-3,), "m", "plain")
    '-3'
    >>> poly_text((0, -1, 0, 2), "x", "latex")
    '2x^{3} - x'
    >>> poly_text((Fraction(1, 3), 1), "m", "latex")
    '\\\\frac{3m + 1}{3}'
    >>> poly_text((2, -1), ascending=True)
    '2 - c'
    """
    if style not in STYLES:
        raise ValueError(f"Argument 'style' must be one of {', '.join(STYLES)}, not {style!r}")
    if all(type(c) is int for c in coeffs):
        den, ints = 1, coeffs
    else:
        fracs = [Fraction(c) for c in coeffs]
        den = lcm(*(c.denominator for c in fracs)) if fracs else 1
        ints = [c.numerator * (den // c.denominator) for c in fracs]
    mul = "*" if style == "python" else ""
    parts: list[str] = []
    for e in (range(len(ints)) if ascending else range(len(ints) - 1, -1, -1)):
        a = ints[e]
        if a == 0:
            continue
        mag = abs(a)
        body = str(mag) if e == 0 else (_power(var, e, style) if mag == 1 else f"{mag}{mul}{_power(var, e, style)}")
        if not parts:
            parts.append(body if a > 0 else f"-{body}")
        else:
            parts.append(("+ " if a > 0 else "- ") + body)
    text = " ".join(parts) if parts else "0"
    if den != 1:
        text = f"\\frac{{{text}}}{{{den}}}" if style == "latex" else f"({text})/{den}"
    return text
