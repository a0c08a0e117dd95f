"""Numba kernel: does a sequence end in interlaced polynomials?  The lag test of the deep search.

A sequence is *eventually quasi-polynomial* of quasi-period P and degree <= 2 from index R when, for every
residue j, a_{R + P m + j} is a polynomial of degree <= 2 in m.  That holds exactly when the third difference
at lag P vanishes from index R + 3P on:

    D_P(n) = a_n - 3 a_{n-P} + 3 a_{n-2P} - a_{n-3P} = 0        for every n >= R + 3P

(the third difference of a polynomial of degree <= 2 is zero, and a class whose third differences vanish from
some m on is a polynomial of degree <= 2 from there).  For each lag P the kernel walks back from the last term
while D_P vanishes: a sequence without that structure stops the walk at once, so a random sequence costs about
one comparison per lag.  The first index s of the zero run gives the smallest pre-period for that lag,
R = s - 3P (a quasi-polynomial regime starting earlier would make D_P vanish at s - 1 too).

Twin: ``esma.qpoly.lag_test_py`` (exact Python integers).  The int64 differences wrap modulo 2^64 for terms
near 2^61: a vanishing D_P is then still found (no formula is missed), and a wrapped zero can only add a
candidate, which the exact confirmation rejects.
"""

from numba import njit

from esma.kernels.cf import log10_growth_kernel


@njit(cache=True)
def lag_kernel(seq, n, signs, period, max_p, min_run, min_digits, growth):  # pragma: no cover - compiled
    """(P, s): the smallest lag P <= max_p whose third difference D_P vanishes on seq[s:n] with at least
    ``min_run`` terms and with those terms pinning at least ``min_digits`` digits of the value (2 log10 of the
    growth of the convergents' denominators over them); (0, 0) when there is none.

    ``growth`` is float64 scratch of length >= n (log10 |q_k|, filled on the first lag that needs it).
    """
    have_growth = False
    for P in range(1, max_p + 1):
        if 3 * P + min_run > n:
            break
        k = n - 1
        while k >= 3 * P and seq[k] - 3 * seq[k - P] + 3 * seq[k - 2 * P] - seq[k - 3 * P] == 0:
            k -= 1
        s = k + 1
        if n - s < min_run:
            continue
        if not have_growth:
            log10_growth_kernel(seq, n, signs, period, growth)
            have_growth = True
        if 2.0 * (growth[n - 1] - growth[s - 1]) >= min_digits:
            return P, s
    return 0, 0
