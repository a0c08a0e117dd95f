"""Formulas as MathML, typeset by the browser itself: no script, no CDN, no network.

The LaTeX comes from :mod:`esma.render`; latex2mathml turns it into MathML on the server.  latex2mathml copies
text into its output unescaped (``\\text{<b>}`` gives ``<mtext><b></mtext>``) and turns ``\\href`` into an
``href`` attribute, and a received catalog's texts (a closed form, a constant) reach the LaTeX, so its output
is never trusted: it is parsed as XML and written again from the tree, keeping only presentation MathML
elements and attributes.  Anything that does not survive that is shown as its LaTeX source, escaped.

>>> print(to_mathml(r"\\frac{e}{2}"))
<math display="inline" xmlns="http://www.w3.org/1998/Math/MathML"><mrow><mfrac><mrow><mi>e</mi></mrow><mrow><mn>2</mn></mrow></mfrac></mrow></math>
>>> print(to_mathml(r"\\text{<script>alert(1)</script>}"))
<code class="latex">\\text{&lt;script&gt;alert(1)&lt;/script&gt;}</code>
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET

from markupsafe import Markup

__all__ = ["MATHML_NS", "to_mathml"]

MATHML_NS = "http://www.w3.org/1998/Math/MathML"

# Presentation MathML (MathML Core and the common MathML 3 elements latex2mathml writes).
_ELEMENTS = frozenset(
    (
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "mfrac", "msqrt", "mroot", "mstyle",
        "merror", "mpadded", "mphantom", "menclose", "msub", "msup", "msubsup", "munder", "mover", "munderover",
        "mmultiscripts", "mprescripts", "none", "mtable", "mtr", "mtd", "mlabeledtr", "semantics", "annotation"
    )
)
# Layout attributes only: no href, no event handler, no style, no class (nothing that links or runs).
_ATTRIBUTES = frozenset(
    (
        "display", "displaystyle", "scriptlevel", "mathvariant", "mathsize", "mathcolor", "mathbackground",
        "stretchy", "symmetric", "fence", "separator", "largeop", "movablelimits", "accent", "accentunder",
        "lspace", "rspace", "minsize", "maxsize", "width", "height", "depth", "linethickness", "form",
        "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame",
        "framespacing", "equalrows", "equalcolumns", "align", "notation", "voffset", "numalign", "denomalign",
        "bevelled", "encoding"
    )
)


def _clean(node: ET.Element) -> bool:
    """Keep only allowed elements and attributes below ``node``; False when something is not allowed."""
    for el in node.iter():
        tag = el.tag.split("}", 1)[-1]
        if tag not in _ELEMENTS:
            return False
        el.tag = tag
        for name in list(el.attrib):
            local = name.split("}", 1)[-1]
            value = el.attrib.pop(name)
            if local in _ATTRIBUTES and "url(" not in value.lower() and "javascript:" not in value.lower():
                el.attrib[local] = value
    return True


_FUNCTIONS = frozenset(("log", "sin", "cos", "tan", "cot", "sinh", "cosh", "tanh", "coth", "exp"))


def _is_function(el: ET.Element) -> bool:
    if el.tag in ("msup", "msub") and len(el):
        el = el[0]
    return el.tag == "mi" and (el.text or "") in _FUNCTIONS


def _space_function_names(root: ET.Element) -> None:
    """Thin spaces around ``tan`` (or ``tan^2``) as TeX sets ``2\\tan 1``: browsers set latex2mathml's
    ``<mn>2</mn><mi>tan</mi><mn>1</mn>`` as "2tan1".  None before a bracket (``tan(1/3)``) or an operator."""
    for parent in root.iter():
        if parent.tag not in ("mrow", "math", "mstyle", "mtd", "msqrt", "mpadded", "mphantom", "menclose"):
            continue  # the children of a script or a fraction have places: nothing goes between them
        kids = list(parent)
        at = set()
        for i, kid in enumerate(kids):
            if not _is_function(kid):
                continue
            if i + 1 < len(kids):
                after = kids[i + 1]
                if not (after.tag == "mo" or (after.tag == "mrow" and len(after) and after[0].tag == "mo")):
                    at.add(i + 1)
            if i > 0 and kids[i - 1].tag != "mo":
                at.add(i)
        for i in sorted(at, reverse=True):
            parent.insert(i, ET.Element("mspace", {"width": "0.1667em"}))


@functools.lru_cache(maxsize=8192)
def to_mathml(latex: str, display: bool = False) -> Markup:
    """The MathML of ``latex`` as safe markup, or its source in an escaped ``<code>`` when it cannot be typeset
    (a construct latex2mathml does not know, or anything the sanitizer refuses)."""
    import latex2mathml.converter

    fallback = Markup('<code class="latex">{}</code>').format(latex)
    try:
        raw = latex2mathml.converter.convert(latex, display="block" if display else "inline")
        root = ET.fromstring(raw)
    except Exception:  # any failure of the converter or of the XML parse: show the source, never an error
        return fallback
    if root.tag != f"{{{MATHML_NS}}}math" or not _clean(root):
        return fallback
    _space_function_names(root)
    root.set("xmlns", MATHML_NS)
    # ElementTree escapes every text and attribute it writes: what it serialises is what the tree holds
    return Markup(ET.tostring(root, encoding="unicode", short_empty_elements=True))

