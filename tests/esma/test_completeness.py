"""Issue 20, "Find every formula in the space": an independent reference for the default search.

The reference below re-derives, with its own code (``gmpy2``/``mpmath`` only; none of esma's
modules), every formula of the default search space of a constant and compares the list with
``esma.search(expr)`` run at its defaults (degree 1, coefficients in [-2, 2], sign periods 1..4).

Space (DESIGN 1). T(c) = (n0 + n1 c)/(d0 + d1 c) with every coefficient in [-2, 2], non-constant
(n1 d0 - n0 d1 != 0); T and -T count once; forms of equal value count once (|T(c)| compared at 40 digits); the
form expanded is the one with the positive value. Sign periods: every tuple of length 1..4 that is not a
repetition of a shorter tuple (22 of them).

Expansion. c is computed by mpmath to ``DIGITS`` (7600) digits and enclosed in [lo, hi] = value -+ 10^-(DIGITS-10),
both ends exact rationals with one power-of-ten denominator. T maps the enclosure to an enclosure (a Moebius map
with its pole outside). Each end x = p/q (q > 0) is expanded with the same steps: a = floor(x) (sign +1) or
ceil(x) (sign -1), then (p, q) <- (q, p - a q) resp. (q, a q - p), which is x <- b/(x - a) in integers (a
Euclid step, numbers only shrink). A term is emitted only when both ends give the same a (so every x in the
enclosure, in particular T(c), gives it: floor and ceil are monotone and the step is monotone on the common
branch), and the expansion stops at the first disagreement or at ``MAX_TERMS`` terms.

Pattern (kind (i) of the issue). a_n is eventually quasi-polynomial with period P <= 200, pre-period R <= 150
and degree <= 2 when every residue class n = R + P m + j (m >= 0) follows one polynomial of degree <= 2 in m.
The reference does not use lag differences or Berlekamp-Massey. For each P it interpolates, per class, the
Newton polynomial through the class's LAST three certified terms (exact integer arithmetic: through integer
values at consecutive integer abscissae the Newton form y0 + D1 t + D2 t(t-1)/2 is exact) and walks backwards
through that class for as long as the polynomial keeps predicting the certified term; the class "starts" at
the earliest index of that run. The smallest pre-period for P is then R = max over classes of
(start - P + 1), clipped at 0 (every index >= R lies in a run); the first class whose start alone forces
R > 150 rejects P at once, so a wrong P costs one interpolation and one comparison. The formula's period is
the smallest P accepted; its pre-period the R of that P.

Criterion (why a random sequence cannot pass). A hit needs, after R, at least 5 terms in every class (3 to
interpolate, >= 2 predicted and checked in every class) and at least max(2 P, 40) checked terms in total. A
checked term is an independent prediction of a certified partial denominator; for continued-fraction terms
the chance that one equals a given integer is at most about 0.42 (Gauss-Kuzmin for a_n = 1; far less for the
larger predictions of a growing polynomial), so a sequence without the pattern passes with probability below
0.42^40 ~ 1e-15 per (T, signs, P, R), against about 5e3 x 200 x 150 ~ 1.5e8 trials over both constants.
Conversely nothing genuine is lost: the deep expansion (``MAX_TERMS`` = 1200 > 150 + 5 x 200) gives every
pattern within the bounds enough terms, and the test asserts that the certified depth of every candidate is
large enough for the longest pattern it could hold (``test_reference_space_and_depth``).

Comparison with ``esma.search(expr)``. (a) every reference formula (T, signs) is in esma's output
(``test_every_reference_formula_is_found``), every stored T has the positive value
(``test_esma_expands_the_positive_form``) and esma's stored leading terms are the reference's certified terms
(``test_leading_terms_agree``); (b) esma stores no formula the reference lacks; (c) esma's closed-form period is
the reference's minimal P, its pre-period the reference's R and its class polynomials the reference's
(``test_closed_forms_agree``). A degree-1 T is keyed by its normalised form (coefficients made primitive, the
denominator's leading coefficient positive): numerator and denominator of a non-constant degree-1 T are coprime,
so two forms of one rational function (e.g. (2c+2)/(2c-4) and (c+1)/(c-2)) get one key, whichever
representative esma stores.
"""

from __future__ import annotations

import itertools
import time
from fractions import Fraction

import gmpy2
import mpmath
import pytest
from gmpy2 import mpz

import esma

DIGITS = 7600  # digits of c; the enclosure's half-width is 10^-(DIGITS - 10)
MAX_TERMS = 1200  # > max pre-period 150 + 5 terms x max period 200
MAX_PERIOD = 200
MAX_PREPERIOD = 150
MIN_CHECKS_PER_CLASS = 2
MIN_CHECKS_TOTAL = 40
CONSTANTS = ("e", "tan(1/2)")

_MP = {"e": lambda: mpmath.e, "tan(1/2)": lambda: mpmath.tan(mpmath.mpf(1) / 2)}


# --- the space ---------------------------------------------------------------------------------------------


def sign_periods(lo: int = 1, hi: int = 4) -> list[tuple[int, ...]]:
    """Tuples of length lo..hi, minus those repeating a shorter tuple of length >= lo."""
    out = []
    for n in range(lo, hi + 1):
        for t in itertools.product((1, -1), repeat=n):
            if any(n % k == 0 and k >= lo and t == t[:k] * (n // k) for k in range(1, n)):
                continue
            out.append(t)
    return out


def enclosure(expr: str, digits: int = DIGITS) -> tuple[mpz, mpz, mpz]:
    """(lo, hi, Q): c lies in [lo/Q, hi/Q], Q = 10^digits."""
    with mpmath.workdps(digits + 20):
        v = _MP[expr]()
        scaled = mpmath.nint(v * mpmath.mpf(10) ** digits)
    mid = mpz(int(scaled))
    eps = mpz(10) ** 10
    return mid - eps, mid + eps, mpz(10) ** digits


def canonical(num: tuple[int, int], den: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """(n0 + n1 c)/(d0 + d1 c): primitive, the denominator's leading non-zero coefficient positive."""
    g = 0
    for x in (*num, *den):
        g = gmpy2.gcd(g, x)
    g = int(g)
    num = tuple(x // g for x in num)
    den = tuple(x // g for x in den)
    lead = den[1] if den[1] else den[0]
    if lead < 0:
        num, den = tuple(-x for x in num), tuple(-x for x in den)
    return num, den


def same_function(a: tuple, b: tuple) -> bool:
    """P1/Q1 == P2/Q2 as rational functions (cross-multiplication of coefficient lists)."""
    (p1, q1), (p2, q2) = a, b

    def mul(u, v):
        out = [0] * (len(u) + len(v) - 1)
        for i, x in enumerate(u):
            for j, y in enumerate(v):
                out[i + j] += x * y
        return out

    return mul(p1, q2) == mul(p2, q1)


def space(expr: str) -> list[dict]:
    """Distinct |T(c)| of the default space; each as its positive-valued form."""
    with mpmath.workdps(60):
        c = _MP[expr]()
        seen: dict[str, dict] = {}
        rng = range(-2, 3)
        for n0, n1, d0, d1 in itertools.product(rng, repeat=4):
            if n1 * d0 - n0 * d1 == 0:
                continue  # constant (or 0/0)
            v = (n0 + n1 * c) / (d0 + d1 * c)
            key = mpmath.nstr(abs(v), 40, min_fixed=-mpmath.inf, max_fixed=mpmath.inf)
            if key in seen:
                continue
            num = (n0, n1) if v > 0 else (-n0, -n1)
            seen[key] = {"num": num, "den": (d0, d1), "canon": canonical(num, (d0, d1)), "value": abs(v)}
    return list(seen.values())


# --- certified expansion -------------------------------------------------------------------------------------


def expand(num, den, signs, lo, hi, q, max_terms=MAX_TERMS) -> list[int]:
    """Certified signed-CF terms of T(c) = (num[0] + num[1] c)/(den[0] + den[1] c), c in [lo/q, hi/q]."""
    ends = []
    for x in (lo, hi):
        p1 = num[0] * q + num[1] * x
        q1 = den[0] * q + den[1] * x
        if q1 < 0:
            p1, q1 = -p1, -q1
        ends.append([p1, q1])
    (pa, qa), (pb, qb) = ends
    if qa == 0 or qb == 0:
        return []
    p = len(signs)
    terms = []
    f_div, c_div = gmpy2.f_div, gmpy2.c_div
    for n in range(max_terms):
        if signs[n % p] > 0:
            a = f_div(pa, qa)
            if a != f_div(pb, qb):
                break
            ra, rb = pa - a * qa, pb - a * qb
            if ra == 0 or rb == 0:
                terms.append(int(a))  # an end is an integer: a is still right for the interior, stop here
                break
            pa, qa, pb, qb = qa, ra, qb, rb
        else:
            a = c_div(pa, qa)
            if a != c_div(pb, qb):
                break
            ra, rb = a * qa - pa, a * qb - pb
            if ra == 0 or rb == 0:
                terms.append(int(a))
                break
            pa, qa, pb, qb = qa, ra, qb, rb
        terms.append(int(a))
    return terms


# --- pattern finding: Newton interpolation per residue class ------------------------------------------------


def _newton(y0: int, y1: int, y2: int):
    """The polynomial through (0, y0), (1, y1), (2, y2) as a function of integer t (exact integers)."""
    d1 = y1 - y0
    d2 = y2 - 2 * y1 + y0
    return lambda t: y0 + d1 * t + d2 * (t * (t - 1) // 2)


def _class_start(a: list[int], j: int, period: int, limit: int) -> int | None:
    """Earliest index s of class j (s = j mod period) from which the class follows the quadratic through its last
    three terms; None if the class has fewer than three terms. Stops walking once s < limit (enough)."""
    n_last = j + ((len(a) - 1 - j) // period) * period
    if n_last - 2 * period < 0:
        return None
    base = n_last - 2 * period  # t = 0 at base
    poly = _newton(a[base], a[base + period], a[n_last])
    s = base
    t = -1
    n = base - period
    while n >= 0:
        if poly(t) != a[n]:
            break
        s = n
        n -= period
        t -= 1
        if s < limit:
            break
    return s


def find_pattern(a: list[int]) -> tuple[int, int] | None:
    """(P, R): the smallest period P <= 200 with a pre-period R <= 150 (the smallest for that P) such that every
    class follows a polynomial of degree <= 2 from R on, with the checks of the module docstring; else None."""
    N = len(a)
    for P in range(1, MAX_PERIOD + 1):
        if N < 5 * P:
            break
        R = 0
        ok = True
        for j in range(P):
            s = _class_start(a, j, P, 0)
            if s is None:
                ok = False
                break
            if s >= P:  # the term s - P of the class breaks the polynomial
                R = max(R, s - P + 1)
            if R > MAX_PREPERIOD:
                ok = False
                break
        if not ok:
            continue
        counts = [len(range(R + j, N, P)) for j in range(P)]
        checks = sum(k - 3 for k in counts)
        if min(counts) - 3 >= MIN_CHECKS_PER_CLASS and checks >= max(2 * P, MIN_CHECKS_TOTAL):
            return P, R
    return None


def class_polynomials(a: list[int], period: int, preperiod: int) -> list[list[Fraction]]:
    """poly_j (ascending coefficients in m) with a(period m + j) = poly_j(m) for n >= preperiod, j = 0..period-1:
    the Lagrange interpolant through the class's first three terms at or after the pre-period."""
    out = []
    for j in range(period):
        m0 = (preperiod - j + period - 1) // period  # first m with period m + j >= preperiod
        xs = [m0, m0 + 1, m0 + 2]
        ys = [a[period * m + j] for m in xs]
        coeffs = [Fraction(0)] * 3
        for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
            # basis polynomial prod_{k != i} (m - x_k)/(x_i - x_k), expanded in ascending powers
            basis = [Fraction(1)]
            denom = Fraction(1)
            for k, xk in enumerate(xs):
                if k == i:
                    continue
                basis = [
                    (basis[t - 1] if t else 0) - xk * (basis[t] if t < len(basis) else 0) for t in range(len(basis) + 1)
                ]
                denom *= xi - xk
            for t, b in enumerate(basis):
                coeffs[t] += yi * b / denom
        out.append(_trim(coeffs))
    return out


def _trim(coeffs) -> list[Fraction]:
    coeffs = [Fraction(x) for x in coeffs]
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    return coeffs


def reference(expr: str) -> dict:
    """Every formula of the default space of ``expr`` by the reference: {(canon, signs): info}."""
    t0 = time.perf_counter()
    lo, hi, q = enclosure(expr)
    cands = space(expr)
    periods = sign_periods(1, 4)
    formulas = {}
    depths = []
    for cand in cands:
        for signs in periods:
            a = expand(cand["num"], cand["den"], signs, lo, hi, q)
            depths.append((len(a), cand["canon"], signs))
            hit = find_pattern(a)
            if hit:
                P, R = hit
                formulas[(cand["canon"], signs)] = {"terms": a, "period": P, "preperiod": R, "value": cand["value"]}
    return {
        "formulas": formulas,
        "candidates": len(cands),
        "periods": len(periods),
        "min_depth": min(depths),
        "seconds": time.perf_counter() - t0,
    }


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref():
    return {expr: reference(expr) for expr in CONSTANTS}


@pytest.fixture(scope="module")
def found():
    return {expr: esma.search(expr) for expr in CONSTANTS}


def _esma_key(conj) -> tuple:
    """(canonical T, signs) of an esma record (coefficients ascending; trailing zeros dropped)."""

    def two(coeffs):
        coeffs = [int(x) for x in coeffs]
        while len(coeffs) > 2 and coeffs[-1] == 0:
            coeffs.pop()
        assert len(coeffs) <= 2, f"{conj.lhs}: degree above 1 in the default space"
        return tuple(coeffs + [0] * (2 - len(coeffs)))

    return canonical(two(conj.lhs_numerator), two(conj.lhs_denominator)), tuple(int(s) for s in conj.signs)


def _value(expr: str, num, den):
    with mpmath.workdps(60):
        c = _MP[expr]()
        return mpmath.polyval(list(reversed([int(x) for x in num])), c) / mpmath.polyval(
            list(reversed([int(x) for x in den])), c
        )


def _show(key) -> str:
    (n, d), s = key
    sign = "".join("+" if x > 0 else "-" for x in s)
    return f"({n[0]} + {n[1]}c)/({d[0]} + {d[1]}c) {sign}"


def _by_key(result) -> dict:
    out: dict = {}
    for conj in result.conjectures:
        out.setdefault(_esma_key(conj), []).append(conj)
    return out


# --- the reference itself ------------------------------------------------------------------------------------


def test_reference_space_and_depth(ref):
    """112 distinct values (DESIGN 1 for e), 22 sign periods, and every candidate expanded deep enough that a
    pattern at the bounds (pre-period 150, period 200, 5 terms per class) is seen: 1150 certified terms."""
    for expr in CONSTANTS:
        r = ref[expr]
        n_values = len({str(v["value"]) for v in r["formulas"].values()})
        print(
            f"\nreference {expr}: {len(r['formulas'])} formulas (T, signs) over {n_values} values of T, "
            f"{r['candidates']} x {r['periods']} candidates, shallowest {r['min_depth'][0]} terms, "
            f"{r['seconds']:.1f} s"
        )
        assert r["candidates"] == 112 and r["periods"] == 22
        assert r["min_depth"][0] >= MAX_PREPERIOD + 5 * MAX_PERIOD, r["min_depth"]
    # an independent cross-check: `esma search e --depth 300` (before issue 20) counted 2352 formulas
    print(f"e: reference {len(ref['e']['formulas'])} formulas; esma search e --depth 300 counted 2352")


def test_reference_finds_the_classical_formulas(ref):
    """The reference's own sanity: e = [2; 1, 2, 1, 1, 4, ...] (P 3, R 1), the paper's e - 1 (-+) and
    e/(e - 1) (+-)."""
    f = ref["e"]["formulas"]
    e_scf = f[(canonical((0, 1), (1, 0)), (1,))]
    assert e_scf["terms"][:9] == [2, 1, 2, 1, 1, 4, 1, 1, 6] and (e_scf["period"], e_scf["preperiod"]) == (3, 1)
    assert f[(canonical((-1, 1), (1, 0)), (-1, 1))]["terms"][:6] == [2, 3, 2, 5, 2, 7]
    assert (canonical((0, 1), (-1, 1)), (1, -1)) in f
    # tan(1/2) = [0; 1, 1, 4, 1, 8, 1, 12, ...] (Lambert): a(2m+1) = 1, a(2m+2) = 4m + 4 after a(0) = 0
    t = ref["tan(1/2)"]["formulas"][(canonical((0, 1), (1, 0)), (1,))]
    assert t["terms"][:8] == [0, 1, 1, 4, 1, 8, 1, 12]


# --- esma against the reference ------------------------------------------------------------------------------


@pytest.mark.parametrize("expr", CONSTANTS)
def test_esma_expands_the_positive_form(found, expr):
    """Of T and -T esma stores the one with the positive value (DESIGN 1)."""
    negative = sorted({c.lhs for c in found[expr].conjectures if _value(expr, c.lhs_numerator, c.lhs_denominator) < 0})
    assert not negative, f"{expr}: {len(negative)} stored T with a negative value, e.g. {negative[:5]}"


@pytest.mark.parametrize("expr", CONSTANTS)
def test_every_reference_formula_is_found(ref, found, expr):
    """(a) Completeness: every (T, signs) whose terms are eventually quasi-polynomial within the bounds is in
    esma's default search, with the reference's leading terms."""
    theirs = _by_key(found[expr])
    ours = ref[expr]["formulas"]
    missing = sorted(k for k in ours if k not in theirs)
    n_values = len({str(v["value"]) for v in ours.values()})
    print(
        f"\n{expr}: reference {len(ours)} formulas over {n_values} values; esma {len(found[expr].conjectures)} "
        f"formulas; missing {len(missing)}"
    )
    assert not missing, f"{expr}: esma misses {len(missing)} of {len(ours)} reference formulas, e.g. " + "; ".join(
        f"{_show(k)} P={ours[k]['period']} R={ours[k]['preperiod']}" for k in missing[:6]
    )


@pytest.mark.parametrize("expr", CONSTANTS)
def test_leading_terms_agree(ref, found, expr):
    """esma's stored leading terms (at least 20) are the reference's certified terms, for every formula both have."""
    ours = ref[expr]["formulas"]
    wrong = []
    for key, conjs in _by_key(found[expr]).items():
        if key not in ours:
            continue
        for conj in conjs:
            terms = [int(x) for x in conj.terms]
            if terms != ours[key]["terms"][: len(terms)] or len(terms) < 20:
                wrong.append(f"{_show(key)}: esma {terms[:12]} vs reference {ours[key]['terms'][:12]}")
    assert not wrong, f"{expr}: {len(wrong)} formulas with other leading terms, e.g. {wrong[:4]}"


@pytest.mark.parametrize("expr", CONSTANTS)
def test_no_formula_beyond_the_reference(ref, found, expr):
    """(b) esma stores no formula the reference lacks (and no (T, signs) twice)."""
    theirs = _by_key(found[expr])
    ours = ref[expr]["formulas"]
    extra = sorted(k for k in theirs if k not in ours)
    assert not extra, f"{expr}: {len(extra)} esma formulas the reference lacks, e.g. " + "; ".join(
        f"{_show(k)} ({theirs[k][0].lhs}, {theirs[k][0].closed_form})" for k in extra[:6]
    )
    twice = [k for k, v in theirs.items() if len(v) > 1]
    assert not twice, f"{expr}: {len(twice)} (T, signs) stored more than once, e.g. {[_show(k) for k in twice[:4]]}"


@pytest.mark.parametrize("expr", CONSTANTS)
def test_closed_forms_agree(ref, found, expr):
    """(c) esma's closed-form quasi-period is the reference's smallest P, its pre-period the smallest R, and its
    polynomials (a(P m + j) = poly_j(m) for n >= R, ascending coefficients in m) the reference's, which are
    interpolated (Lagrange, exact fractions) through three certified terms of each class after R."""
    ours = ref[expr]["formulas"]
    bad_p, bad_r, bad_poly = [], [], []
    for key, conjs in _by_key(found[expr]).items():
        if key not in ours:
            continue
        info = ours[key]
        for conj in conjs:
            if conj.period != info["period"]:
                bad_p.append(f"{_show(key)}: esma P={conj.period}, reference P={info['period']}")
            elif conj.preperiod != info["preperiod"]:
                bad_r.append(f"{_show(key)}: esma R={conj.preperiod}, reference R={info['preperiod']}")
            else:
                theirs = [[Fraction(str(x)) for x in poly] for poly in conj.polynomials]
                mine = class_polynomials(info["terms"], info["period"], info["preperiod"])
                if [_trim(p) for p in theirs] != [_trim(p) for p in mine]:
                    bad_poly.append(f"{_show(key)}: esma {conj.closed_form} vs reference {mine}")
    assert not bad_p, f"{expr}: {len(bad_p)} periods differ, e.g. {bad_p[:5]}"
    assert not bad_r, f"{expr}: {len(bad_r)} pre-periods differ, e.g. {bad_r[:5]}"
    assert not bad_poly, f"{expr}: {len(bad_poly)} closed forms differ, e.g. {bad_poly[:3]}"
