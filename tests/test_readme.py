"""The README's shell commands run as written and print what the README shows.

The convention (also stated in a comment at the top of README.md): fenced blocks marked ``sh``, ``shell``,
``bash`` or ``console`` hold commands.  In a ``sh``/``shell``/``bash`` block every non-empty line is a command.
In a ``console`` block a line starting with ``$ `` is a command, and the lines after it, up to the next command
or the end of the block, are what it prints (stdout and stderr together, as in a terminal): whitespace is
normalised, every line shown must match one line of the output, in order and consecutively, from the first line
to the last; ``...`` on a line of its own stands for any number of lines (none included) and ``...`` inside a
line for any text.  Text after ``  # `` (two spaces, a hash, a space) is a comment.  ``a && b`` is two commands.

The commands run in README order, each in its own ``bash -c``, in one empty temporary folder (so they share the
catalog ./esma.sqlite that a reader's first command creates), with ``HOME`` in that folder, ``ESMA_DB`` unset
and ``COLUMNS=80``.  Every one must exit with 0.  The commands that cannot run here are listed in ``EXCLUDED``
with the reason; each entry must still match a command of the README (an entry nothing matches fails the test,
so the list cannot go stale), and an excluded ``export`` excludes the rest of its block (the commands after it
use what it sets).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SHELL_BLOCKS = ("sh", "shell", "bash", "console")
COMMENT = "  # "

#: Commands of the README that this test does not run, and why (a regular expression matched at the start).
EXCLUDED: dict[str, str] = {
    r"pip install\b": "installs packages: the test runs in the environment that is already installed",
    r"pytest$": "the test suite itself (CI runs it)",
    r"esma serve\b": "a server that runs until stopped; tests/web (test_browser.py, test_load.py) runs esma serve",
    r"jupyter lab\b": "an interactive server; tests/notebooks runs the notebooks",
    r"dask (scheduler|worker)\b": "starts a Dask cluster on other machines",
    r"esma search .*--scheduler tcp://HOST": "needs a Dask scheduler at HOST; tests/scaleout runs the dask executor",
    r"export ESMA_DB=postgresql": "needs a PostgreSQL server (tests/db runs the catalog on one when CI provides "
                                  "it); the rest of its block uses that server",
    r"python benchmarks/": "benchmarks run for minutes; tests/ covers what they measure",
}


@dataclass(frozen=True)
class Command:
    """One command of the README: its line number, text, and the output lines the README shows (``None``: a
    ``sh`` block, which shows no output)."""

    line: int
    text: str
    shown: tuple[str, ...] | None
    excluded: str | None = None
    block: int = field(default=0, compare=False)


def _strip_comment(line: str) -> str:
    return line.split(COMMENT, 1)[0].strip()


def readme_commands(text: str) -> list[Command]:
    """The commands of README text, in order, with their shown output and the reason they are excluded.

    >>> [c.text for c in readme_commands("```sh\\npip install . && esma constants  # names\\n```\\n")]
    ['pip install .', 'esma constants']
    >>> cmd = readme_commands("```console\\n$ esma expand e\\ne = 2 + ...\\n...\\n```\\n")[0]
    >>> cmd.text, cmd.shown, cmd.excluded
    ('esma expand e', ('e = 2 + ...', '...'), None)
    """
    out: list[Command] = []
    lines = text.splitlines()
    i, block = 0, 0
    while i < len(lines):
        fence = re.fullmatch(r"```(\w*)\s*", lines[i])
        if not fence:
            i += 1
            continue
        kind, body, start = fence.group(1), [], i + 1
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        if kind not in SHELL_BLOCKS:
            continue
        block += 1
        found: list[tuple[int, str, list[str] | None]] = []
        for n, line in enumerate(body, start + 1):
            if kind == "console":
                if line.startswith("$ "):
                    found.append((n, _strip_comment(line[2:]), []))
                elif found and line.strip():
                    found[-1][2].append(line)
                elif line.strip():
                    raise AssertionError(f"README.md:{n}: output before any command in a console block")
            elif line.strip():
                found.append((n, _strip_comment(line), None))
        gone: str | None = None  # an excluded export: the rest of the block depends on it
        for n, command, shown in found:
            for part in command.split(" && "):
                why = gone or next((reason for pattern, reason in EXCLUDED.items() if re.match(pattern, part)), None)
                if why and part.startswith("export "):
                    gone = why
                out.append(Command(n, part.strip(), None if shown is None else tuple(shown), why, block))
    return out


def _pattern(line: str) -> re.Pattern[str]:
    words = " ".join(line.split())
    return re.compile(".*".join(re.escape(part) for part in words.split("...")))


def output_matches(shown: tuple[str, ...], output: str) -> bool:
    """Whether ``output`` is what ``shown`` shows (see the module's docstring).

    >>> output_matches(("3 families", "...", "  1. e ... (gain 1.5)"), "3 families\\nx\\ny\\n1. e = 2 (gain 1.5)\\n")
    True
    >>> output_matches(("3 families",), "3 families\\nmore\\n")
    False
    >>> output_matches((), "")
    True
    """
    actual = [" ".join(line.split()) for line in output.splitlines()]
    items = [None if line.strip() == "..." else _pattern(line) for line in shown]
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        if (i, j) not in memo:
            if i == len(items):
                ok = j == len(actual)
            elif items[i] is None:  # any number of lines
                ok = match(i + 1, j) or (j < len(actual) and match(i, j + 1))
            else:
                ok = j < len(actual) and items[i].fullmatch(actual[j]) is not None and match(i + 1, j + 1)
            memo[(i, j)] = ok
        return memo[(i, j)]

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * (len(actual) + len(items)) + 1000))
    return match(0, 0)


def test_the_first_block_installs_and_runs_the_main_job_then_the_tests():
    first = [c for c in readme_commands(README.read_text(encoding="utf-8")) if c.block == 1]
    assert [c.text for c in first] == ['pip install .', 'esma search "tan(1)"', 'pip install ".[test]"', "pytest"]


def test_every_exclusion_names_a_command_of_the_readme():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    for pattern in EXCLUDED:
        assert any(re.match(pattern, c.text) for c in commands), f"no README command matches {pattern!r}"


def test_the_readme_and_docs_cite_no_file_a_clone_lacks():
    root = README.parent
    texts = {"README.md": README.read_text(encoding="utf-8")}
    texts.update({str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in (root / "docs").glob("*.md")})
    for name, text in texts.items():
        assert "DESIGN" not in text, name
        for target in re.findall(r"\]\(([^)#]+)\)", text):  # every relative link leads to a file of the clone
            if not target.startswith(("http://", "https://")):
                assert ((root / name).parent / target).exists(), (name, target)


def test_the_readme_commands_run_and_print_what_it_shows(tmp_path):
    commands = readme_commands(README.read_text(encoding="utf-8"))
    runnable = [c for c in commands if c.excluded is None]
    assert len(runnable) >= 15 and any(c.text == 'esma search "tan(1)"' for c in runnable)
    env = {k: v for k, v in os.environ.items() if k not in ("ESMA_DB", "ESMA_DEBUG")}
    # the esma of this interpreter's environment, as `pip install .` would put it on the PATH
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", HOME=str(tmp_path),
               COLUMNS="80", PYTHONUNBUFFERED="1")
    took: list[tuple[float, str]] = []
    for cmd in runnable:
        start = time.monotonic()
        res = subprocess.run(["bash", "-c", cmd.text], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=300, stdin=subprocess.DEVNULL)
        took.append((time.monotonic() - start, cmd.text))
        where = f"README.md:{cmd.line}: {cmd.text}"
        assert res.returncode == 0, f"{where}\nexit code {res.returncode}\n{res.stdout[-3000:]}"
        if cmd.shown is not None:
            shown = "\n".join(cmd.shown)
            assert output_matches(cmd.shown, res.stdout), (
                f"{where}\nthe README shows:\n{shown}\nit printed (its end):\n{res.stdout[-1500:]}")
    slowest = sorted(took, reverse=True)[:3]
    print("\nslowest README commands: " + "; ".join(f"{t:.1f} s {c}" for t, c in slowest))


@pytest.mark.parametrize(("shown", "output", "ok"), [
    (("a", "b"), "a\nb\n", True),
    (("a",), "a\nb\n", False),  # a line printed that the README does not show
    (("a", "..."), "a\nb\nc\n", True),
    (("...", "c"), "a\nb\nc\n", True),
    (("a", "c"), "a\nb\nc\n", False),  # consecutive unless "..." says so
    (("x = ... (gain 2)",), "x  =  1 + 1/(2 + ...)   (gain 2)\n", True),
    (("x = ... (gain 2)",), "x = 1 (gain 3)\n", False),
    ((), "anything\n", False),
])
def test_output_matching(shown, output, ok):
    assert output_matches(shown, output) is ok
