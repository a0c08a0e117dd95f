"""The independent checker: it accepts valid certificates (hand-derived golden ones, and the prover's) and
rejects every kind of broken one."""

from __future__ import annotations

import ast
import copy
import doctest
import json
import time
from fractions import Fraction
from pathlib import Path

import pytest
from proof_helpers import expression, forge_unbounded, forged_polynomials, formula_of

import esma
from esma import checker
from esma.prover import Formula, prove_formula
from esma.theorems import QuasiPolynomial

GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "data" / "certificates.json").read_text())["certificates"]


def golden(name: str) -> tuple[dict, dict]:
    (entry,) = [g for g in GOLDEN if g["name"] == name]
    return copy.deepcopy(entry["certificate"]), copy.deepcopy(entry["record"])


def run(cert, record):
    r = record
    return checker.check(cert, r["constant"], r["lhs_numerator"], r["lhs_denominator"], r["signs"], r["head"],
                         r["period"], r["polynomials"])


def test_doctests():
    assert doctest.testmod(checker).failed == 0


def _imports(module) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module if node.module != "esma" else f"esma.{node.names[0].name}")
    return modules


def test_checker_imports_only_the_standard_library_sympy_and_the_registry():
    from esma import theorems

    modules = _imports(checker)
    # the registry, and at most what the registry itself stands on (its polynomial arithmetic): the checker
    # trusts nothing the registry does not already trust
    ours = {m for m in modules if m.startswith("esma")}
    assert "esma.theorems" in ours
    assert ours <= {"esma.theorems"} | {m for m in _imports(theorems) if m.startswith("esma")}
    assert not any(name in m for m in modules for name in ("prover", "search", "families", "patterns", "bm"))
    assert {m.split(".")[0] for m in modules} <= {"__future__", "math", "fractions", "functools", "esma", "sympy"}


# ------------------------------------------------------------------------------------------ golden data


@pytest.mark.parametrize("entry", GOLDEN, ids=lambda g: g["name"])
def test_golden_certificates(entry):
    ok, why = run(entry["certificate"], entry["record"])
    assert ok == entry["valid"], why


def test_equivalent_description_of_the_claim_is_accepted():
    # e - 1 with signs -+ described with period 4, a head of three terms and the sign period written twice
    cert, record = golden("e - 1 with signs -+")
    cert["claim"] = {"signs": [-1, 1, -1, 1], "head": [2, 3, 2], "period": 4, "polys": ["2", "4*m + 3", "2", "4*m + 5"]}
    cert["cert"].update(N0=4, Lin=6, M0=3, Lout=4)
    assert run(cert, record) == (True, "proved from e (Euler) with x = c")
    # and the record in that form, the certificate in the original one
    cert2, _ = golden("e - 1 with signs -+")
    record2 = {**record, "signs": [-1, 1, -1, 1], "head": [2, 3, 2], "period": 4,
               "polynomials": [(2,), (3, 4), (2,), (5, 4)]}
    assert run(cert2, record2)[0]


# --------------------------------------------------------------------------------------------- rejects


def test_rejects_one_wrong_polynomial_coefficient():
    cert, record = golden("e - 1 with signs -+")
    record["polynomials"] = ["2", "2*m + 5"]
    ok, why = run(cert, record)
    assert not ok and "claim is not the record's" in why
    cert["claim"]["polys"] = ["2", "2*m + 5"]  # a certificate made to fit the wrong claim
    ok, why = run(cert, record)
    assert not ok and "identity fails" in why


def test_rejects_two_residue_polynomials_swapped():
    cert, record = golden("tan(1) with signs +-+, polynomial state")
    polys = ["1", "4*m + 4", "4*m + 2"]
    record["polynomials"] = polys
    assert not run(cert, record)[0]
    cert["claim"]["polys"] = polys
    ok, why = run(cert, record)
    assert not ok and "identity fails" in why


def test_rejects_a_base_that_is_not_the_registrys():
    cert, record = golden("e itself")
    cert["base"]["polys"] = ["1", "1", "2*m + 4"]
    ok, why = run(cert, record)
    assert not ok and "not the registry's continued fraction of e" in why
    cert, record = golden("e itself")
    cert["base"] = {"theorem": "tan(1)", "signs": [1], "head": [1], "period": 2, "polys": ["1", "2*m + 1"]}
    ok, why = run(cert, record)
    assert not ok and "not a registry theorem for e" in why
    cert, record = golden("e itself")
    cert["base"]["theorem"] = "exp(2)"  # a registry theorem for e, but through x = c^2, and another sequence
    assert not run(cert, record)[0]


def test_rejects_identities_that_hold_outside_the_tail_domain():
    cert, record = golden("e - 1 with signs -+, one term emitted too early")
    ok, why = run(cert, record)
    assert not ok and why.startswith("tail domain: U(0)")
    # the same head and blocks: only the domain condition fails (the valid certificate differs in M0 and U)
    assert checker._tail_domain(checker._matrix_U(cert["cert"]["U"])) == 0


def test_rejects_a_tampered_U():
    cert, record = golden("tan(1) with signs +-+, polynomial state")
    cert["cert"]["U"][0][0] = "4*k + 2"
    ok, why = run(cert, record)
    assert not ok and "identity fails" in why
    cert, record = golden("tan(1) with signs +-+, polynomial state")
    cert["cert"]["U"][1][1] = "k"  # U(0) unchanged: only the block identity can see it
    ok, why = run(cert, record)
    assert not ok and why.startswith("the block identity")


def test_rejects_a_tampered_sigma_and_offsets():
    for field, value in (("sigma", -1), ("N0", 4), ("M0", 3), ("Lin", 6), ("Lout", 4)):
        cert, record = golden("e - 1 with signs -+")
        cert["cert"][field] = value
        assert not run(cert, record)[0], field


def _nearby(cert, record, n: int = 50):
    """(P'', Q''): T'' = H V H^-1 T with H = A_0...A_(n-1), V(t) = t + 1: the first n terms of T''(c) are T(c)'s."""
    claim = QuasiPolynomial(tuple(record["signs"]), tuple(record["head"]), record["period"],
                            tuple(record["polynomials"]))
    H = ((1, 0), (0, 1))

    def mul(x, y):
        return tuple(tuple(sum(x[i][k] * y[k][j] for k in (0, 1)) for j in (0, 1)) for i in (0, 1))

    for i in range(n):
        H = mul(H, ((claim.term(i), claim.sign(i)), (1, 0)))
    det = H[0][0] * H[1][1] - H[0][1] * H[1][0]
    Hinv = ((H[1][1] * det, -H[0][1] * det), (-H[1][0] * det, H[0][0] * det))
    T = tuple(tuple(row) for row in cert["map"]["T"])
    T2 = mul(mul(mul(H, ((1, 1), (0, 1))), Hinv), T)
    return T2, (T2[0][1], T2[0][0]), (T2[1][1], T2[1][0])


def test_rejects_a_formula_for_a_nearby_T():
    cert, record = golden("e - 1 with signs -+")
    T2, P2, Q2 = _nearby(cert, record)
    # T''(e) really agrees with the claim on its first 50 terms, and not on the next
    got = esma.expand(expression("e", P2, Q2), "-+", 60).terms
    claim = QuasiPolynomial((-1, 1), (), 2, ((2,), (3, 2)))
    assert got[:50] == claim.terms(50) and got[50] != claim.term(50)
    record2 = {**record, "lhs_numerator": list(P2), "lhs_denominator": list(Q2)}
    ok, why = run(cert, record2)
    assert not ok and "is not the record's P/Q" in why
    cert["map"]["T"] = [list(T2[0]), list(T2[1])]  # a certificate for T'' that reuses the true claim's proof
    ok, why = run(cert, record2)
    assert not ok and why.startswith("the head identity")


def test_rejects_a_decimal_literal_constant():
    cert, record = golden("e itself")
    record["constant"] = "2.71828182845904523536028747135266249775724709369995957496696762772407663035354759"
    ok, why = run(cert, record)
    assert not ok and "no registry entry" in why and "decimal literal" in why


def test_rejects_a_constant_outside_the_registry():
    cert, record = golden("e itself")
    record["constant"] = "pi"
    assert run(cert, record) == (False, "no registry entry for pi")


def test_rejects_a_non_admissible_claim(monkeypatch):
    cert, record = golden("e with a zero term")
    ok, why = run(cert, record)
    assert not ok and "not admissible: a(3) = 0" in why
    # the identities themselves hold: the same certificate passes with the admissibility check switched off
    monkeypatch.setattr(checker, "_admissible", lambda seq, what: None)
    monkeypatch.setattr(checker, "_admissible_tail", lambda *args: None, raising=False)
    assert run(cert, record)[0]


def test_admissibility_per_residue_class():
    adm = checker._admissible
    assert adm(QuasiPolynomial((1, -1), (0,), 2, ((2,), (3, 2))), "c") is None  # 0 + 1/(3 - 1/(2 + 1/(5 - ...)))
    why = adm(QuasiPolynomial((1, -1), (0,), 2, ((2,), (1,))), "c")  # a_n = 1 where b_n = -1
    assert "a(1) = 1 < 2" in why
    why = adm(QuasiPolynomial((1,), (), 2, ((1,), (-3, 2))), "c")  # a(2m+1) = 2m - 3 fails at n = 1 and 3
    assert "a(1) = -3 < 1" in why
    why = adm(QuasiPolynomial((1,), (), 1, ((Fraction(1, 2), 1),)), "c")
    assert "non-integer" in why
    assert adm(QuasiPolynomial((1,), (5,), 1, ((-100, 1),)), "c") is not None  # fails at n = 1..100
    assert adm(QuasiPolynomial((1,), (5,) * 101, 1, ((-100, 1),)), "c") is None  # from n = 101 on: n - 100 >= 1


@pytest.mark.parametrize(
    ("U", "first_bad"),
    [
        ((("4*k + 1", "1"), ("1", "0")), None),  # t -> 4k + 1 + 1/t
        ((("1", "0"), ("1", "-1")), None),  # t -> t/(t - 1): a pole at the endpoint t = 1 is allowed
        ((("1", "0"), ("0", "1")), None),  # the identity: the image is (1, inf) itself
        ((("1", "0"), ("1", "-2")), 0),  # t/(t - 2): a pole inside (1, inf)
        ((("k - 3", "1"), ("1", "0")), 0),  # k - 3 + 1/t < 1 for k <= 3
        ((("4 - k", "1"), ("1", "0")), 4),  # 4 - k + 1/t: in (4 - k, 5 - k), inside (1, inf) up to k = 3
        ((("2*k^2 - 12*k + 19", "1"), ("1", "0")), None),  # 2(k - 3)^2 + 1 >= 1 for every integer k
        ((("2*k^2 - 12*k + 18", "1"), ("1", "0")), 3),  # 2(k - 3)^2 + 1/t: below 1 only at k = 3
        ((("-1", "0"), ("-1", "1")), None),  # (-t)/(-t + 1) = t/(t - 1), signs flipped together
        ((("1", "1"), ("0", "0")), 0),  # a zero denominator
    ],
)
def test_tail_domain(U, first_bad):
    parsed = checker._parse_U((tuple(U[0]), tuple(U[1])))
    assert checker._tail_domain(parsed) == first_bad


def test_inequalities_for_all_k_with_large_roots():
    # roots far beyond the scanned range: exact isolation (sympy) finds them
    f = checker._for_all
    p = checker._norm((Fraction(361199), Fraction(-2404), Fraction(4)))  # (2k - 601)^2 - 2 < 0 at k = 300, 301
    assert f((p,), lambda v: v[0] >= 0) == 300
    q = (90300, -601, 1)  # (k - 300)(k - 301) >= 0 at every integer
    assert f((q,), lambda v: v[0] >= 0) is None
    r = (-10**9, 1)  # k - 10^9: negative up to 10^9 - 1
    assert f((r,), lambda v: v[0] >= 0) == 0
    s = (10**9, -1)  # 10^9 - k: fails from 10^9 + 1 on
    assert f((s,), lambda v: v[0] >= 0) == 10**9 + 1


def test_rejects_malformed_certificates():
    cert, record = golden("e itself")
    for bad in (None, [], "cert", {"format": "esma-tail-cert/2"}, {**cert, "format": None}):
        ok, why = run(bad, record)
        assert not ok and ("malformed" in why or "format" in why)
    for path, value in (
        (("cert", "U"), [["1", "0"]]),
        (("cert", "U"), [["1", "0"], ["0", "__import__('os')"]]),
        (("cert", "N0"), True),
        (("cert", "N0"), 0),
        (("cert", "Lin"), 10**9),
        (("cert", "N0"), 10**7),
        (("claim", "period"), 1999),
        (("map", "T"), [[1, 0], [0]]),
        (("map", "T"), [[1.0, 0], [0, 1]]),
        (("map", "degree"), 2),
        (("base", "polys"), "1"),
        (("claim", "signs"), [1, 0]),
        (("map", "substitution"), {"numerator": [1], "denominator": [0]}),
    ):
        c = copy.deepcopy(cert)
        c[path[0]][path[1]] = value
        ok, why = run(c, record)
        assert not ok, (path, value, why)
    c = copy.deepcopy(cert)
    del c["claim"]
    assert run(c, record) == (False, "malformed certificate: the certificate has no 'claim'")


def test_rejects_a_substitution_the_registry_does_not_vouch_for():
    cert, record = golden("e itself")
    # claim T(c) = c through x = c + 1 and F(x) = x - 1: the identity holds, but "e" is not "x - 1" of e
    cert["map"]["substitution"] = {"numerator": [1, 1], "denominator": [1]}
    cert["map"]["T"] = [[1, -1], [0, 1]]
    ok, why = run(cert, record)
    assert not ok and "not one the registry vouches for" in why


def test_rejects_a_certificate_for_another_lhs():
    cert, record = golden("e itself")
    record["lhs_numerator"] = [1, 1]
    ok, why = run(cert, record)
    assert not ok and "not the record's P/Q" in why
    cert, record = golden("e itself")
    cert["lhs"] = {"numerator": [1, 1], "denominator": [1]}
    ok, why = run(cert, record)
    assert not ok and "lhs" in why


def test_bad_record_arguments_raise():
    cert, _ = golden("e itself")
    with pytest.raises(TypeError, match="Argument 'constant_text'"):
        checker.check(cert, 2, [0, 1], [1], [1], [2], 3, [[1], [1], [2, 2]])
    with pytest.raises(TypeError, match="Argument 'lhs_numerator'"):
        checker.check(cert, "e", [0.5, 1], [1], [1], [2], 3, [[1], [1], [2, 2]])
    with pytest.raises(ValueError, match="Argument 'lhs_denominator'"):
        checker.check(cert, "e", [0, 1], [0, 0], [1], [2], 3, [[1], [1], [2, 2]])
    with pytest.raises(ValueError, match="Argument 'signs'"):
        checker.check(cert, "e", [0, 1], [1], [2], [2], 3, [[1], [1], [2, 2]])
    with pytest.raises(ValueError, match="Argument 'polys'"):
        checker.check(cert, "e", [0, 1], [1], [1], [2], 3, [[1], [1]])


# ------------------------------------------------------------------------------ prover certificates


ACCEPTED = [
    ("e", (0, 1), (1,), "+"),
    ("e", (-1, 1), (1,), "-+"),
    ("e", (0, 1), (-1, 1), "+-"),
    ("e", (0, 1), (-2, 1), "++"),
    ("e", (0, 2), (1,), "+"),
    ("e", (1, 1), (-1, 1), "+"),
    ("e", (1, 1), (-1, 1), "+--"),
    ("e", (2, 1), (1, 2), "+-+-"),
    ("exp(2)", (0, 1), (1,), "+"),
    ("exp(2)", (1, 1), (-1, 1), "+"),
    ("tan(1)", (0, 1), (1,), "+-+"),
    ("tan(1)", (0, 1), (1,), "--+"),
    ("tanh(1/2)", (0, 1), (1,), "+"),
    ("tanh(1/2)", (0, 1), (1,), "-+"),
    ("coth(1)", (0, 1), (1,), "+"),
    ("besseli(1, 2)/besseli(0, 2)", (0, 1), (1,), "+"),
    ("besseli(1, 2)/besseli(0, 2)", (0, 2), (-1, 2), "+"),
    ("besselj(0, 2)/besselj(1, 2)", (0, 1), (1,), "-"),
    ("besselj(0, 2)/besselj(1, 2)", (0, 1), (1,), "+"),
    ("exp(1/3)", (0, 1), (1,), "+"),
    ("exp(1/3)", (-1, 1), (1,), "-+"),
    ("e", (-1, 0, 1), (1, 0, 1), "+"),  # tanh 1 = (e^2 - 1)/(e^2 + 1)
    ("e", (1, 0, 1), (-1, 0, 1), "+-"),  # coth 1
    ("e", (0, 0, 1), (1,), "+"),  # e^2
    ("exp(1/3)", (-1, 0, 1), (0, 0, 2), "+-"),  # (e^(2/3) - 1)/2
]


@pytest.mark.parametrize(("constant", "P", "Q", "signs"), ACCEPTED, ids=lambda x: str(x))
def test_accepts_prover_certificates(constant, P, Q, signs):
    f = formula_of(constant, P, Q, signs)
    proof = prove_formula(f)
    assert proof.ok, proof.reason
    json.loads(json.dumps(proof.certificate))  # plain JSON
    checker.clear_caches()  # a cold check: nothing remembered from the prover's own check
    ok, why = checker.check(proof.certificate, *f.record())
    assert ok and why == proof.reason
    # and it is this formula's proof only: the opposite signs are refused
    other = tuple(-s for s in f.claim.signs)
    assert not checker.check(proof.certificate, f.constant, f.lhs_numerator, f.lhs_denominator, other,
                             f.claim.head, f.claim.period, f.claim.polys)[0]


@pytest.fixture(scope="module")
def e_default():
    return esma.search("e", verify_digits=300).conjectures


def test_accepts_every_formula_of_a_default_search_of_e(e_default):
    # degree 1, coefficients in [-2, 2], sign periods 1..4
    assert len(e_default) > 1000
    periods = set()
    for conj in e_default:
        f = Formula.from_conjecture(conj)
        proof = prove_formula(f)
        assert proof.ok, (conj.lhs, conj.signs_text, proof.reason)
        assert checker.check(proof.certificate, *f.record()) == (True, "proved from e (Euler) with x = c")
        periods.add(len(conj.signs))
    assert periods == {1, 2, 3, 4}


# ------------------------------------------------------------------------------ bounded work (issue 18)


def _forged(lout: int, degree: int = 64):
    """e itself (a real prover certificate), forged to claim m**degree + 1 (the attack of issue 18)."""
    f = formula_of("e", (0, 1), (1,), "+")
    proof = prove_formula(f)
    assert proof.ok
    cert = forge_unbounded(proof.certificate, [1], 2, degree, lout)
    return cert, ("e", (0, 1), (1,), (1,), (2,), 1, forged_polynomials(degree))


def _work(lout: int, degree: int) -> int:
    cert, record = _forged(lout, degree)
    return checker.work(cert, record[0], *record[3:])


def test_forged_certificate_passes_the_cheap_checks():
    # within the bound (degree 8, a short block) the forgery is checked to the end: only its block identity fails
    cert, record = _forged(lout=4, degree=8)
    assert checker.work(cert, record[0], *record[3:]) <= checker.MAX_WORK
    assert checker.check(cert, *record) == (
        False, "the block identity fails: U(k) Kblock(k) != sigma Ablock(k) U(k+1) as polynomials in k")


def test_forged_certificate_beyond_the_bound_is_rejected_quickly():
    cert, record = _forged(lout=2000)
    checker.clear_caches()
    t0 = time.perf_counter()
    ok, why = checker.check(cert, *record)
    seconds = time.perf_counter() - t0
    assert not ok and why.startswith("beyond the checker's bound: checking this certificate would cost about ")
    assert seconds < 1, seconds  # unbounded, this check runs for days (about cubic in Lout)
    # neither the degree (64) nor the block length (2000) is over its own cap: their product is what costs
    assert max(len(p) - 1 for p in record[-1]) == 64 and cert["cert"]["Lout"] == checker.MAX_BLOCK


def test_the_bound_is_on_the_product_of_degree_and_block_length():
    w = {(d, L): _work(L, d) for d in (1, 8) for L in (4, 40, 2000)}
    # a long block of degree 1 and a short block of degree 8 are checked; their product grows faster than either
    assert w[(1, 40)] <= checker.MAX_WORK and w[(8, 4)] <= checker.MAX_WORK and w[(8, 40)] <= checker.MAX_WORK
    assert w[(8, 40)] > 20 * w[(8, 4)] and w[(8, 40)] > 20 * w[(1, 40)]
    # 2000 terms of degree 1 cost ~20 s to multiply out (measured), of degree 8 far more: both refused
    assert w[(8, 2000)] > w[(1, 2000)] > checker.MAX_WORK


def _longer(c: QuasiPolynomial, k: int, s: int) -> QuasiPolynomial:
    """The same sequence described with k times the period and the sign period written s times."""
    import math

    polys = []
    for j in range(k * c.period):
        m0, jj = divmod(j, c.period)
        out = [0] * len(c.polys[jj])
        for e, coef in enumerate(c.polys[jj]):  # P_jj(k m + m0) in powers of m
            for t in range(e + 1):
                out[t] += coef * math.comb(e, t) * k**t * m0 ** (e - t)
        polys.append(tuple(out))
    longer = QuasiPolynomial(c.signs * s, c.head, k * c.period, tuple(polys))
    assert longer.terms(200) == c.terms(200)
    return longer


def _works_of(pairs):
    return [checker.work(cert, rec[0], *rec[3:]) for cert, rec in pairs]


def test_real_certificates_are_far_below_the_bound(e_default):
    """The bound leaves ample room (20x) for real certificates: the golden ones, the prover's for every
    registry family of ``ACCEPTED``, and every formula (members too) of the default searches of e, tan(1), exp(2).
    (The deep search's longest quasi-periods cost most: e/5's period 176 measured 3.6e7, 28x below the bound;
    tests/esma/test_deep.py proves it.)"""
    from esma.prover import with_representative
    from esma.theorems import MEMBER_FORMAT

    pairs = [(g["certificate"], [g["record"][k] for k in ("constant", "lhs_numerator", "lhs_denominator", "signs",
                                                             "head", "period", "polynomials")])
             for g in GOLDEN if g["valid"]]
    for constant, P, Q, signs in ACCEPTED:
        f = formula_of(constant, P, Q, signs)
        pairs.append((prove_formula(f).certificate, f.record()))
    # long periods: e/(e - 1) with signs +-, described with 5 times its period and the signs thrice, and 40 times
    f = formula_of("e", (0, 1), (-1, 1), "+-")
    for k, s in ((5, 3), (40, 1)):
        longer = Formula(f.constant, f.lhs_numerator, f.lhs_denominator, _longer(f.claim, k, s))
        proof = prove_formula(longer)
        assert proof.ok and proof.certificate["cert"]["Lout"] >= 30
        pairs.append((proof.certificate, longer.record()))
    searched = {"e": e_default, **{c: esma.search(c, verify_digits=300).conjectures for c in ("tan(1)", "exp(2)")}}
    for conjectures in searched.values():
        by_key = {c.key: c for c in conjectures}
        for conj in conjectures:
            cert = conj.certificate
            assert cert is not None, conj.lhs
            if cert["format"] == MEMBER_FORMAT and "certificate" not in cert["representative"]:
                rep = by_key[cert["representative"]["key"]]
                cert = with_representative(cert, Formula.from_conjecture(rep), rep.certificate)
            pairs.append((cert, Formula.from_conjecture(conj).record()))
    works = _works_of(pairs)
    assert None not in works and len(works) > 5000
    assert max(works) <= checker.MAX_WORK // 20, max(works)
    print(f"work of {len(works)} real certificates: median {sorted(works)[len(works) // 2]:.2e}, "
          f"max {max(works):.2e}, bound {checker.MAX_WORK:.0e}")
