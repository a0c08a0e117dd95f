"""The command line of families and proofs (DESIGN sections 7 and 8): ``esma families``, ``list --family
--representatives``, ``show`` with its family, ``verify --proof`` on true and tampered certificates, and a
catalog written before families existed getting its families when it is opened."""

from __future__ import annotations

import json
import sqlite3

import pytest


@pytest.fixture(scope="module")
def doc(tan_search):
    return tan_search.doc


def run_json(esma_main, *args):
    res = esma_main(*args)
    assert res.code == 0, res.stderr
    return json.loads(res.stdout)


def test_families_json_is_ranked_one_row_per_family(esma_main, tan_search, doc):
    fams = run_json(esma_main, "families", "--json", "--db", tan_search.db)["families"]
    assert fams == doc["families"]
    assert [f["rank"] for f in fams] == list(range(1, len(fams) + 1))
    assert sum(f["members"] for f in fams) == len(doc["conjectures"])
    assert all(f["status"] == "proved" and f["proved_members"] == f["members"] for f in fams)
    reps = {r["id"]: r for r in doc["conjectures"] if r["representative"]}
    assert {f["representative_id"] for f in fams} == set(reps)
    for f in fams:
        r = reps[f["representative_id"]]
        for field in ("lhs", "signs", "closed_form", "gain", "verified_digits"):
            assert f[field] == r[field], field
    # tan 1 = [1; 1, 1, 3, 1, 5, ...] is the base family, labelled as such
    [base] = [f for f in fams if f["base"]]
    assert any(r["lhs"] == "c" and r["signs"] == [1] and r["family"] == base["key"] for r in doc["conjectures"])


def test_families_filters_and_sorts(esma_main, tan_search, doc):
    fams = doc["families"]
    cut = sorted(f["gain"] for f in fams)[len(fams) // 2]
    fast = run_json(esma_main, "families", "--min-gain", str(cut), "--json", "--db", tan_search.db)["families"]
    assert fast == [f for f in fams if f["gain"] >= cut] and 0 < len(fast) < len(fams)
    by_members = run_json(esma_main, "families", "--sort", "members", "--json", "--db", tan_search.db)["families"]
    assert [f["members"] for f in by_members] == sorted((f["members"] for f in fams), reverse=True)
    assert run_json(esma_main, "families", "--status", "conjecture", "--json", "--db", tan_search.db) == {
        "families": []}
    assert run_json(esma_main, "families", "--constant", "e", "--json", "--db", tan_search.db) == {"families": []}
    top = run_json(esma_main, "families", "--limit", "3", "--json", "--db", tan_search.db)["families"]
    assert top == fams[:3]
    text = esma_main("families", "--limit", "3", "--db", tan_search.db)
    assert text.code == 0 and text.stdout.count("\n") >= 3 and "gain" in text.stdout
    for bad in (["--min-gain", "nan"], ["--limit", "-1"], ["--sort", "popularity"]):
        res = esma_main("families", *bad, "--db", tan_search.db)
        assert res.code == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_list_by_family_and_representatives(esma_main, tan_search, doc):
    records = doc["conjectures"]
    key = max(doc["families"], key=lambda f: f["members"])["key"]
    members = run_json(esma_main, "list", "--family", key, "--json", "--db", tan_search.db)["conjectures"]
    assert members == [r for r in records if r["family"] == key]
    assert members[0]["representative"] and not any(r["representative"] for r in members[1:])
    reps = run_json(esma_main, "list", "--representatives", "--json", "--db", tan_search.db)["conjectures"]
    assert reps == [r for r in records if r["representative"]]
    assert len(reps) == len(doc["families"])


def test_show_gives_the_family_and_its_members(esma_main, tan_search, doc):
    member = next(r for r in doc["conjectures"] if not r["representative"])
    shown = run_json(esma_main, "show", member["id"], "--json", "--db", tan_search.db)
    assert shown["conjecture"] == member
    assert shown["family"]["key"] == member["family"] and shown["family"]["id"] == member["family_id"]
    assert shown["members"][0]["representative"] and len(shown["members"]) <= 20
    assert all(m["family"] == member["family"] for m in shown["members"])
    text = esma_main("show", member["id"], "--db", tan_search.db).stdout
    g = member["relation"]
    assert f"G = [[{g[0][0]}, {g[0][1]}], [{g[1][0]}, {g[1][1]}]]" in text and "family" in text


def test_verify_proof_passes_for_representatives_and_members(esma_main, tan_search, doc, copy_db, tmp_path):
    db = copy_db(tan_search.db, tmp_path / "c.sqlite")
    rep = next(r for r in doc["conjectures"] if r["representative"])
    member = next(r for r in doc["conjectures"] if not r["representative"])
    for r in (rep, member):
        res = esma_main("verify", r["id"], "--proof", "--db", db)
        assert res.code == 0, res.stdout + res.stderr
        assert f"#{r['id']} proof checked: proved from tan(1) (Lambert)" in res.stdout
        out = run_json(esma_main, "verify", r["id"], "--proof", "--json", "--db", db)
        assert out["ok"] is True and out["status"] == "proved"


def _tamper(db, cid, edit):
    con = sqlite3.connect(db)
    try:
        (text,) = con.execute("SELECT certificate FROM conjectures WHERE id = ?", (cid,)).fetchone()
        cert = json.loads(text)
        edit(cert)
        con.execute("UPDATE conjectures SET certificate = ? WHERE id = ?", (json.dumps(cert), cid))
        con.commit()
    finally:
        con.close()


@pytest.mark.parametrize("which", ["representative", "member"])
def test_verify_proof_fails_on_an_altered_certificate(esma_main, tan_search, doc, copy_db, tmp_path, which):
    db = copy_db(tan_search.db, tmp_path / "c.sqlite")
    if which == "representative":
        r = next(x for x in doc["conjectures"] if x["representative"])

        def edit(cert):
            cert["cert"]["U"][0][0] = cert["cert"]["U"][0][0] + " + 1"
    else:
        r = next(x for x in doc["conjectures"] if not x["representative"])

        def edit(cert):
            cert["relation"][0][1] += 1

    _tamper(db, r["id"], edit)
    res = esma_main("verify", r["id"], "--proof", "--db", db)
    assert res.code == 1 and f"#{r['id']} PROOF REJECTED" in res.stdout and "Traceback" not in res.stderr
    shown = run_json(esma_main, "show", r["id"], "--json", "--db", db)["conjecture"]
    assert shown["status"] == "conjecture" and shown["certificate"] is None
    assert "certificate rejected" in shown["status_reason"]
    # a formula without a certificate has no proof to check
    again = esma_main("verify", r["id"], "--proof", "--db", db)
    assert again.code == 1 and "no certificate" in again.stdout


def test_a_catalog_from_before_families_gets_them_when_opened(esma_main, tan_search, doc, copy_db, tmp_path):
    """Downgraded to the schema of the previous release (revision 0002: no families) and opened again by any
    command, the catalog is migrated in place and every formula gets the family a search gives it."""
    from esma.db import downgrade, make_engine

    db = copy_db(tan_search.db, tmp_path / "old.sqlite")
    engine = make_engine(str(db))
    downgrade(engine, "0002")
    engine.dispose()
    with sqlite3.connect(db) as con:
        assert "families" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    res = esma_main("list", "--json", "--db", db)
    assert res.code == 0, res.stderr
    assert "computing the families" in res.stderr
    got = {r["key"]: (r["family"], r["representative"], r["relation"]) for r in json.loads(res.stdout)["conjectures"]}
    want = {r["key"]: (r["family"], r["representative"], r["relation"]) for r in doc["conjectures"]}
    assert got == want
    fams = run_json(esma_main, "families", "--json", "--db", db)["families"]
    assert [(f["key"], f["members"]) for f in fams] == [(f["key"], f["members"]) for f in doc["families"]]
    # the second opening has nothing left to compute
    assert "computing" not in esma_main("list", "--db", db).stderr
