"""``esma``: discover continued-fraction formulas for mathematical constants.

Every command is parse -> engine -> catalog -> render; ``--json`` prints one JSON document on stdout, progress
and errors go to stderr.  Exit codes: 0 success (also when nothing is found), 1 runtime failure, 2 bad usage or
bad input (one line on stderr, no traceback; ``ESMA_DEBUG=1`` shows tracebacks of runtime failures), 128 + the
signal's number when a stop signal ended the command (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import sys
import time
from typing import Any

import click

from esma import limits
from esma.cli import output
from esma.memory import paused_gc
from esma.records import FAMILY_SORTS, KINDS, STATUSES

EXAMPLE = "\n\n\b\nExample:\n  "


class BadInput(Exception):
    """User input the engine refused: exit 2 with one line."""


@contextlib.contextmanager
def bad_input(prefix: str = ""):
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise BadInput(f"{prefix}{exc}") from None


class Bounded(click.ParamType):
    """An integer option within its documented bounds (``esma.limits``): outside them, or not an integer in
    ASCII digits, it is bad usage (exit 2, one line naming the bound), refused before any work."""

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            text = str(value).strip()
            if not re.fullmatch(r"[+-]?[0-9]+", text):
                self.fail(f"{text[:40]!r} is not an integer", param, ctx)
            if len(text.lstrip("+-0")) > 30:  # far out of any bound: not worth reading whole
                over = not text.startswith("-")
                self.fail(f"{text[:20]}... is {'over' if over else 'under'} the limit of "
                          f"{self.high if over else self.low:,}", param, ctx)
            n = int(text)
        problem = limits.out_of_bounds(n, self.low, self.high, "")
        if problem:
            self.fail(problem.strip(), param, ctx)
        return n


class CatalogId(click.ParamType):
    """A formula's id: ASCII digits within the catalog's integer range (``esma.limits.parse_id``)."""

    name = "id"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        try:
            return limits.parse_id(value, "ID")
        except ValueError as exc:
            self.fail(str(exc).removeprefix("Argument 'ID' "), param, ctx)


#: The commands that only read the catalog (``reading=True``), and so can open one that cannot be written.
READING_COMMANDS = "list, show, families, export and serve"


def _catalog(db: str | None, reading: bool = False, notice=None):
    """Open the catalog (migrating it), and give formulas stored before families existed their families.

    A catalog this process cannot write (read-only medium, no write permission) is opened read-only when
    ``reading`` (as it is, without migration or backfill); for a writing command it is bad input, one line.
    """
    from esma.db.engine import read_only_reason

    with bad_input(f"cannot open catalog {db or os.environ.get('ESMA_DB') or 'esma.sqlite'}: "):
        why = read_only_reason(db)
    if why is not None:
        where = db or os.environ.get("ESMA_DB") or "esma.sqlite"
        if not reading:
            raise BadInput(f"catalog {where} is read-only ({why}): this command writes to it; "
                           f"{READING_COMMANDS} can read it")
        from esma.db import Catalog

        try:
            return Catalog.open_read_only(db)
        except (ValueError, FileNotFoundError) as exc:
            raise BadInput(f"cannot open catalog {where} read-only: {exc}") from None
    catalog = _open_catalog(db)
    try:
        from esma.cli.families import backfill

        backfill(catalog, notice=notice or output.err)
    except BaseException:
        catalog.close()
        raise
    return catalog


def _open_catalog(db: str | None):
    from esma.db import Catalog

    where = db or os.environ.get("ESMA_DB") or "esma.sqlite"
    try:
        return Catalog(db)
    except (FileNotFoundError, NotADirectoryError, PermissionError, IsADirectoryError, ValueError) as exc:
        raise BadInput(f"cannot open catalog {where}: {exc}") from None
    except Exception as exc:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

        if isinstance(exc, ArgumentError | NoSuchModuleError):
            raise BadInput(f"cannot open catalog {where!r}: {exc}") from None
        if isinstance(exc, OperationalError) and "unable to open database file" in str(exc):
            raise BadInput(f"cannot open catalog {where}: not a file that SQLite can open") from None
        raise


DB_OPTION = click.option(
    "--db",
    metavar="URL_OR_PATH",
    default=None,
    help="Catalog: an SQLite file path or any SQLAlchemy URL [default: $ESMA_DB or ./esma.sqlite].",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="esma", prog_name="esma")
def cli() -> None:
    """Discover signed continued fraction formulas for mathematical constants (the ESMA algorithm).

    \b
    Quick start:
      esma search "tan(1)"          find formulas, store them in ./esma.sqlite
      esma list --constant "tan(1)" browse the catalog
      esma show 1                   one formula in full
      esma export --format latex    a LaTeX document with every formula
    """


# ------------------------------------------------------------------------------------------------ search

#: Pairs of coefficient vectors from which the layout of a plan (about 0.02 ms a pair) is announced on stderr,
#: and bounded by --max-seconds.
PLAN_NOTICE_PAIRS = 20_000


@cli.command(
    help="Search a constant for continued fraction formulas and store them in the catalog."
    + EXAMPLE
    + 'esma search "tan(1)"\n  esma search e --degree 2 --coeff-limit 2 --max-period 6 --json'
    + "\n  esma search pi --max-period 8 --max-seconds 600"
    + "\n\nRe-running the same command resumes an interrupted search; a finished one is reported from the catalog."
    + " Ctrl-C, SIGTERM or SIGHUP stop once the chunk in flight is saved, and stop the worker processes (a second"
    + " signal stops at once; exit code 130, 143 or 129: 128 + the signal's number);"
    + " --max-seconds stops likewise, keeps what was found and exits with 0."
    + " Absurd requests (over 10^9 candidates, over 10^6 digits) are refused unless confirmed with --yes."
)
@click.argument("expr")
@click.option("--degree", type=int, default=1, show_default=True, help="Max degree d of P and Q in T(c) = P(c)/Q(c).")
@click.option("--coeff-limit", type=int, default=2, show_default=True, help="Coefficients of P and Q in [-L, L].")
@click.option("--min-period", type=int, default=1, show_default=True, help="Shortest sign period.")
@click.option("--max-period", type=int, default=4, show_default=True, help="Longest sign period.")
@click.option("--depth", type=int, default=100, show_default=True,
              help="The paper's window: Berlekamp–Massey on the first DEPTH terms of each candidate.")
@click.option("--max-qperiod", type=Bounded(0, 1000), default=200, show_default=True,
              help="Deep search: tails of interlaced polynomials (degree <= 2) up to this quasi-period (0: off; "
                   "at most 1000).")
@click.option("--max-preperiod", type=Bounded(0, 1000), default=150, show_default=True,
              help="Deep search: ... after a pre-period up to this many terms (at most 1000).")
@click.option("--digits", type=int, default=None,
              help="Precision of the constant's continued fraction [default: 10 per deep term, at least 300].")
@click.option("--verify-digits", type=int, default=1000, show_default=True, help="Digits to approve each formula.")
@click.option("--workers", type=Bounded(1, limits.MAX_WORKERS), default=None,
              help=f"Worker processes [default: CPU count; at most {limits.MAX_WORKERS}].")
@click.option(
    "--executor",
    type=click.Choice(["serial", "process", "dask"]),
    default="process",
    show_default=True,
    help="Where chunks run.",
)
@click.option(
    "--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler (tcp://host:port) for --executor dask."
)
@click.option("--limit", type=Bounded(0, limits.MAX_INTEGER), default=40, show_default=True,
              help="Rows shown in the table (JSON shows all).")
@click.option("--all", "show_all", is_flag=True, help="Show every formula, not one row per family.")
@click.option(
    "--max-seconds",
    type=float,
    metavar="SECONDS",
    default=None,
    help="Stop after the chunk running when SECONDS have passed; the search stays resumable (exit code 0).  "
    f"The layout of a large space (over {PLAN_NOTICE_PAIRS:,} pairs of coefficient vectors) stops at SECONDS too, "
    "with nothing stored.",
)
@click.option("--yes", is_flag=True, help="Confirm a request over the limits (10^9 candidates, 10^6 digits).")
@DB_OPTION
@JSON_OPTION
def search(expr, degree, coeff_limit, min_period, max_period, depth, max_qperiod, max_preperiod, digits,
           verify_digits, workers, executor, scheduler, limit, show_all, max_seconds, yes, db, as_json) -> None:
    from esma.cli import runner

    # SIGTERM and SIGHUP raise like Ctrl-C from here on (their default ends the process with no cleanup at all)
    with runner.stop_signals():
        try:
            _search(expr, degree, coeff_limit, min_period, max_period, depth, max_qperiod, max_preperiod, digits,
                    verify_digits, workers, executor, scheduler, limit, show_all, max_seconds, yes, db, as_json)
        except KeyboardInterrupt as exc:  # neither planning nor running (opening the catalog, printing): one line
            output.err("interrupted")
            sys.exit(128 + _stop_signal(exc))


def _search(expr, degree, coeff_limit, min_period, max_period, depth, max_qperiod, max_preperiod, digits,
            verify_digits, workers, executor, scheduler, limit, show_all, max_seconds, yes, db, as_json) -> None:
    import math

    from esma import executors
    from esma.constants import constant
    from esma.search import SearchParams, plan_search

    started = time.monotonic()
    params = {
        "degree": degree,
        "coeff_limit": coeff_limit,
        "min_period": min_period,
        "max_period": max_period,
        "depth": depth,
        "max_qperiod": max_qperiod,
        "max_preperiod": max_preperiod,
        "digits": digits,
        "verify_digits": verify_digits,
    }
    if workers is not None and workers < 1:
        raise BadInput(f"Argument 'workers' must be a positive integer, not {workers}")
    if scheduler is not None and executor != "dask":
        raise BadInput("--scheduler needs --executor dask")
    if scheduler is not None and not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://[^\s/:]+:\d{1,5}/?", scheduler):
        raise BadInput(f"--scheduler must be an address like tcp://HOST:PORT, not {scheduler!r}")
    if max_seconds is not None and not (math.isfinite(max_seconds) and max_seconds > 0):
        raise BadInput(f"--max-seconds must be a positive number of seconds, not {max_seconds}")

    def refuse_absurd(reasons: list[str]) -> None:
        if reasons and not yes:
            raise BadInput(f"refusing an absurd request: {'; '.join(reasons)}; add --yes to run it anyway")

    # Everything is checked before the catalog is opened or any work starts: the parameters alone first (an
    # absurd space must not even be laid out), then the exact candidate count of the plan.
    with bad_input():
        constant(expr)
        refuse_absurd(limits.request_problems(SearchParams(**params)))
    deadline = None if max_seconds is None else started + max_seconds
    if executor == "dask" and scheduler is None:
        # the cluster's worker processes start (imports, kernels) while this one plans the search
        executors.prestart_cluster(workers)
    try:
        # one progress display from here to the results: planning, scan, families phase
        with output.Progress() as progress:
            stage = {"name": "constant"}
            pairs = limits.coefficient_vectors(degree, coeff_limit) ** 2
            # a large space's layout (seconds to minutes) is bounded too; a small one's (milliseconds) always ends, and
            # the scan then runs at least one chunk: every run of a bounded search makes progress
            planning_deadline = deadline if pairs >= PLAN_NOTICE_PAIRS else None

            def planning(name: str, done: int, total: int) -> None:
                stage["name"] = name
                progress.planning(name, done, total)
                if planning_deadline is not None and time.monotonic() >= planning_deadline:
                    raise _PlanningDeadline

            try:
                if pairs >= PLAN_NOTICE_PAIRS:
                    progress.message(f"planning: laying out {pairs:,} pairs of coefficient vectors")
                with bad_input():
                    plan = plan_search(expr, progress=planning, **params)
                refuse_absurd(limits.plan_problems(plan))
                # the pool's processes load the kernels while this one opens the catalog and finds what is left to do
                executors.prestart(plan, executor, workers)
            except _PlanningDeadline:  # nothing is stored before the catalog is opened: nothing is lost either
                progress.close()
                if as_json:  # stdout stays one JSON document: no search was registered
                    output.print_json({"search": None, "families": [], "conjectures": [],
                                       "stopped": "--max-seconds passed while planning"})
                output.info(f"stopped after --max-seconds {max_seconds:g} while planning "
                            f"({output.plan_stage_name(stage['name'])}): nothing was searched or stored; give it more "
                            "seconds")
                return
            except KeyboardInterrupt as exc:  # nothing is stored before the catalog is opened
                progress.close()
                output.err("interrupted while planning the search: nothing was stored")
                sys.exit(128 + _stop_signal(exc))
            _search_into(db, expr, params, plan, executor, workers, scheduler, limit, show_all, as_json, deadline,
                         max_seconds, progress)
    finally:
        executors.discard_prestarted()  # a pool or cluster no run claimed (refused, stopped while planning)


class _PlanningDeadline(Exception):
    """--max-seconds passed while the search was being planned."""


def _approval_digits() -> int:
    """The digits of T(c) a numerical approval needs at least (``esma.verify.approve``'s ``min_digits``)."""
    import inspect

    from esma.verify import approve

    return int(inspect.signature(approve).parameters["min_digits"].default)


def _search_into(db, expr, params, plan, executor, workers, scheduler, limit, show_all, as_json, deadline,
                 max_seconds, progress) -> None:
    from esma.cli import runner

    def stop_requested() -> None:
        if sys.stderr.isatty():  # a pipe reads the one line below; a terminal wants to know Ctrl-C was seen
            progress.message("stopping once the chunk in flight is saved (Ctrl-C again to stop at once)")

    catalog = _catalog(db, notice=progress.message)
    # the collector has nothing to free in a search's objects but would walk all of them, more often the more
    # there are: paused for the whole command (esma.memory)
    with catalog, paused_gc():
        with bad_input():
            job = runner.prepare(catalog, expr, params, plan=plan)
        progress.scan(job.plan, len(job.plan.chunks) - len(job.todo), job.todo)
        t0 = time.perf_counter()
        try:
            runner.run(catalog, job, executor, workers, scheduler, on_chunk=progress.update, deadline=deadline,
                       graceful_sigint=True, on_stop_request=stop_requested, on_phase=progress.message,
                       load=None if as_json else max(limit, 0), on_families=progress.families)
        except BaseException as exc:
            progress.close()
            signum = _stop_signal(exc)
            if signum is None:
                raise
            # what was found is saved and only the exit remains: a further signal would only garble this report
            # (``main`` restores the handlers for a caller in the same process)
            with contextlib.suppress(ValueError):  # not the main thread: no handler to change
                for sig in runner.STOP_SIGNALS:
                    signal.signal(sig, signal.SIG_IGN)
            when = "at once" if job.stopped in (None, "deadline") else "once the chunk in flight was saved"
            output.err(
                f"interrupted {when}: {len(catalog.done_chunks(job.search_id))}/{len(job.plan.chunks)} chunks are "
                f"saved in {catalog.url}; run the same command again to resume"
            )
            sys.exit(128 + signum)
        progress.close()
        summary = dict(job.summary)
        summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
        if as_json:
            output.stream_json(
                {"search": summary, "families": [f.to_dict() for f in job.families]},
                "conjectures",
                catalog.iter_records_json(search_id=job.search_id),
            )
        elif show_all:
            rows = catalog.search_conjectures(job.search_id, ranked=True)
            from esma.render import constant_text

            output.conjecture_table(rows, title=f"{constant_text(summary['constant'])}: {len(rows)} formulas")
        else:
            reps = catalog.conjectures_by_ids(f.representative_id for f in job.families
                                              if f.representative_id is not None)
            output.search_table(job.families, summary, reps)
        why = output.nothing_stored_reason(summary, job.plan.constant.max_digits, _approval_digits())
        for line in output.summary_lines(summary, catalog.url, depth=not why):  # the reason says the depth
            output.info(line)
        if why:
            output.info(why)
        if job.stopped == "deadline":
            output.info(  # short: one line in 80 columns, the last of the command
                f"stopped at --max-seconds {max_seconds:g}: {summary['chunks_done']}/{summary['chunks_total']} "
                "chunks saved (rerun to resume)"
            )


# ------------------------------------------------------------------------------------------------ expand


@cli.command(
    help="Print the certified signed continued fraction of a constant."
    + EXAMPLE
    + 'esma expand "tan(1)" --signs +-+ --terms 12\n  esma expand e --signs - --json'
)
@click.argument("expr")
@click.option("--signs", default="+", show_default=True, help="Sign period, e.g. '+', '-', '+-+'.")
@click.option("--terms", type=Bounded(1, limits.MAX_TERMS), default=20, show_default=True,
              help=f"Number of terms (at most {limits.MAX_TERMS:,}).")
@click.option("--digits", type=Bounded(1, limits.MAX_DIGITS), default=None,
              help=f"Fixed precision (fewer terms may be certified; at most {limits.MAX_DIGITS:,}).")
@JSON_OPTION
def expand(expr, signs, terms, digits, as_json) -> None:
    import esma
    from esma.records import signs_to_text

    with bad_input():
        cf = esma.expand(expr, signs, terms, digits)
        from esma.constants import constant

        text = constant(expr, allow_rational=True).text
    if as_json:
        output.print_json(
            {"constant": text, "signs": list(cf.signs), "terms": list(cf.terms), "exact": cf.exact}
        )
        return
    from esma.render import cf_text

    if not cf.terms:
        output.err("no term could be certified at this precision")
        return
    click.echo(f"{text} = {cf_text(cf.terms, cf.signs, min(len(cf.terms), 10))}")
    click.echo(f"signs {signs_to_text(cf.signs)}: " + ", ".join(map(str, cf.terms)))
    if len(cf.terms) < terms and not cf.exact:
        output.err(f"only {len(cf.terms)} terms are certified at this precision")
    if cf.exact:
        output.err("the expansion is finite: the value is rational")


# ------------------------------------------------------------------------------------------------ catalog


@cli.command(
    "list",
    help="List formulas in the catalog (every formula; --representatives for one per family), one row each "
    "(the full text: esma show ID, or --json).  A formula's id is written #N, a family's FN."
    + EXAMPLE
    + 'esma list --constant "tan(1)" --kind polynomial --limit 20\n  esma list --constant e --representatives'
    + "\n  esma list --family F3",
)
@click.option(
    "--constant", "constant_expr", default=None, help="Only this constant (as searched; spacing does not matter)."
)
@click.option("--kind", type=click.Choice(KINDS), default=None)
@click.option("--min-digits", type=Bounded(0, limits.MAX_INTEGER), default=None,
              help="Only those verified to at least this many digits.")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--family", "family_key", default=None, metavar="ID_OR_KEY",
              help="Only the members of this family: its id as esma families shows it (F3, or 3), or its key.")
@click.option("--representatives", is_flag=True, help="Only each family's representative.")
@click.option("--limit", type=Bounded(0, limits.MAX_INTEGER), default=None, help="At most this many formulas.")
@DB_OPTION
@JSON_OPTION
def list_(constant_expr, kind, min_digits, status, family_key, representatives, limit, db, as_json) -> None:
    text = _constant_text(constant_expr)
    with _catalog(db, reading=True) as catalog:
        if family_key is not None:
            text, family_key = _family_filter(catalog, family_key, text)
        if as_json:
            records = catalog.iter_records_json(
                constant=text, family=family_key, representatives=representatives, kind=kind,
                min_digits=min_digits, status=status)
            try:
                output.stream_json({}, "conjectures", records if limit is None else itertools.islice(records, limit))
            finally:
                records.close()
            return
        rows = catalog.conjectures(constant=text, kind=kind, min_digits=min_digits, status=status, family=family_key,
                                   representatives=representatives, ranked=True, limit=limit)
    output.conjecture_table(rows, title=_count_title(len(rows), "formula", limit))


#: A family as ``esma families`` writes its id: ``F395`` (or the bare number).
_FAMILY_ID = re.compile(r"[Ff]?([0-9]{1,18})")


def _family_filter(catalog, given: str, constant_text: str | None) -> tuple[str | None, str]:
    """The (constant, key) that ``list --family`` filters on: ``given`` is a family id (``F395``, ``395``; an
    unknown id is bad input) or a family key (which contains ``|``, never all digits)."""
    found = _FAMILY_ID.fullmatch(given.strip())
    if found is None:
        return constant_text, given
    family = catalog.family(int(found.group(1)))
    if family is None:
        raise BadInput(f"no family F{int(found.group(1))} in {catalog.url} (esma families lists them)")
    if constant_text is not None and constant_text != family.constant:
        raise BadInput(f"family F{family.id} is a family of {family.constant}, not of {constant_text}")
    return family.constant, family.key


def _count_title(n: int, noun: str, limit: int | None) -> str:
    """``12 formulas`` (``the first 12 formulas`` when ``--limit`` cut the list)."""
    text = f"{n:,} {noun if n == 1 else noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"
    return f"the first {text} (--limit)" if limit is not None and n >= limit else text


def _constant_text(constant_expr: str | None) -> str | None:
    """The catalog's text of a constant given on the command line (validated by the grammar)."""
    if constant_expr is None:
        return None
    from esma.constants import constant

    with bad_input():
        return constant(constant_expr, allow_rational=True).text


@cli.command(
    help="List the families of the catalog, ranked: one row per discovery (its simplest formula, gain, members; "
    "its id FN is what esma list --family takes)."
    + EXAMPLE
    + 'esma families --constant e\n  esma families --constant "tan(1)" --min-gain 1.2 --json'
)
@click.option("--constant", "constant_expr", default=None, help="Only this constant.")
@click.option("--kind", type=click.Choice(KINDS), default=None)
@click.option("--status", type=click.Choice(STATUSES), default=None,
              help="Only families whose representative has this status.")
@click.option("--min-gain", type=float, default=None, help="Only families at least this much faster than the "
              "simple continued fraction (digits per term over those of the simple continued fraction).")
@click.option("--min-digits", type=Bounded(0, limits.MAX_INTEGER), default=None,
              help="Only families approved to at least this many digits.")
@click.option("--sort", type=click.Choice(FAMILY_SORTS), default="rank",
              show_default=True)
@click.option("--limit", type=Bounded(0, limits.MAX_INTEGER), default=None, help="At most this many families.")
@DB_OPTION
@JSON_OPTION
def families(constant_expr, kind, status, min_gain, min_digits, sort, limit, db, as_json) -> None:
    import math

    if min_gain is not None and not math.isfinite(min_gain):
        raise BadInput(f"--min-gain must be a finite number, not {min_gain}")
    if limit is not None and limit < 0:
        raise BadInput(f"--limit must be a non-negative integer, not {limit}")
    text = _constant_text(constant_expr)
    with _catalog(db, reading=True) as catalog:
        rows = catalog.families(text, kind=kind, status=status, min_gain=min_gain, min_digits=min_digits, sort=sort,
                                limit=limit)
        if as_json:
            output.print_json({"families": [f.to_dict() for f in rows]})
            return
        reps = catalog.conjectures_by_ids(f.representative_id for f in rows if f.representative_id is not None)
    output.families_table(rows, title=_count_title(len(rows), "family", limit),
                          reps=reps)


def _get(catalog, conjecture_id: int):
    conj = catalog.get(conjecture_id)
    if conj is None:
        raise BadInput(f"no formula with id {conjecture_id} in {catalog.url}")
    return conj


@cli.command(
    help="Show one formula in full, with its family (representative, members and their exact relations)."
    + EXAMPLE + "esma show 12\n  esma show 12 --json\n  esma show 12 --plot e.png"
)
@click.argument("conjecture_id", metavar="ID", type=CatalogId())
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Also write a PNG of correct digits against terms, vs the simple continued fraction.")
@click.option("--members", "members_shown", type=Bounded(0, limits.MAX_INTEGER), default=20, show_default=True,
              help="Members of the formula's family shown.")
@DB_OPTION
@JSON_OPTION
def show(conjecture_id, plot_path, members_shown, db, as_json) -> None:
    from esma.render import conjecture_latex, conjecture_text

    with _catalog(db, reading=True) as catalog:
        conj = _get(catalog, conjecture_id)
        history = catalog.verifications(conjecture_id)
        family = catalog.family(conj.family_id) if conj.family_id is not None else None
        members = catalog.family_members(family.id, limit=members_shown) if family is not None else []
    if plot_path:
        # written before anything is printed: a path that cannot be written leaves stdout empty
        from esma.plots import save_convergence_plot

        folder = os.path.dirname(os.path.abspath(plot_path))
        if not os.path.isdir(folder):  # fail before the computation, not after it
            raise BadInput(f"cannot write {plot_path}: no directory {folder}")
        try:
            save_convergence_plot(conj, plot_path)
        except OSError as exc:
            raise BadInput(f"cannot write {plot_path}: {exc.strerror or exc}") from None
        output.err(f"wrote the convergence plot of #{conjecture_id} to {plot_path}")
    if as_json:
        output.print_json({
            "conjecture": conj.to_dict(),
            "family": family.to_dict() if family is not None else None,
            "members": [m.to_dict() for m in members],
            "verifications": history,
        })
        return
    click.echo(conjecture_text(conj))
    click.echo(f"  latex      {conjecture_latex(conj)}")
    for v in history:
        click.echo(
            f"  verified   {v['verified_digits']} of {v['digits_requested']} digits "
            f"({'ok' if v['ok'] else 'FAILED'}) on {v['created_at']}"
        )
    if family is not None:
        output.family_text(conj, family, members)


@cli.command(
    help="Approve a stored formula again, at more digits; a formula that fails, or whose terms, recurrence and "
    "closed form do not describe one sequence, is marked refuted (exit code 1).  "
    "With --proof, check its stored proof certificate instead, from the record and the theorem registry alone, "
    "within a bounded amount of work; a certificate the checker rejects (unreadable or beyond the bound "
    "included) leaves the formula a conjecture (exit code 1)."
    + EXAMPLE + "esma verify 12 --verify-digits 5000\n  esma verify 12 --proof"
)
@click.argument("conjecture_id", metavar="ID", type=CatalogId())
@click.option("--verify-digits", type=Bounded(1, limits.MAX_DIGITS), default=2000, show_default=True,
              help=f"Digits to compare (at most {limits.MAX_DIGITS:,}).")
@click.option("--proof", "check_proof", is_flag=True, help="Check the stored proof certificate (docs/proofs.md).")
@DB_OPTION
@JSON_OPTION
def verify(conjecture_id, verify_digits, check_proof, db, as_json) -> None:
    if check_proof:
        _verify_proof(conjecture_id, db, as_json)
        return
    import esma
    from esma.verify import verify_record

    if verify_digits < 1:
        raise BadInput(f"Argument 'verify_digits' must be a positive integer, not {verify_digits}")
    with _catalog(db) as catalog:
        conj = _get(catalog, conjecture_id)
        t0 = time.perf_counter()
        verdict = verify_record(conj, verify_digits)
        seconds = time.perf_counter() - t0
        status = None if verdict.ok else "refuted"
        reason = None if verdict.ok else f"verify at {verify_digits} digits: {verdict.reason or 'digits disagree'}"
        if verdict.ok and conj.status == "refuted":
            status, reason = "conjecture", ""
        catalog.add_verification(
            conjecture_id, verify_digits, verdict.verified_digits, verdict.ok, verdict.terms_used, seconds,
            esma.__version__, status=status, status_reason=reason,
        )
    result = {
        "id": conjecture_id,
        "ok": verdict.ok,
        "verified_digits": verdict.verified_digits,
        "required_digits": verdict.required_digits,
        "terms_used": verdict.terms_used,
        "digits_per_term": round(verdict.digits_per_term, 4),
        "seconds": round(seconds, 3),
        "reason": verdict.reason,
        "status": status or conj.status,
    }
    if as_json:
        output.print_json(result)
    elif verdict.ok:
        click.echo(f"#{conjecture_id} approved: {verdict.verified_digits} digits agree ({verdict.terms_used} terms)")
    else:
        click.echo(f"#{conjecture_id} REFUTED: {verdict.reason or 'digits disagree'}")
    if not verdict.ok:
        sys.exit(1)


def _verify_proof(conjecture_id: int, db, as_json: bool) -> None:
    """``esma verify ID --proof``: the checker on the stored certificate (a member's is completed with its
    representative's claim and certificate, themselves checked again); nothing stored is trusted but the
    registry."""
    from esma.cli.proofs import check_record

    with _catalog(db) as catalog:
        found = catalog.proof_record(conjecture_id)  # the certificate as stored text: unreadable is rejected
        if found is None:
            raise BadInput(f"no formula with id {conjecture_id} in {catalog.url}")
        conj, certificate_text = found
        t0 = time.perf_counter()
        ok, reason = check_record(catalog, conj, certificate_text)
        seconds = time.perf_counter() - t0
        if not ok and conj.status == "proved":  # an invalid proof proves nothing: back to a conjecture
            catalog.set_proofs([(conjecture_id, "conjecture", f"certificate rejected: {reason}", None)])
    status = conj.status if ok or conj.status != "proved" else "conjecture"
    if as_json:
        output.print_json({"id": conjecture_id, "ok": ok, "reason": reason, "status": status,
                           "seconds": round(seconds, 4)})
    elif ok:
        click.echo(f"#{conjecture_id} proof checked: {reason}")
    else:
        click.echo(f"#{conjecture_id} PROOF REJECTED: {reason}")
    if not ok:
        sys.exit(1)


@cli.command(
    help="Export the catalog as JSON (with provenance), CSV, a LaTeX document or one self-contained HTML page.  "
    "LaTeX and HTML write one formula per family, ranked (--all: every formula); JSON and CSV carry every formula "
    "with its family fields."
    + EXAMPLE
    + "esma export --format latex --output formulas.tex\n  esma export --format csv > catalog.csv"
    + "\n  esma export --format html --output catalog.html"
)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "latex", "html"]), default="json",
              show_default=True)
@click.option("--constant", "constant_expr", default=None, help="Only this constant.")
@click.option("--all", "show_all", is_flag=True, help="LaTeX and HTML: every formula, not one per family.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write [default: stdout].")
@DB_OPTION
def export(fmt, constant_expr, show_all, output_path, db) -> None:
    text = _constant_text(constant_expr)
    if output_path:
        folder = os.path.dirname(os.path.abspath(output_path))
        if not os.path.isdir(folder):
            raise BadInput(f"cannot write {output_path}: no directory {folder}")
    if fmt == "html":  # the web pages as one self-contained file, read-only (esma.cli.web)
        from esma.cli.web.commands import export_html

        try:
            stats = export_html(db, output_path, all_formulas=show_all, constant=text)
        except (ValueError, FileNotFoundError) as exc:
            raise BadInput(str(exc)) from None
        if output_path:
            output.err(f"wrote {stats.families} families and {stats.formulas} formulas ({stats.bytes:,} bytes) "
                       f"to {output_path}")
        return
    with _catalog(db, reading=True) as catalog:
        if output_path:
            with open(output_path, "w", encoding="utf-8") as fh:
                n = output.write_export(fmt, catalog, text, fh, every=show_all)
            output.err(f"wrote {n} {'formulas' if fmt != 'latex' or show_all else 'families'} to {output_path}")
        else:
            output.write_export(fmt, catalog, text, sys.stdout, every=show_all)


@cli.command(help="List the constant names and functions an expression may use." + EXAMPLE + "esma constants --json")
@JSON_OPTION
def constants(as_json) -> None:
    from esma.constants import FUNCTIONS, NAMES

    if as_json:
        output.print_json({"names": NAMES, "functions": FUNCTIONS, "operators": ["+", "-", "*", "/", "**"]})
        return
    output.constants_table(NAMES, FUNCTIONS)


@cli.command(
    help="Browse the catalog in a web browser: constants, ranked families, formulas typeset with their "
    "convergence plots (read-only; every page is also JSON with ?format=json)."
    + EXAMPLE
    + "esma serve\n  esma serve --db catalog.sqlite --port 8080"
)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (anything but loopback is reachable from other machines).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--plot-workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Worker processes drawing convergence plots (at most this many plots at a time).")
@click.option("--plot-timeout", type=click.FloatRange(0.5, 600), default=30.0, show_default=True,
              help="Seconds a plot may take; a plot still drawing then is stopped and shown as such.")
@DB_OPTION
def serve(host, port, plot_workers, plot_timeout, db) -> None:
    from esma.cli.web.commands import serve as serve_catalog

    try:
        serve_catalog(db, host, port, plot_workers=plot_workers, plot_timeout=plot_timeout, warn=output.err)
    except (ValueError, FileNotFoundError) as exc:
        raise BadInput(str(exc)) from None


# ------------------------------------------------------------------------------------------------ entry


def _stop_signal(exc: BaseException) -> int | None:
    """The signal that stopped the command, if ``exc`` is (or wraps) a stop: ``Stopped`` names it, a plain
    KeyboardInterrupt is SIGINT.  A stop may surface wrapped (a compiled kernel reports it as SystemError with
    the interrupt set)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, KeyboardInterrupt):
            return int(getattr(exc, "signum", signal.SIGINT))
        exc = exc.__cause__ or exc.__context__
    return None


def _interrupted(exc: BaseException) -> bool:
    """A stop signal that surfaced wrapped (see ``_stop_signal``)."""
    return _stop_signal(exc) is not None


#: The signal handlers ``main`` leaves as it found them.
_HANDLED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def main(argv: list[str] | None = None) -> Any:
    """The command line with the exit-code contract, for a caller in this process (``entry`` is the command):
    always ends with ``sys.exit``; the handlers of SIGINT, SIGTERM and SIGHUP are left as they were found."""
    previous = {sig: signal.getsignal(sig) for sig in _HANDLED}
    try:
        _main(argv)
    finally:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is not handler and handler is not None:
                with contextlib.suppress(ValueError):
                    signal.signal(sig, handler)


def _main(argv: list[str] | None) -> Any:
    # terms and recurrence coefficients are exact integers of any size: print them whole
    sys.set_int_max_str_digits(0)
    try:
        rv = cli.main(args=argv, prog_name="esma", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        output.err(f"error: {exc.format_message()}")
        sys.exit(2)
    except click.Abort as exc:  # click's wrapping of a KeyboardInterrupt (a stop signal) out of a command
        output.err("aborted")
        sys.exit(128 + (_stop_signal(exc) or signal.SIGINT))
    except BadInput as exc:
        output.err(f"error: {str(exc).splitlines()[0] if str(exc) else 'bad input'}")
        sys.exit(2)
    except KeyboardInterrupt as exc:
        output.err("interrupted")
        sys.exit(128 + (_stop_signal(exc) or signal.SIGINT))
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # runtime failure: one line unless debugging
        if _interrupted(exc):
            output.err("interrupted")
            sys.exit(128 + _stop_signal(exc))
        if os.environ.get("ESMA_DEBUG"):
            raise
        output.err(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def entry() -> None:
    """The ``esma`` command: ``main``, then an exit that skips the interpreter's last full garbage collection.

    At exit the interpreter walks every object still alive for cycles (1.4 s after a search that stored 45,129
    formulas); the process is ending, so the heap is frozen first and the walk skips it.  A caller in this
    process uses ``main``.
    """
    import gc

    try:
        _main(None)
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    entry()

