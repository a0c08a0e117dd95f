"""Convergence pictures: certified correct digits against number of terms, conjecture vs simple continued fraction.

The numbers come from :func:`esma.convergence.convergence` (pure mathematics); this module only draws them.
matplotlib is imported inside the functions, so ``import esma`` never loads it.  Figures are built with the
object-oriented API (``matplotlib.figure.Figure``), not with pyplot: nothing global changes, no window opens,
and a figure returned to a notebook is shown once (pyplot would show it a second time on its own).

>>> path = save_convergence_plot(conjecture, "e.png")                # doctest: +SKIP
>>> fig = convergence_figure(conjecture, digits=500)                # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from typing import Any

from esma.convergence import Convergence, convergence

__all__ = ["convergence_figure", "save_convergence_plot"]


def _ensure_notebook_display() -> None:
    """Inside IPython, make sure a returned Figure displays as an image.

    IPython learns to draw Figures only when pyplot loads its inline backend; a figure built without pyplot
    (as here) would otherwise show as ``<Figure size 700x420 with 1 Axes>``.  Register PNG output for
    Figures, unless some figure format (png, svg, retina...) is registered already.
    """
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    from matplotlib.figure import Figure

    for formatter in shell.display_formatter.formatters.values():
        try:
            formatter.lookup_by_type(Figure)
            return
        except KeyError:
            continue
    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(shell, {"png"})


def _mathtext_or_plain(latex: str, plain: str) -> str:
    """``$latex$`` when matplotlib's mathtext can typeset it (a subset of LaTeX), else the plain text.

    Mathtext errors surface only when a figure is drawn, long after the title was set: check it here.
    """
    from matplotlib.mathtext import MathTextParser

    text = f"${latex}$"
    try:
        MathTextParser("path").parse(text)
    except Exception:  # any parse failure: fall back to text, a title is not worth an error
        return plain
    return text


def _lhs_title(conj: Any) -> str:
    from esma.render import lhs_latex

    const = conj.constant
    plain = const if conj.lhs == "c" else conj.lhs.replace("c", const if const.isidentifier() else f"({const})")
    try:
        latex = lhs_latex(conj)
    except Exception:  # a constant the renderer does not know: the text form is still right
        return plain
    # display-style fractions: mathtext shrinks nested \frac to unreadable sizes in a title
    return _mathtext_or_plain(latex.replace(r"\frac", r"\dfrac"), plain)


def convergence_figure(
    conj: Any,
    digits: int = 300,
    *,
    ax: Any = None,
    data: Convergence | None = None,
    figsize: tuple[float, float] = (7.0, 4.2),
) -> Any:
    """A matplotlib Figure: certified correct digits of T(c) after n terms, n = 1..N, for the conjecture (its
    sign period in the legend) and for the simple continued fraction of the same T(c).

    ``conj`` is a ``Conjecture`` or a front-end view of one.  ``digits`` is the target both curves are run to
    (see :func:`esma.convergence.convergence`; pass ``data`` to reuse a computed one).  With ``ax`` the curves
    are drawn into that Axes and its figure is returned; otherwise a new Figure of ``figsize`` inches.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    conj = getattr(conj, "record", conj)
    conv = data if data is not None else convergence(conj, digits)
    _ensure_notebook_display()
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure

    n = conv.n
    signed_n, simple_n = conv.terms_to_digits()
    # the simple fraction underneath (zorder), dashed and wider, so that identical curves (a "+" conjecture IS
    # the simple fraction) still show both
    signed_line = ax.plot(n, conv.signed, color="tab:blue", linewidth=1.6, zorder=3,
                          label=f"signed (signs {conv.signs_text})")[0]
    simple_line = ax.plot(n, conv.simple, color="tab:gray", linestyle="--", linewidth=3.2, alpha=0.7, zorder=2,
                          label="simple continued fraction")[0]
    target = ax.axhline(conv.digits, color="tab:red", linewidth=0.8, linestyle=":", label=f"{conv.digits} digits")
    for count, color in ((simple_n, "tab:gray"), (signed_n, "tab:blue")):
        if count is not None:
            ax.plot([count], [conv.digits], marker="o", markersize=5, color=color, zorder=4)
    ax.set_xlabel("number of terms n")
    ax.set_ylabel("correct digits (certified lower bound)")
    ax.set_xlim(0, len(n) * 1.03 + 1)
    ax.set_ylim(0, max(max(conv.signed), max(conv.simple), conv.digits) * 1.05)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(handles=[signed_line, simple_line, target], loc="upper left", framealpha=0.9)
    lhs = _lhs_title(conj)
    where = "" if conj.lhs == "c" else f"   (c = {conj.constant})"
    ax.set_title(
        f"Convergence of {lhs}{where}\n{signed_n} terms for {conv.digits} digits with signs {conv.signs_text}, "
        f"{simple_n} with the simple continued fraction",
        fontsize=10,
    )
    return fig


def save_convergence_plot(conj: Any, path: str | os.PathLike[str], digits: int = 300, dpi: int = 120) -> str:
    """Write :func:`convergence_figure` of ``conj`` to ``path`` (PNG, or any format matplotlib infers from the
    extension) with the Agg renderer, whatever backend is configured; returns the path written."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = convergence_figure(conj, digits)
    FigureCanvasAgg(fig)  # attaches itself to the figure: rendering does not depend on the user's backend
    path = os.fspath(path)
    fig.savefig(path, dpi=dpi)
    return path
