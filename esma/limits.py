"""Resource limits: which search requests are absurd enough to need an explicit confirmation.

A request is *absurd* when its space or its precision is far beyond what a search can finish:

* more than ``MAX_CANDIDATES`` (10^9) candidates, transforms x sign periods;
* more than ``MAX_DIGITS`` (10^6) digits of scan precision (``digits``, or 5 per term of ``depth`` when
  ``digits`` is not given; the deep search's 7,600 are far below) or of approval precision (``verify_digits``);
* more than ``MAX_CHUNK_BYTES`` (4 GiB) of partial denominators held by the scan of one chunk (transforms per
  chunk x sign periods x ``deep_terms`` 64-bit terms).

The exact candidate count comes from a plan (``plan_problems``), but laying out a plan enumerates every pair of
coefficient vectors, which for a huge space is itself hours of work.  ``request_problems`` therefore judges
the parameters alone first: its candidate figure is ``candidate_bound``, a true upper bound (every transform of
the plan comes from one pair of the ``n^2`` pairs of coefficient vectors it enumerates; in practice it is 78 to
95 % of them), and it is used only when the layout would be expensive (more than ``MAX_LAYOUT_PAIRS`` pairs),
where the exact count cannot be had cheaply.  Otherwise the caller plans and asks ``plan_problems``.

Outside ``search`` the bounds are hard (no confirmation): ``verify --verify-digits`` and ``expand --digits`` at
most ``MAX_DIGITS``; ``expand --terms`` at most ``MAX_TERMS`` (250,000: ``expand`` starts at 4 digits a term,
and never goes past ``MAX_DIGITS``); ``search --workers`` at most ``MAX_WORKERS``; ids and counts given to a
catalog (``show ID``, ``--limit``, ``--min-digits``) at most ``MAX_INTEGER``, the largest integer every
catalog backend stores, and ids are ASCII digits (``parse_id``).  ``out_of_bounds`` phrases a refusal.

This module does no I/O: it returns the reasons as sentences, the command line renders them.

>>> from esma.search import SearchParams
>>> request_problems(SearchParams(verify_digits=2_000_000))
['--verify-digits 2,000,000 is over the limit of 1,000,000 digits']
>>> request_problems(SearchParams())
[]
"""

from __future__ import annotations

import itertools
import math
from typing import Any

__all__ = [
    "MAX_CANDIDATES",
    "MAX_CHUNK_BYTES",
    "MAX_DIGITS",
    "MAX_INTEGER",
    "MAX_LAYOUT_PAIRS",
    "MAX_TERMS",
    "MAX_WORKERS",
    "candidate_bound",
    "chunk_bytes",
    "coefficient_vectors",
    "out_of_bounds",
    "parse_id",
    "period_count",
    "plan_problems",
    "request_problems",
]

#: Candidates (transforms x sign periods) a search may have without confirmation.
MAX_CANDIDATES = 10**9
#: Digits of scan or approval precision a search may ask for without confirmation.
MAX_DIGITS = 10**6
#: Bytes of scanned terms one chunk may hold without confirmation.
MAX_CHUNK_BYTES = 4 * 2**30
#: Pairs of coefficient vectors above which laying out the plan (to count exactly) is itself too costly
#: (about 0.1 ms each: 2*10^5 pairs take 10 to 30 s), so that the upper bound is used instead.
MAX_LAYOUT_PAIRS = 2 * 10**5

#: Terms ``expand`` may be asked for: it starts at 4 digits a term and stops at ``MAX_DIGITS`` (about a minute).
MAX_TERMS = MAX_DIGITS // 4
#: Worker processes a search may start.
MAX_WORKERS = 256
#: Ids, row counts and digit thresholds given to a catalog: PostgreSQL's ``integer`` (SQLite's is wider).
MAX_INTEGER = 2**31 - 1

_TERM_BYTES = 8  # the scan keeps int64 partial denominators


def out_of_bounds(value: int, low: int, high: int, what: str) -> str | None:
    """Why ``value`` (of the option ``what``) is outside ``[low, high]``, or ``None`` when it is inside.

    >>> out_of_bounds(10**7, 1, MAX_DIGITS, "--verify-digits")
    '--verify-digits 10,000,000 is over the limit of 1,000,000'
    >>> out_of_bounds(0, 1, MAX_TERMS, "--terms")
    '--terms must be at least 1, not 0'
    """
    if value > high:
        return f"{what} {value:,} is over the limit of {high:,}"
    if value < low:
        return f"{what} must be at least {low:,}, not {value:,}"
    return None


def parse_id(text: str | int, what: str = "id") -> int:
    """A catalog id from its text: ASCII digits only (no sign, no space, no other script's digits, which
    ``int`` would accept), from 1 to ``MAX_INTEGER``.  Raises ``ValueError`` otherwise.

    >>> parse_id("12")
    12
    >>> parse_id("²")
    Traceback (most recent call last):
    ...
    ValueError: Argument 'id' must be ASCII digits from 1 to 2,147,483,647, not '²'
    """
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    # a long text is refused before int() reads it (its cost grows with the length)
    if not isinstance(text, str) or len(text) > 20 or not text.isascii() or not text.isdigit() \
            or not 1 <= int(text) <= MAX_INTEGER:
        shown = text if not isinstance(text, str) or len(text) <= 40 else text[:40] + "..."
        raise ValueError(f"Argument '{what}' must be ASCII digits from 1 to {MAX_INTEGER:,}, not {shown!r}")
    return int(text)


def coefficient_vectors(degree: int, coeff_limit: int) -> int:
    """Nonzero coefficient vectors of degree <= ``degree`` in [-L, L], one per +- pair: ((2L+1)^(d+1) - 1)/2.

    >>> coefficient_vectors(1, 2)
    12
    """
    return ((2 * coeff_limit + 1) ** (degree + 1) - 1) // 2


def period_count(min_period: int, max_period: int) -> int:
    """``len(esma.scf.sign_periods(min_period, max_period))`` without enumerating them.

    A tuple of length p is skipped when it repeats a shorter period d with min_period <= d < p and d | p; the
    tuples with period d form a set of size 2^d, and those with periods d and d' the set of period gcd(d, d'),
    so inclusion-exclusion over the divisors counts the skipped ones exactly.

    >>> period_count(1, 4), period_count(1, 6), period_count(2, 2)
    (22, 106, 4)
    """
    total = 0
    for p in range(min_period, max_period + 1):
        divisors = [d for d in range(max(min_period, 1), p) if p % d == 0]
        skipped = 0
        for k in range(1, len(divisors) + 1):
            for subset in itertools.combinations(divisors, k):
                skipped += (-1) ** (k + 1) * 2 ** math.gcd(*subset)
        total += 2**p - skipped
    return total


def candidate_bound(params: Any) -> int:
    """An upper bound on ``plan_search(...).candidates`` from the parameters alone (no enumeration).

    >>> from esma.search import SearchParams
    >>> candidate_bound(SearchParams())   # 12^2 pairs x 22 periods; the plan for e has 112 x 22 = 2464
    3168
    """
    n = coefficient_vectors(params.degree, params.coeff_limit)
    return n * n * period_count(params.min_period, params.max_period)


def chunk_bytes(params: Any, periods: int | None = None, transforms: int | None = None) -> int:
    """Bytes of the terms array the scan of one chunk of ``transforms`` transforms (default: a full chunk)
    allocates: transforms x sign periods x terms (the window, or the deep search's) x 8."""
    if periods is None:
        periods = period_count(params.min_period, params.max_period)
    if transforms is None:
        transforms = params.classes_per_chunk(periods)
    return transforms * periods * params.deep_terms * _TERM_BYTES


def _digits_problems(params: Any) -> list[str]:
    out = []
    if params.scan_digits > MAX_DIGITS:
        if params.digits is not None:
            what = f"--digits {params.digits:,}"
        else:
            what = f"--depth {params.depth:,} (5 digits of scan precision per term: {params.scan_digits:,} digits)"
        out.append(f"{what} is over the limit of {MAX_DIGITS:,} digits")
    if params.verify_digits > MAX_DIGITS:
        out.append(f"--verify-digits {params.verify_digits:,} is over the limit of {MAX_DIGITS:,} digits")
    return out


def _memory_problem(params: Any, periods: int, transforms: int) -> list[str]:
    need = chunk_bytes(params, periods, transforms)
    if need <= MAX_CHUNK_BYTES:
        return []
    return [
        f"each chunk would scan {transforms} transforms x {periods:,} sign periods x {params.deep_terms:,} terms "
        f"({need / 2**30:,.1f} GiB), over the limit of {MAX_CHUNK_BYTES / 2**30:,.0f} GiB"
    ]


def _candidates_text(count: int, transforms: str, periods: int) -> str:
    return (
        f"{count:,} candidates ({transforms} transforms x {periods:,} sign periods) is over the limit of "
        f"{MAX_CANDIDATES:,}"
    )


def request_problems(params: Any) -> list[str]:
    """Why the parameters (a ``SearchParams``) make an absurd request, judged before any planning.

    Reports the digits, the memory of a chunk, and the candidate count when laying out the plan would be
    expensive and even so the count could exceed ``MAX_CANDIDATES`` (its upper bound, ``candidate_bound``,
    does).  An empty list means: plan it, then ask ``plan_problems``.
    """
    periods = period_count(params.min_period, params.max_period)
    n = coefficient_vectors(params.degree, params.coeff_limit)
    out = _digits_problems(params) + _memory_problem(params, periods, min(params.classes_per_chunk(periods), n * n))
    bound = n * n * periods
    if n * n > MAX_LAYOUT_PAIRS and bound > MAX_CANDIDATES:
        out.append("up to " + _candidates_text(bound, f"up to {n * n:,}", periods))
    return out


def plan_problems(plan: Any) -> list[str]:
    """Why a laid-out plan (an ``esma.search.SearchPlan``) is an absurd request: its exact candidate count,
    its digits, the memory of a chunk.  An empty list means it is not absurd.

    >>> from esma.search import plan_search
    >>> plan_problems(plan_search("e", coeff_limit=1, max_period=1))
    []
    """
    periods = len(plan.periods)
    widest = max((ch.stop - ch.start for ch in plan.chunks), default=0)
    out = _digits_problems(plan.params) + _memory_problem(plan.params, periods, widest)
    if plan.candidates > MAX_CANDIDATES:
        out.append(_candidates_text(plan.candidates, f"{len(plan.transforms):,}", periods))
    return out
