"""Phase 1 of a search, the scan: certified terms, the window and the deep search, confirmed hits.

A chunk's candidates run through the fused Numba kernel (``esma.transducer.scan``): certified terms of T(c) under
each sign period; Berlekamp–Massey modulo a prime on the paper's window (``depth`` terms), and where it finds
nothing, the lag test for interlaced polynomials of long quasi-period on all ``deep_terms`` (``esma.qpoly``).  A
candidate is a *hit* when

* N >= 2L + margin, with N the number of certified terms and L their linear complexity (the margin terms are
  predictions that came true), and
* the predicted terms (after the first 2L, which fix the recurrence) pin down at least ``min_digits`` digits of
  T(c): long runs of 2 in negative fractions pin almost none, so the gate is on digits consumed, not on terms.

A hit is confirmed exactly over the rationals (``esma.bm.find_recurrence``; a candidate of the deep search first
gets the terms that takes) and given a closed form (``esma.patterns``), or placed on a tail this worker has met
(``esma.families.TailIndex``); the chunk returns these confirmed, not yet approved, ``Hit`` records.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from esma import bm
from esma.families import KnownTail, TailIndex, forget_polynomials, tail_of
from esma.growth import _log10_q_growth
from esma.patterns import closed_form
from esma.plan import SearchPlan
from esma.qpoly import lag_test, lag_test_py, preperiod_of
from esma.records import Hit, Recurrence, signs_to_text
from esma.transducer import (
    SCAN_PRIME,
    mobius_terms,
    mobius_terms_py,
    scan,
    scan_py,
    scan_rows,
    warm,
)

__all__ = ["ChunkResult", "forget_tails", "run_chunk", "scan_chunk"]


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
    #: The tails this chunk met first in its process, in the plain form of ``TailIndex.lesson``: what the
    #: executors pass on to the other workers, so that each tail is worked out about once per search rather
    #: than once per worker.  Not part of the result (a chunk's hits are the same whatever tails it was taught).
    learned: tuple[tuple, ...] = field(default=(), compare=False, repr=False)
    #: The hits as the catalog keeps them until their families are stored: the canonical JSON text
    #: (``esma.columns.json_text``) of their ``Hit.to_row`` lists, made by a parallel executor's worker
    #: (``esma.executors``) so that the client, which commits every chunk, only writes it; ``None`` otherwise.
    hit_records: str | None = field(default=None, compare=False, repr=False)



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
        res = scan(rows, periods, p.deep_terms, p.margin, max_l, **knobs)
        found = [(int(r) // n_p, int(r) % n_p, res.terms_of(int(r)), int(res.complexity[r]), int(res.qp[r]),
                  int(res.qs[r])) for r in np.nonzero((res.complexity > 0) | (res.qp > 0))[0]]
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
    """Leading terms kept in a record: enough to restart the recurrence (its linear complexity, the pre-period
    plus the order), ten more, and at least 30."""
    del order  # the complexity includes it; long quasi-periods make every term kept count (a hit holds them)
    return max(30, linear_complexity + 10)


def run_chunk(plan: SearchPlan, index: int, reference: bool = False,
              teach: Sequence[tuple] = ()) -> ChunkResult:
    """Scan chunk ``index`` of ``plan`` and confirm its hits exactly (recurrence and closed form).

    ``reference=True`` runs the exact pure-Python twins of the Numba kernels (slow; same results).  ``teach``:
    tails other workers met (their chunks' ``learned``), added to this process's ``TailIndex`` first; the
    result does not depend on them, only the time it takes.
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
    for lesson in teach:
        known.learn(lesson)
    learned: list[tuple] = []
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
            if tail.key not in known:
                met = KnownTail.of(tail, offset, rec.coefficients, form.period, form.polynomials, form.kind)
                position = len(seq) - TailIndex.WINDOW - offset
                known.add(met, position)
                learned.append(TailIndex.lesson(met, position))
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
        learned=tuple(learned),
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


def forget_tails() -> None:
    """Drop the tails this process has met and their tables: once its scan is over, a process that goes on to the
    families phase (the serial executor's client) holds them for nothing (a few hundred MB at degree 2)."""
    _TAIL_INDEXES.clear()
    forget_polynomials()


def _tail_index(plan: SearchPlan) -> TailIndex:
    key = (plan.constant.text, tuple(sorted(plan.params.to_dict().items())))
    index = _TAIL_INDEXES.get(key)
    if index is None:
        while len(_TAIL_INDEXES) >= 4:
            del _TAIL_INDEXES[next(iter(_TAIL_INDEXES))]
        index = _TAIL_INDEXES[key] = TailIndex()
    return index


