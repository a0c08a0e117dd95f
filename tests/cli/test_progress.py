"""Progress of a search on stderr (issue 17): from the first second (planning included), with the candidate
total and the time left during the scan, through the families phase; messages on lines of their own, never
glued onto the bar; --max-seconds bounds the planning of a large space."""

from __future__ import annotations

import io
import json
import re
import time
from dataclasses import dataclass

import pytest

from esma.cli import output
from esma.search import plan_search

#: A space whose layout takes tens of seconds (1,205,604 pairs of coefficient vectors; issue 17's example).
BIG = ["search", "e", "--degree", "2", "--coeff-limit", "6", "--max-period", "8"]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class _Chunk:
    candidates: int
    seconds: float = 0.01


@pytest.fixture(scope="module")
def plan():
    return plan_search("e", coeff_limit=1, max_period=2)


def test_plain_progress_lines_give_the_total_and_the_time_left(plan, capsys, monkeypatch):
    monkeypatch.setattr(output.Progress, "PLAIN_SECONDS", 0.0)  # a line at every step
    with output.Progress(live=False) as progress:
        progress.planning("transforms", 3, 12)
        progress.planning("values", 4096, 8192)
        progress.scan(plan, 0, list(range(len(plan.chunks))))
        time.sleep(0.01)
        progress.update(_Chunk(plan.chunk_candidates(0)), 1, len(plan.chunks))
        progress.families(0, 4, 0)
        time.sleep(0.01)
        progress.families(1, 4, 10)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "esma: planning: laying out the transforms (19% of the planning)"
    assert err[1] == "esma: planning: comparing their values (79% of the planning)"
    scan = next(line for line in err if line.startswith("esma: scan:"))
    assert f"{plan.chunk_candidates(0):,}/{plan.candidates:,} candidates" in scan
    assert f"(1/{len(plan.chunks)} chunks)" in scan and re.search(r"about \d+ (s|min|h) left$", scan)
    fam = err[-1]
    assert fam.startswith("esma: families: 1/4 families · 10 formulas, about ") and fam.endswith(" left")
    assert all(line.startswith("esma: ") for line in err)


def test_a_resumed_scan_counts_the_candidates_already_done(plan):
    todo = list(range(1, len(plan.chunks)))
    progress = output.Progress(live=False)
    progress.scan(plan, 1, todo)
    assert progress.candidates_before == plan.chunk_candidates(0)


def test_messages_are_lines_of_their_own_above_the_bar(plan):
    """On a terminal every message starts a line of its own (the bar is redrawn under it) and the bar is gone
    at the end; the bar shows the candidate total."""
    from rich.console import Console

    sink = io.StringIO()
    console = Console(file=sink, force_terminal=True, width=80, highlight=False)
    with output.Progress(live=True, console=console) as progress:
        progress.planning("transforms", 1, 2)
        progress.message("planning: laying out 1,205,604 pairs of coefficient vectors")
        progress.scan(plan, 0, list(range(len(plan.chunks))))
        progress._bar.refresh()
        progress.update(_Chunk(plan.chunk_candidates(0)), 1, len(plan.chunks))
        progress._bar.refresh()
        progress.message("families: 1,548 hits in 186 families, one approval each")
        progress.families(1, 2, 5)
        progress._bar.refresh()
    text = _ANSI.sub("", sink.getvalue())
    for found in re.finditer("esma: ", text):
        assert found.start() == 0 or text[found.start() - 1] in "\r\n", text[max(0, found.start() - 40):]
    assert f"/{plan.candidates:,} candidates" in text and "left" in text
    assert "1/2 families · 5 formulas" in text
    # the long message is wrapped to the console's width, each line a line of its own
    lines = [line for line in re.split(r"[\r\n]+", text) if line.startswith("esma: ")]
    assert any(line.startswith("esma: families: 1,548 hits") for line in lines)
    assert all(len(line) <= 80 for line in lines)


def test_a_search_reports_its_families_phase(esma_main, monkeypatch, tmp_path):
    """The runner's ``on_families`` reaches the progress: on a pipe, a line of families stored of the total,
    formulas stored and the time left (every step here), ending with every family stored."""
    monkeypatch.setattr(output.Progress, "PLAIN_SECONDS", 0.0)
    res = esma_main("search", "e", "--coeff-limit", "1", "--max-period", "2", "--executor", "serial", "--json",
                    "--db", tmp_path / "c.sqlite")
    assert res.code == 0, res.stderr
    s = json.loads(res.stdout)["search"]
    lines = [line for line in res.stderr.splitlines() if re.match(r"esma: families: [\d,]+/[\d,]+ families", line)]
    assert lines, res.stderr
    last = re.match(r"esma: families: ([\d,]+)/([\d,]+) families · ([\d,]+) formulas?, about .* left$", lines[-1])
    assert last, lines[-1]
    done, total, stored = (int(g.replace(",", "")) for g in last.groups())
    assert done == total == s["families"] and stored == s["conjectures"]


def test_max_seconds_bounds_the_planning_of_a_large_space(esma_run, tmp_path):
    """Without a bound this layout takes tens of seconds; with --max-seconds 2 the command ends within a few
    seconds, says where it stopped on one line, exits 0 and has stored nothing (no search registered)."""
    db = tmp_path / "c.sqlite"
    t0 = time.monotonic()
    res = esma_run(*BIG, "--max-seconds", "2", "--db", db, env={"COLUMNS": "80"})
    took = time.monotonic() - t0
    assert res.code == 0, res.stderr
    assert took < 15, took
    lines = res.stderr.splitlines()
    assert lines[0] == "esma: planning: laying out 1,205,604 pairs of coefficient vectors"
    stop = " ".join(line.removeprefix("esma:").strip() for line in lines[1:])
    assert stop.startswith("stopped after --max-seconds 2 while planning (laying out the transforms)")
    assert "nothing was searched or stored" in stop and "Traceback" not in res.stderr
    assert all(len(line) <= 80 for line in lines)
    assert not db.exists() or json.loads(esma_run("export", "--db", db).stdout)["searches"] == []
    doc = esma_run(*BIG, "--max-seconds", "1", "--json", "--db", db)
    assert doc.code == 0 and json.loads(doc.stdout)["search"] is None


def test_a_small_space_is_planned_whole_and_scans_a_chunk(esma_run, tmp_path):
    """A layout of milliseconds is not cut: the search runs at least one chunk, as before."""
    res = esma_run("search", "e", "--coeff-limit", "1", "--max-period", "2", "--executor", "serial",
                   "--max-seconds", "0.001", "--json", "--db", tmp_path / "c.sqlite")
    assert res.code == 0, res.stderr
    s = json.loads(res.stdout)["search"]
    assert s["chunks_done"] >= 1 and "while planning" not in res.stderr
