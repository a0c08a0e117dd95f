"""Value records returned by the engine.

These frozen dataclasses are the only thing the engine hands to the outside world (the catalog, the CLI,
notebooks).  Every field is plain data: Python ints (exact, arbitrary size), strings, tuples.  ``to_dict``
gives the JSON record of DESIGN section 3 (big integers stay JSON integers).

Conventions (DESIGN section 1): a signed continued fraction

    x = a_0 + b_0/(a_1 + b_1/(a_2 + b_2/(a_3 + ...)))

has signs ``b_n = signs[n mod p]`` in {+1, -1}; a recurrence ``[c_0, ..., c_L]`` means
``sum_i c_i a_{n-i} = 0`` for every ``n >= preperiod + L``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

__all__ = [
    "FAMILY_SORTS",
    "KINDS",
    "STATUSES",
    "ClosedForm",
    "Conjecture",
    "Family",
    "Formula",
    "Hit",
    "Recurrence",
    "SignedCF",
    "fraction_text",
    "signs_from_text",
    "signs_to_text",
]

#: Kinds of closed form (``esma.patterns``): eventually periodic, interlaced polynomials, exponential, other.
KINDS = ("periodic", "polynomial", "exponential", "other")
#: Statuses of a formula: approved numerically (``conjecture``), ``proved`` (a checked certificate), or
#: ``refuted`` (a deeper verification disagreed).
STATUSES = ("conjecture", "proved", "refuted")
#: How families can be listed: rank (gain, then simplicity), gain, members, digits, simplicity.
FAMILY_SORTS = ("rank", "gain", "members", "digits", "simplicity")


def signs_to_text(signs: tuple[int, ...]) -> str:
    """``(1, -1, 1)`` -> ``"+-+"``.

    >>> signs_to_text((1, -1, 1))
    '+-+'
    """
    return _signs_text(tuple(signs))


@lru_cache(maxsize=1024)
def _signs_text(signs: tuple[int, ...]) -> str:
    return "".join("+" if s > 0 else "-" for s in signs)


def signs_from_text(text: str) -> tuple[int, ...]:
    """``"+-+"`` -> ``(1, -1, 1)``; raises ``ValueError`` on anything but a non-empty run of ``+``/``-``.

    >>> signs_from_text("-+")
    (-1, 1)
    """
    if not isinstance(text, str):
        raise TypeError(f"Argument 'signs' must be a string of '+' and '-', not {type(text).__name__}")
    t = text.strip()
    if not t or any(ch not in "+-" for ch in t):
        raise ValueError(f"Argument 'signs' must be a non-empty string of '+' and '-' (like '+-+'), not {text!r}")
    return tuple(1 if ch == "+" else -1 for ch in t)


@dataclass(frozen=True)
class SignedCF:
    """Certified leading terms of the signed continued fraction of a value under a sign period.

    ``terms`` are proven: more precision can extend them but never change them.  ``exact`` is true when the
    expansion ended because the value is rational (its last x_n was an integer), false when the precision ran
    out or the requested number of terms was reached.
    """

    signs: tuple[int, ...]
    terms: tuple[int, ...]
    exact: bool = False

    def sign(self, n: int) -> int:
        """The numerator b_n = signs[n mod p]."""
        return self.signs[n % len(self.signs)]

    def __len__(self) -> int:
        return len(self.terms)


@dataclass(frozen=True)
class Recurrence:
    """An integer linear recurrence ``sum_{i=0}^{L} c_i a_{n-i} = 0`` for ``n >= preperiod + L``.

    ``coefficients`` is primitive with ``c_0 > 0`` (and ``c_0 != 0`` always); ``L = len(coefficients) - 1`` is the
    order.  ``linear_complexity = preperiod + L`` is what Berlekamp–Massey reports for the whole sequence.
    """

    coefficients: tuple[int, ...]
    preperiod: int = 0

    @property
    def order(self) -> int:
        return len(self.coefficients) - 1

    @property
    def linear_complexity(self) -> int:
        return self.preperiod + self.order

    def extend(self, head: tuple[int, ...] | list[int], count: int) -> list[int]:
        """Continue ``head`` (at least ``linear_complexity`` terms) to ``count`` terms exactly.

        Raises ``ArithmeticError`` if a generated term is not an integer (the recurrence does not describe an
        integer sequence from this head).

        >>> Recurrence((1, -2, 1)).extend([0, 1], 6)
        [0, 1, 2, 3, 4, 5]
        """
        c = self.coefficients
        seq = [int(v) for v in head[: max(self.linear_complexity, 0)]]
        if len(seq) < self.linear_complexity:
            raise ValueError(
                f"Argument 'head' must hold at least {self.linear_complexity} terms, not {len(head)}"
            )
        c0 = c[0]
        # interlaced-polynomial recurrences are sparse ((1, 0, 0, -2, 0, 0, 1)): skip the zeros
        taps = [(i, -x) for i, x in enumerate(c) if i and x]
        if count - len(seq) > 64 and _fits(seq, 2**62) and all(abs(x) < 2**31 for _, x in taps):
            seq = _extend_fast(seq, taps, c0, count)
        return _extend_exact(seq, taps, c0, count)

    def extend_py(self, head: tuple[int, ...] | list[int], count: int) -> list[int]:
        """Exact pure-Python twin of the compiled ``extend`` path (same results, for tests)."""
        seq = [int(v) for v in head[: self.linear_complexity]]
        taps = [(i, -x) for i, x in enumerate(self.coefficients) if i and x]
        return _extend_exact(seq, taps, self.coefficients[0], count)

    def holds_on(self, seq: list[int] | tuple[int, ...]) -> bool:
        """True when every term from index ``preperiod + L`` on satisfies the recurrence."""
        taps = [(i, x) for i, x in enumerate(self.coefficients) if x]
        start = self.linear_complexity
        if len(seq) - start > 32 and _fits(seq, 2**40) and sum(abs(x) for _, x in taps) < 2**20:
            # every partial sum is below 2^60: the check is exact in int64, vectorised per tap
            import numpy as np

            arr = np.array(seq, np.int64)
            acc = np.zeros(len(seq) - start, np.int64)
            for i, x in taps:
                acc += x * arr[start - i : len(seq) - i]
            return not acc.any()
        return _holds_py(taps, start, seq)

    def holds_on_py(self, seq: list[int] | tuple[int, ...]) -> bool:
        """Exact pure-Python twin of ``holds_on`` (same answers, for tests)."""
        return _holds_py([(i, x) for i, x in enumerate(self.coefficients) if x], self.linear_complexity, seq)


def _holds_py(taps: list[tuple[int, int]], start: int, seq) -> bool:
    return all(sum(x * seq[n - i] for i, x in taps) == 0 for n in range(start, len(seq)))


def _fits(values, bound: int) -> bool:
    """Every |v| < bound (min/max run in C: far cheaper than a generator over the values)."""
    return not values or (max(values) < bound and min(values) > -bound)


def _extend_exact(seq: list[int], taps: list[tuple[int, int]], c0: int, count: int) -> list[int]:
    append = seq.append
    while len(seq) < count:
        n = len(seq)
        q, r = divmod(sum(x * seq[n - i] for i, x in taps), c0)
        if r:
            raise ArithmeticError("recurrence produced a non-integer term")
        append(q)
    return seq[:count]


def _extend_fast(seq: list[int], taps: list[tuple[int, int]], c0: int, count: int) -> list[int]:
    """Continue ``seq`` in int64 with the Numba kernel as far as it is safe; the caller finishes exactly."""
    import numpy as np

    from esma.kernels.cf import extend_kernel

    arr = np.zeros(count, np.int64)
    arr[: len(seq)] = seq
    filled = extend_kernel(
        arr,
        len(seq),
        np.array([i for i, _ in taps], np.int64),
        np.array([x for _, x in taps], np.int64),
        c0,
        count,
    )
    return arr[:filled].tolist()


@dataclass(frozen=True)
class ClosedForm:
    """Closed form of an eventually linear-recurrent sequence.

    ``kind`` is ``periodic`` (eventually periodic), ``polynomial`` (interlaced polynomials,
    ``a(N m + j) = P_j(m)`` for every ``n = N m + j >= start``), ``exponential`` (a characteristic root that is not
    a root of unity) or ``other``.  For ``periodic``/``polynomial``, ``period`` is N and ``polynomials[j]`` holds the
    coefficients of ``P_j`` in ascending powers of m, as exact fractions; ``start`` is the first index they
    describe, and ``head`` the terms before it.  ``text`` is the human-readable form.
    """

    kind: str
    text: str
    period: int = 0
    start: int = 0
    head: tuple[int, ...] = ()
    polynomials: tuple[tuple[Fraction, ...], ...] = ()

    def term(self, n: int) -> int:
        """a(n) from the closed form (only for ``periodic`` and ``polynomial`` kinds)."""
        if not self.polynomials:
            raise ValueError("this closed form has no interlaced polynomials")
        if n < self.start:
            return self.head[n]
        m, j = divmod(n, self.period)
        v = sum(Fraction(cf) * m**k for k, cf in enumerate(self.polynomials[j]))
        if v.denominator != 1:
            raise ArithmeticError("closed form is not integer-valued here")
        return int(v)


@dataclass(frozen=True)
class Formula:
    """One approved formula: T(c) equals the signed continued fraction with these signs and terms.

    All numbers are exact.  ``id`` is assigned by the catalog (``None`` straight from the engine).  ``key`` is
    a canonical identity unique per constant (same formula -> same key); ``group`` is shared by conjectures of
    equal value (same T(c) with several sign periods, or equal values of different transforms).

    Families (DESIGN section 7): ``family`` is the canonical key of the formula's eventual tail;
    ``representative`` marks the simplest member; ``relation`` is G = (g11, g12, g21, g22) with
    T(c) = G(T_rep(c)), an identity in Z[c] ((1, 0, 0, 1) for the representative itself, or when the formula was
    approved on its own); ``gain`` = digits_per_term / scf_digits_per_term.  ``certificate`` is the proof object
    of DESIGN section 8 when ``status`` is ``proved`` (else ``None``).
    """

    constant: str
    lhs: str
    lhs_numerator: tuple[int, ...]
    lhs_denominator: tuple[int, ...]
    value: str
    signs: tuple[int, ...]
    preperiod: int
    terms: tuple[int, ...]
    recurrence: tuple[int, ...]
    closed_form: str
    kind: str
    verified_digits: int
    digits_per_term: float
    scf_digits_per_term: float
    status: str = "conjecture"
    status_reason: str = ""
    key: str = ""
    group: str = ""
    period: int = 0
    polynomials: tuple[tuple[str, ...], ...] = ()
    linear_complexity: int = 0
    detection_terms: int = 0
    detection_digits: int = 0
    verify_terms: int = 0
    cf_text: str = ""
    family: str = ""
    representative: bool = False
    relation: tuple[int, int, int, int] = (1, 0, 0, 1)
    gain: float = 0.0
    certificate: dict[str, Any] | None = field(default=None, hash=False)
    id: int | None = None
    family_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def signs_text(self) -> str:
        return signs_to_text(self.signs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON record of DESIGN section 3 (integers stay exact Python ints)."""
        d = asdict(self)
        for k in ("lhs_numerator", "lhs_denominator", "signs", "terms", "recurrence"):
            d[k] = list(d[k])
        d["polynomials"] = [list(p) for p in self.polynomials]
        g11, g12, g21, g22 = self.relation
        d["relation"] = [[g11, g12], [g21, g22]]
        d["signs_text"] = self.signs_text
        d.pop("extra")
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Formula:
        """Inverse of ``to_dict`` (unknown keys go to ``extra``)."""
        names = {f for f in cls.__dataclass_fields__ if f != "extra"}
        kw = {k: v for k, v in d.items() if k in names}
        extra = {k: v for k, v in d.items() if k not in names and k != "signs_text"}
        for k in ("lhs_numerator", "lhs_denominator", "signs", "terms", "recurrence"):
            if k in kw:
                kw[k] = tuple(int(v) for v in kw[k])
        if "polynomials" in kw:
            kw["polynomials"] = tuple(tuple(str(c) for c in p) for p in kw["polynomials"])
        if "relation" in kw:
            rel = kw["relation"]
            flat = [v for row in rel for v in row] if rel and isinstance(rel[0], list | tuple) else list(rel)
            kw["relation"] = tuple(int(v) for v in flat)
        return cls(**kw, extra=extra)


#: The old name of :class:`Formula` (what esma stores is a formula; ``conjecture`` is one of its statuses).
#: Kept so that ``from esma import Conjecture`` and pickles naming it keep working.
Conjecture = Formula


@dataclass(frozen=True)
class Hit:
    """A candidate whose terms follow an exact recurrence, before approval (what a scan chunk returns).

    ``transform`` and ``period`` index the search plan's transforms and sign periods; ``terms`` are certified
    leading terms (enough for the record); ``start``, ``form_period`` and ``polynomials`` give the closed form
    (a(N m + j) = P_j(m) for n >= start; no polynomials for the kinds ``exponential`` and ``other``, whose
    ``start`` is the recurrence's pre-period).  ``family`` is the canonical key of its tail and ``offset`` its
    place on it (``esma.families``; empty for the kinds without a canonical tail).  Plain data:
    ``to_dict``/``from_dict`` are exact JSON.
    """

    transform: int
    period: int
    terms: tuple[int, ...]
    recurrence: tuple[int, ...]
    start: int
    kind: str
    form_period: int
    polynomials: tuple[tuple[Fraction, ...], ...]
    detection_terms: int
    detection_digits: int
    linear_complexity: int
    family: str = ""
    offset: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "transform": self.transform,
            "period": self.period,
            "terms": list(self.terms),
            "recurrence": list(self.recurrence),
            "start": self.start,
            "kind": self.kind,
            "form_period": self.form_period,
            "polynomials": [[fraction_text(c) for c in p] for p in self.polynomials],
            "detection_terms": self.detection_terms,
            "detection_digits": self.detection_digits,
            "linear_complexity": self.linear_complexity,
            "family": self.family,
            "offset": self.offset,
        }

    def to_row(self) -> list[Any]:
        """The compact JSON form (a list in field order) a scan checkpoint stores; ``from_row`` inverts it."""
        return [self.transform, self.period, list(self.terms), list(self.recurrence), self.start, self.kind,
                self.form_period, [[fraction_text(c) for c in p] for p in self.polynomials],
                self.detection_terms, self.detection_digits, self.linear_complexity, self.family, self.offset]

    @classmethod
    def from_row(cls, row: list[Any]) -> Hit:
        (transform, period, terms, recurrence, start, kind, form_period, polys, detection_terms, detection_digits,
         linear_complexity, family, offset) = row
        return cls(int(transform), int(period), tuple(int(v) for v in terms), tuple(int(v) for v in recurrence),
                   int(start), str(kind), int(form_period), tuple(tuple(_fraction(c) for c in p) for p in polys),
                   int(detection_terms), int(detection_digits), int(linear_complexity), str(family), int(offset))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Hit:
        kw = dict(d)
        kw["terms"] = tuple(int(v) for v in kw["terms"])
        kw["recurrence"] = tuple(int(v) for v in kw["recurrence"])
        kw["polynomials"] = tuple(tuple(_fraction(c) for c in p) for p in kw["polynomials"])
        return cls(**kw)


def fraction_text(c: Fraction | int) -> str:
    """``str(Fraction)`` without its cost for the common integer case."""
    if type(c) is int:
        return str(c)
    return str(c.numerator) if c.denominator == 1 else f"{c.numerator}/{c.denominator}"


def _fraction(text: str) -> Fraction:
    """Inverse of ``fraction_text`` (``Fraction(str)`` parses with a regular expression: slow)."""
    num, _, den = text.partition("/")
    return Fraction(int(num), int(den)) if den else Fraction(int(num))


@dataclass(frozen=True)
class Family:
    """One discovery: the formulas of a constant that share a tail (DESIGN section 7), summarised by its
    representative (the simplest member).

    ``gain`` is the representative's (a family invariant up to its head); ``period`` and ``order`` are those of
    the representative's closed form and recurrence, ``height`` its LHS height; ``base`` marks the family of the
    simple continued fraction of c itself (not news).  ``rank`` is the position among the constant's families
    (gain descending, then simplicity: period, order, height); ``id`` and ``representative_id`` come from the
    catalog.  ``representative`` holds the record itself when the engine or the catalog has it at hand.
    """

    constant: str
    key: str
    members: int
    gain: float
    kind: str
    period: int
    order: int
    height: int
    base: bool
    status: str
    status_reason: str
    verified_digits: int
    digits_per_term: float
    scf_digits_per_term: float
    lhs: str
    signs: tuple[int, ...]
    closed_form: str
    cf_text: str
    proved_members: int = 0
    rank: int = 0
    id: int | None = None
    representative_id: int | None = None
    representative: Formula | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def signs_text(self) -> str:
        return signs_to_text(self.signs)

    @classmethod
    def of(cls, rep: Formula, members: int, base: bool, proved_members: int = 0, rank: int = 0) -> Family:
        """The family summarised by its representative ``rep``."""
        height = max(abs(x) for x in (*rep.lhs_numerator, *rep.lhs_denominator))
        return cls(
            constant=rep.constant,
            key=rep.family,
            members=members,
            gain=rep.gain,
            kind=rep.kind,
            period=rep.period,
            order=len(rep.recurrence) - 1,
            height=height,
            base=base,
            status=rep.status,
            status_reason=rep.status_reason,
            verified_digits=rep.verified_digits,
            digits_per_term=rep.digits_per_term,
            scf_digits_per_term=rep.scf_digits_per_term,
            lhs=rep.lhs,
            signs=rep.signs,
            closed_form=rep.closed_form,
            cf_text=rep.cf_text,
            proved_members=proved_members,
            rank=rank,
            representative_id=rep.id,
            representative=rep,
        )

    def rank_key(self) -> tuple[float, int, int, int, str]:
        """Gain descending, then simplicity (closed-form period, recurrence order, LHS height), then the key."""
        return (-self.gain, self.period, self.order, self.height, self.key)

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "representative"}
        d["signs"] = list(self.signs)
        d["signs_text"] = self.signs_text
        return d
