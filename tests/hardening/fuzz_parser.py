"""Coverage-guided fuzzing of the expression parser with atheris (libFuzzer), on demand.

    pip install atheris
    python tests/hardening/fuzz_parser.py -atheris_runs=1000000          # a million inputs
    python tests/hardening/fuzz_parser.py -max_total_time=600 corpus/    # ten minutes, keeping a corpus

Every input is turned into text, either raw (any Unicode) or as a sequence of tokens of the grammar and of
hostile junk (names, functions, operators, huge literals, Python syntax, look-alike Unicode), and checked by
``check``: ``esma.constants.parse`` either returns a tree or raises ``ValueError``/``TypeError`` with a
one-line message; a tree's canonical text parses back to the same tree; ``constant`` (evaluation included)
again only raises ``ValueError``/``TypeError``; and all of it takes less than ``SLOW_SECONDS``.  Anything
else (another exception, a slow input) is a crash that libFuzzer reports with the input that caused it.

``check`` and ``TOKENS`` are shared with the Hypothesis tests (``test_fuzz.py`` loads this file), which is
why atheris is imported only by ``main``.
"""

from __future__ import annotations

import sys
import time

#: Grammar tokens and hostile junk, the alphabet of structured inputs.
TOKENS: tuple[str, ...] = (
    # the grammar
    "e", "pi", "phi", "euler_gamma", "catalan",
    "exp", "log", "sqrt", "sin", "cos", "tan", "cot", "sinh", "cosh", "tanh", "coth", "zeta", "gamma",
    "besseli", "besselj",
    "(", ")", ",", "+", "-", "*", "/", "**", "^", " ", "\t",
    "0", "1", "2", "3", "7", "10", "12", "0.5", "3.14159", "1e-3", "2.5E+7", ".5", "5.", "1e9999999",
    "00", "1_000",
    # huge values
    "10**10**10", "2**-1", "9" * 400, "1." + "3" * 300, "1e99999999", "(" * 50, ")" * 50, "-" * 50,
    # Python and shell syntax that must never mean anything
    "__import__", "os", "system", "eval", "exec", "lambda", "import", "'", '"', ";", "[", "]", "{", "}", ".",
    ":", "=", "==", "@", "!", "&", "|", "~", "%", "$", "`", "\\", "#", "\n", "\r", "\x00", "__class__",
    "__builtins__", "E", "j", "inf", "nan", "True", "None",
    # Unicode look-alikes: a math e, a minus sign, Arabic-Indic and full-width digits, a non-breaking space
    "\u212f", "\u03c0", "\u2212", "\u0661", "\uff11", "\u00a0", "\u200b", "\u00b2", "\u2044",
)

#: Known bugs (esma/constants.py): the canonical text of a tree that ``parse`` accepted is not always accepted by
#: ``parse`` again, so ``constant`` (which re-parses its canonical text) refuses the input with a message about
#: text the user did not write.  Still a one-line ValueError (exit 2), so ``check`` counts these instead of
#: failing on them; ``test_fuzz.py`` pins each with a strict xfail.
#:
#: * a decimal exponent within the limit as written but not once normalised: ``99e9999999`` is written
#:   ``9.9e10000000``, over the 7-digit exponent limit;
#: * nested negations are written with parentheses, which count as nesting too: 101 unary minus signs
#:   (``--...--e``, nesting 101) are written ``-(-(...-e))`` (nesting 201), over ``MAX_DEPTH``.
KNOWN_CANONICAL_BUGS = ("decimal exponent of", "nested too deeply")

#: No input may take longer than this to parse, fold and evaluate (generous: the machine may be loaded).
SLOW_SECONDS = 5.0


def check(text: str) -> str:
    """Parse (and evaluate) ``text``; returns ``"parsed"``, ``"constant"`` or ``"refused"``, raises on a bug."""
    from esma.constants import constant, parse, to_text

    t0 = time.perf_counter()
    outcome = "refused"
    try:
        node = parse(text)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if not message or "\n" in message or "\r" in message:
            raise AssertionError(f"the error for {text!r} is not one line: {message!r}") from None
        node = None
    if node is not None:
        outcome = "parsed"
        canonical = to_text(node)
        try:
            again = parse(canonical)
        except ValueError as exc:
            if any(bug in str(exc) for bug in KNOWN_CANONICAL_BUGS):
                return "known-bug"
            raise
        if again != node or to_text(again) != canonical:
            raise AssertionError(f"{text!r}: the canonical text {canonical!r} does not parse back to the same tree")
        try:
            constant(text, allow_rational=True)
            outcome = "constant"
        except (ValueError, TypeError) as exc:
            if not str(exc) or "\n" in str(exc):
                raise AssertionError(f"the error for {text!r} is not one line: {exc!r}") from None
    elapsed = time.perf_counter() - t0
    if elapsed > SLOW_SECONDS:
        raise AssertionError(f"{text[:200]!r} took {elapsed:.1f} s (limit {SLOW_SECONDS} s)")
    return outcome


def text_from_bytes(data: bytes) -> str:
    """Raw Unicode, or a sequence of ``TOKENS`` (chosen by the first byte)."""
    import atheris

    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeBool():
        return fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    parts = []
    while fdp.remaining_bytes() > 0:
        parts.append(TOKENS[fdp.ConsumeIntInRange(0, len(TOKENS) - 1)])
    return "".join(parts)


def test_one_input(data: bytes) -> None:
    check(text_from_bytes(data))


def main(argv: list[str]) -> None:
    import types

    import atheris

    import esma.constants as module

    # coverage feedback from the parser alone: instrument esma.constants' functions and methods, not the whole
    # package (its Numba kernels must keep their plain bytecode)
    for name, obj in list(vars(module).items()):
        if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__:
            setattr(module, name, atheris.instrument_func(obj))
        elif isinstance(obj, type) and obj.__module__ == module.__name__:
            for attr, fn in list(vars(obj).items()):
                if isinstance(fn, types.FunctionType):
                    setattr(obj, attr, atheris.instrument_func(fn))
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
