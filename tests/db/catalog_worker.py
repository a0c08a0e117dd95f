"""Body of the child processes of ``test_concurrency.py``.

Run with ``runpy.run_path(this_file, init_globals={"WORKER_ARGS": {...}}, run_name="__esma_worker__")`` so a
spawned child needs no importable test package (the tests directory has no ``__init__.py``).
"""

from __future__ import annotations

import time
from typing import Any

from esma.db import Catalog
from esma.records import Conjecture


def work(
    db: str,
    constant: str,
    params: dict[str, Any],
    chunks: list[list[dict[str, Any]]],
    barrier: Any,
    esma_version: str = "test",
) -> None:
    """Open the catalog (all workers at once, on a possibly fresh file), then store every chunk's formulas and
    commit the chunk, as a search's two phases do, interleaved with the other process."""
    barrier.wait(timeout=60)
    with Catalog(db) as cat:
        sid = cat.start_search(constant, params, len(chunks), esma_version)
        barrier.wait(timeout=60)  # start committing together, so the writes really interleave
        for index, records in enumerate(chunks):
            time.sleep(0.002)  # "compute" the chunk: lets the other process take the lock in between
            conjectures = [Conjecture.from_dict(r) for r in records]
            ids = cat.store_formulas(sid, conjectures)
            cat.commit_chunk(sid, index, candidates=1000, seconds=0.01)
            if len(ids) != len(records):
                raise AssertionError(f"chunk {index}: {len(ids)} ids for {len(records)} conjectures")
        cat.finish_search(sid)


if __name__ == "__esma_worker__":
    work(**globals()["WORKER_ARGS"])
