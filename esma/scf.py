"""Certified signed continued fractions (DESIGN section 1).

A signed continued fraction of x with signs b_n in {+1, -1} is

    x = a_0 + b_0/(a_1 + b_1/(a_2 + b_2/(a_3 + ...)))

with b_n = s_{n mod p} for a sign period (s_0, ..., s_{p-1}).  Extraction: x_0 = x,
a_n = floor(x_n) if b_n = +1 and ceil(x_n) if b_n = -1, x_{n+1} = b_n/(x_n - a_n), which is > 1.  All + is the
simple continued fraction; all - the negative (ceiling) one.

Certification: the expansion runs on an enclosure [lo, hi] of x given by exact rationals.  Each step maps both
ends through the same Möbius map (monotone on the interval, because both ends gave the same a_n) and a term
is emitted only when both ends agree, so no term can be changed by more precision.  Writing an end as p/q with
q > 0, one step is p, q <- q, |p - a q|: an Euclid step, done in exact integers.

>>> from fractions import Fraction
>>> expand_enclosure(Fraction(43, 30), Fraction(43, 30), (1,), 10).terms   # 43/30 = [1; 2, 3, 4]
(1, 2, 3, 4)
>>> expand_enclosure(Fraction(43, 30), Fraction(43, 30), (-1,), 10).terms
(2, 2, 5, 2, 2, 2)
>>> len(sign_periods(1, 4)), len(sign_periods(1, 6)), len(sign_periods(2, 2))
(22, 106, 4)
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import gmpy2
import numpy as np
from gmpy2 import mpz

from esma.records import SignedCF

__all__ = ["expand_enclosure", "sign_periods", "simple_cfs"]


def _as_pq(x) -> tuple[mpz, mpz]:
    q = gmpy2.mpq(x)
    return mpz(q.numerator), mpz(q.denominator)


def expand_enclosure(lo, hi, signs: tuple[int, ...], max_terms: int) -> SignedCF:
    """Certified signed expansion of every x in [lo, hi] (exact rationals) under the sign period ``signs``.

    Returns at most ``max_terms`` terms; fewer when the enclosure no longer decides the next term, or when the
    value is rational and its expansion ends (then ``exact`` is true; only possible when lo == hi).
    """
    p1, q1 = _as_pq(lo)
    p2, q2 = _as_pq(hi)
    if p1 * q2 > p2 * q1:
        raise ValueError("Argument 'lo' must not exceed 'hi'")
    period = len(signs)
    if period == 0 or any(s not in (1, -1) for s in signs):
        raise ValueError(f"Argument 'signs' must be a non-empty tuple of +1/-1, not {signs!r}")
    same = p1 == p2 and q1 == q2
    if signs == (1,) and not same:
        return SignedCF((1,), _simple_terms(p1, q1, p2, q2, max_terms), exact=False)
    return _expand(p1, q1, p2, q2, signs, max_terms, same)


def simple_cfs(enclosures, max_terms: int) -> list[tuple[int, ...]]:
    """``expand_enclosure(lo, hi, (1,), max_terms).terms`` for many enclosures [lo, hi] at once.

    After the integer parts (here, in Python), both ends' Euclid runs in the Numba kernel
    ``esma.kernels.cf.simple_cf_kernel`` on 32-bit limbs; a row with a quotient of 2^30 or more, or an exact
    value (lo == hi), is done by the pure-Python path instead.  The results are those of the twin, term for term.

    >>> from fractions import Fraction
    >>> simple_cfs([(Fraction(1393, 985), Fraction(3363, 2378))], 12)   # convergents 8 and 9 of sqrt(2)
    [(1, 2, 2, 2, 2, 2, 2, 2, 2)]
    """
    from esma.kernels.cf import simple_cf_kernel

    if isinstance(max_terms, bool) or not isinstance(max_terms, int) or max_terms < 0:
        raise ValueError(f"Argument 'max_terms' must be a non-negative integer, not {max_terms!r}")
    out: list[tuple[int, ...] | None] = []
    heads: list[int] = []
    rows: list[tuple[mpz, mpz, mpz, mpz]] = []
    where: list[int] = []
    for lo, hi in enclosures:
        p1, q1 = _as_pq(lo)
        p2, q2 = _as_pq(hi)
        if p1 * q2 > p2 * q1:
            raise ValueError("Argument 'lo' must not exceed 'hi'")
        if (p1 == p2 and q1 == q2) or max_terms < 2:
            out.append(expand_enclosure(lo, hi, (1,), max_terms).terms)
            continue
        a1, r1 = gmpy2.f_divmod(p1, q1)
        a2, r2 = gmpy2.f_divmod(p2, q2)
        if a1 != a2:
            out.append(())
        elif not r1 or not r2:
            out.append((int(a1),))
        else:
            where.append(len(out))
            out.append(None)
            heads.append(int(a1))
            rows.append((q1, r1, q2, r2))
    if rows:
        width = max(max(x.bit_length() for x in row) for row in rows) // 32 + 1
        limbs = [_limbs([row[k] for row in rows], width) for k in range(4)]
        terms = np.zeros((len(rows), max_terms - 1), np.int64)
        counts = np.zeros(len(rows), np.int64)
        simple_cf_kernel(*limbs, width, max_terms - 1, terms, counts)
        for i, (slot, head, row) in enumerate(zip(where, heads, rows, strict=True)):
            if counts[i] < 0:
                out[slot] = (head, *_simple_terms(*row, max_terms - 1))
            else:
                out[slot] = (head, *terms[i, : counts[i]].tolist())
    return out  # type: ignore[return-value]


def _limbs(values: list[mpz], width: int) -> np.ndarray:
    """Non-negative integers as rows of 32-bit limbs (little-endian) in int64."""
    raw = b"".join(int(v).to_bytes(4 * width, "little") for v in values)
    return np.frombuffer(raw, dtype="<u4").astype(np.int64).reshape(len(values), width)


def _simple_terms(p1: mpz, q1: mpz, p2: mpz, q2: mpz, max_terms: int) -> tuple[int, ...]:
    """The simple continued fraction shared by every x in [p1/q1, p2/q2] (q1, q2 > 0): both ends' Euclid in
    lockstep.  Same terms as the general loop below with signs (1,) (floors are never negative remainders,
    and which end is lower does not matter to a comparison of floors), at a third of its cost."""
    terms: list[int] = []
    divmod_ = gmpy2.f_divmod
    while len(terms) < max_terms:
        a1, r1 = divmod_(p1, q1)
        a2, r2 = divmod_(p2, q2)
        if a1 != a2:
            break
        terms.append(int(a1))
        if not r1 or not r2:
            # x_n may be exactly a_n: the next x is unbounded, nothing more can be certified
            break
        p1, q1, p2, q2 = q1, r1, q2, r2
    return tuple(terms)


def _expand(p1: mpz, q1: mpz, p2: mpz, q2: mpz, signs: tuple[int, ...], max_terms: int, same: bool) -> SignedCF:
    """The general certified expansion (any sign period; also the exact expansion of a rational)."""
    period = len(signs)
    terms: list[int] = []
    n = 0
    while n < max_terms:
        b = signs[n % period]
        if b > 0:
            a1 = p1 // q1
            a2 = a1 if same else p2 // q2
        else:
            a1 = -((-p1) // q1)
            a2 = a1 if same else -((-p2) // q2)
        if a1 != a2:
            break
        terms.append(int(a1))
        n += 1
        r1 = abs(p1 - a1 * q1)
        if same:
            if r1 == 0:
                return SignedCF(tuple(signs), tuple(terms), exact=True)
            p1, q1 = q1, r1
            p2, q2 = p1, q1
            continue
        r2 = abs(p2 - a2 * q2)
        if r1 == 0 or r2 == 0:
            # x_n may be exactly a_n: the next x is unbounded, nothing more can be certified
            break
        p1, q1, p2, q2 = q1, r1, q2, r2
        # the map is monotone, either direction: keep lo <= hi
        if p1 * q2 > p2 * q1:
            p1, q1, p2, q2 = p2, q2, p1, q1
    return SignedCF(tuple(signs), tuple(terms), exact=False)


def _validate_period_bounds(min_period: int, max_period: int) -> None:
    for name, v in (("min_period", min_period), ("max_period", max_period)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"Argument '{name}' must be a positive integer, not {v!r}")
    if min_period > max_period:
        raise ValueError(f"Argument 'min_period' must be <= max_period ({max_period}), not {min_period}")
    if max_period > 16:
        raise ValueError(f"Argument 'max_period' must be at most 16, not {max_period}")


@lru_cache(maxsize=64)
def sign_periods(min_period: int, max_period: int) -> tuple[tuple[int, ...], ...]:
    """All sign periods of length min_period..max_period, in a deterministic order.

    A tuple is skipped when it repeats a shorter period whose length is itself enumerated (>= min_period):
    periods 1..4 give 22 patterns, 1..6 give 106; 2..2 gives ++, +-, -+, -- (4), since ++ repeats a period of
    length 1 < 2 which is not enumerated.
    """
    _validate_period_bounds(min_period, max_period)
    out: list[tuple[int, ...]] = []
    for p in range(min_period, max_period + 1):
        for t in itertools.product((1, -1), repeat=p):
            if any(
                d >= min_period and p % d == 0 and t == t[:d] * (p // d) for d in range(1, p)
            ):
                continue
            out.append(t)
    return tuple(out)
