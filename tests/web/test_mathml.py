"""The MathML of expressions reads as TeX sets them (DESIGN 10): ``tan 1`` with its thin space, in the browser."""

from __future__ import annotations

import re

from esma.cli.web.mathml import to_mathml

SPACE = '<mspace width="0.1667em" />'


def test_function_names_are_spaced_from_a_bare_argument():
    assert f"<mi>tan</mi>{SPACE}<mn>1</mn>" in str(to_mathml(r"\frac{1}{\tan 1}"))
    assert f"<mn>2</mn>{SPACE}<mi>tan</mi>{SPACE}<mn>1</mn>" in str(to_mathml(r"2\tan 1 - 2"))
    assert f"<mi>tanh</mi>{SPACE}<mi>π</mi>" in str(to_mathml(r"\tanh \pi"))
    squared = str(to_mathml(r"\tan^{2} 1 + 1"))
    assert f"</msup>{SPACE}<mn>1</mn>" in squared
    assert re.search(r"<msup><mi>tan</mi><mrow><mn>2</mn></mrow></msup>", squared), "a script keeps its two places"


def test_no_space_before_a_bracket_or_an_operator():
    assert "mspace" not in str(to_mathml(r"\tan\left(\frac{1}{3}\right)"))
    assert "mspace" not in str(to_mathml(r"\frac{e^{2} + 1}{e^{2} - 1}"))
    assert "mspace" not in str(to_mathml(r"a_{10m+1} = 48m + 20"))
