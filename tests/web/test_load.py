"""Pages under load, through the real ``esma serve`` (uvicorn) over HTTP on 127.0.0.1.

Plots are drawn by a bounded pool of worker processes with a time limit each, so that clients asking for
plots never starve the other pages, a plot too slow to draw is stopped (and answered as such) while the
server goes on serving, and SIGTERM stops the server and its plot workers at once.

The slow plot is real: a catalog whose constant ``e`` is stored as ``e + 0*besseli(10**6, 10**6)`` (the same
number; evaluating it takes seconds at 300 digits and minutes at 2000), with e's formulas unchanged.  Every
request loop here is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from web_helpers import copy_catalog, served

SLOW_E = "e + 0*besseli(10**6, 10**6)"


def _get(url: str, timeout: float = 120) -> tuple[int, str, float]:
    """(HTTP status, body, seconds) of a GET; an HTTP error status is an answer too."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8"), time.monotonic() - t0
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8"), time.monotonic() - t0


def _json(url: str) -> dict:
    status, body, _ = _get(url + ("&" if "?" in url else "?") + "format=json", timeout=30)
    assert status == 200, body[-500:]
    return json.loads(body)


def _formulas(base: str, constant: str, count: int) -> list[int]:
    cid = next(c["id"] for c in _json(base + "/")["constants"] if c["text"] == constant)
    fams = _json(f"{base}/constants/{cid}?per_page={count}")["families"]
    return [f["representative_id"] for f in fams]


def _group(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` still alive (zombies excluded), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry))
    return found


@pytest.fixture
def slow_catalog(web_catalog, tmp_path):
    db = copy_catalog(web_catalog, tmp_path / "slow.sqlite")
    con = sqlite3.connect(db)
    try:
        con.execute("UPDATE constants SET text = ? WHERE text = 'e'", (SLOW_E,))
        con.commit()
    finally:
        con.close()
    return db


def test_the_index_answers_within_a_second_while_8_clients_ask_for_uncached_plots(slow_catalog, tmp_path):
    with served(slow_catalog, tmp_path) as (base, _proc):
        # half the clients draw plots of e as stored here (seconds each), half plots of tan(1) (about one)
        formulas = [_formulas(base, SLOW_E, 4), _formulas(base, "tan(1)", 4)]
        stop = time.monotonic() + 40
        finished: list[tuple[int, float]] = []

        def plot_client(k: int) -> None:
            for i in range(2):  # 8 clients x 2 plots, each of its own number of digits: nothing is cached
                if time.monotonic() > stop:
                    return
                ids = formulas[k % 2]
                digits = (300 if k % 2 == 0 else 2500) + 10 * k + i
                status, _, _ = _get(f"{base}/formulas/{ids[(k + i) % len(ids)]}/plot.svg?digits={digits}")
                finished.append((status, time.monotonic()))

        with ThreadPoolExecutor(8) as pool:
            clients = [pool.submit(plot_client, k) for k in range(8)]
            time.sleep(1.5)  # the plot requests are under way
            index = []
            for _ in range(8):
                status, body, seconds = _get(base + "/", timeout=60)
                assert status == 200 and "Constants" in body
                index.append(seconds)
                time.sleep(0.25)
            timed_until = time.monotonic()
            for c in clients:
                c.result()
    print(f"index latencies under 8 plot clients: {[round(t, 3) for t in index]}")
    # plots were being drawn all along: some finished after the index was last timed
    assert any(t > timed_until for _, t in finished), "the plot clients stopped before the index was timed"
    assert {s for s, _ in finished} <= {200, 503} and sum(s == 200 for s, _ in finished) >= 8
    assert max(index) < 1.0, f"index latencies under 8 plot clients: {[round(t, 3) for t in index]}"


def test_a_plot_over_its_time_limit_is_stopped_and_the_server_keeps_serving(slow_catalog, tmp_path):
    with served(slow_catalog, tmp_path, args=("--plot-timeout", "2")) as (base, _proc):
        slow = _formulas(base, SLOW_E, 1)[0]
        status, body, seconds = _get(f"{base}/formulas/{slow}/plot.svg?digits=2000")
        assert status == 503 and "time limit of 2 s" in body and "Traceback" not in body, body[-500:]
        assert seconds < 10
        # the formula page shows the page, with a note in place of the plot (remembered: no second wait)
        status, body, seconds = _get(f"{base}/formulas/{slow}?digits=2000")
        assert status == 200 and "time limit of 2 s" in body and seconds < 2
        doc = _json(f"{base}/formulas/{slow}?digits=2000")
        assert doc["plot"]["error"].startswith("no convergence plot: drawing it took longer than the time limit")
        # everything else still serves, plots included (a fresh worker replaced the stopped one)
        status, _, seconds = _get(base + "/")
        assert status == 200 and seconds < 2
        fast = _formulas(base, "sqrt(2)", 1)[0]
        status, body, _ = _get(f"{base}/formulas/{fast}/plot.svg?digits=200")
        assert status == 200 and body.startswith("<svg"), body[body.find("<main>"):][:600]


def test_sigterm_stops_the_server_and_its_plot_workers_during_a_slow_plot(slow_catalog, tmp_path):
    with served(slow_catalog, tmp_path) as (base, proc):
        slow = _formulas(base, SLOW_E, 1)[0]
        answers: list[object] = []

        def ask() -> None:
            try:
                answers.append(_get(f"{base}/formulas/{slow}/plot.svg?digits=2000", timeout=60)[0])
            except OSError as exc:  # the server went away: expected
                answers.append(exc)

        asker = threading.Thread(target=ask)
        asker.start()
        time.sleep(2.5)  # the plot is being drawn (it would take minutes)
        assert not answers
        assert len(_group(proc.pid)) > 1  # the server and its plot workers
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)  # to the server alone, as a service manager would
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        stopped = time.monotonic() - t0
        deadline = time.monotonic() + 5
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _group(proc.pid)
        err = proc.stderr.read() if proc.poll() is not None else ""
    asker.join(timeout=70)
    assert stopped < 5, f"esma serve took {stopped:.1f} s to stop on SIGTERM"
    assert left == [], f"processes left after esma serve stopped: {left}"
    assert "Traceback" not in err and "Error" not in err, err[-2000:]
    assert len(answers) == 1 and (answers[0] == 503 or isinstance(answers[0], OSError)), answers  # not a 500
