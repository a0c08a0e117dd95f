"""``esma``: discover continued-fraction formulas for mathematical constants.

Every command is parse -> engine -> catalog -> render; ``--json`` prints one JSON document on stdout, progress
and errors go to stderr.  Exit codes: 0 success (also when nothing is found), 1 runtime failure, 2 bad usage or
bad input (one line on stderr, no traceback; ``ESMA_DEBUG=1`` shows tracebacks of runtime failures).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any

import click

from esma.cli import output

EXAMPLE = "\n\n\b\nExample:\n  "


class BadInput(Exception):
    """User input the engine refused: exit 2 with one line."""


@contextlib.contextmanager
def bad_input(prefix: str = ""):
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise BadInput(f"{prefix}{exc}") from None


def _catalog(db: str | None):
    from esma.db import Catalog

    try:
        return Catalog(db)
    except (FileNotFoundError, NotADirectoryError, PermissionError, IsADirectoryError) as exc:
        raise BadInput(f"cannot open catalog {db or os.environ.get('ESMA_DB') or 'esma.sqlite'}: {exc}") from None
    except Exception as exc:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        if isinstance(exc, ArgumentError | NoSuchModuleError):
            raise BadInput(f"cannot open catalog {db!r}: {exc}") from None
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


@cli.command(
    help="Search a constant for continued fraction formulas and store them in the catalog."
    + EXAMPLE
    + 'esma search "tan(1)"\n  esma search e --degree 2 --coeff-limit 2 --max-period 6 --json'
    + "\n\nRe-running the same command resumes an interrupted search; a finished one is reported from the catalog."
)
@click.argument("expr")
@click.option("--degree", type=int, default=1, show_default=True, help="Max degree d of P and Q in T(c) = P(c)/Q(c).")
@click.option("--coeff-limit", type=int, default=2, show_default=True, help="Coefficients of P and Q in [-L, L].")
@click.option("--min-period", type=int, default=1, show_default=True, help="Shortest sign period.")
@click.option("--max-period", type=int, default=4, show_default=True, help="Longest sign period.")
@click.option("--depth", type=int, default=100, show_default=True, help="Certified terms per candidate.")
@click.option("--digits", type=int, default=None, help="Scan precision in digits [default: 5 per term of depth].")
@click.option("--verify-digits", type=int, default=1000, show_default=True, help="Digits to approve each formula.")
@click.option("--workers", type=int, default=None, help="Worker processes [default: CPU count].")
@click.option(
    "--executor",
    type=click.Choice(["serial", "process", "dask"]),
    default="process",
    show_default=True,
    help="Where chunks run.",
)
@click.option("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler (tcp://host:port) for --executor dask.")
@click.option("--limit", type=int, default=40, show_default=True, help="Rows shown in the table (JSON shows all).")
@DB_OPTION
@JSON_OPTION
def search(expr, degree, coeff_limit, min_period, max_period, depth, digits, verify_digits, workers, executor,
           scheduler, limit, db, as_json) -> None:
    from esma.cli import runner

    params = {
        "degree": degree,
        "coeff_limit": coeff_limit,
        "min_period": min_period,
        "max_period": max_period,
        "depth": depth,
        "digits": digits,
        "verify_digits": verify_digits,
    }
    if workers is not None and workers < 1:
        raise BadInput(f"Argument 'workers' must be a positive integer, not {workers}")
    if scheduler is not None and executor != "dask":
        raise BadInput("--scheduler needs --executor dask")
    catalog = _catalog(db)
    with catalog:
        with bad_input():
            job = runner.prepare(catalog, expr, params)
        progress = output.Progress(job.plan, len(job.plan.chunks) - len(job.todo))
        t0 = time.perf_counter()
        try:
            with progress:
                runner.run(catalog, job, executor, workers, scheduler, on_chunk=progress.update)
        except KeyboardInterrupt:
            output.err(
                f"interrupted: {len(catalog.done_chunks(job.search_id))}/{len(job.plan.chunks)} chunks are saved "
                f"in {catalog.url}; run the same command again to resume"
            )
            sys.exit(130)
        summary = dict(job.summary)
        summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
        if as_json:
            output.print_json({"search": summary, "conjectures": [c.to_dict() for c in job.conjectures]})
        else:
            output.search_table(job.conjectures, summary, limit)
        output.err(output.summary_line(summary, catalog.url))


# ------------------------------------------------------------------------------------------------ expand


@cli.command(
    help="Print the certified signed continued fraction of a constant."
    + EXAMPLE
    + 'esma expand "tan(1)" --signs +-+ --terms 12\n  esma expand e --signs - --json'
)
@click.argument("expr")
@click.option("--signs", default="+", show_default=True, help="Sign period, e.g. '+', '-', '+-+'.")
@click.option("--terms", type=int, default=20, show_default=True, help="Number of terms.")
@click.option("--digits", type=int, default=None, help="Fixed precision (fewer terms may be certified).")
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
    help="List conjectures in the catalog." + EXAMPLE + 'esma list --constant "tan(1)" --kind polynomial',
)
@click.option("--constant", "constant_expr", default=None, help="Only this constant (any spelling of it).")
@click.option("--kind", type=click.Choice(["periodic", "polynomial", "exponential", "other"]), default=None)
@click.option("--min-digits", type=int, default=None, help="Only those verified to at least this many digits.")
@click.option("--status", type=click.Choice(["conjecture", "proved", "refuted"]), default=None)
@DB_OPTION
@JSON_OPTION
def list_(constant_expr, kind, min_digits, status, db, as_json) -> None:
    text = None
    if constant_expr is not None:
        from esma.constants import constant

        with bad_input():
            text = constant(constant_expr, allow_rational=True).text
    with _catalog(db) as catalog:
        rows = catalog.conjectures(constant=text, kind=kind, min_digits=min_digits, status=status)
    if as_json:
        output.print_json({"conjectures": [c.to_dict() for c in rows]})
    else:
        output.conjecture_table(rows, title=f"{len(rows)} conjectures")


def _get(catalog, conjecture_id: int):
    conj = catalog.get(conjecture_id)
    if conj is None:
        raise BadInput(f"no conjecture with id {conjecture_id} in {catalog.url}")
    return conj


@cli.command(help="Show one conjecture in full." + EXAMPLE + "esma show 12\n  esma show 12 --json")
@click.argument("conjecture_id", metavar="ID", type=int)
@DB_OPTION
@JSON_OPTION
def show(conjecture_id, db, as_json) -> None:
    from esma.render import conjecture_latex, conjecture_text

    with _catalog(db) as catalog:
        conj = _get(catalog, conjecture_id)
        history = catalog.verifications(conjecture_id)
    if as_json:
        output.print_json({"conjecture": conj.to_dict(), "verifications": history})
        return
    click.echo(conjecture_text(conj))
    click.echo(f"  latex      {conjecture_latex(conj)}")
    for v in history:
        click.echo(
            f"  verified   {v['verified_digits']} of {v['digits_requested']} digits "
            f"({'ok' if v['ok'] else 'FAILED'}) on {v['created_at']}"
        )


@cli.command(
    help="Approve a stored conjecture again, at more digits; a conjecture that fails is marked refuted "
    "(exit code 1)." + EXAMPLE + "esma verify 12 --verify-digits 5000"
)
@click.argument("conjecture_id", metavar="ID", type=int)
@click.option("--verify-digits", type=int, default=2000, show_default=True, help="Digits to compare.")
@DB_OPTION
@JSON_OPTION
def verify(conjecture_id, verify_digits, db, as_json) -> None:
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


@cli.command(
    help="Export the catalog as JSON (with provenance), CSV or a LaTeX document."
    + EXAMPLE
    + "esma export --format latex --output formulas.tex\n  esma export --format csv > catalog.csv"
)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "latex"]), default="json", show_default=True)
@click.option("--constant", "constant_expr", default=None, help="Only this constant.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write [default: stdout].")
@DB_OPTION
def export(fmt, constant_expr, output_path, db) -> None:
    text = None
    if constant_expr is not None:
        from esma.constants import constant

        with bad_input():
            text = constant(constant_expr, allow_rational=True).text
    with _catalog(db) as catalog:
        rows = catalog.conjectures(constant=text)
        searches = catalog.searches(constant=text)
        url = catalog.url
    doc = output.export_document(fmt, rows, searches, url)
    if output_path:
        with open(output_path, "w", encoding="utf-8") as fh:
            fh.write(doc)
        output.err(f"wrote {len(rows)} conjectures to {output_path}")
    else:
        click.echo(doc, nl=False)


@cli.command(help="List the constant names and functions an expression may use." + EXAMPLE + "esma constants --json")
@JSON_OPTION
def constants(as_json) -> None:
    from esma.constants import FUNCTIONS, NAMES

    if as_json:
        output.print_json({"names": NAMES, "functions": FUNCTIONS, "operators": ["+", "-", "*", "/", "**"]})
        return
    output.constants_table(NAMES, FUNCTIONS)


# ------------------------------------------------------------------------------------------------ entry


def main(argv: list[str] | None = None) -> Any:
    """Console entry point with the exit-code contract."""
    try:
        rv = cli.main(args=argv, prog_name="esma", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        output.err(f"error: {exc.format_message()}")
        sys.exit(2)
    except click.Abort:
        output.err("aborted")
        sys.exit(130)
    except BadInput as exc:
        output.err(f"error: {str(exc).splitlines()[0] if str(exc) else 'bad input'}")
        sys.exit(2)
    except KeyboardInterrupt:
        output.err("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # runtime failure: one line unless debugging
        if os.environ.get("ESMA_DEBUG"):
            raise
        output.err(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()

