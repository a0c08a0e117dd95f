"""The prover: certificates for real formulas, reasons when there is none, and transport to family members."""

from __future__ import annotations

import doctest
import json
import math

import pytest
from proof_helpers import formula_of

import esma
from esma import checker, prover
from esma.prover import Formula, Member, Proof, prove, prove_formula, transport
from esma.theorems import FORMAT, QuasiPolynomial, match


def test_doctests():
    assert doctest.testmod(prover).failed == 0


def _plain_json(x) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in x.items())
    if isinstance(x, list):
        return all(_plain_json(v) for v in x)
    return isinstance(x, (str, int)) and not isinstance(x, bool)


def test_certificate_fields():
    f = formula_of("e", (0, 1), (-1, 1), "+-")  # e/(e - 1) = [1; 2, 3, 2, 5, 2, ...] with signs +-
    proof = prove_formula(f)
    assert isinstance(proof, Proof) and proof.ok
    cert = proof.certificate
    assert _plain_json(cert) and json.loads(json.dumps(cert)) == cert
    assert cert["format"] == FORMAT
    assert set(cert) == {"format", "constant", "lhs", "base", "map", "claim", "cert"}
    assert set(cert["cert"]) == {"N0", "Lin", "M0", "Lout", "sigma", "U"}
    assert cert["base"]["theorem"] == "e" and QuasiPolynomial.from_json(cert["base"]) == match("e")[0].theorem.sequence
    assert QuasiPolynomial.from_json(cert["claim"]) == f.claim
    assert cert["map"] == {"degree": 1, "T": [[1, 0], [1, -1]],
                           "substitution": {"numerator": [0, 1], "denominator": [1], "text": "x = c"}}
    c = cert["cert"]
    assert c["N0"] >= 1 and c["Lin"] % 3 == 0 and c["Lout"] % 2 == 0 and c["sigma"] in (1, -1)


def test_prove_takes_record_fields_as_text():
    # polynomials as esma.records.Conjecture stores them: tuples of Fraction texts
    proof = prove("tan(1)", (0, 1), (1,), (1, -1, 1), (), 3, (("1",), ("2", "4"), ("4", "4")))
    assert proof.ok and proof.reason == "proved from tan(1) (Lambert) with x = c"


def test_polynomial_state():
    # (e - 1)/(e + 2) with signs ++-: the state grows linearly in k
    f = formula_of("e", (-1, 1), (2, 1), "++-")
    proof = prove_formula(f)
    assert proof.ok
    assert any("k" in e for row in proof.certificate["cert"]["U"] for e in row)
    assert checker.check(proof.certificate, *f.record())[0]


def test_degree_two_through_the_substitution():
    f = formula_of("e", (-1, 0, 1), (1, 0, 1), "+")  # tanh 1 = (e^2 - 1)/(e^2 + 1) = [0; 1, 3, 5, ...]
    proof = prove_formula(f)
    assert proof.ok and proof.reason == "proved from exp(2) (Euler, Hurwitz) with x = c^2"
    assert proof.certificate["map"]["T"] in ([[1, -1], [1, 1]], [[-1, 1], [-1, -1]])
    f = formula_of("tanh(1/2)", (0, 2), (1, 0, 1), "+")  # tanh 1 = 2t/(1 + t^2), t = tanh(1/2)
    proof = prove_formula(f)
    assert proof.ok and "tanh(1)" in proof.reason and "x = 2c/(c^2 + 1)" in proof.reason


def test_common_factor_is_cancelled():
    f = formula_of("e", (-1, 1), (1,), "-+")
    g = Formula(f.constant, (1, 0, -1), (-1, -1), f.claim)  # (1 - c^2)/(-1 - c) = c - 1
    proof = prove_formula(g)
    assert proof.ok
    assert checker.check(proof.certificate, *g.record())[0]


def test_reasons():
    claim = QuasiPolynomial((1,), (3,), 1, ((7,),))
    assert prove_formula(Formula("pi", (0, 1), (1,), claim)).reason == "no registry entry for pi"
    why = prove_formula(Formula("2.718281828459045235360287471352", (0, 1), (1,), claim)).reason
    assert why.startswith("no registry entry") and "decimal literal" in why
    why = prove_formula(Formula("e", (0, 1, 1), (1,), claim)).reason  # e^2 + e: a genuine quadratic
    assert why.startswith("degree-2 action with no finite certificate")
    assert prove_formula(Formula("e", (0, 2), (0, 1), claim)).reason == "T is constant"
    assert "degree 3" in prove_formula(Formula("e", (0, 0, 0, 1), (1,), claim)).reason
    half = QuasiPolynomial((1,), (2,), 3, ((1,), (1,), (2, "1/2")))  # e's terms with a(3m+2) = m/2 + 2
    why = prove_formula(Formula("e", (0, 1), (1,), half)).reason
    assert why.startswith("the claim disagrees with T(c)") and "non-integer" in why


def test_a_false_claim_is_refuted_where_it_fails():
    # the claim of e - 1 (signs -+) for T'' = H V H^-1 (c - 1), which agrees with it on 50 terms only
    f = formula_of("e", (-1, 1), (1,), "-+")
    H = ((1, 0), (0, 1))

    def mul(x, y):
        return tuple(tuple(sum(x[i][k] * y[k][j] for k in (0, 1)) for j in (0, 1)) for i in (0, 1))

    for n in range(50):
        H = mul(H, ((f.claim.term(n), f.claim.sign(n)), (1, 0)))
    d = H[0][0] * H[1][1] - H[0][1] * H[1][0]
    H_inv = ((H[1][1] * d, -H[0][1] * d), (-H[1][0] * d, H[0][0] * d))
    T2 = mul(mul(mul(H, ((1, 1), (0, 1))), H_inv), ((1, -1), (0, 1)))
    g = Formula("e", (T2[0][1], T2[0][0]), (T2[1][1], T2[1][0]), f.claim)
    proof = prove_formula(g)
    assert not proof.ok
    assert proof.reason.startswith("the claim disagrees with T(c) at n = 50")


def test_budget():
    f = formula_of("e", (-1, 1), (2, 1), "++-")  # its blocks span 18 base terms
    proof = prove_formula(f, budget=40)
    assert not proof.ok and "did not cycle within the budget (40 base terms)" in proof.reason
    assert prove_formula(f).ok


def test_bad_input_raises():
    with pytest.raises(TypeError, match="Argument 'formula'"):
        prove_formula(("e", (0, 1), (1,)))
    with pytest.raises(TypeError, match="Argument 'lhs_numerator'"):
        prove("e", (0, 1.0), (1,), (1,), (2,), 3, ((1,), (1,), (2, 2)))
    with pytest.raises(ValueError, match="Argument 'lhs_denominator'"):
        prove("e", (0, 1), (0,), (1,), (2,), 3, ((1,), (1,), (2, 2)))
    with pytest.raises(ValueError, match="Argument 'signs'"):
        prove("e", (0, 1), (1,), (1, 2), (2,), 3, ((1,), (1,), (2, 2)))
    with pytest.raises(ValueError, match="Argument 'budget'"):
        prove("e", (0, 1), (1,), (1,), (2,), 3, ((1,), (1,), (2, 2)), budget=0)
    with pytest.raises(TypeError, match="Argument 'member'"):
        transport({}, ("member",))


def test_formula_from_conjecture_needs_polynomials():
    class NoForm:
        polynomials, period = (), 0

    with pytest.raises(ValueError, match="Argument 'conj'"):
        Formula.from_conjecture(NoForm())


# -------------------------------------------------------------------------------------------- members


def _mul(x, y):
    return tuple(tuple(sum(x[i][k] * y[k][j] for k in (0, 1)) for j in (0, 1)) for i in (0, 1))


def _prefix(f: Formula, n: int):
    acc = ((1, 0), (0, 1))
    for i in range(n):
        acc = _mul(acc, ((f.claim.term(i), f.claim.sign(i)), (1, 0)))
    return acc


def families(formulas, at=50, width=24, spread=15):
    """Test-only grouping by a long window of the (sign, term) tail; G = H_F adj(H_R) (DESIGN section 7)."""
    index, reps, members = {}, [], []
    for i, f in enumerate(formulas):
        seq = [(f.claim.sign(n), f.claim.term(n)) for n in range(at + spread + width + 1)]
        key = tuple(seq[at : at + width])
        if key in index:
            r, pos = index[key]
            HF, HR = _prefix(f, at), _prefix(formulas[r], pos)
            members.append((i, r, _mul(HF, ((HR[1][1], -HR[0][1]), (-HR[1][0], HR[0][0])))))
        else:
            reps.append(i)
            for p in range(at - spread, at + spread + 1):
                index.setdefault(tuple(seq[p : p + width]), (i, p))
    return reps, members


@pytest.fixture(scope="module")
def e_families():
    conj = esma.search("e", max_period=2, verify_digits=300).conjectures
    formulas = [Formula.from_conjecture(c) for c in conj]
    reps, members = families(formulas)
    certs = {r: prove_formula(formulas[r]).certificate for r in reps}
    return formulas, reps, members, certs


def test_transport_proves_every_member(e_families):
    formulas, reps, members, certs = e_families
    assert len(members) > 5 * len(reps)
    assert all(c is not None for c in certs.values())
    for i, r, G in members:
        cert = transport(certs[r], Member(formulas[i], G))
        assert cert is not None, (formulas[i], G)
        assert checker.check(cert, *formulas[i].record()) == (True, "proved from e (Euler) with x = c")
        assert cert["cert"]["U"] in (certs[r]["cert"]["U"], [[_neg(e) for e in row] for row in certs[r]["cert"]["U"]])


def _neg(text: str) -> str:
    from esma.polys import poly_text
    from esma.theorems import parse_poly

    return poly_text(tuple(-c for c in parse_poly(text, "k")), "k")


def test_transport_refuses_a_wrong_relation(e_families):
    formulas, _, members, certs = e_families
    i, r, G = members[0]
    assert transport(certs[r], Member(formulas[i], ((G[0][0] + 1, G[0][1]), G[1]))) is None  # not unimodular
    wrong = _mul(G, ((1, 1), (0, 1)))  # unimodular, but T_F != G(T_R)
    assert transport(certs[r], Member(formulas[i], wrong)) is None
    assert transport({"format": FORMAT}, Member(formulas[i], G)) is None  # a malformed certificate


def test_transport_to_a_member_described_with_a_longer_period(e_families):
    formulas, _, members, certs = e_families
    i, r, G = next(m for m in members if formulas[m[0]].claim.period < 6)
    c = formulas[i].claim
    # the same sequence, written with twice the period and three times the sign period
    N = 2 * c.period
    polys = []
    for j in range(N):
        m0, jj = divmod(j, c.period)
        base = c.polys[jj]
        # P_j(m) = P_jj(2m + m0)
        out = [0] * len(base)
        for e, coef in enumerate(base):
            for t in range(e + 1):
                out[t] += coef * math.comb(e, t) * 2**t * m0 ** (e - t)
        polys.append(tuple(out))
    longer = QuasiPolynomial(c.signs * 3, c.head, N, tuple(polys))
    assert longer.terms(80) == c.terms(80)
    member = Formula(formulas[i].constant, formulas[i].lhs_numerator, formulas[i].lhs_denominator, longer)
    cert = transport(certs[r], Member(member, G))
    assert cert is not None
    assert cert["cert"]["Lout"] % math.lcm(N, 3 * len(c.signs)) == 0
    assert checker.check(cert, *member.record())[0]
