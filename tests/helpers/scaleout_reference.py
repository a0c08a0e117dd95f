"""The serial reference the scale-out tests compare executors with (shared by tests/scaleout).

Chunks return confirmed hits (``esma.records.Hit``); the comparison is on the hits themselves and, for the
families DESIGN 7 asks to be the same whatever the executor, on the family keys and representatives that the
hits assemble into.
"""

from __future__ import annotations

import json

import esma
from esma.executors import run_chunks
from esma.search import assemble

_serial_cache: dict[tuple, tuple] = {}


def records(results) -> list[str]:
    """Every hit of these chunk results as canonical JSON, sorted: equal lists mean equal results, duplicates
    included."""
    return sorted(json.dumps(h.to_dict(), sort_keys=True) for r in results for h in r.hits)


def families(plan, results) -> list[tuple[str, str]]:
    """(family key, representative's key) of every family the results assemble into, sorted."""
    asm = assemble(plan, [h for r in sorted(results, key=lambda r: r.index) for h in r.hits])
    return sorted((c.family, c.key) for c in asm.conjectures if c.representative)


def serial(expr: str, params: dict):
    """(plan, sorted records, families) of the serial run: the reference, computed once per space and process."""
    key = (expr, tuple(sorted(params.items())))
    if key not in _serial_cache:
        plan = esma.plan_search(expr, **params)
        results = list(run_chunks(plan, range(len(plan.chunks)), "serial"))
        assert [r.index for r in results] == list(range(len(plan.chunks)))  # serial: in index order
        _serial_cache[key] = (plan, records(results), families(plan, results))
    return _serial_cache[key]


def check_same_as_serial(expr: str, params: dict, results) -> None:
    """The chunk results cover the plan once each, hold exactly the serial run's hits, and assemble into the
    same families with the same representatives (in any order of arrival)."""
    plan, want, fams = serial(expr, params)
    assert sorted(r.index for r in results) == list(range(len(plan.chunks))), "a chunk is missing or repeated"
    assert sum(r.candidates for r in results) == plan.candidates
    assert len(want) > 20, "the reference found too little to compare"
    assert records(results) == want
    assert families(plan, list(reversed(results))) == fams
