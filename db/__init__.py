"""The formula catalog: where searches checkpoint and conjectures are stored.

:class:`~esma.db.repository.Catalog` is the only way the rest of the product touches the database::

    >>> from esma.db import Catalog
    >>> with Catalog(":memory:") as cat:
    ...     cat.constants()
    []

The schema lives in :mod:`esma.db.models` and is created and upgraded by the Alembic migrations in
``esma/db/migrations`` (``Catalog`` upgrades a database automatically when it opens it).
"""

from esma.db.engine import display_url, make_engine, resolve_url
from esma.db.migrate import current_revision, downgrade, head_revision, upgrade
from esma.db.repository import Catalog

__all__ = [
    "Catalog",
    "current_revision",
    "display_url",
    "downgrade",
    "head_revision",
    "make_engine",
    "resolve_url",
    "upgrade",
]
