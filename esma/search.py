"""The ESMA search: transforms x sign periods -> certified expansions -> Berlekamp–Massey -> families -> approval.

For a constant c, every transform T of the LHS space (``esma.transforms``) and every sign period
(``esma.scf.sign_periods``) is a *candidate*.  A candidate's leading ``depth`` terms are computed certified
from an enclosure of T(c); their linear complexity L (modulo a prime, batched in Numba) makes it a *hit* when

* N >= 2L + margin, with N the number of certified terms (the margin terms are predictions that came true), and
* the predicted terms (after the first 2L, which fix the recurrence) pin down at least ``min_digits`` digits of
  T(c): long runs of 2 in negative fractions pin almost none, so the gate is on digits consumed, not on terms.

A search runs in two phases.

1. **Scan** (``run_chunk``, in chunks that workers can run anywhere): T and T + k have the same expansion after
   a_0 under every sign period, so each *translation class* of the space is scanned once, through its first
   transform.  A hit is confirmed exactly over the rationals (``esma.bm.find_recurrence``) and given a closed
   form (``esma.patterns``); the chunk returns these confirmed, not yet approved, ``Hit`` records.
2. **Families** (``assemble``): the hits of every class member are placed on their canonical tails
   (``esma.families``); per family the representative (the simplest member) is approved numerically against an
   independent evaluation of T(c) (``esma.verify.approve``), and every other member follows from it through its
   exact relation G, checked as an identity in Z[c] (its digits are those the representative's approval implies
   through G).  A member whose identity fails, or whose derived digits fall short, is approved on its own.
   Only approved formulas come out.

The space is split into deterministic chunks of translation classes (each with every sign period), so a
caller can checkpoint per chunk and resume, or spread chunks over workers.  This module does no I/O.

>>> result = search("exp(2)", coeff_limit=1, max_period=1, verify_digits=200)   # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Any

import numpy as np

from esma import bm
from esma.families import (
    KnownTail,
    Placement,
    TailIndex,
    derived_digits,
    identity_holds,
    placement,
    relation,
    simplicity,
    tail_from_key,
    tail_of,
)
from esma.memory import paused_gc
from esma.patterns import closed_form, closed_form_text
from esma.qpoly import lag_test, lag_test_py, preperiod_of
from esma.records import Conjecture, Family, Hit, Recurrence, fraction_text, signs_to_text
from esma.render import cf_text
from esma.scf import sign_periods
from esma.transducer import (
    SCAN_PRIME,
    constant_cf,
    mobius_terms,
    mobius_terms_py,
    scan,
    scan_py,
    scan_rows,
    warm,
)
from esma.transforms import Transform, transform_ball, transform_space
from esma.verify import Approval, _log10_q_growth, _scf_rate, approve

__all__ = [
    "Assembly",
    "ChunkResult",
    "SearchParams",
    "SearchPlan",
    "SearchResult",
    "assemble",
    "family_keys",
    "plan_search",
    "rank_families",
    "regroup",
    "run_chunk",
    "scan_chunk",
    "search",
]

#: Digits beyond ``verify_digits`` to which a representative is approved, so that its members, whose relative
#: error grows through G (by a few digits at most in practice), still reach ``verify_digits``; a member that
#: would lose more is approved on its own.  A fixed margin, not one fitted to the members found so far: the
#: representative's approval, hence every derived figure, is then the same whatever order chunks arrive in and
#: however often a search is stopped and resumed.
EXTRA_DIGITS = 10
#: Representatives tried per family before its hits are all rejected (a false pattern fails for every member).
MAX_REP_ATTEMPTS = 3


@dataclass(frozen=True)
class SearchParams:
    """Parameters of a search; the defaults find the classical formulas of DESIGN section 5.

    ``depth`` is the paper's window: Berlekamp–Massey on the first ``depth`` terms finds any recurrence of
    order up to (depth - margin)/2.  Beyond it, the deep search (``esma.qpoly``) finds every tail of interlaced
    polynomials of degree <= 2 with quasi-period up to ``max_qperiod`` after a pre-period up to
    ``max_preperiod`` (``deep_terms`` certified terms per candidate); ``max_qperiod=0`` turns it off.
    ``digits`` is the precision of the continued fractions of c and c^2 that feed the scan (``None``: 10 digits
    per deep term, at least 300; a decimal literal carries what it carries); ``margin`` is the number of
    correctly predicted terms beyond 2L; ``min_digits`` the digits of T(c) that those predicted terms must pin
    down (so that a prediction is worth something).
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
    max_qperiod: int = 200
    max_preperiod: int = 150

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
        for name in ("max_qperiod", "max_preperiod"):
            if not 0 <= getattr(self, name) <= 1000:
                raise ValueError(f"Argument '{name}' must be in [0, 1000], not {getattr(self, name)}")

    @property
    def deep_terms(self) -> int:
        """Certified terms made per candidate: the window, or what the deep search needs (R + 3P + margin)."""
        if self.max_qperiod == 0:
            return self.depth
        return max(self.depth, self.max_preperiod + 3 * self.max_qperiod + self.margin)

    @property
    def scan_digits(self) -> int:
        """Precision of the continued fractions of c and c^2 (each deep term takes a few digits)."""
        return self.digits if self.digits is not None else max(300, 10 * self.deep_terms)

    @property
    def quad_digits(self) -> int:
        """Precision of the simple continued fraction of a quadratic transform that is not a map of c^2."""
        return self.digits if self.digits is not None else max(300, 5 * self.depth)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """Translation classes ``[start, stop)`` of the plan (``plan.reps``), each with every sign period."""

    index: int
    start: int
    stop: int


@dataclass(frozen=True)
class SearchPlan:
    """A search laid out as deterministic chunks (same constant and parameters -> same chunks).

    ``transforms`` is the whole LHS space (distinct values); ``reps[i]`` indexes the first transform of the
    i-th translation class and ``shifts[i]`` lists its members as (transform index, k) with T_member = T_rep + k
    (the representative itself with k = 0).  Chunks run over the classes.
    """

    constant: Any  # esma.constants.Constant
    params: SearchParams
    transforms: tuple[Transform, ...]
    periods: tuple[tuple[int, ...], ...]
    chunks: tuple[Chunk, ...]
    reps: tuple[int, ...] = ()
    shifts: tuple[tuple[tuple[int, int], ...], ...] = ()

    @property
    def candidates(self) -> int:
        """Every (transform, sign period) of the space: what the search covers."""
        return len(self.transforms) * len(self.periods)

    @property
    def scanned(self) -> int:
        """The candidates actually expanded: one transform per translation class."""
        return len(self.reps) * len(self.periods)

    def chunk_candidates(self, index: int) -> int:
        ch = self.chunks[index]
        return sum(len(self.shifts[i]) for i in range(ch.start, ch.stop)) * len(self.periods)

    @cached_property
    def class_index(self) -> dict[int, int]:
        """The translation class of each representative: ``class_index[reps[i]] == i``."""
        return {rep: i for i, rep in enumerate(self.reps)}

    @cached_property
    def certified_terms(self) -> int:
        """How deep the constant's precision reaches: the certified terms of c itself (signs +) that the scan's
        fraction of c gives, at most ``params.deep_terms`` (fewer for a decimal literal with few digits)."""
        cf = constant_cf(self.constant, self.params.scan_digits)
        return len(mobius_terms(cf, (1, 0, 0, 1), (1,), self.params.deep_terms)[0]) if cf else 0

    def chunk_transforms(self, index: int) -> tuple[Transform, ...]:
        """The class representatives scanned by chunk ``index``."""
        ch = self.chunks[index]
        return tuple(self.transforms[self.reps[i]] for i in range(ch.start, ch.stop))


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk produced: confirmed hits (not yet approved) and scan statistics.

    ``candidates`` counts the space the chunk covers (every member of its translation classes); ``scanned``
    the candidates expanded.
    """

    index: int
    hits: tuple[Hit, ...]
    candidates: int
    scanned: int
    seconds: float
    scan_seconds: float = 0.0
    rejected: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Assembly:
    """The approved formulas of a set of hits, grouped in families.

    ``conjectures``: every record to store (new members, and stored ones whose representative changed);
    ``families``: the summaries of the families whose representative is among them, ranked; ``rejected``: hits
    that failed approval, with the reason; ``approvals``: numerical approvals run; ``seconds``: wall time;
    ``found``: the keys of the formulas the hits stand for; ``unproved``: the families of a registry constant
    whose representative could not be proved, with the prover's reason; ``proof_seconds``: the time proofs took
    (finding and checking certificates); ``approval_seconds``: the time numerical approvals took.
    """

    conjectures: list[Conjecture]
    families: list[Family]
    rejected: list[dict]
    approvals: int
    seconds: float
    found: set[str] = field(default_factory=set)
    unproved: list[dict] = field(default_factory=list)
    proof_seconds: float = 0.0
    approval_seconds: float = 0.0


@dataclass
class SearchResult:
    """All conjectures of a search (one record per formula, each with its family) and the ranked families."""

    constant: str
    params: SearchParams
    conjectures: list[Conjecture]
    candidates: int
    hits: int
    seconds: float
    rejected: list[dict] = field(default_factory=list)
    scan_seconds: float = 0.0
    families: list[Family] = field(default_factory=list)
    scanned: int = 0
    approvals: int = 0
    proof_seconds: float = 0.0
    unproved: list[dict] = field(default_factory=list)

    @property
    def candidates_per_second(self) -> float:
        return self.candidates / self.seconds if self.seconds > 0 else 0.0

    @property
    def scan_candidates_per_second(self) -> float:
        """The scan rate: candidates covered per second of scanning, approvals excluded."""
        return self.candidates / self.scan_seconds if self.scan_seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "constant": self.constant,
            "params": self.params.to_dict(),
            "candidates": self.candidates,
            "scanned": self.scanned,
            "seconds": round(self.seconds, 3),
            "candidates_per_second": round(self.candidates_per_second, 1),
            "scan_seconds": round(self.scan_seconds, 3),
            "scan_candidates_per_second": round(self.scan_candidates_per_second, 1),
            "hits": self.hits,
            "conjectures": len(self.conjectures),
            "families": len(self.families),
            "approvals": self.approvals,
            "proved": sum(1 for c in self.conjectures if c.status == "proved"),
            "proved_families": sum(1 for f in self.families if f.status == "proved"),
            "proof_seconds": round(self.proof_seconds, 3),
        }

    def groups(self) -> dict[str, list[Conjecture]]:
        """Conjectures keyed by value group (same T(c) under several sign periods, or equal values)."""
        out: dict[str, list[Conjecture]] = {}
        for c in self.conjectures:
            out.setdefault(c.group, []).append(c)
        return out

    def family(self, key: str) -> list[Conjecture]:
        """The members of the family ``key`` (representative first)."""
        return [c for c in self.conjectures if c.family == key]


# ------------------------------------------------------------------------------------------------ planning


def translation_classes(transforms: Sequence[Transform]) -> list[list[tuple[int, int]]]:
    """The translation classes of a list of canonical transforms: T and T + k (k an integer) in one class.

    Returns, per class in order of first appearance, its members as (index, k) with T_index = T_first + k.
    T + k is (P + kQ)/Q: same denominator, numerator congruent modulo Q, so the class is keyed by Q and by P
    reduced so that its coefficient at Q's top degree lies in [0, Q_top).

    >>> from esma.transforms import transform_space
    >>> ts = transform_space(1, 1)
    >>> [[ts[i].text for i, _ in cls] for cls in translation_classes(ts) if len(cls) > 1][:2]
    [['c', 'c - 1', 'c + 1'], ['1/c', '(c + 1)/c']]
    """
    classes: dict[tuple, list[tuple[int, int]]] = {}
    firsts: dict[tuple, tuple[int, ...]] = {}
    for idx, t in enumerate(transforms):
        q = t.denominator
        top = max(i for i, x in enumerate(q) if x)
        k = t.numerator[top] // q[top]
        reduced = tuple(a - k * b for a, b in zip(t.numerator, q, strict=True))
        cls_key = (reduced, q)
        members = classes.setdefault(cls_key, [])
        if not members:
            firsts[cls_key] = t.numerator
            members.append((idx, 0))
        else:
            first = firsts[cls_key]
            members.append((idx, (t.numerator[top] - first[top]) // q[top]))
    return list(classes.values())


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
    classes = translation_classes(transforms)
    reps = tuple(cls[0][0] for cls in classes)
    shifts = tuple(tuple(cls) for cls in classes)
    chunks = tuple(
        Chunk(i, start, min(start + p.chunk_size, len(reps)))
        for i, start in enumerate(range(0, len(reps), p.chunk_size))
    )
    return SearchPlan(c, p, transforms, periods, chunks, reps, shifts)


def distinct_values(constant, transforms: tuple[Transform, ...]) -> tuple[Transform, ...]:
    """The LHS space at c: of T and -T the one with the positive value (as in the paper, whose prototype expands
    |T|: under one periodic sign pattern T and -T expand to different formulas, and a reader expects
    (c - 1)/(2 - c) = [1; 3, 1, 5, ...] for tan 1, not (c - 1)/(c - 2) = -2 + 1/(1 + ...)); transforms whose
    value equals (up to sign) an earlier one's, or vanishes, are dropped: the last-resort deduplication of the
    space, which matters for algebraic c ((c + 2)/(c + 1) = c at c = sqrt 2).

    Values are compared at 40 significant digits (fewer when the constant carries fewer).  When the constant
    carries too few digits to compare values, each transform is kept (with its positive sign when that is
    certain).
    """
    from flint import ctx

    from esma.constants import accuracy_digits

    ball = constant.ball(60)
    digits = min(40, accuracy_digits(ball) - 8)
    seen: set[str] = set()
    kept: list[Transform] = []
    with ctx.workprec(260):
        for t in transforms:
            v = t.evaluate(ball)
            if digits < 12:  # too few digits to call two values equal
                kept.append(_negated(t) if v < 0 else t)
                continue
            if not v.is_finite() or v.contains(0):
                continue
            key = abs(v).str(digits, radius=False)
            if key not in seen:
                seen.add(key)
                kept.append(_negated(t) if v < 0 else t)
    return tuple(kept)


def _negated(t: Transform) -> Transform:
    """-T: the numerator negated (the denominator keeps its positive leading coefficient)."""
    return Transform(tuple(-x for x in t.numerator), t.denominator)


def _per_tuple(cache: dict, obj: tuple, salt, compute: Callable[[], Any]) -> Any:
    """``compute()``, memoised in ``cache`` by the identity of ``obj`` (and ``salt``).

    A hit's class members share their polynomials (one tuple object), and hashing tuples of Fractions costs more
    than the texts made from them; the entry holds the tuple, so its id cannot be reused while the entry lives.
    """
    key = (id(obj), salt)
    hit = cache.get(key)
    if hit is None or hit[0] is not obj:
        if len(cache) > 8192:
            cache.clear()
        hit = cache[key] = (obj, compute())
    return hit[1]


_TEXTS: dict[tuple[int, Any], tuple[tuple, Any]] = {}


def _closed_form_text(period: int, start: int, head: tuple[int, ...], polynomials) -> str:
    """``closed_form_text`` with the polynomials' part shared: the texts of a class's members differ only in the
    head."""
    body = _per_tuple(_TEXTS, polynomials, period, lambda: closed_form_text(period, 0, (), polynomials))
    if not start:
        return body
    return f"{body} for n >= {start}; " + ", ".join(f"a({i}) = {head[i]}" for i in range(start))


def _polynomial_texts(polynomials: tuple[tuple[Fraction, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """The record's form of interlaced polynomials: each coefficient as the text of a fraction."""
    return _per_tuple(_TEXTS, polynomials, "coefficients",
                      lambda: tuple(tuple(fraction_text(c) for c in poly) for poly in polynomials))


@lru_cache(maxsize=16384)
def _value_texts(constant, transform: Transform) -> tuple[str, str]:
    """T(c) to 60 significant digits, and its value group: values equal up to sign share a group (40 significant
    digits separate distinct small-height values).  Per transform: every sign period of one T shares them."""
    ball = transform_ball(constant, transform, 60)
    return ball.str(60, radius=False), ball.str(40, radius=False).lstrip("-")


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


# ------------------------------------------------------------------------------------------------ phase 1


ScanHit = tuple[int, int, tuple[int, ...], int, int]


def scan_chunk(plan: SearchPlan, index: int, reference: bool = False) -> list[ScanHit]:
    """The scan of chunk ``index``: (class offset in the chunk, period index, terms, complexity, lag) of every hit.

    A hit of the window has its complexity mod p (>= 1) and lag 0; a candidate of the deep search has complexity
    0, the lag P of its interlaced polynomials, and comes with its certified terms extended far enough for
    Berlekamp–Massey to confirm it: 2 (R + 3P) + margin + P terms (``_confirmation_terms``), from the same
    transducer.  This is what the scan rate measures: laying
    out the chunk, the fused kernel over all its candidates, and the extraction of the hits (approval excluded).
    ``reference=True`` runs the exact pure-Python twins.
    """
    if not 0 <= index < len(plan.chunks):
        raise ValueError(f"Argument 'index' must be in [0, {len(plan.chunks)}), not {index}")
    p = plan.params
    periods = plan.periods
    rows = scan_rows(plan.constant, plan.chunk_transforms(index), p.scan_digits, p.deep_terms, p.quad_digits,
                     p.depth + 20)
    max_l = max(0, (p.depth - p.margin) // 2)
    n_p = len(periods)
    knobs = {"bm_depth": p.depth, "max_qp": p.max_qperiod, "min_digits": p.min_digits}
    if reference:
        results = scan_py(rows, periods, p.deep_terms, p.margin, max_l, **knobs)
        found = [(r // n_p, r % n_p, terms, L, P, s0) for r, (terms, L, P, s0) in enumerate(results)
                 if L > 0 or P > 0]
    else:
        terms, n_out, l_out, _, qp, qs = scan(rows, periods, p.deep_terms, p.margin, max_l, **knobs)
        found = [(int(r) // n_p, int(r) % n_p, tuple(terms[r, : n_out[r]].tolist()), int(l_out[r]), int(qp[r]),
                  int(qs[r])) for r in np.nonzero((l_out > 0) | (qp > 0))[0]]
    complexity = bm.linear_complexity_py if reference else bm.linear_complexity
    out = []
    for i, j, seq, L, P, s0 in found:
        if L > 0:
            # a hit of the window stands only if the rest of the certified terms keep its complexity; where they
            # do not, the window's pattern was a coincidence and the deep search looks at all the terms
            if len(seq) <= p.depth or complexity(seq, SCAN_PRIME, L) == L:
                out.append((i, j, seq, L, 0))
                continue
            test = lag_test_py if reference else lag_test
            P, s0 = test(seq, periods[j], p.max_qperiod, max(p.margin, 1), p.min_digits) if p.max_qperiod else (0, 0)
            if not P:
                continue
        need = _confirmation_terms(P, s0, p.margin)
        if need > len(seq):
            cf, coef = rows.cfs[rows.index[i]], rows.coefs[i]
            seq = mobius_terms_py(cf, coef, periods[j], need)[0] if reference else (
                mobius_terms(cf, coef, periods[j], need)[0])
        out.append((i, j, seq, 0, P))
    return out


def _confirmation_terms(P: int, s: int, margin: int) -> int:
    """Terms for Berlekamp–Massey to confirm a lag-test candidate (P, s): its recurrence has order at most
    R + 3P (R its pre-period), so 2 (R + 3P) + margin terms decide it, and a further quasi-period of predictions
    lets them pin digits even where the terms are small."""
    return 2 * (preperiod_of(P, s) + 3 * P) + margin + P


def _stored_length(linear_complexity: int, order: int) -> int:
    """Leading terms kept in a record: enough to restart the recurrence, and at least 30."""
    return max(30, linear_complexity + order + 10)


def run_chunk(plan: SearchPlan, index: int, reference: bool = False) -> ChunkResult:
    """Scan chunk ``index`` of ``plan`` and confirm its hits exactly (recurrence and closed form).

    ``reference=True`` runs the exact pure-Python twins of the Numba kernels (slow; same results).
    """
    if not 0 <= index < len(plan.chunks):
        raise ValueError(f"Argument 'index' must be in [0, {len(plan.chunks)}), not {index}")
    if not reference:
        warm()  # loading the Numba kernels is start-up, not scanning
    t0 = time.perf_counter()
    p = plan.params
    ch = plan.chunks[index]
    periods = plan.periods
    hit_rows = scan_chunk(plan, index, reference)
    scan_seconds = time.perf_counter() - t0
    found: list[Hit] = []
    rejected: list[dict] = []
    known = _tail_index(plan)
    for i, j, seq, L, lag in hit_rows:
        signs = periods[j]
        fast = known.match(seq, signs)
        rec = None
        if L == 0:
            # a candidate of the deep search: a known tail entered at ``start`` has complexity start + order over
            # terms this long (>= 2 L + margin: the complexity of the whole window, by the uniqueness of the
            # shortest register); otherwise Berlekamp–Massey over the extended terms decides
            if fast is not None and len(seq) >= 2 * (fast[2] + len(fast[0].recurrence) - 1) + p.margin:
                L = fast[2] + len(fast[0].recurrence) - 1
            else:
                rec = bm.find_recurrence(list(seq), p.margin)
                if rec is None:
                    continue
                L = rec.linear_complexity
        pinned = _gate_digits(seq, signs, L)
        if pinned < p.min_digits:
            continue
        t_index = plan.reps[ch.start + i]
        if fast is not None and fast[2] + len(fast[0].recurrence) - 1 == L:
            # a known tail, entered at ``start``: the closed form follows from the family's (L = start + order
            # is what Berlekamp–Massey gives then, so the result is the full computation's)
            tail, offset, start = fast
            rec = Recurrence(tail.recurrence, start)
            found.append(_hit(t_index, j, seq, rec, start, tail.kind, tail.period, tail.polynomials_at(offset),
                              pinned, tail.tail.key, offset))
            continue
        if rec is None:
            # a hit of the window: its recurrence from the window's terms must hold on every certified term
            rec = bm.find_recurrence(list(seq[: p.depth]), p.margin)
            if rec is None or not rec.holds_on(seq):
                continue
        try:
            form = closed_form(rec, seq, lag)
        except ArithmeticError as exc:
            rejected.append({"lhs": plan.transforms[t_index].text, "signs": signs_to_text(signs),
                             "reason": f"closed form: {exc}"})
            continue
        family, offset = "", 0
        if form.polynomials:
            tail, offset = tail_of(signs, form.start, form.period, form.polynomials)
            family = tail.key
            known.add(KnownTail.of(tail, offset, rec.coefficients, form.period, form.polynomials, form.kind),
                      len(seq) - TailIndex.WINDOW - offset)
        start = form.start if form.polynomials else rec.preperiod
        found.append(_hit(t_index, j, seq, rec, start, form.kind, form.period, form.polynomials, pinned, family,
                          offset))
    return ChunkResult(
        index=index,
        hits=tuple(found),
        candidates=plan.chunk_candidates(index),
        scanned=(ch.stop - ch.start) * len(periods),
        seconds=time.perf_counter() - t0,
        scan_seconds=scan_seconds,
        rejected=tuple(rejected),
    )


def _hit(t_index, j, seq, rec: Recurrence, start, kind, period, polynomials, pinned, family, offset) -> Hit:
    keep = _stored_length(rec.linear_complexity, rec.order)
    return Hit(
        transform=t_index,
        period=j,
        terms=tuple(seq[:keep]) if keep <= len(seq) else tuple(rec.extend(list(seq), keep)),
        recurrence=rec.coefficients,
        start=start,
        kind=kind,
        form_period=period,
        polynomials=polynomials,
        detection_terms=len(seq),
        detection_digits=int(pinned),
        linear_complexity=rec.linear_complexity,
        family=family,
        offset=offset,
    )


#: The tails each process has met, per search (a worker runs many chunks of one search): see ``TailIndex``.
_TAIL_INDEXES: dict[tuple, TailIndex] = {}


def _tail_index(plan: SearchPlan) -> TailIndex:
    key = (plan.constant.text, tuple(sorted(plan.params.to_dict().items())))
    index = _TAIL_INDEXES.get(key)
    if index is None:
        while len(_TAIL_INDEXES) >= 4:
            del _TAIL_INDEXES[next(iter(_TAIL_INDEXES))]
        index = _TAIL_INDEXES[key] = TailIndex()
    return index


# ------------------------------------------------------------------------------------------------ phase 2


@dataclass(frozen=True)
class _Member:
    """A formula on its way to the catalog: a class member of a hit, or a stored record."""

    transform: Transform
    signs: tuple[int, ...]
    terms: tuple[int, ...]
    start: int
    recurrence: tuple[int, ...]
    kind: str
    form_period: int
    polynomials: tuple[tuple[Fraction, ...], ...]
    place: Placement
    detection_terms: int
    detection_digits: int
    linear_complexity: int
    record: Conjecture | None = None

    @cached_property
    def key(self) -> str:
        return f"{self.transform.key()}|{signs_to_text(self.signs)}"

    @cached_property
    def order(self) -> tuple:
        return simplicity(self.transform.numerator, self.transform.denominator, self.start, self.transform.text,
                          signs_to_text(self.signs))


def _shifted_start(hit: Hit, place: Placement, a0: int) -> int:
    """The first index of the tail regime once a_0 is replaced by ``a0`` (only index 0 changes)."""
    if not hit.polynomials:
        return hit.start if hit.start >= 1 or a0 == hit.terms[0] else 1
    if hit.start >= 2:
        return hit.start
    return 0 if a0 == place.tail.term(-place.offset) else 1  # type: ignore[union-attr]


def _members_of_hit(plan: SearchPlan, hit: Hit, class_index: int) -> list[_Member]:
    """The hit of a class representative, for every member T + k of its translation class (a_0 + k)."""
    signs = plan.periods[hit.period]
    rep_t = plan.transforms[hit.transform]
    if hit.family:  # placed by the scan (``TailIndex``): the tail is parsed once per family
        base = Placement(hit.family, tail_from_key(hit.family), hit.offset, hit.start)
    else:
        base = placement(signs, hit.start, hit.form_period, hit.polynomials, f"{rep_t.key()}|{signs_to_text(signs)}")
    out = []
    for t_index, k in plan.shifts[class_index]:
        t = plan.transforms[t_index]
        terms = (hit.terms[0] + k, *hit.terms[1:])
        start = _shifted_start(hit, base, terms[0]) if k else hit.start
        place = base if base.tail is not None else replace(base, key=f"x|{t.key()}|{signs_to_text(signs)}")
        place = replace(place, start=start)
        out.append(_Member(t, signs, terms, start, hit.recurrence, hit.kind, hit.form_period, hit.polynomials,
                           place, hit.detection_terms, hit.detection_digits, start + len(hit.recurrence) - 1))
    return out


def _member_of_record(conj: Conjecture) -> _Member:
    """A stored record as a member (to re-derive it from a new representative)."""
    t = Transform(tuple(conj.lhs_numerator), tuple(conj.lhs_denominator))
    polys = tuple(tuple(Fraction(c) for c in p) for p in conj.polynomials)
    place = placement(conj.signs, conj.preperiod, conj.period, polys, conj.key)
    return _Member(t, tuple(conj.signs), tuple(conj.terms), conj.preperiod, tuple(conj.recurrence), conj.kind,
                   conj.period, polys, place, conj.detection_terms, conj.detection_digits,
                   conj.linear_complexity, record=conj)


def _relation(member: _Member, rep: _Member) -> tuple[tuple[int, int, int, int], int, int]:
    """G, and the head lengths (k_member, k_rep) that align the two tails."""
    return relation((member.terms, member.place, member.signs), (rep.terms, rep.place, rep.signs))


def _record(
    plan: SearchPlan,
    m: _Member,
    figures: tuple[int, int, float, float],
    family: str,
    representative: bool,
    relation: tuple[int, int, int, int],
    proof: tuple[str, dict] | None = None,
) -> Conjecture:
    """The catalog record of member ``m`` with its approval figures (verified digits, terms used, digits per
    term, digits per term of the simple continued fraction), and its proof (reason, checked certificate)."""
    verified, used, dpt, scf = figures
    dpt, scf = round(dpt, 4), round(scf, 4)
    gain = _gain(dpt, scf)
    if m.record is not None:  # a stored formula keeps its identity and status; its family figures change
        rec = m.record
        moved = (rec.family, rec.representative, rec.relation) != (family, representative, relation)
        if proof is not None and rec.status != "refuted":
            rec = replace(rec, status="proved", status_reason=proof[0], certificate=proof[1])
        elif moved and rec.status == "proved":  # its proof went through the old representative
            rec = replace(rec, status="conjecture", status_reason="", certificate=None)
        return replace(rec, verified_digits=verified, verify_terms=used, digits_per_term=dpt,
                       scf_digits_per_term=scf, gain=gain, family=family, representative=representative,
                       relation=relation)
    value, group = _value_texts(plan.constant, m.transform)
    status, reason, certificate = "conjecture", "", None
    if proof is not None:
        status, (reason, certificate) = "proved", proof
    elif m.kind == "periodic":
        reason = "eventually periodic: T(c) is then a quadratic irrational (Lagrange); not a new constant formula"
    head = m.terms[: m.start]
    text = _closed_form_text(m.form_period, m.start, head, m.polynomials) if m.polynomials else (
        closed_form(Recurrence(m.recurrence, m.start), m.terms).text)
    return Conjecture(
        constant=plan.constant.text,
        lhs=m.transform.text,
        lhs_numerator=m.transform.numerator,
        lhs_denominator=m.transform.denominator,
        value=value,
        signs=m.signs,
        preperiod=m.start,
        terms=m.terms,
        recurrence=m.recurrence,
        closed_form=text,
        kind=m.kind,
        verified_digits=verified,
        digits_per_term=dpt,
        scf_digits_per_term=scf,
        status=status,
        status_reason=reason,
        key=m.key,
        group=group,
        period=m.form_period,
        polynomials=_polynomial_texts(m.polynomials),
        linear_complexity=m.linear_complexity,
        detection_terms=m.detection_terms,
        detection_digits=m.detection_digits,
        verify_terms=used,
        cf_text=cf_text(m.terms, m.signs, 8),
        family=family,
        representative=representative,
        relation=relation,
        gain=gain,
        certificate=certificate,
    )


ApproveMany = Callable[[list[tuple[Any, Transform, tuple[int, ...], Recurrence, tuple[int, ...], int]]],
                       list[Approval]]


def approve_serial(requests) -> list[Approval]:
    """Run approval requests (constant, transform, signs, recurrence, head, digits) one after the other."""
    return [approve(c, t, s, rec, head, digits) for c, t, s, rec, head, digits in requests]


def _figures(verdict: Approval) -> tuple[int, int, float, float]:
    """The approval figures a record keeps: verified digits, terms used, digits per term, and those of the simple
    continued fraction."""
    return verdict.verified_digits, verdict.terms_used, verdict.digits_per_term, verdict.scf_digits_per_term


def _stored_figures(c: Conjecture) -> tuple[int, int, float, float]:
    """``_figures`` of a stored record."""
    return c.verified_digits, c.verify_terms, c.digits_per_term, c.scf_digits_per_term


def _failure(verdict: Approval) -> str:
    return verdict.reason or f"approved only {verdict.verified_digits} digits"


def _rejection(m: _Member, reason: str) -> dict[str, str]:
    return {"lhs": m.transform.text, "signs": signs_to_text(m.signs), "reason": reason}


@dataclass(frozen=True)
class _Pending:
    """A formula the families phase will store: its approval figures and family fields."""

    member: _Member
    figures: tuple[int, int, float, float]
    family: str
    representative: bool
    relation: tuple[int, int, int, int]


@dataclass
class _FamilyWork:
    key: str
    candidates: list[_Member]  # simplest first
    stored_rep: Conjecture | None = None
    rep: _Member | None = None
    relations: dict[str, tuple[tuple[int, int, int, int], int, int, bool]] = field(default_factory=dict)
    approval: tuple[int, int, float, float] | None = None  # the representative's figures
    reapproved: bool = False
    required: int = 0
    failed: list[tuple[_Member, str]] = field(default_factory=list)


def assemble(
    plan: SearchPlan,
    hits: Iterable[Hit],
    *,
    stored_reps: Mapping[str, Conjecture] | None = None,
    load_members: Callable[[str], list[Conjecture]] | None = None,
    approve_many: ApproveMany | None = None,
    prove: bool = True,
) -> Assembly:
    """Approve a set of hits family by family (phase 2 of a search).

    ``hits``: the ``Hit`` records of the scan (a hit of a class representative stands for every member of its
    translation class).  ``stored_reps``: the catalog's current representative of each family key it knows;
    a stored representative that stays the simplest member is not approved again (unless more digits are
    needed), and when a new hit is simpler, ``load_members(key)`` gives the stored members to re-derive from the
    new one.  ``approve_many`` runs numerical approvals (default: one after the other, here).  ``prove``: turn
    what follows from a registry theorem into ``proved`` records with checked certificates (DESIGN 8).

    The records returned are those to store: every formula of ``hits`` (``Assembly.found`` holds their keys),
    and stored ones whose representative or figures changed.
    """
    with paused_gc():
        return _assemble(plan, hits, stored_reps, load_members, approve_many, prove)


def _assemble(plan, hits, stored_reps, load_members, approve_many, prove) -> Assembly:
    t0 = time.perf_counter()
    stored_reps = stored_reps or {}
    approve_many = approve_many or approve_serial
    required = plan.params.verify_digits
    families: dict[str, _FamilyWork] = {}
    found: set[str] = set()
    for hit in hits:
        for m in _members_of_hit(plan, hit, plan.class_index[hit.transform]):
            if m.key in found:
                continue
            found.add(m.key)
            work = families.get(m.place.key)
            if work is None:
                work = families[m.place.key] = _FamilyWork(m.place.key, [], stored_reps.get(m.place.key))
            work.candidates.append(m)
    for work in families.values():
        work.candidates.sort(key=lambda m: m.order)
        if work.stored_rep is None:
            continue
        stored = _member_of_record(work.stored_rep)
        fresh = [m for m in work.candidates if m.key != stored.key]
        if not fresh or stored.order <= fresh[0].order:
            work.rep = stored  # still the simplest: derive the new members from it
            work.candidates = [stored, *fresh]
            if load_members and work.stored_rep.verified_digits < required + EXTRA_DIGITS:
                # it is approved again, deeper: the stored members are derived again from it with the new ones
                known = {m.key for m in work.candidates}
                loaded = [_member_of_record(r) for r in load_members(work.key) if r.key not in known]
                work.candidates = [stored, *sorted(fresh + loaded, key=lambda m: m.order)]
        else:
            # a new hit is simpler: the stored members move under it and are derived again
            known = {m.key for m in fresh}
            loaded = load_members(work.key) if load_members else [work.stored_rep]
            work.candidates = fresh + [_member_of_record(r) for r in loaded if r.key not in known]
            work.candidates.sort(key=lambda m: m.order)
    approvals = 0
    approval_seconds = 0.0

    def approve_now(requests) -> list[Approval]:
        nonlocal approvals, approval_seconds
        t_approve = time.perf_counter()
        verdicts = approve_many(requests)
        approval_seconds += time.perf_counter() - t_approve
        approvals += len(requests)
        return verdicts

    pending = list(families.values())
    for _attempt in range(MAX_REP_ATTEMPTS):
        todo = []
        for work in pending:
            if work.rep is None:
                work.rep = work.candidates[0]
            _relate(work)
            rec = work.rep.record
            if rec is not None and rec.verified_digits >= required + EXTRA_DIGITS:
                work.approval = _stored_figures(rec)
                work.required = required
            else:
                todo.append(work)
        if not todo:
            break
        requests = [(plan.constant, w.rep.transform, w.rep.signs, Recurrence(w.rep.recurrence, w.rep.start),
                     w.rep.terms, required + EXTRA_DIGITS) for w in todo]
        verdicts = approve_now(requests)
        pending = []
        for work, verdict in zip(todo, verdicts, strict=True):
            if verdict.ok:
                work.approval = _figures(verdict)
                work.required = min(required, verdict.required_digits)
                work.reapproved = True
                continue
            work.failed.append((work.rep, _failure(verdict)))
            work.candidates = [m for m in work.candidates if m.key != work.rep.key]
            work.rep = None
            if work.candidates:
                pending.append(work)
        if not pending:
            break
    pending: list[_Pending] = []
    own: list[tuple[_FamilyWork, _Member]] = []
    rejected: list[dict] = []
    for work in families.values():
        for m, reason in work.failed:
            rejected.append(_rejection(m, reason))
        if work.approval is None:
            for m in work.candidates:
                rejected.append(_rejection(m, "the family's representatives failed approval"))
            continue
        rep = work.rep
        verified, used, _, _ = work.approval
        y = transform_ball(plan.constant, rep.transform, 60)
        for m in work.candidates:
            if m is rep:
                if m.record is None or work.reapproved or m.key in found or not m.record.representative:
                    pending.append(_Pending(m, work.approval, work.key, True, (1, 0, 0, 1)))
                continue
            rel, km, kr, holds = work.relations[m.key]
            digits = derived_digits(y, rel, verified) if holds else 0
            if holds and digits >= work.required:
                terms_used = max(1, used + km - kr)
                # measured at the depth the formula is derived to, not this search's target: its figures then do
                # not depend on which search derived it from a stored representative
                scf = _scf_rate(plan.constant, m.transform, digits + 20, digits)
                pending.append(_Pending(m, (digits, terms_used, digits / terms_used, scf), work.key, False, rel))
            else:
                own.append((work, m))
    if own:
        requests = [(plan.constant, m.transform, m.signs, Recurrence(m.recurrence, m.start), m.terms, required)
                    for _, m in own]
        for (work, m), verdict in zip(own, approve_now(requests), strict=True):
            if not verdict.ok:
                rejected.append(_rejection(m, _failure(verdict)))
                continue
            rel, _, _, holds = work.relations[m.key]
            # approved on its own: in the family when G is exact, else a family of its own (not one discovery)
            fam, relation = (work.key, rel) if holds else (f"{work.key}~{m.key}", (1, 0, 0, 1))
            pending.append(_Pending(m, _figures(verdict), fam, not holds, relation))
    t_proofs = time.perf_counter()
    proofs, unproved = _prove(plan, families, pending) if prove else ({}, [])
    proof_seconds = time.perf_counter() - t_proofs
    out = [_record(plan, x.member, x.figures, x.family, x.representative, x.relation, proofs.get(x.member.key))
           for x in pending]
    fams = rank_families(summarise(out))
    # a canonical order (family rank, representative first, then simplicity): the order formulas are stored in,
    # hence their ids in a fresh catalog, does not depend on the order chunks came back in
    rank = {f.key: f.rank for f in fams}
    out.sort(key=lambda c: (rank.get(c.family, len(rank) + 1), c.family, not c.representative,
                            simplicity(c.lhs_numerator, c.lhs_denominator, c.preperiod, c.lhs, c.signs_text)))
    return Assembly(out, fams, rejected, approvals, time.perf_counter() - t0, found, unproved, proof_seconds,
                    approval_seconds)


def regroup(records: Sequence[Conjecture]) -> list[Conjecture]:
    """Family fields for approved records that were each approved on their own (a catalog written before
    families existed): every record keeps its digits; the simplest of each tail class becomes the
    representative, the others get their exact relation G to it (a member whose identity in Z[c] fails forms a
    family of its own).  Records of several constants may be mixed.

    >>> found = search("e", coeff_limit=1, max_period=1, verify_digits=100).conjectures
    >>> plain = [replace(c, family="", representative=False, relation=(1, 0, 0, 1)) for c in found]
    >>> sorted((c.key, c.family, c.relation) for c in regroup(plain)) == sorted(
    ...     (c.key, c.family, c.relation) for c in found)
    True
    """
    groups: dict[tuple[str, str], list[_Member]] = {}
    for c in records:
        m = _member_of_record(c)
        groups.setdefault((c.constant, m.place.key), []).append(m)
    out = []
    for (_, key), members in groups.items():
        members.sort(key=lambda m: m.order)
        work = _FamilyWork(key, members, rep=members[0])
        _relate(work)
        for m in members:
            rel, _, _, holds = ((1, 0, 0, 1), 0, 0, True) if m is work.rep else work.relations[m.key]
            c = m.record
            assert c is not None
            gain = _gain(c.digits_per_term, c.scf_digits_per_term)
            if holds:
                out.append(replace(c, family=key, representative=m is work.rep, relation=rel, gain=gain))
            else:
                out.append(replace(c, family=f"{key}~{c.key}", representative=True, relation=(1, 0, 0, 1),
                                   gain=gain))
    return out


def _gain(dpt: float, scf: float) -> float:
    """gain = digits per term / those of the simple continued fraction of the same number (DESIGN 7)."""
    return round(dpt / scf, 4) if scf > 0 else 0.0


def _prove(plan: SearchPlan, families: dict[str, _FamilyWork], pending: list[_Pending]):
    """Prove the families of a constant that matches a registry theorem (DESIGN 8): each representative by a
    certificate of the tail lemma (``esma.prover``), each member through its exact relation (a member
    certificate); a formula is proved only once ``esma.checker`` has accepted its certificate.  Returns
    {formula key: (reason, certificate)} and the families left unproved (with the prover's reason).  A stored
    representative proved already keeps its certificate; one that gets proved now is added to ``pending``."""
    from esma import checker, theorems
    from esma.prover import Formula, member_certificate, prove_formula, representative_part

    if not theorems.match(plan.constant.text):  # outside the registry (or a decimal literal): all conjectures
        return {}, []
    constant = plan.constant.text
    out = {x.member.key: x for x in pending}
    proofs: dict[str, tuple[str, dict]] = {}
    unproved: list[dict] = []
    for work in families.values():
        rep = work.rep
        if work.approval is None or rep is None or rep.place.tail is None:
            continue
        t = rep.transform
        formula = Formula.from_parts(constant, t.numerator, t.denominator, rep.signs, rep.terms[: rep.start],
                                     rep.form_period, rep.polynomials)
        stored = rep.record
        reused = None
        if stored is not None and stored.status == "proved" and (stored.certificate or {}).get("format") == (
                theorems.FORMAT):
            # a stored proof is kept only if the checker (as it is now) still accepts it
            ok, why = checker.check(stored.certificate, *formula.record())
            reused = (stored.certificate, why) if ok else None
        if reused is not None:
            cert, reason = reused
        else:
            proof = prove_formula(formula)
            if not proof.ok:
                unproved.append({"family": work.key, "lhs": t.text, "signs": signs_to_text(rep.signs),
                                 "reason": proof.reason})
                continue
            cert, reason = proof.certificate, proof.reason
            if rep.key not in out and stored is not None:  # a stored representative now proved: store that
                x = _Pending(rep, _stored_figures(stored), work.key, True, (1, 0, 0, 1))
                pending.append(x)
                out[rep.key] = x
        proofs[rep.key] = (reason, cert)
        full = representative_part(formula, cert, True, rep.key)
        compact = representative_part(formula, cert, False, rep.key)
        todo = []
        for m in work.candidates:
            x = out.get(m.key)
            if m is rep or x is None or x.family != work.key or (m.record is not None and m.record.status == "refuted"):
                continue
            rel, km, kr, _ = work.relations[m.key]
            if kr < 1:  # the shared tail must start past the representative's a_0 (its complete quotients > 1)
                km, kr = km + 1, kr + 1
            mt = m.transform
            todo.append((m.key, (member_certificate(formula, cert, rel, km, kr, _part=full), mt.numerator,
                                 mt.denominator, m.signs, m.terms[: m.start], m.form_period, m.polynomials)))
        if not todo:
            continue
        # the representative's part is checked once for the family, each member's own part after it
        for (key, item), (ok, why) in zip(todo, checker.check_members(full, constant, [x for _, x in todo]),
                                          strict=True):
            if ok:
                item[0]["representative"] = compact
                proofs[key] = (why, item[0])
    return proofs, unproved


def family_keys(plan: SearchPlan, hits: Iterable[Hit]) -> set[str]:
    """The family keys the hits fall in (what to look up in a catalog before ``assemble``)."""
    keys = set()
    for hit in hits:
        if hit.family:
            keys.add(hit.family)
        else:
            keys.update(m.place.key for m in _members_of_hit(plan, hit, plan.class_index[hit.transform]))
    return keys


def _relate(work: _FamilyWork) -> None:
    """The relation of every member to the family's representative, and whether its identity holds."""
    rep = work.rep
    assert rep is not None
    work.relations = {}
    if rep.place.tail is None:  # no canonical tail: every member is a family of its own
        for m in work.candidates:
            work.relations[m.key] = ((1, 0, 0, 1), 0, 0, m is rep)
        return
    rep_pq = (rep.transform.numerator, rep.transform.denominator)
    for m in work.candidates:
        if m is rep:
            continue
        rel, km, kr = _relation(m, rep)
        holds = identity_holds((m.transform.numerator, m.transform.denominator), rep_pq, rel)
        work.relations[m.key] = (rel, km, kr, holds)


def summarise(conjectures: Iterable[Conjecture]) -> list[Family]:
    """The family summaries of a set of records (members counted among them)."""
    by_key: dict[str, list[Conjecture]] = {}
    for c in conjectures:
        by_key.setdefault(c.family, []).append(c)
    out = []
    for members in by_key.values():
        rep = next((c for c in members if c.representative), None)
        if rep is None:
            continue
        base = any(c.lhs == "c" and c.signs == (1,) for c in members)
        proved = sum(1 for c in members if c.status == "proved")
        out.append(Family.of(rep, len(members), base, proved))
    return out


def rank_families(families: Iterable[Family]) -> list[Family]:
    """Families ranked: gain descending, then simplicity (closed-form period, recurrence order, LHS height),
    then the key; ``rank`` set from 1."""
    ordered = sorted(families, key=Family.rank_key)
    return [replace(f, rank=i) for i, f in enumerate(ordered, 1)]


# ------------------------------------------------------------------------------------------------ the whole search


def search(
    expr: str,
    progress: Callable[[ChunkResult, int, int], None] | None = None,
    reference: bool = False,
    **params: Any,
) -> SearchResult:
    """Search ``expr`` for signed continued fraction formulas and return the approved conjectures and families.

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
    """Assemble the families of the chunks' hits; conjectures ordered by family rank, representative first."""
    t0 = time.perf_counter()
    ordered = sorted(results, key=lambda r: r.index)
    asm = assemble(plan, [h for r in ordered for h in r.hits])
    return SearchResult(
        constant=plan.constant.text,
        params=plan.params,
        conjectures=asm.conjectures,
        candidates=sum(r.candidates for r in results),
        hits=sum(len(r.hits) for r in results),
        seconds=seconds + time.perf_counter() - t0,
        rejected=[x for r in ordered for x in r.rejected] + asm.rejected,
        scan_seconds=sum(r.scan_seconds for r in results),
        families=asm.families,
        scanned=sum(r.scanned for r in results),
        approvals=asm.approvals,
        proof_seconds=asm.proof_seconds,
        unproved=asm.unproved,
    )
