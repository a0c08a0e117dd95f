"""What the web pages read: one read-only catalog, through the families API (docs/families.md).

A constant's formulas come in *families* (formulas whose continued fractions share their tail); the pages list
a constant's families ranked (``Catalog.families``, ``count_families``), a family's members
(``family_members``), and a formula with its family.  Each listed family comes with its representative's
record, fetched for the whole page in one query (``Catalog.conjectures_by_ids``).

Every read goes through :class:`Source`, which opens the catalog read-only (no migration, no write lock).

>>> import tempfile, os.path
>>> from esma.db import Catalog
>>> path = os.path.join(tempfile.mkdtemp(), "c.sqlite")
>>> Catalog(path).close()
>>> src = Source(path)
>>> src.constants(), src.formula(1), src.family(1)
([], None, None)
>>> src.close()
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from esma.db import Catalog
from esma.records import FAMILY_SORTS, KINDS, STATUSES, Family, Formula

__all__ = ["FAMILY_MEANING", "KINDS", "SORTS", "STATUSES", "FamilyFilters", "FamilyRow", "Matrix", "Source",
           "certificate", "relation"]

SORTS = FAMILY_SORTS
#: What a family is, for the pages to say so.
FAMILY_MEANING = "the formulas of one constant whose continued fractions share their tail"

Matrix = tuple[tuple[int, int], tuple[int, int]]


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
class FamilyRow:
    """A family as the pages show it: the catalog's record, its representative's record (when it was read)
    and the id of its constant (for links)."""

    family: Family
    representative: Formula | None = None
    constant_id: int | None = None


def relation(conj: Formula) -> Matrix:
    """G = ((g11, g12), (g21, g22)) with T(c) = G(T_rep(c)) for a member of a family (the identity for the
    representative).

    >>> from types import SimpleNamespace
    >>> relation(SimpleNamespace(relation=(0, 1, 1, -2)))
    ((0, 1), (1, -2))
    """
    g11, g12, g21, g22 = (int(v) for v in conj.relation)
    return (g11, g12), (g21, g22)


def certificate(conj: Formula) -> Any:
    """The record's proof certificate (docs/proofs.md), or ``None``."""
    return conj.certificate


class Source:
    """Read-only access to one catalog for the pages (see the module's docstring).

    ``catalog`` is a path or SQLAlchemy URL; raises ``FileNotFoundError`` or ``ValueError`` (one line) when it
    cannot be opened read-only at the schema of this esma.
    """

    def __init__(self, catalog: str | os.PathLike[str] | None) -> None:
        self.catalog = Catalog.open_read_only(catalog)
        self.url = self.catalog.url
        self._constant_ids: dict[str, int] = {}

    def close(self) -> None:
        self.catalog.close()

    # -- constants ---------------------------------------------------------------------------------------

    def constants(self) -> list[dict[str, Any]]:
        """``id, text, formulas, families, proved_formulas, proved_families, searches`` per constant, by text."""
        rows = [dict(row) for row in self.catalog.constants_overview()]
        self._constant_ids = {row["text"]: row["id"] for row in rows}
        return rows

    def constant_id(self, text: str) -> int | None:
        """The id of the constant with this text (from ``constants_overview``, read again on a miss)."""
        if text not in self._constant_ids:
            self.constants()
        return self._constant_ids.get(text)

    def constant(self, constant_id: int) -> dict[str, Any] | None:
        """``{"id", "text"}`` of a constant, or ``None``."""
        return self.catalog.constant_by_id(constant_id)

    def constant_of(self, conj: Formula) -> dict[str, Any] | None:
        cid = self.constant_id(conj.constant)
        return None if cid is None else {"id": cid, "text": conj.constant}

    # -- families ----------------------------------------------------------------------------------------

    def families(
        self, constant: dict[str, Any], filters: FamilyFilters, limit: int | None, offset: int
    ) -> tuple[list[FamilyRow], int]:
        """One page of a constant's families (``limit`` from ``offset``; ``None``: all of them) with their
        representatives, and how many families pass the filters."""
        chosen = {"kind": filters.kind, "status": filters.status, "min_gain": filters.min_gain,
                  "min_digits": filters.min_digits}
        fams = self.catalog.families(constant["text"], **chosen, sort=filters.sort, descending=filters.descending,
                                     limit=limit, offset=offset)
        if (limit is None or len(fams) < limit) and (fams or offset == 0):
            total = offset + len(fams)  # the last page: no count query needed
        else:
            total = self.catalog.count_families(constant["text"], **chosen)
        reps = self.catalog.conjectures_by_ids(f.representative_id for f in fams if f.representative_id is not None)
        return [FamilyRow(f, reps.get(f.representative_id), constant["id"]) for f in fams], int(total)

    def family(self, family_id: int, representative: bool = True) -> FamilyRow | None:
        """The family with this id (with its representative's record unless ``representative`` is False), or
        ``None``."""
        fam = self.catalog.family(family_id)
        if fam is None:
            return None
        rep = self.catalog.get(fam.representative_id) if representative and fam.representative_id else None
        return FamilyRow(fam, rep, self.constant_id(fam.constant))

    def family_of(self, conj: Formula) -> FamilyRow | None:
        """The family a formula belongs to (without its representative's record), or ``None``."""
        return None if conj.family_id is None else self.family(conj.family_id, representative=False)

    def family_members(self, family: Family, limit: int | None, offset: int = 0) -> list[Formula]:
        """Members of a family, representative first, then by id; ``limit`` from ``offset``."""
        return self.catalog.family_members(family.id, limit=limit, offset=offset)

    # -- formulas and searches ---------------------------------------------------------------------------

    def formula(self, conjecture_id: int) -> Formula | None:
        return self.catalog.get(conjecture_id)

    def searches(self, constant: str | None = None) -> list[dict[str, Any]]:
        return self.catalog.searches(constant)

