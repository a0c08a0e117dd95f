"""Convergence pictures: a valid, readable PNG with the right curves, labels and legend."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest

from esma.convergence import convergence
from esma.plots import _mathtext_or_plain, convergence_figure, save_convergence_plot
from esma.records import Conjecture

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# the ESMA paper's tan 1 = 1 + 1/(2 - 1/(4 + 1/(1 + 1/(6 - ...)))), signs (+, -, +)
TAN1 = Conjecture(
    constant="tan(1)", lhs="c", lhs_numerator=(0, 1), lhs_denominator=(1,), value="1.5574", signs=(1, -1, 1),
    preperiod=0, terms=(1, 2, 4, 1, 6, 8, 1, 10, 12), recurrence=(1, 0, 0, -2, 0, 0, 1), closed_form="",
    kind="polynomial", verified_digits=300, digits_per_term=2.416, scf_digits_per_term=1.807,
)
# I_0(2)/I_1(2) = [1; 2, 3, 4, ...]: T(c) = 1/c, a title with nested fractions
BESSEL = Conjecture(
    constant="besseli(1, 2)/besseli(0, 2)", lhs="1/c", lhs_numerator=(1,), lhs_denominator=(0, 1), value="1.43",
    signs=(1,), preperiod=0, terms=(1, 2, 3, 4, 5), recurrence=(1, -2, 1), closed_form="a(n) = n + 1",
    kind="polynomial", verified_digits=300, digits_per_term=3.15, scf_digits_per_term=3.15,
)


def test_save_writes_a_png(tmp_path):
    from matplotlib.image import imread

    path = save_convergence_plot(TAN1, tmp_path / "tan1.png", digits=200)
    assert path == str(tmp_path / "tan1.png")
    data = (tmp_path / "tan1.png").read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 400 and height > 200
    pixels = imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels.std() > 0.05  # not a blank canvas


def test_other_formats_follow_the_extension(tmp_path):
    path = save_convergence_plot(TAN1, tmp_path / "tan1.svg", digits=50)
    assert (tmp_path / "tan1.svg").read_text()[:200].lstrip().startswith("<?xml")
    assert path.endswith(".svg")


def test_figure_content():
    from matplotlib.figure import Figure

    fig = convergence_figure(TAN1, 200)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "number of terms n"
    assert "correct digits" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["signed (signs +-+)", "simple continued fraction", "200 digits"]
    title = ax.get_title()
    assert title.startswith(r"Convergence of $\tan 1$")  # DESIGN 10: as a mathematician writes it
    conv = convergence(TAN1, 200)
    signed_n, simple_n = conv.terms_to_digits()
    assert f"{signed_n} terms for 200 digits with signs +-+, {simple_n} with the simple" in title
    # the curves are the convergence series, unaltered
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert tuple(lines["signed (signs +-+)"].get_ydata()) == conv.signed
    assert tuple(lines["simple continued fraction"].get_ydata()) == conv.simple
    assert tuple(lines["simple continued fraction"].get_xdata()) == conv.n


def test_title_names_the_constant_when_lhs_is_a_transform(tmp_path):
    fig = convergence_figure(BESSEL, 100)
    title = fig.axes[0].get_title()
    assert r"\dfrac{1}" in title and "(c = besseli(1, 2)/besseli(0, 2))" in title
    fig.savefig(tmp_path / "b.png")  # mathtext must typeset it (errors only surface when drawing)


def test_draws_into_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    left, right = fig.subplots(1, 2)
    data = convergence(TAN1, 50)
    assert convergence_figure(TAN1, ax=right, data=data) is fig
    assert not left.lines and len(right.lines) >= 2
    assert tuple(right.lines[0].get_ydata()) == data.signed


def test_mathtext_fallback():
    assert _mathtext_or_plain(r"\frac{e}{e - 1}", "e/(e - 1)") == r"$\frac{e}{e - 1}$"
    assert _mathtext_or_plain(r"\nosuchmacro{e}", "plain") == "plain"


def test_import_esma_does_not_load_matplotlib():
    code = "import sys, esma, esma.convergence, esma.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_bad_digits():
    with pytest.raises(ValueError, match="digits"):
        convergence_figure(TAN1, -1)
