"""esma performance benchmarks: scan rate, Berlekamp–Massey kernel, end-to-end search.

Run from the repository root after installing esma:

    python benchmarks/bench.py            # everything (several minutes on 2 cores)
    python benchmarks/bench.py --quick    # smaller spaces and fewer repetitions, for development

Prints a table and writes ``benchmarks/results/latest.json``.  All timings are single core unless stated:
the scan runs in-process; ``esma search`` end to end runs as the user runs it (default executor).

What is measured:
- scan rate: candidates per second through the scan exactly as ``esma.search.scan_chunk`` runs it (layout,
  transducer terms + bounded Berlekamp–Massey, hit extraction; approval of hits excluded) on pi
  (rejection-dominated) and e (hit-dominated), for the spaces d=1 L=3 periods 1..4 and d=2 L=3 periods 1..6,
  over the whole space, best of up to 3 passes; the same through the exact pure-Python reference path (timed
  on chunks spread over the space until a time budget is spent), and the ratio;
- the Berlekamp–Massey kernel at n = 200 against python-flint's ``fmpz_mod_poly_ctx(p).minpoly``;
- ``esma search e`` with defaults: cold (empty Numba cache) and warm wall time, and peak memory of a search of
  pi at d=2 L=3 periods 1..6 (``/usr/bin/time -v``, serial executor so one process holds everything).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import esma
from esma.search import plan_search, scan_chunk
from esma.transducer import SCAN_PRIME

RESULTS = Path(__file__).parent / "results"


def _scan_plan(plan, indices, reference: bool) -> tuple[int, float]:
    """Candidates scanned and seconds: exactly the scan of ``esma.search.run_chunk`` (approval excluded)."""
    candidates = 0
    t0 = time.perf_counter()
    for i in indices:
        scan_chunk(plan, i, reference=reference)
        candidates += plan.chunk_candidates(i)
    return candidates, time.perf_counter() - t0


def _spread(n: int) -> list[int]:
    """0..n-1 in an order that covers the range evenly early (bit-reversal-like halving)."""
    order, seen, step = [], set(), n
    while step >= 1:
        for i in range(0, n, step):
            if i not in seen:
                seen.add(i)
                order.append(i)
        step //= 2
    return order + [i for i in range(n) if i not in seen]


def bench_scan(quick: bool) -> list[dict]:
    spaces = [("d1 L3 p1..4", 1, 3, 4), ("d2 L3 p1..6", 2, 3, 6)]
    if quick:
        spaces = [("d1 L3 p1..4", 1, 3, 4), ("d2 L2 p1..4", 2, 2, 4)]
    out = []
    for expr in ("pi", "e"):
        for name, d, L, pmax in spaces:
            plan = plan_search(expr, degree=d, coeff_limit=L, max_period=pmax, chunk_size=64)
            _scan_plan(plan, [0], reference=False)  # compile / load kernels
            # the whole space, best of up to 3 passes (a shared 2-core machine is noisy), within a time budget
            passes: list[float] = []
            while len(passes) < 3 and (not passes or sum(passes) < (10.0 if quick else 40.0)):
                n_fast, t = _scan_plan(plan, range(len(plan.chunks)), reference=False)
                passes.append(t)
            t_fast = min(passes)
            # the reference path on chunks spread over the whole space (the plan lists degree 1 first)
            budget = 3.0 if quick else 10.0
            order = _spread(len(plan.chunks))
            n_ref, t_ref, k = 0, 0.0, 0
            while t_ref < budget and k < len(order):
                n, t = _scan_plan(plan, [order[k]], reference=True)
                n_ref += n
                t_ref += t
                k += 1
            fast, ref = n_fast / t_fast, n_ref / t_ref
            out.append({
                "constant": expr,
                "space": name,
                "candidates": n_fast,
                "fast_seconds": round(t_fast, 3),
                "fast_passes_seconds": [round(t, 3) for t in passes],
                "fast_rate": round(fast),
                "reference_candidates": n_ref,
                "reference_rate": round(ref),
                "ratio": round(fast / ref, 1),
            })
            print(f"  scan {expr:3s} {name}: {fast:>10,.0f}/s fast, {ref:>8,.0f}/s reference ({fast / ref:.0f}x)",
                  flush=True)
    return out


def bench_bm(quick: bool) -> dict:
    from flint import fmpz_mod_poly_ctx

    from esma.kernels.bm import bm_complexity_kernel
    from esma.kernels.scan import bm_float_kernel, bm_scratch_size

    n = 200
    rng = random.Random(1)
    seqs = [np.array([rng.randrange(SCAN_PRIME) for _ in range(n)], np.int64) for _ in range(50)]
    scratch = np.empty(bm_scratch_size(n), np.float64)
    reps = 20 if quick else 200
    bm_float_kernel(seqs[0], n, SCAN_PRIME, n, scratch)
    bm_complexity_kernel(seqs[0], n, SCAN_PRIME, n)
    t0 = time.perf_counter()
    for _ in range(reps):
        for s in seqs:
            bm_float_kernel(s, n, SCAN_PRIME, n, scratch)
    t_float = (time.perf_counter() - t0) / (reps * len(seqs))
    t0 = time.perf_counter()
    for _ in range(reps):
        for s in seqs:
            bm_complexity_kernel(s, n, SCAN_PRIME, n)
    t_int = (time.perf_counter() - t0) / (reps * len(seqs))
    ctx = fmpz_mod_poly_ctx(SCAN_PRIME)
    lists = [[int(x) for x in s] for s in seqs]
    t0 = time.perf_counter()
    for _ in range(reps):
        for s in lists:
            ctx.minpoly(s)
    t_flint = (time.perf_counter() - t0) / (reps * len(lists))
    res = {
        "n": n,
        "modulus": SCAN_PRIME,
        "esma_float_kernel_us": round(t_float * 1e6, 2),
        "esma_int_kernel_us": round(t_int * 1e6, 2),
        "flint_minpoly_us": round(t_flint * 1e6, 2),
        "ratio_flint_over_esma": round(t_flint / t_float, 1),
    }
    print(f"  BM n=200: esma {res['esma_float_kernel_us']} us, flint minpoly {res['flint_minpoly_us']} us "
          f"({res['ratio_flint_over_esma']}x)", flush=True)
    return res


def _timed(cmd: list[str], env: dict, cwd: str) -> dict:
    """Wall time and peak RSS of a command via GNU time -v."""
    gnu_time = shutil.which("time") or "/usr/bin/time"
    t0 = time.perf_counter()
    proc = subprocess.run([gnu_time, "-v", *cmd], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return {"wall_seconds": round(wall, 2), "peak_rss_mb": round(int(m.group(1)) / 1024, 1) if m else None}


def bench_end_to_end(quick: bool) -> dict:
    esma_cmd = shutil.which("esma", path=os.path.dirname(sys.executable)) or shutil.which("esma")
    if esma_cmd is None:
        raise RuntimeError("the esma command is not installed")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["NUMBA_CACHE_DIR"] = os.path.join(tmp, "numba-cache")  # empty: a cold start compiles everything
        env.pop("ESMA_DB", None)
        cold = _timed([esma_cmd, "search", "e", "--db", os.path.join(tmp, "cold.sqlite"), "--limit", "0"], env, tmp)
        warm = _timed([esma_cmd, "search", "e", "--db", os.path.join(tmp, "warm.sqlite"), "--limit", "0"], env, tmp)
        out["search_e_cold"] = cold
        out["search_e_warm"] = warm
        print(f"  esma search e: cold {cold['wall_seconds']} s, warm {warm['wall_seconds']} s", flush=True)
        big = ["--degree", "2", "--coeff-limit", "2" if quick else "3", "--max-period", "4" if quick else "6"]
        mem = _timed([esma_cmd, "search", "pi", *big, "--executor", "serial", "--limit", "0",
                      "--db", os.path.join(tmp, "big.sqlite")], env, tmp)
        out["search_pi_big"] = {"args": " ".join(big), **mem}
        print(f"  esma search pi {' '.join(big)}: {mem['wall_seconds']} s, peak {mem['peak_rss_mb']} MB", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller spaces, fewer repetitions")
    ap.add_argument("--only", choices=["scan", "bm", "end-to-end"], default=None)
    args = ap.parse_args()
    report: dict = {
        "esma_version": esma.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "processor": platform.processor()},
        "quick": args.quick,
    }
    print("esma benchmarks" + (" (quick)" if args.quick else ""), flush=True)
    if args.only in (None, "bm"):
        report["bm"] = bench_bm(args.quick)
    if args.only in (None, "scan"):
        report["scan"] = bench_scan(args.quick)
    if args.only in (None, "end-to-end"):
        report["end_to_end"] = bench_end_to_end(args.quick)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {RESULTS / 'latest.json'}")
    if "scan" in report:
        print("\n| constant | space | fast cand/s | reference cand/s | ratio |")
        print("|---|---|---:|---:|---:|")
        for r in report["scan"]:
            print(f"| {r['constant']} | {r['space']} | {r['fast_rate']:,} | {r['reference_rate']:,} | {r['ratio']} |")


if __name__ == "__main__":
    main()
