"""The Python front-end for notebooks and scripts: a catalog you can search, browse and render.

``esma.Catalog`` (this module's :class:`Catalog`) wraps the database catalog ``esma.db.Catalog`` with the same
resumable, stored search the command line runs (``esma.cli.runner``), and hands back conjectures that render
themselves: as LaTeX in Jupyter (``_repr_latex_``: T(c) as a continued fraction with ``\\cfrac``, and the closed
form of its partial denominators) and as readable text in a terminal (``repr``/``str``)::

    >>> import esma, tempfile
    >>> cat = esma.Catalog(tempfile.mkdtemp() + "/esma.sqlite")                        # doctest: +SKIP
    >>> found = cat.search("tan(1)", coeff_limit=1, max_period=3, verify_digits=300)  # doctest: +SKIP
    >>> cat.conjectures(constant="tan(1)", kind="polynomial", min_digits=300)          # doctest: +SKIP
    >>> cat.get(found[0].id).plot()                                                   # doctest: +SKIP

Like the rest of ``esma.cli`` this does no mathematics and no SQL: it wires the engine, the catalog and the
renderers (``esma.render``, ``esma.plots``) together.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, overload

from esma.records import KINDS, Conjecture, Family

__all__ = ["Catalog", "ConjectureList", "ConjectureView"]


class ConjectureView:
    """A stored conjecture that renders itself; every field of the record reads as an attribute.

    ``view.lhs``, ``view.terms``, ``view.closed_form``, ``view.verified_digits``... are those of
    ``view.record`` (an ``esma.Conjecture``).  In Jupyter it displays as LaTeX, in a terminal as text.
    """

    __slots__ = ("record",)

    def __init__(self, record: Conjecture) -> None:
        if isinstance(record, ConjectureView):
            record = record.record
        if not isinstance(record, Conjecture):
            raise TypeError(f"Expected a Conjecture, not {type(record).__name__}")
        object.__setattr__(self, "record", record)

    def __reduce__(self):
        # pickle and copy rebuild from the record (the default would go through the read-only __setattr__)
        return (ConjectureView, (self.record,))

    def __getattr__(self, name: str) -> Any:
        # only called for names not found on the view itself: the record's fields and properties
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.record, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a conjecture is read-only (it mirrors a catalog row)")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(Conjecture.__dataclass_fields__) | {"signs_text"})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConjectureView):
            return self.record == other.record
        if isinstance(other, Conjecture):
            return self.record == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.record)

    # -- renderings ------------------------------------------------------------------------------------------

    def latex(self, count: int = 6) -> str:
        """The formula as display-math LaTeX (no delimiters): T(c) = a_0 + \\cfrac{b_0}{a_1 + ...} with the first
        ``count`` terms, then the closed form of the partial denominators on a second line."""
        from esma.render import closed_form_latex, conjecture_latex

        return (
            r"\begin{gathered}"
            + conjecture_latex(self.record, count)
            + r" \\ "
            + closed_form_latex(self.record)
            + r"\end{gathered}"
        )

    def _repr_latex_(self) -> str:
        return f"$${self.latex()}$$"

    def text(self, count: int = 8) -> str:
        """The multi-line terminal description of ``esma.render.conjecture_text``."""
        from esma.render import conjecture_text

        return conjecture_text(self.record, count)

    def __repr__(self) -> str:
        return self.text()

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's terminal pretty-printer: the same text as repr
        printer.text(self.text())

    def to_dict(self) -> dict[str, Any]:
        """The JSON record of DESIGN section 3."""
        return self.record.to_dict()

    # -- convergence -----------------------------------------------------------------------------------------

    def convergence(self, digits: int = 300):
        """Certified digits after n terms, for this formula and for the simple continued fraction of T(c)
        (an ``esma.convergence.Convergence``)."""
        from esma.convergence import convergence

        return convergence(self.record, digits)

    def plot(self, digits: int = 300, **kwargs: Any):
        """A matplotlib Figure of :meth:`convergence` (see ``esma.plots.convergence_figure`` for ``kwargs``)."""
        from esma.plots import convergence_figure

        return convergence_figure(self.record, digits, **kwargs)

    def save_plot(self, path: str | os.PathLike[str], digits: int = 300) -> str:
        """Write the convergence plot to ``path`` (PNG); returns the path."""
        from esma.plots import save_convergence_plot

        return save_convergence_plot(self.record, path, digits)


class ConjectureList(list):
    """A list of :class:`ConjectureView` that shows as a table: text in a terminal, HTML (with LaTeX
    formulas, typeset by Jupyter) in a notebook.  ``summary`` holds the search counters when the list came
    from :meth:`Catalog.search`, and ``families`` that search's families, ranked."""

    def __init__(self, items: Iterable[Any] = (), summary: dict[str, Any] | None = None) -> None:
        super().__init__(ConjectureView(c) for c in items)
        self.summary: dict[str, Any] = dict(summary or {})
        self.families: list[Family] = []

    @overload
    def __getitem__(self, index: int) -> ConjectureView: ...

    @overload
    def __getitem__(self, index: slice) -> ConjectureList: ...

    def __getitem__(self, index):
        got = super().__getitem__(index)
        return ConjectureList(got, self.summary) if isinstance(index, slice) else got

    def __iter__(self) -> Iterator[ConjectureView]:
        return super().__iter__()

    def filter(
        self,
        predicate: Callable[[ConjectureView], bool] | None = None,
        *,
        kind: str | None = None,
        min_digits: int | None = None,
        signs: str | None = None,
        faster: bool | None = None,
    ) -> ConjectureList:
        """The conjectures that pass every given test: ``predicate(c)``, ``kind``, ``verified_digits >=
        min_digits``, sign period text (``"+-"``), and ``faster`` (converging faster than the simple continued
        fraction of the same T(c), or not)."""
        out = []
        for c in self:
            if predicate is not None and not predicate(c):
                continue
            if kind is not None and c.kind != kind:
                continue
            if min_digits is not None and c.verified_digits < min_digits:
                continue
            if signs is not None and c.signs_text != signs:
                continue
            if faster is not None and (c.digits_per_term > c.scf_digits_per_term * 1.01) != faster:
                continue
            out.append(c)
        return ConjectureList(out, self.summary)

    @property
    def records(self) -> list[Conjecture]:
        """The plain ``esma.Conjecture`` records."""
        return [c.record for c in self]

    def _rows(self) -> list[tuple[str, ...]]:
        from esma.render import constant_text, transform_text

        rows = []
        for c in self:
            try:  # as a mathematician writes them (DESIGN 10): tan 1, (2c + 1)/(c - 2)
                const, lhs = constant_text(c.constant), transform_text(c.lhs_numerator, c.lhs_denominator)
            except (ValueError, TypeError, RecursionError):  # text outside the grammar: shown as stored
                const, lhs = c.constant, c.lhs
            rows.append(
                (
                    "" if c.id is None else str(c.id),
                    const,
                    lhs,
                    c.signs_text,
                    c.cf_text or "",
                    c.closed_form,
                    c.kind,
                    str(c.verified_digits),
                    f"{c.digits_per_term:.3g} / {c.scf_digits_per_term:.3g}",
                )
            )
        return rows

    _HEAD = ("id", "constant", "T(c)", "signs", "continued fraction", "closed form", "kind", "digits",
             "digits/term (simple)")

    def __repr__(self) -> str:
        if not self:
            return "(no conjectures)"
        rows = [self._HEAD, *self._rows()]
        # the continued fraction and closed form can be long: keep every line readable in a terminal
        rows = [tuple(v if len(v) <= 48 else v[:45] + "..." for v in r) for r in rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self._HEAD))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join([f"{len(self)} conjectures", *lines])

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        from esma.render import closed_form_latex, lhs_latex

        if not self:
            return "<p>(no conjectures)</p>"
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._HEAD)
        body = []
        for c, row in zip(self, self._rows(), strict=True):
            try:
                lhs = f"${lhs_latex(c.record)}$"
                closed = f"${closed_form_latex(c.record)}$"
            except Exception:  # an expression the LaTeX renderer does not know: the text columns are still right
                lhs, closed = html.escape(row[2]), html.escape(row[5])
            cells = [html.escape(v) for v in row]
            cells[2], cells[5] = lhs, closed
            body.append("<tr>" + "".join(f'<td style="text-align:left">{v}</td>' for v in cells) + "</tr>")
        return (
            f"<p>{len(self)} conjectures</p><table><thead><tr>{head}</tr></thead><tbody>"
            + "".join(body)
            + "</tbody></table>"
        )


class Catalog:
    """A formula catalog for notebooks and scripts.

    ``url_or_path``: an SQLite file path, any SQLAlchemy URL, or ``None`` for ``$ESMA_DB`` / ``./esma.sqlite``
    (the same database the ``esma`` command uses with ``--db``).  Searches are stored chunk by chunk and
    resume after an interruption; conjectures come back as :class:`ConjectureView` (LaTeX in Jupyter).
    """

    def __init__(self, url_or_path: str | os.PathLike[str] | None = None) -> None:
        from esma.cli.families import backfill
        from esma.db import Catalog as _DbCatalog

        self._db = _DbCatalog(url_or_path)
        try:
            backfill(self._db)  # a catalog written before families existed gets them once
        except BaseException:
            self._db.close()
            raise

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return self._db.url

    @property
    def db(self):
        """The underlying ``esma.db.Catalog`` (searches, verifications, raw records)."""
        return self._db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"esma.Catalog({self.url!r})"

    # -- searching -------------------------------------------------------------------------------------------

    def search(
        self,
        expr: str,
        executor: str = "serial",
        *,
        workers: int | None = None,
        scheduler: str | None = None,
        progress: Callable[[Any, int, int], None] | None = None,
        **params: Any,
    ) -> ConjectureList:
        """Search ``expr`` and store what is found; returns the search's conjectures (``.summary`` has its
        counters: candidates, hits, seconds, candidates_per_second...).

        ``params`` are those of ``esma.SearchParams`` (degree, coeff_limit, min_period, max_period, depth,
        digits, verify_digits, ...), exactly as ``esma search`` takes them: the same constant and parameters
        are the same search, so running it again resumes an interrupted one, or returns a finished one at once.
        ``executor`` is ``serial``, ``process`` or ``dask``; ``progress(chunk_result, done, total)`` is called
        after each committed chunk.  Raises ``ValueError``/``TypeError`` for a bad expression or parameter.
        """
        from esma.cli import runner

        job = runner.prepare(self._db, expr, params)
        runner.run(self._db, job, executor, workers, scheduler, on_chunk=progress)
        found = ConjectureList(self._db.search_conjectures(job.search_id, ranked=True), job.summary)
        found.families = job.families
        return found

    # -- browsing --------------------------------------------------------------------------------------------

    def conjectures(
        self,
        constant: str | None = None,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
        family: str | None = None,
        representatives: bool = False,
    ) -> ConjectureList:
        """Stored conjectures, ordered by constant then id; filters combine.

        ``constant`` is an expression, normalised as the catalog stores it (``"besseli(1,2)/besseli(0,2)"``
        finds ``besseli(1, 2)/besseli(0, 2)``; texts are compared, not values: ``exp(1)`` is not ``e``), ``kind``
        one of periodic/polynomial/exponential/other, ``min_digits`` keeps those verified to at least that many
        digits, ``status`` conjecture/proved/refuted, ``family`` the members of one family key,
        ``representatives`` one formula per family.
        """
        text = _constant_text(constant)
        if kind is not None and kind not in KINDS:
            raise ValueError(f"Argument 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
        if min_digits is not None and (isinstance(min_digits, bool) or not isinstance(min_digits, int)):
            raise TypeError(f"Argument 'min_digits' must be an integer, not {min_digits!r}")
        rows = self._db.conjectures(constant=text, kind=kind, min_digits=min_digits, status=status, family=family,
                                    representatives=representatives)
        return ConjectureList(rows)

    def families(
        self,
        constant: str | None = None,
        *,
        kind: str | None = None,
        status: str | None = None,
        min_gain: float | None = None,
        min_digits: int | None = None,
        sort: str = "rank",
        limit: int | None = None,
    ) -> list[Family]:
        """Families, ranked (gain descending, then simplicity), one ``esma.Family`` per discovery: its
        representative's formula, gain, member count and status; ``members(family)`` lists its formulas."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"Argument 'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
        return self._db.families(_constant_text(constant), kind=kind, status=status, min_gain=min_gain,
                                 min_digits=min_digits, sort=sort, limit=limit)

    def members(self, family: Family | int) -> ConjectureList:
        """The formulas of a family (an ``esma.Family`` or its id), the representative first."""
        fid = family.id if isinstance(family, Family) else int(family)
        if fid is None:
            raise ValueError("Argument 'family' must be a stored family (with an id)")
        return ConjectureList(self._db.family_members(fid))

    def get(self, conjecture_id: int) -> ConjectureView:
        """The conjecture with this id; ``KeyError`` if the catalog has none."""
        found = self._db.get(int(conjecture_id))
        if found is None:
            raise KeyError(f"no conjecture with id {conjecture_id} in {self.url}")
        return ConjectureView(found)

    def searches(self, constant: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the stored searches (of ``constant`` if given), oldest first."""
        return self._db.searches(constant=_constant_text(constant))

    def constants(self) -> list[dict[str, Any]]:
        """Every constant in the catalog with its number of conjectures."""
        return self._db.constants()


def _constant_text(constant: str | None) -> str | None:
    if constant is None:
        return None
    from esma.constants import constant as parse_constant

    return parse_constant(constant, allow_rational=True).text
