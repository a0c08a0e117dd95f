"""Executors: run a search plan's chunks serially, in local processes, or on a Dask cluster.

All executors take the same inputs (a search plan and the chunk indices to run) and yield ``ChunkResult``
records as chunks finish, in completion order.  Workers only compute: a chunk is a pure function of
``(constant text, parameters, chunk index)`` (``_run_one`` rebuilds the deterministic plan from those, once
per worker process), so it can run anywhere and be run twice with the same result.  The caller alone writes
results (``esma.cli.runner`` commits each chunk with its checkpoint), which is what makes losing a worker
harmless: its chunk is recomputed, by the executor when it can tell (a dead pool process, a dead Dask
worker) and otherwise by a rerun, which resumes with the chunks not yet committed.

* ``serial``: in this process, in index order (the reference the others must equal).
* ``process``: a local ``ProcessPoolExecutor`` of ``workers`` processes (default: the CPUs this process may
  use).  Pool processes ignore SIGINT, SIGTERM and SIGHUP, so a stop signal sent to the whole process group
  (Ctrl-C in a terminal, a closed terminal, ``kill -- -PGID``) is handled once, by the caller, which stops
  them; and they end by themselves when the caller dies without stopping them (``kill -9``): on Linux the
  kernel kills them (``PR_SET_PDEATHSIG``), elsewhere a watchdog thread notices that their parent changed.
  A pool whose process died is replaced and the lost chunks resubmitted.
* ``dask``: one task per batch of consecutive chunks (sized by ``Pace``) on ``scheduler``
  (``tcp://host:port``), or on a ``LocalCluster`` of ``workers`` single-threaded worker processes started (and
  stopped) here when no scheduler is given.  Tasks have ``retries``, and the scheduler reschedules the tasks of
  a worker that died.  The worker processes of a ``LocalCluster`` started here end by themselves when this
  process dies (Distributed's processes watch their parent).

Workers import the engine only (``esma.search``), never the catalog or the command line.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from esma.memory import paused_gc
from esma.records import Conjecture, Hit
from esma.search import Assembly, ChunkResult, SearchPlan, assemble, plan_search, run_chunk

__all__ = [
    "DASK_BATCH_MAX",
    "DASK_RETRIES",
    "EXECUTORS",
    "POOL_RESTARTS",
    "Pace",
    "Workers",
    "dask_setup",
    "default_workers",
    "discard_prestarted",
    "prestart",
    "run_chunks",
]

EXECUTORS = ("serial", "process", "dask")
#: Times a Dask task is rerun after it raised (a worker that dies is handled by the scheduler itself, up to
#: ``distributed.scheduler.allowed-failures`` times per task).
DASK_RETRIES = 3
#: Times the process pool is replaced after one of its processes died (OOM killer, kill -9) before the run
#: fails; a chunk that kills its worker every time must not loop forever.
POOL_RESTARTS = 3

Params = tuple[tuple[str, Any], ...]


def default_workers() -> int:
    """The CPUs this process may use (its affinity mask, not the machine's count, under taskset/cgroups)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: Plans by (constant text, parameters), newest last: built once per process.  The process executor stores the
#: caller's plan here before forking, so pool processes inherit it instead of rebuilding it (seconds for a large
#: space: the LHS space is deduplicated by value).
_PLANS: dict[tuple[str, Params], SearchPlan] = {}
_PLANS_KEPT = 4


def _key(plan: SearchPlan) -> tuple[str, Params]:
    """What a worker rebuilds the plan from: the canonical constant text and the parameters."""
    return plan.constant.text, tuple(sorted(plan.params.to_dict().items()))


def _plan(expr: str, params: Params) -> SearchPlan:
    key = (expr, params)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _remember(key, plan_search(expr, **dict(params)))
    return plan


def _remember(key: tuple[str, Params], plan: SearchPlan) -> SearchPlan:
    _PLANS.pop(key, None)
    _PLANS[key] = plan
    while len(_PLANS) > _PLANS_KEPT:
        del _PLANS[next(iter(_PLANS))]
    return plan


def _run_one(expr: str, params: Params, index: int, teach: tuple = ()) -> ChunkResult:
    """Worker entry point: rebuild (once per process) the deterministic plan and run one chunk.

    Only plain data crosses the wire (the canonical constant text, the parameters, an index), never the plan
    itself: plans hold certified balls and transform objects that are cheaper to rebuild than to ship.
    """
    with paused_gc():  # as the serial executor runs chunks (``esma.memory``: the collector costs, frees nothing)
        return run_chunk(_plan(expr, params), index, teach=teach)


def assemble_part(
    expr: str,
    params: Params,
    hits: list[Hit],
    stored_reps: dict[str, Conjecture],
    members: dict[str, list[Conjecture]],
) -> Assembly:
    """Worker entry point of the families phase: ``esma.assemble.assemble`` of some families' hits.

    ``stored_reps``: the catalog's representatives of those families; ``members``: the stored members of the
    families whose members ``esma.assemble.members_to_load`` says the assembly reads (read by the caller, so
    that workers never touch the catalog).
    """
    from esma.scanning import forget_tails

    forget_tails()  # the scan's tail tables are no use here

    def load_members(key: str) -> list[Conjecture]:
        return members[key]  # a key the caller did not read is a bug to see, not an empty family

    return assemble(_plan(expr, params), hits, stored_reps=stored_reps, load_members=load_members)


#: A Dask task runs up to this many chunks, aiming at about DASK_TASK_SECONDS of work.
DASK_BATCH_MAX = 64
DASK_TASK_SECONDS = 0.5


class Pace:
    """How much work the next task gets: ``first`` units until tasks have been timed, then as many units as take
    ``seconds`` at the mean time per unit so far (at least 1, at most ``most``).  Units are what the caller
    counts: chunks of a Dask task, hits of a families-phase task.

    >>> pace = Pace(0.5, first=1, most=64)
    >>> pace.size()
    1
    >>> pace.record(4, 0.1)  # 4 units took 0.1 s: 20 fit in half a second
    >>> pace.size()
    20
    """

    def __init__(self, seconds: float, first: int, most: int | None = None) -> None:
        self.target = seconds
        self.first = first
        self.most = most
        self.units = 0
        self.seconds = 0.0

    def record(self, units: int, seconds: float) -> None:
        self.units += units
        self.seconds += seconds

    def size(self) -> int:
        if not self.units or self.seconds <= 0:
            return self.first
        n = max(1, int(self.target * self.units / self.seconds))
        return n if self.most is None else min(self.most, n)


def _run_batch(expr: str, params: Params, indices: list[int]) -> list[ChunkResult]:
    """Dask task: several chunks in a row, each with its own result (the client still commits per chunk)."""
    plan = _plan(expr, params)
    with paused_gc():
        return [run_chunk(plan, i) for i in indices]


class _Tails:
    """The tails the workers met lately (``ChunkResult.learned`` of the last results), handed to the next chunks
    so that each worker learns from the others: a tail is then worked out (Berlekamp–Massey over its certified
    terms, its closed form) about once per search, not once per worker.  Only an economy: a chunk's result is
    the same whatever it is taught."""

    def __init__(self, results: int) -> None:
        self.recent: deque[tuple] = deque(maxlen=results)

    def record(self, result: ChunkResult) -> None:
        if result.learned:
            self.recent.append(result.learned)

    def teach(self) -> tuple:
        return tuple(t for learned in self.recent for t in learned)


def _check(plan: SearchPlan, executor: str, workers: int | None, scheduler: str | None) -> None:
    if executor not in EXECUTORS:
        raise ValueError(f"Argument 'executor' must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"Argument 'workers' must be a positive integer, not {workers!r}")
    if scheduler is not None and executor != "dask":
        raise ValueError("Argument 'scheduler' needs executor 'dask'")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValueError(f"Argument 'scheduler' must be an address like tcp://host:8786, not {scheduler!r}")


def run_chunks(
    plan: SearchPlan,
    indices: Iterable[int],
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[ChunkResult]:
    """Run the chunks ``indices`` of ``plan`` and yield their results as they complete.

    ``workers``: processes for ``process``, worker processes of the local cluster for ``dask`` (ignored with
    a ``scheduler``, whose cluster has the workers it has); default: the CPU count.  Arguments are checked
    before anything starts, so bad input raises ``ValueError`` at the call, not at the first ``next()``.
    The workers are stopped when the iterator is exhausted or closed (``Workers`` keeps them for more work).
    """
    indices = list(indices)
    _check(plan, executor, workers, scheduler)
    bad = [i for i in indices if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(plan.chunks)]
    if bad:
        raise ValueError(f"Chunk indices must be in [0, {len(plan.chunks)}), not {bad[:5]}")
    if not indices:  # nothing left (a finished search resumed): start no pool and no cluster
        return iter(())
    return _chunks_then_close(Workers(plan, executor, workers, scheduler), indices)


def _chunks_then_close(session: Workers, indices: list[int]) -> Iterator[ChunkResult]:
    try:
        yield from session.chunks(indices)
    finally:
        session.close()


def _run_serial(plan: SearchPlan, indices: list[int]) -> Iterator[ChunkResult]:
    for i in indices:
        yield run_chunk(plan, i)


def _ignore_sigint() -> None:
    """Pool process initializer: Ctrl-C is the parent's to handle (it stops the run and tells how to resume);
    a worker dying of it would only print a KeyboardInterrupt traceback per process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignore_stop_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP are the parent's to handle: it stops its workers once the chunk in flight
    is saved.  A worker dying of a signal sent to the whole process group would break the pool, which the parent
    would then replace, for nothing."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


#: Seconds between two looks of the watchdog thread at a worker's parent (where the kernel cannot be asked).
WATCHDOG_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """End this worker process when ``parent`` (the process that started it) ends, however it ends.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``); a parent already
    gone when this runs is caught by comparing ``os.getppid()`` (an orphan has been adopted by another process).
    Elsewhere, or if ``prctl`` fails, a daemon thread compares ``os.getppid()`` every ``WATCHDOG_SECONDS``.
    Only for processes started by the main thread of their parent: the kernel's signal follows the *thread*
    that forked, which for the pools of ``run_chunks`` is the caller's thread.
    """
    if _pdeathsig():
        if os.getppid() != parent:
            os._exit(1)
        return
    _watch_parent(parent)


def _pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="esma-parent-watchdog", daemon=True).start()


def _worker_init(parent: int | None = None) -> None:
    """Pool process initializer: ignore the stop signals (see ``_ignore_stop_signals``), end with ``parent``
    (``_die_with_parent``), and load the scan kernels at once, so a pool started early (``prestart``) is ready
    when the first chunk arrives."""
    _ignore_stop_signals()
    if parent is not None:
        _die_with_parent(parent)
    from esma.transducer import warm

    warm()


def _noop() -> None:
    return None


def _new_pool(n: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork shares the loaded interpreter (and the plan, see _remember); spawn where fork does not exist
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    return ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),))


#: Pools started by ``prestart``, by (constant text, parameters), waiting for their ``run_chunks``.
_PRESTARTED: dict[tuple[str, Params], Any] = {}


def prestart(plan: SearchPlan, executor: str = "process", workers: int | None = None) -> None:
    """Start the process pool that ``run_chunks(plan, ..., "process", workers)`` will use, now.

    Its processes then load the Numba kernels (about a second of start-up) while the caller does its own
    preparation (opening the catalog, finding the chunks to resume).  Does nothing for other executors or when
    one process will do.  A pool nobody claims must be released with ``discard_prestarted``.
    """
    n = workers or default_workers()
    if executor != "process" or n <= 1 or len(plan.chunks) <= 1:
        return
    key = _key(plan)
    discard_prestarted()
    _remember(key, plan)  # inherited by the forked processes
    pool = _new_pool(min(n, len(plan.chunks)))
    for _ in range(min(n, len(plan.chunks))):
        pool.submit(_noop)  # starts the processes (and their initializer) now rather than at the first chunk
    _PRESTARTED[key] = pool


def discard_prestarted() -> None:
    """Shut down any pool ``prestart`` started that no run claimed."""
    while _PRESTARTED:
        _, pool = _PRESTARTED.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def dask_setup(worker: Any) -> None:
    """Dask preload hook (``preload=["esma.executors"]``): the worker process ignores SIGINT.

    Used for the ``LocalCluster`` this module starts, whose worker processes are in the client's process group:
    a terminal's Ctrl-C reaches them too, and the client alone should handle it (stop, say how to resume) rather
    than every worker print a KeyboardInterrupt traceback.  Not for workers a user starts with ``dask worker``
    in a terminal of their own, where Ctrl-C is how they stop them.

    The same goes for what an interrupted run makes a busy worker log as the cluster closes under it ("Async
    instruction ... ended with CancelledError", and a heartbeat to the scheduler that just closed): expected
    then, and noise on the client's stderr.
    """
    import threading

    if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
        _ignore_sigint()
    logging.getLogger("distributed.worker.state_machine").addFilter(_drop_cancelled_on_close)
    logging.getLogger("distributed.worker").addFilter(_drop_heartbeat_on_close)


def _drop_cancelled_on_close(record: logging.LogRecord) -> bool:
    return "ended with CancelledError" not in record.getMessage()


def _drop_heartbeat_on_close(record: logging.LogRecord) -> bool:
    # A worker busy in a chunk when the client closes its own cluster (Ctrl-C) may send one more heartbeat to
    # the scheduler that just went away; in a cluster this module started and stops, that is the close itself.
    return "Failed to communicate with scheduler during heartbeat" not in record.getMessage()


def _start_local_cluster(n: int):
    """A LocalCluster of ``n`` single-threaded worker processes that leave Ctrl-C to the client.

    Worker processes with one thread each: the kernels hold the GIL, so threads would not add speed.
    ``silence_logs`` keeps the cluster's INFO chatter off stderr (which carries only progress and errors).  No
    dashboard; the scheduler still serves its small HTTP API (health, metrics) and, left alone, wants port 8787
    and warns on stderr when another cluster has it: it gets any free loopback port instead.  The preload runs
    ``dask_setup`` in every worker process as it starts (a replacement for a lost worker included); only a
    Ctrl-C in the second or so a worker process takes to start can still reach it.
    """
    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.WARNING,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        preload=[__name__],
    )


#: Seconds to reach a scheduler given by address (Dask's own default is 30): a mistyped address should fail
#: while the user is still looking at the terminal.
DASK_CONNECT_TIMEOUT = 10


def _connect(client_class, scheduler: str):
    """A client of the scheduler at ``scheduler``, or ``ConnectionError`` with what to check."""
    try:
        return client_class(scheduler, timeout=DASK_CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {scheduler} within {DASK_CONNECT_TIMEOUT} s ({exc}); is "
            "'dask scheduler' running there, and the port open from here?"
        ) from None



# ------------------------------------------------------------------------------------------- one search's workers

#: A task of ``Workers.map``: a tag the caller knows it by, a module-level function, and its arguments (plain data).
Task = tuple[Any, Callable[..., Any], tuple]


class Workers:
    """The workers of one search, for both of its phases: the scan's chunks (``chunks``), then the families
    phase's batches (``map`` of ``assemble_part``), on the same processes: a process pool or a Dask cluster is
    started once per search, and stopped by ``close`` (or leaving the ``with`` block).

    Tasks are pure functions of plain data; results come back in completion order with the caller's tag, so the
    caller alone orders and writes them.  A task lost with its worker is run again (a replaced process pool, the
    Dask scheduler's retries); a task that kills its worker every time fails the run after ``POOL_RESTARTS``
    replaced pools (or Dask's allowed failures).

    >>> from esma.search import plan_search
    >>> plan = plan_search("e", coeff_limit=1, max_period=1)
    >>> with Workers(plan, "serial") as w:
    ...     sorted(tag for tag, _ in w.map([(i, pow, (i, 2)) for i in range(3)]))
    [0, 1, 2]
    """

    def __init__(self, plan: SearchPlan, executor: str = "serial", workers: int | None = None,
                 scheduler: str | None = None) -> None:
        _check(plan, executor, workers, scheduler)
        self.plan = plan
        self.executor = executor
        self.n = workers or default_workers()
        self.scheduler = scheduler
        self.expr, self.params = _key(plan)
        _remember((self.expr, self.params), plan)  # inherited by forked pool processes; found by serial tasks
        self._pool = None
        self._cluster = None
        self._client = None

    @property
    def parallel(self) -> bool:
        """Whether tasks run in other processes (not in this one, one after the other)."""
        return self.executor == "dask" or (self.executor == "process" and self.n > 1)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------------- the scan

    def chunks(self, indices: Iterable[int]) -> Iterator[ChunkResult]:
        """The results of the chunks ``indices``, as they complete."""
        indices = list(indices)
        if not indices:
            return
        if not self.parallel or (self.executor == "process" and len(indices) <= 1 and self._pool is None):
            yield from _run_serial(self.plan, indices)
            return
        if self.executor == "process":
            # a result's tails reach the tasks handed out while the next few results come in, which every worker
            # is then likely to run one of
            tails = _Tails(2 * self.n)
            tasks = ((i, _run_one, (self.expr, self.params, i, tails.teach())) for i in indices)
            inner = self._map_process(tasks, min(self.n, len(indices)))
            try:
                for _, result in inner:
                    tails.record(result)
                    yield result
            finally:
                inner.close()  # broken off: the pool goes with the chunks it holds
            return
        # Dask: tasks of consecutive chunks, sized from the chunks seen so far to take about DASK_TASK_SECONDS
        # (a chunk of a fast scan is milliseconds of work, less than what the scheduler and the client spend
        # on a task; a batch must not grow long either: a stop throws away the batches in flight)
        queue = deque(indices)
        pace = Pace(DASK_TASK_SECONDS, first=1, most=DASK_BATCH_MAX)

        def batches() -> Iterator[Task]:
            while queue:
                batch = [queue.popleft() for _ in range(min(pace.size(), len(queue)))]
                # not taught: measured no faster on Dask (its tasks' arguments go through the scheduler)
                yield None, _run_batch, (self.expr, self.params, batch)

        inner = self._map_dask(batches())
        try:
            for _, results in inner:
                pace.record(len(results), sum(r.seconds for r in results))
                yield from results
        finally:
            inner.close()

    # -------------------------------------------------------------------------------------------- any task

    def map(self, tasks: Iterable[Task]) -> Iterator[tuple[Any, Any]]:
        """Run ``tasks`` (tag, function, arguments) and yield (tag, result) as they complete.  ``tasks`` is
        consumed lazily, a window of them at a time, so it may prepare each task as it is needed."""
        if not self.parallel:
            for tag, fn, args in tasks:
                yield tag, fn(*args)
        elif self.executor == "process":
            yield from self._map_process(iter(tasks), self.n)
        else:
            yield from self._map_dask(iter(tasks))

    def close(self) -> None:
        """Stop the workers: pending tasks are cancelled, running ones finish (no process outlives this)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()

    # ------------------------------------------------------------------------------------- process pool

    def _map_process(self, tasks: Iterator[Task], size: int) -> Iterator[tuple[Any, Any]]:
        from concurrent.futures import FIRST_COMPLETED, Future, wait
        from concurrent.futures.process import BrokenProcessPool

        retry: deque[Task] = deque()
        restarts = 0
        exhausted = False
        while True:
            if self._pool is None:
                self._pool = _PRESTARTED.pop((self.expr, self.params), None) if restarts == 0 else None
                if self._pool is None:
                    self._pool = _new_pool(size)
            pool = self._pool
            running: dict[Future, Task] = {}
            broken = False
            try:
                while not broken:
                    # a bounded window of futures, so a stopped run has little in flight
                    while len(running) < 2 * self.n and (retry or not exhausted):
                        if retry:
                            task = retry.popleft()
                        else:
                            task = next(tasks, None)
                            if task is None:
                                exhausted = True
                                break
                        try:
                            running[pool.submit(task[1], *task[2])] = task
                        except BrokenProcessPool:
                            retry.appendleft(task)
                            broken = True
                            break
                    if not running:
                        return
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for f in done:
                        task = running.pop(f)
                        if isinstance(f.exception(), BrokenProcessPool):
                            retry.appendleft(task)
                            broken = True
                        else:
                            yield task[0], f.result()
            except BaseException:
                # stopped (a signal, the caller closed us, a task raised): the pool goes with what it holds
                self.close()
                raise
            if broken:
                # a pool process died (killed, out of memory): the pool is unusable and every task it still held
                # is lost.  Its other processes may be blocked forever writing a result into a pipe nobody reads
                # any more: waiting for them would hang; end them, and run the lost tasks in a fresh pool
                self._pool = None
                for proc in list((getattr(pool, "_processes", None) or {}).values()):
                    proc.kill()
                pool.shutdown(wait=False, cancel_futures=True)
                retry.extendleft(running.values())
                restarts += 1
                if restarts > POOL_RESTARTS:
                    raise RuntimeError(
                        f"worker processes died {restarts} times; {len(retry)} tasks were not computed "
                        "(rerun the same command to resume)"
                    )

    # ------------------------------------------------------------------------------------------------ Dask

    def _dask_client(self):
        if self._client is None:
            try:
                from dask.distributed import Client
            except ImportError:  # pragma: no cover - depends on the environment
                raise RuntimeError(
                    "the dask executor needs dask[distributed]: pip install 'dask[distributed]'") from None
            if self.scheduler is None:
                self._cluster = _start_local_cluster(self.n)
                self._client = Client(self._cluster)
            else:
                self._client = _connect(Client, self.scheduler)
        return self._client

    def _map_dask(self, tasks: Iterator[Task]) -> Iterator[tuple[Any, Any]]:
        # pure=False: a key is unique to this run, so two clients sharing a scheduler never see each other's
        # results (each writes its own).  Only as_completed holds the futures, and each is released once its
        # result is here, so a worker lost later takes no finished result with it that would be recomputed for
        # nothing.  (Not with_results=True: its background fetches log tracebacks when a run is interrupted.)
        # loop=client.loop: as_completed otherwise tracks the futures on the *default* client's event loop,
        # which in a process holding another client (a notebook's, a test's) is not this one's, and a result
        # lost with a worker then fails to be waited for ("bound to a different event loop").
        from dask.distributed import as_completed

        try:
            client = self._dask_client()
            window = 4 * max(self.n if self._cluster is not None else sum(client.nthreads().values()), 1)
            pending = as_completed([], loop=client.loop)
            tags: dict[str, Any] = {}

            def submit() -> bool:
                task = next(tasks, None)
                if task is None:
                    return False
                f = client.submit(task[1], *task[2], pure=False, retries=DASK_RETRIES)
                tags[f.key] = task[0]
                pending.add(f)
                return True

            more = True
            while more and pending.count() < window:
                more = submit()
            for f in pending:
                result = f.result()
                tag = tags.pop(f.key)
                f.release()
                while more and pending.count() < window:
                    more = submit()
                yield tag, result
        except BaseException:
            self.close()
            raise
