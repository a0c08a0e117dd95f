"""``esma export``: JSON with provenance, CSV that parses, and a LaTeX document that parses (one formula per
family by default, every formula with ``--all``).

The catalog holds the tan(1) search plus a small e search, so the exports cover two constants.  Every export
lists formulas ranked: by constant, then family rank, each family's representative first.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest

pylatexenc = pytest.importorskip("pylatexenc", reason="pylatexenc is in the 'test' extra")
from pylatexenc.latexwalker import (  # noqa: E402
    LatexEnvironmentNode,
    LatexMacroNode,
    LatexWalker,
)

import esma  # noqa: E402

CSV_COLUMNS = {
    "id",
    "constant",
    "lhs",
    "signs",
    "kind",
    "closed_form",
    "preperiod",
    "recurrence",
    "terms",
    "verified_digits",
    "digits_per_term",
    "scf_digits_per_term",
    "gain",
    "status",
    "family",
    "representative",
    "relation",
    "value",
}
E_SMALL = ["search", "e", "--coeff-limit", "1", "--max-period", "1", "--verify-digits", "300", "--executor", "serial"]


@pytest.fixture(scope="module")
def catalog(tan_search, copy_db, esma_run, tmp_path_factory):
    """A copy of the tan(1) catalog, in a folder whose name needs LaTeX escaping, plus an e search."""
    folder = tmp_path_factory.mktemp("ex_port")
    odd = folder / "cat_#1 50%&co"
    odd.mkdir()
    db = copy_db(tan_search.db, odd / "c_at.sqlite")
    res = esma_run(*E_SMALL, "--db", db)
    assert res.code == 0, res.stderr
    return db


@pytest.fixture(scope="module")
def records(catalog):
    from esma.db import Catalog

    with Catalog(str(catalog)) as cat:
        rows = cat.conjectures(ranked=True)
    assert {c.constant for c in rows} == {"e", "tan(1)"}
    return rows


@pytest.fixture(scope="module")
def representatives(records):
    reps = [c for c in records if c.representative]
    assert 0 < len(reps) < len(records)
    return reps


def export(esma_main, catalog, *args):
    res = esma_main("export", *args, "--db", catalog)
    assert res.code == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stdout


# ------------------------------------------------------------------------------------------------ JSON


def test_json_export_has_provenance_and_every_conjecture(esma_main, catalog, records):
    doc = json.loads(export(esma_main, catalog, "--format", "json"))
    assert doc["esma_version"] == esma.__version__
    stamp = datetime.fromisoformat(doc["exported_at"])
    assert stamp.tzinfo is not None
    assert str(catalog) in doc["catalog"]
    searches = {s["constant"]: s for s in doc["searches"]}
    assert set(searches) == {"e", "tan(1)"}
    assert searches["tan(1)"]["params"]["max_period"] == 3
    assert searches["tan(1)"]["params"]["coeff_limit"] == 1
    assert searches["e"]["params"]["verify_digits"] == 300
    for s in searches.values():
        assert s["status"] == "done" and s["esma_version"] == esma.__version__
    assert doc["conjectures"] == [c.to_dict() for c in records]
    families = doc["families"]
    assert len(families) == len({(c.constant, c.family) for c in records})
    assert sum(f["members"] for f in families) == len(records)
    assert [f["rank"] for f in families if f["constant"] == "e"] == list(
        range(1, 1 + sum(1 for f in families if f["constant"] == "e")))


def test_json_export_of_one_constant(esma_main, catalog, records):
    doc = json.loads(export(esma_main, catalog, "--constant", " ( e ) "))
    assert [s["constant"] for s in doc["searches"]] == ["e"]
    assert doc["conjectures"] == [c.to_dict() for c in records if c.constant == "e"]
    doc = json.loads(export(esma_main, catalog, "--constant", "tan( 1 )"))
    assert [s["constant"] for s in doc["searches"]] == ["tan(1)"]
    assert doc["conjectures"] == [c.to_dict() for c in records if c.constant == "tan(1)"]


def test_constant_filter_matches_the_searched_text(esma_main, catalog, records):
    """--constant matches the canonical text the search stored (documented as such): exp(1) is another search."""
    res = esma_main("list", "--json", "--constant", "exp(1)", "--db", catalog)
    assert res.code == 0
    assert json.loads(res.stdout)["conjectures"] == []
    assert "as searched" in esma_main("list", "--help").stdout


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_export(esma_main, catalog, records):
    text = export(esma_main, catalog, "--format", "csv")
    reader = csv.DictReader(io.StringIO(text))
    assert set(reader.fieldnames) >= CSV_COLUMNS
    rows = list(reader)
    assert len(rows) == len(records)
    for row, c in zip(rows, records, strict=True):
        assert int(row["id"]) == c.id
        assert row["constant"] == c.constant and row["lhs"] == c.lhs
        assert row["closed_form"] == c.closed_form  # contains commas: quoting must hold
        assert [int(t) for t in row["terms"].split()] == list(c.terms)
        assert [int(t) for t in row["recurrence"].split()] == list(c.recurrence)
        assert int(row["preperiod"]) == c.preperiod
        assert int(row["verified_digits"]) == c.verified_digits
        assert float(row["digits_per_term"]) == pytest.approx(c.digits_per_term)
        assert row["signs"] == c.signs_text and set(row["signs"]) <= {"+", "-"}
        assert row["value"] == c.value and row["status"] == c.status
        assert row["family"] == c.family and int(row["representative"]) == int(c.representative)
        assert tuple(int(v) for v in row["relation"].split()) == c.relation
        assert float(row["gain"]) == pytest.approx(c.gain)


# ------------------------------------------------------------------------------------------------ LaTeX


def walk(nodes):
    for n in nodes or ():
        yield n
        for child in (getattr(n, "nodelist", None),):
            yield from walk(child)
        argd = getattr(n, "nodeargd", None)
        if argd is not None and getattr(argd, "argnlist", None):
            yield from walk([a for a in argd.argnlist if a is not None])


def unescaped_braces(text):
    """Depth check of { } that are not \\{ \\}: returns (never negative, balanced at the end)."""
    depth, ok = 0, True
    for m in re.finditer(r"\\.|[{}]", text, flags=re.S):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            ok = ok and depth >= 0
    return ok, depth == 0


def cf_chain(body):
    """The terms and signs of ``a0 ± \\cfrac{1}{a1 ± \\cfrac{1}{...}}`` on the right of '='."""
    rhs = body.split("=", 1)[1]
    pairs = re.findall(r"(-?\d+)\s*([+-])\s*\\cfrac\{\s*1\s*\}\{", rhs)
    return [int(a) for a, _ in pairs], [1 if s == "+" else -1 for _, s in pairs]


def _latex_export(catalog, folder, *extra):
    from esma.cli.main import main

    out = folder / "formulas.tex"
    try:
        main(["export", "--format", "latex", *extra, "--output", str(out), "--db", str(catalog)])
    except SystemExit as exc:
        assert exc.code == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def latex(catalog, tmp_path_factory):
    return _latex_export(catalog, tmp_path_factory.mktemp("tex"))


@pytest.fixture(scope="module")
def latex_all(catalog, tmp_path_factory):
    return _latex_export(catalog, tmp_path_factory.mktemp("tex_all"), "--all")


def test_latex_document_parses(latex):
    nodes, _, _ = LatexWalker(latex, tolerant_parsing=False).get_latex_nodes()
    assert nodes
    assert latex.lstrip().startswith(r"\documentclass")
    assert latex.count(r"\begin{document}") == 1 and latex.count(r"\end{document}") == 1
    assert latex.index(r"\begin{document}") < latex.index(r"\end{document}")
    assert latex.rstrip().endswith(r"\end{document}")
    never_negative, balanced = unescaped_braces(latex)
    assert never_negative and balanced
    docs = [n for n in walk(nodes) if isinstance(n, LatexEnvironmentNode) and n.environmentname == "document"]
    assert len(docs) == 1


def test_latex_escapes_the_catalog_path(latex, catalog):
    assert r"cat\_\#1 50\%\&co" in latex
    assert "c_at.sqlite" not in latex and r"c\_at.sqlite" in latex


def _check_equations(latex, records):
    nodes, _, _ = LatexWalker(latex, tolerant_parsing=False).get_latex_nodes()
    equations = [n for n in walk(nodes) if isinstance(n, LatexEnvironmentNode) and n.environmentname == "equation*"]
    assert len(equations) == len(records)
    for env, c in zip(equations, records, strict=True):
        body = env.latex_verbatim()
        body = body[len(r"\begin{equation*}") : -len(r"\end{equation*}")]
        assert any(isinstance(n, LatexMacroNode) and n.macroname == "cfrac" for n in walk(env.nodelist)), c.id
        terms, signs = cf_chain(body)
        assert len(terms) >= 3, (c.id, body)
        assert terms == list(c.terms[: len(terms)]), (c.id, body)
        assert signs == [c.signs[n % len(c.signs)] for n in range(len(signs))], (c.id, body)
        never_negative, balanced = unescaped_braces(body)
        assert never_negative and balanced, body
    sections = [n for n in walk(nodes) if isinstance(n, LatexMacroNode) and n.macroname == "section"]
    titles = [n.nodeargd.argnlist[-1].latex_verbatim() for n in sections]
    assert sum(t.startswith("{$c = ") for t in titles) == 2, f"one section per constant: {titles}"
    assert titles[-1] == "{Theorems used}", "the theorems the proofs start from, with their references"


def test_latex_has_one_formula_per_family_ranked(latex, representatives, records):
    _check_equations(latex, representatives)
    # each family says how many formulas it stands for, and whether its formula is proved or a conjecture
    for c in representatives:
        members = sum(1 for r in records if r.constant == c.constant and r.family == c.family)
        noun = "formula" if members == 1 else "formulas"
        status = "proved from " if c.status == "proved" else "conjecture (approved numerically)"
        pattern = r"\\paragraph\{Formula \\#" + str(c.id) + r"\} \(family \d+, ([\d,]+) (\w+)[^)]*\); (.*)"
        head = re.search(pattern, latex)
        assert head, c.id
        assert (int(head.group(1).replace(",", "")), head.group(2)) == (members, noun)
        assert head.group(3).startswith(status), head.group(3)
    assert latex.count(r"\paragraph{Formula \#") == len(representatives)
    assert r"\paragraph{Theorem}" not in latex and r"\paragraph{Conjecture}" not in latex  # DESIGN 10: formulas


def test_latex_all_has_every_formula(latex_all, records):
    _check_equations(latex_all, records)
    assert "Every formula is listed" in latex_all


def test_latex_stdout_matches_file(esma_main, catalog, latex):
    text = export(esma_main, catalog, "--format", "latex")
    # only the export date may differ between the two runs
    strip = lambda s: re.sub(r"\\date\{[^}]*\}", "", s)  # noqa: E731
    assert strip(text) == strip(latex)


# ------------------------------------------------------------------------------------------------ --output


@pytest.mark.parametrize("fmt", ["json", "csv", "latex"])
def test_output_file_and_quiet_stdout(esma_main, catalog, records, representatives, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    res = esma_main("export", "--format", fmt, "--output", out, "--db", catalog)
    assert res.code == 0, res.stderr
    assert res.stdout == ""
    shown = representatives if fmt == "latex" else records
    assert str(len(shown)) in res.stderr and str(out) in res.stderr
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    if fmt == "json":
        assert len(json.loads(text)["conjectures"]) == len(records)
    elif fmt == "csv":
        assert text == export(esma_main, catalog, "--format", "csv")
    else:
        assert text.count(r"\begin{equation*}") == len(representatives)


def test_export_of_an_empty_catalog(esma_main, tmp_path):
    db = tmp_path / "empty.sqlite"
    doc = json.loads(export(esma_main, db, "--format", "json"))
    assert doc["conjectures"] == [] and doc["searches"] == []
    rows = list(csv.DictReader(io.StringIO(export(esma_main, db, "--format", "csv"))))
    assert rows == []
    tex = export(esma_main, db, "--format", "latex")
    LatexWalker(tex, tolerant_parsing=False).get_latex_nodes()
    assert r"\end{document}" in tex and r"\begin{equation*}" not in tex
