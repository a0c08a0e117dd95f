"""The ``esma serve`` and ``esma export --format html`` commands, as functions the command line calls.

Both read the catalog read-only.  Errors the user can fix (no such catalog, a catalog at an older schema, a
bad port) are raised as ``ValueError`` / ``FileNotFoundError`` with one line; the command line turns them into
exit code 2.

>>> import tempfile, os.path
>>> from esma.db import Catalog
>>> folder = tempfile.mkdtemp()
>>> Catalog(os.path.join(folder, "c.sqlite")).close()
>>> stats = export_html(os.path.join(folder, "c.sqlite"), os.path.join(folder, "c.html"))
>>> stats.families, stats.formulas, stats.bytes > 10_000
(0, 0, True)
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from esma.cli.web import assets, pages
from esma.cli.web.app import template_environment
from esma.cli.web.plotpool import DEFAULT_TIMEOUT, DEFAULT_WORKERS, MAX_TIMEOUT, MAX_WORKERS, MIN_TIMEOUT
from esma.cli.web.source import FamilyFilters, Source
from esma.cli.web.svgplot import PlotCache

__all__ = ["EXPORT_FAMILIES", "EXPORT_MEMBERS", "ExportStats", "export_html", "is_loopback", "serve"]

#: The export gives this many families of each constant (the first ranked) a section of their own: the family
#: with its members and relations, and its representative typeset with its plot and certificate.  The other
#: families are one row each, as text, in the constant's ranked list.  Measured on e at degree 2 (``--degree 2
#: --coeff-limit 3 --max-period 6``: 4,395 families, 103,686 formulas): 10 MB, drawn by headless Chromium in
#: about 3 s; with a section for every family the file was 251 MB.  The default catalog (e and tan(1): 339
#: families) keeps a section for every family: 11.6 MB, drawn in about 2 s.
EXPORT_FAMILIES = 200
#: A family's section lists at most this many members (the representative first); a line says how to list all.
EXPORT_MEMBERS = 500


def is_loopback(host: str) -> bool:
    """True for an address that only this machine can reach.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    db: str | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    plot_workers: int = DEFAULT_WORKERS,
    plot_timeout: float = DEFAULT_TIMEOUT,
    warn: Any = None,
) -> None:
    """Serve the catalog ``db`` (path or URL; ``None``: ``$ESMA_DB`` or ./esma.sqlite) read-only on
    ``host:port`` until interrupted.  ``warn(line)`` receives the warnings and the address (stderr by default).

    Plots are drawn by ``plot_workers`` worker processes (1..16), each within ``plot_timeout`` seconds
    (0.5..600).  On SIGTERM or Ctrl-C the server stops within about a second: requests still running are
    cancelled after a 1 s grace and the plot workers killed.
    """
    import uvicorn

    from esma.cli.web.app import create_app

    say = warn or (lambda line: print(f"esma: {line}", file=sys.stderr, flush=True))
    if not 0 < int(port) < 65536:
        raise ValueError(f"--port must be between 1 and 65535, not {port}")
    if not 1 <= int(plot_workers) <= MAX_WORKERS:
        raise ValueError(f"--plot-workers must be between 1 and {MAX_WORKERS}, not {plot_workers}")
    if not MIN_TIMEOUT <= float(plot_timeout) <= MAX_TIMEOUT:
        raise ValueError(f"--plot-timeout must be between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds, "
                         f"not {plot_timeout}")
    app = create_app(db, plot_workers=int(plot_workers), plot_timeout=float(plot_timeout))
    if not is_loopback(host):
        say(f"warning: serving on {host}, not loopback: anyone who can reach this machine can read the catalog")
    # a port in use fails here with one line, before uvicorn starts
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError as exc:
            raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    shown = f"[{host}]" if ":" in host else host
    say(f"serving {app.state.source.url} read-only at http://{shown}:{port}/ (Ctrl-C stops)")
    config = uvicorn.Config(app, host=host, port=int(port), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=1)  # a request still running then is cancelled
    _stopping_server(config, app.state.plot_pool).run()


def _stopping_server(config: Any, pool: Any) -> Any:
    """uvicorn's server, which also stops the plot workers as soon as it is asked to stop (SIGTERM, SIGINT):
    the requests waiting for a plot then answer at once ("the server is stopping") instead of holding the
    shutdown until they are cancelled."""
    import threading

    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            # not in the handler itself: it must not wait for the pool's lock, which this thread may hold
            threading.Thread(target=pool.close, name="esma-plot-stop", daemon=True).start()

    return Server(config)


@dataclass(frozen=True)
class ExportStats:
    """What an HTML export wrote."""

    path: str | None
    constants: int
    families: int
    formulas: int
    bytes: int


def export_html(
    db: str | None,
    output: str | os.PathLike[str] | None,
    *,
    all_formulas: bool = False,
    constant: str | None = None,
    digits: int = pages.DEFAULT_PLOT_DIGITS,
    stream: IO[str] | None = None,
    families_shown: int = EXPORT_FAMILIES,
    members_shown: int = EXPORT_MEMBERS,
) -> ExportStats:
    """Write the catalog's pages as one self-contained HTML file: the constants; each constant's families
    ranked; for the first ``families_shown`` of them a family section (its first ``members_shown`` members with
    their relations, as text) and a formula section for its representative (typeset, with its convergence plot
    and certificate); the other families as a row of text each in the ranked list.  ``all_formulas`` writes
    everything instead: a section for every family, all its members, and a formula section for each of them.
    The math font is embedded (a subset of the characters used); MathML and SVG are inline; the file makes no
    request when opened, and sections are laid out by the browser as they are scrolled to.

    ``output`` None writes to ``stream`` (stdout by default).  ``constant`` (canonical text) keeps one
    constant.  Sections are written to a temporary file first, so that the font subset can be made from
    what the document holds; memory stays bounded by one family's members.
    """
    import esma

    src = Source(db)
    try:
        env = template_environment()
        sections = env.get_template("export_sections.html").module
        plots = PlotCache(64)
        constants = [c for c in src.constants() if constant is None or c["text"] == constant]
        if constant is not None and not constants:
            raise ValueError(f"the catalog holds no constant {constant!r}")
        n_families = n_formulas = 0
        with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
            chars: set[str] = set()

            def put(markup: Any) -> None:
                text = str(markup)
                chars.update(text)
                body.write(text)
                body.write("\n")

            home = pages.home_page(src, pages.ExportLinks())
            home.context["constants"] = [
                c for c in home.context["constants"] if constant is None or c["text"] == constant
            ]
            put(sections.constants_section(home.context, pages.ExportLinks()))
            for const in constants:
                rows, total = src.families(const, FamilyFilters(), None, 0)
                shown = rows if all_formulas else rows[: max(families_shown, 0)]
                reps = None if all_formulas else {r.family.representative_id for r in shown}
                links = pages.ExportLinks(reps, {r.family.id for r in shown})
                page = pages.constant_page(src, links, const, FamilyFilters(), 1, max(total, 1),
                                           typeset=len(shown))
                page.context["shown"] = len(shown)
                put(sections.constant_section(page.context, links))
                n_families += len(rows)
                for row in shown:
                    cap = None if all_formulas or row.family.members <= members_shown else max(members_shown, 1)
                    fam_page = pages.family_page(src, links, row, 1, cap, typeset=False)
                    if cap is not None:
                        fam_page.context["members_note"] = (
                            f"esma list --family {pages.family_ref(row.family.id)} lists them all "
                            f"(--json for scripts); esma serve shows them page by page.")
                    put(sections.family_section(fam_page.context, links))
                    members = fam_page.context["members"]
                    chosen = [m["conj"] for m in members] if all_formulas else [row.representative]
                    for conj in chosen:
                        if conj is None:
                            continue
                        f_page = pages.formula_page(src, links, conj, plots, digits, family=row)
                        put(sections.formula_section(f_page.context, links))
                        n_formulas += 1
            put(sections.searches_section(
                [s for s in src.searches() if constant is None or s["constant"] == constant], pages.ExportLinks()
            ))

            font = base64.b64encode(assets.font_subset("".join(chars))).decode("ascii")
            when = datetime.now(UTC).replace(microsecond=0).isoformat()
            provenance = f"esma {esma.__version__}, exported {when} from {src.url}"
            head = env.get_template("export_head.html").render(
                title="Catalog", provenance=provenance, font_src=f"data:{assets.FONT_MEDIA_TYPE};base64,{font}"
            )
            tail = env.get_template("export_tail.html").render()
            body.seek(0)
            if output is None:
                out = stream or sys.stdout
                out.write(head)
                shutil.copyfileobj(body, out)
                out.write(tail)
                size = -1
            else:
                path = os.fspath(output)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(head)
                    shutil.copyfileobj(body, fh)
                    fh.write(tail)
                size = os.path.getsize(path)
        return ExportStats(None if output is None else os.fspath(output), len(constants), n_families, n_formulas, size)
    finally:
        src.close()
