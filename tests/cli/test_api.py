"""``esma.Catalog``: the notebook front-end (search, browse, filter, render)."""

from __future__ import annotations

import copy
import pickle

import pytest

import esma
from esma.cli.api import Catalog, ConjectureList, ConjectureView
from esma.records import Conjecture
from esma.render import closed_form_latex, conjecture_latex

SMALL = dict(coeff_limit=1, max_period=2, verify_digits=300)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    cat = esma.Catalog(tmp_path_factory.mktemp("api") / "esma.sqlite")
    yield cat
    cat.close()


@pytest.fixture(scope="module")
def e_found(catalog):
    return catalog.search("e", **SMALL)


@pytest.fixture(scope="module")
def tan_found(catalog, e_found):
    return catalog.search("tan(1/2)", coeff_limit=1, max_period=1, verify_digits=300)


def _one(found, lhs, signs):
    (hit,) = found.filter(lambda c: c.lhs == lhs, signs=signs)
    return hit


def test_esma_catalog_is_the_front_end():
    assert esma.Catalog is Catalog


def test_search_returns_stored_views(e_found):
    assert isinstance(e_found, ConjectureList) and len(e_found) == 36
    assert all(isinstance(c, ConjectureView) and isinstance(c.id, int) for c in e_found)
    s = e_found.summary
    assert s["constant"] == "e" and s["status"] == "done" and s["candidates"] == 48
    assert s["chunks_done"] == s["chunks_total"] > 0


def test_search_resumes_from_the_catalog(catalog, e_found):
    again = catalog.search("e", **SMALL)
    assert [c.id for c in again] == [c.id for c in e_found]
    assert again.summary["id"] == e_found.summary["id"]
    assert again.summary["candidates"] == e_found.summary["candidates"]  # nothing was run twice


def test_search_progress_and_bad_input(catalog):
    calls = []
    catalog.search("e", coeff_limit=1, max_period=1, verify_digits=200, progress=lambda r, d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]
    with pytest.raises(TypeError, match="nonsense"):
        catalog.search("e", nonsense=1)
    with pytest.raises(ValueError):
        catalog.search("e +* 2")
    with pytest.raises(ValueError, match="rational"):
        catalog.search("2/3")


def test_conjectures_and_filters(catalog, e_found, tan_found):
    everything = catalog.conjectures()
    assert {c.constant for c in everything} == {"e", "tan(1/2)"}
    e_only = catalog.conjectures(constant="e")
    assert {c.id for c in e_found} <= {c.id for c in e_only}
    # the expression is normalised as the catalog stores it (spacing does not matter)
    assert [c.id for c in catalog.conjectures(constant="tan( 1 / 2 )")] == [
        c.id for c in everything if c.constant == "tan(1/2)"
    ]
    assert catalog.conjectures(constant="pi") == []
    assert len(catalog.conjectures(kind="polynomial")) == len(everything)
    assert catalog.conjectures(kind="periodic") == []
    assert catalog.conjectures(min_digits=10**6) == []
    top = max(c.verified_digits for c in everything)
    assert all(c.verified_digits >= top for c in catalog.conjectures(min_digits=top))
    assert 0 < len(catalog.conjectures(min_digits=top)) < len(everything)
    with pytest.raises(ValueError, match="kind"):
        catalog.conjectures(kind="polynomials")
    with pytest.raises(ValueError):
        catalog.conjectures(constant="tan(")


def test_get(catalog, e_found):
    c = _one(e_found, "c", "-+")
    got = catalog.get(c.id)
    assert isinstance(got, ConjectureView) and got == c and got.record == c.record
    with pytest.raises(KeyError, match="no conjecture with id 999999"):
        catalog.get(999_999)


def test_view_reads_like_the_record(e_found):
    c = _one(e_found, "c", "-+")
    assert isinstance(c.record, Conjecture)
    assert c.terms[:6] == (3, 3, 2, 5, 2, 7) and c.signs == (-1, 1) and c.signs_text == "-+"
    assert c.closed_form == c.record.closed_form and c.kind == "polynomial"
    assert c.to_dict() == c.record.to_dict()
    assert "closed_form" in dir(c) and "plot" in dir(c)
    with pytest.raises(AttributeError):
        c.lhs = "x"
    with pytest.raises(AttributeError):
        c.no_such_field  # noqa: B018
    with pytest.raises(TypeError):
        ConjectureView({"lhs": "c"})
    assert pickle.loads(pickle.dumps(c)) == c and copy.deepcopy(c) == c


def test_latex_rendering(e_found):
    c = _one(e_found, "c", "-+")
    latex = c._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert r"\cfrac" in latex
    assert conjecture_latex(c.record) in latex  # e = 3 - \cfrac{1}{3 + ...
    assert latex.startswith(r"$$\begin{gathered}e = 3 - \cfrac{1}{3 + \cfrac{1}{2 - ")
    assert closed_form_latex(c.record) in latex and r"a_{2m+1} = 2m + 3" in latex
    assert latex.count(r"\begin{gathered}") == latex.count(r"\end{gathered}") == 1
    # a transform: the closed form and T(c) with the constant in place of c
    coth = _one(e_found, "(c + 1)/(c - 1)", "+")
    assert r"\frac{e + 1}{e - 1} = 2 + \cfrac{1}{6 + " in coth._repr_latex_()
    assert r"a_{n} = 4n + 2" in coth._repr_latex_()


def test_text_rendering(e_found):
    c = _one(e_found, "c", "-+")
    text = repr(c)
    assert text == str(c)
    assert text.startswith(f"#{c.id}\ne = 3 - 1/(3 + 1/(2 - 1/(5 + ")
    assert "a(2m) = 2, a(2m+1) = 2m + 3" in text and "signs      -+ (period 2)" in text


def test_list_rendering(e_found):
    part = e_found.filter(lambda c: (c.lhs, c.signs_text) in (("c", "+"), ("c", "-+"), ("c - 1", "+")))
    assert len(part) == 3, [(c.lhs, c.signs_text) for c in part]
    assert isinstance(part, ConjectureList) and len(part) == 3 and part.summary == e_found.summary
    text = repr(part)
    assert text.splitlines()[0] == "3 conjectures"
    assert "closed form" in text.splitlines()[1] and all(str(c.id) in text for c in part)
    page = part._repr_html_()
    assert page.count("<tr>") == 4 and "<table>" in page and "$e$" in page and r"a_{3m+2} = 2m + 2" in page
    assert repr(ConjectureList()) == "(no conjectures)"
    assert part.records == [c.record for c in part]


def test_list_shows_expressions_as_written_by_hand(tan_found):
    # DESIGN 10: the constant and T(c) of the table as a mathematician writes them, in the text and the HTML
    part = tan_found.filter(lambda c: c.lhs in ("1/c", "(c + 1)/(c - 1)", "2*c + 1"))
    assert part, [c.lhs for c in tan_found]
    text = repr(part)
    assert "tan(1/2)" in text and "tan(1/2))" not in text and "((" not in text and "*" not in text.split("\n", 2)[2]
    assert any(c.lhs == "1/c" for c in part) == (" 1/c " in text)
    page = part._repr_html_()
    assert r"\tan\left(\frac{1}{2}\right)" in page and r"\left(\tan" not in page


def test_list_filters(e_found):
    faster = e_found.filter(faster=True)
    slower = e_found.filter(faster=False)
    assert len(faster) + len(slower) == len(e_found) and faster and slower
    assert all(c.digits_per_term > c.scf_digits_per_term for c in faster)
    assert {c.signs_text for c in e_found.filter(kind="polynomial", signs="+")} == {"+"}
    assert e_found.filter(min_digits=10**6) == []


def test_convergence_and_plot(e_found, tmp_path):
    from matplotlib.figure import Figure

    c = _one(e_found, "c", "-+")
    conv = c.convergence(100)
    assert conv.speedup > 1.4 and conv.signed[-1] >= 100
    fig = c.plot(100)
    assert isinstance(fig, Figure)
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "signed (signs -+)"
    path = c.save_plot(tmp_path / "e.png", 100)
    assert (tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.endswith("e.png")


def test_catalog_bookkeeping(catalog, e_found, tan_found):
    assert repr(catalog).startswith("esma.Catalog('sqlite:///")
    assert {row["text"] for row in catalog.constants()} == {"e", "tan(1/2)"}
    assert [s["constant"] for s in catalog.searches(constant="tan(1/2)")] == ["tan(1/2)"]
    assert catalog.db.get(e_found[0].id) == e_found[0].record


def test_context_manager(tmp_path):
    with Catalog(tmp_path / "x.sqlite") as cat:
        assert cat.conjectures() == [] and cat.url.endswith("x.sqlite")
