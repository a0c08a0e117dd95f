"""Catalog behaviour on every backend (``catalog_url``: an SQLite file and a PostgreSQL database): round trips,
upserts, checkpoints and pending hits, families, filters, streamed JSON, verifications."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from esma.db import Catalog, display_url, make_engine, resolve_url
from esma.db.models import IntList, int_from_text, int_to_text
from esma.db.repository import params_key
from esma.records import Conjecture, Hit

HUGE = 10**40


def make_conjecture(n: int = 0, **over: object) -> Conjecture:
    """A conjecture with every field set (and distinct per ``n``); ``over`` replaces fields."""
    fields: dict[str, object] = {
        "constant": "pi",
        "lhs": f"{n + 1}/pi",
        "lhs_numerator": (0, n + 1),
        "lhs_denominator": (1, -7),
        "value": f"0.{n}318309886183790671537767526745",
        "signs": (1, -1, 1),
        "preperiod": 1,
        "terms": (3, 7, 15, 1, 292, n),
        "recurrence": (1, -2, 1),
        "closed_form": f"a(n) = 2n + {n}",
        "kind": "polynomial",
        "verified_digits": 60,
        "digits_per_term": 0.8125,
        "scf_digits_per_term": 0.34375,
        "status": "conjecture",
        "status_reason": "",
        "key": f"pi|{n}|+-+",
        "group": f"group-{n % 3}",
        "period": 3,
        "polynomials": (("1", "2"), ("-1/3", "0", "5/7"), ("4",)),
        "linear_complexity": 3,
        "detection_terms": 40,
        "detection_digits": 30,
        "verify_terms": 120,
        "cf_text": f"{n} + 1/(2 - 1/(3 + ...))",
        "family": f"2|+m;-{n + 1}",
        "representative": True,
        "relation": (1, 0, 0, 1),
        "gain": 2.3636,
        "extra": {"note": "test", "big": HUGE},
    }
    fields.update(over)
    return Conjecture(**fields)  # type: ignore[arg-type]


def same_record(a: Conjecture, b: Conjecture) -> bool:
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d.pop("id")
        d.pop("family_id")
    return da == db


@pytest.fixture
def cat(catalog_url: str):
    with Catalog(catalog_url) as c:
        yield c


def test_round_trip_with_huge_integers(cat: Catalog, catalog_url: str) -> None:
    giant = 7**9000  # beyond Python's default int <-> str limit of 4300 digits
    c = make_conjecture(
        terms=(1, HUGE, -HUGE, 0, giant),
        recurrence=(1, -HUGE, HUGE * HUGE, -1),
        lhs_numerator=(-HUGE, 3),
        lhs_denominator=(HUGE + 1, -5),
    )
    sid = cat.start_search("pi", {"depth": 1}, 1, "0.1.0")
    [cid] = cat.store_formulas(sid, [c])
    got = cat.get(cid)
    assert got is not None and got.id == cid
    assert got.terms == (1, HUGE, -HUGE, 0, giant)
    assert got.recurrence[2] == HUGE * HUGE
    assert same_record(got, c)
    assert got.signs == (1, -1, 1) and got.polynomials == c.polynomials
    assert cat.conjectures()[0] == got
    assert got.family_id == cat.families("pi")[0].id

    # stored as plain JSON text of integers, readable by anything that reads JSON (on every backend: a text
    # column, not a 64-bit or NUMERIC one)
    raw = make_engine(catalog_url)
    try:
        with raw.connect() as conn:
            terms, signs = conn.execute(
                text("SELECT terms, signs FROM conjectures WHERE id = :id"), {"id": cid}
            ).one()
    finally:
        raw.dispose()
    assert isinstance(terms, str) and signs == "+-+"
    assert json.loads(terms[: terms.index(",0,") + 2] + "]") == [1, HUGE, -HUGE, 0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers() | st.integers(min_value=-(10**12000), max_value=10**12000), max_size=6))
def test_intlist_is_exact(values: list[int]) -> None:
    t = IntList()
    text = t.process_bind_param(tuple(values), None)
    assert t.process_result_value(text, None) == tuple(values)
    assert all(int_from_text(int_to_text(v)) == v for v in values)


def test_intlist_rejects_non_integers() -> None:
    with pytest.raises(TypeError):
        IntList().process_bind_param((1, 2.0), None)
    with pytest.raises(TypeError):
        IntList().process_bind_param((True,), None)


def test_upsert_dedups_by_constant_and_key(cat: Catalog) -> None:
    sid = cat.start_search("pi", {"depth": 1}, 3, "0.1.0")
    c = make_conjecture(1)
    [a] = cat.store_formulas(sid, [c])
    # the same formula again, found with fewer then more verified digits
    [b, b2] = cat.store_formulas(sid, [make_conjecture(1, verified_digits=10), c])
    assert a == b == b2
    assert cat.get(a).verified_digits == 60  # a shallower record does not lower it
    deeper = make_conjecture(1, verified_digits=200, verify_terms=400, digits_per_term=0.9, kind="other")
    [d] = cat.store_formulas(sid, [deeper])
    assert d == a
    got = cat.get(a)
    assert (got.verified_digits, got.verify_terms, got.digits_per_term) == (200, 400, 0.9)
    assert got.kind == "polynomial"  # identity fields stay those of the first record
    assert len(cat.conjectures()) == 1
    assert cat.search_summary(sid)["conjectures"] == 1
    # the same key under another constant is another conjecture
    [e] = cat.store_formulas(sid, [make_conjecture(1, constant="e")])
    assert e != a
    assert [x["text"] for x in cat.constants()] == ["e", "pi"]


def _stored_rows(url: str, constant: str) -> list[tuple]:
    raw = make_engine(url)
    try:
        with raw.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT c.key, c.lhs, c.terms, c.signs, c.certificate, c.polynomials, c.extra, c.family_key, "
                "c.representative, c.relation, c.gain FROM conjectures c JOIN constants k ON k.id = c.constant_id "
                "WHERE k.text = :k ORDER BY c.id"), {"k": constant})]
    finally:
        raw.dispose()


def test_store_columns_stores_what_store_formulas_stores(cat: Catalog, catalog_url: str) -> None:
    """The families phase's path (records encoded by the workers, ``esma.columns``) and the records' path write
    the same rows and families (here for two constants, one each way); rows that are not ``conjecture_columns``
    rows are refused, before anything is written."""
    from esma.columns import conjecture_columns

    records = [make_conjecture(n, terms=(1, HUGE, -n), certificate={"theorem": "x", "n": [HUGE, n]})
               for n in range(4)]
    sid = cat.start_search("pi", {"depth": 1}, 1, "0.1.0")
    ids_a = cat.store_formulas(sid, records)
    sid_e = cat.start_search("e", {"depth": 1}, 1, "0.1.0")
    ids_b = cat.store_columns(sid_e, "e", [conjecture_columns(replace(c, constant="e")) for c in records])
    assert len(set(ids_a + ids_b)) == 8
    assert _stored_rows(catalog_url, "e") == _stored_rows(catalog_url, "pi") != []
    assert [(f.key, f.members) for f in cat.families("e")] == [(f.key, f.members) for f in cat.families("pi")]
    assert sorted(c.id for c in cat.search_conjectures(sid_e)) == sorted(ids_b)
    with pytest.raises(ValueError, match="conjecture_columns"):
        cat.store_columns(sid_e, "e", [conjecture_columns(make_conjecture(9, constant="e")), {"key": "x"}])
    assert len(_stored_rows(catalog_url, "e")) == 4


def test_commit_chunks_is_idempotent_and_keeps_hits(cat: Catalog) -> None:
    sid = cat.start_search("pi", {"depth": 2}, 4, "0.1.0")
    hit = Hit(transform=3, period=1, terms=(1, 2, 3, HUGE), recurrence=(1, -2, 1), start=1, kind="polynomial",
              form_period=1, polynomials=((Fraction(1, 3), Fraction(2)),), detection_terms=40,
              detection_digits=25, linear_complexity=3)
    assert cat.commit_chunk(sid, 0, [hit], candidates=100, seconds=2.0, scanned=60)
    assert not cat.commit_chunk(sid, 0, [hit], candidates=100, seconds=2.0)  # already there: nothing written
    # empty chunks in one batch (one of them already committed)
    assert cat.commit_chunks(sid, [{"index": i, "candidates": 10, "seconds": 0.5} for i in (0, 1, 2)]) == 2
    summary = cat.search_summary(sid)
    assert (summary["chunks_done"], summary["candidates"], summary["hits"], summary["scanned"]) == (3, 120, 1, 60)
    assert summary["seconds"] == 3.0 and summary["candidates_per_second"] == 40.0
    assert cat.done_chunks(sid) == {0, 1, 2}
    assert cat.pending_hits(sid) == [hit]  # exactly, Fractions and huge integers included
    [cid] = cat.store_formulas(sid, [make_conjecture(0)], clear_hits=True)
    assert cat.pending_hits(sid) == [] and cat.done_chunks(sid) == {0, 1, 2}
    assert [c.id for c in cat.search_conjectures(sid)] == [cid]
    with pytest.raises(TypeError):
        cat.commit_chunk(sid, 3, [make_conjecture(1)])  # type: ignore[list-item]


def test_commit_chunks_takes_the_hits_as_the_worker_encoded_them(cat: Catalog, catalog_url: str) -> None:
    """``hit_records`` (``ChunkResult.hit_records``, made by the worker) is stored as is: the same text as when
    the catalog encodes the hits itself, read back as the same hits; text that is not a list is refused."""
    from esma.columns import json_text

    sid = cat.start_search("pi", {"depth": 2}, 4, "0.1.0")
    hit = Hit(transform=3, period=1, terms=(1, 2, 3, HUGE), recurrence=(1, -2, 1), start=1, kind="polynomial",
              form_period=1, polynomials=((Fraction(1, 3), Fraction(2)),), detection_terms=40,
              detection_digits=25, linear_complexity=3)
    assert cat.commit_chunks(sid, [{"index": 0, "hits": [hit]},
                                   {"index": 1, "hits": [hit], "hit_records": json_text([hit.to_row()])}]) == 2
    raw = make_engine(catalog_url)
    try:
        with raw.connect() as conn:
            a, b = conn.execute(text("SELECT hit_records FROM search_chunks WHERE search_id = :s ORDER BY "
                                     "chunk_index"), {"s": sid}).scalars()
    finally:
        raw.dispose()
    assert a == b == json_text([hit.to_row()])
    assert cat.pending_hits(sid) == [hit, hit]
    with pytest.raises(ValueError, match="hit_records"):
        cat.commit_chunks(sid, [{"index": 2, "hits": [hit], "hit_records": '{"not": "a list"}'}])
    assert cat.done_chunks(sid) == {0, 1}


def test_resume_returns_same_search(cat: Catalog) -> None:
    params = {"depth": 3, "signs": ["+-", "-+"], "transforms": {"moebius": True, "bound": 2}}
    sid = cat.start_search("pi", params, 5, "0.1.0")
    assert cat.done_chunks(sid) == set()
    cat.commit_chunk(sid, 0, candidates=10, seconds=0.5)
    cat.commit_chunk(sid, 3, candidates=10, seconds=0.5)
    cat.finish_search(sid, "interrupted")
    assert cat.search_summary(sid)["status"] == "interrupted"

    reordered = {"transforms": {"bound": 2, "moebius": True}, "signs": ["+-", "-+"], "depth": 3}
    assert params_key(reordered) == params_key(params)
    again = cat.start_search("pi", reordered, 5, "0.1.1")
    assert again == sid
    summary = cat.search_summary(sid)
    assert summary["status"] == "running" and summary["finished_at"] is None
    assert summary["esma_version"] == "0.1.1" and summary["params"] == params
    assert cat.done_chunks(sid) == {0, 3}

    assert cat.start_search("pi", {**params, "depth": 4}, 5, "0.1.1") != sid
    assert cat.start_search("e", params, 5, "0.1.1") != sid
    assert len(cat.searches()) == 3 and len(cat.searches("pi")) == 2

    done = cat.finish_search(sid)
    assert done["status"] == "done" and done["finished_at"] is not None
    assert done["chunks_done"] == 2 and done["chunks_total"] == 5 and done["candidates"] == 20


def test_search_conjectures_tracks_the_finding_search(cat: Catalog) -> None:
    s1 = cat.start_search("pi", {"depth": 1}, 1, "0.1.0")
    s2 = cat.start_search("pi", {"depth": 2}, 1, "0.1.0")
    [a, b] = cat.store_formulas(s1, [make_conjecture(0), make_conjecture(1)])
    [b2, c] = cat.store_formulas(s2, [make_conjecture(1), make_conjecture(2)])
    assert b2 == b
    assert [x.id for x in cat.search_conjectures(s1)] == [a, b]
    assert [x.id for x in cat.search_conjectures(s2)] == [b, c]
    assert cat.search_summary(s2)["conjectures"] == 2


def test_filters_and_order(cat: Catalog) -> None:
    sid = cat.start_search("zeta(3)", {}, 1, "0.1.0")
    records = [
        make_conjecture(0, constant="zeta(3)", kind="polynomial", verified_digits=100),
        make_conjecture(1, constant="zeta(3)", kind="periodic", verified_digits=20),
        make_conjecture(2, constant="pi", kind="polynomial", verified_digits=50),
        make_conjecture(3, constant="e", kind="exponential", verified_digits=500),
    ]
    ids = cat.store_formulas(sid, records)
    by_id = dict(zip(ids, records, strict=True))
    everything = cat.conjectures()
    assert [c.constant for c in everything] == ["e", "pi", "zeta(3)", "zeta(3)"]
    assert all(same_record(c, by_id[c.id]) for c in everything)
    assert [c.id for c in cat.conjectures(constant="zeta(3)")] == ids[:2]
    assert [c.id for c in cat.conjectures(kind="polynomial")] == [ids[2], ids[0]]
    assert [c.id for c in cat.conjectures(min_digits=60)] == [ids[3], ids[0]]
    assert [c.id for c in cat.conjectures(constant="zeta(3)", kind="periodic", min_digits=20)] == [ids[1]]
    assert cat.conjectures(constant="catalan") == []
    assert cat.conjectures(status="proved") == []
    assert {x["text"]: x["conjectures"] for x in cat.constants()} == {"e": 1, "pi": 1, "zeta(3)": 2}


def test_conjectures_by_ids_reads_many_in_batches(cat: Catalog) -> None:
    sid = cat.start_search("pi", {}, 1, "0.1.0")
    records = [make_conjecture(n, family=f"2|+m;-{n % 7 + 1}", representative=n < 7) for n in range(1203)]
    ids = cat.store_formulas(sid, records)
    by_id = dict(zip(ids, records, strict=True))
    wanted = ids[::-1] + ids[:5] + [max(ids) + 10**6]  # three batches of IN (...), repeats, an unknown id
    found = cat.conjectures_by_ids(wanted)
    assert sorted(found) == sorted(ids)
    assert all(same_record(found[i], by_id[i]) and found[i].id == i for i in ids)
    for i in (ids[0], ids[700], ids[-1]):  # the same records as one get() each, family id included
        assert found[i] == cat.get(i) and found[i].family_id == cat.get(i).family_id is not None
    assert cat.conjectures_by_ids([]) == {} and cat.conjectures_by_ids(iter([ids[3]])) == {ids[3]: found[ids[3]]}


def test_verification_and_refutation(cat: Catalog) -> None:
    sid = cat.start_search("pi", {}, 1, "0.1.0")
    [cid] = cat.store_formulas(sid, [make_conjecture(0, verified_digits=60)])

    cat.add_verification(cid, 200, 180, True, 500, 1.5, "0.1.0")
    got = cat.get(cid)
    assert (got.verified_digits, got.verify_terms, got.status) == (180, 500, "conjecture")

    cat.add_verification(cid, 100, 100, True, 250, 0.5, "0.1.0")  # shallower: keeps 180
    assert cat.get(cid).verified_digits == 180

    cat.add_verification(
        cid, 1000, 412, False, 2000, 9.0, "0.1.1", status="refuted", status_reason="differs at digit 413"
    )
    got = cat.get(cid)
    assert (got.status, got.status_reason, got.verified_digits) == ("refuted", "differs at digit 413", 180)
    assert [c.id for c in cat.conjectures(status="refuted")] == [cid]
    assert cat.conjectures(status="conjecture") == []

    runs = cat.verifications(cid)
    assert [(r["digits_requested"], r["verified_digits"], r["ok"]) for r in runs] == [
        (200, 180, True),
        (100, 100, True),
        (1000, 412, False),
    ]
    assert runs[2]["terms_used"] == 2000 and runs[2]["esma_version"] == "0.1.1" and runs[2]["seconds"] == 9.0
    assert runs[0]["created_at"].endswith("+00:00")
    assert cat.verifications(cid + 1) == []

    with pytest.raises(KeyError):
        cat.add_verification(cid + 1, 10, 10, True, 10, 0.1, "0.1.0")
    with pytest.raises(ValueError):
        cat.add_verification(cid, 10, 10, True, 10, 0.1, "0.1.0", status="wrong")


def test_invalid_input_is_rejected(cat: Catalog) -> None:
    sid = cat.start_search("pi", {}, 2, "0.1.0")
    with pytest.raises(ValueError, match="key"):
        cat.store_formulas(sid, [make_conjecture(0, key="")])
    with pytest.raises(ValueError):
        cat.store_formulas(sid, [make_conjecture(0, status="maybe")])
    with pytest.raises(ValueError):
        cat.store_formulas(sid, [make_conjecture(0, signs=(1, 0))])
    with pytest.raises(ValueError, match="relation"):
        cat.store_formulas(sid, [make_conjecture(0, relation=(1, 0, 0))])
    with pytest.raises(KeyError):
        cat.commit_chunk(sid + 100, 0, candidates=1)
    with pytest.raises(KeyError):
        cat.store_formulas(sid + 100, [make_conjecture(0)])
    with pytest.raises(ValueError):
        cat.families(sort="popularity")
    with pytest.raises(ValueError):
        cat.finish_search(sid, "running")
    with pytest.raises(ValueError):
        cat.start_search("", {}, 1, "0.1.0")
    # nothing above left a trace
    assert cat.done_chunks(sid) == set() and cat.conjectures() == []
    assert cat.get(12345) is None


def test_reopen_keeps_everything(catalog_url: str) -> None:
    with Catalog(catalog_url) as cat:
        sid = cat.start_search("pi", {"depth": 1}, 2, "0.1.0")
        ids = cat.store_formulas(sid, [make_conjecture(0), make_conjecture(1)])
        cat.commit_chunk(sid, 0, candidates=10, seconds=1.0)
        assert cat.url == display_url(resolve_url(catalog_url))
        assert "***" in cat.url or resolve_url(catalog_url).password is None  # never the password
    with Catalog(catalog_url) as cat:
        assert cat.start_search("pi", {"depth": 1}, 2, "0.1.0") == sid
        assert cat.done_chunks(sid) == {0}
        assert [c.id for c in cat.conjectures()] == ids
        assert same_record(cat.get(ids[1]), make_conjecture(1))
        assert cat.count_families("pi") == 2
