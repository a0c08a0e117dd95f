"""Programmatic Alembic: bring a catalog database to the schema of :mod:`esma.db.models`.

The migration scripts ship inside the package (``esma/db/migrations``), so this works the same from the
repository, an editable install or a wheel::

    >>> from esma.db.engine import make_engine
    >>> eng = make_engine(":memory:")
    >>> upgrade(eng)
    >>> current_revision(eng) == head_revision()
    True

From a shell, the same scripts run with ``alembic -c <site-packages>/esma/db/alembic.ini upgrade head``
(the database is then ``$ESMA_DB`` or ``./esma.sqlite``, or ``-x db=PATH_OR_URL``).
"""

from __future__ import annotations

import os
import time

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from esma.db.engine import read_only

__all__ = [
    "MIGRATIONS_DIR",
    "NewerSchemaError",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "known_revisions",
    "upgrade",
]

_HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS_DIR = os.path.join(_HERE, "migrations")
_INI = os.path.join(_HERE, "alembic.ini")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` pointing at the packaged migrations (and at ``connection`` when given)."""
    cfg = Config(_INI if os.path.exists(_INI) else None)
    # ConfigParser interpolation would eat a '%' in the install path
    cfg.set_main_option("script_location", MIGRATIONS_DIR.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class NewerSchemaError(ValueError):
    """The catalog is at a schema revision this esma does not know: a newer esma wrote it (and this one must
    neither read nor migrate it)."""

    def __init__(self, revision: str, where: str | None = None) -> None:
        self.revision = revision
        what = f"catalog {where}" if where else "this catalog"
        super().__init__(f"{what} was written by a newer esma (schema {revision}; this esma knows up to "
                         f"{head_revision()}): upgrade esma")


def known_revisions() -> set[str]:
    """Every revision id of the packaged migrations."""
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with read_only(engine).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head", retries: int = 5) -> None:
    """Run ``alembic upgrade <revision>`` on ``engine``'s database; a no-op when already there.

    Safe when several processes open the same fresh database at once: the whole upgrade is one
    transaction (``BEGIN IMMEDIATE`` on SQLite, so the others wait and then find the work done); on other
    backends a loser of the race gets an error, re-checks the revision and retries.  A database at a revision
    these migrations do not know raises ``NewerSchemaError`` (one line) and is left as it is.
    """
    head = head_revision()
    for attempt in range(retries + 1):
        have = current_revision(engine)
        if revision == "head" and have == head:
            return
        if have is not None and have not in known_revisions():
            raise NewerSchemaError(have)
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), revision)
            return
        except DBAPIError:
            if revision == "head" and current_revision(engine) == head:
                return
            if attempt == retries:
                raise
            time.sleep(0.1 * (attempt + 1))


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Run ``alembic downgrade <revision>`` (``base`` drops every catalog table)."""
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
