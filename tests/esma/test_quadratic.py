"""Quadratic irrationals (issue 17 item 6; DESIGN 7 and 8): their eventually periodic formulas are proved by a
checkable certificate (``esma-quadratic-cert/1``), and their families, formed modulo the minimal polynomial,
are the tail classes.

The partition is compared with one computed here from each formula's own terms and signs (the periodic cycle
of (sign, term) pairs, reduced to its primitive period, canonicalised by its least rotation); forged
certificates are rejected by the checker and by ``esma verify ID --proof``.
"""

from __future__ import annotations

import json
import math
import sqlite3
from fractions import Fraction

import mpmath
import pytest

import esma
from esma import checker, quadratic
from esma.constants import constant
from esma.prover import Formula, prove_formula, prove_periodic
from esma.theorems import QuasiPolynomial

SQRT2 = "sqrt(2)"


@pytest.fixture(scope="module")
def sqrt2():
    return esma.search(SQRT2)


# ---------------------------------------------------------------------------------------------- the field


@pytest.mark.parametrize(("text", "minpoly"), [
    ("sqrt(2)", (-2, 0, 1)), ("phi", (-1, -1, 1)), ("(1 + sqrt(5))/2", (-1, -1, 1)), ("sqrt(3)/2", (-3, 0, 4)),
    ("sqrt(8)", (-8, 0, 1)), ("2**(1/2) + 1", (-1, -2, 1)), ("sqrt(3 + 2*sqrt(2))", (-1, -2, 1)),
    ("1/sqrt(2)", (-1, 0, 2)), ("sqrt(2)*sqrt(3)", (-6, 0, 1)), ("(1 - sqrt(5))/2 + 2", (5, -5, 1)),
])
def test_minimal_polynomial_of_quadratic_constants(text, minpoly):
    assert quadratic.minimal_polynomial(text) == minpoly
    # the constant is a root, numerically too
    C, B, A = minpoly
    with mpmath.workdps(50):
        x = mpmath.mpf(constant(text).ball(40).mid().str(45, radius=False))
        assert abs(A * x * x + B * x + C) < mpmath.mpf(10) ** -30


@pytest.mark.parametrize("text", ["pi", "e", "1.41421356237", "sqrt(2) + sqrt(3)", "2**(1/3)", "zeta(3)",
                                  "sqrt(sqrt(2))", "tan(1)", "sqrt(2.0)"])
def test_other_constants_have_no_quadratic_minimal_polynomial(text):
    assert quadratic.minimal_polynomial(text) is None


def test_exact_signs_and_floors():
    c = quadratic.surd_of_text("sqrt(2)")
    near = c - Fraction(141421356237, 10**11)  # sqrt 2 - 1.41421356237 = 3.1e-12 > 0
    assert near.sign() == 1 and (-near).sign() == -1 and (c - c).sign() == 0
    assert [(c * k).floor() for k in (1, 7, 1000, -3)] == [1, 9, 1414, -5]
    assert ((c + 1) / (c - 1)).floor() == 5


# ------------------------------------------------------------------------------------------- the search


def test_every_formula_of_sqrt2_is_proved(sqrt2):
    records = sqrt2.conjectures
    assert len(records) == 1540
    assert {c.kind for c in records} == {"periodic"}
    assert [c for c in records if c.status != "proved"] == []
    assert sqrt2.unproved == []
    for c in records:
        assert c.certificate["format"] == "esma-quadratic-cert/1"
        assert c.status_reason.startswith("eventually periodic: T(c) is the root of ")
        assert c.status_reason.endswith("(Lagrange); checked exactly")
        # the checker, again, from the record alone
        ok, why = checker.check(c.certificate, c.constant, c.lhs_numerator, c.lhs_denominator, c.signs,
                                c.terms[: c.preperiod], c.period, c.polynomials)
        assert ok, (c.lhs, c.signs_text, why)
        assert why == c.status_reason


def test_the_stated_quadratic_has_the_value_as_a_root(sqrt2):
    """The reason names the quadratic T(c) is a root of and an interval that isolates it: checked here with
    mpmath on the stored 60-digit value."""
    import re

    for c in sqrt2.conjectures[::3]:
        m = re.match(r"eventually periodic: T\(c\) is the root of (.*) in \((\S+), (\S+)\)", c.status_reason)
        assert m, c.status_reason
        poly, lo, hi = _coefficients(m.group(1)), *(_mp(Fraction(g)) for g in m.group(2, 3))
        assert len(poly) == 3 and poly[2] > 0
        with mpmath.workdps(60):
            x = mpmath.mpf(c.value)
            assert abs(poly[2] * x * x + poly[1] * x + poly[0]) < mpmath.mpf(10) ** -45
            assert lo < x < hi
            # the other root is outside the interval
            other = -mpmath.mpf(poly[1]) / poly[2] - x
            assert not lo < other < hi


def _coefficients(text: str) -> list[int]:
    """Ascending coefficients of a text such as ``4x^2 - 20x + 7``."""
    import re

    out = [0, 0, 0]
    for sign, mag, var, power in re.findall(r"([+-]?)\s*(\d*)(x?)(?:\^(\d+))?", text.replace(" ", "")):
        if not (mag or var):
            continue
        e = (int(power) if power else 1) if var else 0
        out[e] += (-1 if sign == "-" else 1) * (int(mag) if mag else 1)
    return out


def _cycle(c) -> tuple[tuple[int, int], ...]:
    """The periodic (sign, term) cycle of a record, from its closed form checked against its stored terms:
    primitive (not a repetition of a shorter cycle), canonicalised by its least rotation."""
    s, N, p = c.preperiod, c.period, len(c.signs)
    constants = [int(q[0]) for q in c.polynomials]
    assert all(len(q) == 1 for q in c.polynomials)

    def term(n):
        return c.terms[n] if n < s else constants[n % N]

    assert all(term(n) == c.terms[n] for n in range(len(c.terms)))
    L = math.lcm(N, p)
    pairs = [(c.signs[n % p], term(n)) for n in range(s, s + L)]
    for d in range(1, L + 1):
        if L % d == 0 and pairs == pairs[:d] * (L // d):
            pairs = pairs[:d]
            break
    return min(tuple(pairs[i:] + pairs[:i]) for i in range(len(pairs)))


def test_families_of_sqrt2_are_its_tail_classes(sqrt2):
    records = sqrt2.conjectures
    engine: dict[str, set[str]] = {}
    for c in records:
        engine.setdefault(c.family, set()).add(c.key)
    tails: dict[tuple, set[str]] = {}
    for c in records:
        tails.setdefault(_cycle(c), set()).add(c.key)
    assert {frozenset(g) for g in engine.values()} == {frozenset(g) for g in tails.values()}
    assert 40 <= len(engine) <= 100
    assert len(sqrt2.families) == len(engine)
    # one representative each, related to every member exactly: T(c) = G(T_rep(c)) numerically too
    reps = {c.family: c for c in records if c.representative}
    assert len(reps) == len(engine)
    for c in records:
        rep = reps[c.family]
        g11, g12, g21, g22 = c.relation
        assert abs(g11 * g22 - g12 * g21) == 1
        with mpmath.workdps(60):
            x = mpmath.mpf(rep.value)
            assert abs(mpmath.mpf(c.value) - (g11 * x + g12) / (g21 * x + g22)) < mpmath.mpf(10) ** -50
    # the family of sqrt 2 = [1; 2, 2, ...] is shown through c itself
    [own] = [c for c in records if c.lhs == "c" and c.signs == (1,)]
    assert own.representative and own.terms[:4] == (1, 2, 2, 2)


def test_golden_ratio_and_a_scaled_root():
    for text in ("phi", "sqrt(3)/2"):
        result = esma.search(text, max_period=2)
        assert result.conjectures, text
        assert all(c.status == "proved" for c in result.conjectures), text
        tails = {_cycle(c) for c in result.conjectures}
        assert len({c.family for c in result.conjectures}) == len(tails)


@pytest.mark.parametrize("text", ["pi", "zeta(3)", "0.5772156649015328606065120900824024310421593359"])
def test_constants_that_are_not_quadratic_give_nothing_periodic(text):
    result = esma.search(text, max_period=2)
    assert all(c.kind != "periodic" for c in result.conjectures)
    assert all(c.status != "proved" for c in result.conjectures)


# ------------------------------------------------------------------------------------ forged certificates


def _sqrt2_over(formula=None):
    """(c + 1)/(c - 1) = 6 - 1/(6 - 1/(6 - ...)) for c = sqrt(2): record and certificate."""
    f = formula or Formula.from_parts(SQRT2, (1, 1), (-1, 1), (-1,), (), 1, ((6,),))
    proof = prove_formula(f)
    assert proof.ok, proof.reason
    return f, proof.certificate


def _check(cert, f: Formula):
    return checker.check(cert, *f.record())


def test_a_true_certificate_checks():
    f, cert = _sqrt2_over()
    assert cert["equation"] == [1, -6, 1] and cert["period"] == {"terms": [6], "signs": [-1]}
    assert _check(cert, f) == (True, "eventually periodic: T(c) is the root of x^2 - 6x + 1 in (5, 6) "
                                     "(Lagrange); checked exactly")


FORGERIES = {
    # the conjugate root 3 - 2 sqrt 2 = 0.17: not above 1
    "other root": ({"root": ["0", "1"]}, "does not isolate one root above 1"),
    # an interval above 1 that misses the root
    "wrong interval": ({"root": ["6", "7"]}, "does not isolate one root above 1"),
    "interval at the root's side": ({"root": ["1", "5"]}, "does not isolate one root above 1"),
    "wrong period": ({"period": {"terms": [5], "signs": [-1]}}, "not the record's"),
    "wrong signs": ({"period": {"terms": [6], "signs": [1]}}, "not the record's"),
    "wrong equation": ({"equation": [1, -5, 1]}, "not the one read off the period"),
    "wrong minimal polynomial": ({"minimal_polynomial": [-3, 0, 1]}, "not the constant's"),
    "other constant": ({"constant": "sqrt(3)"}, "constant is not the record's"),
    "huge term": ({"period": {"terms": [10**5000], "signs": [-1]}}, "more than 4096 bits"),
    "huge interval": ({"root": ["5", "6" * 5000]}, "rational as text"),
    "unreadable interval": ({"root": ["5", "six"]}, "rational as text"),
    "long head": ({"head": {"terms": [6] * 20_000, "signs": [-1] * 20_000}}, "at most 10000 ints"),
    "no head": ({"head": {"terms": [], "signs": []}}, "malformed"),
    "no period": ({"period": {"terms": [], "signs": []}}, "malformed"),
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_forged_certificates_are_rejected(case):
    f, cert = _sqrt2_over()
    change, why = FORGERIES[case]
    ok, reason = _check({**cert, **change}, f)
    assert not ok and why in reason, reason


def test_a_certificate_for_another_formula_is_rejected():
    _, cert = _sqrt2_over()
    other = Formula.from_parts(SQRT2, (1, 1), (-1, 1), (-1,), (), 1, ((5,),))  # (c + 1)/(c - 1) is not [5, 5, ...]
    assert prove_periodic(other).reason == "the value read off the period is not T(c)"
    forged = {**cert, "claim": other.claim.to_json(), "head": {"terms": [5], "signs": [-1]},
              "period": {"terms": [5], "signs": [-1]},
              "equation": [1, -5, 1], "root": ["4", "5"]}
    ok, reason = _check(forged, other)
    assert not ok and "H^-1(T(c)) is not a root of the equation" in reason
    ok, reason = _check(cert, other)  # the true certificate, for a record that claims otherwise
    assert not ok and "not the record's" in reason


def test_a_non_admissible_claim_is_rejected_though_its_value_is_right():
    """sqrt 2 = [1; 2, 0, 0, 2, 0, 0, ...]: each block [2, 0, 0] has the matrix of [2] (0 + 1/(0 + 1/y) = y), so
    the quadratic and its root are right; the terms 0 are not admissible: it is not the expansion of sqrt 2."""
    claim = QuasiPolynomial((1,), (1,), 3, ((0,), (2,), (0,)))  # a(3m) = 0, a(3m+1) = 2, a(3m+2) = 0, n >= 1
    assert claim.terms(8) == (1, 2, 0, 0, 2, 0, 0, 2)
    f = Formula(SQRT2, (0, 1), (1,), claim)
    cert, _ = quadratic.certificate(SQRT2, (0, 1), (1,), claim)
    assert cert is not None and cert["equation"] == [-1, -2, 1]  # y = 1 + sqrt 2, as for [1; 2, 2, 2, ...]
    ok, reason = _check(cert, f)
    assert not ok and "not admissible: a(2) = 0 < 1" in reason, reason
    assert not prove_formula(f).ok


def test_a_decimal_literal_and_a_registry_constant_are_not_read_as_quadratic():
    f, cert = _sqrt2_over()
    for text in ("1.4142135623730950488", "e"):
        g = Formula(text, f.lhs_numerator, f.lhs_denominator, f.claim)
        ok, reason = _check({**cert, "constant": text}, g)
        assert not ok, reason
    assert "decimal literal" in _check({**cert, "constant": "1.41421356"}, Formula(
        "1.41421356", f.lhs_numerator, f.lhs_denominator, f.claim))[1]


def test_a_certificate_beyond_the_bound_is_rejected_before_it_is_checked():
    terms = [2**4000 + 1] * 2000
    f = Formula(SQRT2, (0, 1), (1,), QuasiPolynomial((1,), (1, *terms), 1, ((2,),)))
    cert = {"format": "esma-quadratic-cert/1", "constant": SQRT2, "minimal_polynomial": [-2, 0, 1],
            "head": {"terms": [1, *terms], "signs": [1] * 2001}, "period": {"terms": [2], "signs": [1]},
            "equation": [-1, -2, 1], "root": ["2", "3"]}
    ok, reason = _check(cert, f)
    assert not ok and reason.startswith("beyond the checker's bound"), reason


# ---------------------------------------------------------------------------------- esma verify --proof


def _main(capsys, *args) -> tuple[int, str]:
    from esma.cli.main import main

    capsys.readouterr()
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


def test_verify_proof_rechecks_a_quadratic_certificate(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("ESMA_DB", raising=False)
    db = tmp_path / "c.sqlite"
    code, out = _main(capsys, "search", SQRT2, "--max-period", "1", "--json", "--db", db)
    assert code == 0
    records = json.loads(out)["conjectures"]
    assert records and all(r["status"] == "proved" for r in records)
    rec = next(r for r in records if r["lhs"] == "(c + 1)/(c - 1)")
    code, out = _main(capsys, "verify", rec["id"], "--proof", "--db", db)
    assert code == 0 and out.startswith(f"#{rec['id']} proof checked: eventually periodic: T(c) is the root of "
                                         "x^2 - 6x + 1 in (5, 6)"), out
    # a forged one (the conjugate root) is rejected, and the formula goes back to a conjecture
    forged = {**rec["certificate"], "root": ["0", "1"]}
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE conjectures SET certificate = ? WHERE id = ?", [json.dumps(forged), rec["id"]])
    con.close()
    code, out = _main(capsys, "verify", rec["id"], "--proof", "--db", db)
    assert code == 1 and "PROOF REJECTED" in out and "does not isolate one root above 1" in out, out
    code, out = _main(capsys, "show", rec["id"], "--json", "--db", db)
    assert json.loads(out)["conjecture"]["status"] == "conjecture"


def _mp(q: Fraction):
    return mpmath.mpf(q.numerator) / q.denominator
