"""Convergence series: certified digits against terms, for a conjecture and the simple fraction of its T(c)."""

from __future__ import annotations

import dataclasses
import itertools
from types import SimpleNamespace

import pytest

import esma
from esma.constants import ball_to_enclosure
from esma.constants import constant as make_constant
from esma.convergence import Convergence, convergence, digit_series, rate_comparison
from esma.records import Conjecture
from esma.transforms import Transform
from esma.verify import agreement_digits, convergent, transform_ball


def _record(constant, num, den, signs, terms, recurrence, preperiod=0, lhs="c"):
    return Conjecture(
        constant=constant,
        lhs=lhs,
        lhs_numerator=num,
        lhs_denominator=den,
        value="",
        signs=signs,
        preperiod=preperiod,
        terms=terms,
        recurrence=recurrence,
        closed_form="",
        kind="polynomial",
        verified_digits=300,
        digits_per_term=0.0,
        scf_digits_per_term=0.0,
    )


# e = [2; 1, 2, 1, 1, 4, 1, 1, 6, ...]: signs +, one-term pre-period, a(3m+2) = 2m + 2
E_SIMPLE = _record("e", (0, 1), (1,), (1,), (2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8), (1, 0, 0, -2, 0, 0, 1), 1)
# the ESMA paper's tan 1 = 1 + 1/(2 - 1/(4 + 1/(1 + 1/(6 - ...)))), signs (+, -, +)
TAN1 = _record("tan(1)", (0, 1), (1,), (1, -1, 1), (1, 2, 4, 1, 6, 8, 1, 10, 12), (1, 0, 0, -2, 0, 0, 1))
# Lambert: cot(1/2) = 2 - 1/(6 - 1/(10 - ...)), T(c) = 1/c with signs -, a(n) = 4n + 2
COT_HALF = _record("tan(1/2)", (1,), (0, 1), (-1,), (2, 6, 10, 14), (1, -2, 1), lhs="1/c")


def _nearly_nondecreasing(series, slack=2):
    """Signed fractions need not improve at every single term; they never lose more than a digit or two."""
    return all(b >= a - slack for a, b in itertools.pairwise(series))


def test_e_simple_fraction_is_its_own_comparison():
    conv = convergence(E_SIMPLE, 300)
    assert isinstance(conv, Convergence)
    assert conv.signed == conv.simple  # the conjecture IS the simple continued fraction of e
    assert conv.signed[-1] >= 300 and conv.digits == 300
    assert conv.terms_to_digits() == (len(conv.signed), len(conv.simple))
    assert conv.speedup == 1.0
    assert conv.simple_terms[:12] == E_SIMPLE.terms
    assert _nearly_nondecreasing(conv.signed, slack=1)  # a simple fraction improves at every term (bound: +-1)


def test_signed_fraction_beats_the_simple_one_for_tan1():
    conv = convergence(TAN1, 300)
    signed_n, simple_n = conv.terms_to_digits()
    assert len(conv.signed) == len(conv.simple) == max(signed_n, simple_n) == len(conv.n)
    assert conv.n[0] == 1 and conv.n[-1] == len(conv.signed)
    assert min(conv.signed[-1], conv.simple[-1]) >= 300
    # 2.42 digits per term against 1.81 for tan 1 = [1; 1, 1, 3, 1, 5, 1, 7, ...]
    assert signed_n < simple_n and 1.25 < conv.speedup < 1.45
    assert conv.simple_terms[:10] == (1, 1, 1, 3, 1, 5, 1, 7, 1, 9)
    assert _nearly_nondecreasing(conv.signed) and _nearly_nondecreasing(conv.simple)
    # every period of three terms gains digits
    assert all(conv.signed[i + 3] > conv.signed[i] for i in range(len(conv.signed) - 3))


def test_series_match_an_independent_evaluation():
    """The incremental p_n, q_n give the same bounds as esma.verify's product tree on each prefix."""
    conv = convergence(TAN1, 100)
    c = make_constant("tan(1)")
    lo, hi = ball_to_enclosure(transform_ball(c, Transform((0, 1), (1,)), 400))
    terms = [1, 2, 4] + [x for m in range(1, 40) for x in (1, 4 * m + 2, 4 * m + 4)]
    for n in (1, 2, 5, 17, 40, len(conv.signed)):
        p, q = convergent(terms[:n], (1, -1, 1))
        assert conv.signed[n - 1] == agreement_digits(p, q, lo, hi), n
        p, q = convergent(list(conv.simple_terms[:n]), (1,))
        assert conv.simple[n - 1] == agreement_digits(p, q, lo, hi), n


def test_the_faster_series_is_not_capped_by_the_precision():
    """cot(1/2) gains 4.1 digits a term, the simple fraction 2.05: at the N the slower one needs, the faster one
    is near 600 digits, well past the 300 + 20 of the first evaluation of T(c)."""
    conv = convergence(COT_HALF, 300)
    signed_n, simple_n = conv.terms_to_digits()
    assert simple_n == len(conv.signed) and 1.9 * signed_n < simple_n < 2.1 * signed_n
    assert 1.9 < conv.speedup < 2.1
    assert conv.signed[-1] > 550
    assert _nearly_nondecreasing(conv.signed, slack=1)


def test_a_view_is_unwrapped():
    view = SimpleNamespace(record=E_SIMPLE)
    assert convergence(view, 50) == convergence(E_SIMPLE, 50)


def test_decimal_literal_caps_the_target():
    """A measured value carries its own precision: the target shrinks to what it pins down."""
    literal = "2.718281828459045235360287471352662497757"  # e to 40 significant digits
    rec = dataclasses.replace(E_SIMPLE, constant=literal)
    conv = convergence(rec, 300)
    assert 20 <= conv.digits <= 36
    assert min(conv.signed[-1], conv.simple[-1]) >= conv.digits
    assert conv.signed == conv.simple


def test_bad_input():
    with pytest.raises(ValueError, match="digits"):
        convergence(E_SIMPLE, 0)
    broken = dataclasses.replace(TAN1, terms=(1, 2, 4, 1, 6, 8, 1, 10, 13))
    with pytest.raises(ValueError, match="recurrence"):
        convergence(broken, 50)
    # consistent with its recurrence, but not the expansion of tan 1 (a(5) should be 8)
    wrong = dataclasses.replace(TAN1, terms=(1, 2, 4, 1, 6, 9, 1, 10, 14))
    with pytest.raises(ValueError, match="term 5 is 9"):
        convergence(wrong, 50)
    with pytest.raises(ValueError, match="does not reach 300 digits"):
        convergence(TAN1, 300, max_terms=50)


def test_digit_series_stops_at_count_and_at_the_end_of_the_terms():
    from fractions import Fraction

    lo, hi = Fraction(14142135623, 10**10), Fraction(14142135624, 10**10)
    assert len(digit_series([1, 2, 2, 2, 2, 2, 2, 2], (1,), lo, hi, 3)) == 3
    assert len(digit_series(iter([1, 2, 2]), (1,), lo, hi, 10)) == 3


def test_search_results_agree_with_the_recorded_rates():
    """For e's own formulas (T(c) = c), 300 digits over the terms needed matches the approval's rate."""
    found = {c.signs_text: c for c in esma.search("e", coeff_limit=1, max_period=2, verify_digits=300).conjectures
             if c.lhs == "c"}
    assert set(found) == {"+", "+-", "-+"}
    for signs, conj in found.items():
        conv = convergence(conj, 300)
        signed_n, simple_n = conv.terms_to_digits()
        assert abs(300 / signed_n - conj.digits_per_term) < 0.05 * conj.digits_per_term, signs
        assert abs(300 / simple_n - conj.scf_digits_per_term) < 0.05 * conj.scf_digits_per_term, signs
    assert convergence(found["+"], 300).speedup == 1.0
    assert convergence(found["-+"], 300).speedup > 1.4


def test_rate_comparison_counts_per_constant():
    rows = [
        SimpleNamespace(constant="e", digits_per_term=2.06, scf_digits_per_term=1.37),
        SimpleNamespace(constant="e", digits_per_term=1.3744, scf_digits_per_term=1.3744),
        SimpleNamespace(constant="e", digits_per_term=2.0473, scf_digits_per_term=2.0476),  # within 1%
        SimpleNamespace(constant="exp(2)", digits_per_term=1.82, scf_digits_per_term=2.19),
    ]
    assert rate_comparison(rows) == {
        "e": {"faster": 1, "equal": 2, "slower": 0},
        "exp(2)": {"faster": 0, "equal": 0, "slower": 1},
    }
    assert rate_comparison(rows, tolerance=0.0)["e"] == {"faster": 1, "equal": 1, "slower": 1}
    assert rate_comparison([]) == {}
