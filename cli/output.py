"""Rendering for the command line: JSON, rich tables, progress on stderr, export documents."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import click

__all__ = ["Progress", "conjecture_table", "err", "export_document", "print_json", "search_table"]


def err(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    click.echo(f"esma: {message}", err=True)


def print_json(doc: Any) -> None:
    # big integers stay exact JSON integers; Python's int->str limit does not apply to json.dumps of ints
    # below 4300 digits, and recurrence terms stay far below it
    click.echo(json.dumps(doc, indent=2, default=str))


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
    return (
        f"searched {summary['candidates']:,} candidates in {summary['seconds']:.1f} s "
        f"(scan {scan:,.0f}/s): {summary['hits']} hits, {summary['conjectures']} conjectures "
        f"in {url} (search #{summary['id']})"
    )


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


def search_table(shown, summary: dict, total: int) -> None:
    """The first rows of a search's conjectures (``shown``) out of ``total``."""
    if not total:
        click.echo(f"No conjecture for {summary['constant']}.")
        return
    _show(shown, f"{summary['constant']}: {total} conjectures (c = {summary['constant']})")
    if len(shown) < total:
        click.echo(
            f"... and {total - len(shown)} more: esma list --constant \"{summary['constant']}\" "
            "(or --limit 0 for none, --json for all)"
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
    "verified_digits", "digits_per_term", "scf_digits_per_term", "status", "value",
)


def _csv(rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for c in rows:
        w.writerow([
            c.id, c.constant, c.lhs, c.signs_text, c.kind, c.closed_form, c.preperiod,
            " ".join(map(str, c.recurrence)), " ".join(map(str, c.terms)), c.verified_digits,
            c.digits_per_term, c.scf_digits_per_term, c.status, c.value,
        ])
    return buf.getvalue()


_LATEX_ESCAPE = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}"}


def _tex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPE.get(ch, ch) for ch in text)


def _latex(rows, provenance: dict) -> str:
    from esma.render import closed_form_latex, conjecture_latex, constant_latex

    out = [
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\allowdisplaybreaks",
        r"\title{Continued fraction formulas found by esma}",
        rf"\date{{{_tex_escape(provenance['exported_at'][:10])}}}",
        r"\begin{document}",
        r"\maketitle",
        (
            rf"Exported from \texttt{{{_tex_escape(provenance['catalog'])}}} by esma "
            rf"{_tex_escape(provenance['esma_version'])}. Each formula was approved numerically to the "
            "stated number of digits; it is a conjecture unless marked proved. "
            r"Signs follow $x = a_0 + b_0/(a_1 + b_1/(a_2 + \dotsb))$."
        ),
    ]
    current = None
    for c in rows:
        if c.constant != current:
            current = c.constant
            out.append(rf"\section*{{$c = {constant_latex(c.constant)}$}}")
        out.append(r"\begin{equation*}")
        out.append(conjecture_latex(c))
        out.append(r"\end{equation*}")
        out.append(
            rf"\noindent\#{c.id}: signs \texttt{{{c.signs_text}}}, ${closed_form_latex(c)}$; "
            rf"{c.kind}, {c.verified_digits} digits verified, {c.digits_per_term:.3g} digits/term "
            rf"(simple continued fraction {c.scf_digits_per_term:.3g}); {_tex_escape(c.status)}.\par\medskip"
        )
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def export_document(fmt: str, rows, searches: list[dict], url: str) -> str:
    import esma

    provenance = {
        "esma_version": esma.__version__,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalog": url,
    }
    if fmt == "json":
        doc = dict(provenance)
        doc["searches"] = searches
        doc["conjectures"] = [c.to_dict() for c in rows]
        return json.dumps(doc, indent=2, default=str) + "\n"
    if fmt == "csv":
        return _csv(rows)
    return _latex(rows, provenance)
