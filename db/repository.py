"""The catalog: the only way the rest of esma touches the database.

A search runs in two phases (``esma.search``).  The scan checkpoints chunk by chunk: a chunk's confirmed hits
(not yet approved: ``esma.records.Hit``) and its checkpoint row are one transaction, and empty chunks are
committed in batches.  The families phase then stores the approved formulas (``store_formulas``) and the
family summaries, and clears the pending hits.  An interrupted search resumes exactly where it stopped::

    >>> cat = Catalog(":memory:")
    >>> sid = cat.start_search("pi", {"depth": 3}, chunks_total=2, esma_version="0.1.0")
    >>> cat.done_chunks(sid)
    set()
    >>> cat.commit_chunk(sid, 0, candidates=100, seconds=0.5)
    True
    >>> cat.start_search("pi", {"depth": 3}, chunks_total=2, esma_version="0.1.0") == sid  # resumed
    True
    >>> cat.done_chunks(sid)
    {0}
    >>> cat.finish_search(sid)["candidates_per_second"]
    200.0
    >>> cat.close()

Conjectures are unique per (constant, key): storing a formula again keeps the stored row (and its id).
Families are unique per (constant, family key); their rows are refreshed from their members whenever
formulas are stored, and ranked per constant (gain descending, then simplicity).  Hot paths (bulk writes,
exports) use SQLAlchemy Core statements, not the ORM.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    case,
    event,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from esma.db.engine import display_url, make_engine, read_only
from esma.db.migrate import upgrade
from esma.db.models import (
    SEARCH_STATUSES,
    STATUSES,
    Base,
    ConjectureRow,
    ConstantRow,
    FamilyRow,
    IntList,
    JSONText,
    SearchChunkRow,
    SearchConjectureRow,
    SearchRow,
    VerificationRow,
    int_from_text,
    int_list_text,
    int_to_text,
    json_text,
    utcnow,
)
from esma.records import FAMILY_SORTS, Conjecture, Family, Hit, signs_from_text, signs_to_text

__all__ = ["FAMILY_SORTS", "Catalog", "UnreadableRow", "params_key", "report_unreadable"]

_Row = TypeVar("_Row", bound=Base)

# Fields that a later, deeper verification of the same formula may improve (everything else is identity); gain
# is their ratio (digits per term over those of the simple continued fraction) and goes with them.
_DIGIT_FIELDS = ("verified_digits", "verify_terms", "digits_per_term", "scf_digits_per_term", "gain")
# Fields that follow the formula's family (its representative may change when a simpler member is found).
_FAMILY_FIELDS = ("family_key", "representative", "relation")
# Fields of a formula's proof: replaced when a new record brings another (never over a refutation).
_PROOF_FIELDS = ("status", "status_reason", "certificate")
_BATCH = 500  # keys per IN (...) list: far below every backend's parameter limit

_conj = ConjectureRow.__table__
# The same table with its integer-list and JSON columns as plain text: bulk writes bind text serialised once
# (``_row_values``) instead of running every value through the column types again.
_conj_text = Table(
    "conjectures",
    MetaData(),
    *[Column(c.name, Text() if isinstance(c.type, IntList | JSONText) else c.type, primary_key=c.primary_key)
      for c in ConjectureRow.__table__.c],
)
_fam = FamilyRow.__table__
_links = SearchConjectureRow.__table__
_chunks = SearchChunkRow.__table__


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def params_key(params: dict[str, Any]) -> str:
    """The identity of a search's parameters: sha256 of their canonical JSON (key order does not matter).

    >>> params_key({"a": 1, "b": [2, 3]}) == params_key({"b": [2, 3], "a": 1})
    True
    """
    return hashlib.sha256(_canonical_json(params).encode("utf-8")).hexdigest()


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _check_status(status: str, allowed: tuple[str, ...], what: str = "status") -> None:
    if status not in allowed:
        raise ValueError(f"Argument '{what}' must be one of {', '.join(allowed)}, not {status!r}")


def _batches(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


#: ``int_list_text`` of the lists a family's formulas share (left-hand sides, recurrences, relations).
_shared_int_list_text = functools.lru_cache(maxsize=65536)(int_list_text)


def _row_values(c: Conjecture) -> dict[str, Any]:
    """Column values of a conjecture (everything but constant, id and timestamps), the integer lists and JSON
    already as their stored text (serialised once, here: the bulk writes bind plain text)."""
    if not isinstance(c, Conjecture):
        raise TypeError(f"Expected a Conjecture, not {type(c).__name__}")
    if not c.key:
        raise ValueError(f"Conjecture {c.lhs!r} of {c.constant!r} has an empty 'key'; the catalog needs it")
    _check_status(c.status, STATUSES, "status of the conjecture")
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


def _get_or_insert(
    session: Session, model: type[_Row], lookup: dict[str, Any], **values: Any
) -> tuple[_Row, bool]:
    """The row of ``model`` matching ``lookup`` (a unique key), inserting it with ``values`` if missing.

    The insert runs in a SAVEPOINT so that losing a race to another writer (PostgreSQL; on SQLite writers
    are serialized by BEGIN IMMEDIATE) only undoes the insert, not the caller's transaction.  Returns
    ``(row, created)``.
    """
    stmt = select(model).filter_by(**lookup)
    row = session.scalars(stmt).first()
    if row is not None:
        return row, False
    row = model(**lookup, **values)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = session.scalars(stmt).first()
        if found is None:  # the error was not a duplicate key (e.g. a foreign key): surface it
            raise
        return found, False
    return row, True


def _insert_ignore(conn, table, rows: list[dict[str, Any]], conflict: Sequence[str], returning: str | None = None):
    """INSERT rows, skipping those whose unique key ``conflict`` another writer stored first.

    With ``returning`` (a column name), returns that column of the rows this statement inserted (RETURNING
    gives only those), so that counters stay exact when two writers race.
    """
    if not rows:
        return []
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:  # pragma: no cover - other backends: a plain insert (single writer assumed)
        conn.execute(insert(table), rows)
        return [r[returning] for r in rows] if returning else []
    stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    if returning is None:
        _executemany(conn, stmt, rows)
        return []
    return [r[0] for r in conn.execute(stmt.returning(table.c[returning]), rows).all()]


def _executemany(conn, stmt, rows: list[dict[str, Any]]) -> None:
    """``stmt`` for every row, as one driver-level executemany: compiled once, each value through its column's
    bind processor only where it has one (timestamps, booleans); SQLAlchemy's per-row parameter handling costs
    more than the database's work for the tens of thousands of formulas a search stores."""
    names = list(rows[0])
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    table = stmt.table
    procs = {}
    for name in names:
        proc = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) if name in table.c else None
        if proc is not None:
            procs[name] = proc
    if procs:
        rows = [{**row, **{k: f(row[k]) for k, f in procs.items()}} for row in rows]
    if compiled.positional:
        order = compiled.positiontup
        params: list[Any] = [tuple(row[k] for k in order) for row in rows]
    else:
        params = rows
    conn.exec_driver_sql(compiled.string, params)


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


class Catalog:
    """A catalog database: searches, their checkpoints, conjectures, families and verifications.

    ``url_or_path``: an SQLite file path, a SQLAlchemy URL, or ``None`` for ``$ESMA_DB`` / ``./esma.sqlite``
    (see :func:`esma.db.engine.make_engine`).  Opening upgrades the schema to the newest migration.  Each
    method is its own transaction; a ``Catalog`` may be shared by threads and several processes may open
    the same file.

    >>> with Catalog(":memory:") as cat:
    ...     cat.url
    'sqlite:///:memory:'
    """

    #: Called with an :class:`UnreadableRow` for each stored row a reader skips (or, for the search's readers,
    #: reads without its certificate), once per row and column; the default writes one line on stderr.  Set it
    #: on an instance to collect or log them instead.
    on_unreadable = staticmethod(report_unreadable)

    def __init__(self, url_or_path: str | os.PathLike[str] | None = None) -> None:
        self._engine = make_engine(url_or_path)
        try:
            upgrade(self._engine)
        except BaseException:
            self._engine.dispose()
            raise
        # expire_on_commit=False: rows are read after their transaction ended (ids, counters)
        self._write = sessionmaker(self._engine, expire_on_commit=False)
        self._read = sessionmaker(read_only(self._engine), expire_on_commit=False)
        #: The database URL with any password masked, for display.
        self.url: str = display_url(self._engine.url)

    # -- lifecycle -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release every pooled connection (the catalog cannot be used afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({self.url!r})"

    # -- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _constant_id(session: Session, text: str, cache: dict[str, int] | None = None) -> int:
        if cache is not None and text in cache:
            return cache[text]
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"Argument 'constant' must be a non-empty string, not {text!r}")
        row, _ = _get_or_insert(session, ConstantRow, {"text": text})
        if cache is not None:
            cache[text] = row.id
        return row.id

    @staticmethod
    def _find_constant(session: Session, text: str) -> int | None:
        return session.scalar(select(ConstantRow.id).where(ConstantRow.text == text))

    @staticmethod
    def _search(session: Session, search_id: int) -> SearchRow:
        row = session.get(SearchRow, search_id)
        if row is None:
            raise KeyError(f"No search with id {search_id}")
        return row

    @staticmethod
    def _summary(row: SearchRow, constant: str) -> dict[str, Any]:
        seconds = float(row.seconds)
        return {
            "id": row.id,
            "constant": constant,
            "params": row.params,
            "status": row.status,
            "chunks_total": row.chunks_total,
            "chunks_done": row.chunks_done,
            "candidates": row.candidates,
            "scanned": row.scanned,
            "hits": row.hits,
            "conjectures": row.conjectures,
            "families": row.families,
            "approvals": row.approvals,
            "seconds": seconds,
            "candidates_per_second": row.candidates / seconds if seconds > 0 else 0.0,
            "scan_seconds": float(row.scan_seconds),
            "scan_candidates_per_second": row.candidates / row.scan_seconds if row.scan_seconds > 0 else 0.0,
            "esma_version": row.esma_version,
            "started_at": _iso(row.started_at),
            "finished_at": _iso(row.finished_at),
            "updated_at": _iso(row.updated_at),
        }

    def _records(self, stmt: Select[Any], lenient: bool = False) -> list[Conjecture]:
        """Records from a Core select of the conjecture columns and ``constants.text`` (no ORM objects); a row
        that cannot be read is reported (``on_unreadable``) and skipped (``lenient``: see ``_record``)."""
        with self._read() as s:
            return [c for m in s.execute(stmt).mappings() if (c := self._read_record(m, lenient)) is not None]

    def _unreadable(self, error: UnreadableRow) -> None:
        """Report ``error`` through ``on_unreadable``, once per row and column for this catalog object (a page
        or an export reads a representative many times; a server reports it once)."""
        seen = self.__dict__.setdefault("_reported", set())
        key = (error.what, error.row_id, error.column)
        if key in seen:
            return
        if len(seen) < 100_000:
            seen.add(key)
        self.on_unreadable(error)

    def _read_record(self, m: Any, lenient: bool = False) -> Conjecture | None:
        """The record of row ``m``, or ``None`` (reported) when it cannot be read."""
        try:
            c = _record(m, m["text"], lenient)
        except UnreadableRow as exc:
            self._unreadable(exc)
            return None
        if lenient and c.certificate is None and m["certificate"] is not None:
            try:
                _certificate(m["certificate"])
            except _Bad as exc:
                self._unreadable(UnreadableRow("formula", m["id"], exc.column, exc.reason,
                                               "read as a conjecture (to be proved again)"))
        return c

    @staticmethod
    def _family_of_row():
        return (
            select(_fam.c.id).where(_fam.c.constant_id == _conj.c.constant_id, _fam.c.key == _conj.c.family_key)
            .scalar_subquery()
        )

    def _conjecture_select(self) -> Select[Any]:
        # the integer-list and JSON columns as their stored text: ``_record`` checks and parses each row, so that
        # one unreadable row is skipped rather than failing the whole result
        cols = [_raw(c) if c.name in _JSON_COLUMNS else c for c in _conj.c]
        return select(*cols, ConstantRow.text, self._family_of_row().label("family_id")).join(
            ConstantRow.__table__, ConstantRow.id == _conj.c.constant_id)

    # -- searches and checkpoints --------------------------------------------------------------------------

    def start_search(
        self, constant: str, params: dict[str, Any], chunks_total: int, esma_version: str
    ) -> int:
        """Create the search of ``params`` on ``constant``, or resume it: the same constant with the same
        parameters (compared as canonical JSON) is the same search, whose id is returned with its status
        set back to ``running``.

        ``params`` must be JSON-serialisable; they are stored canonically (sorted keys).
        """
        canonical = _canonical_json(params)
        key = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        with self._write.begin() as s:
            cid = self._constant_id(s, constant)
            row, created = _get_or_insert(
                s,
                SearchRow,
                {"constant_id": cid, "params_key": key},
                params=json.loads(canonical),
                status="running",
                chunks_total=int(chunks_total),
                esma_version=esma_version,
                started_at=utcnow(),
            )
            if not created:
                row.status = "running"
                row.finished_at = None
                row.chunks_total = int(chunks_total)
                row.esma_version = esma_version
                s.flush()
            return row.id

    def done_chunks(self, search_id: int) -> set[int]:
        """Indices of the chunks of this search whose scan is committed."""
        with self._read() as s:
            stmt = select(SearchChunkRow.chunk_index).where(SearchChunkRow.search_id == search_id)
            return set(s.scalars(stmt).all())

    def commit_chunk(
        self,
        search_id: int,
        chunk_index: int,
        hits: Sequence[Hit] = (),
        candidates: int = 0,
        seconds: float = 0.0,
        scan_seconds: float = 0.0,
        scanned: int | None = None,
    ) -> bool:
        """Commit one chunk's scan: its hits (kept until the families are stored) and its checkpoint, in ONE
        transaction.  Returns False when the chunk was already committed (then nothing is written)."""
        return bool(self.commit_chunks(search_id, [
            {"index": chunk_index, "hits": hits, "candidates": candidates, "seconds": seconds,
             "scan_seconds": scan_seconds, "scanned": candidates if scanned is None else scanned}
        ]))

    def commit_chunks(self, search_id: int, chunks: Sequence[dict[str, Any]]) -> int:
        """Commit several chunks' scans in one transaction (how empty chunks are checkpointed: in batches).

        Each item: ``index``, ``hits`` (``Hit`` records), ``candidates``, ``scanned``, ``seconds``,
        ``scan_seconds``.  Chunks already committed (by another process, or an earlier run) are skipped;
        returns how many were new.
        """
        items = []
        for ch in chunks:
            index = int(ch["index"])
            if index < 0:
                raise ValueError(f"Argument 'chunk_index' must be >= 0, not {index}")
            hits = list(ch.get("hits") or ())
            if any(not isinstance(h, Hit) for h in hits):
                raise TypeError("Argument 'hits' must hold esma.records.Hit records")
            items.append((index, hits, ch))
        if not items:
            return 0
        with self._write.begin() as s:
            self._search(s, search_id)
            conn = s.connection()
            done = set(
                conn.scalars(
                    select(_chunks.c.chunk_index).where(
                        _chunks.c.search_id == search_id,
                        _chunks.c.chunk_index.in_([i for i, _, _ in items]),
                    )
                )
            )
            now = utcnow()
            rows, seen = [], set()
            for index, hits, ch in items:
                if index in done or index in seen:
                    continue
                seen.add(index)
                rows.append({
                    "search_id": search_id,
                    "chunk_index": index,
                    "candidates": int(ch.get("candidates", 0)),
                    "hits": len(hits),
                    "seconds": float(ch.get("seconds", 0.0)),
                    "scan_seconds": float(ch.get("scan_seconds", 0.0)),
                    "hit_records": [h.to_row() for h in hits] if hits else None,
                    "created_at": now,
                })
            if not rows:
                return 0
            # another process may have committed some of these chunks meanwhile: count only what we inserted
            inserted = set(_insert_ignore(conn, _chunks, rows, ("search_id", "chunk_index"), "chunk_index"))
            rows = [r for r in rows if r["chunk_index"] in inserted]
            scanned = {i: int(ch.get("scanned", 0)) for i, _, ch in items}
            # SQL-side increments: another process may be committing other chunks of the same search
            conn.execute(
                update(SearchRow.__table__)
                .where(SearchRow.id == search_id)
                .values(
                    chunks_done=SearchRow.chunks_done + len(rows),
                    candidates=SearchRow.candidates + sum(r["candidates"] for r in rows),
                    scanned=SearchRow.scanned + sum(scanned[r["chunk_index"]] for r in rows),
                    hits=SearchRow.hits + sum(r["hits"] for r in rows),
                    seconds=SearchRow.seconds + sum(r["seconds"] for r in rows),
                    scan_seconds=SearchRow.scan_seconds + sum(r["scan_seconds"] for r in rows),
                    updated_at=now,
                )
            )
            return len(rows)

    def pending_hits(self, search_id: int) -> list[Hit]:
        """The hits committed by this search's chunks and not yet turned into stored families, in chunk order."""
        stmt = (
            select(_chunks.c.hit_records)
            .where(_chunks.c.search_id == search_id, _chunks.c.hit_records.is_not(None))
            .order_by(_chunks.c.chunk_index)
        )
        with self._read() as s:
            # a list per hit (``Hit.to_row``); a dict from a development build of this version is read too
            return [Hit.from_dict(d) if isinstance(d, dict) else Hit.from_row(d)
                    for blob in s.scalars(stmt) for d in blob]

    def clear_pending_hits(self, search_id: int) -> None:
        """Forget a search's hits once its families are stored (nothing unapproved stays in the catalog)."""
        with self._write.begin() as s:
            s.connection().execute(
                update(_chunks).where(_chunks.c.search_id == search_id, _chunks.c.hit_records.is_not(None))
                .values(hit_records=None)
            )

    def finish_search(
        self, search_id: int, status: str = "done", families: int | None = None, approvals: int | None = None,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        """Mark the search ``done`` (or ``interrupted``), stamp ``finished_at``; returns its summary.

        ``families`` and ``approvals`` record its families phase; ``seconds`` adds the time that phase took.
        """
        _check_status(status, tuple(s for s in SEARCH_STATUSES if s != "running"))
        with self._write.begin() as s:
            row = self._search(s, search_id)
            row.status = status
            row.finished_at = utcnow()
            if families is not None:
                row.families = int(families)
            if approvals is not None:
                row.approvals = row.approvals + int(approvals)
            if seconds:
                row.seconds = row.seconds + float(seconds)
            s.flush()
            return self._summary(row, s.get_one(ConstantRow, row.constant_id).text)

    def search_summary(self, search_id: int) -> dict[str, Any]:
        """Counters of a search: ``id, constant, params, status, chunks_total, chunks_done, candidates,
        scanned, hits, conjectures, families, approvals, seconds, candidates_per_second, scan_seconds,
        esma_version, started_at, finished_at, updated_at`` (timestamps as ISO 8601 strings in UTC,
        ``finished_at`` None while unfinished)."""
        with self._read() as s:
            row = self._search(s, search_id)
            return self._summary(row, s.get_one(ConstantRow, row.constant_id).text)

    def searches(self, constant: str | None = None) -> list[dict[str, Any]]:
        """Summaries of every search (of ``constant`` if given), oldest first; a search whose row cannot be read
        is reported (``on_unreadable``) and left out."""
        table = SearchRow.__table__
        stmt = select(table, ConstantRow.text).join(ConstantRow, ConstantRow.id == table.c.constant_id)
        if constant is not None:
            stmt = stmt.where(ConstantRow.text == constant)
        stmt = stmt.order_by(table.c.id)
        with self._read() as s:
            try:
                return [self._checked_summary(row) for row in s.execute(stmt).all()]
            except (ValueError, TypeError, RecursionError):
                pass
            # some row cannot be read (its parameters or timestamps are not what they should be): one at a time
            out = []
            for sid in s.scalars(select(stmt.subquery().c.id)).all():
                try:
                    out.append(self._checked_summary(s.execute(stmt.where(table.c.id == sid)).one()))
                except (ValueError, TypeError, RecursionError) as exc:
                    reason = exc.reason if isinstance(exc, _Bad) else f"{type(exc).__name__}: {exc}"
                    self._unreadable(UnreadableRow("search", sid, getattr(exc, "column", ""), reason))
            return out

    def _checked_summary(self, row: Any) -> dict[str, Any]:
        if not isinstance(row.params, dict):
            raise _Bad("params", "its parameters are not a JSON object")
        if type(row.text) is not str or type(row.status) is not str:
            raise _Bad("status", "its constant or status is not text")
        return self._summary(row, row.text)

    # -- storing formulas and families ---------------------------------------------------------------------

    def store_formulas(
        self,
        search_id: int | None,
        conjectures: Sequence[Conjecture],
        found: Iterable[str] | None = None,
        clear_hits: bool = False,
    ) -> list[int]:
        """Store approved formulas (with their family fields) in one transaction; returns their ids in order.

        A new formula is inserted.  A stored one (same constant and key) keeps its row and identity; its family
        fields (family, representative, relation) are replaced, and so are its figures (verified digits, terms,
        digits per term, those of the simple continued fraction, gain) only when the new record has more
        verified digits or its family changed (they are then derived from another representative): what is
        stored does not depend on the order of searches.  Its proof (status, reason, certificate) is replaced
        unless it was refuted.  The formulas whose
        keys are in ``found`` (default: all) are linked to the search
        ``search_id``.  The families of every key touched are refreshed and the constants' families ranked.
        ``clear_hits`` forgets the search's pending hits in the same transaction (its families are stored).
        """
        values = [_row_values(c) for c in conjectures]  # validate before taking the write lock
        wanted = set(found) if found is not None else {c.key for c in conjectures}
        with self._write.begin() as s:
            if search_id is not None:
                self._search(s, search_id)
            conn = s.connection()
            cache: dict[str, int] = {}
            const_ids = [self._constant_id(s, c.constant, cache) for c in conjectures]
            now = utcnow()
            ids: dict[tuple[int, str], int] = {}
            existing: dict[tuple[int, str], dict[str, Any]] = {}
            by_constant: dict[int, list[str]] = {}
            for cid, v in zip(const_ids, values, strict=True):
                by_constant.setdefault(cid, []).append(v["key"])
            t = _conj_text  # stored text of the list and JSON columns, compared and written as is
            cols = [t.c.id, t.c.key, *(t.c[f] for f in (*_DIGIT_FIELDS, *_FAMILY_FIELDS, *_PROOF_FIELDS))]
            for cid, keys in by_constant.items():
                for part in _batches(sorted(set(keys))):
                    stmt = select(*cols).where(t.c.constant_id == cid, t.c.key.in_(part))
                    for m in conn.execute(stmt).mappings():
                        existing[(cid, m["key"])] = dict(m)
            fresh, changed, seen = [], {}, set()
            for cid, v in zip(const_ids, values, strict=True):
                k = (cid, v["key"])
                if k in seen:
                    continue
                seen.add(k)
                old = existing.get(k)
                if old is None:
                    fresh.append({"constant_id": cid, "first_search_id": search_id, "created_at": now,
                                  "updated_at": now, **v})
                    continue
                # the figures (digits, digits per term, those of the simple continued fraction, gain) are replaced
                # only by a deeper verification or a change of family: a search approving to fewer digits measures
                # the simple continued fraction at its own, lower depth, and must not overwrite what a deeper one
                # stored (the catalog would then depend on the order of searches; gain is not a family field)
                moved = bool(old["family_key"] != v["family_key"] or bool(old["representative"]) != v["representative"]
                             or (old["relation"] or "[1,0,0,1]") != v["relation"])
                upd = {f: v[f] for f in _FAMILY_FIELDS} if moved else {}
                if moved or v["verified_digits"] > old["verified_digits"]:
                    upd.update({f: v[f] for f in _DIGIT_FIELDS})
                if old["status"] != "refuted" and any(old[f] != v[f] for f in _PROOF_FIELDS):
                    upd.update({f: v[f] for f in _PROOF_FIELDS})
                if upd:
                    changed[old["id"]] = {"_id": old["id"], "updated_at": now, **upd}
            if fresh:
                _insert_ignore(conn, _conj_text, fresh, ("constant_id", "key"))
            if changed:
                # executemany per set of columns (rows that changed the same fields share one statement)
                groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                for row in changed.values():
                    groups.setdefault(tuple(sorted(row)), []).append(row)
                for names, rows in groups.items():
                    stmt = update(_conj_text).where(_conj_text.c.id == bindparam("_id")).values(
                        {n: bindparam(n) for n in names if n != "_id"})
                    conn.execute(stmt, rows)
            for cid, keys in by_constant.items():
                for part in _batches(sorted(set(keys))):
                    stmt = select(_conj.c.id, _conj.c.key).where(_conj.c.constant_id == cid, _conj.c.key.in_(part))
                    for rid, key in conn.execute(stmt):
                        ids[(cid, key)] = rid
            if search_id is not None:
                linked = {(cid, v["key"]) for cid, v in zip(const_ids, values, strict=True) if v["key"] in wanted}
                self._link(conn, search_id, [ids[k] for k in linked if k in ids])
            touched: dict[int, set[str]] = {}
            for cid, v in zip(const_ids, values, strict=True):
                touched.setdefault(cid, set()).add(v["family_key"])
            for k, old in existing.items():
                if old["family_key"]:
                    touched.setdefault(k[0], set()).add(old["family_key"])
            for cid, keys in touched.items():
                self._refresh_families(conn, cid, keys - {""}, now)
            if clear_hits and search_id is not None:
                conn.execute(update(_chunks).where(_chunks.c.search_id == search_id,
                                                   _chunks.c.hit_records.is_not(None)).values(hit_records=None))
            return [ids[(cid, v["key"])] for cid, v in zip(const_ids, values, strict=True)]

    @staticmethod
    def _link(conn, search_id: int, conjecture_ids: list[int]) -> None:
        """Link conjectures to the search that found them (once) and count the new links."""
        if not conjecture_ids:
            return
        have: set[int] = set()
        for part in _batches(sorted(set(conjecture_ids))):
            have |= set(conn.scalars(select(_links.c.conjecture_id).where(
                _links.c.search_id == search_id, _links.c.conjecture_id.in_(part))))
        rows = [{"search_id": search_id, "conjecture_id": i, "chunk_index": 0}
                for i in sorted(set(conjecture_ids)) if i not in have]
        added = len(_insert_ignore(conn, _links, rows, ("search_id", "conjecture_id"), "conjecture_id"))
        if added:
            conn.execute(update(SearchRow.__table__).where(SearchRow.id == search_id).values(
                conjectures=SearchRow.conjectures + added, updated_at=utcnow()))

    def _refresh_families(self, conn, constant_id: int, keys: set[str], now: datetime) -> None:
        """Recompute the family rows of ``keys`` from their members, then rank the constant's families."""
        if keys:
            stats: dict[str, tuple[int, int, bool]] = {}
            reps: dict[str, dict[str, Any]] = {}
            proved = func.sum(case((_conj.c.status == "proved", 1), else_=0))
            base = func.sum(case((and_(_conj.c.lhs == "c", _conj.c.signs == "+"), 1), else_=0))
            for part in _batches(sorted(keys)):
                stmt = (
                    select(_conj.c.family_key, func.count(), proved, base)
                    .where(_conj.c.constant_id == constant_id, _conj.c.family_key.in_(part))
                    .group_by(_conj.c.family_key)
                )
                for key, n, n_proved, n_base in conn.execute(stmt):
                    stats[key] = (int(n), int(n_proved or 0), bool(n_base))
                stmt = select(_conj.c.id, _conj.c.family_key, _conj.c.gain, _conj.c.kind, _conj.c.period,
                              _raw(_conj.c.recurrence), _raw(_conj.c.lhs_numerator),
                              _raw(_conj.c.lhs_denominator)).where(
                    _conj.c.constant_id == constant_id, _conj.c.family_key.in_(part), _conj.c.representative)
                for m in conn.execute(stmt).mappings():
                    r = dict(m)
                    try:  # an unreadable representative still gets a family row, sorted last among its peers
                        r["recurrence"] = _int_list(r["recurrence"], "recurrence")
                        r["lhs"] = (*_int_list(r["lhs_numerator"], "lhs_numerator"),
                                    *_int_list(r["lhs_denominator"], "lhs_denominator"))
                        if type(r["gain"]) not in (int, float) or not math.isfinite(r["gain"]):
                            raise _Bad("gain", f"its gain is not a finite number ({r['gain']!r:.40})")
                        if type(r["period"]) is not int or type(r["kind"]) is not str:
                            raise _Bad("period", "its period or kind has another type")
                    except _Bad as exc:
                        self._unreadable(UnreadableRow("formula", r["id"], exc.column, exc.reason))
                        r.update(recurrence=(0,), lhs=(2**31 - 1,), gain=0.0, period=2**31 - 1, kind="")
                    reps[m["family_key"]] = r
            present = {}
            for part in _batches(sorted(keys)):
                stmt = select(_fam.c.id, _fam.c.key).where(_fam.c.constant_id == constant_id, _fam.c.key.in_(part))
                present.update({key: fid for fid, key in conn.execute(stmt)})
            fresh, changed, gone = [], [], []
            for key in keys:
                if key not in stats or key not in reps:
                    if key in present:
                        gone.append(present[key])
                    continue
                n, n_proved, is_base = stats[key]
                r = reps[key]
                row = {
                    "representative_id": r["id"], "members": n, "proved_members": n_proved, "gain": r["gain"],
                    "kind": r["kind"], "period": r["period"], "recurrence_order": len(r["recurrence"]) - 1,
                    # a sort key: an LHS beyond 32 bits (never in a search's space) sorts last, not exactly
                    "height": min(max((abs(x) for x in r["lhs"]), default=0), 2**31 - 1),
                    "base": is_base, "updated_at": now,
                }
                if key in present:
                    changed.append({"_id": present[key], **row})
                else:
                    fresh.append({"constant_id": constant_id, "key": key, "rank": 0, "created_at": now, **row})
            fresh.sort(key=lambda r: (-r["gain"], r["period"], r["recurrence_order"], r["height"], r["key"]))
            _insert_ignore(conn, _fam, fresh, ("constant_id", "key"))
            if changed:
                stmt = update(_fam).where(_fam.c.id == bindparam("_id")).values(
                    {n: bindparam(n) for n in changed[0] if n != "_id"})
                conn.execute(stmt, changed)
            for part in _batches(gone):
                conn.execute(_fam.delete().where(_fam.c.id.in_(part)))
        rows = conn.execute(
            select(_fam.c.id, _fam.c.gain, _fam.c.period, _fam.c.recurrence_order, _fam.c.height, _fam.c.key,
                   _fam.c.rank).where(_fam.c.constant_id == constant_id)
        ).all()
        ordered = sorted(rows, key=lambda r: (-r.gain, r.period, r.recurrence_order, r.height, r.key))
        moves = [{"_id": r.id, "rank": i} for i, r in enumerate(ordered, 1) if r.rank != i]
        if moves:
            conn.execute(update(_fam).where(_fam.c.id == bindparam("_id")).values(rank=bindparam("rank")), moves)

    def family_representatives(self, constant: str, keys: Iterable[str]) -> dict[str, Conjecture]:
        """The stored representative of each family key of ``constant`` that the catalog knows (one whose
        certificate cannot be read comes as a conjecture without one; one unreadable otherwise is left out)."""
        out: dict[str, Conjecture] = {}
        with self._read() as s:
            cid = self._find_constant(s, constant)
            if cid is None:
                return out
            for part in _batches(sorted(set(keys))):
                stmt = self._conjecture_select().where(
                    _conj.c.constant_id == cid, _conj.c.family_key.in_(part), _conj.c.representative)
                for m in s.execute(stmt).mappings():
                    c = self._read_record(m, lenient=True)
                    if c is not None:
                        out[m["family_key"]] = c
        return out

    def family_records(self, constant: str, key: str) -> list[Conjecture]:
        """Every stored member of the family ``key`` of ``constant`` (representative first, then by id).

        A member whose certificate cannot be read comes as a conjecture without one (the search proves it again);
        a member that cannot be read otherwise is reported and left out, as by every reader."""
        stmt = self._conjecture_select().where(
            ConstantRow.text == constant, _conj.c.family_key == key
        ).order_by(_conj.c.representative.desc(), _conj.c.id)
        return self._records(stmt, lenient=True)

    def unassigned(self, limit: int | None = None) -> list[Conjecture]:
        """Formulas stored before families existed (empty family key), oldest first."""
        stmt = self._conjecture_select().where(_conj.c.family_key == "").order_by(_conj.c.id)
        if limit is not None:
            stmt = stmt.limit(int(limit))
        return self._records(stmt)

    def set_proofs(self, updates: Sequence[tuple[int, str, str, dict[str, Any] | None]]) -> None:
        """Record proofs: (conjecture id, status, status_reason, certificate or None) per formula; the
        families' proved counts follow."""
        if not updates:
            return
        for _, status, _, _ in updates:
            _check_status(status, STATUSES)
        with self._write.begin() as s:
            conn = s.connection()
            now = utcnow()
            conn.execute(
                update(_conj).where(_conj.c.id == bindparam("_id")).values(
                    status=bindparam("status"), status_reason=bindparam("status_reason"),
                    certificate=bindparam("certificate"), updated_at=bindparam("updated_at")),
                [{"_id": i, "status": st, "status_reason": why, "certificate": cert, "updated_at": now}
                 for i, st, why, cert in updates],
            )
            touched: dict[int, set[str]] = {}
            for part in _batches(sorted({u[0] for u in updates})):
                for cid, key in conn.execute(select(_conj.c.constant_id, _conj.c.family_key).where(
                        _conj.c.id.in_(part))):
                    touched.setdefault(cid, set()).add(key)
            for cid, keys in touched.items():
                self._refresh_families(conn, cid, keys - {""}, now)

    # -- reading formulas ----------------------------------------------------------------------------------

    def _filtered(
        self,
        stmt: Select[Any],
        constant: str | None = None,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
        family: str | None = None,
        representatives: bool = False,
        search_id: int | None = None,
    ) -> Select[Any]:
        if constant is not None:
            stmt = stmt.where(ConstantRow.text == constant)
        if kind is not None:
            stmt = stmt.where(_conj.c.kind == kind)
        if min_digits is not None:
            stmt = stmt.where(_conj.c.verified_digits >= int(min_digits))
        if status is not None:
            _check_status(status, STATUSES)
            stmt = stmt.where(_conj.c.status == status)
        if family is not None:
            stmt = stmt.where(_conj.c.family_key == family)
        if representatives:
            stmt = stmt.where(_conj.c.representative)
        if search_id is not None:
            stmt = stmt.where(_conj.c.id.in_(select(_links.c.conjecture_id).where(_links.c.search_id == search_id)))
        return stmt

    def conjectures(
        self,
        constant: str | None = None,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
        family: str | None = None,
        representatives: bool = False,
        limit: int | None = None,
        offset: int = 0,
        ranked: bool = False,
    ) -> list[Conjecture]:
        """Stored conjectures, filtered, ordered by constant then id (``ranked``: then by family rank, each
        representative first).

        ``min_digits`` keeps those with ``verified_digits >= min_digits``; ``family`` those of one family key;
        ``representatives`` only each family's representative.
        """
        stmt = self._filtered(self._conjecture_select(), constant, kind, min_digits, status, family,
                              representatives)
        order = [ConstantRow.text]
        if ranked:
            order += [func.coalesce(self._rank_of_family(), 1 << 30), _conj.c.representative.desc()]
        stmt = stmt.order_by(*order, _conj.c.id).offset(max(int(offset), 0))
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    def search_conjectures(self, search_id: int, limit: int | None = None, ranked: bool = False) -> list[Conjecture]:
        """The conjectures found by this search (including ones other searches found first), in id order (or,
        ``ranked``, by family rank with each representative first); the first ``limit`` of them when given."""
        stmt = self._filtered(self._conjecture_select(), search_id=search_id)
        if ranked:
            stmt = stmt.order_by(func.coalesce(self._rank_of_family(), 1 << 30), _conj.c.representative.desc(),
                                 _conj.c.id)
        else:
            stmt = stmt.order_by(_conj.c.id)
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    @staticmethod
    def _rank_of_family():
        return (
            select(_fam.c.rank).where(_fam.c.constant_id == _conj.c.constant_id, _fam.c.key == _conj.c.family_key)
            .scalar_subquery()
        )

    def search_proofs(self, search_id: int) -> dict[str, int]:
        """How many of the formulas and families a search found are proved: ``formulas, proved,
        families, proved_families``."""
        mine = select(_links.c.conjecture_id).where(_links.c.search_id == search_id)
        proved = func.sum(case((_conj.c.status == "proved", 1), else_=0))
        with self._read() as s:
            n, n_proved = s.execute(select(func.count(), proved).where(_conj.c.id.in_(mine))).one()
            stmt, rep = self._family_select()
            found = self._family_filters(stmt, rep, None, None, None, None, None, search_id).subquery()
            f, f_proved = s.execute(
                select(func.count(), func.sum(case((found.c.status == "proved", 1), else_=0))).select_from(found)
            ).one()
        return {"formulas": int(n or 0), "proved": int(n_proved or 0), "families": int(f or 0),
                "proved_families": int(f_proved or 0)}

    def get_by_key(self, constant: str, key: str) -> Conjecture | None:
        """The formula of ``constant`` with this key (``"num|den|signs"``), or ``None``."""
        found = self._records(self._conjecture_select().where(ConstantRow.text == constant, _conj.c.key == key))
        return found[0] if found else None

    def get(self, conjecture_id: int) -> Conjecture | None:
        """The conjecture with this id, or ``None`` (also when its row cannot be read: then it is reported)."""
        found = self._records(self._conjecture_select().where(_conj.c.id == int(conjecture_id)))
        return found[0] if found else None

    def conjectures_by_ids(self, ids: Iterable[int]) -> dict[int, Conjecture]:
        """The conjectures with these ids, by id (ids not in the catalog are left out): one query per 500 ids,
        in one read transaction (a page's family representatives: one query, not one ``get`` per row).

        >>> with Catalog(":memory:") as cat:
        ...     cat.conjectures_by_ids([3, 1, 2])
        {}
        """
        wanted = sorted({int(i) for i in ids})
        found: dict[int, Conjecture] = {}
        if not wanted:
            return found
        with self._read() as s:
            for part in _batches(wanted):
                stmt = self._conjecture_select().where(_conj.c.id.in_(part))
                for m in s.execute(stmt).mappings():
                    c = self._read_record(m)
                    if c is not None:
                        found[m["id"]] = c
        return found

    def iter_records_json(
        self,
        constant: str | None = None,
        search_id: int | None = None,
        family: str | None = None,
        representatives: bool = False,
        kind: str | None = None,
        min_digits: int | None = None,
        status: str | None = None,
        ranked: bool = True,
        batch: int = 2000,
    ) -> Iterator[str]:
        """The JSON text of each matching record (``Conjecture.to_dict`` fields), streamed in batches.

        No record object is built and the catalog is never read whole, but nothing stored is pasted: integer lists
        are checked against the JSON grammar of a list of integers, stored JSON (polynomials, certificates,
        extra fields) is parsed and written again by the C encoder, text by the C string encoder, numbers
        checked to be numbers.  A row that cannot be read is reported (``on_unreadable``) and skipped.
        ``ranked`` orders by constant, family rank, representative first, then id (else by id).
        """
        fam_rank = self._rank_of_family()
        fam_id = self._family_of_row()
        wanted = [c for c in _conj.c if c.name not in ("constant_id", "first_search_id", "created_at", "updated_at")]
        cols = [_raw(c) if c.name in _JSON_COLUMNS else c for c in wanted]
        stmt = select(*cols, ConstantRow.text.label("text"), fam_id.label("family_id")).join(
            ConstantRow.__table__, ConstantRow.id == _conj.c.constant_id)
        stmt = self._filtered(stmt, constant, kind, min_digits, status, family, representatives, search_id)
        if ranked:
            stmt = stmt.order_by(ConstantRow.text, func.coalesce(fam_rank, 1 << 30), _conj.c.representative.desc(),
                                 _conj.c.id)
        else:
            stmt = stmt.order_by(_conj.c.id)
        with self._read() as s:
            conn = s.connection().execution_options(stream_results=True, yield_per=batch)
            for m in conn.execute(stmt).mappings():
                try:
                    text = _record_json(m)
                except _Bad as exc:
                    self._unreadable(UnreadableRow("formula", m["id"], exc.column, exc.reason))
                    continue
                except (TypeError, ValueError, RecursionError) as exc:  # what the checks above did not foresee
                    self._unreadable(UnreadableRow("formula", m["id"], "", f"{type(exc).__name__}: {exc}"))
                    continue
                yield text

    # -- families ------------------------------------------------------------------------------------------

    def _family_select(self) -> Select[Any]:
        rep = ConjectureRow.__table__.alias("rep")
        return (
            select(
                _fam.c.id, _fam.c.key, _fam.c.members, _fam.c.proved_members, _fam.c.gain, _fam.c.kind,
                _fam.c.period, _fam.c.recurrence_order, _fam.c.height, _fam.c.base, _fam.c.rank,
                _fam.c.representative_id, ConstantRow.text,
                rep.c.status, rep.c.status_reason, rep.c.verified_digits, rep.c.digits_per_term,
                rep.c.scf_digits_per_term, rep.c.lhs, rep.c.signs, rep.c.closed_form, rep.c.cf_text,
            )
            .join(ConstantRow.__table__, ConstantRow.id == _fam.c.constant_id)
            .join(rep, rep.c.id == _fam.c.representative_id)
        ), rep

    @staticmethod
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

    def _read_family(self, m: Any) -> Family | None:
        """The family of row ``m``, or ``None`` (reported) when it cannot be read."""
        try:
            return self._family(m)
        except UnreadableRow as exc:
            self._unreadable(exc)
            return None

    def _family_filters(self, stmt, rep, constant, kind, status, min_gain, min_digits, search_id=None):
        if constant is not None:
            stmt = stmt.where(ConstantRow.text == constant)
        if kind is not None:
            stmt = stmt.where(_fam.c.kind == kind)
        if status is not None:
            _check_status(status, STATUSES)
            stmt = stmt.where(rep.c.status == status)
        if min_gain is not None:
            stmt = stmt.where(_fam.c.gain >= float(min_gain))
        if min_digits is not None:
            stmt = stmt.where(rep.c.verified_digits >= int(min_digits))
        if search_id is not None:
            found = (
                select(_conj.c.constant_id, _conj.c.family_key)
                .join(_links, _links.c.conjecture_id == _conj.c.id)
                .where(_links.c.search_id == search_id)
                .distinct()
                .subquery()
            )
            stmt = stmt.where(
                select(found.c.family_key).where(
                    found.c.constant_id == _fam.c.constant_id, found.c.family_key == _fam.c.key
                ).exists()
            )
        return stmt

    def families(
        self,
        constant: str | None = None,
        *,
        kind: str | None = None,
        status: str | None = None,
        min_gain: float | None = None,
        min_digits: int | None = None,
        search_id: int | None = None,
        sort: str = "rank",
        descending: bool | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Family]:
        """Families, one row each, filtered and sorted in SQL (and paginated with ``limit``/``offset``).

        ``sort``: ``rank`` (gain descending, then simplicity), ``gain``, ``members``, ``digits`` (the
        representative's verified digits), ``simplicity`` (period, order, height); ``descending`` reverses
        the natural order of the sort (rank ascending, gain/members/digits descending, simplicity ascending).
        ``search_id`` keeps the families that search found members of.
        """
        if sort not in FAMILY_SORTS:
            raise ValueError(f"Argument 'sort' must be one of {', '.join(FAMILY_SORTS)}, not {sort!r}")
        stmt, rep = self._family_select()
        stmt = self._family_filters(stmt, rep, constant, kind, status, min_gain, min_digits, search_id)
        natural_desc = sort in ("gain", "members", "digits")
        desc = natural_desc if descending is None else bool(descending)
        cols = {
            "rank": [_fam.c.rank],
            "gain": [_fam.c.gain],
            "members": [_fam.c.members],
            "digits": [rep.c.verified_digits],
            "simplicity": [_fam.c.period, _fam.c.recurrence_order, _fam.c.height],
        }[sort]
        order = [c.desc() if desc else c.asc() for c in cols]
        stmt = stmt.order_by(ConstantRow.text, *order, _fam.c.rank, _fam.c.id).offset(max(int(offset), 0))
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        with self._read() as s:
            return [f for m in s.execute(stmt).mappings() if (f := self._read_family(m)) is not None]

    def count_families(
        self,
        constant: str | None = None,
        *,
        kind: str | None = None,
        status: str | None = None,
        min_gain: float | None = None,
        min_digits: int | None = None,
        search_id: int | None = None,
    ) -> int:
        """How many families ``families`` would list with these filters (for pagination)."""
        stmt, rep = self._family_select()
        stmt = self._family_filters(stmt, rep, constant, kind, status, min_gain, min_digits, search_id)
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    def family(self, family_id: int) -> Family | None:
        """The family with this id, or ``None``."""
        stmt, _ = self._family_select()
        with self._read() as s:
            m = s.execute(stmt.where(_fam.c.id == int(family_id))).mappings().first()
            return None if m is None else self._read_family(m)

    def family_by_key(self, constant: str, key: str) -> Family | None:
        """The family ``key`` of ``constant``, or ``None``."""
        stmt, _ = self._family_select()
        with self._read() as s:
            m = s.execute(stmt.where(ConstantRow.text == constant, _fam.c.key == key)).mappings().first()
            return None if m is None else self._read_family(m)

    def family_members(self, family_id: int, limit: int | None = None, offset: int = 0) -> list[Conjecture]:
        """The members of a family: the representative first, then by id (paginated)."""
        sub = select(_fam.c.constant_id, _fam.c.key).where(_fam.c.id == int(family_id)).subquery()
        stmt = (
            self._conjecture_select()
            .join(sub, and_(sub.c.constant_id == _conj.c.constant_id, sub.c.key == _conj.c.family_key))
            .order_by(_conj.c.representative.desc(), _conj.c.id)
            .offset(max(int(offset), 0))
        )
        if limit is not None:
            stmt = stmt.limit(max(int(limit), 0))
        return self._records(stmt)

    # -- verifications and constants ------------------------------------------------------------------------

    def add_verification(
        self,
        conjecture_id: int,
        digits_requested: int,
        verified_digits: int,
        ok: bool,
        terms_used: int,
        seconds: float,
        esma_version: str,
        status: str | None = None,
        status_reason: str | None = None,
    ) -> None:
        """Record a verification run.

        When ``ok`` and deeper than what is stored, the conjecture's ``verified_digits`` (and
        ``verify_terms`` = ``terms_used``) are raised.  ``status`` (e.g. ``'refuted'``) and ``status_reason``
        replace the conjecture's when given.  Raises ``KeyError`` for an unknown conjecture.
        """
        if status is not None:
            _check_status(status, STATUSES)
        with self._write.begin() as s:
            row = s.get(ConjectureRow, conjecture_id)
            if row is None:
                raise KeyError(f"No conjecture with id {conjecture_id}")
            s.add(
                VerificationRow(
                    conjecture_id=conjecture_id,
                    digits_requested=int(digits_requested),
                    verified_digits=int(verified_digits),
                    ok=bool(ok),
                    terms_used=int(terms_used),
                    seconds=float(seconds),
                    esma_version=esma_version,
                    created_at=utcnow(),
                )
            )
            if ok and verified_digits > row.verified_digits:
                row.verified_digits = int(verified_digits)
                row.verify_terms = int(terms_used)
            if status is not None:
                row.status = status
                if status != "proved":
                    row.certificate = None
            if status_reason is not None:
                row.status_reason = status_reason
            s.flush()
            if row.family_key:
                self._refresh_families(s.connection(), row.constant_id, {row.family_key}, utcnow())

    def verifications(self, conjecture_id: int) -> list[dict[str, Any]]:
        """Verification runs of a conjecture, oldest first: ``id, conjecture_id, digits_requested,
        verified_digits, ok, terms_used, seconds, esma_version, created_at``."""
        stmt = (
            select(VerificationRow)
            .where(VerificationRow.conjecture_id == conjecture_id)
            .order_by(VerificationRow.id)
        )
        with self._read() as s:
            return [
                {
                    "id": v.id,
                    "conjecture_id": v.conjecture_id,
                    "digits_requested": v.digits_requested,
                    "verified_digits": v.verified_digits,
                    "ok": v.ok,
                    "terms_used": v.terms_used,
                    "seconds": v.seconds,
                    "esma_version": v.esma_version,
                    "created_at": _iso(v.created_at),
                }
                for v in s.scalars(stmt).all()
            ]

    def constants(self) -> list[dict[str, Any]]:
        """Every constant with its number of conjectures: ``[{"id", "text", "conjectures"}]`` by text."""
        stmt = (
            select(ConstantRow.id, ConstantRow.text, func.count(ConjectureRow.id))
            .outerjoin(ConjectureRow, ConjectureRow.constant_id == ConstantRow.id)
            .group_by(ConstantRow.id, ConstantRow.text)
            .order_by(ConstantRow.text)
        )
        with self._read() as s:
            return [{"id": i, "text": t, "conjectures": n} for i, t, n in s.execute(stmt).all()]

    def constants_overview(self) -> list[dict[str, Any]]:
        """Every constant with its counts: ``id, text, formulas, families, proved_formulas, proved_families,
        searches``, by text (aggregates in SQL; nothing is loaded whole)."""
        rep = ConjectureRow.__table__.alias("rep")
        formulas = (
            select(_conj.c.constant_id, func.count().label("n"),
                   func.sum(case((_conj.c.status == "proved", 1), else_=0)).label("proved"))
            .group_by(_conj.c.constant_id).subquery()
        )
        fams = (
            select(_fam.c.constant_id, func.count().label("n"),
                   func.sum(case((rep.c.status == "proved", 1), else_=0)).label("proved"))
            .join(rep, rep.c.id == _fam.c.representative_id)
            .group_by(_fam.c.constant_id).subquery()
        )
        searches = (
            select(SearchRow.constant_id, func.count().label("n")).group_by(SearchRow.constant_id).subquery()
        )
        stmt = (
            select(ConstantRow.id, ConstantRow.text, formulas.c.n, formulas.c.proved, fams.c.n, fams.c.proved,
                   searches.c.n)
            .outerjoin(formulas, formulas.c.constant_id == ConstantRow.id)
            .outerjoin(fams, fams.c.constant_id == ConstantRow.id)
            .outerjoin(searches, searches.c.constant_id == ConstantRow.id)
            .order_by(ConstantRow.text)
        )
        with self._read() as s:
            return [
                {"id": i, "text": t, "formulas": int(nf or 0), "proved_formulas": int(pf or 0),
                 "families": int(nfam or 0), "proved_families": int(pfam or 0), "searches": int(ns or 0)}
                for i, t, nf, pf, nfam, pfam, ns in s.execute(stmt).all()
            ]

    # -- read-only access (``esma serve``, ``esma export --format html``) -------------------------------------

    @classmethod
    def open_read_only(cls, url_or_path: str | os.PathLike[str] | None = None) -> Catalog:
        """Open an existing catalog so that it cannot be written, without migrating it.

        SQLite: the file is opened with the ``mode=ro`` URI and ``PRAGMA query_only`` (the journal mode is
        left as it is: switching to WAL would be a write); PostgreSQL: every transaction is
        ``READ ONLY``.  Raises ``FileNotFoundError`` for a missing SQLite file, and ``ValueError`` with one
        line when the schema is not the one this esma writes (older: run any esma command on it once to
        migrate; newer: upgrade esma).

        >>> import tempfile, os.path
        >>> path = os.path.join(tempfile.mkdtemp(), "c.sqlite")
        >>> Catalog(path).close()                                 # create and migrate
        >>> with Catalog.open_read_only(path) as cat:
        ...     cat.constants()
        []
        """
        from sqlalchemy import create_engine

        from esma.db.engine import BUSY_TIMEOUT_MS, read_only_url, resolve_url
        from esma.db.migrate import current_revision, head_revision

        url = resolve_url(url_or_path)
        if url.get_backend_name() == "sqlite":
            path = url.database or ""
            if path in ("", ":memory:") or path.startswith("file:"):
                raise ValueError(f"A read-only catalog must be an SQLite file path, not {path or 'memory'!r}")
            if not os.path.isfile(path):
                raise FileNotFoundError(f"No catalog file {path}")
            ro = read_only_url(url)  # mode=ro (and immutable=1 on a read-only medium)
            engine = create_engine(ro, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

            @event.listens_for(engine, "connect")
            def _query_only(dbapi_connection: Any, connection_record: Any) -> None:
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                    cursor.execute("PRAGMA query_only=ON")
                finally:
                    cursor.close()
        elif url.get_backend_name() == "postgresql":
            engine = create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})
        else:
            engine = create_engine(url)
        try:
            have, want = current_revision(engine), head_revision()
        except BaseException:
            engine.dispose()
            raise
        if have != want:
            engine.dispose()
            where = display_url(url)
            if have is None:
                raise ValueError(f"{where} is not an esma catalog (no schema version)")
            from alembic.script import ScriptDirectory

            from esma.db.migrate import alembic_config

            known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
            if have in known:
                raise ValueError(
                    f"catalog {where} has the older schema {have} (this esma needs {want}): "
                    f"run any esma command on it once to migrate it, e.g. esma list --db {where}"
                )
            from esma.db.migrate import NewerSchemaError

            raise NewerSchemaError(have, where)
        self = cls.__new__(cls)
        self._engine = engine
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read = sessionmaker(engine, expire_on_commit=False)
        self.url = display_url(url)
        return self

    def constant_by_id(self, constant_id: int) -> dict[str, Any] | None:
        """``{"id", "text"}`` of a constant, or ``None``."""
        with self._read() as s:
            row = s.get(ConstantRow, int(constant_id))
            return None if row is None else {"id": row.id, "text": row.text}

    def constant_id_of(self, conjecture_id: int) -> int | None:
        """The constant id of a formula (the web pages link a formula to its constant), or ``None``."""
        with self._read() as s:
            return s.scalar(select(ConjectureRow.constant_id).where(ConjectureRow.id == int(conjecture_id)))

    def proof_record(
        self, conjecture_id: int | None = None, constant: str | None = None, key: str | None = None
    ) -> tuple[Conjecture, str | None] | None:
        """A formula whose proof is to be checked, by id (or by constant and key): its record without the
        certificate, and the certificate's stored text as it is (``None`` when there is none), undecoded, so
        that a certificate that is not JSON is the checker's to reject, not an error of the catalog.
        ``None`` if there is no such formula."""
        cols = [_raw(c) if c.name == "certificate" else c for c in _conj.c]
        stmt = select(*cols, ConstantRow.text, self._family_of_row().label("family_id")).join(
            ConstantRow.__table__, ConstantRow.id == _conj.c.constant_id)
        if conjecture_id is not None:
            stmt = stmt.where(_conj.c.id == int(conjecture_id))
        else:
            stmt = stmt.where(ConstantRow.text == str(constant), _conj.c.key == str(key))
        with self._read() as s:
            m = s.execute(stmt).mappings().first()
        if m is None:
            return None
        text = m["certificate"]
        return _record({**m, "certificate": None}, m["text"]), text


_JSON_COLUMNS = frozenset(
    {"lhs_numerator", "lhs_denominator", "terms", "recurrence", "polynomials", "relation", "certificate", "extra"}
)


def _raw(column):
    """The column's stored text, without its TypeDecorator (the JSON is spliced into the output as is)."""
    return type_coerce(column, Text()).label(column.name)

