"""The serial reference the scale-out tests compare executors with (shared by tests/scaleout)."""

from __future__ import annotations

import json

import esma
from esma.executors import run_chunks

_serial_cache: dict[tuple, tuple] = {}


def records(results) -> list[str]:
    """Every conjecture of these chunk results as canonical JSON, sorted: equal lists mean equal results,
    duplicates included."""
    out = []
    for r in results:
        for c in r.conjectures:
            d = c.to_dict()
            d.pop("id", None)
            out.append(json.dumps(d, sort_keys=True, default=str))
    return sorted(out)


def serial(expr: str, params: dict):
    """(plan, sorted records) of the serial run: the reference, computed once per space and process."""
    key = (expr, tuple(sorted(params.items())))
    if key not in _serial_cache:
        plan = esma.plan_search(expr, **params)
        results = list(run_chunks(plan, range(len(plan.chunks)), "serial"))
        assert [r.index for r in results] == list(range(len(plan.chunks)))  # serial: in index order
        _serial_cache[key] = (plan, records(results))
    return _serial_cache[key]


def check_same_as_serial(expr: str, params: dict, results) -> None:
    """The chunk results cover the plan once each and hold exactly the serial run's conjectures."""
    plan, want = serial(expr, params)
    assert sorted(r.index for r in results) == list(range(len(plan.chunks))), "a chunk is missing or repeated"
    assert sum(r.candidates for r in results) == plan.candidates
    assert len(want) > 50, "the reference found too little to compare"
    assert records(results) == want
