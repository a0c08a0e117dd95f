"""Executors: run a search plan's chunks serially, in local processes, or on a Dask cluster.

All executors take the same inputs (a constant expression, its search parameters and the chunk indices to
run) and yield ``ChunkResult`` records as chunks finish, in completion order.  Workers only compute; the
caller alone writes results, so a lost worker's chunk is simply recomputed by a rerun.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from esma.search import ChunkResult, SearchPlan, plan_search, run_chunk

__all__ = ["EXECUTORS", "default_workers", "run_chunks"]

EXECUTORS = ("serial", "process", "dask")


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@lru_cache(maxsize=8)
def _plan(expr: str, params: tuple[tuple[str, Any], ...]) -> SearchPlan:
    return plan_search(expr, **dict(params))


def _run_one(expr: str, params: tuple[tuple[str, Any], ...], index: int) -> ChunkResult:
    """Worker entry point: rebuild (once per process) the deterministic plan and run one chunk."""
    return run_chunk(_plan(expr, params), index)


def run_chunks(
    plan: SearchPlan,
    indices: Iterable[int],
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[ChunkResult]:
    """Run the chunks ``indices`` of ``plan`` and yield their results as they complete."""
    indices = list(indices)
    if executor not in EXECUTORS:
        raise ValueError(f"Argument 'executor' must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"Argument 'workers' must be a positive integer, not {workers!r}")
    if scheduler is not None and executor != "dask":
        raise ValueError("Argument 'scheduler' needs executor 'dask'")
    n = workers or default_workers()
    if executor == "serial" or (executor == "process" and (n == 1 or len(indices) <= 1)):
        for i in indices:
            yield run_chunk(plan, i)
        return
    params = tuple(sorted(plan.params.to_dict().items()))
    expr = plan.constant.text
    if executor == "process":
        yield from _run_process(expr, params, indices, n)
    else:
        yield from _run_dask(expr, params, indices, n, scheduler)


def _run_process(expr, params, indices, n) -> Iterator[ChunkResult]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # fork shares the loaded interpreter, numba kernels included; spawn where fork does not exist
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
        pending = set()
        queue = list(indices)
        # keep a bounded window of futures so an interrupted run has little in flight
        while queue or pending:
            while queue and len(pending) < 2 * n:
                pending.add(pool.submit(_run_one, expr, params, queue.pop(0)))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()


def _run_dask(expr, params, indices, n, scheduler) -> Iterator[ChunkResult]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise RuntimeError("the dask executor needs dask[distributed]: pip install 'esma[dask]'") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [client.submit(_run_one, expr, params, i, pure=False, retries=3) for i in indices]
        for f in as_completed(futures):
            yield f.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
