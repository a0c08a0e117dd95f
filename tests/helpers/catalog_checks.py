"""Checks on a catalog shared by several test folders (tests/cli, tests/hardening, tests/scaleout)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def chunks_committed(db: Path) -> int:
    """Rows in search_chunks, read with plain sqlite3 while another process writes (0 until the schema exists)."""
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=rw", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM search_chunks").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # no such table yet, or briefly locked while the schema is created
        return 0


def check_searches_match(snap: dict, want: dict[str, dict]) -> None:
    """The snapshot's conjectures are unique, and its searches (by constant) are those of ``want``, each done,
    fully checkpointed and with the reference's figures and links."""
    keys = [(c.constant, c.key) for c in snap["conjectures"]]
    assert len(set(keys)) == len(keys), "duplicate conjectures"
    got = {s["constant"]: s for s in snap["searches"]}
    assert set(got) == set(want)
    assert len(snap["searches"]) == len(want), "a search was registered twice"
    for constant, s in got.items():
        r = want[constant]
        assert s["status"] == "done"
        assert s["chunks_done"] == s["chunks_total"] == r["chunks_total"]
        assert snap["chunks"][s["id"]] == set(range(s["chunks_total"]))
        for k in ("params", "candidates", "hits", "conjectures"):
            assert s[k] == r[k], (constant, k)
        assert len(snap["linked"][s["id"]]) == r["conjectures"]


#: How a search's progress lines on a pipe begin: its phases' messages and progress, and the further lines of a
#: message wrapped to the width (indented).
PROGRESS_LINES = ("esma: families:", "esma: planning:", "esma: scan:", "esma:   ")


def result_lines(stderr: str) -> list[str]:
    """The lines of a command's stderr without the progress lines (``PROGRESS_LINES``: ``esma: families: ...``
    and the like, and the wrapped further lines of a message), which a search prints before its summary."""
    return [line for line in stderr.strip().splitlines() if not line.startswith(PROGRESS_LINES)]
