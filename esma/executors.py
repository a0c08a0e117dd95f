"""Executors: run a search plan's chunks serially, in local processes, or on a Dask cluster.

All executors take the same inputs (a search plan and the chunk indices to run) and yield ``ChunkResult``
records as chunks finish, in completion order.  Workers only compute: a chunk is a pure function of
``(constant text, parameters, chunk index)`` (``_run_batch`` rebuilds the deterministic plan from those, once
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
* ``dask``: the same tasks on ``scheduler``
  (``tcp://host:port``), or on a ``LocalCluster`` of ``workers`` single-threaded worker processes started (and
  stopped) here when no scheduler is given.  Tasks have ``retries``, and the scheduler reschedules the tasks of
  a worker that died.  The worker processes of a ``LocalCluster`` started here end by themselves when this
  process dies (Distributed's processes watch their parent).

In parallel, a task is a few consecutive chunks (as many as take about ``TASK_SECONDS``, ``Pace``), taken from
one stripe of the chunks per worker (``Stripes``) with one task in flight per stripe.

Workers import the engine only (``esma.search``), never the catalog or the command line.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any

from esma.columns import hits_text
from esma.memory import paused_gc
from esma.records import Conjecture, Hit
from esma.search import Assembly, ChunkResult, SearchPlan, assemble, encode, plan_search, run_chunk

__all__ = [
    "DASK_RETRIES",
    "EXECUTORS",
    "LOCAL_CLUSTER_CONFIG",
    "POOL_RESTARTS",
    "TASK_CHUNKS_MAX",
    "TASK_SECONDS",
    "Pace",
    "Stripes",
    "Workers",
    "dask_setup",
    "dask_teardown",
    "default_workers",
    "discard_prestarted",
    "prestart",
    "prestart_cluster",
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


def _take_plan(key: tuple[str, Params], payload: bytes) -> None:
    """Keep the plan a Dask client sent (``Workers``): unpickling it takes a tenth of the time building it
    again would (0.08 s against 0.6 s for e at degree 2), on every worker at once before the first chunk."""
    _remember(key, pickle.loads(payload))


def assemble_part(
    expr: str,
    params: Params,
    hits: list[Hit],
    stored_reps: dict[str, Conjecture],
    members: dict[str, list[Conjecture]],
) -> Assembly:
    """Worker entry point of the families phase: ``esma.assemble.assemble`` of some families' hits, encoded
    as the catalog stores them (``esma.assemble.encode``: the worker makes the text, the client only writes it).

    ``stored_reps``: the catalog's representatives of those families; ``members``: the stored members of the
    families whose members ``esma.assemble.members_to_load`` says the assembly reads (read by the caller, so
    that workers never touch the catalog).
    """
    from esma.scanning import forget_tails

    forget_tails()  # the scan's tail tables are no use here

    def load_members(key: str) -> list[Conjecture]:
        return members[key]  # a key the caller did not read is a bug to see, not an empty family

    # with the collector paused, as every task of ``Workers.map`` runs (``_call``)
    return encode(assemble(_plan(expr, params), hits, stored_reps=stored_reps, load_members=load_members))


#: A scan task runs up to this many consecutive chunks, aiming at about TASK_SECONDS of work: a chunk of a fast
#: scan is milliseconds, less than what handing it out costs (the client, Dask's scheduler); a task must not grow
#: long either, since a stop throws away the tasks in flight.
TASK_CHUNKS_MAX = 64
TASK_SECONDS = 0.5


class Pace:
    """How much work the next task gets: ``first`` units until tasks have been timed, then as many units as take
    ``seconds`` at the mean time per unit so far (at least 1, at most ``most``).  Units are what the caller
    counts: chunks of a scan task, hits of a families-phase task.

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


class Stripes:
    """The chunks of a scan cut into ``n`` runs of consecutive chunks (stripes), one per worker slot: each slot
    takes its tasks from the front of its own run, and a slot whose run is empty takes the back half of the
    longest run left.

    Why: the tails a scan meets are local.  On e at degree 2 (2,473 chunks) a tail's hits span a median of 24
    consecutive chunks, and no tail has hits in both halves of the space.  Workers running neighbouring chunks
    at the same time meet the same new tails at the same time and work each out twice (Berlekamp–Massey, the
    closed form); workers in different stripes meet different tails, and what one learns reaches the other
    (``_Tails``) before it gets there.  With one task in flight per slot, the tasks running at any moment are
    in different stripes whichever worker runs them.

    >>> s = Stripes(list(range(10)), 2)
    >>> s.take(0, 2), s.take(1, 2)
    ([0, 1], [5, 6])
    >>> s.take(1, 9)
    [7, 8, 9]
    >>> s.take(1, 9)  # slot 1's run is empty: the back half of slot 0's run [2, 3, 4]
    [3, 4]
    >>> s.take(0, 9), s.take(0, 9)
    ([2], None)
    """

    def __init__(self, indices: list[int], n: int) -> None:
        size = -(-len(indices) // n) if indices else 1
        self.runs = [deque(indices[k * size : (k + 1) * size]) for k in range(n)]

    def take(self, slot: int, count: int) -> list[int] | None:
        """Up to ``count`` chunks for ``slot`` (at least one), or ``None`` when no chunk is left at all."""
        run = self.runs[slot]
        if not run:
            longest = max(self.runs, key=len)
            if not longest:
                return None
            half = len(longest) // 2  # the back half (all of a run of one)
            back = [longest.pop() for _ in range(len(longest) - half)]
            run.extend(reversed(back))
        return [run.popleft() for _ in range(min(max(count, 1), len(run)))]


@dataclass(frozen=True)
class ScanBatch:
    """What a scan task returns: its chunks' results, and who ran them (host and process, for ``_Tails``)."""

    worker: str
    results: tuple[ChunkResult, ...]


def _run_batch(expr: str, params: Params, indices: list[int], teach: tuple = ()) -> ScanBatch:
    """Scan task: several consecutive chunks in a row, each with its own result (the client commits per chunk).

    ``teach``: tails other workers met (``_Tails``), learnt before the first chunk; each chunk's ``learned`` is
    what it met first in this process.
    """
    plan = _plan(expr, params)  # a task: run with the collector paused (``_call``)
    results = [run_chunk(plan, indices[0], teach=teach)]
    results.extend(run_chunk(plan, i) for i in indices[1:])
    # the hits as the catalog keeps them, made here rather than in the client that commits every chunk
    results = [replace(r, hit_records=hits_text(r.hits)) if r.hits else r for r in results]
    # the worker's name is not computed at import: pool processes are forked
    return ScanBatch(f"{socket.gethostname()}:{os.getpid()}", tuple(results))


class _Tails:
    """The tails the workers met first (``ChunkResult.learned``), handed on to the other workers so that a tail is
    worked out (Berlekamp–Massey over its certified terms, its closed form) about once per search, not once per
    worker.  Each worker is taught, with its next task, what the others met since its last one.  Only an economy:
    a chunk's result is the same whatever it is taught.

    A slot's next task is handed out when its last one comes back, so the worker that will run it is, nearly
    always, the one that just came back (the others are busy): it is taught as that worker.  When another worker
    takes it, that one misses some lessons (and works those tails out again), nothing more.
    """

    def __init__(self) -> None:
        self.log: list[tuple[str, tuple]] = []  # (worker, lesson), in the order they came back
        self.taught: dict[str, int] = {}  # worker -> how much of the log it has been taught

    def record(self, worker: str, results: Iterable[ChunkResult]) -> None:
        self.log.extend((worker, t) for r in results for t in r.learned)

    def teach(self, worker: str | None) -> tuple:
        """What ``worker`` has not met: the others' lessons since it was last taught (all of them for a worker
        not taught yet).  Nothing for ``None``, a task whose worker cannot be guessed (a slot's first)."""
        start = self.taught.get(worker, 0) if worker is not None else len(self.log)
        if worker is not None:
            self.taught[worker] = len(self.log)
        return tuple(t for w, t in self.log[start:] if w != worker)


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
    """Shut down any pool ``prestart`` or cluster ``prestart_cluster`` started that no run claimed."""
    while _PRESTARTED:
        _, pool = _PRESTARTED.popitem()
        pool.shutdown(wait=True, cancel_futures=True)
    while _PRESTARTED_CLUSTERS:
        _, starting = _PRESTARTED_CLUSTERS.popitem()
        try:
            cluster = starting.result()
        except Exception:
            continue
        cluster.close()


#: LocalClusters being started by ``prestart_cluster``, by number of workers, waiting for their ``Workers``.
_PRESTARTED_CLUSTERS: dict[int, Future] = {}


def prestart_cluster(workers: int | None = None) -> None:
    """Start the LocalCluster that the next ``Workers(plan, "dask", workers)`` without a scheduler will use, in a
    thread of its own, now.

    A Dask worker process is a fresh interpreter: it imports esma and loads the scan kernels (about 1.5 s
    before the first chunk on 2 cores), which needs no plan, so the caller plans the search and opens the catalog
    meanwhile.  A cluster nobody claims must be released with ``discard_prestarted``.
    """
    n = workers or default_workers()
    if n in _PRESTARTED_CLUSTERS:
        return
    starting: Future = Future()

    def start() -> None:
        if starting.set_running_or_notify_cancel():
            try:
                starting.set_result(_start_local_cluster(n))
            except BaseException as exc:
                starting.set_exception(exc)

    threading.Thread(target=start, name="esma-dask-cluster-start", daemon=True).start()
    _PRESTARTED_CLUSTERS[n] = starting


def dask_setup(worker: Any) -> None:
    """Dask preload hook (``preload=["esma.executors"]``): the worker process ignores SIGINT, and loads the scan
    kernels as it starts, as a pool process does (``_worker_init``): a cluster started early (``prestart_cluster``)
    is ready for the first chunk.

    Used for the ``LocalCluster`` this module starts, whose worker processes are in the client's process group:
    a terminal's Ctrl-C reaches them too, and the client alone should handle it (stop, say how to resume) rather
    than every worker print a KeyboardInterrupt traceback.  Not for workers a user starts with ``dask worker``
    in a terminal of their own, where Ctrl-C is how they stop them.

    The same goes for what an interrupted run makes a busy worker log as the cluster closes under it ("Async
    instruction ... ended with CancelledError", and a heartbeat to the scheduler that just closed): expected
    then, and noise on the client's stderr.
    """
    if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
        _ignore_sigint()
    logging.getLogger("distributed.worker.state_machine").addFilter(_drop_cancelled_on_close)
    logging.getLogger("distributed.worker").addFilter(_drop_heartbeat_on_close)
    from esma.transducer import warm

    warm()


def dask_teardown(worker: Any) -> None:
    """Dask preload hook, as the worker closes: freeze the objects alive (``gc.freeze``).

    The process is ending, and the collections of the interpreter's finalization would traverse every object it
    holds, for nothing: a worker that scanned 1,200 chunks of e at degree 2 holds 1.6 million (its tables of
    tails), which took 2.2 s to exit, 0.35 s frozen.  Past 4 s the nanny kills the worker and logs a warning.
    """
    import gc

    gc.freeze()


def _drop_cancelled_on_close(record: logging.LogRecord) -> bool:
    return "ended with CancelledError" not in record.getMessage()


def _drop_heartbeat_on_close(record: logging.LogRecord) -> bool:
    # A worker busy in a chunk when the client closes its own cluster (Ctrl-C) may send one more heartbeat to
    # the scheduler that just went away; in a cluster this module started and stops, that is the close itself.
    return "Failed to communicate with scheduler during heartbeat" not in record.getMessage()


#: Dask settings of the LocalCluster this module starts (not of a cluster given by address: its owner's).  Its
#: servers' own clocks, left at Dask's defaults, cost more CPU than the tasks' messages on 2 cores: idle, the
#: scheduler and nannies in the client's process and one worker each used 0.82 + 0.35 + 0.35 s of CPU in 20 s,
#: 0.28 s in all with these; on a machine whose cores the workers fill, that is the search's time.
#:
#: - no statistical profiler in the workers (it serves the dashboard, which this cluster has not): sampling the
#:   running task's stack 100 times a second takes the interpreter's lock from it;
#: - the event loops' health tick every 500 ms, not every 20 ms (a loop blocked for seconds is still reported);
#: - the system monitor (the dashboard's CPU and memory curves) every 2 s, not 500 ms;
#: - the memory monitor (spill, pause, terminate at the memory limits) every second, not every 100 ms: a
#:   search's memory grows over minutes, not within a second.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def _start_local_cluster(n: int):
    """A LocalCluster of ``n`` single-threaded worker processes that leave Ctrl-C to the client.

    Worker processes with one thread each: the kernels hold the GIL, so threads would not add speed.
    ``silence_logs`` keeps the cluster's INFO chatter off stderr (which carries only progress and errors).  No
    dashboard; the scheduler still serves its small HTTP API (health, metrics) and, left alone, wants port 8787
    and warns on stderr when another cluster has it: it gets any free loopback port instead.  The preload runs
    ``dask_setup`` in every worker process as it starts (a replacement for a lost worker included); only a
    Ctrl-C in the second or so a worker process takes to start can still reach it.
    """
    import dask.config
    from dask.distributed import LocalCluster

    # The scheduler and the nannies live in this process and read their intervals as they are made; the
    # worker processes get the nannies' configuration (a copy, whole: they merge it over Dask's one level deep),
    # so that a worker started later in place of a lost one has it too.
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        return LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.WARNING,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            preload=[__name__],
            config=dask.config.merge(dask.config.config),
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

def _pack(fn: Callable[..., Any], args: tuple) -> bytes:
    """A parallel task's function and arguments as one pickle, made by the client (``_call`` runs it).

    Dask pickles the items of a list, tuple or dict one by one, each in a pickle of its own; the hits of a task
    share their polynomials (one object per distinct polynomial, ``esma.families``), which one pickle writes once
    and unpickles into one object again.  And Dask's scheduler unpickles a task's arguments and pickles them
    again to send them on; bytes it passes as they are."""
    return pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)


def _call(payload: bytes) -> bytes:
    """Run a parallel task (``_pack``) in a worker process and pickle its result there.

    All of it (unpickling the arguments, the task, pickling the result) runs with the cyclic collector paused
    (``paused_gc``), and the result is dropped before the block ends: left to the process pool or to Dask, the
    arguments were unpickled and the result pickled with the collector running, which then traversed each task's
    objects again and again (``esma.memory``).  And on Dask, the worker's event loop pickled a result while the
    thread ran the next task, the two taking turns at the interpreter's lock; now the event loop only sends bytes.
    """
    with paused_gc():
        fn, args = pickle.loads(payload)
        out = pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)
        del fn, args
    return out


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
        """The results of the chunks ``indices``, as they complete.

        In parallel, the chunks are cut into one stripe per worker (``Stripes``) and each stripe has one task in
        flight: a few consecutive chunks, as many as take about ``TASK_SECONDS`` at the mean cost per chunk so far
        (``Pace``).  The next task of a stripe is handed out as soon as its last one is back, before the caller
        sees the results (so the workers do not wait for the caller's commits), and teaches the worker that will
        most likely run it the tails the other workers met since its last task (``_Tails``).
        """
        indices = list(indices)
        if not indices:
            return
        if not self.parallel or (self.executor == "process" and len(indices) <= 1 and self._pool is None):
            yield from _run_serial(self.plan, indices)
            return
        slots = min(self._width(), len(indices))
        stripes = Stripes(indices, slots)
        free = deque(range(slots))
        ran_by: dict[int, str] = {}  # slot -> the worker that ran its last task
        pace = Pace(TASK_SECONDS, first=1, most=TASK_CHUNKS_MAX)
        tails = _Tails()

        def tasks() -> Iterator[Task]:
            while free:
                slot = free.popleft()
                batch = stripes.take(slot, pace.size())
                if batch is None:
                    return
                yield slot, _run_batch, (self.expr, self.params, batch, tails.teach(ran_by.get(slot)))

        def done(slot: int, batch: ScanBatch) -> None:
            free.append(slot)
            ran_by[slot] = batch.worker
            pace.record(len(batch.results), sum(r.seconds for r in batch.results))
            tails.record(batch.worker, batch.results)

        inner = self._map(tasks(), slots, done)
        try:
            for _, batch in inner:
                yield from batch.results
        finally:
            inner.close()  # broken off: the workers go with the chunks they hold

    # -------------------------------------------------------------------------------------------- any task

    #: Tasks in flight per worker in ``map``: enough to keep the workers busy while the caller stores what came back.
    MAP_WINDOW = 4

    def map(self, tasks: Iterable[Task]) -> Iterator[tuple[Any, Any]]:
        """Run ``tasks`` (tag, function, arguments) and yield (tag, result) as they complete.  ``tasks`` is
        consumed lazily, ``MAP_WINDOW`` per worker at a time, so it may prepare each task as it is needed.  Every
        task runs with the cyclic collector paused (``esma.memory``), here as in a worker (``_call``)."""
        if not self.parallel:
            for tag, fn, args in tasks:
                with paused_gc():
                    result = fn(*args)
                yield tag, result
        else:
            yield from self._map(iter(tasks), self.MAP_WINDOW * self._width())

    def _map(self, tasks: Iterator[Task], window: int, done: Callable[[Any, Any], None] | None = None):
        """(tag, result) of ``tasks`` as they complete, at most ``window`` in flight; ``done(tag, result)`` is
        called as each result arrives, before more tasks are taken from ``tasks`` and before it is yielded."""
        if self.executor == "process":
            return self._map_process(tasks, window, done)
        return self._map_dask(tasks, window, done)

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

    def _map_process(self, tasks: Iterator[Task], window: int, done: Callable[[Any, Any], None] | None = None):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        retry: deque[Task] = deque()
        restarts = 0
        exhausted = False
        while True:
            if self._pool is None:
                self._pool = _PRESTARTED.pop((self.expr, self.params), None) if restarts == 0 else None
                if self._pool is None:
                    self._pool = _new_pool(self.n)
            pool = self._pool
            running: dict[Future, Task] = {}

            def fill(running: dict[Future, Task] = running, pool=pool) -> bool:
                """Submit tasks while the window has room; False when the pool turned out broken."""
                nonlocal exhausted
                while len(running) < window and (retry or not exhausted):
                    task = retry.popleft() if retry else next(tasks, None)
                    if task is None:
                        exhausted = True
                        break
                    try:
                        running[pool.submit(_call, _pack(task[1], task[2]))] = task
                    except BrokenProcessPool:
                        retry.appendleft(task)
                        return False
                return True

            broken = False
            try:
                while not broken:
                    # a bounded window of futures, so a stopped run has little in flight
                    broken = not fill()
                    if broken:
                        break
                    if not running:
                        return
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    back = []
                    for f in finished:
                        task = running.pop(f)
                        if isinstance(f.exception(), BrokenProcessPool):
                            retry.appendleft(task)
                            broken = True
                        else:
                            back.append((task[0], pickle.loads(f.result())))
                            if done is not None:
                                done(*back[-1])
                    # the next tasks go out before the caller sees the results: its commits need no worker
                    broken = broken or not fill()
                    yield from back
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
                starting = _PRESTARTED_CLUSTERS.pop(self.n, None)
                self._cluster = starting.result() if starting is not None else _start_local_cluster(self.n)
                # direct_to_workers: results come from the worker that holds them, not through the scheduler
                self._client = Client(self._cluster, direct_to_workers=True)
            else:
                self._client = _connect(Client, self.scheduler)
            # the workers there now take this plan; one that joins later, or that this misses (lost meanwhile),
            # builds its own, the same, from the key: an economy, which must not fail the run
            self._client.run(_take_plan, (self.expr, self.params),
                             pickle.dumps(self.plan, protocol=pickle.HIGHEST_PROTOCOL), on_error="ignore")
        return self._client

    def _width(self) -> int:
        """Tasks this executor runs at once: its processes, or the threads of the Dask cluster it is given."""
        if self.executor == "dask" and self.scheduler is not None:
            try:
                return max(1, sum(self._dask_client().nthreads().values()))
            except BaseException:
                self.close()
                raise
        return self.n

    def _map_dask(self, tasks: Iterator[Task], window: int, done: Callable[[Any, Any], None] | None = None):
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
            pending = as_completed([], loop=client.loop)
            tags: dict[str, Any] = {}

            def fill() -> None:
                while pending.count() < window:
                    task = next(tasks, None)
                    if task is None:
                        return
                    f = client.submit(_call, _pack(task[1], task[2]), pure=False, retries=DASK_RETRIES)
                    tags[f.key] = task[0]
                    pending.add(f)

            fill()
            for f in pending:
                result = pickle.loads(f.result())
                tag = tags.pop(f.key)
                f.release()
                if done is not None:
                    done(tag, result)
                fill()  # the next tasks go out before the caller sees the result
                yield tag, result
        except BaseException:
            self.close()
            raise
