"""Constant expressions: a safe parser and certified arb-ball evaluation.

An EXPR is a constant name, an expression, or a decimal literal:

* names: ``e``, ``pi``, ``phi`` (golden ratio), ``euler_gamma``, ``catalan`` (see ``NAMES``);
* functions of one argument ``exp log sqrt sin cos tan cot sinh cosh tanh coth zeta gamma`` and of two,
  ``besseli(nu, x)`` and ``besselj(nu, x)`` (order first; see ``FUNCTIONS``);
* ``+ - * / **`` (``^`` is a synonym of ``**``), unary ``-`` and ``+``, parentheses, whitespace anywhere
  between tokens;
* integers are exact (``2/3`` is the rational 2/3); decimal literals (``2.718281828``, ``1.5e-3``) are
  *measured* values: a literal with k significant digits is the ball [value +- one unit in its last place].

Precedence and associativity are Python's: ``-2**2 == -4``, ``2**3**2 == 2**9``, ``2**-1 == 1/2``.
Error positions are 0-based character offsets into the text.  The text is never handed to ``eval`` or any
other Python parser: a tokenizer and an iterative operator-precedence parser build a tree of frozen
dataclasses.  Hostile input is bounded: at most ``MAX_LENGTH`` characters, ``MAX_DEPTH`` levels of nesting
(parentheses, unary signs, powers, and the tree height, so a chain of more than ``MAX_DEPTH`` binary
operators is refused too) and ``MAX_BITS`` bits for any exactly folded intermediate result.

Every value is a python-flint ``arb`` ball computed inside ``ctx.workprec`` (the global precision is never
changed); ``Constant.ball(digits)`` is certified to at least ``digits`` decimal digits of relative accuracy.

    >>> c = constant("besseli(1,2) / besseli(0,2)")
    >>> c.text
    'besseli(1, 2)/besseli(0, 2)'
    >>> c.accuracy_digits(30) >= 30 and c.ball(30).contains(c.ball(60))
    True
    >>> constant("2^3^2", allow_rational=True).rational
    Fraction(512, 1)
    >>> constant("3.14").max_digits
    3
"""

from __future__ import annotations

import math
import operator
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import gmpy2
from flint import arb, ctx, fmpq, fmpz

__all__ = [
    "FUNCTIONS",
    "MAX_BITS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "NAMES",
    "BinOp",
    "Call",
    "Constant",
    "Dec",
    "Name",
    "Neg",
    "Node",
    "Num",
    "accuracy_digits",
    "ball_to_enclosure",
    "constant",
    "evaluate",
    "fold",
    "parse",
    "to_text",
]

NAMES: dict[str, str] = {
    "e": "Euler's number, exp(1)",
    "pi": "pi, the ratio of a circle's circumference to its diameter",
    "phi": "the golden ratio (1 + sqrt(5))/2",
    "euler_gamma": "the Euler-Mascheroni constant, lim (H_n - log n)",
    "catalan": "Catalan's constant, sum over n >= 0 of (-1)^n/(2n + 1)^2",
}

FUNCTIONS: dict[str, str] = {
    "exp": "exp(x): exponential function",
    "log": "log(x): natural logarithm (x > 0)",
    "sqrt": "sqrt(x): square root (x >= 0)",
    "sin": "sin(x): sine",
    "cos": "cos(x): cosine",
    "tan": "tan(x): tangent",
    "cot": "cot(x): cotangent",
    "sinh": "sinh(x): hyperbolic sine",
    "cosh": "cosh(x): hyperbolic cosine",
    "tanh": "tanh(x): hyperbolic tangent",
    "coth": "coth(x): hyperbolic cotangent",
    "zeta": "zeta(s): Riemann zeta function",
    "gamma": "gamma(x): Euler's gamma function",
    "besseli": "besseli(nu, x): modified Bessel function I_nu(x)",
    "besselj": "besselj(nu, x): Bessel function J_nu(x)",
}

MAX_LENGTH = 1_000_000
MAX_DEPTH = 200
MAX_BITS = 1_000_000  # per exactly folded result; the whole fold may spend 64x this
_MAX_EXPONENT_DIGITS = 7  # decimal literals: |exponent| < 10**7
_ARITY = {name: 2 if name.startswith("bessel") else 1 for name in FUNCTIONS}
_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "pos": 3, "**": 4}
_ATOM = 5
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_LOG2_10 = math.log2(10)
_GUARD_BITS = 10  # a ball(digits) is accurate to digits*log2(10) + this many bits
_VALIDATE_DIGITS = 15


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _int_text(n: int) -> str:
    # gmpy2 has no int-to-str digit limit (CPython refuses beyond 4300 digits)
    return str(gmpy2.mpz(n))


def _bad(problem: str) -> ValueError:
    return ValueError(f"Argument 'expr' must be a constant expression; {problem}")


def _too_deep(pos: int) -> ValueError:
    limit = f"more than {MAX_DEPTH} levels; chains of binary operators count too"
    return _bad(f"expression is nested too deeply ({limit}) at position {pos}")


# ---------------------------------------------------------------------------------------------------- tree


class Node:
    """Base of the expression tree; ``str(node)`` is its canonical text, ``node.height`` its height."""

    __slots__ = ()
    height: int

    def __str__(self) -> str:
        return to_text(self)

    def _set_height(self, *children: Node) -> None:
        h = 1 + max((c.height for c in children), default=0)
        if h > MAX_DEPTH:
            raise _bad(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
        object.__setattr__(self, "height", h)


@dataclass(frozen=True)
class Num(Node):
    """A non-negative integer literal (exact)."""

    value: int
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise TypeError(f"Num.value must be a non-negative int, not {self.value!r}")
        self._set_height()


@dataclass(frozen=True)
class Dec(Node):
    """A measured decimal literal: the ball ``mantissa * 10**exponent +- 10**exponent``.

    Trailing zeros are significant (``2.50`` has mantissa 250, exponent -2), leading zeros are not.
    """

    mantissa: int
    exponent: int
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.mantissa, int) or self.mantissa < 0 or not isinstance(self.exponent, int):
            raise TypeError(f"Dec needs a non-negative int mantissa and an int exponent, not {self!r}")
        self._set_height()

    @property
    def digits(self) -> int:
        """Significant digits carried by the literal (0 for a literal zero such as ``0.0``)."""
        return len(_int_text(self.mantissa)) if self.mantissa else 0


@dataclass(frozen=True)
class Name(Node):
    """A named constant, one of ``NAMES``."""

    name: str
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name not in NAMES:
            raise ValueError(f"unknown constant name {self.name!r} (known: {', '.join(NAMES)})")
        self._set_height()


@dataclass(frozen=True)
class Neg(Node):
    """Unary minus."""

    arg: Node
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._set_height(self.arg)


@dataclass(frozen=True)
class BinOp(Node):
    """``left op right`` with op one of ``+ - * / **``."""

    op: str
    left: Node
    right: Node
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op not in ("+", "-", "*", "/", "**"):
            raise ValueError(f"unknown binary operator {self.op!r}")
        self._set_height(self.left, self.right)


@dataclass(frozen=True)
class Call(Node):
    """``func(args...)`` with func one of ``FUNCTIONS``."""

    func: str
    args: tuple[Node, ...]
    height: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.func not in FUNCTIONS:
            raise ValueError(f"unknown function {self.func!r} (known: {', '.join(FUNCTIONS)})")
        if not isinstance(self.args, tuple) or len(self.args) != _ARITY[self.func]:
            raise ValueError(f"{FUNCTIONS[self.func].split(':')[0]} takes {_ARITY[self.func]} argument(s)")
        self._set_height(*self.args)


# ------------------------------------------------------------------------------------------------- parsing

_SPACE = re.compile(r"\s*")
_TOKEN = re.compile(
    r"(?P<dec>(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)"
    r"|(?P<int>[0-9]+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])"
)


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    """Yield (kind, text, position); lazily, so that an error early in a huge text is found at once."""
    pos, n = 0, len(text)
    while True:
        pos = _SPACE.match(text, pos).end()
        if pos >= n:
            yield "end", "", pos
            return
        m = _TOKEN.match(text, pos)
        if m is None:
            yield "err", text[pos], pos
            return
        kind, tok = m.lastgroup, m.group()
        yield kind, ("**" if tok == "^" else tok), pos
        pos = m.end()


def _decimal(tok: str, pos: int) -> Dec:
    mant, _, ex = tok.lower().partition("e")
    if len(ex.lstrip("+-")) > _MAX_EXPONENT_DIGITS:
        raise _bad(f"decimal exponent of {_short(tok)!r} is too large at position {pos}")
    ip, _, fp = mant.partition(".")
    return Dec(int(gmpy2.mpz(ip + fp)), int(ex or 0) - len(fp))


def parse(text: str) -> Node:
    """Parse an EXPR (see the module docstring) into a tree; ``ValueError`` names the problem and position.

    >>> parse("-2**2")
    Neg(arg=BinOp(op='**', left=Num(value=2), right=Num(value=2)))
    """
    if not isinstance(text, str):
        raise TypeError(f"Argument 'expr' must be str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise _bad(f"the text has {len(text)} characters, more than the limit of {MAX_LENGTH}")
    if not text.strip():
        raise _bad(f"got an empty string {text!r}")
    operands: list[Node] = []
    # operator stack entries: (kind, op, position, len(operands) when a group opened)
    ops: list[tuple[str, str, int, int]] = []
    nesting = 0  # open parentheses, calls, unary signs and powers on the stack

    def push(entry: tuple[str, str, int, int]) -> None:
        nonlocal nesting
        if entry[0] != "bin" or entry[1] == "**":
            nesting += 1
            if nesting > MAX_DEPTH:
                raise _too_deep(entry[2])
        ops.append(entry)

    def reduce() -> None:
        nonlocal nesting
        kind, op, pos, _ = ops.pop()
        if kind != "bin" or op == "**":
            nesting -= 1
        if kind == "pos":
            return
        args = (operands.pop(),) if kind == "neg" else (operands.pop(-2), operands.pop())
        if 1 + max(a.height for a in args) > MAX_DEPTH:
            raise _too_deep(pos)
        operands.append(Neg(args[0]) if kind == "neg" else BinOp(op, *args))

    def reduce_group() -> tuple[str, str, int, int] | None:
        while ops and ops[-1][0] in ("neg", "pos", "bin"):
            reduce()
        return ops[-1] if ops else None

    def known() -> str:
        return f"(known: {', '.join(NAMES)}; functions: {', '.join(FUNCTIONS)})"

    it = _tokens(text)
    expect_operand = True
    tok = next(it)
    while True:
        kind, val, pos = tok
        tok = None
        shown = _short(val)
        if kind == "err":
            raise _bad(f"unexpected character {val!r} at position {pos}")
        if expect_operand:
            if kind == "int":
                operands.append(Num(int(gmpy2.mpz(val))))
                expect_operand = False
            elif kind == "dec":
                operands.append(_decimal(val, pos))
                expect_operand = False
            elif kind == "name":
                tok = next(it)
                is_call = tok[1] == "("
                if val in NAMES and not is_call:
                    operands.append(Name(val))
                    expect_operand = False
                elif val in NAMES:
                    raise _bad(f"{val!r} at position {pos} is a constant, not a function")
                elif val in FUNCTIONS and is_call:
                    push(("call", val, pos, len(operands)))
                    tok = None
                elif val in FUNCTIONS:
                    usage = FUNCTIONS[val].split(":")[0]
                    raise _bad(f"function {val!r} at position {pos} needs parentheses, like {usage}")
                else:
                    what = "function" if is_call else "name"
                    raise _bad(f"unknown {what} {shown!r} at position {pos} {known()}")
            elif val in ("-", "+"):
                push(("neg" if val == "-" else "pos", val, pos, 0))
            elif val == "(":
                push(("(", val, pos, len(operands)))
            elif kind == "end":
                raise _bad(f"unexpected end of input at position {pos} (expected an operand)")
            elif val == ")" and ops and ops[-1][0] == "call" and ops[-1][3] == len(operands):
                f = ops[-1][1]
                raise _bad(f"{f}() at position {ops[-1][2]} takes {_ARITY[f]} argument(s), got 0")
            else:
                raise _bad(f"expected an operand, found {shown!r} at position {pos}")
        elif kind == "op" and val in _PREC:
            p = _PREC[val]
            while ops and ops[-1][0] in ("neg", "pos", "bin"):
                q = _PREC[ops[-1][1]] if ops[-1][0] == "bin" else _PREC["neg"]
                if q < p or (q == p and val == "**"):  # ** is right-associative
                    break
                reduce()
            push(("bin", val, pos, 0))
            expect_operand = True
        elif val in (")", ","):
            top = reduce_group()
            if top is None or (val == "," and top[0] != "call"):
                problem = "has no matching '('" if val == ")" else "outside a function call"
                raise _bad(f"{val!r} at position {pos} {problem}")
            gkind, f, gpos, mark = top
            nargs = len(operands) - mark
            if gkind == "call" and (nargs > _ARITY[f] or (val == ")" and nargs < _ARITY[f])):
                got = f"got {nargs}" if val == ")" else "got more"
                raise _bad(f"{f}() at position {gpos} takes {_ARITY[f]} argument(s), {got}")
            if val == ",":
                expect_operand = True
            else:
                ops.pop()
                nesting -= 1
                if gkind == "call":
                    args = tuple(operands[mark:])
                    del operands[mark:]
                    if 1 + max(a.height for a in args) > MAX_DEPTH:
                        raise _too_deep(gpos)
                    operands.append(Call(f, args))
        elif kind == "end":
            top = reduce_group()
            if top is not None:
                raise _bad(f"'(' at position {top[2]} is never closed (unbalanced parentheses)")
            return operands[0]
        else:
            raise _bad(f"expected an operator or the end, found {shown!r} at position {pos}")
        if tok is None:
            tok = next(it)


# ------------------------------------------------------------------------------------------ canonical text


def _prec(node: Node) -> int:
    if isinstance(node, BinOp):
        return _PREC[node.op]
    return _PREC["neg"] if isinstance(node, Neg) else _ATOM


def _dec_text(m: int, e: int) -> str:
    d = _int_text(m)
    n = len(d)
    if e < 0 and -e - n <= 6:  # positional unless it needs more than six zeros after the point
        d = d.rjust(1 - e, "0")
        return f"{d[:e]}.{d[e:]}"
    return f"{d[0]}.{d[1:]}e{e + n - 1}" if n > 1 else f"{d}e{e}"


def to_text(node: Node) -> str:
    """Canonical text of a tree: deterministic, minimal parentheses, re-parses to an equal tree.

    Spaces surround binary ``+`` and ``-`` only; a negated operand on the right of a binary operator is
    parenthesised (``2**(-1)``, ``a - (-b)``).

    >>> to_text(parse("( 1+e )  ^  2 * -pi"))
    '(1 + e)**2*(-pi)'
    """
    if isinstance(node, Num):
        return _int_text(node.value)
    if isinstance(node, Dec):
        return _dec_text(node.mantissa, node.exponent)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.func}({', '.join([to_text(a) for a in node.args])})"
    if isinstance(node, Neg):
        inner = to_text(node.arg)
        return f"-({inner})" if _prec(node.arg) < _PREC["**"] else f"-{inner}"
    if not isinstance(node, BinOp):
        raise TypeError(f"not an expression node: {node!r}")
    p, lp, rp = _PREC[node.op], _prec(node.left), _prec(node.right)
    left, right = to_text(node.left), to_text(node.right)
    if node.op == "**":
        lpar, rpar = lp <= p, rp < p
    else:
        lpar, rpar = lp < p, rp <= p or isinstance(node.right, Neg)
    left = f"({left})" if lpar else left
    right = f"({right})" if rpar else right
    return f"{left} {node.op} {right}" if p == 1 else f"{left}{node.op}{right}"


# ---------------------------------------------------------------------------------------------- exact fold


def _bits(q: gmpy2.mpq) -> int:
    return max(q.numerator.bit_length(), q.denominator.bit_length())


def _fold_tree(root: Node) -> dict[int, gmpy2.mpq | None]:
    """Exact value (mpq) or None for every subtree, keyed by id; raises ValueError on 1/0 or huge results."""
    memo: dict[int, gmpy2.mpq | None] = {}
    budget = [64 * MAX_BITS]  # total bits produced: many moderate results must not add up to a hang

    def check(q: gmpy2.mpq, node: Node) -> gmpy2.mpq:
        b = _bits(q)
        budget[0] -= b
        if b > MAX_BITS:
            raise too_big(node)
        if budget[0] < 0:
            raise _bad(f"too much exact arithmetic (more than {64 * MAX_BITS} bits of intermediate results)")
        return q

    def too_big(node: Node) -> ValueError:
        return _bad(f"the exact value of {_short(to_text(node))!r} is too large (more than {MAX_BITS} bits)")

    def power(node: Node, b: gmpy2.mpq, x: gmpy2.mpq) -> gmpy2.mpq | None:
        p, q = int(x.numerator), int(x.denominator)
        if b == 0:
            if x < 0:
                raise _bad(f"division by zero in {_short(to_text(node))!r}")
            return b if x > 0 else gmpy2.mpq(1)
        if b == 1 or (b == -1 and q == 1):
            return b ** (p % 2)
        if q > 1:
            if b < 0 or q > _bits(b):  # no real root, or too few bits to be a perfect q-th power
                return None
            rn, exact_n = gmpy2.iroot(b.numerator, q)
            rd, exact_d = gmpy2.iroot(b.denominator, q)
            if not (exact_n and exact_d):
                return None
            b = gmpy2.mpq(rn, rd)
        # b is not 0 or +-1, so each factor costs at least one bit
        size = max(math.log2(abs(int(b.numerator))), math.log2(int(b.denominator)))
        if abs(p) > MAX_BITS or abs(p) * size > MAX_BITS:
            raise too_big(node)
        return check(b**p, node)

    def go(node: Node) -> gmpy2.mpq | None:
        if isinstance(node, Num):
            r = gmpy2.mpq(node.value)
        elif isinstance(node, Neg):
            a = go(node.arg)
            r = None if a is None else -a
        elif isinstance(node, BinOp):
            a, b = go(node.left), go(node.right)
            if node.op == "/" and b == 0:  # an exact zero divisor is an error whatever the numerator
                raise _bad(f"division by zero in {_short(to_text(node))!r}")
            if a is None or b is None:
                r = None
            elif node.op == "**":
                r = power(node, a, b)
            else:  # operands are bounded (folded results, or literals under MAX_LENGTH): cheap to compute
                r = check(_ARITH[node.op](a, b), node)
        elif isinstance(node, Call) and node.func == "sqrt":
            a = go(node.args[0])
            r = None if a is None else power(node, a, gmpy2.mpq(1, 2))
        else:
            for a in _children(node):
                go(a)
            r = None  # names, decimal literals, transcendental functions
        memo[id(node)] = r
        return r

    go(root)
    return memo


def fold(node: Node) -> Fraction | None:
    """Exact rational value of a tree by exact folding, or None; ``ValueError`` on 1/0 or huge results.

    >>> fold(parse("8**(1/3) - sqrt(9/4)")), fold(parse("sqrt(2)")), fold(parse("2.5"))
    (Fraction(1, 2), None, None)
    """
    q = _fold_tree(node)[id(node)]
    return None if q is None else Fraction(int(q.numerator), int(q.denominator))


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Neg):
        return (node.arg,)
    if isinstance(node, BinOp):
        return node.left, node.right
    return node.args if isinstance(node, Call) else ()


def _literal_digits(node: Node) -> int | None:
    if isinstance(node, Dec):
        return node.digits
    found = [d for d in [_literal_digits(c) for c in _children(node)] if d is not None]
    return min(found) if found else None


# ----------------------------------------------------------------------------------------------- arb balls

_NAME_BALLS = {
    "e": arb.const_e,
    "pi": arb.pi,
    "phi": lambda: (arb(5).sqrt() + 1) / 2,
    "euler_gamma": arb.const_euler,
    "catalan": arb.const_catalan,
}
_FUNC_BALLS = {
    **{f: getattr(arb, f) for f in FUNCTIONS if _ARITY[f] == 1},
    "besseli": lambda nu, x: x.bessel_i(nu),
    "besselj": lambda nu, x: x.bessel_j(nu),
}


def _arb_q(q: gmpy2.mpq) -> arb:
    return arb(fmpq(int(q.numerator), int(q.denominator)))


def _eval_tree(root: Node, folds: dict[int, gmpy2.mpq | None]) -> tuple[arb, tuple[Node, int] | None]:
    """Ball of the tree at the current working precision; for the innermost subtree that is not finite, the
    subtree and the relative accuracy (bits) of its least accurate input."""
    culprit: list[tuple[Node, int]] = []

    def go(node: Node) -> arb:
        q = folds.get(id(node))
        if q is not None:
            return _arb_q(q)
        kids = [go(c) for c in _children(node)]
        if isinstance(node, Dec):
            # built from exact integers: the mantissa is exact, only 10**exponent is rounded (inside the ball)
            mid, ulp = arb(fmpz(node.mantissa)), arb(10) ** fmpz(node.exponent)
            r = ((mid - 1) * ulp).union((mid + 1) * ulp)
        elif isinstance(node, Name):
            r = _NAME_BALLS[node.name]()
        elif isinstance(node, Neg):
            r = -kids[0]
        elif isinstance(node, Call):
            acc = min(a.rel_accuracy_bits() for a in kids)
            if acc + 32 < ctx.prec:
                # more precision than the arguments carry buys nothing, and it makes some functions (Bessel
                # functions of wide balls) very slow
                with ctx.workprec(max(acc, 0) + 32):
                    r = _FUNC_BALLS[node.func](*kids)
            else:
                r = _FUNC_BALLS[node.func](*kids)
        elif node.op == "**" and (x := folds.get(id(node.right))) is not None and x.denominator == 1:
            r = kids[0] ** fmpz(int(x))  # exact binary powering, defined for negative bases too
        else:
            r = (operator.pow if node.op == "**" else _ARITH[node.op])(*kids)
        if not culprit and not r.is_finite():
            culprit.append((node, min(sys.maxsize if k.is_exact() else _acc_bits(k) for k in kids)))
        return r

    ball = go(root)
    return ball, (culprit[0] if culprit else None)


def _check_digits(digits: int) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise TypeError(f"Argument 'digits' must be int, not {type(digits).__name__}")
    if digits < 1:
        raise ValueError(f"Argument 'digits' must be a positive integer, not {digits}")
    return digits


def _acc_bits(ball: arb) -> int:
    return ball.rel_accuracy_bits() if ball.is_finite() and not ball.contains(0) else -1


def evaluate(node: Node, digits: int) -> arb:
    """Certified ball of a tree with relative accuracy of at least ``digits`` digits (plus guard digits).

    Works at ``digits*log2(10) + 32`` bits and retries with doubled extra bits up to about 8x that + 2000
    bits.  A rational tree gives the ball of its exact value (possibly exactly 0).  With decimal literals the
    best ball is returned even if less accurate (their digits cap the accuracy; check ``accuracy_digits``).
    Raises ``ValueError`` when the value is not a finite real number, or (without literals) when it cannot
    be certified, which happens for zero and for values too close to it.
    """
    digits = _check_digits(digits)
    folds = _fold_tree(node)
    need = math.ceil(digits * _LOG2_10) + _GUARD_BITS
    if folds[id(node)] is not None:
        with ctx.workprec(need + 22):
            return _arb_q(folds[id(node)])
    measured = _literal_digits(node) is not None
    best, best_acc, extra, input_acc = None, -1, 22, None
    while True:
        bits = need + extra
        with ctx.workprec(bits):
            ball, culprit = _eval_tree(node, folds)
        acc = _acc_bits(ball)
        if culprit is None and acc >= need:
            return ball
        if measured and acc > 0:
            if best is not None and acc < best_acc + 2:  # more precision no longer helps: literals cap it
                return best
            best, best_acc = ball, acc
        if culprit is not None:
            # accurate inputs (log(0), tan(pi/2), or huge arguments) stay non-finite at any precision; so do
            # inputs pinned by decimal literals once their accuracy stops improving
            stalled = measured and input_acc is not None and culprit[1] <= input_acc + 1
            if culprit[1] >= need or stalled:
                break
            input_acc = culprit[1]
        if bits >= 8 * (need + 22) + 2000:
            break
        extra *= 2
    text = _short(to_text(node))
    if culprit is not None:
        sub = _short(to_text(culprit[0]))
        raise ValueError(
            f"Argument 'expr' must have a finite real value; {sub!r} is not a finite real number (or is too "
            "large to enclose)" + ("" if sub == text else f" (in {text!r})")
        )
    if measured:
        return best if best is not None else ball
    raise ValueError(f"cannot certify the value of {text!r} to {digits} digits: it may be zero or rational")


def accuracy_digits(ball: arb) -> int:
    """Floor of the decimal relative accuracy ``log10(min|x| / rad)`` of a ball, x over the ball.

    0 if the ball contains 0 or is not finite; ``sys.maxsize`` for an exact nonzero ball.
    """
    if not ball.is_finite() or ball.contains(0):
        return 0
    if ball.rad().is_zero():
        return sys.maxsize
    (ml, el), (mr, er) = ball.abs_lower().man_exp(), ball.rad().man_exp()
    # exponents subtracted as integers: they can be far beyond float range for huge or tiny values
    bits = int(el) - int(er) + math.log2(int(ml)) - math.log2(int(mr))
    return max(0, math.floor(bits / _LOG2_10 - 1e-9))


def _dyadic(x: arb) -> gmpy2.mpq:
    man, exp = (int(v) for v in x.man_exp())
    if abs(exp) > 16 * MAX_BITS:
        raise ValueError(f"Argument 'ball' is too large or too small to convert to exact rationals: {x}")
    return gmpy2.mpq(man << exp) if exp >= 0 else gmpy2.mpq(man, 1 << -exp)


def ball_to_enclosure(ball: arb) -> tuple[gmpy2.mpq, gmpy2.mpq]:
    """Exact rationals ``(mid - rad, mid + rad)`` enclosing the ball; ``ValueError`` if it is not finite."""
    if not ball.is_finite():
        raise ValueError(f"Argument 'ball' must be finite, not {ball}")
    mid, rad = _dyadic(ball.mid()), _dyadic(ball.rad())
    return mid - rad, mid + rad


@lru_cache(maxsize=256)
def _cached_ball(text: str, digits: int) -> arb:
    return evaluate(parse(text), digits)


# ------------------------------------------------------------------------------------------------ Constant


@dataclass(frozen=True)
class Constant:
    """A parsed, validated constant.

    ``text`` is the canonical text; ``rational`` the exact value when it is provably rational (exact folding,
    or an exact ball from arb, as for ``exp(0)``), else None; ``max_digits`` None when the value can be
    computed to any precision, else the significant digits of its least precise decimal literal.
    """

    text: str
    node: Node
    rational: Fraction | None = None
    max_digits: int | None = None

    def ball(self, digits: int) -> arb:
        """Certified ball with at least ``digits`` digits of relative accuracy (cached); see ``evaluate``."""
        return _cached_ball(self.text, _check_digits(digits))

    def enclosure(self, digits: int) -> tuple[gmpy2.mpq, gmpy2.mpq]:
        """Exact rationals ``lo <= value <= hi`` from ``ball(digits)``."""
        return ball_to_enclosure(self.ball(digits))

    def accuracy_digits(self, digits: int) -> int:
        """Decimal digits of relative accuracy actually achieved by ``ball(digits)``."""
        return accuracy_digits(self.ball(digits))


def _rational_text(q: Fraction) -> str:
    s = _int_text(q.numerator) + ("" if q.denominator == 1 else "/" + _int_text(q.denominator))
    return _short(s, 80)


def constant(text: str, *, allow_rational: bool = False) -> Constant:
    """Parse, fold and validate an EXPR.

    Raises ``TypeError`` for a non-str, ``ValueError`` for anything outside the grammar, for values that are
    not finite real numbers or cannot be certified (zero, e.g. ``e - e``), and, unless ``allow_rational``,
    for rational values, whose continued fractions are finite.
    """
    node = parse(text)
    canonical = to_text(node)
    rational = fold(node)
    max_digits = _literal_digits(node)
    if rational is None:
        ball = _cached_ball(canonical, _VALIDATE_DIGITS)
        if max_digits is not None and accuracy_digits(ball) == 0:
            raise ValueError(
                f"cannot certify the value of {_short(canonical)!r}: its decimal literals do not determine "
                "even one digit (it may be zero; write exact values with integers, like 1/2)"
            )
        if ball.is_exact():  # arb proved the value is this dyadic rational
            q = _dyadic(ball)
            rational = Fraction(int(q.numerator), int(q.denominator))
    if rational is not None and not allow_rational:
        raise ValueError(
            f"Argument 'expr' is the rational number {_rational_text(rational)}: its continued fraction is "
            "finite, there is nothing to search"
        )
    return Constant(canonical, node, rational, max_digits)
