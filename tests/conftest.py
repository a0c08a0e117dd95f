"""Fixtures shared by the whole suite: the catalog backends.

``catalog_url`` runs a test once per backend the catalog supports:

* ``sqlite``: a fresh file in the test's temporary directory;
* ``postgres``: a fresh database, created for the test on the PostgreSQL server named by
  ``$ESMA_TEST_POSTGRES_URL`` (a SQLAlchemy URL such as
  ``postgresql+psycopg://esma@127.0.0.1:5432/esma_test``, whose database is only used to create and drop the
  per-test ones) and dropped afterwards.

There is no stand-in for PostgreSQL: the server is a real external component, so without the variable the
PostgreSQL variants are skipped, with the reason (``.ci/run`` starts a server on loopback and sets the
variable; when it cannot, it says why in ``$ESMA_TEST_POSTGRES_UNAVAILABLE``, which the skip reason repeats).
A variable that is set but names a server that does not answer is an error, not a skip: someone asked for
these tests.

``postgres_url`` is the PostgreSQL half alone, for tests that only make sense on a server; ``postgres_server``
creates more databases (``create()``), for module-scoped references; they are dropped at the end of the
session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_URL = "ESMA_TEST_POSTGRES_URL"
ENV_UNAVAILABLE = "ESMA_TEST_POSTGRES_UNAVAILABLE"


def _skip_reason() -> str:
    why = os.environ.get(ENV_UNAVAILABLE, "").strip()
    reason = f"PostgreSQL tests skipped: ${ENV_URL} is not set"
    return f"{reason} ({why})" if why else f"{reason} (.ci/run starts a local server and sets it)"


class PostgresServer:
    """The server of ``$ESMA_TEST_POSTGRES_URL``: creates fresh databases and drops them.

    Its own connection goes to the database the variable names (AUTOCOMMIT: CREATE/DROP DATABASE cannot run
    in a transaction); tests never write there.
    """

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        self.created: list[str] = []

    def create(self) -> str:
        """The URL (password included) of a new, empty database."""
        from sqlalchemy import text

        name = f"esma_t_{uuid.uuid4().hex[:16]}"
        with self.engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.engine.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with self.engine.connect() as conn:
            # FORCE (PostgreSQL 13+): connections a failed test left open must not keep the database alive
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(self.engine.url.set(database=name).render_as_string(hide_password=False))
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of ``$ESMA_TEST_POSTGRES_URL``; skips when the variable is unset."""
    url = os.environ.get(ENV_URL, "").strip()
    if not url:
        pytest.skip(_skip_reason())
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() != "postgresql":
        pytest.fail(f"${ENV_URL} must be a postgresql URL, not {url!r}")
    server = PostgresServer(url)
    try:
        with server.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        server.engine.dispose()
        pytest.fail(f"${ENV_URL} is set but its server does not answer: {type(exc).__name__}: {exc}")
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL (password included) of a fresh, empty PostgreSQL database, dropped after the test."""
    url = postgres_server.create()
    try:
        yield url
    finally:
        postgres_server.drop(url)


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request, tmp_path: Path) -> str:
    """A fresh, empty catalog location on each backend: an SQLite file path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    return request.getfixturevalue("postgres_url")
