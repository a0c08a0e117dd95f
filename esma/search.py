"""The ESMA search: transforms x sign periods -> certified expansions -> Berlekamp–Massey -> approval.

For a constant c, every transform T of the LHS space (``esma.transforms``) and every sign period
(``esma.scf.sign_periods``) is a *candidate*.  A candidate's leading ``depth`` terms are computed certified
from an enclosure of T(c); their linear complexity L (modulo a prime, batched in Numba) makes it a *hit* when

* N >= 2L + margin, with N the number of certified terms (the margin terms are predictions that came true), and
* the predicted terms (after the first 2L, which fix the recurrence) pin down at least ``min_digits`` digits of
  T(c): long runs of 2 in negative fractions pin almost none, so the gate is on digits consumed, not on terms.

A hit is confirmed exactly over the rationals (``esma.bm.find_recurrence``), given a closed form
(``esma.patterns``) and approved against an independent evaluation of T(c) to ``verify_digits`` digits
(``esma.verify``).  Only approved conjectures are returned.

The space is split into deterministic chunks of transforms (each with every sign period), so a caller can
checkpoint per chunk and resume, or spread chunks over workers.  This module does no I/O.

>>> result = search("exp(2)", coeff_limit=1, max_period=1, verify_digits=200)   # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from esma import bm
from esma.patterns import closed_form
from esma.records import Conjecture, signs_to_text
from esma.render import cf_text
from esma.scf import sign_periods
from esma.transducer import constant_cf, scan, scan_py, scan_rows, warm
from esma.transforms import Transform, transform_ball, transform_space
from esma.verify import _log10_q_growth, approve

__all__ = [
    "ChunkResult",
    "SearchParams",
    "SearchPlan",
    "SearchResult",
    "plan_search",
    "run_chunk",
    "scan_chunk",
    "search",
]


@dataclass(frozen=True)
class SearchParams:
    """Parameters of a search; the defaults find the classical formulas of DESIGN section 5.

    ``digits`` is the precision of the scan (``None``: 5 digits per term of depth, at least 300); ``margin`` is
    the number of correctly predicted terms beyond 2L; ``min_digits`` the digits of T(c) that those predicted
    terms must pin down (so that a prediction is worth something).
    """

    degree: int = 1
    coeff_limit: int = 2
    min_period: int = 1
    max_period: int = 4
    depth: int = 100
    digits: int | None = None
    verify_digits: int = 1000
    margin: int = 10
    min_digits: int = 10
    chunk_size: int = 8

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "digits" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"Argument '{f.name}' must be an int, not {type(v).__name__}")
        positive = ("degree", "coeff_limit", "min_period", "max_period", "depth", "verify_digits", "chunk_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"Argument '{name}' must be a positive integer, not {getattr(self, name)}")
        if self.digits is not None and self.digits < 1:
            raise ValueError(f"Argument 'digits' must be a positive integer, not {self.digits}")
        if self.margin < 0 or self.min_digits < 0:
            raise ValueError("Arguments 'margin' and 'min_digits' must be non-negative integers")
        if self.min_period > self.max_period:
            raise ValueError(
                f"Argument 'min_period' must be <= max_period ({self.max_period}), not {self.min_period}"
            )
        if self.max_period > 16:
            raise ValueError(f"Argument 'max_period' must be at most 16, not {self.max_period}")
        if self.degree > 2:
            raise ValueError(
                f"Argument 'degree' must be 1 or 2 (the transducers handle up to quadratics), not {self.degree}"
            )
        if self.depth < 2 * 1 + self.margin:
            raise ValueError(f"Argument 'depth' must be at least margin + 2 ({self.margin + 2}), not {self.depth}")

    @property
    def scan_digits(self) -> int:
        return self.digits if self.digits is not None else max(300, 5 * self.depth)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """Transforms ``[start, stop)`` of the plan's transform list, each with every sign period."""

    index: int
    start: int
    stop: int


@dataclass(frozen=True)
class SearchPlan:
    """A search laid out as deterministic chunks (same constant and parameters -> same chunks)."""

    constant: Any  # esma.constants.Constant
    params: SearchParams
    transforms: tuple[Transform, ...]
    periods: tuple[tuple[int, ...], ...]
    chunks: tuple[Chunk, ...]

    @property
    def candidates(self) -> int:
        return len(self.transforms) * len(self.periods)

    def chunk_candidates(self, index: int) -> int:
        ch = self.chunks[index]
        return (ch.stop - ch.start) * len(self.periods)


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk produced: approved conjectures and scan statistics."""

    index: int
    conjectures: tuple[Conjecture, ...]
    candidates: int
    hits: int
    seconds: float
    rejected: tuple[dict, ...] = ()
    scan_seconds: float = 0.0


@dataclass
class SearchResult:
    """All conjectures of a search (deduplicated, grouped by value) with its summary."""

    constant: str
    params: SearchParams
    conjectures: list[Conjecture]
    candidates: int
    hits: int
    seconds: float
    rejected: list[dict] = field(default_factory=list)
    scan_seconds: float = 0.0

    @property
    def candidates_per_second(self) -> float:
        return self.candidates / self.seconds if self.seconds > 0 else 0.0

    @property
    def scan_candidates_per_second(self) -> float:
        """The scan rate: candidates per second of scanning, approvals excluded."""
        return self.candidates / self.scan_seconds if self.scan_seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "constant": self.constant,
            "params": self.params.to_dict(),
            "candidates": self.candidates,
            "seconds": round(self.seconds, 3),
            "candidates_per_second": round(self.candidates_per_second, 1),
            "scan_seconds": round(self.scan_seconds, 3),
            "scan_candidates_per_second": round(self.scan_candidates_per_second, 1),
            "hits": self.hits,
            "conjectures": len(self.conjectures),
        }

    def groups(self) -> dict[str, list[Conjecture]]:
        """Conjectures keyed by value group (same T(c) under several sign periods, or equal values)."""
        out: dict[str, list[Conjecture]] = {}
        for c in self.conjectures:
            out.setdefault(c.group, []).append(c)
        return out


def plan_search(expr: str, **params: Any) -> SearchPlan:
    """Validate the expression and parameters and lay the search out in chunks.

    Raises ``ValueError``/``TypeError`` for bad input, including a rational constant (finite expansion).
    """
    from esma.constants import constant as make_constant

    unknown = set(params) - {f.name for f in fields(SearchParams)}
    if unknown:
        raise TypeError(f"search() got unexpected arguments: {', '.join(sorted(unknown))}")
    p = SearchParams(**params)
    c = make_constant(expr)
    try:
        # the constant's own continued fraction feeds every degree-1 candidate: compute (and cache) it now, so
        # a value esma cannot expand is refused here, as bad input, before any work is registered
        constant_cf(c, p.scan_digits)
    except (ValueError, ArithmeticError, OverflowError) as exc:
        raise ValueError(f"Argument 'expr' cannot be expanded: {exc}") from None
    transforms = distinct_values(c, transform_space(p.degree, p.coeff_limit))
    periods = sign_periods(p.min_period, p.max_period)
    chunks = tuple(
        Chunk(i, start, min(start + p.chunk_size, len(transforms)))
        for i, start in enumerate(range(0, len(transforms), p.chunk_size))
    )
    return SearchPlan(c, p, transforms, periods, chunks)


def distinct_values(constant, transforms: tuple[Transform, ...]) -> tuple[Transform, ...]:
    """Drop transforms whose value at c equals (up to sign) an earlier one's, or vanishes: the last-resort
    deduplication of the LHS space, which matters for algebraic c ((c + 2)/(c + 1) = c at c = sqrt 2).

    Values are compared at 40 significant digits (fewer when the constant carries fewer).
    """
    from flint import ctx

    from esma.constants import accuracy_digits

    ball = constant.ball(60)
    digits = min(40, accuracy_digits(ball) - 8)
    if digits < 12:
        return transforms  # too few digits to call two values equal
    seen: set[str] = set()
    kept: list[Transform] = []
    with ctx.workprec(260):
        for t in transforms:
            v = t.evaluate(ball)
            if not v.is_finite() or v.contains(0):
                continue
            key = abs(v).str(digits, radius=False)
            if key not in seen:
                seen.add(key)
                kept.append(t)
    return tuple(kept)


def _value_text(ball, digits: int = 60) -> str:
    return ball.str(digits, radius=False)


def _group_key(ball) -> str:
    # values equal up to sign share a group; 40 significant digits separate distinct small-height values
    return ball.str(40, radius=False).lstrip("-")


def _gate_digits(terms: tuple[int, ...], signs: tuple[int, ...], complexity: int) -> float:
    """Digits of T(c) pinned by the terms the recurrence predicted (those after the first 2L, which fix it).

    The q_n of the convergents grow as the terms pin digits (the error is about 1/q_n^2), so this is
    2 log10(q_N / q_2L): a long run of 2 in a negative fraction (q_n growing linearly) pins next to nothing.
    """
    growth = _log10_q_growth(terms, signs)
    if not growth:
        return 0.0
    k = min(2 * complexity, len(growth)) - 1
    return 2 * (growth[-1] - (growth[k] if k >= 0 else 0.0))


def scan_chunk(plan: SearchPlan, index: int, reference: bool = False) -> list[tuple[int, int, tuple[int, ...], int]]:
    """The scan of chunk ``index``: (transform offset, period index, terms, complexity) of every hit mod p.

    This is what the scan rate measures: laying out the chunk, the fused kernel over all its candidates, and
    the extraction of the hits (approval excluded).  ``reference=True`` runs the exact pure-Python twins.
    """
    if not 0 <= index < len(plan.chunks):
        raise ValueError(f"Argument 'index' must be in [0, {len(plan.chunks)}), not {index}")
    p = plan.params
    ch = plan.chunks[index]
    periods = plan.periods
    rows = scan_rows(plan.constant, plan.transforms[ch.start : ch.stop], p.scan_digits, p.depth)
    max_l = max(0, (p.depth - p.margin) // 2)
    if reference:
        results = scan_py(rows, periods, p.depth, p.margin, max_l)
        n_p = len(periods)
        return [(r // n_p, r % n_p, terms, L) for r, (terms, L) in enumerate(results) if L > 0]
    terms, n_out, l_out, _ = scan(rows, periods, p.depth, p.margin, max_l)
    return [
        (int(r) // len(periods), int(r) % len(periods), tuple(terms[r, : n_out[r]].tolist()), int(l_out[r]))
        for r in np.nonzero(l_out > 0)[0]
    ]


def run_chunk(plan: SearchPlan, index: int, reference: bool = False) -> ChunkResult:
    """Scan chunk ``index`` of ``plan``: every (transform, sign period) candidate in it, approved results only.

    ``reference=True`` runs the exact pure-Python twins of the Numba kernels (slow; same results).
    """
    if not 0 <= index < len(plan.chunks):
        raise ValueError(f"Argument 'index' must be in [0, {len(plan.chunks)}), not {index}")
    if not reference:
        warm()  # loading the Numba kernels is start-up, not scanning
    t0 = time.perf_counter()
    p = plan.params
    ch = plan.chunks[index]
    transforms = plan.transforms[ch.start : ch.stop]
    periods = plan.periods
    hit_rows = scan_chunk(plan, index, reference)
    scan_seconds = time.perf_counter() - t0
    hits = 0
    found: list[Conjecture] = []
    rejected: list[dict] = []
    for i, j, seq, L in hit_rows:
        t, signs = transforms[i], periods[j]
        pinned = _gate_digits(seq, signs, L)
        if pinned < p.min_digits:
            continue
        rec = bm.find_recurrence(list(seq), p.margin)
        if rec is None:
            continue
        hits += 1
        ball = transform_ball(plan.constant, t, 60)
        conj, why = _approve_hit(plan, t, signs, seq, rec, ball, pinned)
        if conj is None:
            rejected.append({"lhs": t.text, "signs": signs_to_text(signs), "reason": why})
        else:
            found.append(conj)
    return ChunkResult(
        index=index,
        conjectures=tuple(found),
        candidates=len(transforms) * len(periods),
        hits=hits,
        seconds=time.perf_counter() - t0,
        rejected=tuple(rejected),
        scan_seconds=scan_seconds,
    )


def _approve_hit(plan: SearchPlan, t: Transform, signs, terms, rec, ball, pinned: float):
    p = plan.params
    try:
        form = closed_form(rec, terms)
    except ArithmeticError as exc:
        return None, f"closed form: {exc}"
    verdict = approve(plan.constant, t, signs, rec, terms, p.verify_digits)
    if not verdict.ok:
        return None, verdict.reason or f"approved only {verdict.verified_digits} digits"
    keep = min(verdict.certified_terms, max(30, rec.linear_complexity + rec.order + 10))
    stored = tuple(rec.extend(list(terms), keep))
    status, reason = "conjecture", ""
    if form.kind == "periodic":
        reason = "eventually periodic: T(c) is then a quadratic irrational (Lagrange); not a new constant formula"
    conj = Conjecture(
        constant=plan.constant.text,
        lhs=t.text,
        lhs_numerator=t.numerator,
        lhs_denominator=t.denominator,
        value=_value_text(ball),
        signs=tuple(signs),
        preperiod=form.start if form.polynomials else rec.preperiod,
        terms=stored,
        recurrence=rec.coefficients,
        closed_form=form.text,
        kind=form.kind,
        verified_digits=verdict.verified_digits,
        digits_per_term=round(verdict.digits_per_term, 4),
        scf_digits_per_term=round(verdict.scf_digits_per_term, 4),
        status=status,
        status_reason=reason,
        key=f"{t.key()}|{signs_to_text(signs)}",
        group=_group_key(ball),
        period=form.period,
        polynomials=tuple(tuple(str(c) for c in poly) for poly in form.polynomials),
        linear_complexity=rec.linear_complexity,
        detection_terms=len(terms),
        detection_digits=int(pinned),
        verify_terms=verdict.terms_used,
        cf_text=cf_text(stored, signs, 8),
    )
    return conj, ""


def search(
    expr: str,
    progress: Callable[[ChunkResult, int, int], None] | None = None,
    reference: bool = False,
    **params: Any,
) -> SearchResult:
    """Search ``expr`` for signed continued fraction formulas and return the approved conjectures.

    Parameters are those of ``SearchParams`` (degree, coeff_limit, min_period, max_period, depth, digits,
    verify_digits, margin, min_digits, chunk_size).  ``progress(chunk_result, done, total)`` is called after each
    chunk.  ``reference=True`` runs the pure-Python twins of the kernels instead (same results, slower).
    Nothing found is an empty list, not an error.
    """
    plan = plan_search(expr, **params)
    t0 = time.perf_counter()
    results = []
    for i in range(len(plan.chunks)):
        r = run_chunk(plan, i, reference=reference)
        results.append(r)
        if progress is not None:
            progress(r, i + 1, len(plan.chunks))
    return merge_results(plan, results, time.perf_counter() - t0)


def merge_results(plan: SearchPlan, results: list[ChunkResult], seconds: float) -> SearchResult:
    """Combine chunk results in chunk order; conjectures keep the plan's deterministic order."""
    conjectures: list[Conjecture] = []
    seen: set[str] = set()
    for r in sorted(results, key=lambda r: r.index):
        for c in r.conjectures:
            if c.key not in seen:
                seen.add(c.key)
                conjectures.append(c)
    return SearchResult(
        constant=plan.constant.text,
        params=plan.params,
        conjectures=conjectures,
        candidates=sum(r.candidates for r in results),
        hits=sum(r.hits for r in results),
        seconds=seconds,
        rejected=[x for r in results for x in r.rejected],
        scan_seconds=sum(r.scan_seconds for r in results),
    )
