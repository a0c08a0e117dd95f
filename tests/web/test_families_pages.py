"""Families on the pages: a constant's families ranked (representative typeset, closed form, gain,
digits, members, status, the base label), a family's tail key and members with their relation G, a formula
linked to its family, and the constant page's reads batched (one query for the representatives)."""

from __future__ import annotations

import math
import re
from html import unescape

import pytest


def _rows(html: str, table: str) -> list[str]:
    body = re.search(rf'<table class="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def _matrix(cell: str) -> list[int]:
    """The entries of a 2x2 MathML matrix, row by row."""
    entries = re.findall(r"<mtd>(.*?)</mtd>", cell, re.S)
    return [int(unescape(re.sub(r"<[^>]+>", "", e)).replace("−", "-")) for e in entries]


@pytest.fixture(scope="module")
def e_id(client) -> int:
    return next(c["id"] for c in client.get("/?format=json").json()["constants"] if c["text"] == "e")


def test_constant_page_shows_each_family_ranked_with_its_representative(client, catalog, e_id):
    doc = client.get(f"/constants/{e_id}?format=json&per_page=500").json()
    html = client.get(f"/constants/{e_id}?per_page=500").text
    rows = _rows(html, "families")
    assert len(rows) == len(doc["families"]) == len(catalog.families("e"))
    reps = catalog.conjectures_by_ids(f["representative_id"] for f in doc["families"])
    for fam, row in zip(doc["families"], rows, strict=True):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rank, link, formula, closed, gain, digits, members, status = cells
        rep = reps[fam["representative_id"]]
        assert int(rank) == fam["rank"] and f'href="/families/{fam["id"]}"' in link
        assert formula.startswith("<math") and "<mfrac>" in formula  # the representative, typeset
        assert closed.count("<math") == len(rep.polynomials) + (1 if rep.preperiod else 0)  # one per class
        assert gain == f"{fam['gain']:.3f}" and int(digits) == fam["verified_digits"] == rep.verified_digits
        assert int(members) == fam["members"]
        assert f'<span class="badge {fam["status"]}">{fam["status"]}</span>' in status
        assert ('class="badge base"' in status) == fam["base"]
    assert sum(f["base"] for f in doc["families"]) == 1  # the simple continued fraction of e: one family
    base = next(f for f in doc["families"] if f["base"])
    assert base["gain"] == pytest.approx(1.0)


def test_constant_page_reads_representatives_in_one_query(web_catalog):
    """The number of SQL statements of a constant page does not grow with its rows."""
    from sqlalchemy import event

    from esma.cli.web import pages
    from esma.cli.web.source import FamilyFilters, Source

    src = Source(str(web_catalog))
    statements: list[str] = []
    event.listen(src.catalog._engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        const = next(c for c in src.constants() if c["text"] == "e")
        total = src.catalog.count_families("e")
        counts = {}
        for per_page in (2, total):
            statements.clear()
            page = pages.constant_page(src, pages.Links(), const, FamilyFilters(), 1, per_page)
            assert len(page.data["families"]) == per_page
            counts[per_page] = len([s for s in statements if s.lstrip().upper().startswith("SELECT")])
        assert counts[2] == counts[total] <= 3, counts  # families, count (when paginated), representatives
    finally:
        src.close()


def test_family_page_shows_tail_key_relation_and_each_members_matrix(client, catalog, e_id):
    biggest = client.get(f"/constants/{e_id}?format=json&sort=members&per_page=1").json()["families"][0]
    doc = client.get(f"/families/{biggest['id']}?format=json&per_page=500").json()
    assert doc["family"]["key"] == catalog.family(biggest["id"]).key
    assert doc["relation"].startswith("T(c) = G(T_rep(c))")
    html = client.get(f"/families/{biggest['id']}?per_page=500").text
    assert f'<code class="key">{doc["family"]["key"]}</code>' in html
    # the sentence, typeset: T(c) = G(T_rep(c))
    sentence = re.search(r'<p class="relation">Each member satisfies (<math.*?</math>)', html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", sentence) == "T(c)=G(Trep(c))"
    rows = _rows(html, "members")
    assert len(rows) == len(doc["members"]) == biggest["members"]
    assert "representative</span>" in rows[0] and all("representative</span>" not in r for r in rows[1:])
    for member, row in zip(doc["members"], rows, strict=True):
        g = _matrix(re.search(r'<td class="matrix">(.*?)</td>', row, re.S).group(1))
        assert [g[:2], g[2:]] == member["relation"] == [list(r) for r in (catalog.get(member["id"]).relation[:2],
                                                                           catalog.get(member["id"]).relation[2:])]
        det = g[0] * g[3] - g[1] * g[2]
        assert det in (1, -1) and f'<td class="num">{det:+d}</td>' in row
    assert _matrix(re.search(r'<td class="matrix">(.*?)</td>', rows[0], re.S).group(1)) == [1, 0, 0, 1]


def test_members_of_a_big_family_are_paginated(client, e_id):
    biggest = client.get(f"/constants/{e_id}?format=json&sort=members&per_page=1").json()["families"][0]
    n, fid = biggest["members"], biggest["id"]
    assert n >= 5
    everyone = [m["id"] for m in client.get(f"/families/{fid}?format=json&per_page=500").json()["members"]]
    pages = math.ceil(n / 2)
    seen = []
    for page in range(1, pages + 1):
        doc = client.get(f"/families/{fid}?format=json&per_page=2&page={page}").json()
        assert doc["total"] == n and doc["pages"] == pages and doc["page"] == page
        seen += [m["id"] for m in doc["members"]]
    assert seen == everyone
    past = client.get(f"/families/{fid}?format=json&per_page=2&page={pages + 1}")
    assert past.status_code == 404 and past.json()["error"]["message"].startswith(f"no page {pages + 1} of members")
    html = client.get(f"/families/{fid}?per_page=2&page=2").text
    assert f"{n} members: 3–4 here, page 2 of {pages}" in html
    assert f'rel="prev" href="/families/{fid}?per_page=2"' in html
    assert f'rel="next" href="/families/{fid}?page=3&amp;per_page=2"' in html
    default = client.get(f"/families/{fid}").text  # 100 a page by default: the links keep no per_page
    assert "per_page" not in default.split('<div class="pager">')[1]


def test_formula_page_links_its_family(client, catalog, e_id):
    biggest = client.get(f"/constants/{e_id}?format=json&sort=members&per_page=1").json()["families"][0]
    members = catalog.family_members(biggest["id"])
    member = next(c for c in members if not c.representative and c.relation != (1, 0, 0, 1))
    doc = client.get(f"/formulas/{member.id}?format=json").json()
    assert doc["family"]["id"] == biggest["id"] == doc["conjecture"]["family_id"]
    assert doc["relation"] == [list(member.relation[:2]), list(member.relation[2:])]
    html = client.get(f"/formulas/{member.id}").text
    assert f'<a class="family-link" href="/families/{biggest["id"]}">family F{biggest["id"]}</a>' in html
    assert f"rank {biggest['rank']} of e's families, {biggest['members']} members" in html
    assert f'its\n  representative is <a href="/formulas/{biggest["representative_id"]}">' in html
    relation = re.search(r"<dt>Relation</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert _matrix(relation) == list(member.relation)
    rep = client.get(f"/formulas/{biggest['representative_id']}").text
    assert "this formula is its representative" in rep


def test_export_writes_each_members_relation_as_text(web_catalog, tmp_path, catalog):
    from esma.cli.web.commands import export_html

    out = tmp_path / "e.html"
    export_html(str(web_catalog), out, constant="e")
    html = out.read_text(encoding="utf-8")
    fam = max(catalog.families("e"), key=lambda f: f.members)
    section = html.split(f'<section id="family-{fam.id}"')[1].split("</section>")[0]
    rows = _rows(section, "members")
    assert len(rows) == fam.members  # every member, on one page
    for c, row in zip(catalog.family_members(fam.id), rows, strict=True):
        g11, g12, g21, g22 = c.relation
        assert f"<code>[[{g11}, {g12}], [{g21}, {g22}]]</code>" in row


def _leaves(html) -> tuple[list, list]:
    text = str(html)
    leaves = [(t, x) for t, x in re.findall(r"<(mi|mn|mo|mtext)[^>]*>([^<]*)</", text) if (t, x) != ("mo", ",")]
    return leaves, re.findall(r"<(msub|msup|mfrac|mtable)", text)


def test_closed_forms_of_the_lists_read_as_their_latex(catalog):
    """The list pages write closed forms as MathML directly (fast); it reads exactly as the LaTeX of
    esma.render typeset by latex2mathml (the family and formula pages)."""
    from dataclasses import replace
    from fractions import Fraction

    from esma.cli.web.mathml import to_mathml
    from esma.cli.web.pages import closed_form_parts
    from esma.render import closed_form_latex

    records = catalog.conjectures()
    assert any(r.preperiod for r in records) and any(r.period == 1 for r in records)
    made = [replace(records[0], polynomials=(("-1/3", "0", "5/7"), ("4",), ("0",)), period=3, preperiod=2)]
    for r in records + made:
        assert _leaves(closed_form_parts(r)) == _leaves(to_mathml(closed_form_latex(r))), r.closed_form
    assert any(Fraction(x).denominator > 1 for p in made[0].polynomials for x in p)
    # a closed form that is not made of numbers falls back to its text, escaped
    hostile = replace(records[0], polynomials=(("<script>",),), period=1, closed_form="<script>")
    assert "<script" not in str(closed_form_parts(hostile))
