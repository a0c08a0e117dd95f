"""esma.assemble: merging the assemblies of disjoint sets of families, as records and as encoded rows.

What must hold: however the families are split among tasks, ``merge_assemblies`` of the encoded parts gives the
rows of ``merge_assemblies`` of the parts' records, in its order, which is the order of one assembly of all the hits
(the ids a fresh catalog gives, hence a serial and a distributed run agree).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esma.columns import conjecture_columns
from esma.search import assemble, encode, hit_group, merge_assemblies, plan_search, run_chunk


@pytest.fixture(scope="module")
def workload():
    plan = plan_search("tan(1)", coeff_limit=1, max_period=3, verify_digits=120)
    hits = [h for i in range(len(plan.chunks)) for h in run_chunk(plan, i).hits]
    keys = sorted({hit_group(h) for h in hits})
    whole = assemble(plan, hits)
    return plan, hits, keys, whole


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_any_split_merges_to_the_whole(workload, data) -> None:
    plan, hits, keys, whole = workload
    assert len(keys) >= 6 and whole.conjectures
    tasks = data.draw(st.lists(st.integers(0, 3), min_size=len(keys), max_size=len(keys)))
    parts = [assemble(plan, [h for h in hits if tasks[keys.index(hit_group(h))] == t]) for t in sorted(set(tasks))]
    rows = merge_assemblies([encode(p) for p in reversed(parts)]).rows  # in any order of arrival
    assert [row for _, row in rows] == [conjecture_columns(c) for c in whole.conjectures]
    assert [c.key for c in merge_assemblies(parts).conjectures] == [c.key for c in whole.conjectures]


def test_figures_add_up(workload) -> None:
    plan, hits, keys, whole = workload
    halves = [assemble(plan, [h for h in hits if (hit_group(h) in keys[::2]) == side]) for side in (True, False)]
    merged = merge_assemblies([encode(a) for a in halves])
    assert merged.approvals == sum(a.approvals for a in halves) == whole.approvals
    assert merged.found == whole.found
    assert [f.key for f in merged.families] == [f.key for f in whole.families]
    assert [f.rank for f in merged.families] == list(range(1, len(whole.families) + 1))
