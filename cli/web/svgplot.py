"""The convergence picture of ``esma show --plot`` as a small inline SVG, drawn from the same numbers.

:func:`esma.plots.convergence_figure` draws certified correct digits against the number of terms, for the
formula and for the simple continued fraction of the same T(c), with the target as a dotted line and a dot
where each curve reaches it.  This module draws that picture directly as SVG from
:func:`esma.convergence.convergence`: matplotlib's SVG of it takes about 0.15 s and 60 KB per formula (its
text is written as glyph outlines), this one about a millisecond and 5 KB, which is what lets a formula page
serve at once and an export of every formula stay small.

>>> from esma.convergence import Convergence
>>> conv = Convergence("e", "c", (1,), 10, (1, 3, 5, 8, 10), (1, 2, 4, 6, 8), (2, 1, 2, 1, 1))
>>> svg = convergence_svg(conv, "e")
>>> svg.startswith("<svg") and svg.count("<path") >= 2
True
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from esma.convergence import Convergence

__all__ = ["Plot", "PlotCache", "convergence_svg"]

WIDTH, HEIGHT = 700, 420
# plot area inside the picture (left, top, right, bottom margins)
_LEFT, _TOP, _RIGHT, _BOTTOM = 62, 58, 16, 46
_MAX_POINTS = 800  # a curve of more terms is thinned (keeping every change of value up to this budget)


def _nice_step(span: float, ticks: int = 7) -> int:
    """An integer tick step of the form 1, 2 or 5 times a power of ten giving at most about ``ticks`` ticks."""
    raw = max(span / ticks, 1.0)
    base = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * base >= raw:
            return int(m * base)
    return int(10 * base)


def _thin(values: Sequence[int]) -> list[tuple[int, int]]:
    """(n, digits) points of a step-like series: the points where the value changes and their neighbours, then
    an even stride when that is still too many.  The last point is always kept."""
    n = len(values)
    keep = [i for i in range(n) if i in (0, n - 1) or values[i] != values[i - 1] or values[i] != values[i + 1]]
    if len(keep) > _MAX_POINTS:
        stride = math.ceil(len(keep) / _MAX_POINTS)
        keep = keep[::stride] + ([keep[-1]] if keep[-1] % stride else [])
    return [(i + 1, values[i]) for i in keep]


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def convergence_svg(conv: Convergence, title: str) -> str:
    """The SVG text (a ``<svg>`` element with a ``viewBox``, scalable) of the convergence picture of ``conv``;
    ``title`` names the formula (plain text, escaped here)."""
    n_max = len(conv.signed)
    y_max = max(max(conv.signed), max(conv.simple), conv.digits) * 1.05
    x_max = n_max * 1.03 + 1
    pw, ph = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(v: float) -> float:
        return _LEFT + pw * v / x_max

    def y(v: float) -> float:
        return _TOP + ph * (1 - v / y_max)

    def path(points: list[tuple[int, int]]) -> str:
        return "M" + " L".join(f"{_fmt(x(a))} {_fmt(y(b))}" for a, b in points)

    signed_n, simple_n = conv.terms_to_digits()
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        'role="img" class="plot" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{escape(f'Convergence of {title}: correct digits against number of terms')}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    # grid and ticks
    for step, limit, axis in ((_nice_step(x_max), x_max, "x"), (_nice_step(y_max, 6), y_max, "y")):
        for t in range(0, int(limit) + 1, step):
            if axis == "x":
                out.append(f'<path d="M{_fmt(x(t))} {_TOP} V{_TOP + ph}" stroke="#ddd" stroke-width="0.8"/>')
                out.append(f'<text x="{_fmt(x(t))}" y="{_TOP + ph + 16}" text-anchor="middle">{t}</text>')
            else:
                out.append(f'<path d="M{_LEFT} {_fmt(y(t))} H{_LEFT + pw}" stroke="#ddd" stroke-width="0.8"/>')
                out.append(f'<text x="{_LEFT - 6}" y="{_fmt(y(t) + 4)}" text-anchor="end">{t}</text>')
    out.append(f'<rect x="{_LEFT}" y="{_TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    out.append(
        f'<text x="{_LEFT + pw / 2}" y="{HEIGHT - 8}" text-anchor="middle">number of terms n</text>'
        f'<text transform="translate(16 {_TOP + ph / 2}) rotate(-90)" text-anchor="middle">'
        "correct digits (certified lower bound)</text>"
    )
    # the simple fraction underneath, dashed and wider, so that identical curves still show both
    out.append(
        f'<path class="simple" d="{path(_thin(conv.simple))}" fill="none" stroke="#7f7f7f" stroke-width="3.2" '
        'stroke-opacity="0.7" stroke-dasharray="8 5"/>'
    )
    out.append(f'<path class="signed" d="{path(_thin(conv.signed))}" fill="none" stroke="#1f77b4" stroke-width="1.6"/>')
    out.append(
        f'<path class="target" d="M{_LEFT} {_fmt(y(conv.digits))} H{_LEFT + pw}" stroke="#d62728" '
        'stroke-width="0.8" stroke-dasharray="2 3"/>'
    )
    for count, color in ((simple_n, "#7f7f7f"), (signed_n, "#1f77b4")):
        if count is not None:
            out.append(f'<circle cx="{_fmt(x(count))}" cy="{_fmt(y(conv.digits))}" r="3.5" fill="{color}"/>')
    # legend
    lx, ly = _LEFT + 10, _TOP + 10
    legend = (
        ("#1f77b4", "", 1.6, f"signed (signs {conv.signs_text})"),
        ("#7f7f7f", ' stroke-dasharray="8 5" stroke-opacity="0.7"', 3.2, "simple continued fraction"),
        ("#d62728", ' stroke-dasharray="2 3"', 0.8, f"{conv.digits} digits"),
    )
    out.append(f'<rect x="{lx}" y="{ly}" width="205" height="{len(legend) * 18 + 8}" fill="#fff" '
               'fill-opacity="0.9" stroke="#ccc" rx="3"/>')
    for i, (color, dash, width, label) in enumerate(legend):
        yy = ly + 15 + 18 * i
        out.append(f'<path d="M{lx + 8} {yy - 4} h26" stroke="{color}" stroke-width="{width}"{dash}/>')
        out.append(f'<text x="{lx + 42}" y="{yy}">{escape(label)}</text>')
    # title, as esma show --plot writes it
    line2 = (
        f"{signed_n if signed_n is not None else 'no'} terms for {conv.digits} digits with signs {conv.signs_text}, "
        f"{simple_n if simple_n is not None else 'not reached in as many'} with the simple continued fraction"
    )
    out.append(
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="13">Convergence of {escape(title)}</text>'
    )
    out.append(f'<text x="{WIDTH / 2}" y="38" text-anchor="middle">{escape(line2)}</text>')
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Plot:
    """A drawn plot (``svg``, safe markup) or why there is none (``error``, one line).  ``limit`` says why a
    plot was not drawn by the server's plot pool: ``"timeout"`` (it took longer than the time limit) or
    ``"busy"`` (no worker free in time, or the server stopping: worth asking again)."""

    svg: Markup | None
    error: str = ""
    signed_terms: int | None = None
    simple_terms: int | None = None
    digits: int = 0
    limit: str = ""


class PlotCache:
    """Convergence plots per (formula id, digits), the last ``size`` of them kept (least recently used out).

    Thread-safe: the web server renders pages in worker threads.  Two threads asking for the same missing
    plot may both draw it once; the result is the same.

    >>> cache = PlotCache(size=2)
    >>> cache.get((1, 10), lambda: Plot(None, "no plot")).error
    'no plot'
    >>> cache.get((1, 10), lambda: Plot(None, "other")).error     # cached
    'no plot'
    """

    def __init__(self, size: int = 512) -> None:
        self.size = max(int(size), 1)
        self._items: OrderedDict[tuple[int, int], Plot] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int], make: Callable[[], Plot]) -> Plot:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        plot = make()
        with self._lock:
            self._items[key] = plot
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return plot

    def lookup(self, key: tuple[int, int]) -> Plot | None:
        """The cached plot of ``key`` (now the most recently used), or None."""
        with self._lock:
            plot = self._items.get(key)
            if plot is not None:
                self._items.move_to_end(key)
            return plot

    def put(self, key: tuple[int, int], plot: Plot) -> None:
        with self._lock:
            self._items[key] = plot
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def draw_plot(conj, digits: int, title: str) -> Plot:
    """The convergence plot of a conjecture record to ``digits`` digits, or a Plot with the reason it has none
    (a record whose terms break its recurrence, a fraction that does not reach the digits...)."""
    from esma.convergence import convergence

    try:
        conv = convergence(conj, digits)
    except (ValueError, ArithmeticError, OverflowError, KeyError, TypeError) as exc:
        return Plot(None, f"no convergence plot: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    signed_n, simple_n = conv.terms_to_digits()
    return Plot(Markup(convergence_svg(conv, title)), "", signed_n, simple_n, conv.digits)
