"""Approval: regenerate a conjectured continued fraction, evaluate it exactly, compare with T(c).

A continued fraction x = a_0 + b_0/(a_1 + b_1/(a_2 + ...)) has convergents p_n/q_n with

    [p_n  p_{n-1}]   [p_{n-1}  p_{n-2}] [a_n      1]
    [q_n  q_{n-1}] = [q_{n-1}  q_{n-2}] [b_{n-1}  0],      p_{-1} = 1, q_{-1} = 0, p_{-2} = 0, q_{-2} = 1,

so p_K/q_K is a product of K integer 2x2 matrices, computed here with a balanced product tree over gmpy2
integers (O(M(n) log K) instead of K big multiplications).  Approval (DESIGN section 1): terms regenerated
from the exact recurrence must (1) equal every term of the certified expansion of T(c) computed afresh at the
verification precision, and (2) give a convergent that agrees with T(c), evaluated independently, to the
requested number of significant digits.  Agreement is a certified lower bound (exact rational arithmetic on
the ends of the arb ball of T(c)).

>>> convergent([1, 2, 2, 2, 2], (1,))   # sqrt(2) ~ 41/29
(mpz(41), mpz(29))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from gmpy2 import mpq, mpz

from esma.growth import _log10_q_growth
from esma.records import Recurrence
from esma.scf import expand_enclosure, simple_cfs
from esma.transforms import transform_ball

__all__ = ["Approval", "agreement_digits", "approve", "convergent", "record_mismatch", "terms_to_digits",
           "transform_ball"]

#: Terms of a stored closed form compared with its recurrence: period x (degree + 2), and the degree, at most.
MAX_FORM_TERMS = 100_000
MAX_FORM_DEGREE = 64

_LOG10_2 = math.log10(2)


def _mat_mul(x, y):
    a, b, c, d = x
    e, f, g, h = y
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def _product(mats: list[tuple]) -> tuple:
    """Balanced product tree: operands of similar size meet, which keeps big multiplications fast."""
    while len(mats) > 1:
        nxt = [_mat_mul(mats[i], mats[i + 1]) for i in range(0, len(mats) - 1, 2)]
        if len(mats) % 2:
            nxt.append(mats[-1])
        mats = nxt
    return mats[0]


def convergent(terms: Sequence[int], signs: Sequence[int]) -> tuple[mpz, mpz]:
    """(p_K, q_K) for the first K = len(terms) terms with b_n = signs[n mod len(signs)], exactly."""
    if not terms:
        raise ValueError("Argument 'terms' must be non-empty")
    p, _, q, _ = _product(_matrices(terms, signs, 0, len(terms)))
    return p, q


def agreement_digits(p, q, lo, hi) -> int:
    """Certified lower bound on the significant decimal digits to which p/q agrees with every x in [lo, hi].

    0 when the enclosure contains 0 or q = 0.  Works on cross products and bit lengths (no gcd), so a check
    costs a few big multiplications: with lo = a/b, hi = c/d,
    |p/q - lo| / |lo| = |p b - a q| / (q |a|), bounded above through bit lengths, likewise for hi.
    """
    if q == 0:
        return 0
    lo, hi = mpq(lo), mpq(hi)
    if lo <= 0 <= hi:
        return 0
    if q < 0:
        p, q = -p, -q
    a, b = lo.numerator, lo.denominator
    c, d = hi.numerator, hi.denominator
    e1 = abs(p * b - a * q)
    e2 = abs(p * d - c * q)
    if e1 == 0 and e2 == 0:
        return 10**9
    qb = q.bit_length()
    # x < 2^bits(x) and x >= 2^(bits(x) - 1): each estimate errs on the side of fewer digits
    err_log2 = max(
        e1.bit_length() - qb - b.bit_length() + 2 if e1 else -(10**9),
        e2.bit_length() - qb - d.bit_length() + 2 if e2 else -(10**9),
    )
    size_log2 = min(abs(a).bit_length() - b.bit_length() - 1, abs(c).bit_length() - d.bit_length() - 1)
    return max(0, math.floor(-(err_log2 - size_log2) * _LOG10_2))


class _Convergents:
    """(p_k, q_k) of the first k terms for any k, from a cursor that moves one term at a time either way.

    The first request jumps there with a product tree over int64 blocks of matrices (``prefix_matrix``);
    later ones (a bisection near the first) step from the cursor: forwards p_{k+1} = a_k p_k + b_{k-1} p_{k-1},
    backwards p_{k-1} = b_{k-1} (p_{k+1} - a_k p_k), exact because b = +-1.
    """

    def __init__(self, terms: Sequence[int], signs: Sequence[int]) -> None:
        self.terms, self.signs = terms, signs
        self.k = 0
        self._state = (mpz(1), mpz(0), mpz(0), mpz(1))  # (p_k, p_{k-1}, q_k, q_{k-1}) for k = 0 terms

    def _b(self, n: int) -> int:
        return self.signs[(n - 1) % len(self.signs)] if n else 1

    def at(self, k: int) -> tuple[mpz, mpz]:
        """(p, q) of the first k terms."""
        if k == self.k:
            return self._state[0], self._state[2]
        if abs(k - self.k) > 16 and k > 16:
            p, p_prev, q, q_prev = prefix_matrix(self.terms, self.signs, k)
            self.k, self._state = k, (p, p_prev, q, q_prev)
            return p, q
        p, p_prev, q, q_prev = self._state
        terms = self.terms
        n = self.k
        while n < k:
            a, b = terms[n], self._b(n)
            p, p_prev = a * p + b * p_prev, p
            q, q_prev = a * q + b * q_prev, q
            n += 1
        while n > k:
            # (p_n, p_{n-1}) -> (p_{n-1}, p_{n-2}) with p_n = a_{n-1} p_{n-1} + b_{n-2} p_{n-2}
            a, b = terms[n - 1], self._b(n - 1)
            p, p_prev = p_prev, b * (p - a * p_prev)
            q, q_prev = q_prev, b * (q - a * q_prev)
            n -= 1
        self.k, self._state = k, (p, p_prev, q, q_prev)
        return p, q


def prefix_matrix(terms: Sequence[int], signs: Sequence[int], k: int) -> tuple[mpz, mpz, mpz, mpz]:
    """(p_k, p_{k-1}, q_k, q_{k-1}) of the first k terms: the product M_0 ... M_{k-1} of the matrices above.

    Runs of small terms are multiplied in int64 by ``esma.kernels.cf.block_products_kernel`` and the blocks
    combined by a balanced product tree; ``prefix_matrix_py`` is the exact twin.

    >>> prefix_matrix([1, 2, 2, 2, 2], (1,), 5)   # sqrt(2): 41/29, then 17/12
    (mpz(41), mpz(17), mpz(29), mpz(12))
    """
    from esma.kernels.cf import block_products_kernel

    if k <= 0:
        return mpz(1), mpz(0), mpz(0), mpz(1)
    head = terms[:k]
    if max(head) >= 2**62 or min(head) <= -(2**62):
        return prefix_matrix_py(terms, signs, k)
    mats = np.empty((k, 4), np.int64)
    ends = np.empty(k, np.int64)
    nb = block_products_kernel(np.array(head, np.int64), k, np.array(signs, np.int64), len(signs), mats, ends)
    blocks = [tuple(mpz(x) for x in row) for row in mats[:nb].tolist()]
    done = int(ends[nb - 1]) if nb else 0
    if done < k:
        blocks.extend(_matrices(terms, signs, done, k))
    p, p_prev, q, q_prev = _product(blocks)
    return p, p_prev, q, q_prev


def _matrices(terms: Sequence[int], signs: Sequence[int], start: int, stop: int) -> list[tuple]:
    period, one, zero = len(signs), mpz(1), mpz(0)
    return [(mpz(terms[n]), one, mpz(signs[(n - 1) % period]) if n else one, zero) for n in range(start, stop)]


def prefix_matrix_py(terms: Sequence[int], signs: Sequence[int], k: int) -> tuple[mpz, mpz, mpz, mpz]:
    """Twin of ``prefix_matrix``: the same product, one exact matrix per term."""
    if k <= 0:
        return mpz(1), mpz(0), mpz(0), mpz(1)
    return _product(_matrices(terms, signs, 0, k))


def terms_to_digits(terms: Sequence[int], signs: Sequence[int], lo, hi, digits: int) -> tuple[int, int] | None:
    """The fewest leading terms whose convergent agrees with [lo, hi] to ``digits`` digits, and that agreement.

    Returns (K, agreement) or ``None`` when even all of ``terms`` fall short.  Convergents are exact and computed
    only as far as needed; the search starts where the growth of q_n (error about 1/q_n^2) puts it and is
    settled by bisection.
    """
    n = len(terms)
    if n == 0:
        return None
    conv = _Convergents(terms, signs)

    def agree(k: int) -> int:
        p, q = conv.at(k)
        return agreement_digits(p, q, lo, hi)

    # the first n where the running maximum of log10 q_n reaches digits / 2 (the error is about 1/q_n^2)
    growth = np.maximum.accumulate(np.asarray(_log10_q_growth(terms, signs), np.float64))
    reach = int(np.searchsorted(growth, digits / 2, side="left"))
    guess = reach + 1 if reach < n else n
    step = max(2, guess // 50)
    lo_k, hi_k = 0, None  # agree(lo_k) < digits (0: no terms at all); agree(hi_k) >= digits
    if agree(guess) >= digits:
        hi_k = guess
        probe = max(1, guess - step)
        if agree(probe) < digits:
            lo_k = probe
    else:
        lo_k = guess
        probe = guess
        while hi_k is None:
            probe = min(n, probe + step)
            if agree(probe) >= digits:
                hi_k = probe
            elif probe == n:
                return None
            else:
                lo_k = probe
                step *= 2
    while hi_k - lo_k > 1:
        mid = (lo_k + hi_k) // 2
        if agree(mid) >= digits:
            hi_k = mid
        else:
            lo_k = mid
    return hi_k, agree(hi_k)


@dataclass(frozen=True)
class Approval:
    """Outcome of approving one conjecture."""

    ok: bool
    verified_digits: int
    terms_used: int
    digits_per_term: float
    scf_digits_per_term: float
    certified_terms: int
    required_digits: int
    reason: str = ""


def _certified_terms(constant, transform, signs, lo, hi, digits: int) -> tuple[int, ...]:
    """All terms of T(c) under ``signs`` that the precision certifies: from the constant's own continued fraction
    through the Numba transducer for a Mobius transform, from the enclosure [lo, hi] of T(c) otherwise."""
    from esma.transducer import IDENTITY, _mobius_coef, constant_cf, mobius_terms

    if transform.degree <= 1:
        cf, coef = constant_cf(constant, digits), _mobius_coef(transform)
    else:
        # the simple continued fraction of T(c) (batched Euclid in Numba), then the identity map through the
        # transducer: each term it emits holds for every x with that expansion prefix, a fortiori on [lo, hi]
        cf, coef = simple_cfs([(lo, hi)], 10 * digits + 100)[0], IDENTITY
    terms, status = mobius_terms(cf, coef, signs, 10 * len(cf) + 100)
    if status == 0:
        return terms
    return expand_enclosure(lo, hi, signs, 1_000_000).terms


@lru_cache(maxsize=8192)
def _scf_rate(constant, transform, ball_digits: int, digits: int) -> float:
    """Digits per term of the simple continued fraction of T(c), for comparison (same measure as approval)."""
    from esma.constants import ball_to_enclosure

    lo, hi = ball_to_enclosure(transform_ball(constant, transform, ball_digits))
    scf = _certified_terms(constant, transform, (1,), lo, hi, ball_digits)
    found = terms_to_digits(scf, (1,), lo, hi, digits)
    return found[1] / found[0] if found else 0.0


def approve(
    constant,
    transform,
    signs: tuple[int, ...],
    recurrence: Recurrence,
    head: Sequence[int],
    verify_digits: int = 1000,
    min_digits: int = 50,
) -> Approval:
    """Approve the conjecture "T(c) has the signed continued fraction generated by ``recurrence``".

    ``head`` holds the leading terms (at least ``recurrence.linear_complexity``).  The value of T(c) is
    recomputed at ``verify_digits`` (capped by what the constant carries, e.g. a decimal literal); fewer than
    ``min_digits`` available means the engine cannot be sure, and the conjecture is not approved.
    """
    from esma.constants import accuracy_digits, ball_to_enclosure

    cap = constant.max_digits
    required = verify_digits if cap is None else min(verify_digits, cap - 5)
    if required < min_digits:
        return Approval(False, 0, 0, 0.0, 0.0, 0, required, f"only {max(required, 0)} digits available")
    ball = transform_ball(constant, transform, required + 20)
    acc = accuracy_digits(ball)
    if acc < required:
        required = acc - 2
        if required < min_digits:
            return Approval(False, 0, 0, 0.0, 0.0, 0, required, f"T(c) known to only {acc} digits")
    lo, hi = ball_to_enclosure(ball)

    # (1) the certified expansion at this precision must be the formula's sequence, term for term
    cert = _certified_terms(constant, transform, signs, lo, hi, required + 20)
    count = max(len(cert) + 16, 64)
    try:
        generated = recurrence.extend(list(head), count)
    except ArithmeticError:
        return Approval(False, 0, 0, 0.0, 0.0, len(cert), required, "recurrence leaves the integers")
    n = min(len(cert), len(generated))
    if list(cert[:n]) != generated[:n]:  # compared in C; the first difference is looked up only on failure
        i = next(i for i in range(n) if cert[i] != generated[i])
        y, x = generated[i], cert[i]
        return Approval(False, 0, i, 0.0, 0.0, len(cert), required, f"term {i}: formula {y}, certified {x}")

    # (2) the regenerated fraction, evaluated exactly, must agree with T(c) to the required digits
    found = terms_to_digits(generated, signs, lo, hi, required)
    while found is None and count < 400_000:
        count *= 2
        try:
            generated = recurrence.extend(generated, count)
        except ArithmeticError:
            return Approval(False, 0, 0, 0.0, 0.0, len(cert), required, "recurrence leaves the integers")
        found = terms_to_digits(generated, signs, lo, hi, required)
    if found is None:
        return Approval(False, 0, count, 0.0, 0.0, len(cert), required, "does not converge to T(c)")
    k, agreed = found
    verified = min(agreed, acc)

    scf_rate = _scf_rate(constant, transform, required + 20, required)
    return Approval(
        ok=verified >= required,
        verified_digits=verified,
        terms_used=k,
        digits_per_term=verified / k,
        scf_digits_per_term=scf_rate,
        certified_terms=len(cert),
        required_digits=required,
    )


def record_mismatch(conj) -> str | None:
    """Why a stored record's terms, recurrence and closed form do not describe one sequence, or ``None``.

    Guaranteed when ``None``: the terms satisfy the recurrence from its pre-period on; with interlaced
    polynomials, the kind is ``periodic``/``polynomial`` as they are constant or not, the closed-form text is
    exactly ``esma.patterns.closed_form_text`` of the stored period, start (the pre-period), head and
    polynomials, and the polynomials give the sequence of the terms and the recurrence for every n >= the
    pre-period: they agree with it on the stored terms and on period x (degree + 2) terms past the recurrence's
    start, and a recurrence applied to interlaced polynomials of degree d is, per residue class, a polynomial
    of degree d in m, zero everywhere once zero at d + 1 points; without polynomials, the kind is
    ``exponential`` or ``other`` and the text is the recurrence's, as ``esma.patterns.closed_form`` writes it
    (exponential and other are not told apart again: that needs a factoring).  The work is bounded
    (``MAX_FORM_TERMS``, ``MAX_FORM_DEGREE``): a closed form beyond the bound is a mismatch.
    """
    from fractions import Fraction

    from esma.patterns import _recurrence_text, closed_form_text

    rec = Recurrence(tuple(conj.recurrence), conj.preperiod)
    terms = list(conj.terms)
    if len(terms) < rec.linear_complexity or not rec.holds_on(terms):
        return "stored terms do not satisfy the recurrence"
    start, period, stored = conj.preperiod, conj.period, conj.polynomials
    if not stored:
        # the closed form is the recurrence itself (telling "exponential" from "other" would need a factoring)
        if conj.kind not in ("exponential", "other"):
            return f"the closed form of kind {conj.kind} stores no interlaced polynomials"
        text = _recurrence_text(rec)
        if conj.closed_form != text:
            return f"the closed form {conj.closed_form!r} is not the recurrence's, {text!r}"
        return None
    try:
        polys = tuple(tuple(Fraction(str(c)) for c in p) for p in stored)
    except (TypeError, ValueError, ZeroDivisionError):
        return "the closed form's polynomials cannot be read"
    degree = max(len(p) for p in polys) - 1 if polys else -1
    if not polys or period != len(polys) or min(len(p) for p in polys) == 0:
        return f"the closed form has {len(polys)} polynomials for the period {period}"
    if degree > MAX_FORM_DEGREE or period * (degree + 2) > MAX_FORM_TERMS:
        return f"the closed form is beyond the bound of this check (period {period}, degree {degree})"
    kind = "periodic" if all(len(p) == 1 or not any(p[1:]) for p in polys) else "polynomial"
    if conj.kind != kind:
        return f"the closed form is of kind {kind}, the record says {conj.kind}"
    text = closed_form_text(period, start, tuple(terms[:start]), polys)
    if conj.closed_form != text:
        return f"the closed form {conj.closed_form!r} is not what its polynomials give, {text!r}"
    count = max(len(terms), rec.linear_complexity + period * (degree + 2))
    try:
        seq = rec.extend(terms, count)
    except ArithmeticError:
        return "recurrence leaves the integers"
    for n in range(start, count):
        m, j = divmod(n, period)
        value = sum(c * m**i for i, c in enumerate(polys[j]))
        if value != seq[n]:
            return (f"the closed form gives a({n}) = {value}, the terms and the recurrence a({n}) = {seq[n]}"
                    + ("" if n >= len(terms) else " (a stored term)"))
    return None


def verify_record(conj, verify_digits: int = 1000) -> Approval:
    """Approve a stored conjecture again, from its record alone, at ``verify_digits`` digits.

    Rebuilds the constant from its text, the transform from its coefficients and the sequence from the
    recurrence and stored leading terms; a record whose terms, recurrence and closed form do not describe one
    sequence (``record_mismatch``) fails at once, before any digit is compared.
    """
    from esma.constants import constant as make_constant
    from esma.transforms import Transform

    if isinstance(verify_digits, bool) or not isinstance(verify_digits, int) or verify_digits < 1:
        raise ValueError(f"Argument 'verify_digits' must be a positive integer, not {verify_digits!r}")
    c = make_constant(conj.constant)
    t = Transform(tuple(conj.lhs_numerator), tuple(conj.lhs_denominator))
    rec = Recurrence(tuple(conj.recurrence), conj.preperiod)
    terms = list(conj.terms)
    why = record_mismatch(conj)  # what is shown (closed form) must be what is approved (terms, recurrence)
    if why is not None:
        return Approval(False, 0, 0, 0.0, 0.0, 0, verify_digits, why)
    return approve(c, t, tuple(conj.signs), rec, terms, verify_digits)
