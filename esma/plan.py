"""Planning a search: its parameters, the LHS space at the constant, and its deterministic chunks.

For a constant c, every transform T of the LHS space (``esma.transforms``) and every sign period
(``esma.scf.sign_periods``) is a *candidate*.  Of T and -T the one with the positive value is searched; values
equal up to sign are searched once.  T and T + k have the same expansion after a_0 under every sign period, so
the space is laid out as *translation classes*, and split into deterministic chunks of classes (each with every
sign period): a caller can checkpoint per chunk and resume, or spread chunks over workers
(``esma.scanning.run_chunk``).  This module does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any

from esma.scf import sign_periods
from esma.transducer import constant_cf, mobius_terms
from esma.transforms import Transform, transform_space

__all__ = ["PLAN_STAGES", "Chunk", "SearchParams", "SearchPlan", "distinct_values", "plan_search",
           "translation_classes"]


#: Candidates (transforms x sign periods) one chunk holds at most: a chunk's kernel call keeps the terms of its
#: hits, up to ``deep_terms`` each, so 2^16 rows bound it by 2^16 x 760 x 8 bytes = 380 MB at worst (every
#: candidate a hit); the default spaces hold a few hundred per chunk.
MAX_CHUNK_ROWS = 2**16
#: Transforms between two calls of a planning ``progress`` callback (a few milliseconds of work).
PROGRESS_STEP = 4096


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

    def classes_per_chunk(self, n_periods: int) -> int:
        """Translation classes per chunk: ``chunk_size``, fewer when a chunk would hold more than
        ``MAX_CHUNK_ROWS`` candidates (very long sign periods), so that a chunk's terms stay in memory."""
        return max(1, min(self.chunk_size, MAX_CHUNK_ROWS // max(n_periods, 1)))

    @property
    def deep_terms(self) -> int:
        """Certified terms made per candidate: the window, or what the deep search needs (R + 3P + margin)."""
        if self.max_qperiod == 0:
            return self.depth
        return max(self.depth, self.max_preperiod + 3 * self.max_qperiod + self.margin)

    @property
    def scan_digits(self) -> int:
        """Precision of the continued fractions of c and c^2: 5 digits per term of the window, 10 per term of the
        deep search (whose long tails carry larger terms), at least 300."""
        if self.digits is not None:
            return self.digits
        deep = self.max_preperiod + 3 * self.max_qperiod + self.margin if self.max_qperiod else 0
        return max(300, 5 * self.depth, 10 * deep)

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



# ------------------------------------------------------------------------------------------------ planning


def translation_classes(
    transforms: Sequence[Transform], progress: Callable[[int, int], None] | None = None
) -> list[list[tuple[int, int]]]:
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
        if progress is not None and not idx % PROGRESS_STEP:
            progress(idx, len(transforms))
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


#: The stages of planning, in order, as ``plan_search`` reports them to ``progress``.
PLAN_STAGES = ("constant", "transforms", "values", "classes")


def plan_search(expr: str, *, progress: Callable[[str, int, int], None] | None = None, **params: Any) -> SearchPlan:
    """Validate the expression and parameters and lay the search out in chunks.

    ``progress(stage, done, total)`` hears the planning as it goes (``stage`` one of ``PLAN_STAGES``: the
    constant's continued fraction, the transforms laid out (numerator vectors), their values compared, their
    translation classes); it may raise to stop the planning (nothing is kept).  Laying out a large space takes
    a while (degree 2, coefficients up to 6: about a million transforms, tens of seconds).

    Raises ``ValueError``/``TypeError`` for bad input, including a rational constant (finite expansion).
    """
    from esma.constants import constant as make_constant

    unknown = set(params) - {f.name for f in fields(SearchParams)}
    if unknown:
        raise TypeError(f"search() got unexpected arguments: {', '.join(sorted(unknown))}")
    p = SearchParams(**params)
    c = make_constant(expr)
    if progress is not None:
        progress("constant", 0, 1)
    try:
        # the constant's own continued fraction feeds every degree-1 candidate: compute (and cache) it now, so
        # a value esma cannot expand is refused here, as bad input, before any work is registered
        constant_cf(c, p.scan_digits)
    except (ValueError, ArithmeticError, OverflowError) as exc:
        raise ValueError(f"Argument 'expr' cannot be expanded: {exc}") from None
    step = None if progress is None else (lambda stage: lambda done, total: progress(stage, done, total))
    space = transform_space(p.degree, p.coeff_limit, step and step("transforms"))
    transforms = distinct_values(c, space, step and step("values"))
    periods = sign_periods(p.min_period, p.max_period)
    classes = translation_classes(transforms, step and step("classes"))
    per_chunk = p.classes_per_chunk(len(periods))
    reps = tuple(cls[0][0] for cls in classes)
    shifts = tuple(tuple(cls) for cls in classes)
    chunks = tuple(
        Chunk(i, start, min(start + per_chunk, len(reps)))
        for i, start in enumerate(range(0, len(reps), per_chunk))
    )
    return SearchPlan(c, p, transforms, periods, chunks, reps, shifts)


def distinct_values(
    constant, transforms: tuple[Transform, ...], progress: Callable[[int, int], None] | None = None
) -> tuple[Transform, ...]:
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
        for i, t in enumerate(transforms):
            if progress is not None and not i % PROGRESS_STEP:
                progress(i, len(transforms))
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


