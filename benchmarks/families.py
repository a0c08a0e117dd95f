"""Families and proofs benchmarks (issues #11 and #13): the whole search as a user runs it.

Run from the repository root after installing esma:

    python benchmarks/families.py              # everything (about five minutes on 2 cores)
    python benchmarks/families.py --quick      # e at degree 2 with coefficients in [-2, 2] instead of [-3, 3]
    python benchmarks/families.py --only d2    # or: proofs

Prints tables and writes ``benchmarks/results/families.json``.

What is measured:

- ``d2``: ``esma search e --degree 2 --coeff-limit 3 --max-period 6 --workers 1 --json`` end to end (a fresh
  catalog, output to a file), wall time and peak memory (GNU ``time -v``), and where the time went, from the
  search's own ``timings`` (scan; confirming the hits; the families phase: approvals, proofs, catalog writes;
  the rest of the wall time is start-up, planning and the JSON output).  In the same run, the pure-Python
  reference path (``esma.search.run_chunk(..., reference=True)``: the twins of the Numba kernels, as the released
  prototype computes) is timed per candidate on chunks spread over the same space: the ratio of its estimated
  time for the whole space to esma's wall time is the figure that survives a noisy machine (target >= 100x;
  the prototype spends about 1 ms per candidate).
- ``proofs``: the default searches of e, exp(2), tan(1), tanh(1/2) and besseli(1, 2)/besseli(0, 2), and e at
  degree 2 with coefficients in [-2, 2], through the command line (default executor): formulas and families
  proved, and the time the proofs (finding and checking certificates) add, as a share of the search's wall time
  (target <= 20%).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import esma

RESULTS = Path(__file__).parent / "results"
PROOF_SEARCHES = [
    ("e", []),
    ("exp(2)", []),
    ("tan(1)", []),
    ("tanh(1/2)", []),
    ("besseli(1, 2)/besseli(0, 2)", []),
    ("e", ["--degree", "2", "--coeff-limit", "2"]),
]


def _esma() -> str:
    cmd = shutil.which("esma", path=os.path.dirname(sys.executable)) or shutil.which("esma")
    if cmd is None:
        raise RuntimeError("the esma command is not installed (pip install .)")
    return cmd


def _run(args: list[str], cwd: str) -> tuple[dict, float, float | None]:
    """(JSON document, wall seconds, peak RSS in MB) of ``esma ARGS --json``, stdout to a file."""
    gnu_time = shutil.which("time") or "/usr/bin/time"
    env = {k: v for k, v in os.environ.items() if k != "ESMA_DB"}
    out = os.path.join(cwd, "out.json")
    t0 = time.perf_counter()
    with open(out, "w") as fh:
        proc = subprocess.run([gnu_time, "-v", _esma(), *args, "--json"], env=env, cwd=cwd, stdout=fh,
                              stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"esma {' '.join(args)} failed: {proc.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    with open(out) as fh:
        doc = json.load(fh)
    return doc, wall, (int(m.group(1)) / 1024 if m else None)


def _spread(n: int) -> list[int]:
    order, seen, step = [], set(), n
    while step >= 1:
        for i in range(0, n, step):
            if i not in seen:
                seen.add(i)
                order.append(i)
        step //= 2
    return order


def reference_rate(expr: str, params: dict, budget: float) -> dict:
    """Seconds per candidate of the pure-Python reference path, on chunks spread over the space.

    The reference runs the paper's window only (``max_qperiod=0``: 100 terms and Berlekamp–Massey, what the
    released prototype computes per candidate), not the deep search's 760 terms, so that the ratio compares esma's
    whole search with the prototype's work, not with a Python deep search."""
    from esma.search import plan_search, run_chunk

    plan = plan_search(expr, **{**params, "max_qperiod": 0})
    candidates, seconds, chunks = 0, 0.0, 0
    for i in _spread(len(plan.chunks)):
        if seconds >= budget:
            break
        t0 = time.perf_counter()
        run_chunk(plan, i, reference=True)
        seconds += time.perf_counter() - t0
        candidates += plan.chunk_candidates(i)
        chunks += 1
    return {"chunks": chunks, "candidates": candidates, "seconds": round(seconds, 2),
            "seconds_per_candidate": seconds / candidates, "space": plan.candidates}


def bench_d2(quick: bool) -> dict:
    limit = "2" if quick else "3"
    args = ["search", "e", "--degree", "2", "--coeff-limit", limit, "--max-period", "6", "--workers", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        _run(["search", "e", "--coeff-limit", "1", "--max-period", "1", "--db", "warm.sqlite"], tmp)  # warm caches
        doc, wall, rss = _run([*args, "--db", "d2.sqlite"], tmp)
    s = doc["search"]
    t = s.get("timings", {})
    accounted = sum(t.get(k, 0.0) for k in ("scan", "hits", "families"))
    ref = reference_rate("e", {"degree": 2, "coeff_limit": int(limit), "max_period": 6}, 10.0 if quick else 30.0)
    ref_total = ref["seconds_per_candidate"] * ref["space"]
    res = {
        "command": "esma " + " ".join(args) + " --json",
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(rss, 1) if rss else None,
        "candidates": s["candidates"],
        "scanned": s["scanned"],
        "formulas": s["conjectures"],
        "families": s["families"],
        "approvals": s["approvals"],
        "proved": s.get("proved"),
        "timings": {**{k: round(v, 2) for k, v in t.items()},
                    "start-up, planning and output": round(wall - accounted, 2)},
        "reference": {**ref, "estimated_seconds_for_the_space": round(ref_total)},
        "ratio_reference_over_esma": round(ref_total / wall, 1),
    }
    print(f"  {res['command']}\n    wall {res['wall_seconds']} s, peak {res['peak_rss_mb']} MB; {res['formulas']:,} "
          f"formulas in {res['families']:,} families ({res['approvals']:,} approvals, {res['proved']:,} proved)")
    for k, v in res["timings"].items():
        print(f"    {k:32s} {v:7.2f} s")
    print(f"    reference path: {ref['seconds_per_candidate'] * 1e6:.0f} us per candidate ({ref['candidates']:,} "
          f"candidates in {ref['seconds']} s) -> {res['reference']['estimated_seconds_for_the_space']:,} s for the "
          f"space: {res['ratio_reference_over_esma']}x esma's wall time", flush=True)
    return res


def bench_proofs() -> list[dict]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        _run(["search", "e", "--coeff-limit", "1", "--max-period", "1", "--db", "warm.sqlite"], tmp)
        for i, (expr, extra) in enumerate(PROOF_SEARCHES):
            doc, wall, _ = _run(["search", expr, *extra, "--db", f"p{i}.sqlite"], tmp)
            s = doc["search"]
            row = {
                "search": " ".join(["esma search", repr(expr) if " " in expr else expr, *extra]),
                "wall_seconds": round(wall, 2),
                "formulas": s["conjectures"],
                "proved": s["proved"],
                "families": s["families"],
                "proved_families": s["proved_families"],
                "proof_seconds": s["proof_seconds"],
                "proof_share": round(s["proof_seconds"] / wall, 3),
                "unproved": s.get("unproved_families", []),
            }
            out.append(row)
            print(f"  {row['search']}: {row['proved']}/{row['formulas']} formulas, {row['proved_families']}/"
                  f"{row['families']} families proved; proofs {row['proof_seconds']} s of {row['wall_seconds']} s "
                  f"({100 * row['proof_share']:.0f}%)", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller degree-2 space")
    ap.add_argument("--only", choices=["d2", "proofs"], default=None)
    args = ap.parse_args()
    report: dict = {
        "esma_version": esma.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "processor": platform.processor()},
        "quick": args.quick,
    }
    print("esma families and proofs benchmarks" + (" (quick)" if args.quick else ""), flush=True)
    if args.only in (None, "d2"):
        report["d2"] = bench_d2(args.quick)
    if args.only in (None, "proofs"):
        report["proofs"] = bench_proofs()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "families.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {RESULTS / 'families.json'}")
    if "proofs" in report:
        print("\n| search | formulas proved | families proved | proofs | share of wall |")
        print("|---|---:|---:|---:|---:|")
        for r in report["proofs"]:
            print(f"| {r['search']} | {r['proved']}/{r['formulas']} | {r['proved_families']}/{r['families']} | "
                  f"{r['proof_seconds']} s | {100 * r['proof_share']:.0f}% |")


if __name__ == "__main__":
    main()
