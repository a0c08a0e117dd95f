"""How fast a continued fraction pins its value: log10 |q_n| of the convergents' denominators.

For x = a_0 + b_0/(a_1 + b_1/(a_2 + ...)) the denominators follow q_n = a_n q_(n-1) + b_(n-1) q_(n-2) (q_(-1) = 0,
q_(-2) = 1), and the first n + 1 terms pin about 2 log10 |q_n| digits of x.  The search gates hits on the
digits their predicted terms pin, and approval places its evaluation by it.  Floating point with rescaling: an
estimate, never a certificate.  The kernel is ``esma.kernels.cf.log10_growth_kernel``; ``_log10_q_growth_py`` is
its exact twin.

>>> [round(g, 3) for g in _log10_q_growth([2, 1, 2, 1, 1, 4], (1,))]   # e: q = 1, 1, 3, 4, 7, 32
[0.0, 0.0, 0.477, 0.602, 0.845, 1.505]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["_log10_q_growth", "_log10_q_growth_py"]


def _log10_q_growth(terms: Sequence[int], signs: Sequence[int]) -> list[float]:
    """log10 |q_n| for every n, in floating point with rescaling (an estimate, used only to place a search).

    Long sequences of moderate terms go through the Numba kernel ``log10_growth_kernel``; this is its twin.
    """
    if len(terms) > 64 and max(terms) < 2**53 and min(terms) > -(2**53):
        from esma.kernels.cf import log10_growth_kernel

        out = np.empty(len(terms), np.float64)
        log10_growth_kernel(np.array(terms, np.int64), len(terms), np.array(signs, np.int64), len(signs), out)
        return out.tolist()
    return _log10_q_growth_py(terms, signs)


def _log10_q_growth_py(terms: Sequence[int], signs: Sequence[int]) -> list[float]:
    """Pure-Python twin of ``log10_growth_kernel``."""
    out = []
    scale = 0.0
    period = len(signs)
    q_prev, q = 1.0, 0.0  # (q_{-2}, q_{-1})
    for n, a in enumerate(terms):
        b = signs[(n - 1) % period] if n else 1
        q_prev, q = q, a * q + b * q_prev
        big = max(abs(q), abs(q_prev), 1e-300)
        if big > 1e100:
            q /= big
            q_prev /= big
            scale += math.log10(big)
        out.append(scale + math.log10(max(abs(q), 1e-300)))
    return out
