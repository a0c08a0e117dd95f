"""Engine construction: where the catalog lives and how SQLite is configured for several writers.

``make_engine(None)`` uses ``$ESMA_DB`` or ``./esma.sqlite``; a plain path means an SQLite file; anything with
``://`` is a SQLAlchemy URL::

    >>> resolve_url("sqlite:///:memory:").get_backend_name()
    'sqlite'
    >>> resolve_url("/tmp/cat.sqlite").database
    '/tmp/cat.sqlite'

SQLite connections get WAL (readers never block the writer), foreign keys, a 30 s busy timeout and
``synchronous=NORMAL`` (safe with WAL, much faster than FULL).  Write transactions start with
``BEGIN IMMEDIATE``: SQLite's default deferred BEGIN takes a read lock and upgrades it at the first write, and
two processes doing that at once deadlock -- one gets "database is locked" at once, without waiting for the
busy timeout.  Taking the write lock up front makes the second writer wait its turn instead.  This is the
recipe of the SQLAlchemy SQLite dialect docs ("Transactions with SQLite and the sqlite3 driver"): turn off
the driver's own BEGIN (``isolation_level = None``) and emit ours in the engine's ``begin`` event.

A catalog that cannot be written (a read-only medium, or no write permission on the file or its folder) is
told apart up front (``read_only_reason``), so that reading commands open it read-only (``read_only_url``)
and writing ones say so in one line.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

__all__ = [
    "BEGIN_OPTION",
    "DEFAULT_FILENAME",
    "ENV_VAR",
    "display_url",
    "make_engine",
    "read_only",
    "read_only_reason",
    "read_only_url",
    "resolve_url",
]

ENV_VAR = "ESMA_DB"
DEFAULT_FILENAME = "esma.sqlite"
#: Execution option naming the SQLite BEGIN mode ("IMMEDIATE" by default, "DEFERRED" for read-only work).
BEGIN_OPTION = "esma_sqlite_begin"
BUSY_TIMEOUT_MS = 30_000


def resolve_url(url_or_path: str | os.PathLike[str] | None = None) -> URL:
    """The SQLAlchemy URL that ``make_engine`` would use.

    ``None`` -> ``$ESMA_DB`` if set (itself a path or URL), else ``esma.sqlite`` in the current directory;
    a string without ``://`` (or a path object) -> SQLite file at that path, made absolute now so a later
    ``chdir`` does not move the catalog; ``":memory:"`` -> a private in-memory SQLite database.
    """
    if url_or_path is None:
        env = os.environ.get(ENV_VAR, "").strip()
        url_or_path = env if env else os.path.join(os.getcwd(), DEFAULT_FILENAME)
    text = os.fspath(url_or_path)
    if "://" in text:
        return make_url(text)
    if text == ":memory:":
        return URL.create("sqlite", database=":memory:")
    if not text.strip():
        raise ValueError("Argument 'url_or_path' must be a path or a URL, not an empty string")
    path = os.path.abspath(os.path.expanduser(text))
    return URL.create("sqlite", database=path)


def display_url(url: str | URL) -> str:
    """A URL for messages and logs: the password, if any, masked.

    >>> display_url("postgresql://esma:secret@db.example/esma")
    'postgresql://esma:***@db.example/esma'
    >>> display_url(resolve_url(":memory:"))
    'sqlite:///:memory:'
    """
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and not u.query:
        # SQLAlchemy percent-escapes ':' and '%' in the path; a person wants to see the path itself
        return f"{u.drivername}:///{u.database}" if u.database else f"{u.drivername}://"
    return u.render_as_string(hide_password=True)


def read_only(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions take no write lock up front (plain deferred BEGIN on SQLite).

    Under WAL a read transaction never needs to upgrade its lock, so deferred is safe for reads and lets
    them run while another process writes.  Writing through this engine on SQLite risks "database is
    locked"; use the engine itself for writes.
    """
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})


def _sqlite_file(url: URL) -> str | None:
    """The path of an SQLite catalog file named by ``url`` (``None`` for memory, a ``file:`` URI, another backend)."""
    if url.get_backend_name() != "sqlite":
        return None
    path = url.database or ""
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return path


def _on_read_only_file_system(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False


def read_only_reason(url_or_path: str | os.PathLike[str] | None = None) -> str | None:
    """Why the existing SQLite catalog file at ``url_or_path`` cannot be written by this process, or ``None``
    (it can, it does not exist yet, or it is not an SQLite file).

    A catalog on a read-only file system, a file without write permission, or a folder without it (SQLite
    writes its ``-wal`` and ``-shm`` files beside the catalog) cannot be written, root or not.
    """
    path = _sqlite_file(resolve_url(url_or_path))
    if path is None or not os.path.isfile(path):
        return None
    if _on_read_only_file_system(path):
        return "it is on a read-only file system"
    if not os.access(path, os.W_OK):
        return "its file is not writable"
    if not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        return "its folder is not writable"
    return None


def _wal_mode(path: str) -> bool:
    """Whether the SQLite file's header says WAL (bytes 18 and 19, the file format versions, are 2)."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2


def read_only_url(url: URL) -> URL:
    """The URL opening the SQLite catalog file of ``url`` so that it cannot be written: a ``file:`` URI with
    ``mode=ro`` (the path quoted: '#', '?' and '%' would cut it, and drop ``mode=ro``).

    On a read-only file system the URI also says ``immutable=1``: nobody can change the file there, and a
    WAL-mode file (every catalog) cannot be read otherwise without its ``-shm`` file, which cannot be
    created.  A WAL file without ``-shm`` in a folder this process cannot write, on a writable file system
    (someone else may write it), cannot be read safely: ``ValueError`` says so in one line.
    """
    path = os.path.abspath(_sqlite_file(url) or "")
    query = "mode=ro"
    if _on_read_only_file_system(path):
        query += "&immutable=1"
    elif (_wal_mode(path) and not os.path.exists(path + "-shm")
          and not os.access(os.path.dirname(path), os.W_OK)):
        raise ValueError(
            f"cannot read catalog {path}: its folder is not writable and SQLite needs to create {path}-shm "
            "beside it to read it; copy the catalog to a writable folder"
        )
    return URL.create(url.drivername, database=f"file:{urllib.parse.quote(path)}?{query}", query={"uri": "true"})


def make_engine(url_or_path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Engine:
    """Create the catalog's engine (see :func:`resolve_url` for what ``url_or_path`` means).

    Extra keyword arguments go to :func:`sqlalchemy.create_engine`.

    >>> eng = make_engine(":memory:")
    >>> with eng.connect() as c:
    ...     c.exec_driver_sql("PRAGMA foreign_keys").scalar()
    1
    """
    url = resolve_url(url_or_path)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, **kwargs)
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        folder = os.path.dirname(os.path.abspath(url.database))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Folder of the catalog database does not exist: {folder}")
    connect_args = dict(kwargs.pop("connect_args", {}))
    # the driver's own busy timeout (5 s by default) applies before our PRAGMA runs
    connect_args.setdefault("timeout", BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if url.get_driver_name() in ("pysqlite", "pysqlcipher"):
        _install_sqlite_listeners(engine)
    return engine


def _install_sqlite_listeners(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (see _on_begin); the driver must not open transactions on its own
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            _set_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
            raise ValueError(f"Execution option {BEGIN_OPTION!r} must be IMMEDIATE, DEFERRED or EXCLUSIVE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _set_wal(cursor: Any) -> None:
    # Switching a fresh file to WAL needs an exclusive lock; when another process is creating the same file
    # at that instant SQLite may answer "locked" without consulting the busy handler, so retry briefly.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError (sqlite3 or sqlcipher3)
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
