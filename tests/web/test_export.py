"""``esma export --format html``: one self-contained file (MathML, SVG and the font inline); and the pieces it is
made of: the MathML sanitizer, the font subset, the SVG plot and its cache."""

from __future__ import annotations

import base64
import re
from html import escape, unescape

import pytest
from web_helpers import run_esma


@pytest.fixture(scope="module")
def export(web_catalog, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "catalog.html"
    res = run_esma("export", "--format", "html", "--db", str(web_catalog), "--output", str(out),
                   cwd=out.parent)
    assert res.returncode == 0, res.stderr
    assert "wrote" in res.stderr and str(out) in res.stderr
    return out


def test_export_has_every_family_and_each_representative(export, catalog):
    html = export.read_text(encoding="utf-8")
    formulas = catalog.conjectures()
    families = {f.id: f for f in catalog.families()}
    assert {f.family_id for f in formulas} == set(families)
    found = [int(i) for i in re.findall(r'<section id="family-(\d+)"', html)]
    assert sorted(found) == sorted(families)
    sections = {int(i) for i in re.findall(r'<section id="formula-(\d+)"', html)}
    assert sections == {f.representative_id for f in families.values()}  # one representative per family
    for fid in found:  # each family is linked from its constant's list
        assert f'href="#family-{fid}"' in html
    for c in catalog.constants_overview():
        assert f'<section id="constant-{c["id"]}"' in html and f'href="#constant-{c["id"]}"' in html
    # every in-page link points at a section of the file
    anchors = set(re.findall(r'id="([^"]+)"', html))
    for target in re.findall(r'href="#([^"]+)"', html):
        assert target in anchors, target


def test_export_is_self_contained(export):
    html = export.read_text(encoding="utf-8")
    # no request: nothing to fetch from anywhere (namespaces are names, not requests)
    urls = set(re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", html))
    assert all(u.startswith("#") for u in urls), urls
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "default-src 'none'" in html  # and the page forbids itself any load but its own data: font
    font = re.search(r'url\("data:font/ttf;base64,([A-Za-z0-9+/=]+)"\)', html)
    assert font is not None
    data = base64.b64decode(font.group(1))
    assert 5_000 < len(data) < 300_000  # a subset of the font, not 1.5 MB
    import io

    from fontTools.ttLib import TTFont

    tt = TTFont(io.BytesIO(data))
    assert "MATH" in tt  # the table the browser lays out fractions with
    cmap = tt.getBestCmap()
    assert all(ord(ch) in cmap for ch in "0123456789+=⋯")
    sections = html.count('<section id="formula-')
    assert html.count("<svg") == html.count('<figure class="plot"><svg') == sections > 0  # a plot per formula
    assert "esma " in html and "exported " in html  # provenance


def test_export_all_has_every_formula(web_catalog, tmp_path, catalog):
    out = tmp_path / "all.html"
    res = run_esma("export", "--format", "html", "--all", "--constant", "e", "--db", str(web_catalog),
                   "--output", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    html = out.read_text(encoding="utf-8")
    ids = {int(i) for i in re.findall(r'<section id="formula-(\d+)"', html)}
    assert ids == {c.id for c in catalog.conjectures(constant="e")}
    assert "tan(1)" not in html.split('id="searches"')[0]  # --constant keeps one constant


def test_a_large_catalog_gives_sections_to_its_first_families_and_lists_the_others(web_catalog, tmp_path, catalog):
    """Past ``families_shown`` families a constant's families are rows of text (no MathML, no section), and a
    family lists at most ``members_shown`` members with a line saying how to list them all."""
    from esma.cli.web.commands import export_html

    ranked = catalog.families("e")
    first, rest = ranked[:2], ranked[2:]
    assert rest and any(f.members > 1 for f in first)  # the catalog exercises both limits
    out = tmp_path / "cut.html"
    stats = export_html(str(web_catalog), out, constant="e", families_shown=2, members_shown=1)
    html = out.read_text(encoding="utf-8")
    assert (stats.families, stats.formulas) == (len(ranked), 2)
    assert [int(i) for i in re.findall(r'<section id="family-(\d+)"', html)] == [f.id for f in first]
    assert {int(i) for i in re.findall(r'<section id="formula-(\d+)"', html)} == {f.representative_id for f in first}
    table = html.split('<table class="families">')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == len(ranked)
    for f, row in zip(ranked, rows, strict=True):
        if f in first:
            assert f'<a href="#family-{f.id}">F{f.id}</a>' in row and "<math" in row
        else:  # a row of text: the family's id (not a link: it has no section), formula and closed form
            assert f"<td>F{f.id}</td>" in row and "<math" not in row and "href" not in row
            assert f"<code>{escape(f.lhs)} = " in row
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert f"the other {len(rest)} are listed here as text" in text
    for f in first:
        if f.members > 1:
            assert f"{f.members} members, the representative first; the first 1 here." in text
            assert f"esma list --family F{f.id} lists them all" in text
    anchors = set(re.findall(r'id="([^"]+)"', html))
    assert all(target in anchors for target in re.findall(r'href="#([^"]+)"', html))
    # a section is laid out only when it is scrolled to: what makes a large file open in seconds
    assert "section.export-page { content-visibility: auto;" in html


def test_export_bad_input(web_catalog, tmp_path):
    res = run_esma("export", "--format", "html", "--db", str(web_catalog), "--output", str(tmp_path / "no" / "x.html"),
                   cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "no directory" in res.stderr
    res = run_esma("export", "--format", "html", "--db", str(web_catalog), "--constant", "pi", cwd=tmp_path)
    assert res.returncode == 2 and "no constant 'pi'" in res.stderr


def test_export_to_stdout(web_catalog, tmp_path):
    res = run_esma("export", "--format", "html", "--db", str(web_catalog), "--constant", "sqrt(2)", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("<!doctype html>") and res.stdout.rstrip().endswith("</html>")


def test_mathml_sanitizer_keeps_layout_and_drops_links_and_markup():
    from esma.cli.web.mathml import to_mathml

    linked = str(to_mathml(r"\href{javascript:alert(1)}{x} + \frac{1}{2}"))
    assert "<mfrac>" in linked and "href" not in linked and "javascript" not in linked
    markup = str(to_mathml(r"\text{<b>bold</b>}"))
    assert markup.startswith('<code class="latex">') and "&lt;b&gt;" in markup
    assert str(to_mathml(r"\cfrac{1}{2 + \dotsb}", display=True)).startswith('<math display="block"')
    assert str(to_mathml(r"\unknowncommand{")).startswith('<code class="latex">')


def test_plot_svg_and_cache(catalog):
    from esma.cli.web.svgplot import PlotCache, draw_plot

    conj = catalog.conjectures(constant="e")[0]
    plot = draw_plot(conj, 100, conj.lhs)
    assert plot.error == "" and plot.digits == 100 and plot.signed_terms is not None
    svg = str(plot.svg)
    assert svg.startswith("<svg") and svg.count("<path") >= 4 and len(svg) < 30_000
    cache = PlotCache(size=2)
    calls = []

    def make(k):
        return lambda: calls.append(k) or plot

    for key in [(1, 1), (2, 1), (1, 1), (3, 1), (2, 1)]:
        cache.get(key, make(key))
    assert calls == [(1, 1), (2, 1), (3, 1), (2, 1)] and len(cache) == 2  # (2, 1) fell out, (1, 1) was kept fresh


def test_a_record_that_breaks_its_recurrence_has_no_plot_but_a_reason(catalog):
    from dataclasses import replace

    from esma.cli.web.svgplot import draw_plot

    conj = catalog.conjectures(constant="e")[0]
    broken = replace(conj, terms=(conj.terms[0] + 1, *conj.terms[1:]))
    plot = draw_plot(broken, 100, "x")
    assert plot.svg is None and plot.error.startswith("no convergence plot:")
