"""Searches and their checkpoints: registering (or resuming) a search, committing its chunks' scans with their
pending hits, finishing it, and its summaries.

:class:`SearchesMixin` is a part of :class:`~esma.db.repository.Catalog`; it relies on what the catalog sets
up: the sessionmakers ``_write`` and ``_read`` and the shared helpers ``_constant_id``, ``_search`` and
``_unreadable`` (see ``esma.db.repository``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from esma.columns import hits_text
from esma.db._base import _check_status, _chunks, _chunks_text, _get_or_insert, _insert_ignore, _iso
from esma.db.models import SEARCH_STATUSES, ConstantRow, SearchChunkRow, SearchRow, utcnow
from esma.db.rows import UnreadableRow, _Bad
from esma.records import Hit


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def params_key(params: dict[str, Any]) -> str:
    """The identity of a search's parameters: sha256 of their canonical JSON (key order does not matter).

    >>> params_key({"a": 1, "b": [2, 3]}) == params_key({"b": [2, 3], "a": 1})
    True
    """
    return hashlib.sha256(_canonical_json(params).encode("utf-8")).hexdigest()


class SearchesMixin:
    """The searches stage of :class:`~esma.db.repository.Catalog` (uses its ``_write``, ``_read``,
    ``_constant_id``, ``_search`` and ``_unreadable``)."""

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
        ``scan_seconds``, and optionally ``hit_records``, the hits as stored (``ChunkResult.hit_records``, made
        by the worker that scanned the chunk; made here otherwise).  Chunks already committed (by another
        process, or an earlier run) are skipped; returns how many were new.
        """
        items = []
        for ch in chunks:
            index = int(ch["index"])
            if index < 0:
                raise ValueError(f"Argument 'chunk_index' must be >= 0, not {index}")
            hits = list(ch.get("hits") or ())
            if any(not isinstance(h, Hit) for h in hits):
                raise TypeError("Argument 'hits' must hold esma.records.Hit records")
            text = ch.get("hit_records")
            if text is None:
                text = hits_text(hits)
            elif not (hits and isinstance(text, str) and text.startswith("[")):
                raise ValueError(f"Argument 'hit_records' must be the JSON text of the hits, not {text!r:.80}")
            items.append((index, hits, ch, text))
        if not items:
            return 0
        with self._write.begin() as s:
            self._search(s, search_id)
            conn = s.connection()
            done = set(
                conn.scalars(
                    select(_chunks.c.chunk_index).where(
                        _chunks.c.search_id == search_id,
                        _chunks.c.chunk_index.in_([i for i, *_ in items]),
                    )
                )
            )
            now = utcnow()
            rows, seen = [], set()
            for index, hits, ch, text in items:
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
                    "hit_records": text,
                    "created_at": now,
                })
            if not rows:
                return 0
            # another process may have committed some of these chunks meanwhile: count only what we inserted
            inserted = set(_insert_ignore(conn, _chunks_text, rows, ("search_id", "chunk_index"), "chunk_index"))
            rows = [r for r in rows if r["chunk_index"] in inserted]
            scanned = {i: int(ch.get("scanned", 0)) for i, _, ch, _ in items}
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
