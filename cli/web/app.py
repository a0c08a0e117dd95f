"""The web application of ``esma serve``: Starlette routes -> catalog reads -> Jinja2 templates.

Routes (every page is also JSON at the same URL, with ``Accept: application/json`` or ``?format=json``):

    /                          constants, with their counts of formulas, families, proved formulas, searches
    /constants/{id}            a constant's families ranked; ?kind= &status= &min_gain= &min_digits= &sort=
                               &order=asc|desc &page= &per_page=
    /families/{id}             a family: its representative, members and their relations; ?page= &per_page=
    /formulas/{id}             a formula: typeset, figures, status, certificate, convergence plot; ?digits=
    /formulas/{id}/plot.svg    the convergence plot alone
    /searches                  the searches run into the catalog
    /assets/math-font.ttf      the math font (STIX Two Math from the ziamath package)

Bad parameters get 400 with a message, unknown ids and pages past the last 404, anything else 500 with one
line: never a traceback.  Ids are ASCII digits (anything else: 404).  Every numeric parameter is ASCII digits
with a bound, refused with 400 beyond it: ``page`` 1..10^9, ``per_page`` 1..500, ``min_digits`` 0..10^9,
``min_gain`` 0..10^6 (a decimal number), ``digits`` (of a plot) 1..5000.

Plots are drawn by a bounded pool of worker processes (:mod:`esma.cli.web.plotpool`), each within a time
limit, and cached (the last ``plot_cache_size``, per formula and digits).  A plot over its time limit, or not
drawn because every worker stayed busy, is a note on the formula page and a 503 for ``plot.svg``.

Every answer carries a Content-Security-Policy: no script, no frame, nothing loaded but the math font from
this server; the pages' one inline style block is allowed by its hash.

>>> from starlette.testclient import TestClient                   # doctest: +SKIP
>>> client = TestClient(create_app("esma.sqlite"))                # doctest: +SKIP
>>> client.get("/constants/1", params={"format": "json", "sort": "gain"}).json()["families"][0]  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import math
import os
import re
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from esma.cli.web import assets, pages
from esma.cli.web.plotpool import DEFAULT_TIMEOUT, DEFAULT_WORKERS, PlotPool, busy_plot
from esma.cli.web.source import KINDS, SORTS, STATUSES, FamilyFilters, Source
from esma.cli.web.svgplot import Plot, PlotCache

__all__ = ["BadParameter", "create_app", "template_environment"]

TEMPLATES = Path(__file__).with_name("templates")
FONT_URL = "/assets/math-font.ttf"
MAX_PER_PAGE = 500
MAX_PAGE = 10**9
MAX_PLOT_DIGITS = 5000
MAX_MIN_DIGITS = 10**9
MAX_MIN_GAIN = 10**6
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")  # ASCII only: int() would also take '١٢', '1_0' and ' 12 '
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,4})?")
_NON_FINITE = ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")

log = logging.getLogger("esma.web")


class BadParameter(ValueError):
    """A query parameter the page cannot use (answered with 400 and this message)."""


def template_environment() -> jinja2.Environment:
    """The Jinja2 environment of the pages and the export: autoescape on for every template."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, .css included: catalog text never becomes markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # one way to write each kind of id on every page and in the export: formulas #123, families F12
    env.globals.update(formula_ref=pages.formula_ref, family_ref=pages.family_ref)
    return env


def render(env: jinja2.Environment, page: pages.Page, links: pages.Links, **extra: Any) -> str:
    return env.get_template(page.template).render(
        p=page.context, title=page.title, links=links, kinds=KINDS, statuses=STATUSES, sorts=SORTS, **extra
    )


# -- query parameters ----------------------------------------------------------------------------------


def _one_of(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise BadParameter(f"parameter {name!r} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _integer(params: Mapping[str, str], name: str, default: int | None, low: int, high: int | None = None) -> Any:
    value = params.get(name, "").strip()
    if not value:
        return default
    if not _INTEGER.fullmatch(value):
        raise BadParameter(f"parameter {name!r} must be an integer, not {value[:40]!r}")
    n = int(value)
    if n < low or (high is not None and n > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadParameter(f"parameter {name!r} must be {bound}, not {n}")
    return n


def _number(params: Mapping[str, str], name: str, high: float) -> float | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if value.lower() in _NON_FINITE:
        raise BadParameter(f"parameter {name!r} must be a finite number >= 0, not {value[:40]!r}")
    if not _DECIMAL.fullmatch(value):
        raise BadParameter(f"parameter {name!r} must be a number, not {value[:40]!r}")
    x = float(value)
    if not math.isfinite(x) or x < 0:
        raise BadParameter(f"parameter {name!r} must be a finite number >= 0, not {value[:40]!r}")
    if x > high:
        raise BadParameter(f"parameter {name!r} must be between 0 and {high}, not {value[:40]}")
    return x


def _check_known(params: Mapping[str, str], known: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(known) - {"format"})
    if unknown:
        raise BadParameter(f"unknown parameter {unknown[0][:40]!r} (this page takes {', '.join(known) or 'none'})")
    fmt = params.get("format", "")
    if fmt not in ("", "html", "json"):
        raise BadParameter(f"parameter 'format' must be html or json, not {fmt[:40]!r}")


def family_filters(params: Mapping[str, str]) -> FamilyFilters:
    """The filters of a constant's family list from its query string (raises :class:`BadParameter`).

    >>> family_filters({"kind": "polynomial", "min_gain": "1.2", "order": "asc"})
    FamilyFilters(kind='polynomial', status=None, min_gain=1.2, min_digits=None, sort='rank', descending=False)
    """
    order = _one_of(params, "order", ("asc", "desc"))
    return FamilyFilters(
        kind=_one_of(params, "kind", KINDS),
        status=_one_of(params, "status", STATUSES),
        min_gain=_number(params, "min_gain", MAX_MIN_GAIN),
        min_digits=_integer(params, "min_digits", None, 0, MAX_MIN_DIGITS),
        sort=_one_of(params, "sort", SORTS) or "rank",
        descending=None if order is None else order == "desc",
    )


def _id(request: Request, name: str) -> int:
    text = request.path_params[name]
    # ASCII digits only: str.isdigit() is also true of '²' and '١', which int() refuses or reads
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise HTTPException(404, f"no {name.removesuffix('_id')} with id {text[:40]!r}")
    return int(text)


def wants_json(request: Request) -> bool:
    """``?format=json``, or an Accept header that asks for JSON rather than HTML."""
    fmt = request.query_params.get("format")
    if fmt:
        return fmt == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _json(data: Any, status: int = 200) -> Response:
    # big integers stay exact JSON integers (Python's json writes any int); non-finite floats become null
    body = json.dumps(_finite(data), ensure_ascii=False, default=str)
    return Response(body, status_code=status, media_type="application/json")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# -- the application -----------------------------------------------------------------------------------


def _closing(src: Source, pool: PlotPool) -> Callable[[Starlette], Any]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool.start()
        try:
            yield
        finally:
            pool.close()  # the server stops: its plot workers with it, a plot being drawn or not
            src.close()  # and the catalog's connections

    return lifespan


def content_security_policy(style: str) -> str:
    """The CSP of every answer: nothing may load or run but the math font from this server and the pages'
    one inline style block ``style`` (allowed by its SHA-256, not by 'unsafe-inline').  The pages need no
    script, image, frame or connection; their SVG and MathML are inline markup, not loads."""
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'sha256-{digest}'; font-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")


class _SecurityHeaders:
    """ASGI middleware adding the CSP (and nosniff, no referrer) to every HTTP answer, errors included."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [(b"content-security-policy", csp.encode("ascii")),
                        (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Application(Starlette):
    """Starlette with the security headers outside its whole stack: on its 500 answers too (Starlette's
    ``middleware=`` sits inside the handler of unexpected errors)."""

    def build_middleware_stack(self) -> ASGIApp:
        return _SecurityHeaders(super().build_middleware_stack(), self.state.csp)


def create_app(
    catalog_url: str | os.PathLike[str] | None,
    *,
    plot_cache_size: int = 512,
    plot_workers: int = DEFAULT_WORKERS,
    plot_timeout: float = DEFAULT_TIMEOUT,
    source: Source | None = None,
) -> Starlette:
    """The ASGI application serving the catalog at ``catalog_url`` (a path or SQLAlchemy URL), read-only.

    Raises ``FileNotFoundError`` / ``ValueError`` (one line) when the catalog cannot be opened read-only, or
    for a pool setting out of its bounds (``plot_workers`` 1..16, ``plot_timeout`` 0.5..600 seconds).
    Plots are drawn by ``plot_workers`` worker processes, each within ``plot_timeout`` seconds, and cached in
    memory per (formula, digits), the last ``plot_cache_size`` of them.  The workers start and stop with the
    application's lifespan (or start with the first plot).
    """
    pool = PlotPool(plot_workers, plot_timeout)
    src = source if source is not None else Source(catalog_url)
    env = template_environment()
    links = pages.ServeLinks()
    plots = PlotCache(plot_cache_size)
    style = env.get_template("style.css").render(font_src=FONT_URL)
    common = {"catalog_url": src.url, "font_src": FONT_URL, "style": Markup(style)}

    def respond(request: Request, page: pages.Page) -> Response:
        if wants_json(request):
            return _json(page.data)
        return HTMLResponse(render(env, page, links, **common))

    def endpoint(known: tuple[str, ...], build: Callable[[Request], pages.Page]) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            try:
                _check_known(request.query_params, known)
                page = build(request)
            except BadParameter as exc:
                raise HTTPException(400, str(exc)) from None
            except pages.NoSuchPage as exc:
                raise HTTPException(404, str(exc)) from None
            return respond(request, page)

        return handler

    def home(request: Request) -> pages.Page:
        return pages.home_page(src, links)

    def constant(request: Request) -> pages.Page:
        cid = _id(request, "constant_id")
        params = request.query_params
        filters = family_filters(params)
        page = _integer(params, "page", 1, 1, MAX_PAGE)
        per_page = _integer(params, "per_page", 50, 1, MAX_PER_PAGE)
        found = src.constant(cid)
        if found is None:
            raise HTTPException(404, f"no constant with id {cid}")
        query = {k: params[k] for k in ("kind", "status", "min_gain", "min_digits", "sort", "order", "per_page")
                 if params.get(k)}
        return pages.constant_page(src, links, found, filters, page, per_page, query)

    def family(request: Request) -> pages.Page:
        fid = _id(request, "family_id")
        params = request.query_params
        page = _integer(params, "page", 1, 1, MAX_PAGE)
        per_page = _integer(params, "per_page", 100, 1, MAX_PER_PAGE)
        row = src.family(fid)
        if row is None:
            raise HTTPException(404, f"no family with id {fid}")
        return pages.family_page(src, links, row, page, per_page)

    async def plot_of(conj: Any, digits: int) -> Plot:
        """The plot from the cache, else drawn by the pool (one drawing per plot however many ask)."""
        key = (int(conj.id), int(digits))
        plot = plots.lookup(key)
        if plot is not None:
            return plot
        future = pool.submit(key, conj, digits, pages.plain_lhs(conj))
        if future is None:
            return busy_plot()
        # shielded: a request cancelled (the server stopping) leaves the drawing to the others waiting for it
        plot = await asyncio.shield(asyncio.wrap_future(future))
        if plot.limit != "busy":  # drawn, impossible, or over the time limit: the same next time
            plots.put(key, plot)
        return plot

    async def formula_params(request: Request) -> tuple[Any, int]:
        try:
            _check_known(request.query_params, ("digits",))
            digits = _integer(request.query_params, "digits", pages.DEFAULT_PLOT_DIGITS, 1, MAX_PLOT_DIGITS)
        except BadParameter as exc:
            raise HTTPException(400, str(exc)) from None
        cid = _id(request, "formula_id")
        conj = await run_in_threadpool(src.formula, cid)
        if conj is None:
            raise HTTPException(404, f"no formula with id {cid}")
        return conj, digits

    async def formula(request: Request) -> Response:
        conj, digits = await formula_params(request)
        plot = await plot_of(conj, digits)
        page = await run_in_threadpool(pages.formula_page, src, links, conj, plots, digits, plot=plot)
        return await run_in_threadpool(respond, request, page)

    async def plot_svg(request: Request) -> Response:
        conj, digits = await formula_params(request)
        plot = await plot_of(conj, digits)
        if plot.svg is None:
            if plot.limit:
                raise HTTPException(503, plot.error, headers={"Retry-After": "60"})
            raise HTTPException(404, plot.error)
        return Response(str(plot.svg), media_type="image/svg+xml")

    def searches(request: Request) -> pages.Page:
        return pages.searches_page(src, links)

    def font(request: Request) -> Response:
        return Response(
            assets.font_bytes(),
            media_type=assets.FONT_MEDIA_TYPE,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    def error_response(request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
                       ) -> Response:
        if wants_json(request):
            response = _json({"error": {"status": status, "message": message}}, status)
        else:
            reason = {400: "Bad request", 404: "Not found", 405: "Method not allowed",
                      503: "Service unavailable"}.get(status, "Error")
            page = pages.Page("error.html", f"{status} {reason}", {})
            body = env.get_template("error.html").render(
                p={}, title=page.title, links=links, status=status, reason=reason, message=message, **common
            )
            response = HTMLResponse(body, status_code=status)
        response.headers.update(headers or {})
        return response

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(request, exc.status_code, str(exc.detail), exc.headers)

    def server_error(request: Request, exc: Exception) -> Response:
        # one line for the log and the reader; the traceback stays out of the page
        log.error("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        line = str(exc).splitlines()[0][:300] if str(exc) else ""
        return error_response(request, 500, f"the catalog could not be read: {type(exc).__name__}: {line}")

    routes = [
        Route("/", endpoint((), home)),
        Route("/constants/{constant_id}", endpoint(
            ("kind", "status", "min_gain", "min_digits", "sort", "order", "page", "per_page"), constant)),
        Route("/families/{family_id}", endpoint(("page", "per_page"), family)),
        Route("/formulas/{formula_id}", formula),
        Route("/formulas/{formula_id}/plot.svg", plot_svg),
        Route("/searches", endpoint((), searches)),
        Route(FONT_URL, font),
    ]
    app = _Application(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=_closing(src, pool),
    )
    app.state.csp = content_security_policy(style)
    app.state.source = src
    app.state.plots = plots
    app.state.plot_pool = pool
    return app
