"""Helpers of the web tests (tests/web): run esma, copy a catalog, serve one with the real ``esma serve``."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ESMA = [sys.executable, "-m", "esma.cli.main"]


def esma_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_esma(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real command line; returns the completed process (text output)."""
    return subprocess.run([*ESMA, *args], capture_output=True, text=True, cwd=cwd, env=esma_env(),
                          timeout=timeout, stdin=subprocess.DEVNULL)


def copy_catalog(src: Path, dst: Path) -> Path:
    """A consistent copy of an SQLite catalog (WAL included), by the backup API."""
    s, d = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        s.backup(d)
    finally:
        s.close()
        d.close()
    return dst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(
    db: Path, cwd: Path, host: str = "127.0.0.1", timeout: float = 60, args: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``esma serve --db DB [args]`` on a free loopback port (uvicorn in a subprocess of its own process group);
    yields (base URL, process) once the server answers, and stops it (its group, by id) afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [*ESMA, "serve", "--db", str(db), "--host", host, "--port", str(port), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=cwd,
        env=esma_env(), start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"esma serve exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"esma serve did not answer on {base} within {timeout} s")
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
