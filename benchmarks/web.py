"""esma web benchmarks: page times of ``esma serve`` through real HTTP, and the size and time of the HTML export.

It builds no catalog: give it existing ones, made with the command line, e.g.

    esma search e --degree 2 --coeff-limit 3 --max-period 6 --workers 2 --db /tmp/d2web.sqlite   # ~2 min
    esma search e --db /tmp/e.sqlite                                                                  # seconds
    python benchmarks/web.py --db /tmp/d2web.sqlite --export-db /tmp/e.sqlite

``--db`` is served by the real ``esma serve`` (uvicorn, in a process of its own, on a free loopback port) and
each page is fetched over HTTP by this process: the time is from sending the request to the last byte of the
answer.  "first" is the first request of that URL after the server started (for the formula page: the plot is
drawn then), "median" the median of ``--repeat`` requests after it (the plot comes from the server's cache).
Pages measured, for ``--constant`` (default: the constant with the most formulas):

- the constant page (its families ranked, first page of 50);
- the constant page filtered (``kind=polynomial&min_gain=1&min_digits=1002``) and sorted (``sort=members``);
- the family page of the largest family (first page of 100 members);
- the formula page of the top-ranked family's representative, with its convergence plot (300 digits);
- the formula pages of ``--repeat`` other formulas, each fetched once (a plot drawn each time).

``--export-db`` (optional, may be given twice) times ``esma export --format html`` of that catalog, with and
without ``--all``, and prints the size of the file.  Targets: constant page < 200 ms, formula page < 1 s after
the first.  ``--json PATH`` also writes the figures as JSON.  Every request goes to 127.0.0.1 and the number
of requests is bounded (about 8 x ``--repeat``); the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ESMA = [sys.executable, "-m", "esma.cli.main"]
CONSTANT_TARGET_MS = 200.0
FORMULA_TARGET_MS = 1000.0


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(db: str, timeout: float = 60) -> Iterator[str]:
    """``esma serve --db DB`` on a free loopback port; yields its base URL; stops it (its process group)."""
    port = _free_port()
    proc = subprocess.Popen([*ESMA, "serve", "--db", db, "--port", str(port)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"esma serve exited with {proc.returncode}: {proc.stderr.read()[-1000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(base + "/searches", timeout=2):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"esma serve did not answer on {base} within {timeout} s")
            time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def fetch(url: str) -> tuple[float, bytes]:
    """Milliseconds from the request to the last byte, and the body (a non-200 answer stops the benchmark)."""
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"{url}: HTTP {r.status}")
    return (time.perf_counter() - t0) * 1000, body


def get_json(url: str) -> dict:
    return json.loads(fetch(url + ("&" if "?" in url else "?") + "format=json")[1])


def page_figures(db: str, constant: str | None, repeat: int) -> list[dict]:
    rows: list[dict] = []
    with served(db) as base:
        consts = get_json(base + "/")["constants"]
        if not consts:
            raise SystemExit(f"{db} holds no constant")
        const = (next((c for c in consts if c["text"] == constant), None) if constant
                 else max(consts, key=lambda c: c["formulas"]))
        if const is None:
            raise SystemExit(f"{db} holds no constant {constant!r}")
        cid = const["id"]

        def measure(what: str, path: str, target: float | None, times: int = repeat) -> dict:
            first, body = fetch(base + path)
            after = [fetch(base + path)[0] for _ in range(times)]
            row = {"page": what, "path": path, "first_ms": first, "median_ms": statistics.median(after),
                   "bytes": len(body), "target_ms": target}
            rows.append(row)
            return row

        measure(f"constant {const['text']}: {const['families']} families, 50 a page", f"/constants/{cid}",
                CONSTANT_TARGET_MS)
        chosen = f"/constants/{cid}?kind=polynomial&min_gain=1&min_digits=1002"
        row = measure("constant, filtered", chosen, CONSTANT_TARGET_MS)
        row["page"] += f": {get_json(base + chosen)['total']} families pass"
        measure("constant, sorted by members", f"/constants/{cid}?sort=members", CONSTANT_TARGET_MS)
        biggest = get_json(f"{base}/constants/{cid}?sort=members&per_page=1")["families"][0]
        measure(f"family, largest ({biggest['members']} members)", f"/families/{biggest['id']}", None)
        top = get_json(f"{base}/constants/{cid}?per_page=1")["families"][0]
        measure("formula + plot, top family's representative", f"/formulas/{top['representative_id']}",
                FORMULA_TARGET_MS)
        # other formulas, each seen once: the plot is drawn on each request (no cache)
        others = get_json(f"{base}/families/{biggest['id']}?per_page={repeat + 1}")["members"][1:]
        cold = [fetch(f"{base}/formulas/{m['id']}")[0] for m in others]
        if cold:
            rows.append({"page": f"formula + plot, {len(cold)} other formulas once each",
                         "path": f"/formulas/{others[0]['id']}, ...", "first_ms": max(cold),
                         "median_ms": statistics.median(cold), "bytes": None, "target_ms": FORMULA_TARGET_MS,
                         "first_is_max": True})
    return rows


def export_figures(db: str) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for extra in ((), ("--all",)):
            out = Path(tmp) / "catalog.html"
            t0 = time.perf_counter()
            res = subprocess.run([*ESMA, "export", "--format", "html", *extra, "--db", db, "--output", str(out)],
                                 capture_output=True, text=True, env=_env(), stdin=subprocess.DEVNULL, timeout=3600)
            seconds = time.perf_counter() - t0
            if res.returncode != 0:
                raise SystemExit(f"esma export failed: {res.stderr.strip()[-1000:]}")
            html = out.read_text(encoding="utf-8")
            rows.append({"export": "--all" if extra else "default", "db": db, "seconds": seconds,
                         "bytes": out.stat().st_size, "families": html.count('<section id="family-'),
                         "formula_sections": html.count('<section id="formula-')})
            out.unlink()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="catalog to serve (path or SQLAlchemy URL)")
    ap.add_argument("--constant", help="constant whose pages are measured (default: the one with most formulas)")
    ap.add_argument("--repeat", type=int, default=10, help="requests after the first (default 10)")
    ap.add_argument("--export-db", action="append", default=[], help="catalog to export as HTML (may repeat)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    if not 1 <= args.repeat <= 100:
        ap.error("--repeat must be between 1 and 100")

    pages = page_figures(args.db, args.constant, args.repeat)
    print(f"esma serve --db {args.db}: milliseconds per page over HTTP (first request, median of {args.repeat} after)")
    print(f"{'page':<52} {'first':>9} {'median':>9} {'KiB':>7}  target")
    for r in pages:
        target = r["target_ms"]
        ok = "" if target is None else (f"< {target:.0f} ms " + ("ok" if r["median_ms"] < target else "MISSED"))
        first = f"{r['first_ms']:.1f}" + ("*" if r.get("first_is_max") else "")
        kib = "" if r["bytes"] is None else f"{r['bytes'] / 1024:.0f}"
        print(f"{r['page']:<52} {first:>9} {r['median_ms']:>9.1f} {kib:>7}  {ok}")
    if any(r.get("first_is_max") for r in pages):
        print("* the slowest of them (each is a first request)")

    exports = [row for db in args.export_db for row in export_figures(db)]
    if exports:
        print()
        print(f"{'esma export --format html':<30} {'seconds':>8} {'MiB':>8} {'families':>9} {'formulas':>9}  catalog")
        for r in exports:
            print(f"{r['export']:<30} {r['seconds']:>8.1f} {r['bytes'] / 2**20:>8.2f} {r['families']:>9} "
                  f"{r['formula_sections']:>9}  {r['db']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"pages": pages, "exports": exports}, indent=2) + "\n")


if __name__ == "__main__":
    main()
