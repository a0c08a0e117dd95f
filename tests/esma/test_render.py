"""Expressions as a mathematician writes them (DESIGN 10), through the one set of helpers in esma.render.

Every expected string below is written by hand, as it would appear in a paper or on a blackboard: ``tan 1``
(not ``tan(1)``), ``e^2`` (not ``exp(2)``), ``√2``, implicit multiplication, parentheses only where precedence
needs them and never doubled.  Minus is ASCII '-' everywhere, as in the continued fractions printed next to it.
"""

from __future__ import annotations

import doctest

import pytest

from esma import render
from esma.records import Conjecture
from esma.render import (
    conjecture_latex,
    conjecture_text,
    constant_latex,
    constant_text,
    lhs_latex,
    lhs_text,
    transform_text,
)
from esma.transforms import Transform


def formula(constant: str, numerator, denominator) -> Conjecture:
    """A record of T(c) = P/Q for ``constant`` (coefficients ascending); the stored text as the engine writes it."""
    t = Transform(tuple(numerator), tuple(denominator))
    return Conjecture(
        constant=constant, lhs=t.text, lhs_numerator=tuple(numerator), lhs_denominator=tuple(denominator),
        value="1", signs=(1, -1), preperiod=0, terms=(1, 2, 4, 1, 6, 1, 8), recurrence=(1,), closed_form="",
        kind="polynomial", verified_digits=300, digits_per_term=1.0, scf_digits_per_term=1.0,
    )


def test_doctests():
    assert doctest.testmod(render).failed == 0


@pytest.mark.parametrize(
    ("expr", "text", "latex"),
    [
        ("tan(1)", "tan 1", r"\tan 1"),
        ("exp(2)", "e^2", "e^{2}"),
        ("exp(1)", "e", "e"),
        ("sqrt(2)", "√2", r"\sqrt{2}"),
        ("e", "e", "e"),
        ("pi", "π", r"\pi"),
        ("log(2)", "log 2", r"\log 2"),
        ("tanh(pi)", "tanh π", r"\tanh \pi"),
        ("tan(1/3)", "tan(1/3)", r"\tan\left(\frac{1}{3}\right)"),
        ("exp(1/3)", "e^(1/3)", "e^{1/3}"),
        ("exp(-1)", "e^(-1)", "e^{-1}"),
        ("exp(2/3)", "e^(2/3)", "e^{2/3}"),
        ("besseli(1, 2)/besseli(0, 2)", "I_1(2)/I_0(2)", r"\frac{I_{1}(2)}{I_{0}(2)}"),
        ("besselj(1/2, 1)", "J_(1/2)(1)", "J_{1/2}(1)"),
        ("zeta(3)", "ζ(3)", r"\zeta(3)"),
        ("gamma(1/3)", "Γ(1/3)", r"\Gamma\left(\frac{1}{3}\right)"),
        ("2*pi", "2π", r"2\pi"),
        ("-2*pi", "-2π", r"-2\pi"),
        ("pi*e", "π·e", r"\pi \cdot e"),
        ("3*2", "3·2", r"3 \cdot 2"),
        ("pi**2/6", "π^2/6", r"\frac{\pi^{2}}{6}"),
        ("e/5", "e/5", r"\frac{e}{5}"),
        ("1/(2*pi)", "1/(2π)", r"\frac{1}{2\pi}"),
        ("(1+e)**2", "(1 + e)^2", "(1 + e)^{2}"),
        ("2*(1+e)", "2(1 + e)", "2(1 + e)"),
        ("2**3**2", "2^(3^2)", "2^{3^{2}}"),
        ("1 + sqrt(2)", "1 + √2", r"1 + \sqrt{2}"),
        ("sqrt(2)**3", "(√2)^3", r"(\sqrt{2})^{3}"),
        ("sqrt(1/3)", "√(1/3)", r"\sqrt{\frac{1}{3}}"),
        # a bare application ends a product: what follows it is bracketed off, never captured
        ("tan(1)/2", "(tan 1)/2", r"\frac{\tan 1}{2}"),
        ("tan(1)*pi", "(tan 1)π", r"(\tan 1)\pi"),
        ("pi*tan(1)", "π·tan 1", r"\pi \cdot \tan 1"),
        ("tan(1)**2", "tan^2 1", r"\tan^{2} 1"),
        ("tan(1/3)**2", "tan^2(1/3)", r"\tan^{2}\left(\frac{1}{3}\right)"),
        ("1/tan(1)", "1/tan 1", r"\frac{1}{\tan 1}"),
        ("2.5", "2.5", "2.5"),
        ("1.5e-30", "1.5e-30", r"1.5 \cdot 10^{-30}"),
        ("euler_gamma", "γ", r"\gamma"),
    ],
)
def test_constants(expr, text, latex):
    assert constant_text(expr) == text
    assert constant_latex(expr) == latex


@pytest.mark.parametrize(
    ("numerator", "denominator", "text"),
    [
        ((0, 1), (1,), "c"),
        ((1, 0), (0, 1), "1/c"),
        ((1, 2), (-2, 1), "(2c + 1)/(c - 2)"),
        ((-2, 2), (1,), "2c - 2"),
        ((1, 0, 1), (1, 0, 0), "c^2 + 1"),
        ((0, 2), (-2, 1), "2c/(c - 2)"),
        ((1, -1), (-2, 1), "(c - 1)/(2 - c)"),  # negated to a positive value: the sign goes into the denominator
        ((1, -1), (2, 1), "(1 - c)/(c + 2)"),
        ((-1, -1), (2, 1), "-(c + 1)/(c + 2)"),
        ((-1, 0, 2), (0, 1, 1), "(2c^2 - 1)/(c^2 + c)"),
        ((0, 0, 1), (1, 1, 0), "c^2/(c + 1)"),
    ],
)
def test_transforms(numerator, denominator, text):
    assert transform_text(numerator, denominator) == text


def test_transform_in_another_variable():
    assert transform_text((1, 2), (-2, 1), var="x") == "(2x + 1)/(x - 2)"


@pytest.mark.parametrize(
    ("constant", "numerator", "denominator", "text", "latex"),
    [
        ("tan(1)", (0, 1), (1,), "tan 1", r"\tan 1"),
        ("tan(1)", (1, 0), (0, 1), "1/tan 1", r"\frac{1}{\tan 1}"),
        ("tan(1)", (1, 1), (-1, 1), "(tan 1 + 1)/(tan 1 - 1)", r"\frac{\tan 1 + 1}{\tan 1 - 1}"),
        ("tan(1)", (1, 2), (-1, 2), "(2 tan 1 + 1)/(2 tan 1 - 1)", r"\frac{2\tan 1 + 1}{2\tan 1 - 1}"),
        ("tan(1)", (0, 2), (-2, 1), "(2 tan 1)/(tan 1 - 2)", r"\frac{2\tan 1}{\tan 1 - 2}"),
        ("tan(1)", (1, 0, 1), (1,), "tan^2 1 + 1", r"\tan^{2} 1 + 1"),
        ("exp(2)", (0, 1), (1,), "e^2", "e^{2}"),
        ("exp(2)", (1, 1), (-1, 1), "(e^2 + 1)/(e^2 - 1)", r"\frac{e^{2} + 1}{e^{2} - 1}"),
        ("exp(2)", (1, 0), (0, 1), "1/e^2", r"\frac{1}{e^{2}}"),
        ("exp(2)", (0, 2), (-2, 1), "2e^2/(e^2 - 2)", r"\frac{2e^{2}}{e^{2} - 2}"),
        ("exp(2)", (1, 0, 1), (1,), "(e^2)^2 + 1", "(e^{2})^{2} + 1"),
        ("sqrt(2)", (-2, 2), (1,), "2√2 - 2", r"2\sqrt{2} - 2"),
        ("sqrt(2)", (1, 0), (0, 1), "1/√2", r"\frac{1}{\sqrt{2}}"),
        ("sqrt(2)", (1, -1), (-2, 1), "(√2 - 1)/(2 - √2)", r"\frac{\sqrt{2} - 1}{2 - \sqrt{2}}"),
        ("e", (0, 1), (1,), "e", "e"),
        ("e", (1, 1), (-1, 1), "(e + 1)/(e - 1)", r"\frac{e + 1}{e - 1}"),
        ("e", (-1, 0, 2), (0, 1, 1), "(2e^2 - 1)/(e^2 + e)", r"\frac{2e^{2} - 1}{e^{2} + e}"),
        ("e", (-1, -1), (2, 1), "-(e + 1)/(e + 2)", r"-\frac{e + 1}{e + 2}"),
        ("tan(1/3)", (1, 0), (0, 1), "1/tan(1/3)", r"\frac{1}{\tan\left(\frac{1}{3}\right)}"),
        ("e/5", (0, 2), (-2, 1), "(2e/5)/(e/5 - 2)", r"\frac{2 \cdot \frac{e}{5}}{\frac{e}{5} - 2}"),
        # a constant that is a sum is substituted as a whole, as one does by hand
        ("1 + sqrt(2)", (1, 1), (-1, 1), "((1 + √2) + 1)/((1 + √2) - 1)",
         r"\frac{(1 + \sqrt{2}) + 1}{(1 + \sqrt{2}) - 1}"),
        ("1 + sqrt(2)", (1, 0), (0, 1), "1/(1 + √2)", r"\frac{1}{1 + \sqrt{2}}"),
        ("1 + sqrt(2)", (-2, 2), (1,), "2(1 + √2) - 2", r"2(1 + \sqrt{2}) - 2"),
    ],
)
def test_lhs(constant, numerator, denominator, text, latex):
    conj = formula(constant, numerator, denominator)
    assert lhs_text(conj) == text
    assert lhs_latex(conj) == latex


def test_no_doubled_or_needless_parentheses():
    for constant in ("tan(1)", "exp(2)", "sqrt(2)", "e", "pi", "log(2)"):
        for num, den in (((1, 0), (0, 1)), ((1, 1), (-1, 1)), ((-2, 2), (1,)), ((1, 2), (-2, 1))):
            conj = formula(constant, num, den)
            text, latex = lhs_text(conj), lhs_latex(conj)
            assert "((" not in text and "))" not in text, text
            assert r"\left(" not in latex and "*" not in text and "**" not in text, (text, latex)
            assert not any(f"{f}(" in text for f in ("tan", "exp", "sqrt", "log")), text


def test_the_formula_line_and_its_latex():
    conj = formula("tan(1)", (1, 0), (0, 1))
    assert conjecture_text(conj, 4).splitlines()[0] == "1/tan 1 = 1 + 1/(2 - 1/(4 + 1/(1 - ...)))"
    assert conjecture_latex(conj, 3) == r"\frac{1}{\tan 1} = 1 + \cfrac{1}{2 - \cfrac{1}{4 + \dotsb}}"


def test_the_text_is_never_evaluated():
    # the grammar of esma.constants only: Python syntax, unknown names and calls are refused
    for bad in ("__import__('os')", "tan(1)}\\input{x", "c.__class__", "open('f')", "tan(1); 1"):
        with pytest.raises(ValueError):
            constant_text(bad)
        with pytest.raises(ValueError):
            constant_latex(bad)


def test_bad_arguments():
    with pytest.raises(TypeError, match="Argument 'numerator'"):
        transform_text((1.5, 2), (1,))
    with pytest.raises(TypeError, match="Argument 'var'"):
        transform_text((1, 2), (1,), var="")
    with pytest.raises(ValueError, match="Argument 'denominator'"):
        transform_text((1, 2), (0, 0))
