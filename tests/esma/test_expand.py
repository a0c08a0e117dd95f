"""esma.expand against golden expansions from independent sources (tests/data/expansions.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import esma

DATA = json.loads((Path(__file__).parents[1] / "data" / "expansions.json").read_text())


@pytest.mark.parametrize(
    "case", DATA["expansions"], ids=[f"{c['expression']}[{c['signs']}]" for c in DATA["expansions"]]
)
def test_reference_expansions(case):
    cf = esma.expand(case["expression"], case["signs"], len(case["terms"]))
    assert list(cf.terms) == case["terms"]
    assert not cf.exact


def test_fixed_precision_certifies_fewer_terms():
    # 20 digits cannot certify 80 terms of e's simple fraction; what it certifies is a prefix of the truth
    truth = DATA["expansions"][0]["terms"]
    cf = esma.expand("e", "+", 80, digits=20)
    assert 5 < len(cf.terms) < 80
    assert list(cf.terms) == truth[: len(cf.terms)]


def test_rational_expansion_ends():
    cf = esma.expand("43/30", "+", 20)
    assert cf.terms == (1, 2, 3, 4) and cf.exact


def test_decimal_literal_carries_its_precision():
    lit = "3.14159265358979323846264338327950288419716939937510"  # 51 digits of pi
    cf = esma.expand(lit, "+", 200)
    pi_terms = next(c["terms"] for c in DATA["expansions"] if c["expression"] == "pi")
    assert 20 <= len(cf.terms) < 60
    assert list(cf.terms[:20]) == pi_terms[:20]
    assert list(cf.terms) == pi_terms[: len(cf.terms)]


@pytest.mark.parametrize(
    ("kwargs", "exc", "word"),
    [
        ({"expr": "e", "signs": "+x"}, ValueError, "signs"),
        ({"expr": "e", "signs": ""}, ValueError, "signs"),
        ({"expr": "e", "signs": [2]}, ValueError, "signs"),
        ({"expr": "e", "signs": "+", "terms": 0}, ValueError, "terms"),
        ({"expr": "e", "signs": "+", "terms": 1.5}, TypeError, "terms"),
        ({"expr": "e", "signs": "+", "digits": 0}, ValueError, "digits"),
        ({"expr": "e", "signs": "+", "digits": -3}, ValueError, "digits"),
        ({"expr": "foo", "signs": "+"}, ValueError, "foo"),
        ({"expr": "e.__class__", "signs": "+"}, ValueError, "expr"),
        ({"expr": 3, "signs": "+"}, TypeError, "expr"),
    ],
)
def test_bad_input(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        esma.expand(**kwargs)
