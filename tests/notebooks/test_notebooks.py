"""Every notebook in notebooks/ runs from top to bottom on a fresh kernel, as a new user would run it.

Each notebook is executed with nbclient (kernel ``python3``, 300 s per cell) in an empty scratch directory, so
it cannot lean on files of the repository or on a catalog left in the working directory: only the installed
package.  Notebooks are stored without outputs; the executed copy is kept in the test's temporary directory.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
EXPECTED = {"01_quickstart.ipynb", "02_convergence.ipynb", "03_families.ipynb"}


def test_the_notebooks_are_there():
    assert {p.name for p in PATHS} >= EXPECTED
    assert (NOTEBOOKS / "README.md").is_file()


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


def _outputs(nb, mime: str) -> list:
    return [
        out.data[mime]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type in ("execute_result", "display_data") and mime in out.data
    ]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.delenv("ESMA_DB", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    seconds = time.perf_counter() - t0
    nbformat.write(nb, tmp_path / path.name)

    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    # formulas render as LaTeX continued fractions, pictures as PNG images
    latex = _outputs(nb, "text/latex")
    assert latex and all(x.startswith("$$") and r"\cfrac" in x for x in latex)
    images = _outputs(nb, "image/png")
    assert images and all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert seconds < 120, f"{path.name} took {seconds:.0f} s: keep the searches small"
    assert list(tmp_path.iterdir()) == [tmp_path / path.name], "a notebook wrote into its working directory"
