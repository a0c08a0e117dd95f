"""esma: discover signed continued fraction formulas for mathematical constants (the ESMA algorithm).

    >>> import esma
    >>> esma.expand("tan(1)", "+-+", 9).terms
    (1, 2, 4, 1, 6, 8, 1, 10, 12)

``esma.search(expr, ...)`` runs the whole pipeline and returns approved formulas; see ``esma.search``.
Importing esma compiles nothing: Numba kernels are compiled (or loaded from their cache) on first use.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from esma.expand import expand
from esma.records import ClosedForm, Conjecture, Family, Formula, Recurrence, SignedCF
from esma.search import SearchParams, SearchResult, plan_search, run_chunk, search

try:
    __version__ = _version("esma")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = [
    "Catalog",
    "ClosedForm",
    "Conjecture",
    "Family",
    "Formula",
    "Recurrence",
    "SearchParams",
    "SearchResult",
    "SignedCF",
    "__version__",
    "expand",
    "plan_search",
    "run_chunk",
    "search",
]


def __getattr__(name: str):
    # The engine modules never import the catalog; only this convenience name for notebooks resolves the
    # front-end lazily, so ``import esma`` stays light and free of database code.
    if name == "Catalog":
        from esma.cli.api import Catalog

        return Catalog
    raise AttributeError(f"module 'esma' has no attribute {name!r}")
