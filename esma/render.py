"""Human renderings of formulas: plain text for terminals and LaTeX for papers, pages and notebooks.

Pure functions from records to strings (no I/O).  The continued fraction is written as DESIGN section 1 has it,
T(c) = a_0 + b_0/(a_1 + b_1/(a_2 + ...)), in LaTeX with nested ``\\cfrac``.  Constants and T(c) are written as
a mathematician writes them, by one set of helpers (``constant_text``, ``transform_text``, ``lhs_text`` and
their LaTeX twins ``constant_latex``, ``lhs_latex``), the only place any front-end gets expression text from:

>>> constant_text("tan(1)"), constant_text("exp(2)"), transform_text((1, 2), (-2, 1))
('tan 1', 'e^2', '(2c + 1)/(c - 2)')

>>> cf_latex((1, 2, 4), (1, -1, 1), 3)
'1 + \\\\cfrac{1}{2 - \\\\cfrac{1}{4 + \\\\dotsb}}'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from esma.polys import poly_text
from esma.records import Conjecture

__all__ = [
    "cf_latex",
    "cf_text",
    "closed_form_latex",
    "closed_form_rows_latex",
    "conjecture_latex",
    "conjecture_text",
    "constant_latex",
    "constant_text",
    "lhs_latex",
    "lhs_text",
    "transform_text",
]


def cf_text(terms, signs, count: int = 8) -> str:
    """``a_0 + b_0/(a_1 + b_1/(a_2 + ...))`` for the first ``count`` terms, as a human reads it.

    >>> cf_text((1, 2, 4, 1, 6), (1, -1, 1), 5)
    '1 + 1/(2 - 1/(4 + 1/(1 + 1/(6 - ...))))'
    """
    terms = list(terms[:count])
    period = len(signs)
    out = str(terms[-1]) + (" + ..." if signs[(len(terms) - 1) % period] > 0 else " - ...")
    for n in range(len(terms) - 2, -1, -1):
        op = "+" if signs[n % period] > 0 else "-"
        out = f"{terms[n]} {op} 1/({out})"
    return out


def cf_latex(terms, signs, count: int = 6) -> str:
    """Nested ``\\cfrac`` for the first ``count`` terms, ending in ``\\dotsb``."""
    terms = list(terms[:count])
    period = len(signs)
    out = f"{terms[-1]} {'+' if signs[(len(terms) - 1) % period] > 0 else '-'} \\dotsb"
    for n in range(len(terms) - 2, -1, -1):
        op = "+" if signs[n % period] > 0 else "-"
        out = f"{terms[n]} {op} \\cfrac{{1}}{{{out}}}"
    return out


# -- expressions ------------------------------------------------------------------------------------------
# The one place where the terminal, the pages, the LaTeX export and the notebooks get the text of a constant
# and of T(c) (DESIGN 10): a constant's tree (esma.constants.parse, never evaluated) and T's polynomials go
# through one writer with two styles, plain text and LaTeX.  Conventions, as a mathematician writes them:
#
# * implicit multiplication after a numeral or a bracket (2c, 2π, 2√2, 2(1 + e), 3 tan 1), a middle dot
#   elsewhere (π·e); ASCII '-' for minus, as in the continued fractions and closed forms next to it;
# * log, sin, cos, tan, cot and their hyperbolic cousins take an atomic argument without parentheses
#   (tan 1, log 2, tanh π) and a compound one with them (tan(1/3)); such a bare application ends a product,
#   so it is bracketed where something binding tighter follows it (tan 1/2 would be ambiguous: (tan 1)/2);
#   its square is written tan^2 1;
# * exp(x) is e^x, sqrt(x) is √x (\sqrt{x}), besseli(ν, x) is I_ν(x), zeta and gamma are ζ and Γ;
# * parentheses only where precedence needs them, never doubled; in LaTeX a quotient is a \frac (no brackets
#   around its parts), except inside an exponent, where it stays a slash (e^{1/3}).

_SUM, _PROD, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5
_BARE = frozenset({"log", "sin", "cos", "tan", "cot", "sinh", "cosh", "tanh", "coth"})
_NAME_TEXT = {"e": "e", "pi": "π", "phi": "φ", "euler_gamma": "γ", "catalan": "G"}
_NAME_LATEX = {"e": "e", "pi": r"\pi", "phi": r"\varphi", "euler_gamma": r"\gamma", "catalan": "G"}
_FUNC_TEXT = {"zeta": "ζ", "gamma": "Γ", "besseli": "I", "besselj": "J"}
_FUNC_LATEX = {"zeta": r"\zeta", "gamma": r"\Gamma", "besseli": "I", "besselj": "J"}


@dataclass(frozen=True)
class _Var:
    """The variable of a polynomial (``c``, ``m``) as a leaf of an expression tree."""

    text: str
    height: int = 1


@dataclass(frozen=True)
class _Const:
    """The constant written in for c: a sum (or a negation) is bracketed as a whole wherever it is an operand,
    as one substitutes by hand: ``(1 + √2)^2 + 1``, ``2(1 + √2) - 2``."""

    node: object
    height: int = 1


@dataclass(frozen=True)
class _Out:
    """A written subexpression: its text, the precedence of its outermost operation, how it begins (for
    implicit multiplication), whether it may stand as a coefficient in front (a numeral or a bracketed group),
    and whether it ends in a bare function application (``tan 1``) that a following factor would capture."""

    text: str
    prec: int
    lead: str  # "digit", "letter", "word" (a function name: a space before it), "other"
    front: bool = False
    bare: bool = False
    slash: bool = False  # a product with a slash at its top level (a/b, 2e/5): bracketed before another slash


class _Writer:
    def __init__(self, latex: bool, inline: bool = False) -> None:
        self.latex = latex
        self.inline = inline  # LaTeX inside an exponent: quotients as a slash

    def paren(self, out: _Out) -> _Out:
        tall = self.latex and r"\frac" in out.text
        text = rf"\left({out.text}\right)" if tall else f"({out.text})"
        return _Out(text, _ATOM, "other", front=True)

    def prec(self, node) -> int:
        from esma import constants as k

        if isinstance(node, _Const):
            return _ATOM if self.prec(node.node) in (_SUM, _NEG) else self.prec(node.node)
        if isinstance(node, k.BinOp):
            if node.op == "/" and self.latex and not self.inline:
                return _ATOM
            return {"+": _SUM, "-": _SUM, "*": _PROD, "/": _PROD, "**": _POW}[node.op]
        if isinstance(node, k.Neg):
            return _NEG
        if isinstance(node, k.Call) and node.func in ("exp", "sqrt"):
            return _ATOM if node.func == "exp" and node.args[0] == k.Num(1) else _POW
        if isinstance(node, k.Dec) and self.latex and "e" in k.to_text(node):
            return _PROD
        return _ATOM

    def tight(self, node, limit: int) -> _Out:
        """``node`` where a factor follows it: bracketed below precedence ``limit`` or when it ends bare."""
        if self.prec(node) < limit:
            return self.paren(self.write(node))
        out = self.write(node)
        return self.paren(out) if out.bare else out

    def exponent(self, node) -> str:
        from esma import constants as k

        if self.latex:
            return "{" + _Writer(True, inline=True).write(node).text + "}"
        out = self.write(node)
        simple = isinstance(node, (k.Num, k.Name, _Var))
        return out.text if simple else f"({out.text})"

    def write(self, node) -> _Out:
        from esma import constants as k

        if isinstance(node, k.Num):
            return _Out(str(node.value), _ATOM, "digit", front=True)
        if isinstance(node, _Var):
            return _Out(node.text, _ATOM, "letter")
        if isinstance(node, _Const):
            out = self.write(node.node)
            return self.paren(out) if self.prec(node.node) in (_SUM, _NEG) else out
        if isinstance(node, k.Name):
            return _Out((_NAME_LATEX if self.latex else _NAME_TEXT)[node.name], _ATOM, "letter")
        if isinstance(node, k.Dec):
            text = k.to_text(node)
            if self.latex and "e" in text:
                mantissa, _, power = text.partition("e")
                return _Out(rf"{mantissa} \cdot 10^{{{int(power)}}}", _PROD, "digit")
            return _Out(text, _ATOM, "digit", front=True)
        if isinstance(node, k.Neg):
            arg = self.write(node.arg)
            if self.prec(node.arg) in (_SUM, _NEG):
                arg = self.paren(arg)
            return _Out("-" + arg.text, _NEG, "other", front=arg.front and arg.lead == "digit", bare=arg.bare)
        if isinstance(node, k.Call):
            return self.call(node)
        if isinstance(node, k.BinOp):
            return self.binop(node)
        raise TypeError(f"Argument 'node' must be an expression tree node, not {type(node).__name__}")

    def call(self, node) -> _Out:
        from esma import constants as k

        f, args = node.func, node.args
        if f == "exp":
            if args[0] == k.Num(1):
                return _Out("e", _ATOM, "letter")
            return _Out("e^" + self.exponent(args[0]), _POW, "letter")
        if f == "sqrt":
            if self.latex:
                return _Out(rf"\sqrt{{{self.write(args[0]).text}}}", _POW, "letter")
            arg = self.write(args[0])
            simple = isinstance(args[0], (k.Num, k.Name, _Var))
            return _Out("√" + (arg.text if simple else self.paren(arg).text), _POW, "letter")
        if f in _BARE:
            head = rf"\{f}" if self.latex else f
            return self.apply(head, args[0])
        name = (_FUNC_LATEX if self.latex else _FUNC_TEXT)[f]
        if f.startswith("bessel"):
            order = (_Writer(True, inline=True) if self.latex else self).write(args[0]).text
            if self.latex:
                name = f"{name}_{{{order}}}"
            else:
                name = f"{name}_{order}" if isinstance(args[0], k.Num) else f"{name}_({order})"
        return _Out(name + self.paren(self.write(args[-1])).text, _ATOM, "letter")

    def apply(self, head: str, arg_node, power: str = "") -> _Out:
        """``tan 1``, ``tan(1/3)``, ``tan^2 1`` (``power`` already written as an exponent)."""
        from esma import constants as k

        head = f"{head}^{power}" if power else head
        arg = self.write(arg_node)
        if isinstance(arg_node, (k.Num, k.Name, _Var)) or (isinstance(arg_node, k.Dec) and arg.prec == _ATOM):
            return _Out(f"{head} {arg.text}", _ATOM, "word", bare=True)
        return _Out(head + self.paren(arg).text, _ATOM, "word")

    def binop(self, node) -> _Out:
        from esma import constants as k

        op, left, right = node.op, node.left, node.right
        if op in "+-":
            a = self.write(left)
            b = self.write(right)
            if self.prec(right) in (_SUM, _NEG):
                b = self.paren(b)
            return _Out(f"{a.text} {op} {b.text}", _SUM, a.lead, bare=b.bare)
        if op == "**":
            if isinstance(left, _Const) and self.prec(left.node) not in (_SUM, _NEG):
                left = left.node
            if isinstance(left, k.Call) and left.func in _BARE and isinstance(right, k.Num):
                power = f"{{{right.value}}}" if self.latex else str(right.value)
                return self.apply(rf"\{left.func}" if self.latex else left.func, left.args[0], power)
            base = self.write(left)
            if self.prec(left) < _ATOM or base.bare or (self.latex and r"\frac" in base.text):
                base = self.paren(base)
            return _Out(f"{base.text}^{self.exponent(right)}", _POW, base.lead)
        if op == "/" and self.latex and not self.inline:
            # a fraction bar groups its parts: the constant needs no brackets there
            num, den = (self.write(x.node if isinstance(x, _Const) else x).text for x in (left, right))
            return _Out(rf"\frac{{{num}}}{{{den}}}", _ATOM, "other")
        a = self.tight(left, _PROD)
        if op == "/" and a.slash:
            a = self.paren(a)
        b = self.write(right)
        if self.prec(right) in ((_SUM, _PROD, _NEG) if op == "/" else (_SUM, _NEG)):
            b = self.paren(b)
        if op == "/":
            return _Out(f"{a.text}/{b.text}", _PROD, a.lead, bare=b.bare, slash=True)
        if a.front and (b.lead in ("letter", "word") or b.text.startswith(("(", r"\left("))):
            sep = " " if b.lead == "word" and not self.latex else ""
        else:
            sep = r" \cdot " if self.latex else "·"
        return _Out(f"{a.text}{sep}{b.text}", _PROD, a.lead, bare=b.bare, slash=a.slash or b.slash)


def _write(node, latex: bool) -> str:
    return _Writer(latex).write(node).text


def _poly_node(coeffs, var, ascending: bool = False):
    """The tree of sum_e coeffs[e] var^e (integer coefficients; descending powers unless ``ascending``)."""
    from esma import constants as k

    node = None
    order = range(len(coeffs)) if ascending else range(len(coeffs) - 1, -1, -1)
    for e in order:
        a = int(coeffs[e])
        if a == 0:
            continue
        power = var if e == 1 else k.BinOp("**", var, k.Num(e))
        body = k.Num(abs(a)) if e == 0 else (power if abs(a) == 1 else k.BinOp("*", k.Num(abs(a)), power))
        node = (k.Neg(body) if a < 0 else body) if node is None else k.BinOp("+" if a > 0 else "-", node, body)
    return node if node is not None else k.Num(0)


def _transform_node(numerator, denominator, var):
    """The tree of T = P/Q in ``var``, laid out as one writes it by hand (``esma.transforms.layout``)."""
    from esma import constants as k
    from esma.transforms import layout

    for name, coeffs in (("numerator", numerator), ("denominator", denominator)):
        if isinstance(coeffs, str) or not all(isinstance(x, int) and not isinstance(x, bool) for x in coeffs):
            raise TypeError(f"Argument '{name}' must be a sequence of int coefficients, not {coeffs!r}")
    num, den = tuple(numerator), tuple(denominator)
    if not any(den):
        raise ValueError(f"Argument 'denominator' must be a nonzero polynomial, not {denominator!r}")
    sign, num, num_up, den, den_up = layout(num, den)
    top = _poly_node(num, var, num_up)
    trimmed = list(den)
    while trimmed and trimmed[-1] == 0:
        trimmed.pop()
    node = top if trimmed == [1] else k.BinOp("/", top, _poly_node(den, var, den_up))
    return k.Neg(node) if sign < 0 else node


def _lhs_node(conj: Conjecture):
    from esma.constants import parse

    const = parse(conj.constant)
    if conj.lhs == "c":
        return const
    return _transform_node(conj.lhs_numerator, conj.lhs_denominator, _Const(const))


def constant_text(expr: str) -> str:
    """The constant as a reader writes it, from its parsed expression (the text is never evaluated).

    >>> [constant_text(x) for x in ("tan(1)", "exp(2)", "sqrt(2)", "e", "log(2)", "tan(1/3)", "exp(1/3)")]
    ['tan 1', 'e^2', '√2', 'e', 'log 2', 'tan(1/3)', 'e^(1/3)']
    >>> constant_text("besseli(1, 2)/besseli(0, 2)"), constant_text("2*pi"), constant_text("tan(1)/2")
    ('I_1(2)/I_0(2)', '2π', '(tan 1)/2')
    """
    from esma.constants import parse

    return _write(parse(expr), latex=False)


def constant_latex(expr: str) -> str:
    """LaTeX of a constant expression (parsed by the validated grammar, never evaluated).

    >>> constant_latex("tan(1)"), constant_latex("exp(2)"), constant_latex("sqrt(2)")
    ('\\\\tan 1', 'e^{2}', '\\\\sqrt{2}')
    >>> constant_latex("besseli(1, 2)/besseli(0, 2)")
    '\\\\frac{I_{1}(2)}{I_{0}(2)}'
    """
    from esma.constants import parse

    return _write(parse(expr), latex=True)


def transform_text(numerator, denominator, var: str = "c") -> str:
    """T = P/Q as text in ``var``, from its coefficients in ascending powers, as one writes it by hand.

    >>> transform_text((1, 2), (-2, 1)), transform_text((1, 0), (0, 1)), transform_text((-2, 2), (1,))
    ('(2c + 1)/(c - 2)', '1/c', '2c - 2')
    >>> transform_text((1, 0, 1), (1, 0, 0)), transform_text((1, -1), (-2, 1))
    ('c^2 + 1', '(c - 1)/(2 - c)')
    """
    if not isinstance(var, str) or not var:
        raise TypeError(f"Argument 'var' must be a non-empty str, not {var!r}")
    return _write(_transform_node(numerator, denominator, _Var(var)), latex=False)


def lhs_text(conj: Conjecture) -> str:
    """T(c) with the constant written in for c (for example ``1/tan 1``, ``(e^2 + 1)/(e^2 - 1)``)."""
    return _write(_lhs_node(conj), latex=False)


def lhs_latex(conj: Conjecture) -> str:
    """T(c) in LaTeX with the constant written in for c (for example ``\\frac{1}{\\tan 1}``)."""
    return _write(_lhs_node(conj), latex=True)


def closed_form_rows_latex(conj: Conjecture) -> list[str]:
    """The interlaced polynomials of the closed form in LaTeX, one ``a_{Nm+j} = P_j(m)`` per residue class
    (empty when the closed form is not made of polynomials); they hold for n at least the pre-period.

    >>> from esma.records import Conjecture
    >>> c = Conjecture(constant="e", lhs="c", lhs_numerator=(0, 1), lhs_denominator=(1,), value="2.718",
    ...     signs=(1,), preperiod=1, terms=(2, 1, 2, 1), recurrence=(1, 0, 0, -2, 0, 0, 1), closed_form="",
    ...     kind="polynomial", verified_digits=300, digits_per_term=1.4, scf_digits_per_term=1.4, period=3,
    ...     polynomials=((1,), (0, 2), (1,)))
    >>> closed_form_rows_latex(c)
    ['a_{3m} = 1', 'a_{3m+1} = 2m', 'a_{3m+2} = 1']
    """
    n = conj.period
    var = "n" if n == 1 else "m"
    rows = []
    for j, poly in enumerate(conj.polynomials):
        coeffs = tuple(Fraction(x) for x in poly)
        text = poly_text(coeffs, var, "latex")
        idx = "n" if n == 1 else (f"{n}m" if j == 0 else f"{n}m+{j}")
        rows.append(f"a_{{{idx}}} = {text}")
    return rows


def closed_form_latex(conj: Conjecture) -> str:
    """The closed form of the partial denominators in LaTeX (interlaced polynomials, or the recurrence)."""
    if not conj.polynomials:
        return r"\text{" + conj.closed_form.replace("_", r"\_") + "}"
    body = r",\quad ".join(closed_form_rows_latex(conj))
    if conj.preperiod:
        body += rf"\quad (n \geq {conj.preperiod})"
    return body


def conjecture_latex(conj: Conjecture, count: int = 6) -> str:
    """``T(c) = a_0 + \\cfrac{b_0}{...}`` (display math body, no delimiters)."""
    return f"{lhs_latex(conj)} = {cf_latex(conj.terms, conj.signs, count)}"


def _constant_line(expr: str) -> str:
    """``tan 1 (searched as tan(1))``: the constant as written, and the text that names it in the catalog."""
    text = constant_text(expr)
    return text if text == expr else f"{text} (searched as {expr})"


def conjecture_text(conj: Conjecture, count: int = 8) -> str:
    """A multi-line description for a terminal: formula, closed form, recurrence, digits, convergence."""
    lines = [
        f"{lhs_text(conj)} = {cf_text(conj.terms, conj.signs, count)}",
        f"  constant   c = {_constant_line(conj.constant)}",
        f"  value      {conj.value}",
        f"  signs      {conj.signs_text} (period {len(conj.signs)})",
        f"  terms      {', '.join(map(str, conj.terms[:20]))}{', ...' if len(conj.terms) > 20 else ''}",
        f"  closed     {conj.closed_form}",
        f"  kind       {conj.kind}",
        f"  recurrence {list(conj.recurrence)} "
        f"(sum c_i a(n-i) = 0 for n >= {conj.preperiod + len(conj.recurrence) - 1})",
        f"  verified   {conj.verified_digits} digits",
        f"  converges  {conj.digits_per_term:.4g} digits/term (simple continued fraction of T(c): "
        f"{conj.scf_digits_per_term:.4g})",
        f"  status     {conj.status}{': ' + conj.status_reason if conj.status_reason else ''}",
    ]
    if conj.id is not None:
        lines.insert(0, f"#{conj.id}")
    return "\n".join(lines)


