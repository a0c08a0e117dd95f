"""The resumable search loop: plan chunks with the engine, run them on an executor, commit each to the catalog.

Each chunk's conjectures and its checkpoint are one transaction (``Catalog.commit_chunk``), so a run killed at
any moment loses at most the chunks in flight, and rerunning the same command resumes with the chunks not yet
committed.  No mathematics and no SQL here: this only wires the engine to the catalog.

A run stops early, leaving the search ``interrupted`` (resumable), in three ways:

* ``deadline`` (a ``time.monotonic()`` value): after the chunk whose commit crosses it (``job.stopped`` is
  ``"deadline"``; ``run`` returns normally);
* Ctrl-C with ``graceful_sigint``: the first SIGINT only asks to stop, the run commits the chunk in flight
  and then raises ``KeyboardInterrupt`` (``job.stopped`` is ``"sigint"``); a second SIGINT aborts at once
  (the transaction in flight, if any, is rolled back);
* any exception, KeyboardInterrupt included: the committed chunks stay and the exception propagates.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
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
    #: Why the run stopped before the last chunk: ``"deadline"``, ``"sigint"``, or None (it finished).
    stopped: str | None = None


def prepare(catalog, expr: str, params: dict[str, Any], plan: SearchPlan | None = None) -> SearchRun:
    """Validate and plan (raises ValueError/TypeError on bad input), then register or resume the search.

    ``plan``: an already laid-out ``plan_search(expr, **params)`` (so a caller that inspected it, e.g. for
    resource limits, does not plan twice).
    """
    if plan is None:
        plan = plan_search(expr, **params)
    sid = catalog.start_search(plan.constant.text, plan.params.to_dict(), len(plan.chunks), esma.__version__)
    done = catalog.done_chunks(sid)
    todo = [i for i in range(len(plan.chunks)) if i not in done]
    return SearchRun(plan, sid, todo)


class _StopRequest:
    """SIGINT handler for the duration of a run: the first Ctrl-C sets ``requested``, the second raises
    KeyboardInterrupt.  Only installed in the main thread (where Python delivers signals)."""

    def __init__(self, notice: Callable[[], None] | None) -> None:
        self.requested = False
        self.notice = notice

    def __call__(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.notice is not None:
            self.notice()


@contextlib.contextmanager
def _graceful_sigint(enabled: bool, notice: Callable[[], None] | None) -> Iterator[_StopRequest | None]:
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield None
        return
    handler = _StopRequest(notice)
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)


def run(
    catalog,
    job: SearchRun,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    on_chunk: Callable[[Any, int, int], None] | None = None,
    *,
    deadline: float | None = None,
    graceful_sigint: bool = False,
    on_stop_request: Callable[[], None] | None = None,
    load_conjectures: int | None = None,
) -> SearchRun:
    """Run the remaining chunks, committing each as it completes; mark the search done at the end.

    ``deadline``: a ``time.monotonic()`` value; the run stops after the first chunk committed at or past it
    (at least one chunk runs), marks the search ``interrupted``, sets ``job.stopped = "deadline"`` and returns.

    ``graceful_sigint``: the first Ctrl-C lets the chunk in flight finish and commit (``on_stop_request`` is
    called at the Ctrl-C, e.g. to say so), then the search is marked ``interrupted`` and KeyboardInterrupt is
    raised with ``job.stopped = "sigint"``; a second Ctrl-C raises at once.  With the serial executor the chunk
    in flight is the one running in this process; with worker processes it is the next one to complete (the
    others running are dropped and recomputed on resume).

    On KeyboardInterrupt (or any other exception) the committed chunks stay, the search is marked
    ``interrupted`` and the exception propagates (the caller tells the user how to resume).
    """
    total = len(job.plan.chunks)
    done = total - len(job.todo)
    job.stopped = None
    chunks = None
    try:
        with _graceful_sigint(graceful_sigint, on_stop_request) as stop:
            chunks = run_chunks(job.plan, job.todo, executor, workers, scheduler)
            for result in chunks:
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
                if done >= total:
                    continue
                if stop is not None and stop.requested:
                    job.stopped = "sigint"
                    raise KeyboardInterrupt
                if deadline is not None and time.monotonic() >= deadline:
                    job.stopped = "deadline"
                    break
            _close(chunks)  # stops the executor's workers (a broken-off run leaves none behind)
    except KeyboardInterrupt:
        _close(chunks)
        # best effort: the status is informative only (the checkpoint rows decide what a rerun resumes)
        with contextlib.suppress(Exception):
            catalog.finish_search(job.search_id, status="interrupted")
        raise
    except Exception:
        _close(chunks)
        with contextlib.suppress(Exception):  # the original failure is the one to report
            catalog.finish_search(job.search_id, status="interrupted")
        raise
    job.summary = catalog.finish_search(job.search_id, status="interrupted" if job.stopped else "done")
    # a table of 40 rows need not read back thousands of records (``None``: all of them)
    job.conjectures = catalog.search_conjectures(job.search_id, limit=load_conjectures)
    return job


def _close(chunks) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
