"""The resumable search loop: plan chunks with the engine, run them on an executor, commit each to the catalog.

Each chunk's conjectures and its checkpoint are one transaction (``Catalog.commit_chunk``), so a run killed at
any moment loses at most the chunks in flight, and rerunning the same command resumes with the chunks not yet
committed.  No mathematics and no SQL here: this only wires the engine to the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import esma
from esma.executors import run_chunks
from esma.records import Conjecture
from esma.search import SearchPlan, plan_search

__all__ = ["SearchRun", "prepare", "run"]


@dataclass
class SearchRun:
    plan: SearchPlan
    search_id: int
    todo: list[int]
    summary: dict[str, Any] = field(default_factory=dict)
    conjectures: list[Conjecture] = field(default_factory=list)


def prepare(catalog, expr: str, params: dict[str, Any]) -> SearchRun:
    """Validate and plan (raises ValueError/TypeError on bad input), then register or resume the search."""
    plan = plan_search(expr, **params)
    sid = catalog.start_search(plan.constant.text, plan.params.to_dict(), len(plan.chunks), esma.__version__)
    done = catalog.done_chunks(sid)
    todo = [i for i in range(len(plan.chunks)) if i not in done]
    return SearchRun(plan, sid, todo)


def run(
    catalog,
    job: SearchRun,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    on_chunk: Callable[[Any, int, int], None] | None = None,
) -> SearchRun:
    """Run the remaining chunks, committing each as it completes; mark the search done at the end.

    On KeyboardInterrupt the committed chunks stay, the search is marked ``interrupted`` and the exception
    propagates (the caller tells the user how to resume).
    """
    total = len(job.plan.chunks)
    done = total - len(job.todo)
    try:
        for result in run_chunks(job.plan, job.todo, executor, workers, scheduler):
            catalog.commit_chunk(
                job.search_id,
                result.index,
                list(result.conjectures),
                result.candidates,
                result.hits,
                result.seconds,
                result.scan_seconds,
            )
            done += 1
            if on_chunk is not None:
                on_chunk(result, done, total)
    except KeyboardInterrupt:
        catalog.finish_search(job.search_id, status="interrupted")
        raise
    job.summary = catalog.finish_search(job.search_id)
    job.conjectures = catalog.search_conjectures(job.search_id)
    return job
