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

Bad parameters get 400 with a message, unknown ids 404, anything else 500 with one line: never a traceback.

>>> from starlette.testclient import TestClient                   # doctest: +SKIP
>>> client = TestClient(create_app("esma.sqlite"))                # doctest: +SKIP
>>> client.get("/constants/1", params={"format": "json", "sort": "gain"}).json()["families"][0]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from esma.cli.web import assets, pages
from esma.cli.web.source import KINDS, SORTS, STATUSES, FamilyFilters, Source
from esma.cli.web.svgplot import PlotCache

__all__ = ["BadParameter", "create_app", "template_environment"]

TEMPLATES = Path(__file__).with_name("templates")
FONT_URL = "/assets/math-font.ttf"
MAX_PER_PAGE = 500
MAX_PLOT_DIGITS = 5000

log = logging.getLogger("esma.web")


class BadParameter(ValueError):
    """A query parameter the page cannot use (answered with 400 and this message)."""


def template_environment() -> jinja2.Environment:
    """The Jinja2 environment of the pages and the export: autoescape on for every template."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, .css included: catalog text never becomes markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


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
    try:
        n = int(value)
    except ValueError:
        raise BadParameter(f"parameter {name!r} must be an integer, not {value[:40]!r}") from None
    if n < low or (high is not None and n > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadParameter(f"parameter {name!r} must be {bound}, not {n}")
    return n


def _number(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        x = float(value)
    except ValueError:
        raise BadParameter(f"parameter {name!r} must be a number, not {value[:40]!r}") from None
    if not math.isfinite(x) or x < 0:
        raise BadParameter(f"parameter {name!r} must be a finite number >= 0, not {value[:40]!r}")
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
        min_gain=_number(params, "min_gain"),
        min_digits=_integer(params, "min_digits", None, 0),
        sort=_one_of(params, "sort", SORTS) or "rank",
        descending=None if order is None else order == "desc",
    )


def _id(request: Request, name: str) -> int:
    text = request.path_params[name]
    if not text.isdigit() or len(text) > 18:
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


def _closing(src: Source) -> Callable[[Starlette], Any]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        src.close()  # the server stops: release the catalog's connections

    return lifespan


def create_app(
    catalog_url: str | os.PathLike[str] | None,
    *,
    plot_cache_size: int = 512,
    source: Source | None = None,
) -> Starlette:
    """The ASGI application serving the catalog at ``catalog_url`` (a path or SQLAlchemy URL), read-only.

    Raises ``FileNotFoundError`` / ``ValueError`` (one line) when the catalog cannot be opened read-only.
    Plots are cached in memory per (formula, digits), the last ``plot_cache_size`` of them.
    """
    src = source if source is not None else Source(catalog_url)
    env = template_environment()
    links = pages.ServeLinks()
    plots = PlotCache(plot_cache_size)
    common = {"catalog_url": src.url, "font_src": FONT_URL}

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
            return respond(request, page)

        return handler

    def home(request: Request) -> pages.Page:
        return pages.home_page(src, links)

    def constant(request: Request) -> pages.Page:
        cid = _id(request, "constant_id")
        params = request.query_params
        filters = family_filters(params)
        page = _integer(params, "page", 1, 1, 10**9)
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
        page = _integer(params, "page", 1, 1, 10**9)
        per_page = _integer(params, "per_page", 100, 1, MAX_PER_PAGE)
        row = src.family(fid)
        if row is None:
            raise HTTPException(404, f"no family with id {fid}")
        return pages.family_page(src, links, row, page, per_page)

    def formula(request: Request) -> pages.Page:
        cid = _id(request, "formula_id")
        digits = _integer(request.query_params, "digits", pages.DEFAULT_PLOT_DIGITS, 1, MAX_PLOT_DIGITS)
        conj = src.formula(cid)
        if conj is None:
            raise HTTPException(404, f"no formula with id {cid}")
        return pages.formula_page(src, links, conj, plots, digits)

    def plot_svg(request: Request) -> Response:
        try:
            _check_known(request.query_params, ("digits",))
            digits = _integer(request.query_params, "digits", pages.DEFAULT_PLOT_DIGITS, 1, MAX_PLOT_DIGITS)
        except BadParameter as exc:
            raise HTTPException(400, str(exc)) from None
        cid = _id(request, "formula_id")
        conj = src.formula(cid)
        if conj is None:
            raise HTTPException(404, f"no formula with id {cid}")
        plot = plots.get((cid, digits), lambda: pages.draw_plot(conj, digits, pages.plain_lhs(conj)))
        if plot.svg is None:
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

    def error_response(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return _json({"error": {"status": status, "message": message}}, status)
        reason = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(status, "Error")
        page = pages.Page("error.html", f"{status} {reason}", {})
        body = env.get_template("error.html").render(
            p={}, title=page.title, links=links, status=status, reason=reason, message=message, **common
        )
        return HTMLResponse(body, status_code=status)

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(request, exc.status_code, str(exc.detail))

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
        Route("/formulas/{formula_id}", endpoint(("digits",), formula)),
        Route("/formulas/{formula_id}/plot.svg", plot_svg),
        Route("/searches", endpoint((), searches)),
        Route(FONT_URL, font),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=_closing(src),
    )
    app.state.source = src
    app.state.plots = plots
    return app
