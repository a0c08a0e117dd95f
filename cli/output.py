"""Rendering for the command line: JSON, rows fitted to the terminal, progress on stderr, export documents.

Rows: one per family (or formula) of at most 3 lines of the terminal's width (``COLUMNS``, else the terminal's,
else 80), never cut inside a term; what is cut ends with the one ellipsis ``…``.  The full texts are
``esma show``'s and ``--json``'s.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, TextIO

import click

__all__ = [
    "ELLIPSIS",
    "Progress",
    "clip",
    "closed_form_compact",
    "conjecture_table",
    "err",
    "families_table",
    "family_row",
    "family_text",
    "formula_row",
    "info",
    "nothing_stored_reason",
    "print_json",
    "search_table",
    "stream_json",
    "summary_lines",
    "terminal_width",
    "write_export",
]


def err(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    click.echo(f"esma: {message}", err=True)


def print_json(doc: Any) -> None:
    # big integers stay exact JSON integers; Python's int->str limit does not apply to json.dumps of ints
    # below 4300 digits, and recurrence terms stay far below it
    click.echo(json.dumps(doc, indent=2, default=str))


def stream_json(head: dict[str, Any], name: str, records: Iterable[str], out: TextIO | None = None) -> int:
    """One JSON object on ``out`` (stdout): the fields of ``head``, then ``name``: a list of the JSON texts of
    ``records``, one per line, written as they come (nothing is held whole; the C encoder writes ``head``).
    Returns the number of records."""
    out = out or sys.stdout
    body = json.dumps(head, default=str, separators=(", ", ": "))
    out.write(body[:-1] + (", " if head else "") + json.dumps(name) + ": [")
    n = 0
    for text in records:
        out.write(("\n" if not n else ",\n") + text)
        n += 1
    out.write("\n]}\n" if n else "]}\n")
    out.flush()
    return n


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


# ------------------------------------------------------------------------------------------------ widths

#: The one ellipsis of terminal output: a fraction, a closed form or a text cut to fit ends with it.
ELLIPSIS = "…"
#: Rows are laid out for at least this many columns (a narrower terminal wraps them).
MIN_WIDTH = 40
#: Indent of a row's second and third lines (under the formula, after the rank).
INDENT = "     "


def terminal_width(fd: int = 1) -> int:
    """Columns to lay text out in: ``COLUMNS`` when set, else the width of the terminal on ``fd`` (1: stdout,
    2: stderr), else 80 (a pipe or a file)."""
    import os

    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return max(MIN_WIDTH, int(env))
    try:
        return max(MIN_WIDTH, os.get_terminal_size(fd).columns)
    except (OSError, ValueError):
        return 80


def clip(text: str, room: int) -> str:
    """``text`` whole when it fits in ``room`` columns, else cut after a whole word or term and ended with the
    ellipsis (never inside one).

    >>> clip("a(n) = 2*a(n-1) + a(n-2) for n >= 2", 24)
    'a(n) = 2*a(n-1) + …'
    >>> clip("tan(1)", 10)
    'tan(1)'
    """
    if len(text) <= room:
        return text
    cut = text.rfind(" ", 0, max(room - 1, 0))
    return (text[:cut].rstrip() + " " + ELLIPSIS) if cut > 0 else ELLIPSIS


def _one_ellipsis(text: str) -> str:
    """The continued fraction's text with the terminal's one ellipsis (``esma.render.cf_text`` may end in
    three dots)."""
    return text.replace("...", ELLIPSIS)


def fraction_text(terms, signs, room: int, most: int = 8, least: int = 1) -> str | None:
    """``a_0 + b_0/(a_1 + ...)`` with as many of the first ``most`` terms as fit in ``room`` columns (whole
    terms only), or ``None`` when fewer than ``least`` do.

    >>> fraction_text((1, 2, 4, 1, 6), (1, -1, 1), 25)
    '1 + 1/(2 - 1/(4 + …))'
    """
    from esma.render import cf_text

    best = None
    for k in range(1, min(len(terms), most) + 1):
        text = _one_ellipsis(cf_text(terms, signs, k))
        if len(text) > room:
            break
        best = text if k >= least or k == len(terms) else None
    return best


def formula_text(lhs: str, terms, signs, room: int, most: int = 8, least: int = 1) -> str | None:
    """``lhs = a_0 + b_0/(a_1 + ...)`` fitted to ``room`` (see ``fraction_text``); ``None`` when it does not fit."""
    cf = fraction_text(terms, signs, room - len(lhs) - 3, most, least)
    return None if cf is None else f"{lhs} = {cf}"


_START = re.compile(r"\bfor n >= (\d+)")


def closed_form_compact(conj, room: int | None = None) -> str:
    """The closed form of a formula's terms in one short line, fitted to ``room`` columns: its interlaced
    polynomials as a list (as many as fit, then the ellipsis), the period and where it starts; the full text
    is ``esma show``'s.  A closed form that is a recurrence is its text, cut at a term.

    >>> from esma.records import Conjecture
    >>> c = Conjecture("e", "c", (0, 1), (1,), "", (1,), 0, (), (), "a(3m) = 1, a(3m+1) = 2m + 2, a(3m+2) = 1",
    ...                "polynomial", 0, 0.0, 0.0, polynomials=(("1",), ("2", "2"), ("1",)))
    >>> closed_form_compact(c)
    'a(3m+j) = 1, 2m+2, 1 (period 3)'
    >>> closed_form_compact(c, 26)
    'a(3m+j) = 1, … (period 3)'
    """
    from esma.polys import poly_text

    if not conj.polynomials:
        text = conj.closed_form.replace(">=", "≥")
        return text if room is None else clip(text, room)
    n = len(conj.polynomials)
    var = "n" if n == 1 else "m"
    values = [poly_text(tuple(Fraction(x) for x in p), var, "plain").replace(" ", "") for p in conj.polynomials]
    found = _START.search(conj.closed_form)
    start = int(found.group(1)) if found else 0
    notes = ([f"period {n}"] if n > 1 else []) + ([f"n ≥ {start}"] if start else [])
    tail = f" ({', '.join(notes)})" if notes else ""
    head = "a(n) = " if n == 1 else f"a({n}m+j) = "
    text = ""
    for k in range(n, 0, -1):
        text = head + ", ".join(values[:k]) + ("" if k == n else ", " + ELLIPSIS) + tail
        if room is None or len(text) <= room:
            return text
    return clip(text, room)


def _row(lead: str, formula: Callable[[int, int], str | None], signs_text: str,
         closed: Callable[[int | None], str], stats: str, width: int) -> list[str]:
    """One row of at most 3 lines of at most ``width`` columns: ``lead`` and the formula (``formula(room,
    least)``: with at least ``least`` terms in ``room``, or ``None``), then the signs and the closed form, then
    ``stats``; on one line when all of it fits with 3 terms of the fraction or more."""
    rest = f"[{signs_text}]  {closed(None)}  {stats}"
    short = formula(width - len(lead) - len(rest) - 2, 3)
    if short is not None:
        return [f"{lead}{short}  {rest}"]
    first = formula(width - len(lead), 1)
    if first is None:  # a left-hand side too long for the line: cut at a term
        first = clip(formula(10**6, 1) or "", width - len(lead))
    lines = [lead + first]
    second = f"{INDENT}{rest}"
    if len(second) <= width:
        return [*lines, second]
    sig = f"[{signs_text}]"
    room = width - len(INDENT) - len(sig) - 2
    return [*lines, clip(f"{INDENT}{sig}  {closed(room)}", width), clip(INDENT + stats, width)]


def _status_cell(status: str, base: bool = False) -> str:
    return f"{status}, base" if base else status


def family_row(family, rep, width: int) -> list[str]:
    """The lines of one family in a ranked table: rank, the representative's formula (``rep``, its record;
    ``None`` when it could not be read: the family's own texts), signs, closed form, gain, members, status, the
    family's id ``F<id>`` and its representative's ``#<id>``."""
    from esma.render import lhs_text

    stats = (f"gain {family.gain:.3g} · {_count(family.members, 'formula')} · "
             f"{_status_cell(family.status, family.base)} · F{family.id} #{family.representative_id}")
    lead = f"{family.rank:>3}. "
    if rep is None:
        whole = f"{family.lhs} = {_one_ellipsis(family.cf_text)}"
        return _row(lead, lambda room, least: clip(whole, room) if least <= 1 else None, family.signs_text,
                    lambda room: family.closed_form if room is None else clip(family.closed_form, room), stats,
                    width)
    lhs = lhs_text(rep)
    return _row(lead, lambda room, least: formula_text(lhs, rep.terms, rep.signs, room, least=least),
                family.signs_text, lambda room: closed_form_compact(rep, room), stats, width)


def formula_row(conj, width: int) -> list[str]:
    """The lines of one formula in a list: ``#<id>``, the formula, signs, closed form, kind, digits, gain,
    status and its family ``F<id>``."""
    from esma.render import lhs_text

    family = f" · F{conj.family_id}" if conj.family_id is not None else ""
    stats = (f"{conj.kind} · {conj.verified_digits:,} digits · gain {conj.gain:.3g} · {conj.status}"
             f"{' (representative)' if conj.representative else ''}{family}")
    lhs = lhs_text(conj)
    return _row(f"#{conj.id}  ", lambda room, least: formula_text(lhs, conj.terms, conj.signs, room, least=least),
                conj.signs_text, lambda room: closed_form_compact(conj, room), stats, width)


def _title(title: str, width: int) -> str:
    """``title`` fitted to ``width``: without its parenthesis when that is what does not fit, else cut."""
    if len(title) > width and title.endswith(")") and " (" in title:
        title = title[: title.rindex(" (")]
    return clip(title, width)


def families_table(families, title: str, reps: dict | None = None, width: int | None = None) -> None:
    """One row per family (``family_row``) under ``title``; ``reps``: the representatives' records by id."""
    if not families:
        err("no family matches")
        return
    width = width or terminal_width()
    click.echo(_title(title, width))
    for f in families:
        rep = (reps or {}).get(f.representative_id)
        click.echo("\n".join(family_row(f, rep, width)))


def conjecture_table(rows, title: str, width: int | None = None) -> None:
    """One row per formula (``formula_row``) under ``title``."""
    if not rows:
        err("no formula matches")
        return
    width = width or terminal_width()
    click.echo(_title(title, width))
    for c in rows:
        click.echo("\n".join(formula_row(c, width)))


def family_text(conj, family, members) -> None:
    """The family part of ``esma show``: the family, its representative, and members with their relations."""
    from esma.render import lhs_text

    click.echo(
        f"  family     F{family.id} rank {family.rank}: {_count(family.members, 'formula')}, gain {family.gain:.4g}"
        f"{' (the simple continued fraction of c: the base family)' if family.base else ''}"
    )
    click.echo(f"  tail       {family.key}")
    if conj.representative:
        click.echo("  relation   the family's representative")
    else:
        g11, g12, g21, g22 = conj.relation
        rep = next((m for m in members if m.id == family.representative_id), None)
        click.echo(
            f"  relation   T(c) = G(T_rep(c)) with G = [[{g11}, {g12}], [{g21}, {g22}]], representative "
            f"#{family.representative_id}: {lhs_text(rep) if rep is not None else family.lhs} [{family.signs_text}]"
        )
    if members:
        click.echo(f"  members    (first {len(members)} of {family.members})")
        for m in members:
            g11, g12, g21, g22 = m.relation
            rel = "representative" if m.representative else f"G = [[{g11}, {g12}], [{g21}, {g22}]]"
            click.echo(f"    #{m.id}  {lhs_text(m)}  [{m.signs_text}]  {m.verified_digits} digits  {rel}")


def search_table(families, summary: dict, reps: dict | None = None, width: int | None = None) -> None:
    """A search's families, ranked (the first ones: ``families``, with their representatives' records
    ``reps``), out of ``summary['families']``; "No formula for ..." when it stored none."""
    from esma.render import constant_text

    width = width or terminal_width()
    total = summary.get("families", 0)
    name = constant_text(summary["constant"])
    if not summary.get("conjectures"):
        click.echo(f"No formula for {name}.")
        return
    families_table(
        families,
        f"{name}: {_count(summary['conjectures'], 'formula')} in {_count(total, 'family')}, ranked by gain "
        "(digits per term over the simple continued fraction's)",
        reps, width,
    )
    if len(families) < total:
        more = f"{ELLIPSIS} and {_count(total - len(families), 'more family')}:"
        command = f"esma families --constant \"{summary['constant']}\""
        if len(more) + 1 + len(command) <= width:
            click.echo(f"{more} {command}")
        else:
            click.echo(more)
            click.echo(f"  {command}")


def _count(n: int, noun: str) -> str:
    """``1 formula``, ``3 formulas``, ``2 families``."""
    if n == 1:
        return f"1 {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n:,} {plural}"


# ------------------------------------------------------------------------------------------------ progress


def info(text: str, width: int | None = None) -> None:
    """A message on stderr, wrapped at spaces to the width (continued lines indented): a long summary stays
    readable in 80 columns.  Errors are ``err`` (one line)."""
    for line in _wrapped(text, width or terminal_width(2)):
        click.echo(line, err=True)


def _wrapped(text: str, width: int) -> list[str]:
    """``esma: text`` wrapped at spaces to ``width`` columns, the lines after the first indented."""
    import textwrap

    lines = textwrap.wrap(text, max(width, MIN_WIDTH) - len("esma: "), break_long_words=False,
                          break_on_hyphens=False, subsequent_indent="  ") or [""]
    return [f"esma: {line}" for line in lines]


def _duration(seconds: float) -> str:
    """``40 s``, ``3 min``, ``2.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


#: Planning stages (``esma.plan.PLAN_STAGES``) as the bar names them, with their share of the planning's time
#: (measured on degree 2, coefficients up to 6: laying out the transforms takes about 70%).
_PLAN_STAGES = {
    "constant": ("the constant's continued fraction", 0.0, 0.02),
    "transforms": ("laying out the transforms", 0.02, 0.72),
    "values": ("comparing their values", 0.72, 0.86),
    "classes": ("grouping translation classes", 0.86, 1.0),
}


def plan_stage_name(stage: str) -> str:
    """A planning stage (``esma.plan.PLAN_STAGES``) as the progress names it: ``laying out the transforms``."""
    return _PLAN_STAGES.get(stage, (stage, 0.0, 1.0))[0]


class Progress:
    """What a search is doing, on stderr, from its first second to its last: planning (stage and share done),
    the scan (candidates done of the total, chunks, rate, time left), the families phase (families stored of
    the total, formulas stored, time left).

    On a terminal: one rich progress bar; every message (``message``) is printed above it on a line of its
    own.  Elsewhere (a pipe, a file): the messages, and a plain line of progress at most every
    ``PLAIN_SECONDS`` seconds of a phase that takes that long.
    """

    PLAIN_SECONDS = 10.0

    def __init__(self, plan=None, already_done: int = 0, live: bool | None = None, console=None) -> None:
        self.live = sys.stderr.isatty() if live is None else live
        self._console = console  # the bar's rich console (default: stderr)
        self._bar = None
        self._task = None
        self._phase = ""
        self._phase_started = time.monotonic()
        self._last_line = time.monotonic()
        self.total = 0
        self.done = 0
        self.candidates = 0  # candidates scanned by this run
        self.candidates_total = 0
        self.candidates_before = 0  # of the chunks a previous run saved
        self.seconds = 0.0
        self.plan = None
        if plan is not None:
            self.scan(plan, already_done)

    def __enter__(self) -> Progress:
        if self.live and self._bar is None:
            from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            # what fits in 80 columns: phase, bar, share, counts, time left (rich estimates it from the pace)
            self._bar = RichProgress(
                TextColumn("{task.description}", markup=False),
                BarColumn(bar_width=12),
                TaskProgressColumn(),
                TextColumn("{task.fields[detail]}", markup=False),
                TimeRemainingColumn(),
                TextColumn("left"),
                console=self._console or _console(stderr=True),
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("planning", total=None, detail="")
        return self

    def close(self) -> None:
        """Take the bar off the terminal (before the results are printed); idempotent."""
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.__exit__(None, None, None)

    def __exit__(self, *exc) -> None:
        self.close()

    def message(self, text: str) -> None:
        """A line on stderr: above the bar on a terminal, never glued onto it."""
        if self._bar is not None:
            for line in _wrapped(text, self._bar.console.width):
                self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            info(text)

    def _enter_phase(self, name: str) -> None:
        if self._phase != name:
            self._phase = name
            self._phase_started = self._last_line = time.monotonic()
            if self._bar is not None:  # a new phase measures its own pace (and has no total until it says)
                self._bar.remove_task(self._task)
                self._task = self._bar.add_task(name, total=None, detail="")

    def _plain(self, text: str) -> None:
        """A plain progress line, at most every ``PLAIN_SECONDS`` (none for a phase that takes less)."""
        now = time.monotonic()
        if self._bar is None and now - self._last_line >= self.PLAIN_SECONDS:
            self._last_line = now
            info(text)

    def planning(self, stage: str, done: int, total: int) -> None:
        """``esma.plan.plan_search``'s ``progress``: the stage and the share of the planning done."""
        self._enter_phase("planning")
        name, low, high = _PLAN_STAGES.get(stage, (stage, 0.0, 1.0))
        share = low + (high - low) * (done / total if total else 0.0)
        if self._bar is not None:
            self._bar.update(self._task, description=f"planning: {name}", total=1000, completed=round(1000 * share),
                             detail="")
        else:
            self._plain(f"planning: {name} ({share:.0%} of the planning)")

    def scan(self, plan, already_done: int = 0, todo=None) -> None:
        """The scan begins: ``plan``'s chunks, ``already_done`` of them saved by an earlier run (``todo``: the
        indices of the others, to count their candidates; else they are counted as average chunks)."""
        self._enter_phase("scan")
        self.plan = plan
        self.total = len(plan.chunks)
        self.done = already_done
        self.candidates_total = plan.candidates
        if todo is not None:
            self.candidates_before = plan.candidates - sum(plan.chunk_candidates(i) for i in todo)
        elif self.total:
            self.candidates_before = plan.candidates * already_done // self.total
        self._scan_update()

    def _scan_update(self) -> None:
        done = self.candidates_before + self.candidates
        elapsed = time.monotonic() - self._phase_started
        rate = self.candidates / elapsed if elapsed > 0 else 0.0
        detail = f"{done:,}/{self.candidates_total:,} candidates" + (f" · {rate:,.0f}/s" if rate else "")
        if self._bar is not None:
            self._bar.update(self._task, description="scan", total=max(self.candidates_total, 1), completed=done,
                             detail=detail)
        elif self.candidates:
            left = (self.candidates_total - done) / rate if rate else 0.0
            self._plain(f"scan: {detail} ({self.done:,}/{self.total:,} chunks), about {_duration(left)} left")

    def update(self, result, done: int, total: int) -> None:
        """``esma.cli.runner.run``'s ``on_chunk``: a chunk came back."""
        self.done = done
        self.total = total
        self.candidates += result.candidates
        self.seconds += result.seconds
        self._scan_update()
        if done >= total:  # the families phase follows: the bar says so until it hears its counts
            self._enter_phase("families")
            if self._bar is not None:
                self._bar.update(self._task, description="families", detail="grouping the hits")

    def families(self, done: int, total: int, stored: int) -> None:
        """``esma.cli.runner.run``'s ``on_families``: ``done`` of ``total`` families assembled and stored, with
        ``stored`` formulas so far."""
        self._enter_phase("families")
        detail = f"{done:,}/{total:,} families · {_count(stored, 'formula')}"
        if self._bar is not None:
            self._bar.update(self._task, description="families", total=max(total, 1), completed=done,
                             detail=detail)
        elif done:
            elapsed = time.monotonic() - self._phase_started
            left = elapsed * (total - done) / done
            self._plain(f"families: {detail}, about {_duration(left)} left")


def summary_lines(summary: dict, url: str, depth: bool = True) -> list[str]:
    """What a search did, in a few short lines (each a sentence): candidates, hits, formulas and families
    stored, proofs, where; with ``depth``, how deep a literal's digits let it go."""
    scan = summary.get("scan_candidates_per_second") or 0
    formulas, families = summary["conjectures"], summary.get("families", 0)
    approvals = summary.get("approvals", 0)
    lines = [f"searched {summary['candidates']:,} candidates in {summary['seconds']:.1f} s (scan {scan:,.0f}/s): "
             f"{_count(summary['hits'], 'hit')}"]
    if formulas:
        lines.append(f"stored {_count(formulas, 'formula')} in {_count(families, 'family')} "
                     f"({_count(approvals, 'numerical approval')}, the other members derived exactly)")
    elif summary["hits"]:
        lines.append(f"stored no formula: {_count(approvals, 'numerical approval')} run, none passed")
    else:
        lines.append("stored no formula")
    if summary.get("proved"):
        lines.append(f"proved {_count(summary['proved'], 'formula')} in "
                     f"{_count(summary.get('proved_families', 0), 'family')} (certificates checked)")
    lines.append(f"catalog {url} (search {summary['id']})")
    note = _depth_note(summary) if depth else ""
    if note:
        lines.append(note)
    return lines


def summary_line(summary: dict, url: str) -> str:
    """``summary_lines`` as one text (for a caller that logs one string)."""
    return "; ".join(summary_lines(summary, url))


def _depth_note(summary: dict) -> str:
    """Where the constant's digits did not reach the deep search's terms: how deep the search went."""
    want, got = summary.get("deep_terms"), summary.get("certified_terms")
    if not want or got is None or got >= want:
        return ""
    return (f"the constant's digits certify {got} of the {want} terms per candidate the deep search wants: "
            f"quasi-periods up to about {_qperiods(got)} are searched (give more digits to go deeper)")


def _qperiods(terms: int) -> int:
    """The quasi-periods the deep search reaches with ``terms`` certified terms (it needs about 3 per period
    after a margin of 10)."""
    return max(0, (terms - 10) // 3)


def nothing_stored_reason(summary: dict, literal_digits: int | None, approval_digits: int) -> str:
    """Why a search of a decimal literal stored nothing, in one sentence, and what to try: the digits it carries
    against the ``approval_digits`` an approval needs, and the depth its digits allow.  Empty when it stored
    formulas, or the constant is not a literal (``literal_digits`` None).

    >>> nothing_stored_reason({"conjectures": 0, "hits": 19, "certified_terms": 27, "deep_terms": 760,
    ...                        "params": {"verify_digits": 1000}}, 25, 50)[:103]
    'nothing stored: the literal carries 25 digits, an approval needs 50 and a few to spare; they certify 27'
    """
    if summary.get("conjectures") or literal_digits is None:
        return ""
    verify = (summary.get("params") or {}).get("verify_digits")
    got, want = summary.get("certified_terms"), summary.get("deep_terms")
    depth = ""
    if got is not None and want and got < want:
        depth = f"; they certify {got} terms per candidate: quasi-periods up to about {_qperiods(got)}"
    used = f" (up to {verify + 5} are used: --verify-digits)" if verify else ""
    if summary.get("hits") and literal_digits < approval_digits + 10:
        return (f"nothing stored: the literal carries {literal_digits} digits, an approval needs {approval_digits} "
                f"and a few to spare{depth}; try {approval_digits + 10} digits or more{used}")
    if summary.get("hits"):
        return (f"nothing stored: no hit was approved to the {literal_digits} digits the literal carries{depth}; "
                f"try more digits{used}")
    return (f"nothing found: no candidate's terms followed a pattern within what the literal's {literal_digits} "
            f"digits certify{depth}; try more digits to search deeper")


def constants_table(names: dict, functions: dict) -> None:
    from rich.table import Table

    table = Table(title="Names and functions in expressions", title_justify="left")
    table.add_column("name")
    table.add_column("meaning")
    for k, v in names.items():
        table.add_row(k, v)
    for k, v in functions.items():
        table.add_row(k + "(...)", v)
    table.add_row("+ - * / ** ^", "arithmetic; integers are exact (2/3 is the rational 2/3)")
    table.add_row("3.14159", "a decimal literal: a measured value, searched at the precision it carries")
    _console().print(table)


# ------------------------------------------------------------------------------------------------ export

CSV_COLUMNS = (
    "id", "constant", "lhs", "signs", "kind", "closed_form", "preperiod", "recurrence", "terms",
    "verified_digits", "digits_per_term", "scf_digits_per_term", "gain", "status", "status_reason", "family",
    "representative", "relation", "value",
)


def _csv(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    n = 0
    for d in records:
        rel = d["relation"]
        w.writerow([
            d["id"], d["constant"], d["lhs"], d["signs_text"], d["kind"], d["closed_form"], d["preperiod"],
            " ".join(map(str, d["recurrence"])), " ".join(map(str, d["terms"])), d["verified_digits"],
            d["digits_per_term"], d["scf_digits_per_term"], d["gain"], d["status"], d["status_reason"],
            d["family"], int(bool(d["representative"])), " ".join(str(v) for row in rel for v in row), d["value"],
        ])
        n += 1
    return n


def provenance(url: str) -> dict[str, str]:
    import esma

    return {
        "esma_version": esma.__version__,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalog": url,
    }


def write_export(fmt: str, catalog, constant: str | None, out: TextIO, every: bool = False) -> int:
    """Write the export of the catalog (of ``constant`` if given) in ``fmt`` to ``out``; returns how many
    records (LaTeX without ``every``: families) it holds.  JSON and CSV stream every formula."""
    prov = provenance(catalog.url)
    if fmt == "json":
        head = dict(prov)
        head["searches"] = catalog.searches(constant=constant)
        head["families"] = [f.to_dict() for f in catalog.families(constant)]
        return stream_json(head, "conjectures", catalog.iter_records_json(constant=constant), out)
    if fmt == "csv":
        return _csv((json.loads(t) for t in catalog.iter_records_json(constant=constant)), out)
    if fmt == "latex":
        from esma.cli.latex import write_latex

        return write_latex(catalog, constant, prov, every, out, err)
    raise ValueError(f"Argument 'fmt' must be json, csv or latex, not {fmt!r}")
