"""The resumable search loop: plan chunks with the engine, run them on an executor, commit them to the catalog,
then assemble and store the families.

A search has two phases (``esma.search``).  **Scan**: each chunk's confirmed hits and its checkpoint are one
transaction (``Catalog.commit_chunks``); chunks that found nothing (most of them) are checkpointed in batches,
at the latest every ``EMPTY_FLUSH_SECONDS`` or ``EMPTY_FLUSH_CHUNKS`` chunks, so a run killed at any moment
loses at most the chunks in flight and a few empty ones, which a rerun scans again.  **Families**: once every
chunk is committed, the hits are grouped in families, one representative per family is approved and the
members derived (``esma.search.assemble``), and the formulas are stored with their families in one
transaction that also clears the pending hits (``Catalog.store_formulas``).  A run killed during this phase
resumes with it, without scanning again.  No mathematics and no SQL here: this only wires the engine to the
catalog.

A run stops early, leaving the search ``interrupted`` (resumable), in three ways:

* ``deadline`` (a ``time.monotonic()`` value): after the chunk whose commit crosses it (``job.stopped`` is
  ``"deadline"``; ``run`` returns normally), once the hits found so far are assembled and stored (a family
  found again on resume keeps its stored members, and gains a new representative if a simpler one comes);
* a stop signal with ``graceful_sigint`` (SIGINT, SIGTERM or SIGHUP): the first one only asks to stop.  In the
  scan the run commits the chunk in flight, in the families phase it drops the batch being assembled (nothing
  of it is stored yet; a rerun assembles it again) but lets a batch being stored finish; then it raises
  ``Stopped`` (a ``KeyboardInterrupt`` naming the signal; ``job.stopped`` is ``"sigint"``, ``"sigterm"`` or
  ``"sighup"``).  A second signal aborts at once (the transaction in flight, if any, is rolled back);
* any exception, KeyboardInterrupt included: the committed chunks stay and the exception propagates.

In every case the executor's worker processes are stopped before ``run`` returns or raises (``esma.executors``
also makes them end by themselves if this process is killed).
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
from esma.executors import Pace, Workers, assemble_part
from esma.memory import paused_gc, shared
from esma.records import Family, Hit
from esma.scanning import forget_tails
from esma.search import SearchPlan, family_keys, hit_group, members_to_load, merge_assemblies, plan_search

__all__ = ["STOP_SIGNALS", "SearchRun", "Stopped", "prepare", "run", "stop_signals"]


#: Fields of the hits that repeat across chunks (a family's polynomials, recurrence and key), shared in memory.
SHARED_HIT_FIELDS = ("polynomials", "recurrence", "family")
#: Families assembled, proved and stored per transaction in the families phase.
FAMILY_BATCH = 250
#: A task of the families phase (some families of one batch, run on a worker) aims at this many seconds of
#: work, at the cost per hit measured on the tasks done so far: long enough that shipping the hits and the
#: records is a small part of it, short enough that the workers share a batch and finish together.
FAMILY_TASK_SECONDS = 0.5
#: Hits per task before any task has been timed.
FAMILY_TASK_HITS = 200
#: Empty chunks are checkpointed together: at the latest after this many seconds or chunks.
EMPTY_FLUSH_SECONDS = 2.0
EMPTY_FLUSH_CHUNKS = 256


@dataclass
class SearchRun:
    plan: SearchPlan
    search_id: int
    todo: list[int]
    summary: dict[str, Any] = field(default_factory=dict)
    #: The search's families, ranked (the first ``load`` of them; see ``run``).
    families: list[Family] = field(default_factory=list)
    #: Why the run stopped before the last chunk: ``"deadline"``, ``"sigint"``, or None (it finished).
    stopped: str | None = None
    #: Seconds of the families phase (grouping, approvals, storing), and of its approvals.
    assemble_seconds: float = 0.0
    approvals: int = 0
    rejected: list[dict] = field(default_factory=list)
    #: Seconds spent proving (finding and checking certificates), and the families left unproved with why.
    proof_seconds: float = 0.0
    unproved: list[dict] = field(default_factory=list)
    #: Where this run's time went (seconds): scan, hits (confirming them), families (the whole families phase),
    #: approvals, proofs, store (catalog writes of the formulas); reported in the summary as ``timings``.
    timings: dict[str, float] = field(default_factory=dict)


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


#: The signals that stop a search (SIGHUP where the platform has it): Ctrl-C, ``kill``, a closed terminal.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Stopped(KeyboardInterrupt):
    """A stop asked by the signal ``signum``; a command exits with ``128 + signum`` (130, 143, 129)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def _raise_stopped(signum, frame) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """For the duration of a command: every signal of ``STOP_SIGNALS`` raises ``Stopped`` at once (SIGTERM and
    SIGHUP would otherwise end the process without running any cleanup: worker pools, the search's status).
    The previous handlers are restored.  Does nothing outside the main thread (where Python delivers signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_stopped) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)


class _StopRequest:
    """Stop-signal handler for the duration of a run: the first signal sets ``requested`` (its number), the
    second raises ``Stopped``, unless the run is ``finishing`` (stopping already, with nothing left to stop but
    its last commit and status).  While ``immediate`` (the families phase assembling a batch, which stores
    nothing) the first signal raises at once too.  Only installed in the main thread."""

    def __init__(self, notice: Callable[[], None] | None) -> None:
        self.requested: int | None = None
        self.finishing = False
        self.immediate = False
        self.notice = notice

    def __call__(self, signum, frame) -> None:
        if self.finishing:
            return
        if self.requested is not None or self.immediate:
            self.requested = self.requested or signum
            raise Stopped(signum)
        self.requested = signum
        if self.notice is not None:
            self.notice()

    def stop(self, job: SearchRun) -> None:
        """Honour a requested stop now: the run ends with ``Stopped`` (nothing else is left to do but wrap up)."""
        self.finishing = True  # a further signal would only cut the wrap-up
        job.stopped = signal.Signals(self.requested).name.lower()
        raise Stopped(self.requested)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Work that stores nothing: a stop signal raises at once (one already requested, on entry)."""
        if self.requested is not None:
            raise Stopped(self.requested)
        self.immediate = True
        try:
            yield
        finally:
            self.immediate = False

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """Within ``interruptible`` work, a catalog access a signal must not cut (it would leave a connection
        half-used): a stop asked meanwhile raises once it is done."""
        was, self.immediate = self.immediate, False
        try:
            yield
        finally:
            self.immediate = was
        if was and self.requested is not None:
            raise Stopped(self.requested)


@contextlib.contextmanager
def _graceful_sigint(enabled: bool, notice: Callable[[], None] | None) -> Iterator[_StopRequest | None]:
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield None
        return
    handler = _StopRequest(notice)
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield handler
    finally:
        for sig, old in previous.items():
            if old is not None:
                signal.signal(sig, old)


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
    on_phase: Callable[[str], None] | None = None,
    on_families: Callable[[int, int, int], None] | None = None,
    load: int | None = None,
) -> SearchRun:
    """Run the remaining chunks, committing them as they complete; then store the families; mark the search
    done.

    ``deadline``: a ``time.monotonic()`` value; the run stops after the first chunk committed at or past it
    (at least one chunk runs), marks the search ``interrupted``, sets ``job.stopped = "deadline"`` and returns.

    ``graceful_sigint``: the first stop signal (Ctrl-C, SIGTERM, SIGHUP) lets the chunk in flight finish and
    commit (``on_stop_request`` is called at the signal, e.g. to say so), then the search is marked
    ``interrupted`` and ``Stopped`` is raised with ``job.stopped = "sigint"`` (``"sigterm"``, ``"sighup"``); a
    second signal raises at once.  With the serial executor the chunk in flight is the one running in this
    process; with worker processes it is the next one to complete (the others running are dropped and recomputed
    on resume).  In the families phase the batch being assembled is dropped at once.

    ``on_phase(message)`` hears what the families phase is doing, and ``on_families(done, total, stored)`` how
    far it is (families stored of the total, formulas stored), at its start and after each batch; ``load``
    bounds the families read back into ``job.families`` (``None``: all of them).

    Both phases run on the same workers (``esma.executors.Workers``): the scan's chunks, then the families
    phase's batches of families; the client alone writes to the catalog, in an order that does not depend on
    the executor, so a serial run and a parallel one store the same records under the same ids.  A deadline
    passed in the families phase stops after the batch being stored (the hits stay pending for a rerun).

    On KeyboardInterrupt (or any other exception) the committed chunks stay, the search is marked
    ``interrupted`` and the exception propagates (the caller tells the user how to resume).
    """
    job.stopped = None
    with _graceful_sigint(graceful_sigint, on_stop_request) as stop:
        try:
            with paused_gc(), Workers(job.plan, executor, workers, scheduler) as session:
                _scan(catalog, job, session, on_chunk, deadline, stop, on_phase, on_families)
        except BaseException:
            if stop is not None:
                stop.finishing = True  # the wrap-up below is short: a further signal would only cut it
            # best effort: the status is informative only (the checkpoint rows decide what a rerun resumes), and
            # the original failure is the one to report
            with contextlib.suppress(Exception):
                catalog.finish_search(job.search_id, status="interrupted")
            raise
    proofs = catalog.search_proofs(job.search_id)
    job.summary = catalog.finish_search(
        job.search_id, status="interrupted" if job.stopped else "done", families=proofs["families"],
        approvals=job.approvals, seconds=job.assemble_seconds or None,
    )
    job.families = catalog.families(search_id=job.search_id, limit=load)
    job.timings["proofs"] = job.proof_seconds
    job.timings["families"] = job.assemble_seconds
    job.summary.update(deep_terms=job.plan.params.deep_terms, certified_terms=job.plan.certified_terms)
    job.summary.update(proved=proofs["proved"], proved_families=proofs["proved_families"],
                       proof_seconds=round(job.proof_seconds, 3), unproved_families=job.unproved,
                       timings={k: round(v, 3) for k, v in job.timings.items()})
    return job


def _scan(catalog, job: SearchRun, session: Workers, on_chunk, deadline, stop, on_phase, on_families) -> None:
    """The chunks still to do, committed as they complete (``run``), then the families phase."""
    total = len(job.plan.chunks)
    done = total - len(job.todo)
    hits: list[Hit] | None = [] if not done else None  # this run scans everything: keep its hits at hand
    pool: dict = {}
    pending: list[dict[str, Any]] = []
    last_flush = time.monotonic()

    def flush(extra: dict[str, Any] | None = None) -> None:
        nonlocal last_flush
        batch = [*pending, extra] if extra is not None else list(pending)
        if batch:
            catalog.commit_chunks(job.search_id, batch)
        pending.clear()
        last_flush = time.monotonic()

    chunks = session.chunks(job.todo)
    # a chunk's ``seconds`` is the wall time the user waited for it (since the previous chunk came back), so that
    # the search's seconds are wall-clock however many workers ran chunks side by side; ``scan_seconds`` stays
    # the workers' own kernel time (the scan rate per worker)
    last_result = time.monotonic()
    try:
        for result in chunks:
            now = time.monotonic()
            waited, last_result = now - last_result, now
            item = {"index": result.index, "hits": result.hits, "hit_records": result.hit_records,
                    "candidates": result.candidates, "scanned": result.scanned, "seconds": waited,
                    "scan_seconds": result.scan_seconds}
            job.rejected.extend(result.rejected)
            job.timings["scan"] = job.timings.get("scan", 0.0) + result.scan_seconds
            job.timings["hits"] = job.timings.get("hits", 0.0) + result.seconds - result.scan_seconds
            if result.hits:
                flush(item)  # a chunk with hits commits at once (with the empty ones before it)
                if hits is not None:
                    hits.extend(shared(result.hits, pool, SHARED_HIT_FIELDS))
            else:
                pending.append(item)
                if len(pending) >= EMPTY_FLUSH_CHUNKS or time.monotonic() - last_flush >= EMPTY_FLUSH_SECONDS:
                    flush()
            done += 1
            if on_chunk is not None:
                on_chunk(result, done, total)
            if done >= total:
                continue
            if stop is not None and stop.requested is not None:
                # the stop is decided: a second signal would only cut the commit below
                stop.finishing = True
                flush()
                stop.stop(job)
            if deadline is not None and time.monotonic() >= deadline:
                flush()
                job.stopped = "deadline"
                break
        flush()
    finally:
        _close(chunks)  # a broken-off scan stops the workers (none is left behind); a finished one keeps them
    if job.stopped in (None, "deadline"):
        # at a deadline too: what was found so far is approved and stored, families may grow on resume
        _families_phase(catalog, job, None if job.stopped else hits, on_phase, stop, session,
                        None if job.stopped else deadline, on_families)


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def _families_phase(catalog, job: SearchRun, hits: list[Hit] | None, on_phase, stop: _StopRequest | None,
                    session: Workers, deadline: float | None = None, on_families=None) -> None:
    """Assemble and store the families of every hit the search has pending (phase 2).

    The families, in the order of their keys, are stored ``FAMILY_BATCH`` at a time, each batch in its own
    transaction, so memory holds a few batches of formulas, and a run killed in this phase keeps the batches
    stored (their representatives are not approved again on resume).  Each batch is cut into tasks of about
    ``FAMILY_TASK_SECONDS`` that run on ``session``'s workers; the client reads what the tasks need from the
    catalog (stored representatives and members) as it hands them out, merges a batch's tasks once all are back
    (``merge_assemblies``: the same records, in the same order, as one assembly of the batch) and stores the
    batches in order.  The pending hits are cleared with the last batch.

    A stop signal (``stop``) drops the batches being assembled at once, or lets the batch being stored finish,
    and raises ``Stopped``; a ``deadline`` passed stops after a batch is stored (``job.stopped = "deadline"``).
    """
    t0 = time.perf_counter()
    if stop is not None and stop.requested is not None:  # asked during the last chunk
        stop.stop(job)
    interruptible = stop.interruptible if stop is not None else _nothing
    shielded = stop.shielded if stop is not None else _nothing
    forget_tails()  # the scan's tail tables are no use here
    if hits is None:  # resumed: the hits of earlier runs are in the catalog
        hits = shared(catalog.pending_hits(job.search_id), {}, SHARED_HIT_FIELDS)
    if not hits:
        return
    plan = job.plan
    constant = plan.constant.text
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(hit_group(h), []).append(h)
    order = sorted(groups)
    n_hits = len(hits)
    hits.clear()  # the groups hold them now; each task takes its own (memory falls as the batches are stored)
    batches = [order[b : b + FAMILY_BATCH] for b in range(0, len(order), FAMILY_BATCH)]
    if on_phase is not None:
        on_phase(f"families: {n_hits:,} hits in {len(order):,} families, one approval each")
    if on_families is not None:
        on_families(0, len(order), 0)
    # hits per task: FAMILY_TASK_HITS until tasks have been timed, then FAMILY_TASK_SECONDS of work at the mean
    # cost per hit so far (a task's own time, in its worker)
    pace = Pace(FAMILY_TASK_SECONDS, first=FAMILY_TASK_HITS)
    tasks_of = [0] * len(batches)  # tasks handed out per batch (final once the next batch starts)
    cut = [False] * len(batches)  # whether all of a batch's tasks are handed out

    def tasks():
        for bi, keys in enumerate(batches):
            with shielded():
                part = [h for key in keys for h in groups[key]]
                stored_reps = catalog.family_representatives(constant, family_keys(plan, part))
                members = {k: catalog.family_records(constant, k) for k in members_to_load(plan, part, stored_reps)}
            task: list[Hit] = []
            budget = pace.size()
            for ki, key in enumerate(keys):
                task.extend(groups.pop(key))
                if len(task) >= budget or ki == len(keys) - 1:
                    sub_reps = {k: v for k in family_keys(plan, task) if (v := stored_reps.get(k)) is not None}
                    sub_members = {k: members[k] for k in sub_reps if k in members}
                    tasks_of[bi] += 1
                    cut[bi] = ki == len(keys) - 1
                    yield (bi, len(task)), assemble_part, (session.expr, session.params, task, sub_reps,
                                                           sub_members)
                    task = []
                    budget = pace.size()

    parts: dict[int, list] = {}
    stored_total = next_batch = 0
    results = session.map(tasks())
    try:
        while next_batch < len(batches):
            # approving and proving stores nothing: a stop drops the batches in flight (a rerun assembles them)
            with interruptible():
                (bi, n_task_hits), asm = next(results)
            pace.record(n_task_hits, asm.seconds)
            parts.setdefault(bi, []).append(asm)
            while next_batch < len(batches) and cut[next_batch] and len(parts.get(next_batch, ())) == (
                    tasks_of[next_batch]):
                merged = merge_assemblies(parts.pop(next_batch))
                last = next_batch == len(batches) - 1
                t_store = time.perf_counter()
                catalog.store_columns(job.search_id, constant, [row for _, row in merged.rows], found=merged.found,
                                      clear_hits=last)
                job.timings["store"] = job.timings.get("store", 0.0) + time.perf_counter() - t_store
                job.timings["approvals"] = job.timings.get("approvals", 0.0) + merged.approval_seconds
                stored_total += len(merged.rows)
                job.rejected.extend(merged.rejected)
                job.approvals += merged.approvals
                job.proof_seconds += merged.proof_seconds
                job.unproved.extend(merged.unproved)
                next_batch += 1
                done = sum(len(b) for b in batches[:next_batch])
                if on_families is not None:
                    on_families(done, len(order), stored_total)
                if on_phase is not None and on_families is None and not last:
                    on_phase(f"families: {done:,}/{len(order):,} stored ({stored_total:,} formulas)")
                if stop is not None and stop.requested is not None:  # asked while storing: stop once stored
                    stop.stop(job)
                if not last and deadline is not None and time.monotonic() >= deadline:
                    job.stopped = "deadline"
                    return
    finally:
        _close(results)  # a stopped phase drops the tasks in flight with the workers
        job.assemble_seconds = time.perf_counter() - t0


def _close(chunks) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
