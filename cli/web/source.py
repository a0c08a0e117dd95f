"""What the web pages read, and the one place that knows which catalog API provides it.

The pages show a constant's *families* (DESIGN 7).  Until the catalog has its families table, a family here is
a group of formulas of equal value T(c) (the catalog's ``group``): its id is its smallest formula id, its
representative the simplest member, its relation to every member the identity (equal values), its gain the
best of its members.  :class:`FamilyView` has the fields of the planned ``esma.records.Family``, so the
templates read the same names from either.

When the catalog has the families API (``Catalog.families``, ``count_families``, ``family``, ``family_members``,
``constants_overview``: DESIGN 7), :class:`Source` uses it instead, and converts each ``esma.records.Family`` to
a :class:`FamilyView` by its field names; nothing else in the web layer changes.

Every read goes through :class:`Source`, which opens the catalog read-only (no migration, no write lock).

>>> import tempfile, os.path
>>> from esma.db import Catalog
>>> path = os.path.join(tempfile.mkdtemp(), "c.sqlite")
>>> Catalog(path).close()
>>> src = Source(path)
>>> src.constants(), src.formula(1)
([], None)
>>> src.close()
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from esma.db import Catalog
from esma.records import Conjecture

__all__ = ["KINDS", "SORTS", "STATUSES", "FamilyFilters", "FamilyRow", "FamilyView", "Source"]

KINDS = ("periodic", "polynomial", "exponential", "other")
STATUSES = ("conjecture", "proved", "refuted")
SORTS = ("rank", "gain", "members", "digits", "simplicity")
#: How the families are formed, for the pages to say so (value groups, until the catalog has families).
GROUPING = "formulas of equal value T(c) (the families of DESIGN 7 replace these when the catalog has them)"
FAMILIES = "formulas whose continued fractions share their tail (DESIGN 7)"
_FAMILIES_API = ("families", "count_families", "family", "family_members", "constants_overview")


@dataclass(frozen=True)
class FamilyFilters:
    """The filters and order of a constant's family list (all optional)."""

    kind: str | None = None
    status: str | None = None
    min_gain: float | None = None
    min_digits: int | None = None
    sort: str = "rank"
    descending: bool | None = None


@dataclass(frozen=True)
class FamilyView:
    """A family as the pages show it (the fields of ``esma.records.Family``)."""

    id: int
    constant: str
    key: str
    representative_id: int
    members: int
    proved_members: int
    gain: float | None
    kind: str
    period: int
    order: int
    height: int
    status: str
    status_reason: str
    base: bool
    verified_digits: int
    digits_per_term: float
    scf_digits_per_term: float
    lhs: str
    signs: str
    closed_form: str
    cf_text: str
    rank: int | None = None
    constant_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FamilyRow:
    """A family with its representative's record (for typesetting it in a list)."""

    family: FamilyView
    representative: Conjecture | None


def _height(c: Conjecture) -> int:
    return max((abs(int(v)) for v in (*c.lhs_numerator, *c.lhs_denominator)), default=0)


def relation(conj: Conjecture, family: FamilyView) -> tuple[tuple[int, int], tuple[int, int]]:
    """G with T(c) = G(T_rep(c)) for a member of ``family``: the record's own ``relation`` when it has one
    (families of DESIGN 7), else the identity (members of a value group have equal values)."""
    rel = getattr(conj, "relation", None) or conj.extra.get("relation")
    if rel:
        flat = [int(v) for row in rel for v in (row if isinstance(row, list | tuple) else [row])]
        if len(flat) == 4:
            return (flat[0], flat[1]), (flat[2], flat[3])
    return (1, 0), (0, 1)


def certificate(conj: Conjecture) -> Any:
    """The record's proof certificate (DESIGN 8), or ``None``."""
    cert = getattr(conj, "certificate", None)
    return cert if cert is not None else conj.extra.get("certificate")


class Source:
    """Read-only access to one catalog for the pages (see the module's docstring).

    ``catalog`` is a path or SQLAlchemy URL; raises ``FileNotFoundError`` or ``ValueError`` (one line) when it
    cannot be opened read-only at the schema of this esma.
    """

    def __init__(self, catalog: str | os.PathLike[str] | None) -> None:
        self.catalog = Catalog.open_read_only(catalog)
        self.url = self.catalog.url
        #: True when the catalog has its families (DESIGN 7); else families are groups of equal value.
        self.families_api = all(callable(getattr(self.catalog, name, None)) for name in _FAMILIES_API)
        self.grouping = FAMILIES if self.families_api else GROUPING
        self._constant_ids: dict[str, int] = {}

    # -- the families API (DESIGN 7) -----------------------------------------------------------------------

    def _constant_id(self, text: str) -> int | None:
        if text not in self._constant_ids:
            self._constant_ids = {c["text"]: c["id"] for c in self.catalog.constant_counts()}
        return self._constant_ids.get(text)

    def _from_family(self, fam: Any, rep: Conjecture | None = None) -> FamilyRow:
        """A FamilyView of an ``esma.records.Family`` (by field names: fields it lacks keep their defaults)."""
        values = {name: getattr(fam, name) for name in FamilyView.__dataclass_fields__ if hasattr(fam, name)}
        values["signs"] = values.get("signs") if isinstance(values.get("signs"), str) else (
            "".join("+" if s > 0 else "-" for s in values.get("signs") or ()))
        values.setdefault("constant_id", self._constant_id(fam.constant))
        if rep is None and getattr(fam, "representative_id", None) is not None:
            rep = self.catalog.get(fam.representative_id)
        defaults = {"key": "", "members": 0, "proved_members": 0, "gain": None, "kind": "", "period": 0, "order": 0,
                    "height": 0, "status": "conjecture", "status_reason": "", "base": False, "verified_digits": 0,
                    "digits_per_term": 0.0, "scf_digits_per_term": 0.0, "lhs": "", "closed_form": "", "cf_text": "",
                    "representative_id": rep.id if rep else 0}
        return FamilyRow(FamilyView(**{**defaults, **values}), rep)

    def close(self) -> None:
        self.catalog.close()

    # -- constants ---------------------------------------------------------------------------------------

    def constants(self) -> list[dict[str, Any]]:
        """``id, text, formulas, families, proved_formulas, proved_families, searches`` per constant."""
        if self.families_api:
            return [dict(row) for row in self.catalog.constants_overview()]
        out = []
        for row in self.catalog.constant_counts():
            out.append(
                {
                    "id": row["id"],
                    "text": row["text"],
                    "formulas": row["formulas"],
                    "families": row["groups"],
                    "proved_formulas": row["proved_formulas"],
                    "proved_families": None,  # unknown until families carry a status
                    "searches": row["searches"],
                }
            )
        return out

    def constant(self, constant_id: int) -> dict[str, Any] | None:
        return self.catalog.constant_by_id(constant_id)

    # -- families ----------------------------------------------------------------------------------------

    def _view(self, group: dict[str, Any], constant: dict[str, Any], rank: int | None) -> FamilyRow:
        rep: Conjecture | None = group.get("representative")
        members, proved = int(group["members"]), int(group["proved"])
        fam = FamilyView(
            id=int(group["id"]),
            constant=constant["text"],
            key=group["key"],
            representative_id=rep.id if rep is not None else int(group["id"]),
            members=members,
            proved_members=proved,
            gain=group["gain"],
            kind=rep.kind if rep else "",
            period=rep.period if rep else 0,
            order=len(rep.recurrence) - 1 if rep else 0,
            height=_height(rep) if rep else 0,
            status="proved" if members and proved == members else (rep.status if rep else "conjecture"),
            status_reason=rep.status_reason if rep else "",
            base=bool(rep and rep.lhs == "c" and set(rep.signs) == {1}),
            verified_digits=int(group["digits"] or 0),
            digits_per_term=rep.digits_per_term if rep else 0.0,
            scf_digits_per_term=rep.scf_digits_per_term if rep else 0.0,
            lhs=rep.lhs if rep else "",
            signs=rep.signs_text if rep else "",
            closed_form=rep.closed_form if rep else "",
            cf_text=rep.cf_text if rep else "",
            rank=rank,
            constant_id=constant["id"],
        )
        return FamilyRow(fam, rep)

    def families(
        self, constant: dict[str, Any], filters: FamilyFilters, limit: int, offset: int
    ) -> tuple[list[FamilyRow], int]:
        """One page of a constant's families (``limit`` from ``offset``) and how many pass the filters."""
        if self.families_api:
            chosen = {"kind": filters.kind, "status": filters.status, "min_gain": filters.min_gain,
                      "min_digits": filters.min_digits}
            fams = self.catalog.families(constant["text"], **chosen, sort=filters.sort, descending=filters.descending,
                                         limit=limit, offset=offset)
            total = self.catalog.count_families(constant["text"], **chosen)
            return [self._from_family(f) for f in fams], int(total)
        groups = self.catalog.value_groups(
            constant["id"],
            kind=filters.kind,
            status=filters.status,
            min_gain=filters.min_gain,
            min_digits=filters.min_digits,
            sort=filters.sort,
            descending=filters.descending,
            limit=limit,
            offset=offset,
        )
        if groups:
            total = int(groups[0]["total"])
        else:
            total = self.catalog.count_value_groups(
                constant["id"],
                kind=filters.kind,
                status=filters.status,
                min_gain=filters.min_gain,
                min_digits=filters.min_digits,
            )
        ranked = filters.sort == "rank"
        return [self._view(g, constant, offset + i + 1 if ranked else None) for i, g in enumerate(groups)], total

    def family(self, family_id: int) -> FamilyRow | None:
        """The family with this id, or ``None`` (also for the id of a member that is not the family's id)."""
        if self.families_api:
            fam = self.catalog.family(family_id)
            return None if fam is None else self._from_family(fam)
        first = self.catalog.get(family_id)
        if first is None:
            return None
        constant_id = self.catalog.constant_id_of(family_id)
        group = self.catalog.value_group(constant_id, first.group)
        if group is None or int(group["id"]) != int(family_id):
            return None
        return self._view(group, {"id": constant_id, "text": first.constant}, None)

    def family_of(self, conj: Conjecture) -> FamilyRow | None:
        """The family a formula belongs to."""
        if self.families_api:
            fid = getattr(conj, "family_id", None)
            fam = self.catalog.family(fid) if fid is not None else None
            return None if fam is None else self._from_family(fam)
        constant_id = self.catalog.constant_id_of(conj.id)
        group = self.catalog.value_group(constant_id, conj.group)
        return None if group is None else self._view(group, {"id": constant_id, "text": conj.constant}, None)

    def family_members(self, family: FamilyView, limit: int | None, offset: int = 0) -> list[Conjecture]:
        """Members of a family, representative first, paginated."""
        if self.families_api:
            return self.catalog.family_members(family.id, limit=limit, offset=offset)
        return self.catalog.value_group_members(family.constant_id, family.key, limit=limit, offset=offset)

    # -- formulas and searches ---------------------------------------------------------------------------

    def formula(self, conjecture_id: int) -> Conjecture | None:
        return self.catalog.get(conjecture_id)

    def constant_of(self, conj: Conjecture) -> dict[str, Any] | None:
        cid = self.catalog.constant_id_of(conj.id)
        return None if cid is None else {"id": cid, "text": conj.constant}

    def searches(self, constant: str | None = None) -> list[dict[str, Any]]:
        return self.catalog.searches(constant)
