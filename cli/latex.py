"""The LaTeX export: a document of the catalog's formulas that pdflatex typesets as it is (Debian's
``texlive-latex-base`` and ``lmodern`` suffice: amsmath, geometry, inputenc, fontenc, Latin Modern).

Layout, chosen so that nothing runs off the page (zero overfull boxes on the tan(1) and e catalogs, a test
checks it with pdflatex):

* per constant a section ``c = tan 1``; per family its representative (``--all``: every formula), as a
  ``\\paragraph`` "Formula #N", then T(c) = its continued fraction in a display (six terms, nested
  ``\\cfrac``: the display narrows as it nests), then one paragraph of details, typeset ragged right so it
  breaks between items: signs, the closed form as a list of short inline formulas ``a_{Nm+j} = P_j(m)`` (a
  closed form of period 32 wraps over several lines instead of running off the page), the initial terms when
  the pre-period is longer than the display, digits, rates, status;
* certificates are **summarised**, not printed: the theorem they start from, the substitution, and the block
  lengths of the tail lemma (DESIGN 8), with a pointer to the JSON export and to ``esma verify ID --proof``.
  A certificate is data for a checker: the JSON export carries it exactly and a program reads it there, while
  hundreds of lines of JSON broken across a PDF can be neither read nor copied back reliably;
* the theorems used are listed once, at the end, with their references (UTF-8 text, e.g. Lambert's
  "Mémoire", typeset through inputenc and T1 fonts).

Catalog text (paths, reasons, closed forms that are not polynomials) is data, not markup: it is escaped
(``tex_escape``); expressions come from ``esma.render`` (parsed, never evaluated).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["tex_escape", "write_latex"]

_LATEX_ESCAPE = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                 "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}
_TERMS_SHOWN = 6  # terms in the displayed continued fraction


def tex_escape(text: str) -> str:
    """Catalog text as LaTeX text: the special characters escaped, control characters dropped, and a character
    that T1 fonts cannot set written as its code point (pdflatex would stop on it).

    >>> tex_escape("50%_&co ~ é")
    '50\\\\%\\\\_\\\\&co \\\\textasciitilde{} é'
    >>> tex_escape("x\\u4e2d")
    'x[U+4E2D]'
    """
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _LATEX_ESCAPE:
            out.append(_LATEX_ESCAPE[ch])
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(" ")
        elif code > 0x17F:  # beyond Latin-1 and Latin Extended-A, which inputenc and T1 cover
            out.append(f"[U+{code:04X}]")
        else:
            out.append(ch)
    return "".join(out)


def _tt(text: str) -> str:
    """Text in typewriter type, escaped; ``--`` stays two hyphens (T1 typewriter fonts join them into a dash)."""
    return r"\texttt{" + tex_escape(text).replace("-", "-{}") + "}"


def _path_tex(text: str) -> str:
    """A path or URL in typewriter type, breakable after each slash (a long path would run off the page)."""
    return r"/\allowbreak{}".join(_tt(part) for part in text.split("/"))


def _theorem_tex(reason: str) -> str:
    """``from the continued fraction of $e^{2}$ (Euler, Hurwitz), with $x = c^2$`` from a proof's reason
    (``proved from exp(2) (Euler, Hurwitz) with x = c^2, ...``); a reason of another shape is escaped whole.

    >>> _theorem_tex("proved from tan(1) (Lambert) with x = c, through the family's representative")
    'from the continued fraction of $\\\\tan 1$ (Lambert)'
    """
    m = re.match(r"proved from (.+?) \((.+?)\) with (x = [^,]+)", reason or "")
    if not m:
        return tex_escape(reason or "proved")
    key, who, sub = m.groups()
    text = f"from the continued fraction of {_constant_tex(key)} ({tex_escape(who)})"
    return text + ("" if sub == "x = c" else f", with {_math_or_text(sub)}")


def _math_or_text(text: str) -> str:
    """A short formula of the registry (``x = c^2``) as inline math when it is plain, else escaped text."""
    if re.fullmatch(r"[a-z0-9 =+\-*/^()]+", text):
        return "$" + text.replace("**", "^").replace("*", " ") + "$"
    return tex_escape(text)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _closed_form_tex(c) -> str:
    """The closed form as text with inline formulas, breakable between them; a closed form without interlaced
    polynomials shows its stored text, escaped whole (stored text must not become LaTeX commands)."""
    from esma.render import closed_form_rows_latex

    if not c.polynomials:
        return tex_escape(" ".join(c.closed_form.split()))
    rows = closed_form_rows_latex(c)
    text = ", ".join(f"${row}$" for row in rows)
    if len(rows) > 1:
        text = f"interlaced with period {c.period}, " + text
    if c.preperiod:
        text += rf" for $n \geq {c.preperiod}$"
    return text


def _initial_terms_tex(c) -> str:
    """The terms before the closed form holds, when the display does not show them all."""
    if c.preperiod <= _TERMS_SHOWN or not c.polynomials:
        return ""
    # in text, not math: a line may break after any comma of a long list
    head = ", ".join(str(int(t)) for t in c.terms[: c.preperiod])
    return rf"; the terms before it, $a_0$ to $a_{{{c.preperiod - 1}}}$: {head}"


def _certificate_tex(c, theorems: dict[str, str]) -> str:
    """One sentence on the certificate: what it starts from and its sizes; the certificate itself is in the JSON
    export.  Fields of a stranger's catalog may be missing or of the wrong type: only what reads is said."""
    cert = c.certificate
    if not isinstance(cert, dict):
        return ""
    fmt = cert.get("format")
    parts = []
    if fmt == "esma-member-cert/1":
        rel = cert.get("relation")
        if isinstance(rel, list) and len(rel) == 2 and all(isinstance(r, list) and len(r) == 2 for r in rel) \
                and all(isinstance(x, int) for r in rel for x in r):
            matrix = r"\left(\begin{smallmatrix}" + rf"{rel[0][0]} & {rel[0][1]} \\ {rel[1][0]} & {rel[1][1]}" \
                + r"\end{smallmatrix}\right)"
            parts.append(rf"follows from the family's representative by $T = G(T_{{\mathrm{{rep}}}})$, $G = {matrix}$")
    else:
        base = cert.get("base") if isinstance(cert.get("base"), dict) else {}
        theorem, reference = base.get("theorem"), base.get("reference")
        if isinstance(theorem, str):
            if isinstance(reference, str):
                theorems.setdefault(theorem, reference)
            parts.append(f"from the continued fraction of {_constant_tex(theorem)}")
        sizes = cert.get("cert") if isinstance(cert.get("cert"), dict) else {}
        names = (("N0", "N_0"), ("M0", "M_0"), ("Lin", r"L_{\mathrm{in}}"), ("Lout", r"L_{\mathrm{out}}"))
        shown = [f"{tex} = {sizes[key]}" for key, tex in names if isinstance(sizes.get(key), int)]
        if shown:
            parts.append("$" + ", ".join(shown) + "$")
    head = _tt(fmt) if isinstance(fmt, str) else "a certificate"
    return (
        f"Certificate {head}" + (" " + ", ".join(parts) if parts else "")
        + f"; the JSON export carries it whole, and {_tt(f'esma verify {int(c.id)} --proof')} checks it again."
    )


def _constant_tex(text: str) -> str:
    from esma.render import constant_latex

    try:
        return f"${constant_latex(text)}$"
    except (ValueError, TypeError, RecursionError):
        return tex_escape(text)


def _formula_tex(c, fam, theorems: dict[str, str]) -> str:
    from esma.render import conjecture_latex

    status = c.status if c.status in ("conjecture", "proved", "refuted") else "conjecture"
    where = "no family"
    if fam is not None:
        where = f"family {int(fam.rank)}, {_count(int(fam.members), 'formula')}"
        if fam.base:
            where += ", the simple continued fraction of $c$"
    if status == "proved":
        status_text = "proved " + _theorem_tex(c.status_reason)
    elif status == "refuted":
        status_text = "refuted" + (f" ({tex_escape(c.status_reason)})" if c.status_reason else "")
    else:
        status_text = "conjecture (approved numerically)"
    details = (
        f"Signs {_tt(c.signs_text)} (period {len(c.signs)}). "
        f"Partial denominators, {tex_escape(c.kind)}: {_closed_form_tex(c)}{_initial_terms_tex(c)}. "
        f"{c.verified_digits:,} digits verified; {c.digits_per_term:.3g} digits per term against "
        f"{c.scf_digits_per_term:.3g} for the simple continued fraction of the same number (gain {c.gain:.3g})."
    )
    text = (
        rf"\paragraph{{Formula \#{int(c.id)}}} ({where}); {status_text}." "\n"
        r"\begin{equation*}" "\n" f"{conjecture_latex(c, _TERMS_SHOWN)}\n" r"\end{equation*}" "\n"
        r"{\raggedright " + details + "\\par}\n"
    )
    if c.certificate is not None:
        text += r"{\small\raggedright " + _certificate_tex(c, theorems) + "\\par}\n"
    return text


def write_latex(catalog, constant: str | None, provenance: dict[str, Any], every: bool, out: TextIO,
                warn: Callable[[str], None]) -> int:
    """Write the LaTeX document of the catalog (of ``constant`` if given) to ``out``; returns how many formulas
    it shows (one per family, or every formula with ``every``).  A formula that cannot be typeset (text that a
    stranger's catalog holds) is reported through ``warn`` and skipped; the document stays complete."""
    from esma.render import constant_latex, constant_text

    head = [
        r"\documentclass[11pt]{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{lmodern}",
        r"\usepackage{amsmath}",
        r"\usepackage[margin=2.2cm]{geometry}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\emergencystretch=2em",
        r"\title{Continued fraction formulas found by esma}",
        rf"\date{{{tex_escape(provenance['exported_at'][:10])}}}",
        r"\begin{document}",
        r"\maketitle",
        (
            rf"Exported from {_path_tex(provenance['catalog'])} by esma "
            rf"{tex_escape(provenance['esma_version'])}. Each formula is written "
            r"$T(c) = a_0 + b_0/(a_1 + b_1/(a_2 + \dotsb))$ with signs $b_n$ repeating the given period; its "
            "partial denominators $a_n$ follow the closed form shown. Every formula was approved numerically to "
            "the stated number of digits (or derived exactly from its family's representative, which was); it is "
            "a conjecture unless it is marked proved, which means that a certificate from a known continued "
            "fraction was checked by esma's independent checker. "
            + ("Every formula is listed, by family." if every else
               "One formula per family (formulas whose continued fractions share a tail; the simplest is shown), "
               "ranked by how much faster than the simple continued fraction of the same number it converges.")
            + "\n"
        ),
    ]
    out.write("\n".join(head) + "\n")
    families = {(f.constant, f.key): f for f in catalog.families(constant)}
    rows = catalog.conjectures(constant=constant, representatives=not every, ranked=True)
    theorems: dict[str, str] = {}
    current = None
    written = 0
    for c in rows:
        # each formula is typeset whole before it is written: one that cannot be is reported and skipped
        try:
            section = ""
            if c.constant != current:
                section = rf"\section*{{$c = {constant_latex(c.constant)}$}}" "\n"
                if constant_text(c.constant) != c.constant:  # the text that names it in the catalog
                    section += f"Searched as {_tt(c.constant)}." "\n"
            text = section + _formula_tex(c, families.get((c.constant, c.family)), theorems)
        except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
            warn(f"formula #{c.id} skipped: it cannot be typeset ({type(exc).__name__}: {str(exc)[:200]})")
            continue
        current = c.constant
        out.write(text + r"\medskip" "\n")
        written += 1
    if theorems:
        out.write(r"\section*{Theorems used}" "\n" r"\begin{itemize}" "\n")
        for key, reference in sorted(theorems.items()):
            out.write(rf"\item The continued fraction of {_constant_tex(key)}: {tex_escape(reference)}." "\n")
        out.write(r"\end{itemize}" "\n")
    out.write(r"\end{document}" "\n")
    return written
