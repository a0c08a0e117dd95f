"""How fast a conjectured continued fraction converges, compared with the simple continued fraction of T(c).

For a conjecture T(c) = a_0 + b_0/(a_1 + b_1/(a_2 + ...)) the convergent after n terms is p_{n-1}/q_{n-1}, with

    p_k = a_k p_{k-1} + b_{k-1} p_{k-2},   q_k = a_k q_{k-1} + b_{k-1} q_{k-2},   p_{-1} = 1, q_{-1} = 0,
    p_{-2} = 0, q_{-2} = 1,

and its number of correct significant digits is

    digits(n) = -log10( |p_{n-1}/q_{n-1} - T(c)| / |T(c)| ).

T(c) is only known as an enclosure [lo, hi] (an arb ball turned into exact rationals), so what is reported is
the certified lower bound of ``esma.verify.agreement_digits``: the worst case over every x in [lo, hi],
rounded down.  It never overstates, and it can only saturate near the accuracy of the enclosure, which is
why the precision is raised until no value comes close to it.

The comparison is the simple continued fraction (all signs +) of the *same* T(c), expanded certified from the
same enclosure: the paper's question is whether a signed fraction with a pattern converges faster than the
plain one.  For e, the conjecture ``e = [2; 1, 2, 1, 1, 4, 1, ...]`` with signs ``+`` IS the simple continued
fraction, so both series coincide term for term.

>>> from esma.records import Conjecture
>>> e_scf = Conjecture(constant="e", lhs="c", lhs_numerator=(0, 1), lhs_denominator=(1,), value="2.718",
...     signs=(1,), preperiod=1, terms=(2, 1, 2, 1, 1, 4, 1, 1, 6, 1), recurrence=(1, 0, 0, -2, 0, 0, 1),
...     closed_form="", kind="polynomial", verified_digits=300, digits_per_term=1.37, scf_digits_per_term=1.37)
>>> conv = convergence(e_scf, digits=20)
>>> conv.signed == conv.simple, conv.signed[-1] >= 20
(True, True)
>>> signed_n, simple_n = conv.terms_to_digits()    # the fewest terms giving 20 certified digits
>>> signed_n == simple_n == len(conv.n), conv.speedup
(True, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from esma.records import Conjecture, Recurrence, signs_to_text
from esma.scf import expand_enclosure
from esma.transforms import transform_ball
from esma.verify import agreement_digits

__all__ = ["Convergence", "convergence", "digit_series", "rate_comparison"]

# Beyond this many terms a fraction is hopeless to plot and the computation is stopped (approval itself
# gives up at 400 000 terms; a plot needs nothing near that).
MAX_TERMS = 200_000


@dataclass(frozen=True)
class Convergence:
    """Certified correct digits of two continued fractions of the same T(c), after n = 1..N terms.

    ``signed[n - 1]`` is the certified number of significant digits of T(c) given by the first n terms of the
    conjecture (signs ``signs``); ``simple[n - 1]`` the same for the simple continued fraction of T(c).  Both
    have the same length N: the fewest terms with which *both* reach ``digits``.
    """

    constant: str
    lhs: str
    signs: tuple[int, ...]
    digits: int
    signed: tuple[int, ...]
    simple: tuple[int, ...]
    simple_terms: tuple[int, ...]

    @property
    def signs_text(self) -> str:
        return signs_to_text(self.signs)

    @property
    def n(self) -> tuple[int, ...]:
        """The term counts 1..N (the x axis of a convergence plot)."""
        return tuple(range(1, len(self.signed) + 1))

    def terms_to_digits(self, digits: int | None = None) -> tuple[int | None, int | None]:
        """(signed, simple): the fewest terms giving at least ``digits`` certified digits (default: the target),
        ``None`` for a fraction that does not get there within the N computed terms."""
        d = self.digits if digits is None else digits
        return _first_at_least(self.signed, d), _first_at_least(self.simple, d)

    @property
    def speedup(self) -> float:
        """Terms the simple fraction needs over terms the conjecture needs to reach the target (> 1: faster)."""
        signed, simple = self.terms_to_digits()
        return (simple or len(self.simple)) / (signed or len(self.signed))


def _first_at_least(series: Sequence[int], digits: int) -> int | None:
    return next((n for n, d in enumerate(series, 1) if d >= digits), None)


def digit_series(terms: Iterable[int], signs: Sequence[int], lo, hi, count: int) -> list[int]:
    """Certified digits of agreement with [lo, hi] of the convergents after 1..count terms (fewer if ``terms``
    runs out).

    p_n, q_n are updated exactly with one small multiplication per term (the convergents of consecutive n
    share everything), instead of a fresh product of n matrices per n.

    The bound is a floor taken on bit lengths, so it can sit a digit below the truth: 577/408, the eighth
    convergent of sqrt 2 = [1; 2, 2, 2, ...], is 5.8 digits away from it and is credited with 4 or 5.

    >>> from fractions import Fraction
    >>> lo, hi = Fraction(14142135623, 10**10), Fraction(14142135624, 10**10)
    >>> d = digit_series([1, 2, 2, 2, 2, 2, 2, 2], (1,), lo, hi, 8)    # 1, 3/2, 7/5, 17/12, ..., 577/408
    >>> len(d), d[0], d[-1] in (4, 5)
    (8, 0, True)
    """
    period = len(signs)
    out: list[int] = []
    p_prev, p = mpz(0), mpz(1)  # (p_{-2}, p_{-1})
    q_prev, q = mpz(1), mpz(0)
    for n, a in enumerate(terms):
        if n >= count:
            break
        b = signs[(n - 1) % period] if n else 1
        p_prev, p = p, a * p + b * p_prev
        q_prev, q = q, a * q + b * q_prev
        out.append(agreement_digits(p, q, lo, hi))
    return out


def _signed_terms(conj: Conjecture, count: int) -> list[int]:
    """The conjecture's first ``count`` terms, regenerated from its exact recurrence (as approval does)."""
    rec = Recurrence(tuple(conj.recurrence), conj.preperiod)
    head = list(conj.terms)
    if len(head) < rec.linear_complexity or not rec.holds_on(head):
        raise ValueError(f"the stored terms of {conj.lhs!r} ({conj.constant}) do not satisfy their recurrence")
    return rec.extend(head, count)


def _series(conj, signs, lo, hi, scf, target: int, max_terms: int) -> tuple[list[int], list[int]] | None:
    """Both digit series over n = 1..N, N the fewest terms with which both reach ``target``; ``None`` when the
    simple fraction's certified terms ``scf`` do not get there (more precision needed)."""
    # grow the signed terms geometrically until the conjecture reaches the target
    count, best = 64, -1
    while True:
        signed_terms = _signed_terms(conj, min(count, max_terms))
        signed = digit_series(signed_terms, signs, lo, hi, len(signed_terms))
        reached = _first_at_least(signed, target)
        if reached is not None or count >= max_terms or max(signed) <= best:
            break  # reached, out of terms, or four times the terms gave nothing more: converging elsewhere
        best = max(signed)
        count *= 4
    if reached is None:
        raise ValueError(
            f"{conj.lhs} ({signs_to_text(signs)}) does not reach {target} digits "
            f"({max(signed)} after {len(signed)} terms)"
        )
    simple = digit_series(scf, (1,), lo, hi, len(scf))
    reached_simple = _first_at_least(simple, target)
    if reached_simple is None:
        return None
    n = max(reached, reached_simple)
    if len(signed) < n:  # the conjecture is the faster one: continue it to n terms
        signed = digit_series(_signed_terms(conj, n), signs, lo, hi, n)
    return signed[:n], simple[:n]


def convergence(conj: Any, digits: int = 300, max_terms: int = MAX_TERMS) -> Convergence:
    """Certified digits against number of terms for ``conj`` and for the simple continued fraction of T(c).

    ``conj`` is a ``Conjecture`` (or anything with its fields, such as ``esma.cli.api.ConjectureView``).  Both
    series run to N = the fewest terms with which both fractions reach ``digits`` digits (capped by what the
    constant carries: a 60-digit decimal literal gives at most about 55).  T(c) is evaluated once per
    precision with ``esma.verify.transform_ball``, at ``digits + 20`` digits first and more if a series
    comes within 3 digits of the enclosure's accuracy (where the certified bound would flatten out).

    Raises ``ValueError`` if ``digits`` is not a positive integer, if the record's terms break its recurrence
    or differ from the certified expansion of T(c) under its signs, or if it does not reach ``digits`` (within
    ``max_terms`` terms, or because four times the terms bring no further digit).
    """
    from esma.constants import accuracy_digits, ball_to_enclosure
    from esma.constants import constant as make_constant
    from esma.transforms import Transform

    conj = getattr(conj, "record", conj)  # a front-end view wraps the record
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"Argument 'digits' must be a positive integer, not {digits!r}")
    c = make_constant(conj.constant)
    t = Transform(tuple(conj.lhs_numerator), tuple(conj.lhs_denominator))
    signs = tuple(conj.signs)
    target = digits if c.max_digits is None else max(1, min(digits, c.max_digits - 5))

    precision = target + 20
    while True:
        ball = transform_ball(c, t, precision)
        acc = accuracy_digits(ball)
        target = min(target, max(1, acc - 3))  # a decimal literal cannot give more than it carries
        lo, hi = ball_to_enclosure(ball)
        scf = expand_enclosure(lo, hi, (1,), max_terms).terms

        # the formula must be the expansion of T(c): a record that is not fails here, before any long loop
        cert = expand_enclosure(lo, hi, signs, max_terms).terms
        for i, (x, y) in enumerate(zip(cert, _signed_terms(conj, len(cert)), strict=False)):
            if x != y:
                raise ValueError(f"{conj.lhs} ({signs_to_text(signs)}): term {i} is {y} by the formula, {x} in T(c)")

        pair = _series(conj, signs, lo, hi, scf, target, max_terms)
        # near the accuracy of the enclosure the certified bound flattens out: the curve would lie
        saturated = pair is None or max(max(pair[0]), max(pair[1])) >= acc - 3
        if not saturated:
            break
        if c.max_digits is not None or precision > 64 * (digits + 20):
            if pair is None:  # a decimal literal too short for its own simple fraction to reach the target
                raise ValueError(f"T(c) = {conj.lhs} at c = {conj.constant} is not precise enough for {target} digits")
            break
        precision *= 2
    signed, simple = pair

    return Convergence(
        constant=conj.constant,
        lhs=conj.lhs,
        signs=signs,
        digits=target,
        signed=tuple(signed),
        simple=tuple(simple),
        simple_terms=tuple(scf[: len(simple)]),
    )


def rate_comparison(conjectures: Iterable[Any], tolerance: float = 0.01) -> dict[str, dict[str, int]]:
    """Per constant, how many conjectures converge faster than, as fast as, or slower than the simple
    continued fraction of their own T(c), judged by the rates the approval measured (``digits_per_term``
    against ``scf_digits_per_term``, both verified digits over the terms that gave them).

    Rates within a relative ``tolerance`` count as ``equal`` (the ``+`` conjecture of any T(c) is its simple
    fraction, and term counts round).  Returns ``{constant: {"faster": i, "equal": j, "slower": k}}``.

    >>> from types import SimpleNamespace as R
    >>> rate_comparison([R(constant="e", digits_per_term=2.03, scf_digits_per_term=1.37),
    ...                  R(constant="e", digits_per_term=1.37, scf_digits_per_term=1.37)])
    {'e': {'faster': 1, 'equal': 1, 'slower': 0}}
    """
    out: dict[str, dict[str, int]] = {}
    for conj in conjectures:
        row = out.setdefault(conj.constant, {"faster": 0, "equal": 0, "slower": 0})
        signed, simple = float(conj.digits_per_term), float(conj.scf_digits_per_term)
        if abs(signed - simple) <= tolerance * max(abs(simple), 1e-12):
            row["equal"] += 1
        elif signed > simple:
            row["faster"] += 1
        else:
            row["slower"] += 1
    return out
