"""esma.columns: the stored text of a formula, exact for integers of any size, checked before any write.

Golden values are written by hand (JSON as the standard defines it), not produced by the code under test.
"""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esma.columns import (
    COLUMNS,
    conjecture_columns,
    hits_text,
    int_from_text,
    int_list_text,
    int_to_text,
    json_text,
)
from esma.records import Hit
from esma.search import search


@pytest.fixture(scope="module")
def record():
    return search("e", coeff_limit=1, max_period=1, verify_digits=100).conjectures[0]


def test_texts_by_hand() -> None:
    assert int_list_text(()) == "[]"
    assert int_list_text((0, -1, 10**20)) == "[0,-1,100000000000000000000]"
    assert json_text({"b": [1, "2/3"], "a": {"y": None, "x": True}}) == '{"a":{"x":true,"y":null},"b":[1,"2/3"]}'
    assert json_text(None) is None
    assert json_text([Fraction(1, 3)]) == '["1/3"]'  # what is not JSON is written as its text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(10**9000), max_value=10**9000), max_size=5))
def test_integer_lists_are_exact(values: list[int]) -> None:
    text = int_list_text(tuple(values))
    assert [int_from_text(t) for t in text[1:-1].split(",") if t] == values
    assert all(int_from_text(int_to_text(v)) == v for v in values)


@pytest.mark.parametrize("bad", [(1, 2.0), (True,), "12", (None,)])
def test_integer_lists_refuse_what_is_not_an_int(bad) -> None:
    with pytest.raises(TypeError):
        int_list_text(bad)


def test_a_record_as_stored(record) -> None:
    row = conjecture_columns(record)
    assert tuple(row) == COLUMNS
    assert json.loads(row["terms"]) == list(record.terms)
    assert json.loads(row["relation"]) == list(record.relation)
    assert json.loads(row["certificate"]) == json.loads(json.dumps(record.certificate, default=str))
    assert row["polynomials"] == json.dumps([[str(x) for x in p] for p in record.polynomials], separators=(",", ":"))
    assert row["signs"] == "".join("+" if s == 1 else "-" for s in record.signs)
    assert row["family_key"] == record.family and row["representative"] is bool(record.representative)


@pytest.mark.parametrize(("change", "error", "words"), [
    ({"key": ""}, ValueError, "empty 'key'"),
    ({"status": "maybe"}, ValueError, "status of the conjecture"),
    ({"signs": (1, 0)}, ValueError, "Signs must be"),
    ({"relation": (1, 0, 0)}, ValueError, "relation"),
])
def test_bad_records_are_refused(record, change, error, words) -> None:
    with pytest.raises(error, match=words):
        conjecture_columns(replace(record, **change))
    with pytest.raises(TypeError, match="Expected a Conjecture"):
        conjecture_columns(record.to_dict())


def test_hits_as_stored_read_back() -> None:
    """A chunk's hits as the catalog keeps them (``hits_text``): canonical JSON that ``Hit.from_row`` reads back
    into the same hits, big terms and fractional polynomial coefficients included."""
    from esma.scanning import run_chunk
    from esma.search import plan_search

    plan = plan_search("e", coeff_limit=1, max_period=2)
    hits = [h for i in range(len(plan.chunks)) for h in run_chunk(plan, i).hits]
    assert len(hits) > 10
    text = hits_text(hits)
    assert text == json_text(json.loads(text))  # canonical: written again, the same text
    assert [Hit.from_row(row) for row in json.loads(text)] == hits
    assert hits_text(()) is None
