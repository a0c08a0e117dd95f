"""Browse the catalog in web pages (``esma serve``) and write them as one HTML file (``esma export --format html``).

The layer is thin: routes (:mod:`.app`) -> catalog reads (:mod:`.source`, read-only) -> page contents
(:mod:`.pages`) -> Jinja2 templates (``templates/``, autoescaped).  Formulas are MathML made on the server
(:mod:`.mathml`), plots inline SVG (:mod:`.svgplot`), the math font comes from the ziamath package
(:mod:`.assets`); the pages need no JavaScript and no network.
"""

from esma.cli.web.app import create_app

__all__ = ["create_app"]
