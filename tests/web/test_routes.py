"""Every page of ``esma serve`` and its JSON, filters, sorting, pagination, 400/404 and 500 answers.

The application runs on a catalog made by real searches (conftest.py), through Starlette's TestClient.
"""

from __future__ import annotations

import json
import math
import re
from html import escape as html_escape
from html import unescape

import pytest

PAGES = ("/", "/constants/{cid}", "/families/{fid}", "/formulas/{rid}", "/searches")


def _ids(client) -> dict[str, int]:
    constants = client.get("/?format=json").json()["constants"]
    e = next(c for c in constants if c["text"] == "e")
    fam = client.get(f"/constants/{e['id']}?format=json").json()["families"][0]
    return {"cid": e["id"], "fid": fam["id"], "rid": fam["representative_id"]}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_and_the_same_url_is_json(client, path):
    url = path.format(**_ids(client))
    html = client.get(url)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert html.text.startswith("<!doctype html>") and "</html>" in html.text
    assert "<script" not in html.text  # the pages need no JavaScript
    by_query = client.get(url, params={"format": "json"})
    by_accept = client.get(url, headers={"Accept": "application/json"})
    assert by_query.status_code == by_accept.status_code == 200
    assert by_query.headers["content-type"] == "application/json"
    assert by_query.json() == by_accept.json() and by_query.json()


def test_a_browser_accept_header_gets_html(client):
    r = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"})
    assert r.headers["content-type"].startswith("text/html")


def test_constants_page_counts_what_the_catalog_holds(client, catalog):
    doc = client.get("/?format=json").json()
    by_text = {c["text"]: c for c in doc["constants"]}
    assert set(by_text) == {"e", "tan(1)", "sqrt(2)"}
    for text, c in by_text.items():
        formulas = catalog.conjectures(constant=text)
        assert c["formulas"] == len(formulas)
        assert c["families"] == len({f.family for f in formulas}) == len(catalog.families(text))
        assert c["searches"] == 1
        # e and tan(1) follow from registry theorems, sqrt(2)'s eventually periodic formulas from Lagrange's
        assert c["proved_formulas"] == sum(1 for f in formulas if f.status == "proved")
        assert c["proved_formulas"] == len(formulas)
        assert c["proved_families"] == c["families"]
        assert c["url"] == f"/constants/{c['id']}"
    html = client.get("/").text
    for text, c in by_text.items():
        assert f'href="/constants/{c["id"]}">{text}</a>' in html
        assert f'<td class="num">{c["formulas"]}</td>' in html
    assert "<math" in html  # each constant typeset


def test_constant_page_ranks_families_by_gain_then_simplicity(client):
    ids = _ids(client)
    doc = client.get(f"/constants/{ids['cid']}?format=json&per_page=500").json()
    fams = doc["families"]
    assert doc["total"] == len(fams) > 3 and doc["page"] == 1 and doc["pages"] == 1
    assert [f["rank"] for f in fams] == list(range(1, len(fams) + 1))
    gains = [f["gain"] for f in fams]
    assert gains == sorted(gains, reverse=True)
    e = next(c for c in client.get("/?format=json").json()["constants"] if c["id"] == ids["cid"])
    assert sum(f["members"] for f in fams) == e["formulas"]  # every formula in exactly one family
    assert any(f["base"] for f in fams)  # the simple continued fraction of e itself is there, marked
    html = client.get(f"/constants/{ids['cid']}").text
    assert html.count("<tr>") - 1 == len(fams)  # a header row, then one row per family
    assert f'href="/families/{fams[0]["id"]}"' in html


@pytest.mark.parametrize(
    ("sort", "field", "descending"),
    [("gain", "gain", True), ("members", "members", True), ("digits", "verified_digits", True)],
)
def test_sorts_and_order(client, sort, field, descending):
    cid = _ids(client)["cid"]
    for order, down in (("", descending), ("asc", False), ("desc", True)):
        fams = client.get(f"/constants/{cid}", params={"format": "json", "sort": sort, "order": order}).json()
        values = [f[field] for f in fams["families"]]
        assert values == sorted(values, reverse=down), (sort, order)


def test_simplicity_sort_puts_short_periods_first(client):
    cid = _ids(client)["cid"]
    fams = client.get(f"/constants/{cid}", params={"format": "json", "sort": "simplicity"}).json()["families"]
    assert fams[0]["period"] == min(f["period"] for f in fams)


def test_filters(client, catalog):
    consts = {c["text"]: c["id"] for c in client.get("/?format=json").json()["constants"]}
    e, sqrt2 = consts["e"], consts["sqrt(2)"]
    everything = client.get(f"/constants/{e}?format=json").json()
    # kind: e's formulas are interlaced polynomials, sqrt(2)'s periodic
    assert client.get(f"/constants/{e}?format=json&kind=periodic").json()["total"] == 0
    assert client.get(f"/constants/{e}?format=json&kind=polynomial").json()["total"] == everything["total"]
    periodic = client.get(f"/constants/{sqrt2}?format=json&kind=periodic").json()
    assert periodic["total"] > 0 and all(f["kind"] == "periodic" for f in periodic["families"])
    # status: every family of e is proved (Euler's continued fraction), and of sqrt(2) (Lagrange's theorem)
    assert client.get(f"/constants/{e}?format=json&status=proved").json()["total"] == everything["total"]
    assert client.get(f"/constants/{e}?format=json&status=conjecture").json()["total"] == 0
    assert client.get(f"/constants/{sqrt2}?format=json&status=proved").json()["total"] == periodic["total"]
    assert client.get(f"/constants/{sqrt2}?format=json&status=conjecture").json()["total"] == 0
    # min_gain keeps the families whose best gain reaches it
    gains = sorted(f["gain"] for f in everything["families"])
    cut = gains[len(gains) // 2]
    kept = client.get(f"/constants/{e}?format=json&min_gain={cut}").json()
    assert kept["total"] == sum(g >= cut for g in gains) and all(f["gain"] >= cut for f in kept["families"])
    # min_digits: every formula here is verified to about 300 digits
    assert client.get(f"/constants/{e}?format=json&min_digits=100000").json()["total"] == 0
    most = max(f["verified_digits"] for f in everything["families"])
    kept = client.get(f"/constants/{e}?format=json&min_digits={most}").json()
    assert 0 < kept["total"] <= everything["total"]
    assert all(f["verified_digits"] >= most for f in kept["families"])
    # the filters are echoed and the form keeps them
    html = client.get(f"/constants/{e}?kind=polynomial&min_gain=1.1&sort=members").text
    assert '<option value="polynomial" selected>' in html and 'value="1.1"' in html
    assert '<option value="members" selected>' in html


def test_pagination(client):
    cid = _ids(client)["cid"]
    full = client.get(f"/constants/{cid}?format=json&per_page=6").json()["families"]
    p1 = client.get(f"/constants/{cid}?format=json&per_page=3").json()
    p2 = client.get(f"/constants/{cid}?format=json&per_page=3&page=2").json()
    assert [f["id"] for f in p1["families"] + p2["families"]] == [f["id"] for f in full]
    assert p2["families"][0]["rank"] == 4
    assert p1["pages"] == math.ceil(p1["total"] / 3)
    last = client.get(f"/constants/{cid}?format=json&per_page=3&page={p1['pages']}").json()
    assert last["page"] == last["pages"] == p1["pages"] and 1 <= len(last["families"]) <= 3
    # the links keep the filters and move the page
    html = client.get(f"/constants/{cid}?per_page=3&page=2&sort=rank").text
    assert f'rel="prev" href="/constants/{cid}?sort=rank&amp;per_page=3"' in html
    assert f'rel="next" href="/constants/{cid}?sort=rank&amp;per_page=3&amp;page=3"' in html


def test_a_page_past_the_last_is_404_with_the_error_page(client):
    ids = _ids(client)
    cid, fid = ids["cid"], ids["fid"]
    pages = client.get(f"/constants/{cid}?format=json&per_page=3").json()["pages"]
    members = client.get(f"/families/{fid}?format=json&per_page=2").json()
    for url, first_missing, what in (
        (f"/constants/{cid}?per_page=3", pages + 1, "families"),
        (f"/constants/{cid}", 2, "families"),
        (f"/families/{fid}?per_page=2", members["pages"] + 1, "members"),
    ):
        assert client.get(f"{url}&page={first_missing - 1}" if "?" in url else f"{url}?page={first_missing - 1}"
                          ).status_code == 200
        for n in (first_missing, 99999):
            sep = "&" if "?" in url else "?"
            r = client.get(f"{url}{sep}page={n}")
            assert r.status_code == 404, (url, n)
            assert "<h1>404 Not found</h1>" in r.text and f"no page {n} of {what}" in r.text
            assert f"page {n} of" not in r.text.replace(f"no page {n} of", "")  # never "page 99999 of 2"
            doc = client.get(f"{url}{sep}page={n}&format=json")
            assert doc.status_code == 404 and doc.json()["error"]["message"].startswith(f"no page {n} of {what}")
    # a list the filters leave empty still has its one (empty) page
    empty = client.get(f"/constants/{cid}?min_gain=1000000&page=1")
    assert empty.status_code == 200 and "No family matches these filters." in empty.text
    assert client.get(f"/constants/{cid}?min_gain=1000000&page=2").status_code == 404


def test_family_page_lists_members_with_their_relations(client, catalog):
    ids = _ids(client)
    doc = client.get(f"/families/{ids['fid']}?format=json").json()
    fam = doc["family"]
    rep = catalog.get(fam["representative_id"])
    members = doc["members"]
    assert len(members) == fam["members"] == doc["total"]
    assert members[0]["id"] == rep.id  # representative first
    assert {m["family"] for m in members} == {rep.family} and {m["family_id"] for m in members} == {fam["id"]}
    assert members[0]["relation"] == [[1, 0], [0, 1]]  # T_rep = id(T_rep)
    for m in members:  # T(c) = G(T_rep(c)) with an integer G of determinant +-1
        (a, b), (c, d) = m["relation"]
        assert all(isinstance(v, int) for v in (a, b, c, d)) and a * d - b * c in (1, -1)
    html = client.get(f"/families/{ids['fid']}").text
    for m in members:
        assert f'href="/formulas/{m["id"]}"' in html
    assert html.count("<math") >= len(members) + 1
    # pagination of members
    first = client.get(f"/families/{ids['fid']}?format=json&per_page=2").json()
    second = client.get(f"/families/{ids['fid']}?format=json&per_page=2&page=2").json()
    assert [m["id"] for m in first["members"] + second["members"]] == [m["id"] for m in members[:4]]


def test_formula_page(client, catalog):
    ids = _ids(client)
    conj = catalog.get(ids["rid"])
    doc = client.get(f"/formulas/{ids['rid']}?format=json").json()
    assert doc["conjecture"] == json.loads(json.dumps(conj.to_dict()))
    assert doc["gain"] == pytest.approx(conj.digits_per_term / conj.scf_digits_per_term)
    assert doc["family"]["id"] == ids["fid"] and doc["relation"] == [[1, 0], [0, 1]]
    # a representative of e's family carries its tail certificate (DESIGN 8), checked before it was stored
    assert doc["certificate"] == conj.certificate and doc["certificate"]["format"] == "esma-tail-cert/1"
    assert doc["conjecture"]["status"] == "proved" and "Euler" in doc["conjecture"]["status_reason"]
    assert doc["plot"]["digits"] == 300 and doc["plot"]["signed_terms"] > 10 and doc["plot"]["error"] is None
    html = client.get(f"/formulas/{ids['rid']}").text
    assert '<math display="block"' in html and "<mfrac>" in html  # the continued fraction, typeset
    assert html.count("<math") >= 4  # formula, closed form, constant, T(c), relation
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert svg.count("<path") >= 4 and 'class="signed"' in svg and 'class="simple"' in svg
    assert conj.value in html and html_escape(conj.closed_form, quote=False) in html
    assert f'href="/families/{ids["fid"]}"' in html
    assert "\\cfrac" in html  # the LaTeX source, to copy
    # another target of digits is another plot
    more = client.get(f"/formulas/{ids['rid']}?format=json&digits=100").json()
    assert more["plot"]["digits"] == 100 and more["plot"]["signed_terms"] < doc["plot"]["signed_terms"]
    plot = client.get(f"/formulas/{ids['rid']}/plot.svg")
    assert plot.status_code == 200 and plot.headers["content-type"].startswith("image/svg+xml")
    assert plot.text.startswith("<svg")


def test_searches_page(client, catalog):
    doc = client.get("/searches?format=json").json()
    assert [s["id"] for s in doc["searches"]] == [s["id"] for s in catalog.searches()]
    assert {s["constant"] for s in doc["searches"]} == {"e", "tan(1)", "sqrt(2)"}
    html = client.get("/searches").text
    assert "coeff_limit=1" in html and "done" in html


def test_math_font_is_served_from_the_installed_package(client):
    from esma.cli.web.assets import font_bytes

    r = client.get("/assets/math-font.ttf")
    assert r.status_code == 200 and r.headers["content-type"] == "font/ttf"
    assert r.content == font_bytes() and len(r.content) > 100_000
    assert 'src: url("/assets/math-font.ttf")' in client.get("/").text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/constants/{cid}?kind=spiral", "parameter 'kind' must be one of periodic, polynomial"),
        ("/constants/{cid}?status=maybe", "parameter 'status' must be one of"),
        ("/constants/{cid}?sort=random", "parameter 'sort' must be one of rank, gain"),
        ("/constants/{cid}?order=sideways", "parameter 'order' must be one of asc, desc"),
        ("/constants/{cid}?min_gain=fast", "parameter 'min_gain' must be a number"),
        ("/constants/{cid}?min_gain=-1", "parameter 'min_gain' must be a finite number >= 0"),
        ("/constants/{cid}?min_gain=nan", "parameter 'min_gain' must be a finite number >= 0"),
        ("/constants/{cid}?min_digits=1.5", "parameter 'min_digits' must be an integer"),
        ("/constants/{cid}?min_digits=-3", "parameter 'min_digits' must be between 0 and 1000000000"),
        ("/constants/{cid}?page=0", "parameter 'page' must be between 1 and"),
        ("/constants/{cid}?per_page=100000", "parameter 'per_page' must be between 1 and 500"),
        ("/constants/{cid}?colour=red", "unknown parameter 'colour'"),
        ("/families/{fid}?page=x", "parameter 'page' must be an integer"),
        ("/formulas/{rid}?digits=0", "parameter 'digits' must be between 1 and 5000"),
        ("/formulas/{rid}/plot.svg?digits=99999", "parameter 'digits' must be between 1 and 5000"),
        ("/?format=xml", "parameter 'format' must be html or json"),
        ("/searches?constant=e", "unknown parameter 'constant'"),
    ],
)
def test_bad_parameters_get_400_with_a_message(client, url, message):
    url = url.format(**_ids(client))
    html = client.get(url)
    assert html.status_code == 400 and message in unescape(html.text) and "Traceback" not in html.text
    sep = "&" if "?" in url else "?"
    doc = client.get(url + sep + "format=json") if "format=" not in url else client.get(
        url, headers={"Accept": "application/json"})
    if "format=" not in url:
        assert doc.status_code == 400
        assert doc.json()["error"]["status"] == 400 and message in doc.json()["error"]["message"]


@pytest.mark.parametrize(
    "url",
    ["/constants/999999", "/families/999999", "/formulas/999999", "/formulas/999999/plot.svg", "/constants/abc",
     "/formulas/-1", "/families/1e3", "/formulas/99999999999999999999999", "/nowhere"],
)
def test_unknown_ids_get_404(client, url):
    r = client.get(url)
    assert r.status_code == 404 and "Traceback" not in r.text
    assert client.get(url, headers={"Accept": "application/json"}).json()["error"]["status"] == 404


def test_a_write_method_is_not_allowed(client):
    r = client.post("/")
    assert r.status_code == 405 and "Traceback" not in r.text
