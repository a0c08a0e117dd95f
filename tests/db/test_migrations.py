"""Alembic migrations on every backend (``catalog_url``): upgrade from empty, schema equals the models,
downgrade and upgrade again."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from esma.db import Catalog, current_revision, downgrade, head_revision, make_engine, upgrade
from esma.db.migrate import MIGRATIONS_DIR
from esma.db.models import Base

TABLES = {
    "constants", "searches", "search_chunks", "conjectures", "search_conjectures", "verifications", "families"
}


@pytest.fixture
def engine(catalog_url: str):
    eng = make_engine(catalog_url)
    yield eng
    eng.dispose()


def schema_diff(engine: Engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def schema_fingerprint(engine: Engine) -> list:
    """What the database says its schema is: SQLite's stored DDL, or the inspector's view elsewhere."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT sql FROM sqlite_master ORDER BY name")).all()]
    insp = inspect(engine)
    out: list = []
    for t in sorted(insp.get_table_names()):
        out.append((t, [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)]))
        out.append((t, sorted(i["name"] for i in insp.get_indexes(t))))
        out.append((t, sorted(u["name"] for u in insp.get_unique_constraints(t))))
        out.append((t, sorted(c["name"] for c in insp.get_check_constraints(t))))
        out.append((t, sorted(f["name"] for f in insp.get_foreign_keys(t))))
    return out


def test_upgrade_downgrade_round_trip(engine: Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert head_revision() == "0003"
    assert current_revision(engine) == head_revision()
    assert tables(engine) == TABLES | {"alembic_version"}
    assert schema_diff(engine) == []

    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()

    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert tables(engine) <= {"alembic_version"}

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert schema_diff(engine) == []
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_every_constraint_and_index_is_named_as_in_models(engine: Engine) -> None:
    upgrade(engine)
    insp = inspect(engine)
    for table in Base.metadata.sorted_tables:
        expected = {c.name for c in table.constraints} | {i.name for i in table.indexes}
        assert all(isinstance(n, str) and n for n in expected), table.name
        got = {insp.get_pk_constraint(table.name)["name"]}
        got |= {u["name"] for u in insp.get_unique_constraints(table.name)}
        got |= {f["name"] for f in insp.get_foreign_keys(table.name)}
        got |= {c["name"] for c in insp.get_check_constraints(table.name)}
        got |= {i["name"] for i in insp.get_indexes(table.name)}
        assert got == expected, table.name


def test_migration_scripts_ship_with_the_package() -> None:
    pkg = resources.files("esma.db")
    assert pkg.joinpath("alembic.ini").is_file()
    assert pkg.joinpath("migrations", "script.py.mako").is_file()
    assert pkg.joinpath("migrations", "env.py").is_file()
    assert Path(MIGRATIONS_DIR, "versions", "0001_initial.py").is_file()


def test_alembic_command_line_config_uses_esma_db(catalog_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``alembic -c esma/db/alembic.ini upgrade head`` (no connection handed in) opens $ESMA_DB itself."""
    monkeypatch.setenv("ESMA_DB", catalog_url)
    ini = resources.files("esma.db").joinpath("alembic.ini")
    command.upgrade(Config(str(ini)), "head")
    eng = make_engine(catalog_url)
    try:
        assert current_revision(eng) == head_revision()
        assert schema_diff(eng) == []
    finally:
        eng.dispose()


def test_catalog_upgrades_on_open_and_reopen_is_a_no_op(catalog_url: str) -> None:
    with Catalog(catalog_url):
        pass
    eng = make_engine(catalog_url)
    try:
        assert current_revision(eng) == head_revision()
        before = schema_fingerprint(eng)
        assert len(before) > len(TABLES)
        with Catalog(catalog_url):
            pass
        assert schema_fingerprint(eng) == before
        assert schema_diff(eng) == []
    finally:
        eng.dispose()
