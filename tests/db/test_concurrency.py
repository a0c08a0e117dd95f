"""Several processes writing the same catalog at once: an SQLite file (WAL, BEGIN IMMEDIATE) and a PostgreSQL
database (row locks, unique keys, savepoints); all finish, nothing is duplicated or lost."""

from __future__ import annotations

import multiprocessing
import runpy
import sqlite3
from pathlib import Path

import pytest

from esma.db import Catalog
from esma.records import Conjecture

WORKER = str(Path(__file__).with_name("catalog_worker.py"))
CHUNKS = 30


def record(key: str, n: int) -> dict:
    """A fully populated conjecture record (as a picklable dict) with key ``key``."""
    return Conjecture(
        constant="pi",
        lhs=f"{n}/pi",
        lhs_numerator=(0, n),
        lhs_denominator=(1, 0),
        value="0.318309886183790671537767526745",
        signs=(1, -1),
        preperiod=0,
        terms=(n, 10**40 + n, 3),
        recurrence=(1, -(10**40), 1),
        closed_form="a(n) = n",
        kind="polynomial",
        verified_digits=50 + n,
        digits_per_term=1.25,
        scf_digits_per_term=0.5,
        key=key,
        group=f"g{n % 4}",
        period=2,
        polynomials=(("0", "1"), ("1/2",)),
        linear_complexity=2,
        detection_terms=30,
        detection_digits=25,
        verify_terms=90,
        cf_text=f"{n} + ...",
        extra={"n": n},
    ).to_dict()


def chunks_for(who: int) -> list[list[dict]]:
    # one formula both processes find (concurrent upsert of the same key) and one of their own per chunk
    return [[record(f"shared-{i}", i), record(f"own-{who}-{i}", 100 * who + i)] for i in range(CHUNKS)]


def check_integrity(db: str) -> None:
    """SQLite's own consistency check of the file (PostgreSQL has no equivalent worth running here)."""
    if "://" in db:
        return
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def run_workers(db: str, params: list[dict], same_results: bool = False) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(params))
    procs = [
        ctx.Process(
            target=runpy.run_path,
            args=(WORKER,),
            kwargs={
                "run_name": "__esma_worker__",
                "init_globals": {
                    "WORKER_ARGS": {
                        "db": str(db),
                        "constant": "pi",
                        "params": p,
                        "chunks": chunks_for(0 if same_results else who),
                        "barrier": barrier,
                    }
                },
            },
        )
        for who, p in enumerate(params)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    for p in procs:
        if p.is_alive():
            p.kill()
    assert [p.exitcode for p in procs] == [0] * len(procs)
    check_integrity(db)


def test_two_processes_two_searches(catalog_url: str) -> None:
    db = catalog_url  # fresh: both processes also race to create the schema
    run_workers(db, [{"worker": 0}, {"worker": 1}])
    with Catalog(db) as cat:
        searches = cat.searches()
        assert len(searches) == 2
        for s in searches:
            assert (s["status"], s["chunks_done"], s["candidates"]) == ("done", 30, 30_000)
            assert s["conjectures"] == 2 * CHUNKS
            assert cat.done_chunks(s["id"]) == set(range(CHUNKS))
            assert len(cat.search_conjectures(s["id"])) == 2 * CHUNKS
        keys = sorted(c.key for c in cat.conjectures())
        assert len(keys) == 3 * CHUNKS == len(set(keys))
        stored = {c.key: c for c in cat.conjectures()}
        assert stored["own-1-7"].terms == (107, 10**40 + 107, 3)
        assert stored["shared-5"].recurrence == (1, -(10**40), 1)
        # one constant row (ids are not compared: a PostgreSQL sequence value spent by the insert that lost
        # the race is not given back)
        assert [(x["text"], x["conjectures"]) for x in cat.constants()] == [("pi", 3 * CHUNKS)]


def test_two_processes_same_search(catalog_url: str) -> None:
    """Both run the same search (same parameters, same results) over the same chunks: each chunk is stored
    exactly once, whichever process commits it first."""
    db = catalog_url
    run_workers(db, [{"depth": 1}, {"depth": 1}], same_results=True)
    with Catalog(db) as cat:
        [s] = cat.searches()
        assert (s["chunks_done"], s["candidates"], s["status"]) == (CHUNKS, 1000 * CHUNKS, "done")
        assert cat.done_chunks(s["id"]) == set(range(CHUNKS))
        # each chunk came from one process or the other; its conjectures are there and linked once
        linked = len(cat.search_conjectures(s["id"]))
        assert s["conjectures"] == linked == len(cat.conjectures()) == 2 * CHUNKS


@pytest.mark.parametrize("n", [3])
def test_many_openers_of_a_fresh_file(catalog_url: str, n: int) -> None:
    db = catalog_url
    run_workers(db, [{"worker": i} for i in range(n)])
    with Catalog(db) as cat:
        assert len(cat.searches()) == n
