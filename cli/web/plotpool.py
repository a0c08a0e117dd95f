"""Convergence plots drawn by a bounded pool of worker processes, each plot with a time limit.

Drawing a plot is CPU work (Python, gmpy2, python-flint) that a hostile catalog can make last minutes: a
constant stored as ``e + 0*besseli(10**6, 10**6)`` is e, yet takes seconds to evaluate at 300 digits and
minutes at 2000.  Drawn in the server's threads, plots hold the GIL (every other page waits behind them) and
cannot be stopped (the server then ignores SIGTERM until they end).  Here they are drawn in worker processes:

- at most ``workers`` plots are drawn at a time, each in its own process, niced so that the server's own pages
  come first on a busy machine;
- a plot gets ``timeout`` seconds; a worker still drawing then is killed (and replaced), and the answer is a
  :class:`~esma.cli.web.svgplot.Plot` saying the plot took longer than the time limit;
- a request waits at most ``timeout`` seconds for a free worker, and at most ``pending`` different plots wait
  or are drawn at once; beyond that the answer is "busy" at once (the page answers 503 for the SVG alone);
- requests for a plot already being drawn wait for that drawing instead of starting another;
- :meth:`PlotPool.close` kills every worker (the server calls it when it stops); each worker also limits its
  own CPU time per plot (RLIMIT_CPU), so that none outlives a server that was killed outright for long.

Waiting is done in threads of the pool's own (bounded) executor, never in the threadpool that serves pages.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import queue
import resource
import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from esma.cli.web.svgplot import Plot

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_WORKERS", "MAX_TIMEOUT", "MAX_WORKERS", "MIN_TIMEOUT", "PlotPool"]

DEFAULT_WORKERS = 2
MAX_WORKERS = 16
DEFAULT_TIMEOUT = 30.0
MIN_TIMEOUT, MAX_TIMEOUT = 0.5, 600.0
MAX_PENDING = 32  # plots waiting for a worker or being drawn; more get "busy" at once
WORKER_NICE = 10
_READY_SECONDS = 120.0  # a new worker's imports, on a loaded machine (not counted in a plot's time limit)
_CPU_MARGIN = 10  # seconds of CPU beyond the time limit after which a worker stops itself (RLIMIT_CPU)

Key = tuple[int, int]


def _worker_main(conn: Any, nice: int) -> None:
    """A plot worker: receives (record, digits, title, limit), sends back a Plot, until its pipe closes."""
    # Ctrl-C reaches the whole process group: the server stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(nice)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a worker stopped by SIGXCPU leaves no core file
    from esma.cli.web.svgplot import draw_plot

    _warm_up(draw_plot)
    conn.send("ready")
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the server is gone
            return
        conj, digits, title, limit = task
        _limit_cpu(limit)
        try:
            plot = draw_plot(conj, digits, title)
        except Exception as exc:  # draw_plot answers the expected errors itself; a plot is never worth a crash
            plot = Plot(None, f"no convergence plot: {type(exc).__name__}")
        conn.send(plot)


def _warm_up(draw_plot: Any) -> None:
    """Draw a small plot (e's simple continued fraction to 300 digits): the imports and first-time set-ups,
    about a second, are paid before the worker says it is ready, not out of a plot's time limit."""
    from esma.records import Formula

    e = Formula(constant="e", lhs="c", lhs_numerator=(0, 1), lhs_denominator=(1,), value="2.718", signs=(1,),
                   preperiod=1, terms=(2, 1, 2, 1, 1, 4, 1, 1, 6, 1), recurrence=(1, 0, 0, -2, 0, 0, 1),
                   closed_form="", kind="polynomial", verified_digits=300, digits_per_term=1.37,
                   scf_digits_per_term=1.37)
    with contextlib.suppress(Exception):
        draw_plot(e, 300, "e")


def _limit_cpu(limit: float) -> None:
    """The kernel stops this process (SIGXCPU) if this plot uses more CPU than its limit plus a margin: the
    server kills it much sooner, unless the server itself was killed."""
    with contextlib.suppress(ValueError, OSError):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(usage.ru_utime + usage.ru_stime + limit) + _CPU_MARGIN
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


class _Worker:
    def __init__(self, ctx: Any, nice: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, nice), name="esma-plot-worker", daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(timeout=5)


def timeout_plot(limit: float) -> Plot:
    return Plot(None, f"no convergence plot: drawing it took longer than the time limit of {limit:g} s "
                      "and was stopped", limit="timeout")


def busy_plot(why: str = "the server is busy drawing other plots") -> Plot:
    return Plot(None, f"no convergence plot now: {why}; try again later", limit="busy")


class PlotPool:
    """At most ``workers`` plots drawn at a time in worker processes, each within ``timeout`` seconds.

    Thread-safe.  :meth:`submit` returns a future of the Plot (never an exception), or ``None`` when
    ``pending`` plots are waiting or being drawn already.  Workers start with the first plot (or
    :meth:`start`); :meth:`close` kills them, and the pool then answers "busy".
    """

    def __init__(self, workers: int = DEFAULT_WORKERS, timeout: float = DEFAULT_TIMEOUT,
                 pending: int = MAX_PENDING, nice: int = WORKER_NICE) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"Argument 'workers' must be an integer between 1 and {MAX_WORKERS}, not {workers!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not (
                MIN_TIMEOUT <= timeout <= MAX_TIMEOUT):
            raise ValueError(f"Argument 'timeout' must be a number of seconds between {MIN_TIMEOUT:g} and "
                             f"{MAX_TIMEOUT:g}, not {timeout!r}")
        self.workers, self.timeout, self.pending, self.nice = workers, float(timeout), int(pending), int(nice)
        self._ctx = multiprocessing.get_context("spawn")  # a fork of a threaded server is not safe
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        self._all: set[_Worker] = set()
        self._inflight: dict[Key, Future[Plot]] = {}
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None
        self._closed = False

    def start(self) -> None:
        """Start the workers now (else with the first plot)."""
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._closed or self._threads is not None:
            return
        self._threads = ThreadPoolExecutor(max_workers=self.pending, thread_name_prefix="esma-plot-wait")
        for _ in range(self.workers):
            self._spawn_locked()

    def _spawn_locked(self) -> None:
        worker = _Worker(self._ctx, self.nice)
        self._all.add(worker)
        self._idle.put(worker)

    def submit(self, key: Key, conj: Any, digits: int, title: str) -> Future[Plot] | None:
        """The future plot of record ``conj`` to ``digits`` digits (``key`` names it: one drawing per key at
        a time); ``None`` when the pool is full or closed."""
        with self._lock:
            if self._closed:
                return None
            running = self._inflight.get(key)
            if running is not None:
                return running
            if len(self._inflight) >= self.pending:
                return None
            self._start_locked()
            assert self._threads is not None
            future = self._threads.submit(self._draw, conj, digits, title)
            self._inflight[key] = future
        future.add_done_callback(lambda _f: self._forget(key, future))
        return future

    def _forget(self, key: Key, future: Future[Plot]) -> None:
        with self._lock:
            if self._inflight.get(key) is future:
                del self._inflight[key]

    def _draw(self, conj: Any, digits: int, title: str) -> Plot:
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            return busy_plot()
        if worker is None:  # closed
            self._idle.put(None)
            return busy_plot("the server is stopping")
        done = False
        try:
            if not worker.ready:
                if not worker.conn.poll(_READY_SECONDS):
                    return busy_plot("a plot worker did not start")
                worker.conn.recv()
                worker.ready = True
            worker.conn.send((conj, digits, title, self.timeout))
            if not worker.conn.poll(self.timeout):
                return timeout_plot(self.timeout)
            plot = worker.conn.recv()
            done = True
            return plot
        except (EOFError, OSError):  # the worker died (killed by close(), or by the kernel)
            return busy_plot("the plot worker stopped")
        finally:
            if done:
                self._idle.put(worker)
            else:
                self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with contextlib.suppress(OSError):
            worker.conn.close()
        with self._lock:
            self._all.discard(worker)
            if not self._closed:
                self._spawn_locked()

    def close(self) -> None:
        """Kill every worker at once (a plot being drawn is lost); later plots are answered "busy"."""
        with self._lock:
            self._closed = True
            workers, self._all = list(self._all), set()
            threads, self._threads = self._threads, None
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.process.kill()
        for worker in workers:
            worker.kill()  # reaps it
        self._idle.put(None)  # wakes the requests waiting for a worker (each passes it on)
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)

    def alive(self) -> list[int]:
        """The process ids of the workers (for tests and the log)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]
