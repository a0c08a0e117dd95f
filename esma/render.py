"""Human renderings of conjectures: plain text for terminals and LaTeX for papers and notebooks.

Pure functions from records to strings (no I/O).  The continued fraction is written as DESIGN section 1 has it,
T(c) = a_0 + b_0/(a_1 + b_1/(a_2 + ...)), in LaTeX with nested ``\\cfrac``.

>>> cf_latex((1, 2, 4), (1, -1, 1), 3)
'1 + \\\\cfrac{1}{2 - \\\\cfrac{1}{4 + \\\\dotsb}}'
"""

from __future__ import annotations

from fractions import Fraction

from esma.polys import poly_text
from esma.records import Conjecture

__all__ = [
    "cf_latex",
    "cf_text",
    "closed_form_latex",
    "conjecture_latex",
    "conjecture_text",
    "constant_latex",
    "constant_text",
    "lhs_latex",
    "lhs_text",
    "transform_text",
]

_NAME_LATEX = {"e": "e", "pi": r"\pi", "phi": r"\varphi", "euler_gamma": r"\gamma", "catalan": "G"}
_FUNC_LATEX = {
    "exp": r"\exp",
    "log": r"\log",
    "sin": r"\sin",
    "cos": r"\cos",
    "tan": r"\tan",
    "cot": r"\cot",
    "sinh": r"\sinh",
    "cosh": r"\cosh",
    "tanh": r"\tanh",
    "coth": r"\coth",
    "zeta": r"\zeta",
    "gamma": r"\Gamma",
}


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


def _node_latex(node, parent_prec: int = 0) -> str:
    from esma import constants as k

    if isinstance(node, k.Num):
        return str(node.value)
    if isinstance(node, k.Dec):
        return str(node)
    if isinstance(node, k.Name):
        return _NAME_LATEX[node.name]
    if isinstance(node, k.Neg):
        inner = "-" + _node_latex(node.arg, 3)
        return f"\\left({inner}\\right)" if parent_prec > 3 else inner
    if isinstance(node, k.Call):
        args = [_node_latex(a) for a in node.args]
        if node.func == "sqrt":
            return f"\\sqrt{{{args[0]}}}"
        if node.func == "besseli":
            return f"I_{{{args[0]}}}\\left({args[1]}\\right)"
        if node.func == "besselj":
            return f"J_{{{args[0]}}}\\left({args[1]}\\right)"
        return f"{_FUNC_LATEX[node.func]}\\left({args[0]}\\right)"
    if isinstance(node, k.BinOp):
        if node.op == "/":
            return f"\\frac{{{_node_latex(node.left)}}}{{{_node_latex(node.right)}}}"
        if node.op == "**":
            base = _node_latex(node.left, 5)
            return f"{base}^{{{_node_latex(node.right)}}}"
        prec = 1 if node.op in "+-" else 2
        left = _node_latex(node.left, prec)
        right = _node_latex(node.right, prec + (1 if node.op == "-" else 0))
        op = {"+": " + ", "-": " - ", "*": r" \cdot "}[node.op]
        text = left + op + right
        return f"\\left({text}\\right)" if parent_prec > prec else text
    raise TypeError(f"cannot render {node!r}")


def constant_latex(expr: str) -> str:
    """LaTeX of a constant expression (parsed by the validated grammar, never evaluated).

    >>> constant_latex("besseli(1, 2)/besseli(0, 2)")
    '\\\\frac{I_{1}\\\\left(2\\\\right)}{I_{0}\\\\left(2\\\\right)}'
    """
    from esma.constants import parse

    return _node_latex(parse(expr))


def lhs_latex(conj: Conjecture) -> str:
    """T(c) in LaTeX with the constant substituted for c."""
    c = constant_latex(conj.constant)
    if conj.lhs == "c":
        return c
    simple = c.replace("\\", "").isalnum()
    var = c if simple else f"\\left({c}\\right)"
    num = poly_text(conj.lhs_numerator, var, "latex")
    den_trim = list(conj.lhs_denominator)
    while den_trim and den_trim[-1] == 0:
        den_trim.pop()
    if den_trim == [1]:
        return num
    den = poly_text(conj.lhs_denominator, var, "latex")
    return f"\\frac{{{num}}}{{{den}}}"


def closed_form_latex(conj: Conjecture) -> str:
    """The closed form of the partial denominators in LaTeX (interlaced polynomials, or the recurrence)."""
    if not conj.polynomials:
        return r"\text{" + conj.closed_form.replace("_", r"\_") + "}"
    n = conj.period
    var = "n" if n == 1 else "m"
    rows = []
    for j, poly in enumerate(conj.polynomials):
        coeffs = tuple(Fraction(x) for x in poly)
        text = poly_text(coeffs, var, "latex")
        idx = "n" if n == 1 else (f"{n}m" if j == 0 else f"{n}m+{j}")
        rows.append(f"a_{{{idx}}} = {text}")
    body = r",\quad ".join(rows)
    if conj.preperiod:
        body += rf"\quad (n \geq {conj.preperiod})"
    return body


def conjecture_latex(conj: Conjecture, count: int = 6) -> str:
    """``T(c) = a_0 + \\cfrac{b_0}{...}`` (display math body, no delimiters)."""
    return f"{lhs_latex(conj)} = {cf_latex(conj.terms, conj.signs, count)}"


def conjecture_text(conj: Conjecture, count: int = 8) -> str:
    """A multi-line description for a terminal: formula, closed form, recurrence, digits, convergence."""
    const = conj.constant
    lhs = const if conj.lhs == "c" else conj.lhs.replace("c", const if const.isidentifier() else f"({const})")
    lines = [
        f"{lhs} = {cf_text(conj.terms, conj.signs, count)}",
        f"  constant   c = {conj.constant}",
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


# The plain-text expression helpers below are the one place where terminal, pages and notebooks get the text of
# a constant and of T(c) (DESIGN 10).  SEAM: first version, to be rewritten to a mathematician's notation.


def constant_text(expr: str) -> str:
    """The constant as a reader writes it (for example ``tan 1``, ``e^2``)."""
    return expr


def transform_text(numerator, denominator, var: str = "c") -> str:
    """T = P/Q as text in ``var`` (for example ``(2c + 1)/(c - 2)``)."""
    num = poly_text(numerator, var)
    den = list(denominator)
    while den and den[-1] == 0:
        den.pop()
    if den == [1]:
        return num
    return f"({num})/({poly_text(denominator, var)})"


def lhs_text(conj: Conjecture) -> str:
    """T(c) with the constant written in for c (for example ``1/tan 1``)."""
    const = conj.constant
    return const if conj.lhs == "c" else conj.lhs.replace("c", const if const.isidentifier() else f"({const})")
