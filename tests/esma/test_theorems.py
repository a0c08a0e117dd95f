"""The registry of theorems: each entry against certified expansions and reference data; matching by expression."""

from __future__ import annotations

import doctest
import json
from fractions import Fraction
from pathlib import Path

import pytest
from flint import arb, ctx

import esma
from esma import theorems
from esma.constants import constant
from esma.polys import poly_text
from esma.theorems import (
    QuasiPolynomial,
    Substitution,
    bessel_i,
    bessel_j,
    e_power,
    match,
    parse_poly,
    tan_entry,
    tanh_entry,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "expansions.json"

ENTRIES = (
    [e_power(1, k) for k in range(1, 8)]
    + [e_power(2, k) for k in (1, 3, 5, 7, 9)]
    + [tan_entry(k) for k in range(1, 7)]
    + [tanh_entry(k) for k in range(1, 7)]
    + [bessel_i(A, D) for A in range(1, 4) for D in range(1, 4)]
    + [bessel_j(A, D) for A in range(1, 4) for D in range(1, 4)]
    + [bessel_j(5, 10), bessel_i(7, 2)]
)


def test_doctests():
    assert doctest.testmod(theorems).failed == 0


@pytest.mark.parametrize("theorem", ENTRIES, ids=lambda t: t.key)
def test_entry_matches_certified_expansion(theorem):
    seq = theorem.sequence
    signs = "+" if seq.signs == (1,) else "-"
    got = esma.expand(theorem.key, signs, 250).terms
    assert len(got) == 250
    assert seq.terms(250) == got


def test_entries_against_reference_data():
    data = {(x["expression"], x["signs"]): x["terms"] for x in json.loads(DATA.read_text())["expansions"]}
    direct = {("e", "+"): "e", ("exp(2)", "+"): "exp(2)", ("tan(1)", "+"): "tan(1)", ("tanh(1)", "+"): "tanh(1)",
              ("cot(1)", "-"): "besselj(-1/2, 1)/besselj(1/2, 1)"}
    for (expr, signs), key in direct.items():
        (m,) = [m for m in match(expr) if m.substitution.degree == 1 and m.substitution.text == "x = c"]
        assert m.theorem.key == key
        ref = data[(expr, signs)]
        assert m.theorem.sequence.terms(len(ref)) == tuple(ref)
    # I_1(2)/I_0(2) = 1/x with x = [1; 2, 3, ...] > 1, so its expansion is [0; 1, 2, 3, ...]
    (m,) = match("besseli(1, 2)/besseli(0, 2)")
    assert m.substitution.text == "x = 1/c"
    ref = data[("besseli(1, 2)/besseli(0, 2)", "+")]
    assert (0, *m.theorem.sequence.terms(len(ref) - 1)) == tuple(ref)


def test_hurwitz_e_squared_and_lambert_tan():
    assert e_power(2, 1).sequence.terms(16) == (7, 2, 1, 1, 3, 18, 5, 1, 1, 6, 30, 8, 1, 1, 9, 42)
    assert tan_entry(1).sequence.terms(8) == (1, 1, 1, 3, 1, 5, 1, 7)
    assert tanh_entry(3).sequence.terms(5) == (0, 3, 9, 15, 21)
    assert bessel_j(1, 1).sequence.signs == (-1,)


@pytest.mark.parametrize(
    ("text", "key", "sub"),
    [
        ("e", "e", "x = c"),
        ("exp(1)", "e", "x = c"),
        ("e**1", "e", "x = c"),
        ("exp(2)", "exp(2)", "x = c"),
        ("e**2", "exp(2)", "x = c"),
        ("e^2/e", "e", "x = c"),
        ("exp(2/3)", "exp(2/3)", "x = c"),
        ("e**(1/3)", "exp(1/3)", "x = c"),
        ("sqrt(e)", "exp(1/2)", "x = c"),
        ("exp(-1)", "e", "x = 1/c"),
        ("1/e", "e", "x = 1/c"),
        ("e - 1", "e", "x = c + 1"),
        ("tan(1)", "tan(1)", "x = c"),
        ("tan(1/4)", "tan(1/4)", "x = c"),
        ("tan(-1/2)", "tan(1/2)", "x = -c"),
        ("cot(1)", "tan(1)", "x = 1/c"),
        ("tanh(1/2)", "tanh(1/2)", "x = c"),
        ("coth(1)", "tanh(1)", "x = 1/c"),
        ("besseli(1, 2)/besseli(0, 2)", "besseli(0, 2)/besseli(1, 2)", "x = 1/c"),
        ("besseli(0, 1)/besseli(1, 1)", "besseli(0, 1)/besseli(1, 1)", "x = c"),
        ("besselj(0, 2)/besselj(1, 2)", "besselj(0, 2)/besselj(1, 2)", "x = c"),
        ("besselj(0,2) / besselj(1,2) + 3", "besselj(0, 2)/besselj(1, 2)", "x = c - 3"),
    ],
)
def test_match_by_expression(text, key, sub):
    found = match(text)
    assert found, text
    assert (found[0].theorem.key, found[0].substitution.text) == (key, sub)


@pytest.mark.parametrize(
    "text",
    ["2.718281828459045235360287471352662497757", "2.5*e", "pi", "e*pi", "exp(2) + e", "e**2 + e", "exp(4)",
     "exp(3/2)", "tan(2)", "tanh(3/2)", "besseli(0, 3)/besseli(1, 3)", "besseli(0, 2)/besseli(2, 2)",
     "besseli(0, 2)/besselj(1, 2)", "sin(1)", "log(2)", "zeta(3)", "sqrt(2)", "tan(1)**2"],
)
def test_no_match(text):
    assert match(text) == ()


def test_decimal_literal_never_matches_even_exact():
    assert match("1.0*e") == ()
    assert theorems.has_decimal("1.0*e") and not theorems.has_decimal("e")


def test_match_rejects_bad_input():
    with pytest.raises(TypeError, match="Argument 'constant_text' must be a str"):
        match(2.718)
    with pytest.raises(ValueError):
        match("e +")


def _eval_rational(sub: Substitution, c: arb) -> arb:
    num = sum((k * c**i for i, k in enumerate(sub.numerator)), arb(0))
    den = sum((k * c**i for i, k in enumerate(sub.denominator)), arb(0))
    return num / den


@pytest.mark.parametrize(
    "text",
    ["e", "exp(-1)", "sqrt(e)", "e**(1/3)", "exp(2/3)", "exp(2)", "(e + 1)/(e - 1)", "tan(1/4)", "tan(-1/2)",
     "cot(1/3)", "tanh(1/2)", "coth(1/2)", "coth(1)", "besseli(1, 2)/besseli(0, 2)", "2 - besselj(0, 1)/besselj(1, 1)"],
)
def test_every_substitution_gives_the_base_value(text):
    # the registry vouches for x = S(c): check it numerically, to 60 digits, for every candidate
    found = match(text)
    assert found
    with ctx.workprec(300):
        c = constant(text).ball(80)
        for m in found:
            x = constant(m.theorem.key).ball(80)
            diff = _eval_rational(m.substitution, c) - x
            assert abs(diff) < arb(10) ** -60, (text, m.theorem.key, m.substitution.text)


def test_quadratic_substitutions():
    subs = {(m.theorem.key, m.substitution.text) for m in match("e**(1/3)")}
    assert ("exp(2/3)", "x = c^2") in subs
    subs = {(m.theorem.key, m.substitution.text) for m in match("tanh(1/2)")}
    assert ("tanh(1)", "x = 2c/(c^2 + 1)") in subs
    subs = {(m.theorem.key, m.substitution.text) for m in match("tan(1/2)")}
    assert ("tan(1)", "x = -2c/(c^2 - 1)") in subs
    assert [m.substitution.degree for m in match("e")] == sorted(m.substitution.degree for m in match("e"))


def test_constructors_validate():
    with pytest.raises(ValueError, match="Argument 'k' must be a positive integer"):
        tan_entry(0)
    with pytest.raises(TypeError, match="Argument 'k' must be an int"):
        tanh_entry(1.5)
    with pytest.raises(ValueError, match="e\\^\\(2/2\\)"):
        e_power(2, 2)
    with pytest.raises(ValueError):
        bessel_i(0, 1)
    with pytest.raises(TypeError):
        bessel_j(True, 1)


@pytest.mark.parametrize(
    "coeffs",
    [(0,), (2, 4), (Fraction(1, 2), 0, Fraction(-3, 2)), (-1,), (0, 0, 1), (5, -1), (Fraction(7, 3), Fraction(-1, 6))],
)
def test_poly_text_round_trip(coeffs):
    # certificates write polynomials with esma.polys.poly_text (python style); the registry's parser reads them
    text = poly_text(coeffs, "k", "python")
    assert parse_poly(text, "k") == tuple(Fraction(c) for c in coeffs)


def test_parse_poly_forms_and_rejections():
    assert parse_poly("2*m**2 - m + 1/3") == (Fraction(1, 3), Fraction(-1), Fraction(2))
    assert parse_poly("m + m") == (Fraction(0), Fraction(2))
    assert parse_poly("(m**2 + m)/2") == (Fraction(0), Fraction(1, 2), Fraction(1, 2))
    for bad in ["", "m +", "2*x", "m^99999", "2**m", "import os", "1/0", "m m", "*m", "m^", "- -m", "(m)/0", "(m)/",
                "((m))/2", "(m + 1)/2/3", "(m)*2"]:
        with pytest.raises(ValueError):
            parse_poly(bad)
    with pytest.raises(TypeError):
        parse_poly(3)


def test_quasi_polynomial_validation_and_json():
    seq = QuasiPolynomial((1, -1), (3,), 2, ((2,), "2*m + 3"))
    assert seq.terms(6) == (3, 3, 2, 5, 2, 7)
    assert QuasiPolynomial.from_json(seq.to_json()) == seq
    assert hash(QuasiPolynomial.from_json(seq.to_json())) == hash(seq)
    with pytest.raises(ValueError, match="Argument 'signs'"):
        QuasiPolynomial((1, 0), (), 1, ((1,),))
    with pytest.raises(ValueError, match="Argument 'period'"):
        QuasiPolynomial((1,), (), 0, ())
    with pytest.raises(ValueError, match="Argument 'polys' must hold 2"):
        QuasiPolynomial((1,), (), 2, ((1,),))
    with pytest.raises(TypeError, match="Argument 'head'"):
        QuasiPolynomial((1,), (1.5,), 1, ((1,),))
    with pytest.raises(ArithmeticError):
        QuasiPolynomial((1,), (), 1, ((Fraction(1, 2), 1),)).term(0)
    with pytest.raises(ValueError):
        QuasiPolynomial.from_json({"signs": [1]})
