"""``esma search --json`` and the JSON contract of DESIGN sections 3 and 7, cross-checked with list/show/export.

Records come ranked: by family rank (gain descending, then simplicity), each family's representative first.
"""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import pytest

SEARCH_FIELDS = {
    "id", "constant", "candidates", "seconds", "candidates_per_second", "hits", "conjectures", "families",
    "approvals", "scanned",
}
RECORD_FIELDS = {
    "id",
    "constant",
    "lhs",
    "lhs_numerator",
    "lhs_denominator",
    "value",
    "signs",
    "preperiod",
    "terms",
    "recurrence",
    "closed_form",
    "kind",
    "verified_digits",
    "digits_per_term",
    "scf_digits_per_term",
    "status",
    "status_reason",
    "family",
    "representative",
    "relation",
    "gain",
    "certificate",
}
TAN1_CLOSED_FORM = "a(3m) = 1, a(3m+1) = 4m + 2, a(3m+2) = 4m + 4"


def significant_digits(text: str) -> int:
    mantissa = text.strip().lstrip("+-").lower().split("e")[0].replace(".", "")
    return len(mantissa.lstrip("0"))


def cf_value(terms, signs) -> Fraction:
    """a_0 + b_0/(a_1 + b_1/(... + b_{n-2}/a_{n-1})) exactly."""
    x = Fraction(terms[-1])
    for n in range(len(terms) - 2, -1, -1):
        x = terms[n] + Fraction(signs[n % len(signs)]) / x
    return x


@pytest.fixture(scope="module")
def doc(tan_search):
    return tan_search.doc


@pytest.fixture(scope="module")
def records(doc):
    return doc["conjectures"]


def test_stdout_is_one_json_object_and_stderr_has_the_summary(tan_search):
    out = tan_search.result.stdout
    assert out.lstrip().startswith("{")
    obj, end = json.JSONDecoder().raw_decode(out.lstrip())
    assert out.lstrip()[end:].strip() == "", "anything after the JSON object on stdout"
    assert set(obj) >= {"search", "conjectures"}
    err = tan_search.result.stderr
    assert "searched" in err and "formulas" in err and "families" in err
    assert "Traceback" not in err
    assert "searched" not in out


def test_search_object(doc, records):
    s = doc["search"]
    assert set(s) >= SEARCH_FIELDS
    assert s["constant"] == "tan(1)"
    assert isinstance(s["id"], int)
    assert s["candidates"] > 0 and s["seconds"] > 0
    assert s["candidates_per_second"] == pytest.approx(s["candidates"] / s["seconds"], rel=1e-6)
    assert s["conjectures"] >= s["hits"] > 0  # a hit stands for every member of its translation class
    assert s["conjectures"] == len(records)
    assert s["families"] == len(obj_families := {r["family"] for r in records}) > 0
    assert 0 < s["approvals"] <= len(obj_families) + sum(1 for r in records if r["relation"] == [[1, 0], [0, 1]])
    assert s["scanned"] <= s["candidates"]
    assert s.get("status", "done") == "done"
    if "chunks_total" in s:
        assert s["chunks_done"] == s["chunks_total"]


def test_records_have_the_contract_fields(records):
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids), "duplicate ids"
    for r in records:
        missing = RECORD_FIELDS - set(r)
        assert not missing, (r.get("id"), missing)
        assert r["constant"] == "tan(1)"
        assert isinstance(r["lhs"], str) and r["lhs"]
        assert all(isinstance(v, int) for v in r["lhs_numerator"] + r["lhs_denominator"])
        assert any(r["lhs_denominator"]), "zero denominator"
        assert significant_digits(r["value"]) >= 50, r["value"]
        assert r["signs"] and all(s in (1, -1) for s in r["signs"])
        assert all(isinstance(t, int) for t in r["terms"])
        assert r["kind"] in ("periodic", "polynomial", "exponential", "other")
        assert r["verified_digits"] >= 1000
        assert r["digits_per_term"] > 0 and r["scf_digits_per_term"] > 0
        assert r["status"] in ("conjecture", "proved")
        assert isinstance(r["closed_form"], str) and r["closed_form"]
    # (T, signs) identifies a formula: none is listed twice
    keys = [(tuple(r["lhs_numerator"]), tuple(r["lhs_denominator"]), tuple(r["signs"])) for r in records]
    assert len(set(keys)) == len(keys)


def test_family_fields(doc, records):
    """Each family has one representative, listed first; ranks follow gain; relations are exact (DESIGN 7)."""
    families = doc["families"]
    assert [f["rank"] for f in families] == list(range(1, len(families) + 1))
    gains = [f["gain"] for f in families]
    assert gains == sorted(gains, reverse=True)
    order = [f["key"] for f in families]
    seen: list[str] = []
    for r in records:
        if not seen or seen[-1] != r["family"]:
            assert r["representative"], r["id"]  # a family's block starts with its representative
            seen.append(r["family"])
    assert seen == order
    by_key = {f["key"]: f for f in families}
    for r in records:
        f = by_key[r["family"]]
        if r["representative"]:
            assert f["representative_id"] == r["id"] and r["relation"] == [[1, 0], [0, 1]]
            assert r["gain"] == f["gain"] == pytest.approx(r["digits_per_term"] / r["scf_digits_per_term"], rel=1e-3)
        assert r["certificate"] is None or r["status"] == "proved"
    assert sum(f["members"] for f in families) == len(records)


def test_recurrences_hold_on_the_stored_terms(records):
    for r in records:
        rec, terms, pre = r["recurrence"], r["terms"], r["preperiod"]
        order = len(rec) - 1
        assert rec[0] != 0
        assert order >= 1 and pre >= 0
        assert len(terms) >= max(20, pre + order)
        checked = 0
        for n in range(pre + order, len(terms)):
            assert sum(c * terms[n - i] for i, c in enumerate(rec)) == 0, (r["id"], n)
            checked += 1
        assert checked >= 1, f"#{r['id']}: no term left to check the recurrence on"


def test_values_are_T_of_tan1_and_the_terms_expand_them(records):
    """value = P(c)/Q(c) for c = tan(1) (independently, with mpmath) and the stored terms converge to it."""
    with mpmath.workdps(80):
        c = mpmath.tan(1)
        for r in records:
            num = sum(a * c**i for i, a in enumerate(r["lhs_numerator"]))
            den = sum(a * c**i for i, a in enumerate(r["lhs_denominator"]))
            t = num / den
            stored = mpmath.mpf(r["value"])
            assert abs(stored - t) <= mpmath.mpf(10) ** -48 * max(1, abs(t)), (r["id"], r["lhs"], r["value"])
            approx = cf_value(r["terms"], r["signs"])
            assert abs(mpmath.mpf(approx.numerator) / approx.denominator - t) < mpmath.mpf(10) ** -10, r["id"]


def test_tan1_record(records):
    found = [r for r in records if r["lhs"] == "c" and r["signs"] == [1, -1, 1]]
    assert len(found) == 1
    r = found[0]
    assert r["closed_form"] == TAN1_CLOSED_FORM
    assert r["kind"] == "polynomial"
    assert r["lhs_numerator"] == [0, 1] and r["lhs_denominator"] in ([1], [1, 0])
    assert r["value"].startswith("1.5574077246549022305069748074583601730872507723815")
    assert r["terms"][:9] == [1, 2, 4, 1, 6, 8, 1, 10, 12]
    for n, a in enumerate(r["terms"]):
        m, j = divmod(n, 3)
        assert a == (1, 4 * m + 2, 4 * m + 4)[j], n


def test_list_json_agrees_with_search(esma_run, esma_main, tan_search, records):
    via_env = esma_run("list", "--json", env={"ESMA_DB": str(tan_search.db)})  # ESMA_DB instead of --db
    assert via_env.code == 0, via_env.stderr
    listed = json.loads(via_env.stdout)["conjectures"]
    assert listed == records
    via_db = esma_main("list", "--json", "--db", tan_search.db)
    assert via_db.code == 0
    assert json.loads(via_db.stdout)["conjectures"] == records
    filtered = json.loads(esma_main("list", "--json", "--constant", "tan( 1 )", "--db", tan_search.db).stdout)
    assert filtered["conjectures"] == records
    none = json.loads(esma_main("list", "--json", "--constant", "e", "--db", tan_search.db).stdout)
    assert none["conjectures"] == []
    kinds = {r["kind"] for r in records}
    for kind in kinds:
        sub = json.loads(esma_main("list", "--json", "--kind", kind, "--db", tan_search.db).stdout)["conjectures"]
        assert sub == [r for r in records if r["kind"] == kind]


def test_show_json_agrees_with_search(esma_main, tan_search, records):
    tan1 = next(r for r in records if r["lhs"] == "c" and r["signs"] == [1, -1, 1])
    for r in (records[0], tan1, records[-1]):
        res = esma_main("show", r["id"], "--json", "--db", tan_search.db)
        assert res.code == 0, res.stderr
        shown = json.loads(res.stdout)
        assert shown["conjecture"] == r
        assert shown["verifications"] == []
    text = esma_main("show", tan1["id"], "--db", tan_search.db).stdout
    assert TAN1_CLOSED_FORM in text and "\\cfrac" in text


def test_export_json_agrees_with_search(esma_main, tan_search, doc, records):
    res = esma_main("export", "--format", "json", "--db", tan_search.db)
    assert res.code == 0, res.stderr
    exported = json.loads(res.stdout)
    assert exported["conjectures"] == records
    [search] = exported["searches"]
    assert search["id"] == doc["search"]["id"]
    for k in ("candidates", "hits", "conjectures", "params"):
        assert search[k] == doc["search"][k]


def test_rerun_reports_the_same_search(esma_run, esma_main, tan_search, copy_db, tmp_path, doc, records):
    db = copy_db(tan_search.db, tmp_path / "c.sqlite")
    res = esma_run(*tan_search.args, "--db", db)
    assert res.code == 0, res.stderr
    again = json.loads(res.stdout)
    assert again["search"]["id"] == doc["search"]["id"]
    for k in ("candidates", "hits", "conjectures"):
        assert again["search"][k] == doc["search"][k], k
    assert [r["id"] for r in again["conjectures"]] == [r["id"] for r in records]
    assert again["conjectures"] == records
    listed = json.loads(esma_main("list", "--json", "--db", db).stdout)["conjectures"]
    assert [r["id"] for r in listed] == [r["id"] for r in records], "the rerun duplicated conjectures"
    exported = json.loads(esma_main("export", "--db", db).stdout)
    assert len(exported["searches"]) == 1


def test_table_output_of_a_finished_search(esma_main, tan_search, copy_db, tmp_path, doc, records):
    """Without --json: one row per family (its representative; the row's last line ends with the family's id
    F<id> and the representative's #<id>) up to --limit, then a pointer to the rest; --all: one row per formula,
    beginning with its #<id>."""
    db = copy_db(tan_search.db, tmp_path / "c.sqlite")
    args = [a for a in tan_search.args if a != "--json"]
    res = esma_main(*args, "--limit", "5", "--db", db)
    assert res.code == 0, res.stderr
    lines = res.stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line[:4].strip().rstrip(".").isdigit()]
    reps = [r for r in records if r["representative"]]
    assert [int(lines[i].split(".")[0]) for i in starts] == [1, 2, 3, 4, 5]
    ends = [lines[j - 1] for j in [*starts[1:], len(lines) - 1]]  # each row's last line (the pointer follows)
    assert [int(end.rsplit("#", 1)[1]) for end in ends] == [r["id"] for r in reps[:5]]
    assert [int(end.rsplit(" F", 1)[1].split()[0]) for end in ends] == [r["family_id"] for r in reps[:5]]
    assert all(b - a <= 3 for a, b in zip(starts, [*starts[1:], len(lines) - 1], strict=True))
    assert f"{len(reps) - 5} more families" in res.stdout
    assert "searched" in res.stderr and "searched" not in res.stdout
    every = esma_main(*args, "--all", "--db", db)
    assert every.code == 0, every.stderr
    lines = [line for line in every.stdout.splitlines() if line.startswith("#")]
    assert [int(line.split()[0][1:]) for line in lines] == [r["id"] for r in records]


def test_a_literal_is_searched_as_deep_as_its_digits_and_the_summary_says_so(esma_run, tmp_path):
    """300 digits of e certify fewer terms than the deep search's 760: the search goes that deep and says so;
    the seconds reported are the wall time the user waited, not worker time summed."""
    with mpmath.workdps(320):
        literal = mpmath.nstr(mpmath.e, 300, strip_zeros=False)
    res = esma_run("search", literal, "--max-period", "2", "--workers", "2", "--json", "--db", tmp_path / "lit.sqlite")
    assert res.code == 0, res.stderr
    s = json.loads(res.stdout)["search"]
    assert s["deep_terms"] == 760
    assert 100 < s["certified_terms"] < 760
    assert f"certify {s['certified_terms']} of the 760 terms" in res.stderr
    assert s["seconds"] <= s["wall_seconds"] + 0.5
    # the same search at full precision reaches the deep search's depth and adds no such line
    full = esma_run("search", "e", "--max-period", "2", "--json", "--db", tmp_path / "e.sqlite")
    assert json.loads(full.stdout)["search"]["certified_terms"] == 760
    assert "certify" not in full.stderr
