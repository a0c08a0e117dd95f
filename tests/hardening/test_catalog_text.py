"""Catalog text is data (issue 18, items 2 and 4): what a catalog holds never changes the structure of an output.

A catalog received from someone else is a file anyone can edit with SQL.  The tests doctor copies of a real
catalog (made by a real search) as such a stranger would, then run the real command line in a subprocess:

* a certificate written so that, pasted into JSON, it closes the record and forges the export's provenance;
* ``extra`` keys that collide with the record's own fields (``id``, ``status``);
* stored JSON that cannot be read: not JSON, empty, nested 100,000 deep (a RecursionError when parsed),
  integer lists that are not, scalars of the wrong type.

Every reader must report each unreadable formula on stderr (one line naming its id) and skip it, and everything
else in the output stays valid: ``list``, ``show``, ``families``, every export (JSON, CSV, LaTeX, HTML), a later
``search`` of the constant, and the web pages (no 500).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from web_helpers import copy_catalog, run_esma, served

import esma

SEARCH = ("search", "tan(1)", "--max-period", "3", "--coeff-limit", "1", "--executor", "serial")
#: A later search of the same constant whose families overlap the first one's.
LATER = ("search", "tan(1)", "--max-period", "2", "--coeff-limit", "1", "--verify-digits", "1200", "--executor",
         "serial", "--json")
#: The certificate of issue 18: pasted into the JSON export, it ends the record list and forges the provenance.
SPOOF = 'null}],"esma_version":"9.9.9","catalog":"https://example.invalid","conjectures":[{"id":1}],"x":[{"y":0'
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A catalog made by a real search of tan(1) (114 formulas in 16 families, proved, with certificates)."""
    folder = tmp_path_factory.mktemp("textcat")
    db = folder / "catalog.sqlite"
    res = run_esma(*SEARCH, "--db", str(db), cwd=folder)
    assert res.returncode == 0, res.stderr
    return db


def rows(db: Path, sql: str, *args) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def doctor(db: Path, sql: str, *args) -> None:
    """Change the catalog with plain SQL, as anyone holding the file can."""
    con = sqlite3.connect(db)
    try:
        con.execute(sql, args)
        con.commit()
    finally:
        con.close()


def esma_cli(folder: Path, *args: str):
    return run_esma(*args, cwd=folder)


def members(db: Path) -> list[tuple[int, int, str]]:
    """(id, representative, family key) of every formula, by id."""
    return rows(db, "SELECT id, representative, family_key FROM conjectures ORDER BY id")


@pytest.fixture
def spoofed(source, tmp_path) -> tuple[Path, int]:
    """A copy whose first non-representative formula carries the spoofing certificate."""
    db = copy_catalog(source, tmp_path / "spoofed.sqlite")
    victim = next(i for i, rep, _ in members(db) if not rep)
    doctor(db, "UPDATE conjectures SET certificate = ? WHERE id = ?", SPOOF, victim)
    return db, victim


def reported(stderr: str, formula_id: int) -> list[str]:
    """The stderr lines that report formula ``formula_id`` as unreadable."""
    return [line for line in stderr.splitlines() if re.search(rf"\bformula #{formula_id}\b", line)]


def check_provenance(doc: dict, db: Path) -> None:
    assert doc["esma_version"] == esma.__version__
    assert doc["catalog"] == f"sqlite:///{db}"
    assert set(doc) == {"esma_version", "exported_at", "catalog", "searches", "families", "conjectures"}


# ------------------------------------------------------------------------------------------------ spoofing


def test_a_spoofing_certificate_does_not_forge_the_json_export(spoofed):
    db, victim = spoofed
    total = len(members(db))
    res = esma_cli(db.parent, "export", "--format", "json", "--db", str(db))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    check_provenance(doc, db)
    ids = [r["id"] for r in doc["conjectures"]]
    assert victim not in ids and len(ids) == total - 1 == len(set(ids))
    assert len(reported(res.stderr, victim)) == 1, res.stderr
    assert "certificate" in reported(res.stderr, victim)[0]


@pytest.mark.parametrize("command", [("list", "--json"), ("search", "tan(1)", "--max-period", "3",
                                                          "--coeff-limit", "1", "--json")])
def test_a_spoofing_certificate_does_not_forge_list_or_search_json(spoofed, command):
    db, victim = spoofed
    total = len(members(db))
    res = esma_cli(db.parent, *command, "--db", str(db))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert "esma_version" not in doc and "x" not in doc
    ids = [r["id"] for r in doc["conjectures"]]
    assert victim not in ids and len(ids) == total - 1
    assert len(reported(res.stderr, victim)) == 1, res.stderr


def test_a_valid_hostile_certificate_is_re_encoded_as_data(source, tmp_path):
    db = copy_catalog(source, tmp_path / "valid.sqlite")
    victim = members(db)[3][0]
    cert = {"a": '"}],"esma_version":"9.9.9', "b": "</script><script>alert(1)</script>", "n": [10**50, -1]}
    doctor(db, "UPDATE conjectures SET certificate = ? WHERE id = ?", json.dumps(cert), victim)
    for args in (("export", "--format", "json"), ("list", "--json")):
        res = esma_cli(db.parent, *args, "--db", str(db))
        assert res.returncode == 0 and res.stderr == "", res.stderr
        doc = json.loads(res.stdout)
        found = [r for r in doc["conjectures"] if r["id"] == victim]
        assert len(found) == 1 and found[0]["certificate"] == cert
    check_provenance(json.loads(esma_cli(db.parent, "export", "--db", str(db)).stdout), db)


def test_extra_keys_cannot_override_the_record(source, tmp_path):
    db = copy_catalog(source, tmp_path / "extra.sqlite")
    victim, _, _ = members(db)[5]
    doctor(db, "UPDATE conjectures SET extra = ? WHERE id = ?",
           json.dumps({"id": 999999, "status": "refuted", "note": "kept"}), victim)
    status = rows(db, "SELECT status FROM conjectures WHERE id = ?", victim)[0][0]
    for args in (("export", "--format", "json"), ("list", "--json")):
        res = esma_cli(db.parent, *args, "--db", str(db))
        assert res.returncode == 0, res.stderr
        found = [r for r in json.loads(res.stdout)["conjectures"] if r["id"] == victim]
        assert len(found) == 1 and found[0]["status"] == status and found[0]["note"] == "kept"
        assert 999999 not in [r["id"] for r in json.loads(res.stdout)["conjectures"]]
    res = esma_cli(db.parent, "show", str(victim), "--json", "--db", str(db))
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)["conjecture"]
    assert shown["id"] == victim and shown["status"] == status and shown["note"] == "kept"


# ------------------------------------------------------------------------------------------------ unreadable


#: (column, stored text): values a reader cannot turn into a record.
CORRUPT = (
    ("certificate", "not json"),
    ("certificate", ""),
    ("certificate", DEEP),
    ("polynomials", "[[\"1\", \"2\"]"),
    ("extra", "[1, 2]"),
    ("terms", '[1,2],"x":[3'),
    ("relation", "[1,0,0]"),
    ("signs", "+x"),
    ("verified_digits", '1,"esma_version":"9.9.9"'),
    ("gain", "Infinity"),
)


@pytest.fixture(scope="module")
def corrupt(source, tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """A copy with one unreadable formula per entry of CORRUPT (members of families, never a representative,
    so that each family is still listed), and the column each one breaks."""
    db = copy_catalog(source, tmp_path_factory.mktemp("corrupt") / "corrupt.sqlite")
    victims = [i for i, rep, _ in members(db) if not rep][: len(CORRUPT)]
    assert len(victims) == len(CORRUPT)
    broken = {}
    for victim, (column, text) in zip(victims, CORRUPT, strict=True):
        value = float("inf") if text == "Infinity" else text
        doctor(db, f"UPDATE conjectures SET {column} = ? WHERE id = ?", value, victim)
        broken[victim] = column
    return db, broken


def check_reports(stderr: str, broken: dict[int, str], shown: set[int] | None = None) -> None:
    """Each unreadable formula the command read is reported on exactly one line, naming the column."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for victim, column in broken.items():
        found = reported(stderr, victim)
        if shown is not None and victim not in shown:
            assert not found
            continue
        assert len(found) == 1, (victim, stderr)
        assert column.replace("_", " ") in found[0] or column in found[0], found
    assert all(line.startswith("esma: ") for line in lines), stderr
    assert "Traceback" not in stderr


def test_list_skips_unreadable_formulas(corrupt):
    db, broken = corrupt
    total = len(members(db))
    res = esma_cli(db.parent, "list", "--db", str(db))
    assert res.returncode == 0, res.stderr
    shown = {int(m) for m in re.findall(r"^#(\d+) ", res.stdout, re.M)}
    assert len(shown) == total - len(broken) and not shown & set(broken)
    check_reports(res.stderr, broken)
    res = esma_cli(db.parent, "list", "--json", "--db", str(db))
    assert res.returncode == 0, res.stderr
    ids = [r["id"] for r in json.loads(res.stdout)["conjectures"]]
    assert len(ids) == total - len(broken) and not set(ids) & set(broken)
    check_reports(res.stderr, broken)


@pytest.mark.parametrize("fmt", ["json", "csv", "latex", "html"])
def test_every_export_skips_unreadable_formulas(corrupt, fmt):
    db, broken = corrupt
    total = len(members(db))
    res = esma_cli(db.parent, "export", "--format", fmt, "--all", "--db", str(db))
    assert res.returncode == 0, res.stderr
    if fmt == "json":
        doc = json.loads(res.stdout)
        check_provenance(doc, db)
        ids = [r["id"] for r in doc["conjectures"]]
    elif fmt == "csv":
        table = list(csv.DictReader(io.StringIO(res.stdout)))
        ids = [int(r["id"]) for r in table]
    elif fmt == "latex":
        assert res.stdout.rstrip().endswith(r"\end{document}")
        ids = [int(m) for m in re.findall(r"\\paragraph\{Formula \\#(\d+)\}", res.stdout)]
    else:
        assert res.stdout.rstrip().endswith("</html>")
        ids = sorted({int(m) for m in re.findall(r'<section id="formula-(\d+)"', res.stdout)})
        assert ids, "no formula anchors found in the HTML export"
    assert not set(ids) & set(broken)
    if fmt != "html":  # the HTML page lists formulas by family; the others every readable formula
        assert len(ids) == total - len(broken)
    check_reports(res.stderr, broken)


def test_show_and_families_skip_unreadable_members(corrupt):
    db, broken = corrupt
    fam_of = {i: key for i, _, key in members(db)}
    victim = next(iter(broken))
    rep = next(i for i, r, key in members(db) if r and key == fam_of[victim])
    res = esma_cli(db.parent, "show", str(rep), "--members", "200", "--json", "--db", str(db))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    listed = {m["id"] for m in doc["members"]}
    assert rep in listed and not listed & set(broken)
    same = {i for i in broken if fam_of[i] == fam_of[victim]}
    check_reports(res.stderr, broken, shown=same)
    res = esma_cli(db.parent, "show", str(rep), "--members", "200", "--db", str(db))
    assert res.returncode == 0, res.stderr
    res = esma_cli(db.parent, "families", "--json", "--db", str(db))
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert len(json.loads(res.stdout)["families"]) == len({k for _, _, k in members(db)})


def test_show_of_an_unreadable_formula_says_why(corrupt):
    db, broken = corrupt
    for victim, column in list(broken.items())[:3]:
        res = esma_cli(db.parent, "show", str(victim), "--db", str(db))
        assert res.returncode != 0 and res.stdout == ""
        assert "Traceback" not in res.stderr and 1 <= len(res.stderr.splitlines()) <= 2, res.stderr
        assert reported(res.stderr, victim) and column in res.stderr


def test_a_later_search_of_the_constant_still_runs(corrupt, tmp_path):
    db = copy_catalog(corrupt[0], tmp_path / "later.sqlite")
    broken = corrupt[1]
    res = esma_cli(db.parent, *LATER, "--db", str(db))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["search"]["status"] == "done" and doc["conjectures"]
    assert "Traceback" not in res.stderr
    unreadable = {v for v, column in broken.items() if column != "certificate"}
    assert not {r["id"] for r in doc["conjectures"]} & unreadable
    assert all(len(reported(res.stderr, v)) <= 1 for v in broken), res.stderr


def test_a_later_search_proves_again_what_has_an_unreadable_certificate(source, tmp_path):
    """The search reads a formula whose certificate cannot be read as a conjecture (one line on stderr) and, when
    it meets the formula again, proves it again: the catalog holds a readable certificate afterwards."""
    db = copy_catalog(source, tmp_path / "reprove.sqlite")
    rep = next(i for i, r, _ in members(db) if r)
    member = next(i for i, r, _ in members(db) if not r)
    for victim, text in ((rep, "not json"), (member, DEEP)):
        doctor(db, "UPDATE conjectures SET certificate = ? WHERE id = ?", text, victim)
    res = esma_cli(db.parent, *LATER, "--db", str(db))
    assert res.returncode == 0, res.stderr
    for victim in (rep, member):
        assert len(reported(res.stderr, victim)) == 1, res.stderr
        status, text = rows(db, "SELECT status, certificate FROM conjectures WHERE id = ?", victim)[0]
        assert status == "proved" and isinstance(json.loads(text), dict)
    res = esma_cli(db.parent, "export", "--db", str(db))
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert len(json.loads(res.stdout)["conjectures"]) == len(members(db))


# ------------------------------------------------------------------------------------------------ pages


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def test_pages_answer_without_a_server_error(corrupt, tmp_path):
    db = copy_catalog(corrupt[0], tmp_path / "served.sqlite")
    broken = corrupt[1]
    fam_of = {i: key for i, _, key in members(db)}
    fam_ids = dict(rows(db, "SELECT key, id FROM families"))
    with served(db, tmp_path) as (base, _proc):
        assert get(base + "/")[0] == 200
        status, body = get(base + "/constants/1")
        assert status == 200, body
        for victim in broken:
            status, body = get(f"{base}/families/{fam_ids[fam_of[victim]]}?per_page=200")
            assert status == 200, body
            assert f'href="/formulas/{victim}"' not in body
            status, body = get(f"{base}/formulas/{victim}")
            assert status in (404, 422), (victim, status, body[:500])
            assert "Traceback" not in body
        good = next(i for i in fam_of if i not in broken)
        assert get(f"{base}/formulas/{good}")[0] == 200


# ------------------------------------------------------------------------------------------------ other text


def test_stored_text_does_not_become_latex_commands(source, tmp_path):
    """A closed form without polynomials is shown as its stored text: escaped whole, never LaTeX commands."""
    db = copy_catalog(source, tmp_path / "latex.sqlite")
    victim = members(db)[0][0]
    hostile = r"x}\immediate\write18{touch pwned}\input{/etc/passwd}\text{"
    doctor(db, "UPDATE conjectures SET closed_form = ?, polynomials = '[]' WHERE id = ?", hostile, victim)
    res = esma_cli(db.parent, "export", "--format", "latex", "--all", "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert f"\\paragraph{{Formula \\#{victim}}}" in res.stdout
    for command in (r"\immediate", r"\write18", r"\input"):
        assert command not in res.stdout
    assert r"\textbackslash{}immediate\textbackslash{}write18\{touch pwned\}" in res.stdout


def test_a_constant_that_cannot_be_typeset_is_skipped_in_latex(source, tmp_path):
    db = copy_catalog(source, tmp_path / "const.sqlite")
    doctor(db, "UPDATE constants SET text = ? WHERE text = 'tan(1)'", "tan(1)}\\input{x")
    total = len(members(db))
    res = esma_cli(db.parent, "export", "--format", "latex", "--all", "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert res.stdout.rstrip().endswith(r"\end{document}") and r"\input" not in res.stdout
    lines = res.stderr.splitlines()
    assert len(lines) == total and all(re.match(r"esma: formula #\d+ skipped: ", line) for line in lines)
    res = esma_cli(db.parent, "export", "--format", "json", "--db", str(db))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert {r["constant"] for r in doc["conjectures"]} == {"tan(1)}\\input{x"}  # data, in a JSON string


@pytest.mark.parametrize("params", ["not json", DEEP, "[1, 2]"])
def test_unreadable_search_parameters_are_skipped(source, tmp_path, params):
    db = copy_catalog(source, tmp_path / "params.sqlite")
    doctor(db, "UPDATE searches SET params = ? WHERE id = 1", params)
    res = esma_cli(db.parent, "export", "--format", "json", "--db", str(db))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    check_provenance(doc, db)
    assert doc["searches"] == [] and len(doc["conjectures"]) == len(members(db))
    assert res.stderr.splitlines() == [res.stderr.splitlines()[0]] and "search #1 skipped" in res.stderr


def test_an_unreadable_representative_is_reported_once(source, tmp_path):
    """A representative is read by many parts of a page or an export: it is reported once, and its family is
    still listed (without it)."""
    db = copy_catalog(source, tmp_path / "rep.sqlite")
    rep, _, key = next(m for m in members(db) if m[1])
    doctor(db, "UPDATE conjectures SET certificate = 'not json' WHERE id = ?", rep)
    (fam,) = rows(db, "SELECT id FROM families WHERE key = ?", key)[0]
    res = esma_cli(db.parent, "export", "--format", "html", "--db", str(db))
    assert res.returncode == 0 and res.stdout.rstrip().endswith("</html>"), res.stderr
    assert f'<section id="family-{fam}"' in res.stdout and f'<section id="formula-{rep}"' not in res.stdout
    assert res.stderr.splitlines() == [f"esma: formula #{rep} skipped: its certificate is not JSON "
                                       "(Expecting value: line 1 column 1 (char 0))"]
    from starlette.testclient import TestClient

    from esma.cli.web import create_app

    with TestClient(create_app(str(db)), raise_server_exceptions=False) as client:
        for url in ("/", "/constants/1", f"/families/{fam}", "/constants/1?format=json",
                    f"/families/{fam}?format=json"):
            assert client.get(url).status_code == 200, url
        assert client.get(f"/formulas/{rep}").status_code == 404
