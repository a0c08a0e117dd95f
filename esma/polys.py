"""Polynomials as text: the one formatter every rendering of a polynomial goes through.

A polynomial is given by its coefficients in ascending powers (``(2, 4)`` is 4x + 2), as ints or exact
fractions.  Rational coefficients are written over their common denominator, so the text stays exact.  Three
styles cover every use:

* ``python``: what ``esma.constants`` parses once the variable is substituted (``3*c**2 - 2*c + 1``), used for
  the LHS texts T(c);
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

__all__ = ["STYLES", "poly_text"]

STYLES = ("python", "plain", "latex")


def _power(var: str, e: int, style: str) -> str:
    if e == 1:
        return var
    if style == "python":
        return f"{var}**{e}"
    if style == "plain":
        return f"{var}^{e}"
    return f"{var}^{{{e}}}"


def poly_text(coeffs: Sequence[int | Fraction], var: str = "c", style: str = "python") -> str:
    """The polynomial sum_e coeffs[e] var^e as text in ``style`` (descending powers, ``0`` when it vanishes).

    >>> poly_text((-3,), "m", "plain")
    '-3'
    >>> poly_text((0, -1, 0, 2), "x", "latex")
    '2x^{3} - x'
    >>> poly_text((Fraction(1, 3), 1), "m", "latex")
    '\\\\frac{3m + 1}{3}'
    """
    if style not in STYLES:
        raise ValueError(f"Argument 'style' must be one of {', '.join(STYLES)}, not {style!r}")
    den = lcm(*(Fraction(c).denominator for c in coeffs)) if coeffs else 1
    ints = [int(Fraction(c) * den) for c in coeffs]
    mul = "*" if style == "python" else ""
    parts: list[str] = []
    for e in range(len(ints) - 1, -1, -1):
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
