"""make_engine: where the catalog lives, and the SQLite settings that several writers rely on.

These are SQLite matters (paths, pragmas, WAL, locks) and stay on SQLite, except foreign-key enforcement, which
the catalog relies on on every backend (``catalog_url``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from esma.db import Catalog, display_url, make_engine, resolve_url, upgrade
from esma.db.engine import read_only


def test_plain_path_is_sqlite_file(tmp_path: Path) -> None:
    url = resolve_url(str(tmp_path / "a.sqlite"))
    assert url.get_backend_name() == "sqlite" and url.database == str(tmp_path / "a.sqlite")
    assert resolve_url(tmp_path / "b.sqlite").database == str(tmp_path / "b.sqlite")  # path objects too


def test_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_url("sub/c.sqlite").database == str(tmp_path / "sub" / "c.sqlite")


def test_default_is_esma_db_env_var_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ESMA_DB", raising=False)
    assert resolve_url(None).database == str(tmp_path / "esma.sqlite")

    monkeypatch.setenv("ESMA_DB", str(tmp_path / "from_env.sqlite"))
    eng = make_engine(None)
    try:
        assert eng.url.database == str(tmp_path / "from_env.sqlite")
    finally:
        eng.dispose()
    with Catalog() as cat:
        assert cat.url == f"sqlite:///{tmp_path / 'from_env.sqlite'}"
    assert (tmp_path / "from_env.sqlite").exists() and not (tmp_path / "esma.sqlite").exists()

    monkeypatch.setenv("ESMA_DB", f"sqlite:///{tmp_path / 'url_env.sqlite'}")
    assert resolve_url(None).database == str(tmp_path / "url_env.sqlite")


def test_urls_pass_through(tmp_path: Path) -> None:
    url = resolve_url("postgresql+psycopg://esma:s3cret@db.example:5432/catalog")
    assert (url.get_backend_name(), url.host, url.port) == ("postgresql", "db.example", 5432)
    assert url.database == "catalog"
    assert url.password == "s3cret"
    assert display_url(url) == "postgresql+psycopg://esma:***@db.example:5432/catalog"
    eng = make_engine(f"sqlite:///{tmp_path / 'u.sqlite'}")
    try:
        assert eng.url.database == str(tmp_path / "u.sqlite")
    finally:
        eng.dispose()


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        make_engine(tmp_path / "nope" / "x.sqlite")
    with pytest.raises(ValueError):
        make_engine("  ")


def test_pragmas_are_on(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    eng = make_engine(path)
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        eng.dispose()
    # WAL is a property of the file: a plain connection sees it too
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_are_enforced(catalog_url: str) -> None:
    eng = make_engine(catalog_url)
    try:
        upgrade(eng)
        with pytest.raises(IntegrityError), eng.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO search_chunks"
                    " (search_id, chunk_index, candidates, hits, seconds, created_at)"
                    " VALUES (999, 0, 0, 0, 0.0, '2025-01-01 00:00:00')"
                )
            )
    finally:
        eng.dispose()


def test_write_transactions_take_the_lock_up_front(tmp_path: Path) -> None:
    path = tmp_path / "lock.sqlite"
    eng = make_engine(path)
    try:
        upgrade(eng)
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with eng.begin() as conn:
                conn.exec_driver_sql("SELECT 1")  # nothing written yet, but the write lock is held
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            other.execute("BEGIN IMMEDIATE")  # released at commit
            other.execute("ROLLBACK")
            # a read-only transaction holds no write lock, and under WAL it reads while others write
            with read_only(eng).connect() as conn:
                conn.exec_driver_sql("SELECT count(*) FROM constants").scalar()
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        eng.dispose()


def test_memory_database_works() -> None:
    with Catalog(":memory:") as cat:
        sid = cat.start_search("pi", {}, 1, "0.1.0")
        assert cat.commit_chunk(sid, 0, candidates=1, seconds=0.1)
        assert cat.done_chunks(sid) == {0}
