"""Proofs in the search (issue #13, DESIGN section 8): every family of a registry constant is proved, a
certificate that the checker rejects proves nothing, and what is not a theorem stays a conjecture.

Each proved record's certificate is checked again here, from the record alone (members with their
representative's claim and certificate put back, as ``esma verify --proof`` does).
"""

from __future__ import annotations

import copy

import pytest

from esma import checker
from esma.prover import Formula, with_representative
from esma.search import plan_search, run_chunk, search
from esma.theorems import FORMAT, MEMBER_FORMAT

REGISTRY_SEARCHES = [
    pytest.param("e", {}, id="e"),
    pytest.param("exp(2)", {}, id="exp2"),
    pytest.param("tan(1)", {}, id="tan1"),
    pytest.param("tanh(1/2)", {}, id="tanh-half"),
    pytest.param("besseli(1, 2)/besseli(0, 2)", {}, id="bessel"),
    pytest.param("e", {"degree": 2, "coeff_limit": 2}, id="e-d2"),
]


def recheck(result) -> int:
    """Check every proved record's certificate again from the record; returns how many were checked."""
    reps = {c.key: c for c in result.conjectures if c.representative}
    n = 0
    for c in result.conjectures:
        if c.status != "proved":
            continue
        cert = c.certificate
        if cert["format"] == MEMBER_FORMAT:
            rep = reps[cert["representative"]["key"]]
            cert = with_representative(cert, Formula.from_conjecture(rep), rep.certificate)
        else:
            assert cert["format"] == FORMAT and c.representative
        ok, why = checker.check(cert, c.constant, c.lhs_numerator, c.lhs_denominator, c.signs,
                                c.terms[: c.preperiod], c.period, c.polynomials)
        assert ok, (c.key, why)
        assert why.startswith("proved from") and c.status_reason == why
        n += 1
    return n


@pytest.mark.parametrize(("expr", "params"), REGISTRY_SEARCHES)
def test_every_family_of_a_registry_constant_is_proved(expr, params):
    result = search(expr, verify_digits=300, **params)
    s = result.summary()
    assert s["conjectures"] > 100
    assert result.unproved == []
    assert s["proved"] == s["conjectures"] and s["proved_families"] == s["families"]
    assert recheck(result) == s["conjectures"]
    # members are proved through their representative, not by a search of their own
    members = [c for c in result.conjectures if not c.representative]
    assert members and all(c.certificate["format"] == MEMBER_FORMAT for c in members)
    # the time proofs add is part of the search's and reported
    assert 0 < s["proof_seconds"] < result.seconds


def test_a_decimal_literal_of_e_finds_formulas_and_proves_none():
    import mpmath

    with mpmath.workdps(1010):
        literal = mpmath.nstr(mpmath.e, 1000, strip_zeros=False)
    result = search(literal, coeff_limit=1, max_period=2, verify_digits=300)
    assert len(result.conjectures) > 10
    assert all(c.status == "conjecture" and c.certificate is None for c in result.conjectures)


def test_a_decimal_literal_of_a_quadratic_irrational_keeps_its_formulas_as_conjectures():
    """sqrt(2) is proved formula by formula (Lagrange: ``tests/esma/test_quadratic.py``); a measured value of it
    is outside the registry and is never read as algebraic: its eventually periodic formulas stay conjectures."""
    import mpmath

    with mpmath.workdps(1010):
        literal = mpmath.nstr(mpmath.sqrt(2), 1000, strip_zeros=False)
    result = search(literal, coeff_limit=1, max_period=2, verify_digits=300)
    assert result.conjectures and {c.kind for c in result.conjectures} == {"periodic"}
    assert all(c.status == "conjecture" and c.certificate is None for c in result.conjectures)
    assert all(c.status_reason.startswith("eventually periodic: T(c) is then a quadratic irrational")
               for c in result.conjectures)
    exact = search("sqrt(2)", coeff_limit=1, max_period=2, verify_digits=300)
    assert exact.conjectures and all(c.status == "proved" for c in exact.conjectures)


@pytest.mark.parametrize("expr", ["pi", "zeta(3)"])
def test_pi_and_zeta3_find_nothing(expr):
    assert search(expr, verify_digits=300).conjectures == []


def test_a_tampered_member_certificate_is_rejected():
    result = search("e", coeff_limit=1, max_period=2, verify_digits=300)
    reps = {c.key: c for c in result.conjectures if c.representative}
    member = next(c for c in result.conjectures if not c.representative)
    rep = reps[member.certificate["representative"]["key"]]
    good = with_representative(member.certificate, Formula.from_conjecture(rep), rep.certificate)
    args = (member.constant, member.lhs_numerator, member.lhs_denominator, member.signs,
            member.terms[: member.preperiod], member.period, member.polynomials)
    assert checker.check(good, *args)[0]
    bad_relation = copy.deepcopy(good)
    bad_relation["relation"][0][1] += 1
    bad_shift = copy.deepcopy(good)
    bad_shift["shift"]["member"] += 1
    bad_rep = copy.deepcopy(good)
    bad_rep["representative"]["certificate"]["cert"]["U"][0][0] = "2"
    other_lhs = copy.deepcopy(good)
    other_lhs["representative"]["lhs"]["numerator"] = [n + 1 for n in other_lhs["representative"]["lhs"]["numerator"]]
    for bad in (bad_relation, bad_shift, bad_rep, other_lhs):
        ok, why = checker.check(bad, *args)
        assert not ok and why, bad


def test_the_scan_fast_path_gives_the_full_computation(monkeypatch):
    """A hit whose tail is known gets its closed form from the family's: the same hits as Berlekamp–Massey."""
    plan = plan_search("e", coeff_limit=2, max_period=3)
    fast = [h for i in range(len(plan.chunks)) for h in run_chunk(plan, i).hits]
    from esma.families import TailIndex

    monkeypatch.setattr(TailIndex, "match", lambda self, terms, signs: None)
    slow = [h for i in range(len(plan.chunks)) for h in run_chunk(plan, i).hits]
    assert fast == slow and len(fast) > 100
