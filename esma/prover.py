"""Proofs of formulas from the registry's theorems: certificates of the tail lemma (DESIGN section 8).

A formula says that T(c) = P(c)/Q(c) has the ESMA expansion described by a quasi-polynomial (signs, head,
period N, polynomials P_j).  When c matches a registry theorem (``esma.theorems.match``) with base x = S(c),
and T(c) = F(x) for a Möbius map F (T∘S^-1 when S is Möbius; T = F∘S when S is a registry quadratic such as
x = c^2), Gosper's transducer run on the base's and the claim's integer sequences gives a certificate:

* state S(n, m) = (A_0 ... A_{m-1})^-1 F K_0 ... K_{n-1} (integers: det A_j = -b_j = +-1);
* after consuming base term n, emit the claimed terms greedily while A_m^-1 S still maps (1, inf) into
  (1, inf) (so every recorded state satisfies the tail-domain condition); if the state's image picks a term
  other than the claim's, the claim is false and the prover says where;
* at block boundaries n_k = N0 + k L_in (L_in a multiple of the base's period) with M0 + k L_out emitted
  terms (L_out a multiple of the claim's periods; a state emitted further is moved back with A_m), the states
  are sigma^k U(k) with U polynomial in k (constant in practice: Raney's finite cycles); U is fitted on
  the first blocks and confirmed on more, and the certificate is checked by ``esma.checker`` before it is
  returned, so a returned certificate is always valid.

The certificate format ``esma-tail-cert/1`` is documented in ``esma.checker``.

>>> proof = prove("e", (-1, 1), (1,), (-1, 1), (2,), 2, ((2,), (3, 2)))   # e - 1 = 2 - 1/(3 + 1/(2 - ...))
>>> proof.ok, proof.certificate["cert"]["U"], proof.reason
(True, [['1', '0'], ['1', '-1']], 'proved from e (Euler) with x = c')
>>> prove("pi", (0, 1), (1,), (1,), (3,), 1, ((7,),)).reason
'no registry entry for pi'

A quadratic irrational c (``sqrt(2)``, ``phi`` ...; never a decimal literal) needs no registry entry: every
eventually periodic formula of it is proved by Lagrange's theorem, with a certificate ``esma-quadratic-cert/1``
(``prove_periodic``, built by ``esma.quadratic``): the quadratic read off the period and its root that is T(c).

Members of a family reuse their representative's proof: ``transport`` turns the representative's
certificate into the member's from the exact relation T_F(c) = G(T_R(c)) (DESIGN section 7), without a run
of the transducer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from esma import checker, quadratic, theorems
from esma.polys import poly_text
from esma.theorems import FORMAT, QuasiPolynomial, Substitution

__all__ = [
    "Formula",
    "Member",
    "Proof",
    "member_certificate",
    "prove",
    "prove_formula",
    "prove_periodic",
    "representative_part",
    "transport",
    "with_representative",
]

MAX_BASE_TERMS = 480  # the transducer's budget of base terms
MAX_DEGREE_U = 3  # the degree in k of the block states tried
_CONFIRM = 4  # blocks beyond those that fix U that must agree with it


@dataclass(frozen=True)
class Formula:
    """A claimed expansion: T(c) = P(c)/Q(c) for the constant c has the ESMA expansion ``claim``."""

    constant: str
    lhs_numerator: tuple[int, ...]
    lhs_denominator: tuple[int, ...]
    claim: QuasiPolynomial

    def __post_init__(self) -> None:
        if not isinstance(self.constant, str):
            raise TypeError(f"Argument 'constant' must be a str, not {type(self.constant).__name__}")
        for name in ("lhs_numerator", "lhs_denominator"):
            v = getattr(self, name)
            ints = isinstance(v, (tuple, list)) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            if not v or not ints:
                raise TypeError(f"Argument '{name}' must be a non-empty sequence of ints, not {v!r}")
            object.__setattr__(self, name, tuple(v))
        if not any(self.lhs_denominator):
            raise ValueError("Argument 'lhs_denominator' must be a nonzero polynomial, not 0")
        if not isinstance(self.claim, QuasiPolynomial):
            raise TypeError(f"Argument 'claim' must be a QuasiPolynomial, not {type(self.claim).__name__}")

    @classmethod
    def from_parts(cls, constant, lhs_numerator, lhs_denominator, signs, head, period, polynomials) -> Formula:
        """From the record's fields (polynomials as ints, Fractions or their text, ascending in m)."""
        polys = tuple(tuple(p) if isinstance(p, (list, tuple)) else p for p in polynomials)
        return cls(constant, lhs_numerator, lhs_denominator,
                   QuasiPolynomial(tuple(signs), tuple(head), period, polys))

    @classmethod
    def from_conjecture(cls, conj) -> Formula:
        """From an ``esma.records.Conjecture`` with an interlaced-polynomial closed form."""
        if not conj.polynomials or not conj.period:
            raise ValueError("Argument 'conj' must have an interlaced-polynomial closed form")
        return cls.from_parts(conj.constant, conj.lhs_numerator, conj.lhs_denominator, conj.signs,
                              conj.terms[: conj.preperiod], conj.period, conj.polynomials)

    def record(self) -> tuple:
        """The arguments of ``esma.checker.check`` after the certificate."""
        c = self.claim
        return (self.constant, self.lhs_numerator, self.lhs_denominator, c.signs, c.head, c.period, c.polys)


@dataclass(frozen=True)
class Member:
    """A member F of a family whose representative R is proved: T_F(c) = G(T_R(c)), G = ``relation``."""

    formula: Formula
    relation: tuple[tuple[int, int], tuple[int, int]]


@dataclass(frozen=True)
class Proof:
    """A certificate (``esma-tail-cert/1``) or None, and the reason (the theorem used, or why not)."""

    certificate: dict | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.certificate is not None


# --------------------------------------------------------------------------------------- integer helpers


def _mul(x, y):
    return (
        (x[0][0] * y[0][0] + x[0][1] * y[1][0], x[0][0] * y[0][1] + x[0][1] * y[1][1]),
        (x[1][0] * y[0][0] + x[1][1] * y[1][0], x[1][0] * y[0][1] + x[1][1] * y[1][1]),
    )


def _valid(S) -> bool:
    """S maps (1, inf) into (1, inf) (see ``esma.checker._tail_domain``)."""
    (a, b), (c, d) = S
    g, dd, n1, n0 = c, c + d, a - c, a + b - c - d
    if (g, dd) == (0, 0) or (n1, n0) == (0, 0):
        return False
    return min(g, dd, n1, n0) >= 0 or max(g, dd, n1, n0) <= 0


def _emit(S, a: int, b: int):
    """A^-1 S with A = [[a, b], [1, 0]], A^-1 = [[0, 1], [b, -a b]]."""
    (s11, s12), (s21, s22) = S
    return ((s21, s22), (b * (s11 - a * s21), b * (s12 - a * s22)))


def _forced_term(S, b: int) -> int | None:
    """The term the state's image determines for sign b, when its image is a bounded interval."""
    (s11, s12), (s21, s22) = S
    d1 = s21 + s22
    if s21 == 0 or d1 == 0 or (s21 > 0) != (d1 > 0):
        return None
    # the image is the open interval between s11/s21 and (s11 + s12)/d1, in integers (positive denominators)
    ln, ld, hn, hd = (s11, s21, s11 + s12, d1) if s21 > 0 else (-s11, -s21, -s11 - s12, -d1)
    if ln * hd > hn * ld:
        ln, ld, hn, hd = hn, hd, ln, ld
    # floor (b = +1) or ceil (b = -1) is fixed when the interval fits a cell
    if b > 0:
        a = ln // ld
        return a if hn <= (a + 1) * hd else None
    a = -(-hn // hd)
    return a if ln >= (a - 1) * ld else None


class _Terms:
    """Integer terms of a quasi-polynomial, computed once and kept."""

    def __init__(self, seq: QuasiPolynomial) -> None:
        self.seq = seq
        self.terms: list[int] = []

    def __getitem__(self, n: int) -> int:
        while len(self.terms) <= n:
            self.terms.append(self.seq.term(len(self.terms)))
        return self.terms[n]


# ------------------------------------------------------------------------------------------ the search


def _poly_fit(values: list[int], max_degree: int) -> tuple[Fraction, ...] | None:
    """Ascending coefficients of the polynomial of least degree <= max_degree through (k, values[k]),
    confirmed on ``_CONFIRM`` more points, or None."""
    diffs = [list(values)]
    while len(diffs) <= max_degree + 1:
        prev = diffs[-1]
        diffs.append([prev[i + 1] - prev[i] for i in range(len(prev) - 1)])
    for d in range(max_degree + 1):
        if len(values) < d + 1 + _CONFIRM:
            return None
        if all(x == 0 for x in diffs[d + 1]):
            # Newton's forward form sum_i Delta^i(0) C(k, i), expanded in powers of k
            coeffs = [Fraction(0)] * (d + 1)
            basis = [Fraction(1)]  # C(k, i) in powers of k
            for i in range(d + 1):
                for e, c in enumerate(basis):
                    coeffs[e] += diffs[i][0] * c
                nxt = [Fraction(0)] * (len(basis) + 1)
                for e, c in enumerate(basis):  # C(k, i+1) = C(k, i) (k - i)/(i + 1)
                    nxt[e + 1] += c / (i + 1)
                    nxt[e] -= c * i / (i + 1)
                basis = nxt
            while len(coeffs) > 1 and coeffs[-1] == 0:
                coeffs.pop()
            return tuple(coeffs)
    return None


@dataclass(frozen=True)
class _Cycle:
    N0: int
    Lin: int
    M0: int
    Lout: int
    sigma: int
    U: tuple


def _find_cycles(snaps, claim: _Terms, base: QuasiPolynomial, claim_seq: QuasiPolynomial) -> Iterator[_Cycle]:
    """Block lengths, offsets and the polynomial state U(k) from the greedy run's states ``snaps[n]``: every
    candidate cycle, the shortest blocks and earliest start first (the first may fail a condition of the tail
    lemma that a later start meets, e.g. the tail domain)."""
    base_l = math.lcm(base.period, len(base.signs))
    claim_l = math.lcm(claim_seq.period, len(claim_seq.signs))
    n_last = len(snaps) - 1
    lo = max(1, base.start)
    blocks = MAX_DEGREE_U + 1 + _CONFIRM
    # the emission rate (claim terms per base term) over the second half of the run
    half = n_last // 2
    if n_last < 2 or snaps[n_last][0] <= snaps[half][0]:
        return None
    rate = Fraction(snaps[n_last][0] - snaps[half][0], n_last - half)
    for i in range(1, (n_last - lo) // (blocks * base_l) + 1):
        Lin = base_l * i
        # L_out is about rate * L_in and a multiple of the claim's period: skip the hopeless L_in at once
        near = round(rate * Lin / claim_l) * claim_l
        if near == 0 or abs(rate * Lin - near) > Fraction(claim_l, 2) + 1:
            continue
        for N0 in range(lo, lo + 2 * Lin + 1):
            K = (n_last - N0) // Lin
            if K < blocks:
                break
            ms = [snaps[N0 + k * Lin][0] for k in range(K + 1)]
            half = K // 2
            span = ms[K] - ms[half]
            if span <= 0 or span % (K - half):
                continue
            Lout = span // (K - half)
            if Lout % claim_l:
                continue
            g = [m - k * Lout for k, m in enumerate(ms)]
            M0 = min(g)
            if M0 < claim_seq.start or max(g) - M0 > 4 * Lout + 4:
                continue
            states = []
            for k in range(K + 1):
                m, S = snaps[N0 + k * Lin]
                while m > M0 + k * Lout:  # move the state back over the terms emitted beyond the block
                    m -= 1
                    S = _mul(((claim[m], claim_seq.sign(m)), (1, 0)), S)
                states.append(S)
            for sigma in (1, -1):
                entries = []
                for r in (0, 1):
                    for c in (0, 1):
                        vals = [(sigma**k) * S[r][c] for k, S in enumerate(states)]
                        fit = _poly_fit(vals, MAX_DEGREE_U)
                        if fit is None:
                            break
                        entries.append(fit)
                if len(entries) == 4:
                    U = ((entries[0], entries[1]), (entries[2], entries[3]))
                    yield _Cycle(N0, Lin, M0, Lout, sigma, U)


class _Disagree(Exception):
    pass


def _run(F, base: QuasiPolynomial, claim_seq: QuasiPolynomial, budget: int):
    """Greedy transducer; yields the list of states after each consumed base term, at checkpoints."""
    base_terms = _Terms(base)
    claim = _Terms(claim_seq)
    S = F
    m = 0
    snaps = []
    checkpoint = 48
    for n in range(budget + 1):
        # the base's complete quotient y_n exceeds 1 only from n = 1 on: nothing is emitted before
        while n:
            a, b = claim[m], claim_seq.sign(m)
            S2 = _emit(S, a, b)
            if _valid(S2):
                S, m = S2, m + 1
                continue
            forced = _forced_term(S, b)
            if forced is not None and forced != a:
                raise _Disagree(f"the claim disagrees with T(c) at n = {m}: the expansion has {forced}, the claim {a}")
            break
        snaps.append((m, S))
        if n + 1 >= checkpoint or n == budget:
            yield snaps, claim
            checkpoint *= 2
        K = ((base_terms[n], base.sign(n)), (1, 0))
        S = _mul(S, K)


#: Candidate cycles of one run handed to the checker before the prover gives up on a base.
MAX_CYCLES = 6


def _search(F, base: QuasiPolynomial, claim_seq: QuasiPolynomial, budget: int) -> list[_Cycle] | str:
    try:
        for snaps, claim in _run(F, base, claim_seq, budget):
            cycles = list(itertools.islice(_find_cycles(snaps, claim, base, claim_seq), MAX_CYCLES))
            if cycles:
                return cycles
    except _Disagree as exc:
        return str(exc)
    except ArithmeticError as exc:  # a claim whose polynomials give a non-integer term
        return f"the claim disagrees with T(c): {exc}"
    return f"transducer state did not cycle within the budget ({budget} base terms)"


# ------------------------------------------------------------------------------------- LHS normal forms


def _pgcd_reduce(P, Q):
    """P/Q in lowest terms (integer, primitive)."""
    sub = Substitution(P, Q)  # Substitution reduces a rational function: reuse it
    return sub.numerator, sub.denominator


def _deg(p) -> int:
    p = list(p)
    while p and p[-1] == 0:
        p.pop()
    return len(p) - 1


def _coef(p, i) -> int:
    return p[i] if i < len(p) else 0


def _solve_span(P, Sn, Sd) -> tuple[Fraction, Fraction] | None:
    """(alpha, beta) with P = alpha Sn + beta Sd, or None."""
    n = max(len(P), len(Sn), len(Sd))
    rows = [(Fraction(_coef(Sn, i)), Fraction(_coef(Sd, i)), Fraction(_coef(P, i))) for i in range(n)]
    # two unknowns: pick two independent rows, solve, and check the rest
    for r1 in range(n):
        for r2 in range(r1 + 1, n):
            a1, b1, c1 = rows[r1]
            a2, b2, c2 = rows[r2]
            det = a1 * b2 - a2 * b1
            if det:
                x, y = (c1 * b2 - c2 * b1) / det, (a1 * c2 - a2 * c1) / det
                return (x, y) if all(a * x + b * y == c for a, b, c in rows) else None
    return None


def _integer_matrix(rows) -> tuple:
    den = math.lcm(*(Fraction(x).denominator for r in rows for x in r))
    ints = [[int(Fraction(x) * den) for x in r] for r in rows]
    g = math.gcd(*(x for r in ints for x in r)) or 1
    return tuple(tuple(x // g for x in r) for r in ints)


def _base_map(P, Q, sub: Substitution):
    """F with P(c)/Q(c) = F(S(c)) for the substitution x = S(c), or None (F integer, 2x2)."""
    dT = max(_deg(P), _deg(Q))
    if sub.degree == 1 and dT == 1:
        (s0, s1), (t0, t1) = (*sub.numerator, 0)[:2], (*sub.denominator, 0)[:2]
        T = ((_coef(P, 1), _coef(P, 0)), (_coef(Q, 1), _coef(Q, 0)))
        return _integer_matrix(_mul(T, ((t0, -s0), (-t1, s1))))  # T at c = S^-1(x)
    if sub.degree == 2 and dT == 2:
        top, bottom = _solve_span(P, sub.numerator, sub.denominator), _solve_span(Q, sub.numerator, sub.denominator)
        if top is None or bottom is None:
            return None
        return _integer_matrix((top, bottom))
    return None


# ------------------------------------------------------------------------------------------ certificates


def _u_text(U) -> list[list[str]]:
    return [[poly_text(e, "k") for e in row] for row in U]


def _certificate(formula: Formula, match: theorems.Match, F, cyc: _Cycle) -> dict:
    t = match.theorem
    return {
        "format": FORMAT,
        "constant": formula.constant,
        "lhs": {"numerator": list(formula.lhs_numerator), "denominator": list(formula.lhs_denominator)},
        "base": {"theorem": t.key, "reference": t.reference, **t.sequence.to_json()},
        "map": {"degree": 1, "T": [list(F[0]), list(F[1])], "substitution": match.substitution.to_json()},
        "claim": formula.claim.to_json(),
        "cert": {"N0": cyc.N0, "Lin": cyc.Lin, "M0": cyc.M0, "Lout": cyc.Lout, "sigma": cyc.sigma,
                 "U": _u_text(cyc.U)},
    }


def prove_formula(formula: Formula, budget: int | None = None) -> Proof:
    """A certificate for ``formula``, or ``Proof(None, reason)`` when none is found (never an exception).

    ``budget``: base terms the transducer may consume (default: ``MAX_BASE_TERMS``, more for a claim with a long
    joint period or head, whose cycle spans several of its periods)."""
    if not isinstance(formula, Formula):
        raise TypeError(f"Argument 'formula' must be a Formula, not {type(formula).__name__}")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise ValueError(f"Argument 'budget' must be a positive int, not {budget!r}")
    matches = theorems.match(formula.constant)
    if not matches:
        if quadratic.minimal_polynomial(formula.constant) is not None:
            return prove_periodic(formula)
        why = " (a decimal literal is never proved)" if theorems.has_decimal(formula.constant) else ""
        return Proof(None, f"no registry entry for {formula.constant}{why}")
    P, Q = _pgcd_reduce(formula.lhs_numerator, formula.lhs_denominator)
    degree = max(_deg(P), _deg(Q))
    if degree < 1:
        return Proof(None, "T is constant")
    if degree > 2:
        return Proof(None, f"T has degree {degree}: only Möbius maps of a registry base are proved")
    # a long quasi-period (the deep search finds periods in the hundreds) takes a cycle of the transducer over
    # several of its periods: the budget grows with the claim's joint period and head
    claim = formula.claim
    if budget is None:
        budget = max(MAX_BASE_TERMS, 4 * (len(claim.head) + 2 * math.lcm(claim.period, len(claim.signs))))
    reasons = []
    for m in matches:
        F = _base_map(P, Q, m.substitution)
        if F is None:
            continue
        found = _search(F, m.theorem.sequence, formula.claim, budget)
        if isinstance(found, str):
            if found.startswith("the claim disagrees"):
                return Proof(None, found)  # the base's theorem refutes the claim: no other base can help
            reasons.append(f"{m.theorem.key}: {found}")
            continue
        first_why = ""
        for cycle in found:
            cert = _certificate(formula, m, F, cycle)
            ok, why = checker.check(cert, *formula.record())
            if ok:
                return Proof(cert, why)
            first_why = first_why or why
        reasons.append(f"{m.theorem.key}: the transducer's cycle did not check ({first_why})")
    if not reasons:
        subs = ", ".join(sorted({m.substitution.text for m in matches if m.substitution.degree == 2})) or "none"
        return Proof(None, "degree-2 action with no finite certificate: T is not a Möbius map of a registry base "
                           f"(quadratic substitutions tried: {subs}); the transducer's state grows without bound")
    return Proof(None, "; ".join(reasons))


def prove_periodic(formula: Formula) -> Proof:
    """The certificate ``esma-quadratic-cert/1`` of an eventually periodic formula of a quadratic irrational c
    (``esma.quadratic``: the quadratic read off the period, and its root that is T(c)), once ``esma.checker``
    has accepted it; else ``Proof(None, reason)``.

    >>> proof = prove_periodic(Formula.from_parts("sqrt(2)", (1, 1), (-1, 1), (-1,), (), 1, ((6,),)))
    >>> proof.reason                                 # (c + 1)/(c - 1) = 6 - 1/(6 - 1/(6 - ...)) for c = sqrt(2)
    'eventually periodic: T(c) is the root of x^2 - 6x + 1 in (5, 6) (Lagrange); checked exactly'
    >>> prove_periodic(Formula.from_parts("sqrt(2)", (1, 1), (-1, 1), (-1,), (), 1, ((5,),))).reason
    'the value read off the period is not T(c)'
    """
    if not isinstance(formula, Formula):
        raise TypeError(f"Argument 'formula' must be a Formula, not {type(formula).__name__}")
    cert, why = quadratic.certificate(formula.constant, formula.lhs_numerator, formula.lhs_denominator,
                                      formula.claim)
    if cert is None:
        return Proof(None, why)
    ok, reason = checker.check(cert, *formula.record())
    return Proof(cert, reason) if ok else Proof(None, f"the quadratic certificate did not check ({reason})")


def prove(constant_text, lhs_numerator, lhs_denominator, signs, head, period, polynomials,
          budget: int | None = None) -> Proof:
    """A certificate for the record (constant, T = P/Q, claimed expansion), or ``Proof(None, reason)``.

    The arguments are those of ``esma.checker.check`` after the certificate: integer coefficients of P and
    Q in ascending powers of c, the sign period, the head, the period N and the polynomials P_j (ascending
    in m).  Bad arguments raise ``TypeError``/``ValueError``; a formula that cannot be proved is a reason.
    """
    return prove_formula(Formula.from_parts(constant_text, lhs_numerator, lhs_denominator, signs, head, period,
                                            polynomials), budget)


# --------------------------------------------------------------------------------------------- members


def _shift_k(p: tuple, m0: int, step: int) -> tuple:
    """p(m0 + step k) as ascending coefficients in k."""
    out = [Fraction(0)]
    for c in reversed(p):
        nxt = [Fraction(0)] * (len(out) + 1)
        for e, x in enumerate(out):
            nxt[e] += x * m0
            nxt[e + 1] += x * step
        nxt[0] += c
        out = nxt
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return tuple(out)


def transport(certificate: dict, member: Member) -> dict | None:
    """The member's certificate from its representative's, through T_F(c) = G(T_R(c)); None if it fails.

    With F_R the representative's base map, F_F = G F_R; the shared tail of the two claims is found (an
    index shift), and G A^R_0 ... A^R_(M0-1) = lam A^F_0 ... A^F_(M0'-1) (lam = +-1) gives the member's head
    identity with U' = lam U: same blocks, same sigma, another head.  No transducer run, no fitting.  The
    result is a complete certificate for the member, to be checked like any other.
    """
    if not isinstance(member, Member):
        raise TypeError(f"Argument 'member' must be a Member, not {type(member).__name__}")
    try:
        return _transport(certificate, member)
    except (KeyError, TypeError, ValueError, ArithmeticError, IndexError):
        return None  # a malformed certificate is not transported


def _transport(cert: dict, member: Member) -> dict | None:
    G = tuple(tuple(int(x) for x in row) for row in member.relation)
    if abs(G[0][0] * G[1][1] - G[0][1] * G[1][0]) != 1:
        return None
    f = member.formula
    claim_R = QuasiPolynomial.from_json(cert["claim"])
    claim_F = f.claim
    c = cert["cert"]
    N0, Lin, M0, Lout, sigma = c["N0"], c["Lin"], c["M0"], c["Lout"], c["sigma"]
    U = tuple(tuple(theorems.parse_poly(e, "k") for e in row) for row in c["U"])
    F_F = _mul(G, tuple(tuple(row) for row in cert["map"]["T"]))
    sub = Substitution(tuple(cert["map"]["substitution"]["numerator"]),
                       tuple(cert["map"]["substitution"]["denominator"]))
    # the member's map must be its own P/Q: (f11 Sn + f12 Sd) Q == (f21 Sn + f22 Sd) P
    if not _relation_ok(F_F, sub, f.lhs_numerator, f.lhs_denominator):
        return None
    # blocks long enough for the member's periods: r blocks of the representative make one
    claim_l = math.lcm(claim_F.period, len(claim_F.signs))
    r = claim_l // math.gcd(Lout, claim_l)
    if r > 1:
        U = tuple(tuple(_shift_k(e, 0, r) for e in row) for row in U)
        Lin, Lout, sigma = Lin * r, Lout * r, sigma**r
    # the index shift between the tails: the representative's terms from p on, found in the member's
    # (beyond both heads; further on if the tails only meet later)
    width = 2 * Lout + 8
    L = math.lcm(len(claim_R.signs), len(claim_F.signs))
    shift = None
    for attempt in range(3):
        p = M0 + claim_F.start + claim_R.start + (2 + 4 * attempt) * Lout
        limit = p + claim_F.start + claim_R.start + 4 * Lout + 8
        t_R = [claim_R.term(n) for n in range(p, p + width)]
        t_F = [claim_F.term(n) for n in range(limit + width)]
        for j in range(limit):
            if t_F[j : j + width] == t_R and all(claim_F.sign(j + i) == claim_R.sign(p + i) for i in range(L)):
                shift = p - j
                break
        if shift is not None:
            break
    if shift is None:
        return None
    # the tails from M0' = M0 - shift and M0 agree for all n when each residue's polynomial in k (degree
    # <= d) agrees at d + 1 points: compare (d + 1) blocks of terms
    d = max(len(q) for q in claim_F.polys + claim_R.polys) - 1
    for _ in range(8):  # move the head a block further while the member's is too short
        M0F = M0 - shift
        if M0F >= claim_F.start and M0F >= 0:
            span = (d + 1) * Lout
            if [claim_F.term(M0F + i) for i in range(span)] != [claim_R.term(M0 + i) for i in range(span)]:
                return None
            left = _mul(G, _prefix_seq(claim_R, M0))
            right = _prefix_seq(claim_F, M0F)
            for lam in (1, -1):
                if left == tuple(tuple(lam * x for x in row) for row in right):
                    Uf = tuple(tuple(tuple(lam * x for x in e) for e in row) for row in U)
                    return {
                        **cert,
                        "constant": f.constant,
                        "lhs": {"numerator": list(f.lhs_numerator), "denominator": list(f.lhs_denominator)},
                        "map": {**cert["map"], "T": [list(F_F[0]), list(F_F[1])]},
                        "claim": claim_F.to_json(),
                        "cert": {"N0": N0, "Lin": Lin, "M0": M0F, "Lout": Lout, "sigma": sigma, "U": _u_text(Uf)},
                    }
            return None
        N0, M0 = N0 + Lin, M0 + Lout
        U = tuple(tuple(_shift_k(e, 1, 1) for e in row) for row in U)
    return None


def _prefix_seq(seq: QuasiPolynomial, count: int):
    acc = ((1, 0), (0, 1))
    for n in range(count):
        acc = _mul(acc, ((seq.term(n), seq.sign(n)), (1, 0)))
    return acc


def _relation_ok(F, sub: Substitution, P, Q) -> bool:
    def lin(a, b):
        n = max(len(sub.numerator), len(sub.denominator))
        return [a * _coef(sub.numerator, i) + b * _coef(sub.denominator, i) for i in range(n)]

    def pmul(x, y):
        out = [0] * (len(x) + len(y) - 1)
        for i, u in enumerate(x):
            for j, v in enumerate(y):
                out[i + j] += u * v
        return out

    num, den = lin(*F[0]), lin(*F[1])
    if not any(den):
        return False
    a, b = pmul(num, list(Q)), pmul(den, list(P))
    n = max(len(a), len(b))
    return all(_coef(a, i) == _coef(b, i) for i in range(n))


def member_certificate(
    representative: Formula, certificate: dict, relation, k_member: int, k_rep: int, complete: bool = True,
    key: str | None = None, *, _part: dict | None = None,
) -> dict:
    """The certificate ``esma-member-cert/1`` of a family member (DESIGN 7 and 8): the member F follows from
    its representative R, proved by ``certificate``, through T_F(c) = G(T_R(c)) with ``relation`` G = (g11,
    g12, g21, g22), F's sequence from index ``k_member`` being R's from ``k_rep`` (>= 1).

    ``complete=False`` leaves out the representative's claim and certificate (a catalog stores them once, with
    the representative's record, and puts them back before checking: ``with_representative``); ``key`` names
    the representative's record (its catalog key) for that.  ``representative_part`` builds the
    representative's part once for a whole family (pass it back as ``_part``).
    """
    g11, g12, g21, g22 = (int(v) for v in relation)
    rep = _part if _part is not None else representative_part(representative, certificate, complete, key)
    return {
        "format": theorems.MEMBER_FORMAT,
        "representative": rep,
        "relation": [[g11, g12], [g21, g22]],
        "shift": {"member": int(k_member), "representative": int(k_rep)},
    }


def representative_part(representative: Formula, certificate: dict, complete: bool = True,
                        key: str | None = None) -> dict:
    """The ``representative`` object of a member certificate (shared by every member of the family)."""
    rep: dict = {"lhs": {"numerator": list(representative.lhs_numerator),
                         "denominator": list(representative.lhs_denominator)}}
    if key is not None:
        rep["key"] = key
    if complete:
        rep["claim"] = representative.claim.to_json()
        rep["certificate"] = certificate
    return rep


def with_representative(member_cert: dict, representative: Formula, certificate: dict) -> dict:
    """A stored (compact) member certificate made complete again with its representative's claim and proof."""
    rep = dict(member_cert.get("representative") or {})
    rep["claim"] = representative.claim.to_json()
    rep["certificate"] = certificate
    return {**member_cert, "representative": rep}
