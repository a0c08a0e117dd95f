"""``esma show ID --plot FILE``: the convergence picture from the command line."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature; the image must also decode."""
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    pixels = imread(path)
    assert pixels.shape[:2] == (height, width)
    # a real picture, not a blank canvas: several distinct colours (curves, text, grid)
    assert len({tuple(px) for px in pixels.reshape(-1, pixels.shape[-1])[::97]}) > 5
    return width, height


@pytest.fixture(scope="module")
def e_catalog(tmp_path_factory, esma_run):
    """A small ``esma search e`` catalog and the id of e = 3 - 1/(3 + 1/(2 - ...)) (signs -+)."""
    db = tmp_path_factory.mktemp("plot") / "e.sqlite"
    res = esma_run(
        "search",
        "e",
        "--coeff-limit",
        "1",
        "--max-period",
        "2",
        "--verify-digits",
        "300",
        "--executor",
        "serial",
        "--json",
        "--db",
        db,
    )
    assert res.code == 0, res.stderr
    (conj,) = [c for c in json.loads(res.stdout)["conjectures"] if c["lhs"] == "c" and c["signs_text"] == "-+"]
    return db, conj["id"]


def test_show_plot_writes_a_png(e_catalog, esma_run, tmp_path):
    db, cid = e_catalog
    out = tmp_path / "e.png"
    res = esma_run("show", cid, "--db", db, "--plot", out)
    assert res.code == 0, res.stderr
    width, height = png_size(out)
    assert width > 200 and height > 100
    # stdout is the usual description, the note about the file goes to stderr
    assert res.stdout.startswith(f"#{cid}\ne = 3 - 1/(3 + 1/(2 - ")
    assert "latex" in res.stdout and str(out) not in res.stdout
    assert f"wrote the convergence plot of #{cid} to {out}" in res.stderr


def test_show_plot_with_json_keeps_stdout_parseable(e_catalog, esma_run, tmp_path):
    db, cid = e_catalog
    out = tmp_path / "e.png"
    res = esma_run("show", cid, "--db", db, "--json", "--plot", out)
    assert res.code == 0, res.stderr
    assert json.loads(res.stdout)["conjecture"]["id"] == cid
    assert png_size(out)[0] > 0


def test_show_without_plot_is_unchanged(e_catalog, esma_run, scratch_cwd):
    db, cid = e_catalog
    before = set(Path(scratch_cwd).iterdir())
    res = esma_run("show", cid, "--db", db)
    assert res.code == 0 and res.stderr == ""
    assert set(Path(scratch_cwd).iterdir()) == before  # no stray picture


def test_unwritable_plot_path_is_bad_input(e_catalog, esma_run, tmp_path):
    db, cid = e_catalog
    res = esma_run("show", cid, "--db", db, "--plot", tmp_path / "missing" / "e.png")
    assert res.code == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("esma: error: cannot write") and "Traceback" not in res.stderr


def test_plot_of_unknown_id_is_bad_input(e_catalog, esma_run, tmp_path):
    db, _ = e_catalog
    out = tmp_path / "none.png"
    res = esma_run("show", 10_000, "--db", db, "--plot", out)
    assert res.code == 2 and "no formula with id 10000" in res.stderr
    assert not out.exists()


def test_help_mentions_plot(esma_run):
    res = esma_run("show", "--help")
    assert res.code == 0 and "--plot" in res.stdout
