"""Gosper transducers: signed continued fractions of T(c) straight from the simple continued fraction of c.

The constant's own simple continued fraction c = [c_0; c_1, c_2, ...] is computed once, certified, and every
degree-1 transform's signed expansion is produced from it by a homographic transducer (R. W. Gosper, HAKMEM
item 101); a quadratic transform runs the identity map over the exact simple continued fraction of its value,
computed once per transform.  Every emitted term is exact: it is fixed by the range of the state over all tails
x in (1, inf), so the terms are certified whenever the input terms are.

This module is the exact pure-Python twin of ``esma.kernels.scan`` (Python integers, no overflow) and the
public wrapper that validates input and falls back to the twin where the int64 kernel overflows.

>>> from esma.transducer import mobius_terms
>>> cf_e = (2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14)
>>> mobius_terms(cf_e, (1, -1, 0, 1), (-1, 1), 8)[0]    # e - 1 with signs -+
(2, 3, 2, 5, 2, 7, 2, 9)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from esma.bm import linear_complexity_py

__all__ = [
    "SCAN_PRIME",
    "ScanResult",
    "ScanRows",
    "constant_cf",
    "mobius_terms",
    "mobius_terms_py",
    "scan",
    "scan_py",
    "scan_rows",
]

SCAN_PRIME = 2_097_143  # largest prime below 2^21: the float64 Berlekamp–Massey kernel is exact below it
MAX_CF_TERM = 2**40  # the constant's terms beyond this are not fed to the int64 kernel (nor to its twin)


def _floor_open(n1, d1, n2, d2):
    f1, f2 = n1 // d1, n2 // d2
    if f1 == f2:
        return f1
    if f2 == f1 + 1 and f2 * d2 == n2:
        return f1
    if f1 == f2 + 1 and f1 * d1 == n1:
        return f2
    return None


def _ceil_open(n1, d1, n2, d2):
    c1, c2 = -((-n1) // d1), -((-n2) // d2)
    if c1 == c2:
        return c1
    if c1 == c2 - 1 and c1 * d1 == n1:
        return c2
    if c2 == c1 - 1 and c2 * d2 == n2:
        return c1
    return None


def mobius_terms_py(cf: Sequence[int], coef, signs, depth: int) -> tuple[tuple[int, ...], int]:
    """Twin of ``mobius_terms_kernel``: signed terms of (A c + B)/(C c + D) and a status (0 done, 2 rational)."""
    if not cf:
        return (), 0
    A, B, C, D = (int(x) for x in coef[:4])
    t = cf[0]
    A, B, C, D = A * t + B, A, C * t + D, C
    k, out, period = 1, [], len(signs)
    while len(out) < depth:
        b = signs[len(out) % period]
        s1 = C + D
        if C != 0 and s1 != 0 and (C > 0) == (s1 > 0):
            a = _floor_open(A, C, A + B, s1) if b > 0 else _ceil_open(A, C, A + B, s1)
            if a is not None:
                out.append(a)
                A, B, C, D = b * C, b * D, A - a * C, B - a * D
                if C == 0 and D == 0:
                    return tuple(out), 2
                continue
        if k >= len(cf):
            return tuple(out), 0
        t = cf[k]
        k += 1
        A, B, C, D = A * t + B, A, C * t + D, C
    return tuple(out), 0


def mobius_terms(cf, coef, signs, depth: int) -> tuple[tuple[int, ...], int]:
    """Signed terms of (A c + B)/(C c + D) from c's simple continued fraction ``cf`` (Numba, exact fallback)."""
    from esma.kernels.scan import mobius_terms_kernel

    arr, n_cf = _cf_array(tuple(cf))
    if n_cf == 0:
        return (), 0
    out = np.zeros(max(depth, 1), np.int64)
    n, st = mobius_terms_kernel(arr, n_cf, np.array(coef[:4], np.int64), np.array(signs, np.int64), len(signs),
                                depth, out)
    if st == 1:
        return mobius_terms_py(cf[:n_cf], coef, signs, depth)
    return tuple(out[:n].tolist()), int(st)


def _kernel_length(cf: tuple[int, ...]) -> int:
    """How many leading terms of ``cf`` the kernel takes: up to the first term too large for it."""
    if not cf or abs(cf[0]) > MAX_CF_TERM:
        return 0
    for n in range(1, len(cf)):
        if abs(cf[n]) > MAX_CF_TERM:
            return n
    return len(cf)


@lru_cache(maxsize=64)
def _cf_array(cf: tuple[int, ...]) -> tuple[np.ndarray, int]:
    """int64 copy of the constant's terms, cut before the first term too large for the kernel."""
    n = _kernel_length(cf)
    return (np.array(cf[:n], np.int64) if n else np.zeros(1, np.int64)), n


@lru_cache(maxsize=32)
def constant_cf(constant, digits: int) -> tuple[int, ...]:
    """The certified simple continued fraction of the constant from its ball at ``digits`` digits.

    Cut before the first term above 2^40 (rare, and the same cut for the kernel and its twin).
    """
    from esma.constants import ball_to_enclosure
    from esma.scf import expand_enclosure

    lo, hi = ball_to_enclosure(constant.ball(digits))
    terms = expand_enclosure(lo, hi, (1,), 10 * digits + 100).terms
    return terms[: _kernel_length(terms)]


# ------------------------------------------------------------------------------------------------ the scan

IDENTITY = (1, 0, 0, 1)


@dataclass(frozen=True)
class ScanRows:
    """The scan's inputs: continued fractions (``cfs``) and, per transform, which one it runs over with what map.

    Degree-1 transforms run their Mobius map over the constant's fraction (``cfs[0]``); a quadratic transform
    that is a Mobius map of c^2, (a c^2 + b)/(g c^2 + d), runs that map over the fraction of c^2 (``cfs[1]``,
    present when such a transform is), so that both go as deep as the constant's precision allows; any other
    quadratic transform runs the identity over the exact simple continued fraction of its own value T(c),
    appended to ``cfs``.
    """

    cfs: tuple[tuple[int, ...], ...]
    index: tuple[int, ...]
    coefs: tuple[tuple[int, int, int, int], ...]


def _mobius_coef(t) -> tuple[int, int, int, int]:
    num = [*t.numerator, 0, 0]
    den = [*t.denominator, 0, 0]
    return (num[1], num[0], den[1], den[0])


def square_coef(t) -> tuple[int, int, int, int] | None:
    """(A, B, C, D) with T(c) = (A x + B)/(C x + D) at x = c^2, when T is a Mobius map of c^2, else None."""
    if t.degree != 2 or t.numerator[1] or t.denominator[1]:
        return None
    return (t.numerator[2], t.numerator[0], t.denominator[2], t.denominator[0])


@lru_cache(maxsize=32)
def square_cf(constant, digits: int) -> tuple[int, ...]:
    """The certified simple continued fraction of c^2 (cut like ``constant_cf``)."""
    from flint import ctx

    from esma.constants import ball_to_enclosure
    from esma.scf import expand_enclosure

    ball = constant.ball(digits + 10)
    with ctx.workprec(int(3.33 * (digits + 20)) + 64):
        sq = ball * ball
    lo, hi = ball_to_enclosure(sq)
    terms = expand_enclosure(lo, hi, (1,), 10 * digits + 100).terms
    return terms[: _kernel_length(terms)]


def scan_rows(constant, transforms, digits: int, depth: int, quad_digits: int | None = None,
              quad_terms: int | None = None) -> ScanRows:
    """Lay out the scan of ``transforms`` for ``constant`` (certified fractions only).

    ``digits``: precision of the fractions of c and c^2; ``quad_digits`` and ``quad_terms`` (default: ``digits``
    and ``depth + 20``): precision and length of the simple continued fraction of a quadratic transform that is
    not a Mobius map of c^2 (one per transform: the costly part of a degree-2 scan).
    """
    from esma.constants import ball_to_enclosure
    from esma.scf import simple_cfs
    from esma.transforms import transform_ball

    quad_digits = digits if quad_digits is None else quad_digits
    quad_terms = depth + 20 if quad_terms is None else quad_terms
    cfs = [constant_cf(constant, digits)]
    index, coefs, enclosures = [], [], []
    squares = False
    for t in transforms:
        if t.degree <= 1:
            index.append(0)
            coefs.append(_mobius_coef(t))
            continue
        if t.degree > 2:
            raise ValueError(f"Argument 'transforms' must have degree 1 or 2, not {t.degree}")
        sq = square_coef(t)
        if sq is not None:
            squares = True
            index.append(-1)
            coefs.append(sq)
            continue
        enclosures.append(ball_to_enclosure(transform_ball(constant, t, quad_digits, cache=False)))
        index.append(-2 - (len(enclosures) - 1))
        coefs.append(IDENTITY)
    if squares:
        cfs.append(square_cf(constant, digits))
    first_quad = len(cfs)
    # the quadratic transforms' own simple continued fractions, in one batch
    for terms in simple_cfs(enclosures, quad_terms):
        cfs.append(terms[: _kernel_length(terms)])
    index = [i if i >= 0 else (1 if i == -1 else first_quad + (-2 - i)) for i in index]
    return ScanRows(tuple(cfs), tuple(index), tuple(coefs))


def _periods_table(periods):
    width = max(len(s) for s in periods)
    table = np.zeros((len(periods), width), np.int64)
    lens = np.zeros(len(periods), np.int64)
    for j, s in enumerate(periods):
        table[j, : len(s)] = s
        lens[j] = len(s)
    return table, lens


@dataclass(frozen=True)
class ScanResult:
    """What ``scan`` returns, per candidate r = i * n_periods + j: ``n`` certified terms, ``complexity`` (-1 unless
    the row is a hit of the window: n >= 2 L + margin), the kernel ``status``, the lag test's ``qp``, ``qs`` (0
    where none); and the terms of the rows kept (the hits, or all with ``keep_all``): ``terms[k]`` holds row
    ``kept[k]``, see ``terms_of``."""

    n: np.ndarray
    complexity: np.ndarray
    status: np.ndarray
    qp: np.ndarray
    qs: np.ndarray
    terms: np.ndarray
    kept: np.ndarray

    def terms_of(self, r: int) -> tuple[int, ...]:
        """The certified terms of kept row ``r``."""
        k = int(np.searchsorted(self.kept, r))
        if k >= len(self.kept) or self.kept[k] != r:
            raise KeyError(f"row {r} was not kept")
        return tuple(self.terms[k, : self.n[r]].tolist())


def scan(rows: ScanRows, periods, depth: int, margin: int, max_l: int, p: int = SCAN_PRIME, *,
         bm_depth: int | None = None, max_qp: int = 0, min_digits: float = 0.0, keep_all: bool = False
         ) -> ScanResult:
    """Run every (transform, sign period) candidate through the fused Numba kernel.

    Up to ``depth`` certified terms per candidate; Berlekamp–Massey on the first ``bm_depth`` of them (default:
    all); where it finds nothing, the lag test for interlaced polynomials of quasi-period <= ``max_qp`` on all of
    them (0: none), with runs of at least ``margin`` terms pinning ``min_digits`` digits.  The terms of the hits
    are kept (of every row with ``keep_all``).  Rows the int64 kernel cannot finish are redone exactly by the
    twin.
    """
    from esma.kernels.scan import scan_kernel

    if not 2 <= p < 2**21:
        raise ValueError(f"Argument 'p' must be a prime below 2^21, not {p}")
    bm_depth = depth if bm_depth is None else min(bm_depth, depth)
    width = max(len(c) for c in rows.cfs)
    cf_table = np.zeros((len(rows.cfs), max(width, 1)), np.int64)
    cf_lens = np.zeros(len(rows.cfs), np.int64)
    for i, c in enumerate(rows.cfs):
        cf_table[i, : len(c)] = c
        cf_lens[i] = len(c)
    table, lens = _periods_table(periods)
    k = len(rows.coefs) * len(periods)
    n_out = np.zeros(k, np.int64)
    l_out = np.zeros(k, np.int64)
    status = np.zeros(k, np.int64)
    qp = np.zeros(k, np.int64)
    qs = np.zeros(k, np.int64)
    coefs = np.array(rows.coefs, np.int64).reshape(len(rows.coefs), 4)
    cap = k if keep_all else min(k, 64)
    while True:
        terms = np.zeros((max(cap, 1), max(depth, 1)), np.int64)
        kept = np.zeros(max(cap, 1), np.int64)
        n_kept = scan_kernel(cf_table, cf_lens, np.array(rows.index, np.int64), coefs, table, lens, depth,
                             max(bm_depth, 1), p, margin, max_l, max_qp, float(min_digits), keep_all, terms, kept,
                             n_out, l_out, status, qp, qs)
        if n_kept <= cap:
            break
        cap = n_kept  # more hits than room: once more, with room for them all
    terms, kept = terms[:n_kept], kept[:n_kept]
    n_p = len(periods)
    redo = {}
    for r in np.nonzero(status == 1)[0]:
        i, j = divmod(int(r), n_p)
        got, L, P, s0 = _scan_row_py(rows.cfs[rows.index[i]], rows.coefs[i], periods[j], depth, margin, max_l, p,
                                     bm_depth, max_qp, min_digits)
        if any(abs(x) >= 2**63 for x in got):  # beyond int64: the paper's window only, as before the deep search
            got, L, P, s0 = _scan_row_py(rows.cfs[rows.index[i]], rows.coefs[i], periods[j], bm_depth, margin,
                                         max_l, p)
        big = any(abs(x) >= 2**63 for x in got)
        n_out[r] = len(got)
        l_out[r] = -1 if big else L
        qp[r], qs[r] = (0, 0) if big else (P, s0)
        status[r] = 3 if big else 0
        if not big and (keep_all or L > 0 or P > 0):
            redo[int(r)] = got
    l_out[status == 2] = -1
    if redo:  # rows the twin finished: their terms join the kept rows, in row order
        rows_kept = {int(r): terms[x, : n_out[r]] for x, r in enumerate(kept) if int(r) not in redo}
        rows_kept.update(redo)
        order = sorted(rows_kept)
        terms = np.zeros((len(order), max(depth, 1)), np.int64)
        for x, r in enumerate(order):
            terms[x, : len(rows_kept[r])] = rows_kept[r]
        kept = np.array(order, np.int64)
    return ScanResult(n_out, l_out, status, qp, qs, terms, kept)


@lru_cache(maxsize=1)
def warm() -> None:
    """Load (or compile) the scan kernels once per process, so that start-up is not counted as scan time."""
    scan(ScanRows(((1, 2, 3, 4, 5),), (0,), (IDENTITY,)), ((1,),), 4, 0, 1, max_qp=1)


def _scan_row_py(cf, coef, signs, depth, margin, max_l, p, bm_depth=None, max_qp=0, min_digits=0.0):
    from esma.qpoly import lag_test_py

    bm_depth = depth if bm_depth is None else min(bm_depth, depth)
    terms, st = mobius_terms_py(cf, coef, signs, depth)
    nb = min(len(terms), bm_depth)
    bound = min(max_l, (nb - margin) // 2)
    if st != 0 or not cf:
        return terms, -1, 0, 0
    L = linear_complexity_py(terms[:nb], p, bound) if bound >= 1 else None
    if L is not None:
        return terms, L, 0, 0
    P, s0 = lag_test_py(terms, signs, max_qp, max(margin, 1), min_digits) if max_qp > 0 else (0, 0)
    return terms, -1, P, s0


def scan_py(rows: ScanRows, periods, depth: int, margin: int, max_l: int, p: int = SCAN_PRIME, *,
            bm_depth: int | None = None, max_qp: int = 0, min_digits: float = 0.0):
    """Twin of ``scan``: per candidate (terms, complexity, P, s) from the pure-Python transducer, BM and lag
    test."""
    return [
        _scan_row_py(rows.cfs[i_cf], coef, s, depth, margin, max_l, p, bm_depth, max_qp, min_digits)
        for i_cf, coef in zip(rows.index, rows.coefs, strict=True)
        for s in periods
    ]
