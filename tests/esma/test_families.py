"""Families (DESIGN section 7): canonical tails, exact relations, the partition of real searches.

The partition the engine computes from closed forms is compared with one computed here independently, from
windows of terms regenerated far out in the tail with each formula's own recurrence; every member's relation is
re-checked as an identity with plain integer polynomials, and numerically with mpmath.
"""

from __future__ import annotations

from fractions import Fraction as F

import mpmath
import pytest

from esma.families import Tail, derived_digits, identity_holds, placement, tail_of
from esma.patterns import closed_form
from esma.records import Recurrence
from esma.search import search

E_TERMS = [2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14, 1, 1, 16, 1, 1, 18, 1, 1, 20]
E_REC = Recurrence((1, 0, 0, -2, 0, 0, 1), 1)


# ------------------------------------------------------------------------------------------------ tails


@pytest.mark.parametrize("drop", range(0, 9))
def test_tail_key_does_not_depend_on_where_the_formula_enters_it(drop):
    """The tails of e's continued fraction with its first ``drop`` terms removed (a shift) or replaced (a head)
    are one tail; the offsets place each on it consistently."""
    ref = closed_form(E_REC, E_TERMS)
    ref_tail, ref_off = tail_of((1,), ref.start, ref.period, ref.polynomials)
    shifted = E_TERMS[drop:]
    form = closed_form(Recurrence(E_REC.coefficients, max(0, 1 - drop)), shifted)
    tail, off = tail_of((1,), form.start, form.period, form.polynomials)
    assert tail.key == ref_tail.key
    assert off == ref_off - drop  # index n of the shifted sequence is index n + drop of e's
    headed = [7, 3, *shifted[2:]]
    form2 = closed_form(Recurrence(E_REC.coefficients, 2 + max(0, 1 - drop)), headed)
    assert tail_of((1,), form2.start, form2.period, form2.polynomials)[0].key == ref_tail.key


def test_tail_key_separates_different_tails():
    keys = set()
    for signs, polys in [
        ((1,), ((F(1),), (F(1),), (F(2), F(2)))),  # e
        ((1,), ((F(1),), (F(1),), (F(3), F(2)))),  # a translate of one class only: another tail
        ((-1, 1), ((F(2),), (F(3), F(2)))),  # e - 1 with signs -+
        ((1, -1), ((F(2),), (F(3), F(2)))),  # same terms, other signs
        ((1,), ((F(1), F(4)),)),  # 4m + 1
    ]:
        keys.add(tail_of(signs, 0, len(polys), polys)[0].key)
    assert len(keys) == 5


def test_tail_round_trips_through_its_key():
    for signs, polys in [((1,), ((F(1),), (F(1),), (F(2), F(2)))), ((1, -1, 1), ((F(1),), (F(2), F(4)), (F(4), F(4)))),
                         ((1,), ((F(0), F(1, 2), F(1, 2)),))]:
        tail, _ = tail_of(signs, 0, len(polys), polys)
        again = Tail.from_key(tail.key)
        assert again == tail and [again.term(i) for i in range(-10, 30)] == [tail.term(i) for i in range(-10, 30)]


def test_placement_of_a_formula_without_interlaced_polynomials_is_its_own():
    pl = placement((1,), 2, 0, (), "1,1|0,1|+")
    assert pl.tail is None and pl.key == "x|1,1|0,1|+"


# ------------------------------------------------------------------------------------------------ relations


def test_identity_in_z_of_c():
    # 1/(c - 1) and (c + 1)/(c - 1) = 1 + 2/(c - 1): G(x) = 2x + 1
    assert identity_holds(((1, 1), (-1, 1)), ((1,), (-1, 1)), (2, 1, 0, 1))
    assert not identity_holds(((1, 1), (-1, 1)), ((1,), (-1, 1)), (2, -1, 0, 1))


def test_derived_digits_follow_the_condition_number_of_g():
    y = mpmath.mpf(2.5)
    from flint import arb

    ball = arb(str(y))
    assert derived_digits(ball, (1, 0, 0, 1), 1000) == 1000
    # 1/x keeps relative errors (up to a factor 1/(1 - 10^-1000)): the certified floor gives one digit up
    assert derived_digits(ball, (0, 1, 1, 0), 1000) == 999
    # x - 2.4 is 0.1: a relative error of x grows 25-fold
    near = derived_digits(arb("2.5"), (5, -12, 0, 5), 1000)  # (5x - 12)/5 = x - 2.4
    assert 998 <= near <= 999


# ------------------------------------------------------------------------------------------------ real searches


def _regenerated(c, count: int) -> list[int]:
    return Recurrence(tuple(c.recurrence), c.preperiod).extend(list(c.terms), count)


def _independent_partition(records, start: int = 240, length: int = 40, spread: int = 80):
    """Families from windows far out in the tail: formulas whose sign/term sequences share a window of ``length``
    pairs starting somewhere in [start, start + spread) are in one family (union-find)."""
    parent = {c.key: c.key for c in records}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    seen: dict[tuple, str] = {}
    for c in records:
        terms = _regenerated(c, start + spread + length)
        p = len(c.signs)
        for i in range(start, start + spread):
            window = tuple((c.signs[n % p], terms[n]) for n in range(i, i + length))
            other = seen.setdefault(window, c.key)
            a, b = find(other), find(c.key)
            if a != b:
                parent[a] = b
    groups: dict[str, set[str]] = {}
    for c in records:
        groups.setdefault(find(c.key), set()).add(c.key)
    return {frozenset(g) for g in groups.values()}


def _poly_mul(a, b):
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def _poly_lin(x, p, y, q):
    n = max(len(p), len(q))
    return [x * (p[i] if i < len(p) else 0) + y * (q[i] if i < len(q) else 0) for i in range(n)]


def _same(a, b):
    n = max(len(a), len(b))
    return all((a[i] if i < len(a) else 0) == (b[i] if i < len(b) else 0) for i in range(n))


def _natural(c):
    """DESIGN 7's order of representatives, written out here: T(c) = c itself, then the fewest nonzero
    coefficients, the smallest height (max |coefficient|), degree, the shortest pre-period, a positive a_0, the
    LHS text, the signs."""
    coeffs = (*c.lhs_numerator, *c.lhs_denominator)
    degree = max(i for p in (c.lhs_numerator, c.lhs_denominator) for i, x in enumerate(p) if x or i == 0)
    return (c.lhs != "c", sum(1 for x in coeffs if x), max(abs(x) for x in coeffs), degree, c.preperiod,
            c.terms[0] <= 0, c.lhs, c.signs_text)


SEARCHES = [
    pytest.param("e", {}, id="e"),
    pytest.param("tan(1)", {}, id="tan1"),
    pytest.param("exp(2)", {}, id="exp2"),
    pytest.param("e", {"degree": 2, "coeff_limit": 2}, id="e-d2"),
]


@pytest.fixture(scope="module")
def searched():
    return {}


@pytest.mark.parametrize(("expr", "params"), SEARCHES)
def test_partition_equals_an_independent_one(expr, params, searched):
    result = search(expr, verify_digits=300, **params)
    searched[(expr, tuple(sorted(params.items())))] = result
    records = result.conjectures
    assert len(records) > 100
    engine = {}
    for c in records:
        engine.setdefault(c.family, set()).add(c.key)
    assert {frozenset(g) for g in engine.values()} == _independent_partition(records)
    # one representative per family, the most natural member; families summarise their members
    reps = [c for c in records if c.representative]
    assert len(reps) == len(engine) == len(result.families)
    assert sum(f.members for f in result.families) == len(records)
    for f in result.families:
        members = [c for c in records if c.family == f.key]
        rep = next(c for c in members if c.representative)
        assert min(members, key=_natural) is rep
        assert f.height == max(abs(x) for x in (*rep.lhs_numerator, *rep.lhs_denominator))
        assert f.lhs == rep.lhs


@pytest.mark.parametrize(("expr", "params"), SEARCHES)
def test_every_relation_is_an_identity_and_holds_numerically(expr, params, searched):
    key = (expr, tuple(sorted(params.items())))
    result = searched.get(key) or search(expr, verify_digits=300, **params)
    reps = {c.family: c for c in result.conjectures if c.representative}
    checked = 0
    for c in result.conjectures:
        rep = reps[c.family]
        g11, g12, g21, g22 = c.relation
        assert abs(g11 * g22 - g12 * g21) == 1
        # P_c (g21 P_r + g22 Q_r) == Q_c (g11 P_r + g12 Q_r), with plain integer polynomials
        left = _poly_mul(list(c.lhs_numerator), _poly_lin(g21, rep.lhs_numerator, g22, rep.lhs_denominator))
        right = _poly_mul(list(c.lhs_denominator), _poly_lin(g11, rep.lhs_numerator, g12, rep.lhs_denominator))
        assert _same(left, right), (c.key, rep.key, c.relation)
        # and as numbers: T(c) = G(T_rep(c)) from the stored 60-digit values
        with mpmath.workdps(60):
            x = mpmath.mpf(rep.value)
            assert abs(mpmath.mpf(c.value) - (g11 * x + g12) / (g21 * x + g22)) <= mpmath.mpf(10) ** -50 * max(
                1, abs(mpmath.mpf(c.value)))
        checked += 1
    assert checked == len(result.conjectures)


def test_gain_is_rank_order_and_the_base_family_is_labelled():
    result = search("e", verify_digits=300)
    gains = [f.gain for f in result.families]
    assert gains == sorted(gains, reverse=True)
    assert [f.rank for f in result.families] == list(range(1, len(result.families) + 1))
    base = [f for f in result.families if f.base]
    assert len(base) == 1
    members = [c for c in result.conjectures if c.family == base[0].key]
    assert any(c.lhs == "c" and c.signs == (1,) for c in members)
    # the fast classical formulas come first: e - 1 with signs (-, +) is in a top family (gain 1.5)
    top = {f.key for f in result.families[:8]}
    e_minus_1 = next(c for c in result.conjectures if c.lhs == "c - 1" and c.signs == (-1, 1))
    assert e_minus_1.family in top and e_minus_1.gain > 1.4


@pytest.mark.parametrize("expr", ["e", "tan(1)"])
def test_a_family_that_holds_c_itself_is_shown_through_it(expr):
    """#17 item 2: the representative of every family with a member T(c) = c is that member (of several such
    members, with other signs, the order decides: shortest pre-period, positive a_0, then the signs text); the
    base family (c's simple continued fraction) is shown as c's own expansion, and families are ranked from
    their representatives."""
    result = search(expr)
    families: dict[str, list] = {}
    for c in result.conjectures:
        families.setdefault(c.family, []).append(c)
    holding_c = {k: ms for k, ms in families.items() if any(c.lhs == "c" for c in ms)}
    assert len(holding_c) >= 10
    for key, members in holding_c.items():
        rep = next(c for c in members if c.representative)
        assert rep.lhs == "c", (key, rep.lhs)
        assert rep is min((c for c in members if c.lhs == "c"), key=_natural)
    by_key = {f.key: f for f in result.families}
    base = [f for f in result.families if f.base]
    assert len(base) == 1 and base[0].lhs == "c" and base[0].signs == (1,)
    for key, members in holding_c.items():
        rep = next(c for c in members if c.representative)
        assert (by_key[key].lhs, by_key[key].signs, by_key[key].cf_text) == (rep.lhs, rep.signs, rep.cf_text)
    assert [f.rank for f in result.families] == list(range(1, len(result.families) + 1))
    assert sorted(result.families, key=lambda f: f.rank_key()) == result.families


def test_members_are_derived_from_one_approval_per_family():
    result = search("tan(1)", verify_digits=300)
    assert result.approvals == len(result.families) < len(result.conjectures) / 5
    for c in result.conjectures:
        assert c.verified_digits >= 300
