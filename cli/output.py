"""Rendering for the command line: JSON, rich tables, progress on stderr, export documents."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import click

__all__ = [
    "Progress",
    "conjecture_table",
    "err",
    "families_table",
    "family_text",
    "print_json",
    "search_table",
    "stream_json",
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


class Progress:
    """Chunks done / total and the candidate rate, as a rich progress bar on stderr (only on a terminal)."""

    def __init__(self, plan, already_done: int = 0) -> None:
        self.plan = plan
        self.total = len(plan.chunks)
        self.done = already_done
        self.candidates = 0
        self.seconds = 0.0
        self._bar = None
        self._task = None
        self._started = time.monotonic()

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("chunks  {task.fields[rate]}"),
                TimeRemainingColumn(),
                console=_console(stderr=True),
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(
                f"searching {self.plan.constant.text}", total=self.total, completed=self.done, rate=""
            )
        return self

    def update(self, result, done: int, total: int) -> None:
        self.done = done
        self.candidates += result.candidates
        self.seconds += result.seconds
        if self._bar is not None:
            # wall-clock throughput of the whole run (all workers), not one chunk's pace
            elapsed = time.monotonic() - self._started
            rate = f"{self.candidates / elapsed:,.0f} cand/s" if elapsed > 0 else ""
            self._bar.update(self._task, completed=done, rate=rate)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def summary_line(summary: dict, url: str) -> str:
    scan = summary.get("scan_candidates_per_second") or 0
    proved = ""
    if summary.get("proved"):
        proved = (f"; proved: {summary['proved']} formulas, {summary.get('proved_families', 0)} families "
                  "(certificates checked)")
    return (
        f"searched {summary['candidates']:,} candidates in {summary['seconds']:.1f} s "
        f"(scan {scan:,.0f}/s): {summary['hits']} hits, {summary['conjectures']} formulas in "
        f"{summary.get('families', 0)} families ({summary.get('approvals', 0)} approved numerically, the "
        f"others derived exactly){proved} in {url} (search #{summary['id']})" + _depth_note(summary)
    )


def _depth_note(summary: dict) -> str:
    """Where the constant's digits did not reach the deep search's terms: how deep the search went."""
    want, got = summary.get("deep_terms"), summary.get("certified_terms")
    if not want or got is None or got >= want:
        return ""
    return (f"; the constant's digits certify {got} of the {want} terms per candidate the deep search wants, so "
            f"quasi-periods up to about {max(0, (got - 10) // 3)} are searched (give more digits to go deeper)")


def _count(n: int, noun: str) -> str:
    """``1 formula``, ``3 formulas``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _status_cell(status: str, base: bool = False) -> str:
    return f"{status}, base" if base else status


def _family_rows(families) -> list[tuple[str, ...]]:
    return [
        (
            str(f.rank),
            f.lhs,
            f.signs_text,
            f.cf_text if len(f.cf_text) <= 60 else f.cf_text[:57] + "...",
            f.closed_form,
            f"{f.gain:.3g}",
            str(f.verified_digits),
            str(f.members),
            _status_cell(f.status, f.base),
            str(f.representative_id) if f.representative_id is not None else "",
        )
        for f in families
    ]


_FAMILY_COLUMNS = ("rank", "T(c)", "signs", "continued fraction", "closed form", "gain", "digits", "members",
                   "status", "id")


def families_table(families, title: str) -> None:
    """One row per family: the representative's formula, closed form, gain, digits, members, status."""
    if not families:
        err("no families match")
        return
    console = _console()
    rows = _family_rows(families)
    if console.is_terminal and console.width >= 120:
        from rich.table import Table

        table = Table(title=title, show_lines=False, title_justify="left")
        for col in _FAMILY_COLUMNS:
            wrap = {"overflow": "fold"} if col in ("continued fraction", "closed form") else {}
            right = {"justify": "right"} if col in ("rank", "gain", "digits", "members", "id") else {}
            table.add_column(col, **wrap, **right)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    click.echo(title)
    for rank, lhs, signs, cf, closed, gain, digits, members, status, rid in rows:
        click.echo(
            f"{rank:>3}. {lhs} = {cf}  [{signs}]  {closed}  (gain {gain}; {digits} digits; "
            f"{_count(int(members), 'formula')}; {status}; #{rid})"
        )


def family_text(conj, family, members) -> None:
    """The family part of ``esma show``: the family, its representative, and members with their relations."""
    click.echo(
        f"  family     #{family.id} rank {family.rank}: {family.members} formulas, gain {family.gain:.4g}"
        f"{' (the simple continued fraction of c: the base family)' if family.base else ''}"
    )
    click.echo(f"  tail       {family.key}")
    if conj.representative:
        click.echo("  relation   the family's representative")
    else:
        g11, g12, g21, g22 = conj.relation
        click.echo(
            f"  relation   T(c) = G(T_rep(c)) with G = [[{g11}, {g12}], [{g21}, {g22}]], representative "
            f"#{family.representative_id}: {family.lhs} [{family.signs_text}]"
        )
    if members:
        click.echo(f"  members    (first {len(members)} of {family.members})")
        for m in members:
            g11, g12, g21, g22 = m.relation
            rel = "representative" if m.representative else f"G = [[{g11}, {g12}], [{g21}, {g22}]]"
            click.echo(f"    #{m.id}  {m.lhs}  [{m.signs_text}]  {m.verified_digits} digits  {rel}")


def _table(rows, title: str):
    from rich.table import Table

    from esma.render import cf_text

    table = Table(title=title, show_lines=False, title_justify="left")
    for col, kw in (
        ("id", {"justify": "right"}),
        ("T(c)", {}),
        ("signs", {}),
        ("continued fraction", {"overflow": "fold"}),
        ("closed form", {"overflow": "fold"}),
        ("kind", {}),
        ("digits", {"justify": "right"}),
        ("d/term", {"justify": "right"}),
        ("scf", {"justify": "right"}),
    ):
        table.add_column(col, **kw)
    for c in rows:
        table.add_row(
            str(c.id),
            c.lhs if c.lhs != "c" else "c",
            c.signs_text,
            cf_text(c.terms, c.signs, 5),
            c.closed_form,
            c.kind,
            str(c.verified_digits),
            f"{c.digits_per_term:.3g}",
            f"{c.scf_digits_per_term:.3g}",
        )
    return table


def _plain(rows, title: str) -> None:
    """One line per conjecture: what a pipe, a file or a narrow terminal reads best."""
    from esma.render import cf_text

    click.echo(title)
    for c in rows:
        click.echo(
            f"#{c.id}  {c.lhs} = {cf_text(c.terms, c.signs, 5)}  [{c.signs_text}]  {c.closed_form}  "
            f"({c.kind}; {c.verified_digits} digits; {c.digits_per_term:.3g} digits/term, "
            f"simple CF {c.scf_digits_per_term:.3g})"
        )


def _show(rows, title: str) -> None:
    console = _console()
    if console.is_terminal and console.width >= 120:
        console.print(_table(rows, title))
    else:
        _plain(rows, title)


def conjecture_table(rows, title: str) -> None:
    if not rows:
        err("no conjectures match")
        return
    _show(rows, title)


def search_table(families, summary: dict) -> None:
    """A search's families, ranked (the first ones: ``families``), out of ``summary['families']``."""
    total = summary.get("families", 0)
    if not summary.get("conjectures"):
        click.echo(f"No conjecture for {summary['constant']}.")
        return
    families_table(
        families,
        f"{summary['constant']}: {summary['conjectures']} formulas in {total} families, ranked by gain "
        f"(digits per term over those of the simple continued fraction)",
    )
    if len(families) < total:
        click.echo(
            f"... and {total - len(families)} more families: esma families --constant \"{summary['constant']}\" "
            "(every formula: --all, or esma list)"
        )


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
