"""Phase 2 of a search, the families: approval of one representative per family, members derived, proofs.

The hits of every class member are placed on their canonical tails (``esma.families``); per family the
representative (the simplest member) is approved numerically against an independent evaluation of T(c)
(``esma.verify.approve``), and every other member follows from it through its exact relation G, checked as an
identity in Z[c] (its digits are those the representative's approval implies through G).  A member whose
identity fails, or whose derived digits fall short, is approved on its own.  Only approved formulas come out;
what follows from a registry theorem is proved (``esma.prover``, checked by ``esma.checker``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Any

from esma.columns import conjecture_columns
from esma.families import (
    Placement,
    derived_digits,
    identity_holds,
    placement,
    relation,
    simplicity,
    tail_from_key,
)
from esma.memory import paused_gc
from esma.patterns import closed_form, closed_form_text
from esma.plan import SearchPlan
from esma.quadratic import minimal_polynomial
from esma.records import Conjecture, Family, Hit, Recurrence, fraction_text, signs_to_text
from esma.render import cf_text
from esma.transforms import Transform, transform_ball
from esma.verify import Approval, _scf_rate, approve

__all__ = [
    "Assembly",
    "approve_serial",
    "assemble",
    "encode",
    "family_keys",
    "hit_group",
    "members_to_load",
    "merge_assemblies",
    "rank_families",
    "regroup",
    "summarise",
]


#: Digits beyond ``verify_digits`` to which a representative is approved, so that its members, whose relative
#: error grows through G (by a few digits at most in practice), still reach ``verify_digits``; a member that
#: would lose more is approved on its own.  A fixed margin, not one fitted to the members found so far: the
#: representative's approval, hence every derived figure, is then the same whatever order chunks arrive in and
#: however often a search is stopped and resumed.
EXTRA_DIGITS = 10
#: Representatives tried per family before its hits are all rejected (a false pattern fails for every member).
MAX_REP_ATTEMPTS = 3



@dataclass(frozen=True)
class Assembly:
    """The approved formulas of a set of hits, grouped in families.

    ``conjectures``: every record to store (new members, and stored ones whose representative changed);
    ``families``: the summaries of the families whose representative is among them, ranked; ``rejected``: hits
    that failed approval, with the reason; ``approvals``: numerical approvals run; ``seconds``: wall time;
    ``found``: the keys of the formulas the hits stand for; ``unproved``: the families of a registry constant
    whose representative could not be proved, with the prover's reason; ``proof_seconds``: the time proofs took
    (finding and checking certificates); ``approval_seconds``: the time numerical approvals took; ``rows``: the
    records of an encoded assembly (``encode``), which has them instead of ``conjectures``.
    """

    conjectures: list[Conjecture]
    families: list[Family]
    rejected: list[dict]
    approvals: int
    seconds: float
    found: set[str] = field(default_factory=set)
    unproved: list[dict] = field(default_factory=list)
    proof_seconds: float = 0.0
    approval_seconds: float = 0.0
    rows: list[tuple[tuple, dict[str, Any]]] = field(default_factory=list)


def encode(asm: Assembly) -> Assembly:
    """The assembly ``asm`` as the catalog stores it: its records as ``rows``, each the key that orders it within
    the ranking of its families and its stored columns (``esma.columns.conjecture_columns``, which checks it),
    instead of ``conjectures``.  What a worker of the families phase sends back: the text is made where the
    record is, not in the client that writes it, and moves as a few strings rather than a record with its
    certificate, terms and polynomials.

    >>> from esma.search import plan_search, run_chunk
    >>> plan = plan_search("e", coeff_limit=1, max_period=1)
    >>> asm = assemble(plan, [h for i in range(len(plan.chunks)) for h in run_chunk(plan, i).hits])
    >>> enc = encode(asm)
    >>> enc.conjectures, [row["key"] for _, row in enc.rows] == [c.key for c in asm.conjectures]
    ([], True)
    """
    return replace(asm, conjectures=[], rows=[(_order_in_family(c), conjecture_columns(c)) for c in asm.conjectures])



def _per_tuple(cache: dict, obj: tuple, salt, compute: Callable[[], Any]) -> Any:
    """``compute()``, memoised in ``cache`` by the identity of ``obj`` (and ``salt``).

    A hit's class members share their polynomials (one tuple object), and hashing tuples of Fractions costs more
    than the texts made from them; the entry holds the tuple, so its id cannot be reused while the entry lives.
    """
    key = (id(obj), salt)
    hit = cache.get(key)
    if hit is None or hit[0] is not obj:
        if len(cache) > 8192:
            cache.clear()
        hit = cache[key] = (obj, compute())
    return hit[1]


_TEXTS: dict[tuple[int, Any], tuple[tuple, Any]] = {}


def _closed_form_text(period: int, start: int, head: tuple[int, ...], polynomials) -> str:
    """``closed_form_text`` with the polynomials' part shared: the texts of a class's members differ only in the
    head."""
    body = _per_tuple(_TEXTS, polynomials, period, lambda: closed_form_text(period, 0, (), polynomials))
    if not start:
        return body
    return f"{body} for n >= {start}; " + ", ".join(f"a({i}) = {head[i]}" for i in range(start))


def _polynomial_texts(polynomials: tuple[tuple[Fraction, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """The record's form of interlaced polynomials: each coefficient as the text of a fraction."""
    return _per_tuple(_TEXTS, polynomials, "coefficients",
                      lambda: tuple(tuple(fraction_text(c) for c in poly) for poly in polynomials))


@lru_cache(maxsize=16384)
def _value_texts(constant, transform: Transform) -> tuple[str, str]:
    """T(c) to 60 significant digits, and its value group: values equal up to sign share a group (40 significant
    digits separate distinct small-height values).  Per transform: every sign period of one T shares them."""
    ball = transform_ball(constant, transform, 60)
    return ball.str(60, radius=False), ball.str(40, radius=False).lstrip("-")


# ------------------------------------------------------------------------------------------------ phase 2


@dataclass(frozen=True)
class _Member:
    """A formula on its way to the catalog: a class member of a hit, or a stored record."""

    transform: Transform
    signs: tuple[int, ...]
    terms: tuple[int, ...]
    start: int
    recurrence: tuple[int, ...]
    kind: str
    form_period: int
    polynomials: tuple[tuple[Fraction, ...], ...]
    place: Placement
    detection_terms: int
    detection_digits: int
    linear_complexity: int
    record: Conjecture | None = None

    @cached_property
    def key(self) -> str:
        return f"{self.transform.key()}|{signs_to_text(self.signs)}"

    @cached_property
    def order(self) -> tuple:
        return simplicity(self.transform.numerator, self.transform.denominator, self.start, self.transform.text,
                          signs_to_text(self.signs), a0=self.terms[0])


def _shifted_start(hit: Hit, place: Placement, a0: int) -> int:
    """The first index of the tail regime once a_0 is replaced by ``a0`` (only index 0 changes)."""
    if not hit.polynomials:
        return hit.start if hit.start >= 1 or a0 == hit.terms[0] else 1
    if hit.start >= 2:
        return hit.start
    return 0 if a0 == place.tail.term(-place.offset) else 1  # type: ignore[union-attr]


def _members_of_hit(plan: SearchPlan, hit: Hit, class_index: int) -> list[_Member]:
    """The hit of a class representative, for every member T + k of its translation class (a_0 + k)."""
    signs = plan.periods[hit.period]
    rep_t = plan.transforms[hit.transform]
    if hit.family:  # placed by the scan (``TailIndex``): the tail is parsed once per family
        base = Placement(hit.family, tail_from_key(hit.family), hit.offset, hit.start)
    else:
        base = placement(signs, hit.start, hit.form_period, hit.polynomials, f"{rep_t.key()}|{signs_to_text(signs)}")
    out = []
    for t_index, k in plan.shifts[class_index]:
        t = plan.transforms[t_index]
        terms = (hit.terms[0] + k, *hit.terms[1:])
        start = _shifted_start(hit, base, terms[0]) if k else hit.start
        place = base if base.tail is not None else replace(base, key=f"x|{t.key()}|{signs_to_text(signs)}")
        place = replace(place, start=start)
        out.append(_Member(t, signs, terms, start, hit.recurrence, hit.kind, hit.form_period, hit.polynomials,
                           place, hit.detection_terms, hit.detection_digits, start + len(hit.recurrence) - 1))
    return out


def _member_of_record(conj: Conjecture) -> _Member:
    """A stored record as a member (to re-derive it from a new representative)."""
    t = Transform(tuple(conj.lhs_numerator), tuple(conj.lhs_denominator))
    polys = tuple(tuple(Fraction(c) for c in p) for p in conj.polynomials)
    place = placement(conj.signs, conj.preperiod, conj.period, polys, conj.key)
    return _Member(t, tuple(conj.signs), tuple(conj.terms), conj.preperiod, tuple(conj.recurrence), conj.kind,
                   conj.period, polys, place, conj.detection_terms, conj.detection_digits,
                   conj.linear_complexity, record=conj)


def _relation(member: _Member, rep: _Member) -> tuple[tuple[int, int, int, int], int, int]:
    """G, and the head lengths (k_member, k_rep) that align the two tails."""
    return relation((member.terms, member.place, member.signs), (rep.terms, rep.place, rep.signs))


def _record(
    plan: SearchPlan,
    m: _Member,
    figures: tuple[int, int, float, float],
    family: str,
    representative: bool,
    relation: tuple[int, int, int, int],
    proof: tuple[str, dict] | None = None,
) -> Conjecture:
    """The catalog record of member ``m`` with its approval figures (verified digits, terms used, digits per
    term, digits per term of the simple continued fraction), and its proof (reason, checked certificate)."""
    verified, used, dpt, scf = figures
    dpt, scf = round(dpt, 4), round(scf, 4)
    gain = _gain(dpt, scf)
    if m.record is not None:  # a stored formula keeps its identity and status; its family figures change
        rec = m.record
        moved = (rec.family, rec.representative, rec.relation) != (family, representative, relation)
        if proof is not None and rec.status != "refuted":
            rec = replace(rec, status="proved", status_reason=proof[0], certificate=proof[1])
        elif moved and rec.status == "proved":  # its proof went through the old representative
            rec = replace(rec, status="conjecture", status_reason="", certificate=None)
        return replace(rec, verified_digits=verified, verify_terms=used, digits_per_term=dpt,
                       scf_digits_per_term=scf, gain=gain, family=family, representative=representative,
                       relation=relation)
    value, group = _value_texts(plan.constant, m.transform)
    status, reason, certificate = "conjecture", "", None
    if proof is not None:
        status, (reason, certificate) = "proved", proof
    elif m.kind == "periodic":
        reason = ("eventually periodic: T(c) is then a quadratic irrational (Lagrange), not a new constant formula"
                  if minimal_polynomial(plan.constant.text) is None else
                  "eventually periodic, not proved: its quadratic certificate did not check")
    head = m.terms[: m.start]
    text = _closed_form_text(m.form_period, m.start, head, m.polynomials) if m.polynomials else (
        closed_form(Recurrence(m.recurrence, m.start), m.terms).text)
    return Conjecture(
        constant=plan.constant.text,
        lhs=m.transform.text,
        lhs_numerator=m.transform.numerator,
        lhs_denominator=m.transform.denominator,
        value=value,
        signs=m.signs,
        preperiod=m.start,
        terms=m.terms,
        recurrence=m.recurrence,
        closed_form=text,
        kind=m.kind,
        verified_digits=verified,
        digits_per_term=dpt,
        scf_digits_per_term=scf,
        status=status,
        status_reason=reason,
        key=m.key,
        group=group,
        period=m.form_period,
        polynomials=_polynomial_texts(m.polynomials),
        linear_complexity=m.linear_complexity,
        detection_terms=m.detection_terms,
        detection_digits=m.detection_digits,
        verify_terms=used,
        cf_text=cf_text(m.terms, m.signs, 8),
        family=family,
        representative=representative,
        relation=relation,
        gain=gain,
        certificate=certificate,
    )


ApproveMany = Callable[[list[tuple[Any, Transform, tuple[int, ...], Recurrence, tuple[int, ...], int]]],
                       list[Approval]]


def approve_serial(requests) -> list[Approval]:
    """Run approval requests (constant, transform, signs, recurrence, head, digits) one after the other."""
    return [approve(c, t, s, rec, head, digits) for c, t, s, rec, head, digits in requests]


def _figures(verdict: Approval) -> tuple[int, int, float, float]:
    """The approval figures a record keeps: verified digits, terms used, digits per term, and those of the simple
    continued fraction."""
    return verdict.verified_digits, verdict.terms_used, verdict.digits_per_term, verdict.scf_digits_per_term


def _stored_figures(c: Conjecture) -> tuple[int, int, float, float]:
    """``_figures`` of a stored record."""
    return c.verified_digits, c.verify_terms, c.digits_per_term, c.scf_digits_per_term


def _failure(verdict: Approval) -> str:
    return verdict.reason or f"approved only {verdict.verified_digits} digits"


def _rejection(m: _Member, reason: str) -> dict[str, str]:
    return {"lhs": m.transform.text, "signs": signs_to_text(m.signs), "reason": reason}


@dataclass(frozen=True)
class _Pending:
    """A formula the families phase will store: its approval figures and family fields."""

    member: _Member
    figures: tuple[int, int, float, float]
    family: str
    representative: bool
    relation: tuple[int, int, int, int]


@dataclass
class _FamilyWork:
    key: str
    candidates: list[_Member]  # simplest first
    stored_rep: Conjecture | None = None
    rep: _Member | None = None
    relations: dict[str, tuple[tuple[int, int, int, int], int, int, bool]] = field(default_factory=dict)
    approval: tuple[int, int, float, float] | None = None  # the representative's figures
    reapproved: bool = False
    required: int = 0
    failed: list[tuple[_Member, str]] = field(default_factory=list)


def assemble(
    plan: SearchPlan,
    hits: Iterable[Hit],
    *,
    stored_reps: Mapping[str, Conjecture] | None = None,
    load_members: Callable[[str], list[Conjecture]] | None = None,
    approve_many: ApproveMany | None = None,
    prove: bool = True,
) -> Assembly:
    """Approve a set of hits family by family (phase 2 of a search).

    ``hits``: the ``Hit`` records of the scan (a hit of a class representative stands for every member of its
    translation class).  ``stored_reps``: the catalog's current representative of each family key it knows;
    a stored representative that stays the simplest member is not approved again (unless more digits are
    needed), and when a new hit is simpler, ``load_members(key)`` gives the stored members to re-derive from the
    new one.  ``approve_many`` runs numerical approvals (default: one after the other, here).  ``prove``: turn
    what follows from a registry theorem into ``proved`` records with checked certificates (DESIGN 8).

    The records returned are those to store: every formula of ``hits`` (``Assembly.found`` holds their keys),
    and stored ones whose representative or figures changed.
    """
    with paused_gc():
        return _assemble(plan, hits, stored_reps, load_members, approve_many, prove)


def _group(plan: SearchPlan, hits: Iterable[Hit],
           stored_reps: Mapping[str, Conjecture]) -> tuple[dict[str, _FamilyWork], set[str]]:
    """The members of the hits by family (simplest first), with the catalog's representative of each family
    that has one; and the keys of the formulas the hits stand for."""
    families: dict[str, _FamilyWork] = {}
    found: set[str] = set()
    for hit in hits:
        for m in _members_of_hit(plan, hit, plan.class_index[hit.transform]):
            if m.key in found:
                continue
            found.add(m.key)
            work = families.get(m.place.key)
            if work is None:
                work = families[m.place.key] = _FamilyWork(m.place.key, [], stored_reps.get(m.place.key))
            work.candidates.append(m)
    for work in families.values():
        work.candidates.sort(key=lambda m: m.order)
    return families, found


def _stored_part(work: _FamilyWork, required: int) -> tuple[_Member, list[_Member], bool, bool]:
    """For a family the catalog knows: its stored representative as a member, the new members, whether the
    stored one stays the representative, and whether the family's stored members must be read (to derive them
    again: from a new, simpler representative, or from the stored one approved again deeper)."""
    stored = _member_of_record(work.stored_rep)
    fresh = [m for m in work.candidates if m.key != stored.key]
    stays = not fresh or stored.order <= fresh[0].order
    reload = not stays or work.stored_rep.verified_digits < required + EXTRA_DIGITS
    return stored, fresh, stays, reload


def members_to_load(plan: SearchPlan, hits: Iterable[Hit], stored_reps: Mapping[str, Conjecture]) -> set[str]:
    """The family keys whose stored members ``assemble(plan, hits, stored_reps=..., load_members=...)`` reads:
    the caller can read them ahead (a worker of the families phase has no catalog).  Empty in a fresh catalog."""
    if not stored_reps:
        return set()
    known = [h for h in hits if not h.family or h.family in stored_reps]
    families, _ = _group(plan, known, stored_reps)
    required = plan.params.verify_digits
    return {w.key for w in families.values() if w.stored_rep is not None and _stored_part(w, required)[3]}


def _target(work: _FamilyWork, required: int) -> int:
    """The digits a representative is approved to: ``required`` + EXTRA_DIGITS, and when it replaces a stored
    representative approved deeper (a shallower search found a simpler member), as deep as that one, so that
    the stored members derived again from it keep their digits (the figures do not depend on the order of
    searches)."""
    stored = work.stored_rep
    if stored is None or work.rep is None or work.rep.key == stored.key:
        return required + EXTRA_DIGITS
    return max(required, stored.verified_digits - EXTRA_DIGITS) + EXTRA_DIGITS


def _assemble(plan, hits, stored_reps, load_members, approve_many, prove) -> Assembly:
    t0 = time.perf_counter()
    stored_reps = stored_reps or {}
    approve_many = approve_many or approve_serial
    required = plan.params.verify_digits
    families, found = _group(plan, hits, stored_reps)
    for work in families.values():
        if work.stored_rep is None:
            continue
        stored, fresh, stays, reload = _stored_part(work, required)
        if stays:
            work.rep = stored  # still the simplest: derive the new members from it
            work.candidates = [stored, *fresh]
            if load_members and reload:
                # it is approved again, deeper: the stored members are derived again from it with the new ones
                known = {m.key for m in work.candidates}
                loaded = [_member_of_record(r) for r in load_members(work.key) if r.key not in known]
                work.candidates = [stored, *sorted(fresh + loaded, key=lambda m: m.order)]
        else:
            # a new hit is simpler: the stored members move under it and are derived again
            known = {m.key for m in fresh}
            loaded = load_members(work.key) if load_members else [work.stored_rep]
            work.candidates = fresh + [_member_of_record(r) for r in loaded if r.key not in known]
            work.candidates.sort(key=lambda m: m.order)
    approvals = 0
    approval_seconds = 0.0

    def approve_now(requests) -> list[Approval]:
        nonlocal approvals, approval_seconds
        t_approve = time.perf_counter()
        verdicts = approve_many(requests)
        approval_seconds += time.perf_counter() - t_approve
        approvals += len(requests)
        return verdicts

    pending = list(families.values())
    modulus = minimal_polynomial(plan.constant.text)  # relations of an algebraic c hold modulo it
    for _attempt in range(MAX_REP_ATTEMPTS):
        todo = []
        for work in pending:
            if work.rep is None:
                work.rep = work.candidates[0]
            _relate(work, modulus)
            rec = work.rep.record
            if rec is not None and rec.verified_digits >= required + EXTRA_DIGITS:
                work.approval = _stored_figures(rec)
                work.required = required
            else:
                todo.append(work)
        if not todo:
            break
        requests = [(plan.constant, w.rep.transform, w.rep.signs, Recurrence(w.rep.recurrence, w.rep.start),
                     w.rep.terms, _target(w, required)) for w in todo]
        verdicts = approve_now(requests)
        pending = []
        for work, verdict in zip(todo, verdicts, strict=True):
            if verdict.ok:
                work.approval = _figures(verdict)
                work.required = min(required, verdict.required_digits)
                work.reapproved = True
                continue
            work.failed.append((work.rep, _failure(verdict)))
            work.candidates = [m for m in work.candidates if m.key != work.rep.key]
            work.rep = None
            if work.candidates:
                pending.append(work)
        if not pending:
            break
    pending: list[_Pending] = []
    own: list[tuple[_FamilyWork, _Member]] = []
    rejected: list[dict] = []
    for work in families.values():
        for m, reason in work.failed:
            rejected.append(_rejection(m, reason))
        if work.approval is None:
            for m in work.candidates:
                rejected.append(_rejection(m, "the family's representatives failed approval"))
            continue
        rep = work.rep
        verified, used, _, _ = work.approval
        y = transform_ball(plan.constant, rep.transform, 60)
        for m in work.candidates:
            if m is rep:
                if m.record is None or work.reapproved or m.key in found or not m.record.representative:
                    pending.append(_Pending(m, work.approval, work.key, True, (1, 0, 0, 1)))
                continue
            rel, km, kr, holds = work.relations[m.key]
            digits = derived_digits(y, rel, verified) if holds else 0
            if holds and digits >= work.required:
                terms_used = max(1, used + km - kr)
                # measured at the depth the formula is derived to, not this search's target: its figures then do
                # not depend on which search derived it from a stored representative
                scf = _scf_rate(plan.constant, m.transform, digits + 20, digits)
                pending.append(_Pending(m, (digits, terms_used, digits / terms_used, scf), work.key, False, rel))
            else:
                own.append((work, m))
    if own:
        requests = [(plan.constant, m.transform, m.signs, Recurrence(m.recurrence, m.start), m.terms, required)
                    for _, m in own]
        for (work, m), verdict in zip(own, approve_now(requests), strict=True):
            if not verdict.ok:
                rejected.append(_rejection(m, _failure(verdict)))
                continue
            rel, _, _, holds = work.relations[m.key]
            # approved on its own: in the family when G is exact, else a family of its own (not one discovery)
            fam, relation = (work.key, rel) if holds else (f"{work.key}~{m.key}", (1, 0, 0, 1))
            pending.append(_Pending(m, _figures(verdict), fam, not holds, relation))
    t_proofs = time.perf_counter()
    proofs, unproved = _prove(plan, families, pending) if prove else ({}, [])
    proof_seconds = time.perf_counter() - t_proofs
    out = [_record(plan, x.member, x.figures, x.family, x.representative, x.relation, proofs.get(x.member.key))
           for x in pending]
    out, fams = _ranked(out)
    return Assembly(out, fams, rejected, approvals, time.perf_counter() - t0, found, unproved, proof_seconds,
                    approval_seconds)


def _ranked(out: list[Conjecture]) -> tuple[list[Conjecture], list[Family]]:
    """The records in a canonical order (family rank, representative first, then simplicity), and their ranked
    families: the order formulas are stored in, hence their ids in a fresh catalog, depends neither on the
    order chunks came back in nor on how the families were split among workers."""
    fams = rank_families(summarise(out))
    key = _ranked_order(fams)
    out.sort(key=lambda c: key(_order_in_family(c)))
    return out, fams


def merge_assemblies(parts: Sequence[Assembly]) -> Assembly:
    """One assembly of the assemblies of disjoint sets of families, as if they had been assembled together
    (a family's assembly depends on its own hits alone): records (and the rows of encoded parts) in the
    canonical order, families ranked over all parts; figures added (``seconds`` and the other times are then
    summed over the parts, work rather than wall time).

    >>> from esma.search import plan_search, run_chunk
    >>> plan = plan_search("e", coeff_limit=1, max_period=2)
    >>> hits = [h for i in range(len(plan.chunks)) for h in run_chunk(plan, i).hits]
    >>> whole = assemble(plan, hits)
    >>> keys = sorted({h.family for h in hits})
    >>> halves = [assemble(plan, [h for h in hits if (h.family in keys[:3]) == side]) for side in (True, False)]
    >>> [c.key for c in merge_assemblies(halves).conjectures] == [c.key for c in whole.conjectures]
    True
    >>> [row["key"] for _, row in merge_assemblies([encode(a) for a in halves]).rows] == [
    ...     c.key for c in whole.conjectures]
    True
    """
    fams = rank_families(f for p in parts for f in p.families)
    key = _ranked_order(fams)
    out = sorted((c for p in parts for c in p.conjectures), key=lambda c: key(_order_in_family(c)))
    rows = sorted((r for p in parts for r in p.rows), key=lambda r: key(r[0]))
    return Assembly(
        out, fams, [r for p in parts for r in p.rejected], sum(p.approvals for p in parts),
        sum(p.seconds for p in parts), set().union(*(p.found for p in parts)),
        [u for p in parts for u in p.unproved], sum(p.proof_seconds for p in parts),
        sum(p.approval_seconds for p in parts), rows,
    )


def _order_in_family(c: Conjecture) -> tuple:
    return (c.family, not c.representative,
            simplicity(c.lhs_numerator, c.lhs_denominator, c.preperiod, c.lhs, c.signs_text, a0=c.terms[0]))


def _ranked_order(fams: Sequence[Family]) -> Callable[[tuple], tuple]:
    """The canonical order of records from their ``_order_in_family``: their family's rank among ``fams`` (a
    family without its representative among them after all), then that order."""
    rank = {f.key: f.rank for f in fams}
    last = len(rank) + 1
    return lambda order: (rank.get(order[0], last), *order)


def regroup(records: Sequence[Conjecture]) -> list[Conjecture]:
    """Family fields for approved records that were each approved on their own (a catalog written before
    families existed): every record keeps its digits; the simplest of each tail class becomes the
    representative, the others get their exact relation G to it (a member whose identity in Z[c] fails forms a
    family of its own).  Records of several constants may be mixed.

    >>> from esma.search import search
    >>> found = search("e", coeff_limit=1, max_period=1, verify_digits=100).conjectures
    >>> plain = [replace(c, family="", representative=False, relation=(1, 0, 0, 1)) for c in found]
    >>> sorted((c.key, c.family, c.relation) for c in regroup(plain)) == sorted(
    ...     (c.key, c.family, c.relation) for c in found)
    True
    """
    groups: dict[tuple[str, str], list[_Member]] = {}
    for c in records:
        m = _member_of_record(c)
        groups.setdefault((c.constant, m.place.key), []).append(m)
    out = []
    for (constant, key), members in groups.items():
        members.sort(key=lambda m: m.order)
        work = _FamilyWork(key, members, rep=members[0])
        _relate(work, minimal_polynomial(constant))
        for m in members:
            rel, _, _, holds = ((1, 0, 0, 1), 0, 0, True) if m is work.rep else work.relations[m.key]
            c = m.record
            assert c is not None
            gain = _gain(c.digits_per_term, c.scf_digits_per_term)
            if holds:
                out.append(replace(c, family=key, representative=m is work.rep, relation=rel, gain=gain))
            else:
                out.append(replace(c, family=f"{key}~{c.key}", representative=True, relation=(1, 0, 0, 1),
                                   gain=gain))
    return out


def _gain(dpt: float, scf: float) -> float:
    """gain = digits per term / those of the simple continued fraction of the same number (DESIGN 7)."""
    return round(dpt / scf, 4) if scf > 0 else 0.0


def _prove(plan: SearchPlan, families: dict[str, _FamilyWork], pending: list[_Pending]):
    """Prove the families of a constant that matches a registry theorem (DESIGN 8): each representative by a
    certificate of the tail lemma (``esma.prover``), each member through its exact relation (a member
    certificate); a formula is proved only once ``esma.checker`` has accepted its certificate.  Returns
    {formula key: (reason, certificate)} and the families left unproved (with the prover's reason).  A stored
    representative proved already keeps its certificate; one that gets proved now is added to ``pending``."""
    from esma import checker, theorems
    from esma.prover import Formula, member_certificate, prove_formula, representative_part

    if minimal_polynomial(plan.constant.text) is not None:  # a quadratic irrational: Lagrange, formula by formula
        return _prove_periodic(plan, families, pending)
    if not theorems.match(plan.constant.text):  # outside the registry (or a decimal literal): all conjectures
        return {}, []
    constant = plan.constant.text
    out = {x.member.key: x for x in pending}
    proofs: dict[str, tuple[str, dict]] = {}
    unproved: list[dict] = []
    for work in families.values():
        rep = work.rep
        if work.approval is None or rep is None or rep.place.tail is None:
            continue
        t = rep.transform
        formula = Formula.from_parts(constant, t.numerator, t.denominator, rep.signs, rep.terms[: rep.start],
                                     rep.form_period, rep.polynomials)
        stored = rep.record
        reused = None
        if stored is not None and stored.status == "proved" and (stored.certificate or {}).get("format") == (
                theorems.FORMAT):
            # a stored proof is kept only if the checker (as it is now) still accepts it
            ok, why = checker.check(stored.certificate, *formula.record())
            reused = (stored.certificate, why) if ok else None
        if reused is not None:
            cert, reason = reused
        else:
            proof = prove_formula(formula)
            if not proof.ok:
                unproved.append({"family": work.key, "lhs": t.text, "signs": signs_to_text(rep.signs),
                                 "reason": proof.reason})
                continue
            cert, reason = proof.certificate, proof.reason
            if rep.key not in out and stored is not None:  # a stored representative now proved: store that
                x = _Pending(rep, _stored_figures(stored), work.key, True, (1, 0, 0, 1))
                pending.append(x)
                out[rep.key] = x
        proofs[rep.key] = (reason, cert)
        full = representative_part(formula, cert, True, rep.key)
        compact = representative_part(formula, cert, False, rep.key)
        todo = []
        for m in work.candidates:
            x = out.get(m.key)
            if m is rep or x is None or x.family != work.key or (m.record is not None and m.record.status == "refuted"):
                continue
            rel, km, kr, _ = work.relations[m.key]
            if kr < 1:  # the shared tail must start past the representative's a_0 (its complete quotients > 1)
                km, kr = km + 1, kr + 1
            mt = m.transform
            todo.append((m.key, (member_certificate(formula, cert, rel, km, kr, _part=full), mt.numerator,
                                 mt.denominator, m.signs, m.terms[: m.start], m.form_period, m.polynomials)))
        if not todo:
            continue
        # the representative's part is checked once for the family, each member's own part after it
        for (key, item), (ok, why) in zip(todo, checker.check_members(full, constant, [x for _, x in todo]),
                                          strict=True):
            if ok:
                item[0]["representative"] = compact
                proofs[key] = (why, item[0])
    return proofs, unproved


def _prove_periodic(plan: SearchPlan, families: dict[str, _FamilyWork], pending: list[_Pending]):
    """``_prove`` for a quadratic irrational c: every eventually periodic formula has its own certificate
    (``esma.prover.prove_periodic``, checked by ``esma.checker``), members as well as representatives (each
    costs a few exact operations in Q(sqrt d)).  A stored representative that gets proved now is added to
    ``pending``; families whose representative could not be proved are returned with the reason."""
    from esma.prover import Formula, prove_periodic

    constant = plan.constant.text
    proofs: dict[str, tuple[str, dict]] = {}
    unproved: list[dict] = []

    def attempt(m: _Member) -> tuple[str, dict] | str:
        if m.kind != "periodic" or not m.polynomials or (m.record is not None and m.record.status == "refuted"):
            return "not eventually periodic"
        t = m.transform
        proof = prove_periodic(Formula.from_parts(constant, t.numerator, t.denominator, m.signs,
                                                  m.terms[: m.start], m.form_period, m.polynomials))
        return (proof.reason, proof.certificate) if proof.ok else proof.reason

    failed: dict[str, str] = {}
    for x in pending:
        found = attempt(x.member)
        if isinstance(found, str):
            failed[x.member.key] = found
        else:
            proofs[x.member.key] = found
    keys = {x.member.key for x in pending}
    for work in families.values():
        rep = work.rep
        if work.approval is None or rep is None:
            continue
        if rep.key not in keys and rep.record is not None and rep.record.status != "proved":
            found = attempt(rep)  # a stored representative now proved: store that
            if not isinstance(found, str):
                proofs[rep.key] = found
                pending.append(_Pending(rep, _stored_figures(rep.record), work.key, True, (1, 0, 0, 1)))
        if rep.key in failed:
            unproved.append({"family": work.key, "lhs": rep.transform.text, "signs": signs_to_text(rep.signs),
                             "reason": failed[rep.key]})
    return proofs, unproved


def hit_group(hit: Hit) -> str:
    """The key by which a search splits its hits into independent units of the families phase: the hit's family
    (the canonical key of its tail), or, for a hit without a canonical tail (whose class members are families of
    their own), a key of its own transform and sign period.  ``assemble`` of the hits of a union of groups is
    ``merge_assemblies`` of the groups' assemblies, so the groups can be assembled apart, on any worker."""
    return hit.family or f"x|{hit.transform}|{hit.period}"


def family_keys(plan: SearchPlan, hits: Iterable[Hit]) -> set[str]:
    """The family keys the hits fall in (what to look up in a catalog before ``assemble``)."""
    keys = set()
    for hit in hits:
        if hit.family:
            keys.add(hit.family)
        else:
            keys.update(m.place.key for m in _members_of_hit(plan, hit, plan.class_index[hit.transform]))
    return keys


def _relate(work: _FamilyWork, modulus: tuple[int, ...] | None = None) -> None:
    """The relation of every member to the family's representative, and whether its identity holds (in Z[c],
    or modulo ``modulus``, the minimal polynomial of an algebraic c: ``esma.quadratic.minimal_polynomial``)."""
    rep = work.rep
    assert rep is not None
    work.relations = {}
    if rep.place.tail is None:  # no canonical tail: every member is a family of its own
        for m in work.candidates:
            work.relations[m.key] = ((1, 0, 0, 1), 0, 0, m is rep)
        return
    rep_pq = (rep.transform.numerator, rep.transform.denominator)
    for m in work.candidates:
        if m is rep:
            continue
        rel, km, kr = _relation(m, rep)
        holds = identity_holds((m.transform.numerator, m.transform.denominator), rep_pq, rel, modulus)
        work.relations[m.key] = (rel, km, kr, holds)


def summarise(conjectures: Iterable[Conjecture]) -> list[Family]:
    """The family summaries of a set of records (members counted among them)."""
    by_key: dict[str, list[Conjecture]] = {}
    for c in conjectures:
        by_key.setdefault(c.family, []).append(c)
    out = []
    for members in by_key.values():
        rep = next((c for c in members if c.representative), None)
        if rep is None:
            continue
        base = any(c.lhs == "c" and c.signs == (1,) for c in members)
        proved = sum(1 for c in members if c.status == "proved")
        out.append(Family.of(rep, len(members), base, proved))
    return out


def rank_families(families: Iterable[Family]) -> list[Family]:
    """Families ranked: gain descending, then simplicity (closed-form period, recurrence order, LHS height),
    then the key; ``rank`` set from 1."""
    ordered = sorted(families, key=Family.rank_key)
    return [replace(f, rank=i) for i, f in enumerate(ordered, 1)]


