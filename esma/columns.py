"""The stored text of a formula: the columns the catalog writes for a record, encoded exactly.

Integer lists are the JSON text of a list of integers, exact for any size (not limited by
``sys.set_int_max_str_digits``); everything else that is JSON (certificates, polynomials, extras) is canonical
JSON text: sorted keys, no spaces.  The encoding lives in the engine, not the catalog, so that whoever makes a
record can encode it: the workers of a search encode the formulas they approve while the client writes the
last batch (``esma.assemble.encode``), and the catalog binds the text as it is.

>>> int_list_text((3, -7))
'[3,-7]'
>>> json_text({"b": [1, 2], "a": None})
'{"a":null,"b":[1,2]}'
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from esma.records import STATUSES, Conjecture, Hit, signs_to_text

__all__ = ["COLUMNS", "conjecture_columns", "hits_text", "int_from_text", "int_list_text", "int_to_text", "json_text"]

# Python refuses int <-> decimal str conversions beyond sys.get_int_max_str_digits() (4300 by default);
# splitting into pieces well below that keeps integer lists exact for integers of any size.
_PIECE = 2000


def int_to_text(v: int) -> str:
    """Exact decimal text of an integer of any size (not limited by ``sys.set_int_max_str_digits``).

    >>> int_to_text(-10**40)
    '-10000000000000000000000000000000000000000'
    >>> len(int_to_text(7**20000)) == 16902
    True
    """
    v = int(v)
    if v < 0:
        return "-" + int_to_text(-v)
    if v.bit_length() <= 3 * _PIECE:  # v < 2**6000 < 10**1807: one str() is allowed
        return str(v)
    # split at a power of ten near half the number of digits (digits ~ bits * log10(2)): both halves shrink
    half = int(v.bit_length() * 0.30103) // 2
    hi, lo = divmod(v, 10**half)
    return int_to_text(hi) + int_to_text(lo).rjust(half, "0")


def int_from_text(s: str) -> int:
    """Inverse of :func:`int_to_text`.

    >>> int_from_text("-123") == -123 and int_from_text("9" * 9000) == 10**9000 - 1
    True
    """
    s = s.strip()
    if s.startswith("-"):
        return -int_from_text(s[1:])
    if s.startswith("+"):
        s = s[1:]
    if len(s) <= _PIECE:
        return int(s)
    half = len(s) // 2
    return int_from_text(s[:-half]) * 10**half + int_from_text(s[-half:])


#: Below this magnitude str() writes an int (Python refuses beyond 4300 digits by default).
_STR_SAFE = 10**4000


def int_list_text(value: Any) -> str:
    """The stored text of a list of integers: its JSON, exact for any size.

    A bool (an int that would read back as 0/1) or anything else but an int is refused with ``TypeError``.

    >>> int_list_text((3, -7, 10**5000)) == "[3,-7," + int_to_text(10**5000) + "]"
    True
    """
    if isinstance(value, str | bytes) or (value and set(map(type, value)) != {int}):
        # bool is an int but would read back as 0/1: refuse rather than change the value's type
        raise TypeError(f"IntList wants a sequence of ints (not bools), not {value!r:.80}")
    if not value:
        return "[]"
    if -_STR_SAFE < min(value) and max(value) < _STR_SAFE:
        return "[" + ",".join(map(str, value)) + "]"  # the common case, in C
    return "[" + ",".join(int_to_text(v) for v in value) + "]"


def json_text(value: Any) -> str | None:
    """The stored text of a JSON value (canonical: sorted keys, no spaces), or ``None``."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def hits_text(hits: Sequence[Hit]) -> str | None:
    """The stored text of a chunk's hits until their families are stored: the canonical JSON (``json_text``) of
    their ``Hit.to_row`` lists; ``None`` for no hits.

    >>> hits_text([]) is None
    True
    """
    return json_text([h.to_row() for h in hits]) if hits else None


#: ``int_list_text`` of the lists a family's formulas share (left-hand sides, recurrences, relations).
_shared_int_list_text = functools.lru_cache(maxsize=65536)(int_list_text)


#: The columns of a stored formula that ``conjecture_columns`` gives (all but its constant, id and timestamps).
COLUMNS = (
    "key", "group_key", "lhs", "lhs_numerator", "lhs_denominator", "value", "signs", "preperiod", "terms",
    "recurrence", "polynomials", "closed_form", "kind", "period", "linear_complexity", "verified_digits",
    "digits_per_term", "scf_digits_per_term", "detection_terms", "detection_digits", "verify_terms", "cf_text",
    "status", "status_reason", "family_key", "representative", "relation", "gain", "certificate", "extra",
)


def conjecture_columns(c: Conjecture) -> dict[str, Any]:
    """The stored columns of a formula (``COLUMNS``), the integer lists and JSON already as their text.

    Checks what the catalog's constraints would refuse later, in one transaction with others: a key, a known
    status, signs of +1 and -1, a relation of 4 integers (``ValueError``; ``TypeError`` for a non-record).

    >>> from esma.search import search
    >>> c = search("e", coeff_limit=1, max_period=1, verify_digits=100).conjectures[0]
    >>> row = conjecture_columns(c)
    >>> tuple(row) == COLUMNS and row["key"] == c.key and row["terms"].startswith("[")
    True
    """
    if not isinstance(c, Conjecture):
        raise TypeError(f"Expected a Conjecture, not {type(c).__name__}")
    if not c.key:
        raise ValueError(f"Conjecture {c.lhs!r} of {c.constant!r} has an empty 'key'; the catalog needs it")
    if c.status not in STATUSES:
        raise ValueError(f"Argument 'status of the conjecture' must be one of {', '.join(STATUSES)}, "
                         f"not {c.status!r}")
    if not c.signs or not all(s == 1 or s == -1 for s in c.signs):
        raise ValueError(f"Signs must be +1 or -1, not {c.signs!r}")
    if len(c.relation) != 4:
        raise ValueError(f"Argument 'relation' must hold 4 integers (g11, g12, g21, g22), not {c.relation!r}")
    return {
        "key": c.key,
        "group_key": c.group,
        "lhs": c.lhs,
        "lhs_numerator": _shared_int_list_text(tuple(c.lhs_numerator)),
        "lhs_denominator": _shared_int_list_text(tuple(c.lhs_denominator)),
        "value": c.value,
        "signs": signs_to_text(c.signs),
        "preperiod": int(c.preperiod),
        "terms": int_list_text(c.terms),
        "recurrence": _shared_int_list_text(tuple(c.recurrence)),
        "polynomials": json_text([[str(x) for x in p] for p in c.polynomials]),
        "closed_form": c.closed_form,
        "kind": c.kind,
        "period": int(c.period),
        "linear_complexity": int(c.linear_complexity),
        "verified_digits": int(c.verified_digits),
        "digits_per_term": float(c.digits_per_term),
        "scf_digits_per_term": float(c.scf_digits_per_term),
        "detection_terms": int(c.detection_terms),
        "detection_digits": int(c.detection_digits),
        "verify_terms": int(c.verify_terms),
        "cf_text": c.cf_text,
        "status": c.status,
        "status_reason": c.status_reason,
        "family_key": c.family,
        "representative": bool(c.representative),
        "relation": _shared_int_list_text(tuple(c.relation)),
        "gain": float(c.gain),
        "certificate": json_text(c.certificate),
        "extra": json_text(dict(c.extra)) if c.extra else "{}",
    }
