"""The ESMA search: transforms x sign periods -> certified expansions -> patterns -> families -> approval.

A search runs in stages, each in its own module, data flowing one way:

1. **Plan** (``esma.plan``): the parameters, the LHS space at the constant (of T and -T the positive one), its
   translation classes and deterministic chunks.
2. **Scan** (``esma.scanning.run_chunk``, in chunks that workers can run anywhere): certified terms of every
   candidate, Berlekamp–Massey on the paper's window and the lag test of the deep search beyond it, hits
   confirmed exactly and given closed forms.
3. **Families** (``esma.assemble.assemble``): hits placed on canonical tails, one representative per family
   approved numerically, members derived through exact relations, proofs checked.

This module runs the three in one process and returns the result; ``esma.cli.runner`` runs them against a
catalog, resumably, on an executor.  No stage does I/O.

>>> result = search("exp(2)", coeff_limit=1, max_period=1, verify_digits=200)   # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from esma.assemble import (
    Assembly,
    assemble,
    encode,
    family_keys,
    hit_group,
    members_to_load,
    merge_assemblies,
    rank_families,
    regroup,
    summarise,
)
from esma.plan import Chunk, SearchParams, SearchPlan, distinct_values, plan_search, translation_classes
from esma.records import Conjecture, Family
from esma.scanning import ChunkResult, run_chunk, scan_chunk

__all__ = [
    "Assembly",
    "Chunk",
    "ChunkResult",
    "SearchParams",
    "SearchPlan",
    "SearchResult",
    "assemble",
    "distinct_values",
    "encode",
    "family_keys",
    "hit_group",
    "members_to_load",
    "merge_assemblies",
    "merge_results",
    "plan_search",
    "rank_families",
    "regroup",
    "run_chunk",
    "scan_chunk",
    "search",
    "summarise",
    "translation_classes",
]


@dataclass
class SearchResult:
    """All conjectures of a search (one record per formula, each with its family) and the ranked families."""

    constant: str
    params: SearchParams
    conjectures: list[Conjecture]
    candidates: int
    hits: int
    seconds: float
    rejected: list[dict] = field(default_factory=list)
    scan_seconds: float = 0.0
    families: list[Family] = field(default_factory=list)
    scanned: int = 0
    approvals: int = 0
    proof_seconds: float = 0.0
    unproved: list[dict] = field(default_factory=list)

    @property
    def candidates_per_second(self) -> float:
        return self.candidates / self.seconds if self.seconds > 0 else 0.0

    @property
    def scan_candidates_per_second(self) -> float:
        """The scan rate: candidates covered per second of scanning, approvals excluded."""
        return self.candidates / self.scan_seconds if self.scan_seconds > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "constant": self.constant,
            "params": self.params.to_dict(),
            "candidates": self.candidates,
            "scanned": self.scanned,
            "seconds": round(self.seconds, 3),
            "candidates_per_second": round(self.candidates_per_second, 1),
            "scan_seconds": round(self.scan_seconds, 3),
            "scan_candidates_per_second": round(self.scan_candidates_per_second, 1),
            "hits": self.hits,
            "conjectures": len(self.conjectures),
            "families": len(self.families),
            "approvals": self.approvals,
            "proved": sum(1 for c in self.conjectures if c.status == "proved"),
            "proved_families": sum(1 for f in self.families if f.status == "proved"),
            "proof_seconds": round(self.proof_seconds, 3),
        }

    def groups(self) -> dict[str, list[Conjecture]]:
        """Conjectures keyed by value group (same T(c) under several sign periods, or equal values)."""
        out: dict[str, list[Conjecture]] = {}
        for c in self.conjectures:
            out.setdefault(c.group, []).append(c)
        return out

    def family(self, key: str) -> list[Conjecture]:
        """The members of the family ``key`` (representative first)."""
        return [c for c in self.conjectures if c.family == key]



# ------------------------------------------------------------------------------------------------ the whole search


def search(
    expr: str,
    progress: Callable[[ChunkResult, int, int], None] | None = None,
    reference: bool = False,
    **params: Any,
) -> SearchResult:
    """Search ``expr`` for signed continued fraction formulas and return the approved conjectures and families.

    Parameters are those of ``SearchParams`` (degree, coeff_limit, min_period, max_period, depth, digits,
    verify_digits, margin, min_digits, chunk_size).  ``progress(chunk_result, done, total)`` is called after each
    chunk.  ``reference=True`` runs the pure-Python twins of the kernels instead (same results, slower).
    Nothing found is an empty list, not an error.
    """
    plan = plan_search(expr, **params)
    t0 = time.perf_counter()
    results = []
    for i in range(len(plan.chunks)):
        r = run_chunk(plan, i, reference=reference)
        results.append(r)
        if progress is not None:
            progress(r, i + 1, len(plan.chunks))
    return merge_results(plan, results, time.perf_counter() - t0)


def merge_results(plan: SearchPlan, results: list[ChunkResult], seconds: float) -> SearchResult:
    """Assemble the families of the chunks' hits; conjectures ordered by family rank, representative first."""
    t0 = time.perf_counter()
    ordered = sorted(results, key=lambda r: r.index)
    asm = assemble(plan, [h for r in ordered for h in r.hits])
    return SearchResult(
        constant=plan.constant.text,
        params=plan.params,
        conjectures=asm.conjectures,
        candidates=sum(r.candidates for r in results),
        hits=sum(len(r.hits) for r in results),
        seconds=seconds + time.perf_counter() - t0,
        rejected=[x for r in ordered for x in r.rejected] + asm.rejected,
        scan_seconds=sum(r.scan_seconds for r in results),
        families=asm.families,
        scanned=sum(r.scanned for r in results),
        approvals=asm.approvals,
        proof_seconds=asm.proof_seconds,
        unproved=asm.unproved,
    )

