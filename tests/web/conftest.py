"""Fixtures of the web tests: a real catalog made by real searches, served by the real application.

``web_catalog`` runs three small searches (e and tan(1): interlaced polynomials; sqrt(2): periodic) into one
SQLite file once per session (a few seconds).  Tests never write to it: ``catalog_copy`` is a copy, which the
escaping tests doctor through SQL as a hostile catalog received from someone else would be.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from web_helpers import copy_catalog, run_esma

SEARCHES = (
    ("e", "--coeff-limit", "1", "--max-period", "3", "--verify-digits", "300"),
    ("tan(1)", "--coeff-limit", "1", "--max-period", "3", "--verify-digits", "300"),
    ("sqrt(2)", "--coeff-limit", "1", "--max-period", "2", "--verify-digits", "300"),
)


@pytest.fixture(scope="session")
def web_catalog(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("webcat")
    db = folder / "catalog.sqlite"
    for search in SEARCHES:
        res = run_esma("search", *search, "--executor", "serial", "--db", str(db), cwd=folder)
        assert res.returncode == 0, res.stderr
    return db


@pytest.fixture
def catalog_copy(web_catalog, tmp_path) -> Path:
    return copy_catalog(web_catalog, tmp_path / "copy.sqlite")


@pytest.fixture(scope="session")
def client(web_catalog):
    """A TestClient of the application on the session's catalog."""
    from starlette.testclient import TestClient

    from esma.cli.web import create_app

    with TestClient(create_app(str(web_catalog))) as c:
        yield c


@pytest.fixture(scope="session")
def catalog(web_catalog):
    """The session's catalog opened read-only (to compare the pages with what it holds)."""
    from esma.db import Catalog

    cat = Catalog.open_read_only(web_catalog)
    yield cat
    cat.close()
