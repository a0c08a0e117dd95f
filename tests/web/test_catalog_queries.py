"""The web pages on SQLite and PostgreSQL: the same searches give the same pages on both, and a catalog opened
read-only (db/repository.py, ``Catalog.open_read_only``) refuses writes on the server too."""

from __future__ import annotations

import pytest

from esma.db import Catalog


@pytest.fixture(scope="module")
def records(web_catalog):
    with Catalog.open_read_only(web_catalog) as cat:
        return cat.conjectures()


def _fill(url: str, records, tmp_path) -> None:
    """The same searches as the session's catalog, into ``url`` (the records' constants, small spaces)."""
    from web_helpers import run_esma

    for constant, args in (("e", ("--coeff-limit", "1", "--max-period", "3")),
                           ("tan(1)", ("--coeff-limit", "1", "--max-period", "3")),
                           ("sqrt(2)", ("--coeff-limit", "1", "--max-period", "2"))):
        if any(r.constant == constant for r in records):
            res = run_esma("search", constant, *args, "--verify-digits", "300", "--executor", "serial",
                           "--db", url, cwd=tmp_path)
            assert res.returncode == 0, res.stderr


def _pages(url: str) -> dict:
    """The JSON of the constants page and of every constant's family list, ids left out (they depend on the
    order rows were written in)."""
    from starlette.testclient import TestClient

    from esma.cli.web import create_app

    def strip(d):
        return {k: v for k, v in d.items() if not k.endswith(("id", "url"))}

    out = {}
    with TestClient(create_app(url)) as client:
        for c in client.get("/?format=json").json()["constants"]:
            fams = client.get(f"/constants/{c['id']}?format=json&per_page=500").json()
            out[c["text"]] = (strip(c), fams["total"], [strip(f) for f in fams["families"]])
    return out


def test_same_pages_on_sqlite_and_postgresql(postgres_url, records, tmp_path):
    sqlite_path = str(tmp_path / "c.sqlite")
    _fill(sqlite_path, records, tmp_path)
    _fill(postgres_url, records, tmp_path)
    assert _pages(sqlite_path) == _pages(postgres_url)


def test_read_only_postgres_refuses_writes(postgres_url, records, tmp_path):
    _fill(postgres_url, records[:1], tmp_path)
    with Catalog.open_read_only(postgres_url) as cat:
        assert cat.constants_overview()
        with pytest.raises(Exception, match="read-only transaction"):
            cat.start_search("pi", {"x": 1}, chunks_total=1, esma_version="0")


@pytest.mark.parametrize("name", ["a#b.sqlite", "q?mode=rwc&z.sqlite", "100%.sqlite"])
def test_read_only_opening_of_a_path_with_uri_characters(tmp_path, name):
    """The read-only SQLite connection is a ``file:`` URI: a '#', '?' or '%' in the path opens that very file,
    read-only, and creates no other."""
    path = tmp_path / name
    with Catalog(str(path)) as cat:
        cat.start_search("e", {"x": 1}, chunks_total=1, esma_version="0")
    with Catalog.open_read_only(str(path)) as cat:
        assert [s["constant"] for s in cat.searches()] == ["e"]
        with pytest.raises(Exception, match=r"readonly|read-only"):
            cat.start_search("pi", {"x": 2}, chunks_total=1, esma_version="0")
    # the file itself, and its WAL index (reading a WAL database makes one): nothing else
    assert {p.name for p in tmp_path.iterdir()} <= {name, f"{name}-wal", f"{name}-shm"}
