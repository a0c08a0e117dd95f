"""Stored text read back as records: the strict JSON grammars and the checks of every column of a row
(SQLite keeps any value in any column), the row -> record converters (``_record`` for a formula, ``_family``
for a family), the JSON text of a row for streaming exports (``_record_json``), and :class:`UnreadableRow`,
what a row that cannot be read becomes (reported through ``Catalog.on_unreadable``).

Nothing here touches the database: the readers of :mod:`esma.db.reads` (and the other stages) pass the row
mappings their statements return.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from esma.db.models import int_from_text, int_to_text
from esma.records import Conjecture, Family, signs_from_text


class UnreadableRow(ValueError):
    """A stored row that cannot be read as a record: corrupt or hostile catalog text (stored JSON that is not
    JSON, integer lists that are not, scalars of another type).  ``what`` is ``formula``, ``family`` or
    ``search``; ``row_id`` its id; ``column`` the column at fault; ``reason`` one line saying why."""

    def __init__(self, what: str, row_id: Any, column: str, reason: str, action: str = "skipped") -> None:
        self.what, self.row_id, self.column, self.reason, self.action = what, row_id, column, reason, action
        super().__init__(f"{what} #{row_id} cannot be read: {reason}")


class _Bad(ValueError):
    """A column value a reader refuses (``column``, ``reason``); the row's reader turns it into UnreadableRow."""

    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason
        super().__init__(reason)


def report_unreadable(error: UnreadableRow) -> None:
    """The default of ``Catalog.on_unreadable``: one line on stderr naming the row and why it was skipped."""
    reason = " ".join(error.reason.split())[:300]
    sys.stderr.write(f"esma: {error.what} #{error.row_id} {error.action}: {reason}\n")
    sys.stderr.flush()


# strict JSON grammar (ASCII digits and JSON whitespace only: \d and \s would admit other Unicode characters)
_WS = r"[ \t\n\r]*"
_JSON_INT = r"-?(?:0|[1-9][0-9]*)"
_INT_LIST = re.compile(rf"{_WS}\[{_WS}(?:{_JSON_INT}{_WS}(?:,{_WS}{_JSON_INT}{_WS})*)?\]{_WS}")
_INT_LIST_COMPACT = re.compile(rf"\[(?:{_JSON_INT}(?:,{_JSON_INT})*)?\]")  # what esma writes: checked faster
_RATIONAL_JSON = r'"-?[0-9]+(?:/[1-9][0-9]*)?"'
_POLY_JSON = rf"\[{_WS}(?:{_RATIONAL_JSON}{_WS}(?:,{_WS}{_RATIONAL_JSON}{_WS})*)?\]"
#: The JSON text of interlaced polynomials: a list of lists of rational numbers as strings.
_POLYNOMIALS = re.compile(rf"{_WS}\[{_WS}(?:{_POLY_JSON}{_WS}(?:,{_WS}{_POLY_JSON}{_WS})*)?\]{_WS}")
_POLY_COMPACT = rf"\[(?:{_RATIONAL_JSON}(?:,{_RATIONAL_JSON})*)?\]"
_POLYNOMIALS_COMPACT = re.compile(rf"\[(?:{_POLY_COMPACT}(?:,{_POLY_COMPACT})*)?\]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):  # 1e999: JSON has no infinity
        raise ValueError(f"{text[:20]} is not a finite number")
    return x


def _no_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


#: The encoder and decoder (compact, strict JSON: no NaN or Infinity), created once: ``json.dumps`` and
#: ``json.loads`` with arguments build a new one per call, which costs more than encoding a certificate.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_c_encode = (json.encoder.c_make_encoder(None, _no_default, json.encoder.encode_basestring_ascii, None, ":", ",",
                                         False, False, False)
             if json.encoder.c_make_encoder is not None else None)


def _encode(value: Any) -> str:
    """``_ENCODER.encode(value)`` through the C encoder made once (the same text)."""
    if _c_encode is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_c_encode(value, 0))
#: Field names of a record (``Conjecture.to_dict``): an ``extra`` key never overrides one of them.
_RECORD_FIELDS = frozenset(Conjecture.__dataclass_fields__) | {"signs_text"}
_INT_COLUMNS = ("preperiod", "verified_digits", "period", "linear_complexity", "detection_terms",
                "detection_digits", "verify_terms")
_FLOAT_COLUMNS = ("digits_per_term", "scf_digits_per_term", "gain")
_TEXT_COLUMNS = ("lhs", "value", "closed_form", "kind", "status", "key", "group_key")
_OPTIONAL_TEXT_COLUMNS = ("status_reason", "cf_text", "family_key")  # NULL reads as ""


def _column_words(name: str) -> str:
    return name.replace("_", " ")


def _int_list_text(text: Any, column: str) -> str:
    """Stored IntList text, checked to be exactly a JSON list of integers (then safe to write as it is)."""
    if not isinstance(text, str) or not (_INT_LIST_COMPACT.fullmatch(text) or _INT_LIST.fullmatch(text)):
        raise _Bad(column, f"its {_column_words(column)} {'are' if column == 'terms' else 'is'} not a list of "
                           "integers")
    return text


def _int_list(text: Any, column: str) -> tuple[int, ...]:
    text = _int_list_text(text, column)
    try:
        return tuple(json.loads(text))
    except ValueError:  # an integer beyond Python's int/str digit limit: read piece by piece, exactly
        inner = text.strip()[1:-1].strip()
        return tuple(int_from_text(x) for x in inner.split(",")) if inner else ()


def _relation(text: Any) -> tuple[int, int, int, int]:
    if text is None:
        return (1, 0, 0, 1)
    try:  # four small integers, checked by the grammar first: int() of each is what json.loads would do
        rel = tuple(map(int, _int_list_text(text, "relation").strip()[1:-1].split(",")))
    except ValueError:  # an integer beyond Python's int/str digit limit, or the empty list
        rel = _int_list(text, "relation")
    if len(rel) != 4:
        raise _Bad("relation", f"its relation holds {len(rel)} integers, not 4")
    return rel  # type: ignore[return-value]


def _json_value(text: Any, column: str) -> Any:
    """A stored JSON value, parsed (integers exact, NaN and Infinity refused, depth bounded by the parser)."""
    if not isinstance(text, str):
        raise _Bad(column, f"its {_column_words(column)} is not JSON text")
    try:
        try:
            return _DECODER.decode(text)
        except json.JSONDecodeError:
            raise
        except ValueError:  # an integer beyond Python's int/str digit limit: parsed exactly
            return json.loads(text, parse_int=int_from_text, parse_constant=_reject_constant,
                              parse_float=_finite_float)
    except RecursionError:
        raise _Bad(column, f"its {_column_words(column)} is nested too deeply to be read") from None
    except ValueError as exc:
        raise _Bad(column, f"its {_column_words(column)} is not JSON ({str(exc)[:120]})") from None


def _json_out(value: Any, column: str) -> str:
    """``value`` (parsed from the catalog) written again as compact JSON by the C encoder."""
    try:
        try:
            return _encode(value)
        except ValueError as exc:
            if "digits" not in str(exc):
                raise
            return _exact_json(value)  # an integer beyond Python's int/str digit limit
    except (ValueError, RecursionError):
        raise _Bad(column, f"its {_column_words(column)} cannot be written as JSON") from None


def _exact_json(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return int_to_text(value)
    if isinstance(value, list):
        return "[" + ",".join(_exact_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(_ENCODER.encode(k) + ":" + _exact_json(v) for k, v in value.items()) + "}"
    return _ENCODER.encode(value)


def _certificate(text: Any) -> dict[str, Any] | None:
    if text is None:
        return None
    cert = _json_value(text, "certificate")
    if cert is not None and not isinstance(cert, dict):
        raise _Bad("certificate", f"its certificate is a JSON {type(cert).__name__}, not an object")
    return cert


def _polynomials_text(text: Any) -> str:
    """Stored polynomials, checked to be exactly the JSON of lists of rational numbers (then safe as they are)."""
    if text is None:
        return "[]"
    if not isinstance(text, str) or not (_POLYNOMIALS_COMPACT.fullmatch(text) or _POLYNOMIALS.fullmatch(text)):
        raise _Bad("polynomials", "its polynomials are not lists of rational numbers")
    return text


def _polynomials(text: Any) -> list[list[str]]:
    return _DECODER.decode(_polynomials_text(text))


def _extra(text: Any) -> dict[str, Any]:
    if text is None or text in ("{}", "null"):
        return {}
    extra = _json_value(text, "extra")
    if not isinstance(extra, dict):
        raise _Bad("extra", "its extra fields are not a JSON object")
    # a key named like a field of the record would replace that field in every output: dropped
    return {k: v for k, v in extra.items() if k not in _RECORD_FIELDS}


def _signs(text: Any) -> str:
    if not isinstance(text, str) or not text or text.strip("+-"):
        raise _Bad("signs", "its signs are not a run of + and -")
    return text


def _check_scalars(m: Any) -> None:
    """The row's scalar columns have their types (SQLite keeps any value in any column)."""
    for name in _INT_COLUMNS:
        if type(m[name]) is not int:
            raise _Bad(name, f"its {name} is not an integer ({m[name]!r:.40})")
    for name in _FLOAT_COLUMNS:
        v = m[name]
        if v is None and name == "gain":
            continue
        if type(v) not in (int, float) or not math.isfinite(v):
            raise _Bad(name, f"its {name} is not a finite number ({v!r:.40})")
    for name in _TEXT_COLUMNS:
        if type(m[name]) is not str:
            raise _Bad(name, f"its {name} is not text ({m[name]!r:.40})")
    for name in _OPTIONAL_TEXT_COLUMNS:
        if m[name] is not None and type(m[name]) is not str:
            raise _Bad(name, f"its {name} is not text ({m[name]!r:.40})")


def _record(m: Any, constant: str, lenient: bool = False) -> Conjecture:
    """A record from a Core row mapping of the conjecture columns, the integer-list and JSON columns as their
    stored text (``Catalog._conjecture_select``).  Every value is checked: raises ``UnreadableRow`` for a row
    that cannot be read.  ``lenient``: a certificate that cannot be read makes the record a conjecture without
    one (the search proves it again) instead of making the row unreadable."""
    try:
        _check_scalars(m)
        try:
            certificate = _certificate(m["certificate"])
            status, reason = m["status"], m["status_reason"]
        except _Bad:
            if not lenient:
                raise
            certificate, status, reason = None, "conjecture", ""
        return Conjecture(
            constant=constant,
            lhs=m["lhs"],
            lhs_numerator=_int_list(m["lhs_numerator"], "lhs_numerator"),
            lhs_denominator=_int_list(m["lhs_denominator"], "lhs_denominator"),
            value=m["value"],
            signs=signs_from_text(_signs(m["signs"])),
            preperiod=m["preperiod"],
            terms=_int_list(m["terms"], "terms"),
            recurrence=_int_list(m["recurrence"], "recurrence"),
            closed_form=m["closed_form"],
            kind=m["kind"],
            verified_digits=m["verified_digits"],
            digits_per_term=m["digits_per_term"],
            scf_digits_per_term=m["scf_digits_per_term"],
            status=status,
            status_reason=reason or "",
            key=m["key"],
            group=m["group_key"],
            period=m["period"],
            polynomials=tuple(tuple(p) for p in _polynomials(m["polynomials"])),
            linear_complexity=m["linear_complexity"],
            detection_terms=m["detection_terms"],
            detection_digits=m["detection_digits"],
            verify_terms=m["verify_terms"],
            cf_text=m["cf_text"] or "",
            family=m["family_key"] or "",
            representative=bool(m["representative"]),
            relation=_relation(m["relation"]),
            gain=m["gain"] or 0.0,
            certificate=certificate,
            id=m["id"],
            family_id=m.get("family_id"),
            extra=_extra(m["extra"]),
        )
    except _Bad as exc:
        raise UnreadableRow("formula", m["id"], exc.column, exc.reason) from None


def _json_float(x: float | None) -> str:
    """A number as ``json.dumps`` writes it (finite floats by ``repr``), without its call overhead."""
    if x is None:
        return "null"
    return float.__repr__(float(x)) if math.isfinite(x) else json.dumps(x)


def _record_json(m: Any) -> str:
    """The JSON text of a row (``Catalog.iter_records_json``); raises ``_Bad`` for a value it cannot write."""
    _check_scalars(m)
    dumps = _dumps_text  # the C string encoder json.dumps uses, without json.dumps's per-call overhead
    num = _json_float
    signs = _signs(m["signs"])
    polys, cert, extra = m["polynomials"], m["certificate"], m["extra"]
    g11, g12, g21, g22 = _relation(m["relation"])
    parts = [
        f'"id":{m["id"]}',
        f'"constant":{dumps(m["text"])}',
        f'"lhs":{dumps(m["lhs"])}',
        f'"lhs_numerator":{_int_list_text(m["lhs_numerator"], "lhs_numerator")}',
        f'"lhs_denominator":{_int_list_text(m["lhs_denominator"], "lhs_denominator")}',
        f'"value":{dumps(m["value"])}',
        f'"signs":[{",".join("1" if ch == "+" else "-1" for ch in signs)}]',
        f'"signs_text":{dumps(signs)}',
        f'"preperiod":{m["preperiod"]}',
        f'"terms":{_int_list_text(m["terms"], "terms")}',
        f'"recurrence":{_int_list_text(m["recurrence"], "recurrence")}',
        f'"closed_form":{dumps(m["closed_form"])}',
        f'"kind":{dumps(m["kind"])}',
        f'"verified_digits":{m["verified_digits"]}',
        f'"digits_per_term":{num(m["digits_per_term"])}',
        f'"scf_digits_per_term":{num(m["scf_digits_per_term"])}',
        f'"status":{dumps(m["status"])}',
        f'"status_reason":{dumps(m["status_reason"] or "")}',
        f'"key":{dumps(m["key"])}',
        f'"group":{dumps(m["group_key"])}',
        f'"period":{m["period"]}',
        f'"polynomials":{_polynomials_text(polys)}',
        f'"linear_complexity":{m["linear_complexity"]}',
        f'"detection_terms":{m["detection_terms"]}',
        f'"detection_digits":{m["detection_digits"]}',
        f'"verify_terms":{m["verify_terms"]}',
        f'"cf_text":{dumps(m["cf_text"] or "")}',
        f'"family":{dumps(m["family_key"] or "")}',
        f'"family_id":{"null" if m["family_id"] is None else int(m["family_id"])}',
        f'"representative":{"true" if m["representative"] else "false"}',
        f'"relation":[[{g11},{g12}],[{g21},{g22}]]',
        f'"gain":{num(m["gain"] or 0.0)}',
        f'"certificate":{"null" if cert is None else _json_out(_certificate(cert), "certificate")}',
    ]
    if extra is not None and extra != "{}":
        fields = _extra(extra)
        if fields:
            parts.append(_json_out(fields, "extra")[1:-1])
    return "{" + ",".join(parts) + "}"


_dumps_text = json.encoder.encode_basestring_ascii


def _family(m: Any) -> Family:
    """A family from a row of ``_family_select``; raises ``UnreadableRow`` when a value has another type."""
    try:
        for name in ("members", "proved_members", "period", "recurrence_order", "height", "rank",
                     "verified_digits"):
            if type(m[name]) is not int:
                raise _Bad(name, f"its {name} is not an integer ({m[name]!r:.40})")
        for name in ("gain", "digits_per_term", "scf_digits_per_term"):
            if type(m[name]) not in (int, float) or not math.isfinite(m[name]):
                raise _Bad(name, f"its {name} is not a finite number ({m[name]!r:.40})")
        for name in ("key", "kind", "status", "lhs", "closed_form"):
            if type(m[name]) is not str:
                raise _Bad(name, f"its {name} is not text ({m[name]!r:.40})")
        for name in ("status_reason", "cf_text"):
            if m[name] is not None and type(m[name]) is not str:
                raise _Bad(name, f"its {name} is not text ({m[name]!r:.40})")
        signs = signs_from_text(_signs(m["signs"]))
    except _Bad as exc:
        raise UnreadableRow("family", m["id"], exc.column, exc.reason) from None
    return Family(
        constant=m["text"], key=m["key"], members=m["members"], gain=m["gain"], kind=m["kind"],
        period=m["period"], order=m["recurrence_order"], height=m["height"], base=bool(m["base"]),
        status=m["status"], status_reason=m["status_reason"] or "", verified_digits=m["verified_digits"],
        digits_per_term=m["digits_per_term"], scf_digits_per_term=m["scf_digits_per_term"], lhs=m["lhs"],
        signs=signs, closed_form=m["closed_form"],
        cf_text=m["cf_text"] or "", proved_members=m["proved_members"], rank=m["rank"], id=m["id"],
        representative_id=m["representative_id"],
    )
