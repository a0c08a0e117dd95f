"""Every command documents itself: ``--help`` exits 0 and shows a runnable example."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import esma

COMMANDS = ["search", "expand", "list", "show", "verify", "export", "constants"]


def test_group_help_lists_every_command(esma_main):
    res = esma_main("--help")
    assert res.code == 0, res.stderr
    assert "Usage: esma" in res.stdout
    listed = res.stdout.split("Commands:", 1)[1]
    for cmd in COMMANDS:
        assert f"\n  {cmd} " in listed, f"{cmd} missing from the command list"
    assert res.stderr == ""


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(esma_main, cmd, flag):
    res = esma_main(cmd, flag)
    assert res.code == 0, res.stderr
    assert res.stdout.startswith(f"Usage: esma {cmd}")
    assert "Example" in res.stdout
    example = res.stdout.split("Example", 1)[1]
    assert f"esma {cmd}" in example, f"the example of {cmd} does not run {cmd}"
    assert res.stderr == ""


def test_search_help_documents_the_contract_options(esma_main):
    out = esma_main("search", "--help").stdout
    for opt in (
        "--degree",
        "--coeff-limit",
        "--min-period",
        "--max-period",
        "--depth",
        "--digits",
        "--verify-digits",
        "--workers",
        "--executor",
        "--scheduler",
        "--db",
        "--json",
    ):
        assert opt in out, opt


def test_version(esma_main):
    res = esma_main("--version")
    assert res.code == 0
    assert esma.__version__ in res.stdout


def test_no_command_is_usage(esma_main):
    # click shows the group help for a bare group; an unknown command is bad usage
    res = esma_main("frobnicate")
    assert res.code == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert "frobnicate" in res.stderr


def test_console_script_and_module_entry_points(esma_run):
    """The installed ``esma`` script and ``python -m esma.cli.main`` both run the same entry point."""
    res = esma_run("--help")
    assert res.code == 0 and "Usage: esma" in res.stdout
    script = shutil.which("esma", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("no esma console script next to the interpreter")
    proc = subprocess.run([script, "search", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "esma search" in proc.stdout and "Example" in proc.stdout
