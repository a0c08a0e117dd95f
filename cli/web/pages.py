"""The pages' contents: what each page shows, built from the catalog for the server and the export alike.

Each ``*_page`` function returns a :class:`Page`: the template to render, its context, and the JSON document
served at the same URL.  Links go through a :class:`Links` object: the server links to URLs
(``/families/12``), the one-file export to anchors in the same file (``#family-12``).  Formulas are typeset
here (LaTeX from :mod:`esma.render`, MathML from :mod:`esma.cli.web.mathml`), so the templates only place
safe markup and escape everything else.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from esma.cli.web.mathml import to_mathml
from esma.cli.web.source import FAMILY_MEANING, FamilyFilters, FamilyRow, Matrix, Source, certificate, relation
from esma.cli.web.svgplot import Plot, PlotCache, draw_plot
from esma.records import Conjecture, Family

__all__ = [
    "DEFAULT_PLOT_DIGITS",
    "ExportLinks",
    "Links",
    "Page",
    "ServeLinks",
    "certificate_html",
    "closed_form_parts",
    "constant_page",
    "family_json",
    "family_page",
    "formula_math",
    "formula_page",
    "home_page",
    "matrix_math",
    "relation_math",
    "searches_page",
]

DEFAULT_PLOT_DIGITS = 300


@dataclass(frozen=True)
class Page:
    """A page: its template, the template's context, its JSON document and its title."""

    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


class Links:
    """Where the pages link to (the server's URLs; :class:`ExportLinks` for the one-file export)."""

    def home(self) -> str:
        return "/"

    def constant(self, constant_id: int, query: Mapping[str, Any] | None = None) -> str:
        q = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        return f"/constants/{int(constant_id)}" + (f"?{urlencode(q)}" if q else "")

    def family(self, family_id: int, query: Mapping[str, Any] | None = None) -> str:
        q = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        return f"/families/{int(family_id)}" + (f"?{urlencode(q)}" if q else "")

    def formula(self, conjecture_id: int) -> str:
        return f"/formulas/{int(conjecture_id)}"

    def searches(self) -> str:
        return "/searches"

    def has_formula(self, conjecture_id: int) -> bool:
        return True


ServeLinks = Links


class ExportLinks(Links):
    """Anchors inside the one-file export; a formula without a section of its own links to its family."""

    def __init__(self, formulas: set[int] | None = None) -> None:
        self.formulas = formulas

    def home(self) -> str:
        return "#constants"

    def constant(self, constant_id: int, query: Mapping[str, Any] | None = None) -> str:
        return f"#constant-{int(constant_id)}"

    def family(self, family_id: int, query: Mapping[str, Any] | None = None) -> str:
        return f"#family-{int(family_id)}"

    def formula(self, conjecture_id: int) -> str:
        return f"#formula-{int(conjecture_id)}"

    def searches(self) -> str:
        return "#searches"

    def has_formula(self, conjecture_id: int) -> bool:
        return self.formulas is None or int(conjecture_id) in self.formulas


# -- typesetting ---------------------------------------------------------------------------------------


def plain_lhs(conj: Conjecture) -> str:
    from esma.render import lhs_text

    try:
        return lhs_text(conj)  # as a mathematician writes it: 1/tan 1 (DESIGN 10)
    except (ValueError, TypeError, RecursionError):  # a constant outside the grammar: its stored text
        const = conj.constant
        return const if conj.lhs == "c" else conj.lhs.replace("c", const if const.isidentifier() else f"({const})")


def formula_math(conj: Conjecture, count: int = 6, display: bool = True) -> Markup:
    """T(c) = its continued fraction, as MathML (the text form, escaped, when it cannot be typeset)."""
    from esma.render import cf_text, conjecture_latex

    try:
        return to_mathml(conjecture_latex(conj, count), display)
    except Exception:  # a constant outside the grammar (a doctored catalog): its text, escaped, still reads
        try:
            text = f"{plain_lhs(conj)} = {cf_text(conj.terms, conj.signs, count)}"
        except Exception:
            text = f"{conj.lhs} ({conj.constant})"
        return Markup('<code class="latex">{}</code>').format(text)


def closed_form_math(conj: Conjecture) -> Markup:
    from esma.render import closed_form_latex

    try:
        return to_mathml(closed_form_latex(conj))
    except Exception:
        return Markup('<code class="latex">{}</code>').format(conj.closed_form)


_MATH = '<math display="inline" xmlns="http://www.w3.org/1998/Math/MathML"><mrow>{}</mrow></math>'


def _poly_mathml(coeffs: tuple[Fraction, ...], var: str) -> str:
    """sum_e coeffs[e] var^e in MathML, as :func:`esma.polys.poly_text` writes it in LaTeX (descending powers,
    one common denominator).  Only integers and ``var`` reach the markup."""
    den = math.lcm(*(c.denominator for c in coeffs)) if coeffs else 1
    ints = [int(c * den) for c in coeffs]
    out: list[str] = []
    for e in range(len(ints) - 1, -1, -1):
        a = ints[e]
        if a == 0:
            continue
        power = "" if e == 0 else (f"<mi>{var}</mi>" if e == 1 else f"<msup><mi>{var}</mi><mn>{e}</mn></msup>")
        body = (f"<mn>{abs(a)}</mn>" if abs(a) != 1 or e == 0 else "") + power
        out.append(("<mo>−</mo>" if a < 0 else ("<mo>+</mo>" if out else "")) + body)
    text = "".join(out) or "<mn>0</mn>"
    return f"<mfrac><mrow>{text}</mrow><mn>{den}</mn></mfrac>" if den != 1 else text


def closed_form_parts(conj: Conjecture) -> Markup:
    """The closed form as one small MathML per residue class (a_{6m+1} = 3, ...), so that a narrow table cell
    wraps between them: the same as :func:`esma.render.closed_form_latex`, written directly as MathML (a list
    page holds hundreds of them; latex2mathml takes about 0.3 ms each).  A closed form without polynomials, or
    with coefficients that are not numbers, is typeset from its LaTeX or shown as text.

    >>> from types import SimpleNamespace as R
    >>> html = closed_form_parts(R(polynomials=(("2",), ("1/3", "-1")), period=2, preperiod=3))
    >>> import re; print(re.sub("<[^>]+>", " ", html).split())
    ['a', '2', 'm', '=', '2', ',', 'a', '2', 'm', '+', '1', '=', '−', '3', 'm', '+', '1', '3', '(', 'n', '≥', '3', ')']
    """
    try:
        polys = [tuple(Fraction(x) for x in poly) for poly in conj.polynomials]
        n, start = int(conj.period), int(conj.preperiod)
    except (TypeError, ValueError, ZeroDivisionError):
        polys = []
    if not polys or n != len(polys) or n < 1:
        return closed_form_math(conj)
    var = "n" if n == 1 else "m"
    parts = []
    for j, coeffs in enumerate(polys):
        idx = "<mi>n</mi>" if n == 1 else f"<mn>{n}</mn><mi>m</mi>" + (f"<mo>+</mo><mn>{j}</mn>" if j else "")
        parts.append(_MATH.format(f"<msub><mi>a</mi><mrow>{idx}</mrow></msub><mo>=</mo>{_poly_mathml(coeffs, var)}"))
    spans = [f'<span class="cf-part">{part}</span>' for part in parts]
    text = ", ".join(spans)
    if start:
        when = f'<mo stretchy="false">(</mo><mi>n</mi><mo>≥</mo><mn>{start}</mn><mo stretchy="false">)</mo>'
        text += f' <span class="cf-part">{_MATH.format(when)}</span>'
    return Markup(f'<span class="closed-form">{text}</span>')  # integers and fixed names only


def matrix_math(g: Matrix, name: bool = False) -> Markup:
    """G as a 2x2 matrix in MathML (``name``: preceded by "G =").

    >>> "<mtable>" in matrix_math(((1, -2), (0, 1)))
    True
    """
    (a, b), (c, d) = g
    body = rf"\begin{{pmatrix}} {a} & {b} \\ {c} & {d} \end{{pmatrix}}"
    return to_mathml(("G = " if name else "") + body)


#: The relation of a family member to the representative, as text and typeset.
RELATION_TEXT = "T(c) = G(T_rep(c))"
RELATION_LATEX = r"T(c) = G\bigl(T_{\text{rep}}(c)\bigr)"


def constant_math(text: str) -> Markup:
    from esma.render import constant_latex

    try:
        return to_mathml(constant_latex(text))
    except Exception:  # not in the grammar: show the text as it is stored
        return Markup('<code class="latex">{}</code>').format(text)


def lhs_math(conj: Conjecture) -> Markup:
    from esma.render import lhs_latex

    try:
        return to_mathml(lhs_latex(conj))
    except Exception:
        return Markup('<code class="latex">{}</code>').format(plain_lhs(conj))


def relation_math(g: tuple[tuple[int, int], tuple[int, int]]) -> Markup:
    """G(x) = (g11 x + g12)/(g21 x + g22) in MathML (``x`` for the representative's value)."""
    (a, b), (c, d) = g
    if (a, b, c, d) == (1, 0, 0, 1):
        return to_mathml(r"T(c) = T_{\text{rep}}(c)")

    def lin(p: int, q: int) -> str:
        return _linear(p, q, r"T_{\text{rep}}")

    num, den = lin(a, b), lin(c, d)
    body = num if den == "1" else rf"\frac{{{num}}}{{{den}}}"
    return to_mathml(rf"T(c) = {body}")


def _linear(p: int, q: int, var: str) -> str:
    parts = []
    if p:
        parts.append(var if p == 1 else ("-" + var if p == -1 else f"{p}{var}"))
    if q or not parts:
        parts.append(str(q) if not parts else (f"+ {q}" if q > 0 else f"- {-q}"))
    return " ".join(parts)


# Fields of a certificate that DESIGN 8 names: highlighted in its JSON.
_CERT_FIELDS = ("format", "base", "theorem", "signs", "head", "period", "polys", "map", "degree", "T", "claim",
                "cert", "N0", "Lin", "M0", "Lout", "sigma", "U")
_CERT_KEY = re.compile(r"&#34;(" + "|".join(map(re.escape, _CERT_FIELDS)) + r")&#34;:")


def certificate_html(cert: Any) -> Markup:
    """A certificate as escaped, pretty-printed JSON with the field names of DESIGN 8 highlighted.

    >>> print(certificate_html({"format": "esma-tail-cert/1", "x": "<b>"}))
    {
      <span class="cert-key">&#34;format&#34;</span>: &#34;esma-tail-cert/1&#34;,
      &#34;x&#34;: &#34;&lt;b&gt;&#34;
    }
    """
    text = str(escape(json.dumps(cert, indent=2, ensure_ascii=False, sort_keys=False, default=str)))
    # only known names, matched on the escaped text: nothing from the certificate becomes markup
    return Markup(_CERT_KEY.sub(lambda m: f'<span class="cert-key">&#34;{m.group(1)}&#34;</span>:', text))


def _num(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.{digits}f}"


# -- pages -----------------------------------------------------------------------------------------------


def home_page(source: Source, links: Links) -> Page:
    constants = source.constants()
    data = {
        "catalog": source.url,
        "families_are": FAMILY_MEANING,
        "constants": [{**c, "url": links.constant(c["id"])} for c in constants],
    }
    rows = [{**c, "math": constant_math(c["text"])} for c in constants]
    return Page("home.html", "Constants", {"constants": rows, "family_meaning": FAMILY_MEANING}, data)


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def as_dict(self) -> dict[str, int]:
        return {"page": self.page, "per_page": self.per_page, "total": self.total, "pages": self.pages}


def family_entry(row: FamilyRow, links: Links) -> dict[str, Any]:
    """What a family list shows of one family: its representative typeset, its closed form, its figures."""
    fam, rep = row.family, row.representative
    return {
        "family": fam,
        "url": links.family(fam.id),
        "rep_url": links.formula(fam.representative_id) if links.has_formula(fam.representative_id) else None,
        "math": formula_math(rep, 5, display=False) if rep is not None else Markup("<code>{}</code>").format(
            f"{fam.lhs} = {fam.cf_text}"),
        "closed": closed_form_parts(rep) if rep is not None else Markup("<code>{}</code>").format(fam.closed_form),
        "gain": _num(fam.gain),
        "dpt": _num(fam.digits_per_term),
    }


def family_json(row: FamilyRow, links: Links) -> dict[str, Any]:
    """A family in the JSON documents: the fields of ``esma.records.Family``, its constant's id, links."""
    fam = row.family
    return {**fam.to_dict(), "constant_id": row.constant_id, "url": links.family(fam.id),
            "representative_url": links.formula(fam.representative_id)}


def constant_page(
    source: Source,
    links: Links,
    constant: dict[str, Any],
    filters: FamilyFilters,
    page: int = 1,
    per_page: int = 50,
    query: Mapping[str, Any] | None = None,
) -> Page:
    """A constant's families, ranked, filtered, one page of them (``query``: the list's query parameters,
    kept by the pagination links)."""
    offset = (page - 1) * per_page
    rows, total = source.families(constant, filters, per_page, offset)
    pag = Pagination(page, per_page, total)
    query = dict(query or {})

    def page_link(n: int) -> str:
        return links.constant(constant["id"], {**query, "page": n if n > 1 else None})

    context = {
        "constant": constant,
        "constant_math": constant_math(constant["text"]),
        "families": [family_entry(r, links) for r in rows],
        "filters": filters,
        "pagination": pag,
        "prev_url": page_link(page - 1) if page > 1 else None,
        "next_url": page_link(page + 1) if page < pag.pages else None,
        "query": query,
        "family_meaning": FAMILY_MEANING,
    }
    data = {
        "constant": {**constant, "url": links.constant(constant["id"])},
        "filters": {k: v for k, v in vars(filters).items()},
        **pag.as_dict(),
        "families": [family_json(r, links) for r in rows],
    }
    return Page("constant.html", f"Families of {constant['text']}", context, data)


def member_entry(conj: Conjecture, fam: Family, links: Links, typeset: bool = True) -> dict[str, Any]:
    """One row of a family's member list; ``typeset=False`` writes the formula and G as text (the export's long
    lists: MathML of every member of every family would weigh kilobytes each)."""
    from esma.render import cf_text

    g = relation(conj)
    gain = conj.digits_per_term / conj.scf_digits_per_term if conj.scf_digits_per_term else None
    (a, b), (c, d) = g
    return {
        "conj": conj,
        "url": links.formula(conj.id) if links.has_formula(conj.id) else None,
        "math": formula_math(conj, 5, display=False) if typeset else None,
        "text": f"{plain_lhs(conj)} = {cf_text(conj.terms, conj.signs, 5)}" if not typeset else "",
        "relation": g,
        "matrix": matrix_math(g) if typeset else Markup("<code>{}</code>").format(f"[[{a}, {b}], [{c}, {d}]]"),
        "det": a * d - b * c,
        "gain": _num(gain),
        "representative": conj.id == fam.representative_id,
    }


def family_page(
    source: Source, links: Links, row: FamilyRow, page: int = 1, per_page: int | None = 100, typeset: bool = True
) -> Page:
    """A family: its tail key, its representative typeset, one page of its members with their relation G to
    the representative (``per_page=None``: all of them)."""
    fam = row.family
    members = source.family_members(fam, per_page, (page - 1) * (per_page or 0))
    pag = Pagination(page, per_page or max(fam.members, 1), fam.members)

    def page_link(n: int) -> str:
        return links.family(fam.id, {"page": n if n > 1 else None, "per_page": per_page if per_page != 100 else None})

    context = {
        "family": fam,
        "entry": family_entry(row, links),
        "rep_math": formula_math(row.representative) if row.representative else Markup(""),
        "closed_math": closed_form_math(row.representative) if row.representative else Markup(""),
        "relation_math": to_mathml(RELATION_LATEX),
        "members": [member_entry(c, fam, links, typeset) for c in members],
        "pagination": pag,
        "prev_url": page_link(page - 1) if page > 1 else None,
        "next_url": page_link(page + 1) if page < pag.pages else None,
        "constant_url": links.constant(row.constant_id) if row.constant_id is not None else links.home(),
        "family_meaning": FAMILY_MEANING,
    }
    data = {
        "family": family_json(row, links),
        "relation": f"{RELATION_TEXT}, G = [[g11, g12], [g21, g22]] acting as x -> (g11 x + g12)/(g21 x + g22)",
        **pag.as_dict(),
        "members": [
            {**c.to_dict(), "relation": [list(r) for r in relation(c)], "url": links.formula(c.id)}
            for c in members
        ],
    }
    return Page("family.html", f"Family #{fam.id} of {fam.constant}", context, data)


def formula_page(
    source: Source,
    links: Links,
    conj: Conjecture,
    plots: PlotCache,
    digits: int = DEFAULT_PLOT_DIGITS,
    family: FamilyRow | None = None,
    plot: Plot | None = None,
) -> Page:
    """A formula in full: typeset, its figures, its family and relation, its certificate, its plot (``plot``
    when given, as the server's plot pool drew it; else drawn here through ``plots``)."""
    from esma.render import closed_form_latex, conjecture_latex

    fam_row = family if family is not None else source.family_of(conj)
    fam = fam_row.family if fam_row else None
    if plot is None:
        plot = plots.get((int(conj.id), int(digits)), lambda: draw_plot(conj, digits, plain_lhs(conj)))
    g = relation(conj)
    cert = certificate(conj)
    gain = conj.digits_per_term / conj.scf_digits_per_term if conj.scf_digits_per_term else None
    try:
        latex = conjecture_latex(conj) + r"\qquad " + closed_form_latex(conj)
    except Exception:
        latex = ""
    constant = source.constant_of(conj)
    rep_id = fam.representative_id if fam else None
    context = {
        "conj": conj,
        "math": formula_math(conj),
        "closed_math": closed_form_math(conj),
        "constant_math": constant_math(conj.constant),
        "lhs_math": lhs_math(conj),
        "latex": latex,
        "family": fam,
        "family_url": links.family(fam.id) if fam else None,
        "is_representative": fam is not None and rep_id == conj.id,
        "rep_url": links.formula(rep_id) if rep_id is not None and links.has_formula(rep_id) else None,
        "relation_note": to_mathml(RELATION_LATEX),
        "family_gain": _num(fam.gain) if fam else "",
        "matrix_math": matrix_math(g, name=True),
        "relation_math": relation_math(g),
        "relation": g,
        "gain": _num(gain),
        "certificate": certificate_html(cert) if cert is not None else None,
        "plot": plot,
        "constant_url": links.constant(constant["id"]) if constant else links.home(),
        "terms_shown": list(conj.terms[:40]),
        "recurrence_from": conj.preperiod + len(conj.recurrence) - 1,
    }
    data = {
        "conjecture": conj.to_dict(),
        "gain": gain,
        "family": family_json(fam_row, links) if fam_row else None,
        "relation": [list(r) for r in g],
        "certificate": cert,
        "plot": {
            "digits": plot.digits,
            "signed_terms": plot.signed_terms,
            "simple_terms": plot.simple_terms,
            "error": plot.error or None,
        },
    }
    return Page("formula.html", f"Formula #{conj.id}: {plain_lhs(conj)}", context, data)


def searches_page(source: Source, links: Links) -> Page:
    searches = source.searches()
    return Page("searches.html", "Searches", {"searches": searches}, {"searches": searches})
