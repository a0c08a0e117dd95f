"""Alembic environment of the esma catalog.

Programmatic use (``esma.db.migrate``) passes an open connection in ``config.attributes["connection"]``;
Alembic's command line opens the database itself: ``-x db=PATH_OR_URL``, else ``sqlalchemy.url`` from the
ini file, else ``$ESMA_DB`` / ``./esma.sqlite`` (same rules as ``esma.db.make_engine``).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.types import TypeDecorator

from esma.db.engine import make_engine, resolve_url
from esma.db.models import Base

config = context.config
target_metadata = Base.metadata


def _target() -> str | None:
    return context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url")


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # autogenerate would reference esma.db.models.IntList etc.; a migration must spell the database type so
    # it never changes when the models do
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table (needs named constraints)
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=resolve_url(_target()),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_target())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
