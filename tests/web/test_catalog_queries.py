"""The catalog queries the web pages use (db/repository.py, end of Catalog), on SQLite and PostgreSQL: the same
records give the same groups, counts, order and pages on both, and a read-only catalog refuses writes."""

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


def _summary(groups):
    return [(g["key"], g["members"], g["proved"], round(g["gain"], 9), g["digits"], g["period"],
             g["representative"].key, g["total"]) for g in groups]


def test_group_queries_agree_with_the_records(catalog_url, records, tmp_path):
    _fill(catalog_url, records, tmp_path)
    with Catalog.open_read_only(catalog_url) as cat:
        counts = {c["text"]: c for c in cat.constant_counts()}
        assert set(counts) == {r.constant for r in records}
        for text, c in counts.items():
            mine = [r for r in records if r.constant == text]
            assert c["formulas"] == len(mine) and c["groups"] == len({r.group for r in mine})
            assert c["proved_formulas"] == 0 and c["searches"] == 1
            groups = cat.value_groups(c["id"], limit=None)
            assert len(groups) == c["groups"] == cat.count_value_groups(c["id"])
            # the ranks: best gain of the group first
            best = {}
            for r in mine:
                best[r.group] = max(best.get(r.group, 0.0), r.digits_per_term / r.scf_digits_per_term)
            assert [round(g["gain"], 9) for g in groups] == sorted((round(b, 9) for b in best.values()), reverse=True)
            for g in groups:
                members = cat.value_group_members(c["id"], g["key"])
                assert len(members) == g["members"] == cat.count_value_group_members(c["id"], g["key"])
                assert g["id"] == min(m.id for m in members) and members[0].key == g["representative"].key
                assert cat.value_group(c["id"], g["key"])["id"] == g["id"]
            # pages of two are the same as the whole list, cut
            paged = [*cat.value_groups(c["id"], limit=2), *cat.value_groups(c["id"], limit=2, offset=2)]
            assert [g["key"] for g in paged] == [g["key"] for g in groups[:4]]
            # filters
            assert cat.value_groups(c["id"], status="proved") == []
            assert cat.count_value_groups(c["id"], min_digits=10**6) == 0
            cut = sorted(best.values())[len(best) // 2]
            assert cat.count_value_groups(c["id"], min_gain=cut) == sum(b >= cut for b in best.values())
            with pytest.raises(ValueError, match="sort"):
                cat.value_groups(c["id"], sort="nope")


def test_same_answers_on_both_backends(postgres_url, records, tmp_path):
    sqlite_path = str(tmp_path / "c.sqlite")
    _fill(sqlite_path, records, tmp_path)
    _fill(postgres_url, records, tmp_path)
    answers = []
    for url in (sqlite_path, postgres_url):
        with Catalog.open_read_only(url) as cat:
            ids = {c["text"]: c["id"] for c in cat.constant_counts()}
            answers.append({
                text: {sort: _summary(cat.value_groups(cid, sort=sort, limit=None)) for sort in Catalog.GROUP_SORTS}
                for text, cid in ids.items()
            })
    assert answers[0] == answers[1]


def test_read_only_postgres_refuses_writes(postgres_url, records, tmp_path):
    _fill(postgres_url, records[:1], tmp_path)
    with Catalog.open_read_only(postgres_url) as cat:
        assert cat.constant_counts()
        with pytest.raises(Exception, match="read-only transaction"):
            cat.start_search("pi", {"x": 1}, chunks_total=1, esma_version="0")
