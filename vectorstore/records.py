"""Typed records passed between the stages.

``ingest`` produces :class:`Chunk` objects, ``vectorstore`` stores them (one
Chroma record per chunk, the fields below as metadata) and hands back
:class:`ScoredChunk` objects to ``assistant``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field, computed_field

from zhtext.orientation import Orientation

ChunkKind = Literal["text", "heading", "caption"]
SECTION_SEP = " › "


def short_hash(text: str, n: int = 16) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def doc_id_for(source: str) -> str:
    """Stable document id: derived from the file name, so re-ingesting a changed file replaces it."""
    return "doc-" + short_hash(source, 12)


@dataclass(frozen=True)
class Chunk:
    """A span of one document: ``original_text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    source: str  # file name as ingested
    title: str
    section: str  # section path, headings joined by SECTION_SEP
    kind: ChunkKind
    start: int
    end: int
    text: str
    doc_hash: str = ""  # content hash of the whole file (incremental ingest)
    ingested_at: str = ""  # ISO timestamp
    orientation: Orientation = "unknown"  # plans vs achievements (zhtext.orientation)
    # text addressed to a model (「忽略以上指令」, "[SYSTEM]"): flagged at ingest, never to be quoted
    suspicious: bool = False

    def metadata(self) -> dict[str, Any]:
        meta = asdict(self)
        del meta["text"]
        return meta

    @classmethod
    def from_metadata(cls, text: str, meta: Mapping[str, Any]) -> Chunk:
        known = {k: meta[k] for k in cls.__dataclass_fields__ if k in meta and k != "text"}
        return cls(text=text, **known)


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk with its fused score and the parts it came from."""

    chunk: Chunk
    score: float
    dense: float | None = None  # cosine similarity, if the dense search found it
    lexical: float | None = None  # raw BM25 score, if BM25 found it
    duplicates: tuple[str, ...] = field(default_factory=tuple)  # chunk ids collapsed into this one


Origin = Literal["bundled", "upload", "cli", "folder", "unknown"]


@dataclass(frozen=True)
class Provenance:
    """Where a document came from: ``bundled`` (the repository's data/corpus), ``upload`` (page or API),
    ``cli`` (`python -m ingest` of another folder), ``folder`` (the server's re-index of its corpus folder)."""

    origin: Origin = "unknown"
    by: str = ""  # who: "api-token", "page-login", "loopback 127.0.0.1", "user@host" for the CLI
    folder: str = ""  # absolute folder the file was read from: re-indexing a folder only ever drops its own documents


# The one document record: the store's registry keeps it as metadata (:meth:`DocumentInfo.metadata`), and the API
# serves it as it is, by pydantic: the fields up to ``ingested_at`` and the three computed fields at the end (the
# content hash, the folder and the nested provenance stay out of the JSON).
@dataclass(frozen=True)
class DocumentInfo:
    """An indexed document: where it came from, who added it, its chunks."""

    doc_id: str
    source: str
    title: str
    chunks: int
    doc_hash: Annotated[str, Field(exclude=True)]
    ingested_at: str
    provenance: Annotated[Provenance, Field(exclude=True)] = field(default_factory=Provenance)
    suspicious: Annotated[int, Field(exclude=True)] = 0  # chunks flagged as text addressed to a model

    # (mypy does not follow a decorator over @property; pydantic's documentation suggests this ignore)
    @computed_field(  # type: ignore[prop-decorator]
        description="bundled | upload | cli | folder | unknown: where the document came from"
    )
    @property
    def origin(self) -> Origin:
        return self.provenance.origin

    @computed_field(  # type: ignore[prop-decorator]
        description="who added it: api-token, page-login, loopback <address>, or user@host for the CLI"
    )
    @property
    def added_by(self) -> str:
        return self.provenance.by

    @computed_field(  # type: ignore[prop-decorator]
        description="chunks holding text addressed to a model (「忽略以上指令」, [SYSTEM]…); never quoted"
    )
    @property
    def suspicious_chunks(self) -> int:
        return self.suspicious

    def metadata(self) -> dict[str, Any]:
        meta = asdict(self)
        prov = meta.pop("provenance")
        return meta | {"origin": prov["origin"], "origin_by": prov["by"], "origin_folder": prov["folder"]}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> DocumentInfo:
        prov = Provenance(meta.get("origin", "unknown"), meta.get("origin_by", ""), meta.get("origin_folder", ""))
        return cls(
            meta["doc_id"],
            meta["source"],
            meta.get("title", ""),
            int(meta.get("chunks", 0)),
            meta.get("doc_hash", ""),
            meta.get("ingested_at", ""),
            prov,
            int(meta.get("suspicious", 0)),
        )
