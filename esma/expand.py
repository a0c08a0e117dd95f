"""``esma.expand``: certified signed continued fraction of a constant expression.

>>> expand("e", "+", 8).terms
(2, 1, 2, 1, 1, 4, 1, 1)
>>> expand("2/3", "-", 10).terms, expand("2/3", "-", 10).exact
((1, 2, 2), True)
"""

from __future__ import annotations

from fractions import Fraction

from esma.records import SignedCF, signs_from_text
from esma.scf import expand_enclosure

__all__ = ["expand", "parse_signs"]

MAX_DIGITS = 1_000_000


def parse_signs(signs) -> tuple[int, ...]:
    """Accept ``"+-+"`` or a sequence of +1/-1; return a tuple of +1/-1."""
    if isinstance(signs, str):
        return signs_from_text(signs)
    try:
        out = tuple(int(s) for s in signs)
    except (TypeError, ValueError):
        raise TypeError(f"Argument 'signs' must be a string like '+-' or a sequence of +1/-1, not {signs!r}") from None
    if not out or any(s not in (1, -1) for s in out):
        raise ValueError(f"Argument 'signs' must be a non-empty sequence of +1/-1, not {signs!r}")
    return out


def expand(expr: str, signs="+", terms: int = 20, digits: int | None = None) -> SignedCF:
    """The first ``terms`` certified terms of the signed continued fraction of ``expr`` with sign period ``signs``.

    With ``digits=None`` the precision is raised until ``terms`` terms are certified (or the expansion ends,
    for a rational, or the constant carries no more digits, for a decimal literal).  With ``digits`` given,
    the expansion stops where that precision stops certifying terms.
    """
    from esma.constants import ball_to_enclosure, constant

    s = parse_signs(signs)
    if isinstance(terms, bool) or not isinstance(terms, int):
        raise TypeError(f"Argument 'terms' must be an int, not {type(terms).__name__}")
    if terms < 1:
        raise ValueError(f"Argument 'terms' must be a positive integer, not {terms}")
    if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int) or digits < 1):
        raise ValueError(f"Argument 'digits' must be a positive integer, not {digits!r}")
    c = constant(expr, allow_rational=True)
    if c.rational is not None:
        r = Fraction(c.rational)
        return expand_enclosure(r, r, s, terms)
    d = digits if digits is not None else max(40, 4 * terms)
    while True:
        lo, hi = ball_to_enclosure(c.ball(d))
        cf = expand_enclosure(lo, hi, s, terms)
        if digits is not None or len(cf) >= terms or cf.exact:
            return cf
        if c.max_digits is not None and d >= c.max_digits + 10:
            return cf
        if d >= MAX_DIGITS:
            return cf
        d = min(2 * d, MAX_DIGITS)
