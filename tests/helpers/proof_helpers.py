"""Formulas for the prover and checker tests, built by the engine from certified terms (not by the prover)."""

from __future__ import annotations

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
