"""Formulas for the prover and checker tests, built by the engine from certified terms (not by the prover)."""

from __future__ import annotations

import json

import esma
from esma.bm import find_recurrence
from esma.patterns import closed_form
from esma.prover import Formula


def expression(constant: str, P, Q) -> str:
    """The expression text of P(c)/Q(c) (ascending coefficients) for ``esma.expand``."""

    def poly(p):
        return " + ".join(f"({k})*({constant})**{i}" for i, k in enumerate(p) if k) or "0"

    return f"({poly(P)})/({poly(Q)})"


def formula_of(constant: str, P, Q, signs: str, terms: int = 260) -> Formula:
    """The claimed expansion of P(c)/Q(c), from its certified terms (the engine's recurrence and closed form)."""
    cf = esma.expand(expression(constant, P, Q), signs, terms)
    rec = find_recurrence(cf.terms, margin=20)
    assert rec is not None
    form = closed_form(rec, list(cf.terms))
    assert form.kind in ("polynomial", "periodic")
    return Formula.from_parts(constant, P, Q, cf.signs, form.head, form.period, form.polynomials)


def _prefix(seq, count: int):
    """The product of the first ``count`` matrices [[a_n, b_n], [1, 0]] of a sequence (plain ints)."""
    acc = ((1, 0), (0, 1))
    for n in range(count):
        a, b = seq.term(n), seq.sign(n)
        acc = ((acc[0][0] * a + acc[0][1], acc[0][0] * b), (acc[1][0] * a + acc[1][1], acc[1][0] * b))
    return acc


def forge_unbounded(cert: dict, signs, first_term: int, degree: int = 64, lout: int = 2000) -> dict:
    """The attack of issue 18: ``cert`` (a real tail certificate) claiming a(n) = m**degree + 1 after the head
    ``[first_term]`` (sign period ``signs``), with block length ``lout`` and U(0) chosen so that the head identity
    F K_0...K_(N0-1) = A_0 U(0) holds: every cheap check passes, the block identity is what costs."""
    from esma.theorems import QuasiPolynomial

    forged = json.loads(json.dumps(cert))
    claim = {"signs": list(signs), "head": [first_term], "period": 1, "polys": [f"m**{degree} + 1"]}
    forged["claim"] = claim
    c = forged["cert"]
    (f11, f12), (f21, f22) = forged["map"]["T"]
    (k11, k12), (k21, k22) = _prefix(QuasiPolynomial.from_json(forged["base"]), c["N0"])
    left = ((f11 * k11 + f12 * k21, f11 * k12 + f12 * k22), (f21 * k11 + f22 * k21, f21 * k12 + f22 * k22))
    (a, b), (cc, d) = _prefix(QuasiPolynomial.from_json(claim), 1)
    det = a * d - b * cc  # +-1: the inverse is det * adj
    inv = ((det * d, -det * b), (-det * cc, det * a))
    u0 = [[inv[i][0] * left[0][j] + inv[i][1] * left[1][j] for j in (0, 1)] for i in (0, 1)]
    c.update(M0=1, Lout=lout, U=[[str(x) for x in row] for row in u0])
    return forged


def forged_polynomials(degree: int = 64) -> tuple[tuple[int, ...]]:
    """The stored polynomials (ascending coefficients) of the forged claim m**degree + 1."""
    return ((1,) + (0,) * (degree - 1) + (1,),)
