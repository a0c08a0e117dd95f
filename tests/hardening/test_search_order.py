"""Derived figures do not depend on the order of searches (issue 18, item 8).

Two overlapping searches of e, one approving to 1000 digits and one to 500, run P1 then P2 into one catalog and
P2 then P1 into another (real searches, real SQLite files).  Every formula must end with the same figures in
both.  Before the fix they did not:

* a later, shallower search replaced the figures of a deeper one for the members it found again (the gain it
  computed differed, and a different gain counted as a change of family: ``Catalog.store_formulas``);
* a member the shallower search derived from a deeper stored representative got the simple continued
  fraction measured at the shallower search's target, not at the depth it was derived to, and a deeper search
  re-approving a representative left the members it did not find at their shallower figures (``esma.search``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from web_helpers import run_esma

P1 = ("search", "e", "--max-period", "2", "--executor", "serial")
P2 = ("search", "e", "--max-period", "2", "--verify-digits", "500", "--executor", "serial")
#: P1 on fewer candidates: the shallower P2 finds members the deeper search did not.
P1_SMALL = ("search", "e", "--max-period", "2", "--coeff-limit", "1", "--executor", "serial")
PAIRS = {"same candidates": (P1, P2), "P2 finds more": (P1_SMALL, P2)}
FIGURES = ("verified_digits", "verify_terms", "digits_per_term", "scf_digits_per_term", "gain", "family_key",
           "representative", "relation", "status")


def figures(db: Path) -> dict[tuple[str, str], tuple]:
    """The figures of every formula, by (T(c), signs)."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(f"SELECT lhs, signs, {', '.join(FIGURES)} FROM conjectures").fetchall()
        ranks = dict(con.execute("SELECT key, rank FROM families").fetchall())
    finally:
        con.close()
    return {(lhs, signs): (*rest, ranks.get(rest[FIGURES.index("family_key")])) for lhs, signs, *rest in rows}


@pytest.fixture(scope="module", params=list(PAIRS))
def both_orders(request, tmp_path_factory) -> tuple[dict, dict]:
    folder = tmp_path_factory.mktemp("order")
    p1, p2 = PAIRS[request.param]
    out = []
    for name, order in (("p1p2", (p1, p2)), ("p2p1", (p2, p1))):
        db = folder / f"{name}.sqlite"
        for args in order:
            res = run_esma(*args, "--db", str(db), cwd=folder)
            assert res.returncode == 0, res.stderr
        out.append(figures(db))
    return out[0], out[1]


def test_both_orders_store_the_same_formulas(both_orders):
    a, b = both_orders
    assert a and a.keys() == b.keys()


def test_figures_do_not_depend_on_the_order_of_searches(both_orders):
    a, b = both_orders
    differ = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert not differ, f"{len(differ)} of {len(a)} formulas differ, e.g. {next(iter(differ.items()))}"


def test_a_shallower_search_keeps_the_deeper_figures(both_orders):
    """In either order a family the 1000-digit search found has the figures of that search: its representative
    is approved to more than 1000 digits, and every member is derived from it to more than 500 + 10 digits (the
    shallower search's target), also the members only the shallower search found."""
    family, rep = FIGURES.index("family_key"), FIGURES.index("representative")
    for figs in both_orders:
        deep = {fig[family] for fig in figs.values() if fig[rep] and fig[0] > 1000}
        assert deep
        assert all(fig[0] > 510 for fig in figs.values() if fig[family] in deep)
