"""Terminal rows (issue 17): one row per family or formula, at most 3 lines of the terminal's width, never cut
inside a term, one ellipsis; the full texts stay in ``esma show`` and ``--json``.

The searches of tan(1) and e with their default options run once (module fixture); the tests read them back at
several widths (a finished search is reported from the catalog).  A row is checked against the catalog's JSON
records, independently of the row's code: the fraction's numbers are the representative's first terms, and each
polynomial of the compact closed form, evaluated at m, gives the stored terms a(Nm + j).
"""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest

from esma.cli import output
from esma.records import Conjecture
from esma.render import lhs_text

WIDTHS = (80, 100, 160)


@pytest.fixture(scope="module")
def default_searches(tmp_path_factory, esma_run):
    """``esma search "tan(1)"`` and ``esma search e`` with their defaults, each in its own catalog, at 80 columns
    (the first run's output is checked too: it is what a user sees)."""
    out = {}
    for expr in ("tan(1)", "e"):
        db = tmp_path_factory.mktemp("rows") / "c.sqlite"
        res = esma_run("search", expr, "--db", db, env={"COLUMNS": "80"}, timeout=600)
        assert res.code == 0, res.stderr
        reps = json.loads(esma_run("list", "--representatives", "--json", "--db", db).stdout)["conjectures"]
        fams = json.loads(esma_run("families", "--json", "--db", db).stdout)["families"]
        out[expr] = (db, res, {r["id"]: r for r in reps}, fams)
    return out


def _rows(stdout: str) -> list[list[str]]:
    """The rows of a ranked table: each begins with ``<rank>. `` (the title and the pointer are not rows)."""
    rows: list[list[str]] = []
    for line in stdout.splitlines():
        if re.match(r"\s*\d+\. ", line):
            rows.append([line])
        elif rows and line.startswith(output.INDENT):
            rows[-1].append(line)
    return rows


def _poly_at(text: str, m: int) -> Fraction:
    """A compact polynomial of the closed form (``48m+20``, ``-m^2+3``, ``(3m+1)/2``, ``2n+1``) at ``m``, read
    here by its own small parser (not the code that wrote it)."""
    den = 1
    found = re.fullmatch(r"\((.*)\)/(\d+)", text)
    if found:
        text, den = found.group(1), int(found.group(2))
    total = Fraction(0)
    for sign, coef, var, power in re.findall(r"([+-]?)(\d*)([mn]?)(?:\^(\d+))?", text):
        if not coef and not var:
            continue
        value = Fraction(int(coef) if coef else 1)
        if var:
            value *= Fraction(m) ** (int(power) if power else 1)
        total += -value if sign == "-" else value
    return total / den


def _check_row(row: list[str], rec: dict, width: int) -> None:
    assert 1 <= len(row) <= 3, row
    assert all(len(line) <= width for line in row), row
    conj = Conjecture.from_dict(rec)
    head = row[0]
    lhs = f"{lhs_text(conj)} = "
    assert lhs in head, (lhs, head)
    fraction = head.split(lhs, 1)[1].split("  [", 1)[0]
    # whole terms only: the fraction ends with the ellipsis and its closing parentheses
    assert re.fullmatch(r".*… ?\)*", fraction) and fraction.count("(") == fraction.count(")"), fraction
    numbers = [int(x) for x in re.findall(r"-?\d+", fraction)]
    shown = numbers[0::2]
    assert shown == list(rec["terms"][: len(shown)]) and all(b == 1 for b in numbers[1::2]), (fraction, rec["terms"])
    text = " ".join(row)
    assert f"[{rec['signs_text']}]" in text
    assert "..." not in text  # one ellipsis style
    if not rec["polynomials"]:  # a recurrence: its text, cut at a term
        shown = text.split("]  ", 1)[1].split("  ", 1)[0].removesuffix(" …")
        assert shown and rec["closed_form"].replace(">=", "≥").startswith(shown), (shown, rec["closed_form"])
        return
    found = re.search(r"a\((n|\d+m\+j)\) = (.*?)(?: \((period \d+)?(?:, )?(n ≥ (\d+))?\))?(?:  |$)", text)
    assert found, text
    values = [v for v in found.group(2).split(", ") if v != "…"]
    period = len(rec["polynomials"])
    start = int(found.group(5) or 0)
    assert values and len(values) <= period
    for j, value in enumerate(values):
        for n in range(max(start, j), len(rec["terms"]), period):
            if n % period == j:
                assert _poly_at(value, n // period) == rec["terms"][n], (value, n, rec["terms"][n])


@pytest.mark.parametrize("expr", ["tan(1)", "e"])
def test_at_80_columns_no_line_is_longer_than_80(default_searches, expr):
    _, res, reps, fams = default_searches[expr]
    for line in res.stdout.splitlines() + res.stderr.splitlines():
        assert len(line) <= 80, line
    rows = _rows(res.stdout)
    assert len(rows) == min(40, len(fams))  # --limit 40 by default
    by_rank = {f["rank"]: f for f in fams}
    for row in rows:
        fam = by_rank[int(row[0].split(".")[0])]
        _check_row(row, reps[fam["representative_id"]], 80)
        assert row[-1].endswith(f"F{fam['id']} #{fam['representative_id']}"), row


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("expr", ["tan(1)", "e"])
def test_rows_at_any_width_never_break_a_term(default_searches, esma_run, expr, width):
    db, _, reps, fams = default_searches[expr]
    res = esma_run("search", expr, "--db", db, env={"COLUMNS": str(width)})
    assert res.code == 0, res.stderr
    for line in res.stdout.splitlines() + res.stderr.splitlines():
        assert len(line) <= width, line
    by_rank = {f["rank"]: f for f in fams}
    rows = _rows(res.stdout)
    assert rows
    for row in rows:
        _check_row(row, reps[by_rank[int(row[0].split(".")[0])]["representative_id"]], width)
    if width >= 160:  # wide: some rows fit on one line
        assert any(len(row) == 1 for row in rows)
    families = esma_run("families", "--limit", "10", "--db", db, env={"COLUMNS": str(width)})
    assert families.code == 0 and len(_rows(families.stdout)) == 10
    assert all(len(line) <= width for line in families.stdout.splitlines())


def test_list_rows_limit_and_family_ids(default_searches, esma_run):
    db, _, _, fams = default_searches["tan(1)"]
    fam = max(fams, key=lambda f: f["members"])
    members = json.loads(esma_run("list", "--family", fam["key"], "--json", "--db", db).stdout)["conjectures"]
    assert len(members) == fam["members"] > 3
    # the id esma families shows (F<id>), the bare number and the key select the same formulas
    for given in (f"F{fam['id']}", str(fam["id"]), f"f{fam['id']}"):
        res = esma_run("list", "--family", given, "--json", "--db", db)
        assert res.code == 0, res.stderr
        assert json.loads(res.stdout)["conjectures"] == members
    text = esma_run("list", "--family", f"F{fam['id']}", "--limit", "3", "--db", db, env={"COLUMNS": "80"})
    assert text.code == 0, text.stderr
    heads = [line for line in text.stdout.splitlines() if line.startswith("#")]
    assert [int(h.split()[0][1:]) for h in heads] == [m["id"] for m in members[:3]]
    assert all(len(line) <= 80 for line in text.stdout.splitlines())
    assert f"· F{fam['id']}" in text.stdout and "the first 3 formulas" in text.stdout
    limited = json.loads(esma_run("list", "--limit", "2", "--json", "--db", db).stdout)["conjectures"]
    assert len(limited) == 2
    # an unknown family id: one line, exit 2; a key that matches nothing: no formula, exit 0
    missing = max(f["id"] for f in fams) + 1000
    bad = esma_run("list", "--family", f"F{missing}", "--db", db)
    assert bad.code == 2 and bad.stderr.count("\n") == 1 and f"no family F{missing}" in bad.stderr
    none = esma_run("list", "--family", "9|+1", "--db", db)
    assert none.code == 0 and "no formula matches" in none.stderr and "conjecture" not in none.stderr


def test_show_writes_family_ids_apart_from_formula_ids(default_searches, esma_run):
    db, _, _, fams = default_searches["tan(1)"]
    fam = next(f for f in fams if f["members"] > 1)
    res = esma_run("show", fam["representative_id"], "--db", db)
    assert res.code == 0, res.stderr
    assert f"family     F{fam['id']} rank {fam['rank']}" in res.stdout
    assert not re.search(rf"family\s+#{fam['id']}\b", res.stdout)
    missing = esma_run("show", 999999, "--db", db)
    assert missing.code == 2 and "no formula with id 999999" in missing.stderr


def test_a_literal_that_stores_nothing_says_why(esma_run, tmp_path):
    """25 digits of e: hits, but too few digits to approve them; one message says so, with the depth its digits
    allow and what to try, and the summary does not claim approvals passed."""
    # a short catalog path (in the scratch working directory): a long one is a word no line can break
    db = "lit25.sqlite"
    res = esma_run("search", "2.718281828459045235360287", "--max-period", "2", "--db", db, env={"COLUMNS": "80"})
    assert res.code == 0, res.stderr
    assert res.stdout.strip() == "No formula for 2.718281828459045235360287."
    err = " ".join(line.removeprefix("esma:").strip() for line in res.stderr.splitlines())
    assert "approved numerically" not in err and "0 formulas in 0 families" not in err
    assert re.search(r"stored no formula: \d+ numerical approvals? run, none passed", err), err
    assert "the literal carries 25 digits, an approval needs 50" in err
    assert "they certify 27 terms per candidate: quasi-periods up to about 5" in err
    assert "try 60 digits or more" in err
    assert all(len(line) <= 80 for line in res.stderr.splitlines()), res.stderr
    # what it says to try works: 60 digits of e store formulas
    sixty = "2.71828182845904523536028747135266249775724709369995957496697"
    more = esma_run("search", sixty, "--max-period", "2", "--json", "--db", tmp_path / "m.sqlite")
    assert more.code == 0 and json.loads(more.stdout)["search"]["conjectures"] > 0


# ------------------------------------------------------------------------------------------------ units


def test_clip_cuts_at_a_space_and_marks_it():
    text = "a(n) = 2*a(n-1) + a(n-2) for n >= 2"
    for room in range(2, len(text) + 3):
        cut = output.clip(text, room)
        assert len(cut) <= room
        if cut == "…":  # no word fits
            assert " " not in text[: room - 1]
        elif cut != text:
            assert cut.endswith(" …") and text.startswith(cut[:-2])
            assert text[len(cut) - 2] == " "  # the cut fell on a space, not inside a term


def test_compact_closed_form_lists_polynomials_then_period_and_start():
    polys = (("1",), ("20", "48"), ("2", "3"), ("4",))
    c = Conjecture("tan(1)", "c", (0, 1), (1,), "", (1,), 2, (2, 19), (), "a(4m) = 1, ... for n >= 2; a(0) = 2",
                   "polynomial", 0, 0.0, 0.0, polynomials=polys)
    assert output.closed_form_compact(c) == "a(4m+j) = 1, 48m+20, 3m+2, 4 (period 4, n ≥ 2)"
    assert output.closed_form_compact(c, 40) == "a(4m+j) = 1, 48m+20, … (period 4, n ≥ 2)"
    assert output.closed_form_compact(c, 39) == "a(4m+j) = 1, … (period 4, n ≥ 2)"
    for room in range(10, 60):
        assert len(output.closed_form_compact(c, room)) <= room
