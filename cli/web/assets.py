"""The math font: STIX Two Math, from the ziamath package (nothing is copied into this repository).

``esma serve`` serves the whole font once per browser (it is cached); the HTML export embeds a subset holding
the characters the document uses (with the font's MATH table, which the browser needs to stretch and place
fraction bars, radicals and parentheses), so that a page of formulas carries about 30 KB of font, not 1.5 MB.

>>> font_bytes()[:4] in (b"\\x00\\x01\\x00\\x00", b"OTTO", b"true")
True
>>> len(font_subset("1 + 2/3")) < 100_000
True
"""

from __future__ import annotations

import functools
import importlib.util
import io
from pathlib import Path

__all__ = ["FONT_FAMILY", "FONT_MEDIA_TYPE", "font_bytes", "font_subset"]

#: The CSS family name the pages use for the math font.
FONT_FAMILY = "STIX Two Math"
FONT_MEDIA_TYPE = "font/ttf"

# Always in the export's subset: what the pages' MathML and their prose around it commonly hold.
_BASE_TEXT = (
    "0123456789+-−=()[]{}.,;:/|!?'\"<>… abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "πγφΓζ⋯…≥≤≠·×∞√ "
)


@functools.cache
def font_bytes() -> bytes:
    """The STIX Two Math font file shipped by ziamath (raises ``FileNotFoundError`` if it is not there)."""
    # the package's folder, found without importing ziamath (its import loads its whole typesetter)
    spec = importlib.util.find_spec("ziamath")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        fonts = Path(folder) / "fonts"
        for entry in sorted(fonts.glob("STIXTwoMath*")):
            if entry.suffix in (".otf", ".ttf"):
                return entry.read_bytes()
    raise FileNotFoundError("the STIX Two Math font is not in the installed ziamath package")


def font_subset(text: str) -> bytes:
    """The font reduced to the glyphs of ``text`` (plus digits, letters and the usual operators), keeping the
    OpenType MATH table and its size variants."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables = ["DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) | set(_BASE_TEXT))))
    font = TTFont(io.BytesIO(font_bytes()))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
