"""Families for catalogs written before families existed (schema revision 0003 added them).

The migration adds the columns; computing the families needs the engine, which the catalog layer must not
import, so the command line does it the first time it opens such a catalog: ``backfill`` reads the formulas
without a family, groups them (``esma.search.regroup``: each keeps the digits it was approved to on its own)
and stores them back with their families.  No mathematics and no SQL here.
"""

from __future__ import annotations

from collections.abc import Callable

from esma.search import regroup

__all__ = ["backfill"]


def backfill(catalog, notice: Callable[[str], None] | None = None) -> int:
    """Give every formula of ``catalog`` without a family its family; returns how many were updated."""
    if not catalog.unassigned(limit=1):
        return 0
    records = catalog.unassigned()
    if notice is not None:
        notice(f"computing the families of {len(records):,} formulas stored before families existed")
    # a stored family of the same constant and key (from a newer search) takes part in the grouping
    pairs = {(c.constant, c.family) for c in regroup(records)}
    known = {r.key for r in records}
    for constant, key in sorted(pairs):
        records.extend(r for r in catalog.family_records(constant, key) if r.key not in known)
    grouped = regroup(records)
    catalog.store_formulas(None, grouped)
    return len(grouped)
