"""The ``esma`` command line (installed as ``esma.cli``): a thin layer, parse -> engine -> catalog -> render."""
