"""The records of a kept keyword index's generation, as its files hold them.

A generation is ``gen-NNNNNN.json`` (a :class:`Manifest`: its segments and their dead rows, the corpus
terms, the collection version it is current with, the name of its documents file) and ``docs-NNNNNN.json``
(a :class:`DocEntry` per committed document).  A manifest written before the bridging vocabulary was
dropped also names ``vocab-NNNNNN`` files: those fields are ignored, and the files, which no generation
uses any more, are removed with the other unused files (:meth:`vectorstore.keyword.folder.Folder.cleanup`).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vectorstore.records import Origin

FORMAT = 2  # 2: the segmenter's corpus terms ("terms") instead of words taught to the global jieba

Version = tuple[str, int, int]  # (collection id, revision, chunk count)


@dataclass(frozen=True)
class DocEntry:
    """A committed document as a generation holds it."""

    doc_hash: str
    chunks: int  # rows held
    origin: Origin
    terms: tuple[str, ...]  # its quoted terms, which the index's segmenter keeps whole


def docs_json(docs: Mapping[str, DocEntry]) -> bytes:
    """The documents file of a generation."""
    records = {
        d: {"hash": e.doc_hash, "chunks": e.chunks, "origin": e.origin, "terms": list(e.terms)} for d, e in docs.items()
    }
    return json.dumps(records, ensure_ascii=False).encode("utf-8")


def read_docs(text: str) -> dict[str, DocEntry]:
    return {
        d: DocEntry(e["hash"], int(e["chunks"]), e.get("origin", "unknown"), tuple(e.get("terms", ())))
        for d, e in json.loads(text).items()
    }


@dataclass(frozen=True)
class SegmentRef:
    """A segment a generation uses, and its rows that are no longer live (sorted)."""

    name: str
    dead: tuple[int, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """One generation: ``gen-NNNNNN.json``."""

    generation: int
    segments: tuple[SegmentRef, ...]
    terms: tuple[str, ...]  # the corpus terms the index's segmenter adds to the common dictionary
    next_key: int  # the collection-order key the next new row gets
    version: Version | None  # the collection version it is current with
    partial: bool  # the collection moved while it was read: the next update goes on
    docs: str  # the documents file ("" until the generation is written)
    embedding_model: str | None = None
    created: str = ""
    format: int = FORMAT

    def files(self) -> set[str]:
        """The files of the folder this generation uses, besides its manifest."""
        return {s.name for s in self.segments} | {self.docs}

    def to_json(self) -> bytes:
        record: dict[str, Any] = {
            "format": self.format,
            "created": self.created,
            "version": list(self.version) if self.version is not None else None,
            "partial": self.partial,
            "segments": [{"name": s.name, "dead": list(s.dead)} for s in self.segments],
            "terms": list(self.terms),
            "next_key": self.next_key,
            "generation": self.generation,
            "embedding_model": self.embedding_model,
            "docs": self.docs,
        }
        return json.dumps(record, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Raises ValueError, KeyError or TypeError for a manifest that is not one.  Fields it does not know
        (``vocab``, ``vocab_complete`` of an older writer) are ignored."""
        raw = json.loads(text)
        version = raw.get("version")
        return cls(
            generation=int(raw["generation"]),
            segments=tuple(SegmentRef(d["name"], tuple(int(r) for r in d.get("dead", []))) for d in raw["segments"]),
            terms=tuple(raw.get("terms", ())),
            next_key=int(raw["next_key"]),
            version=(str(version[0]), int(version[1]), int(version[2])) if version else None,
            partial=bool(raw.get("partial")),
            docs=raw.get("docs") or "",
            embedding_model=raw.get("embedding_model"),
            created=raw.get("created", ""),
            format=raw.get("format"),
        )
