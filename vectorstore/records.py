"""Typed records passed between the stages.

``ingest`` produces :class:`Chunk` objects, ``vectorstore`` stores them (one
Chroma record per chunk, the fields below as metadata) and hands back
:class:`ScoredChunk` objects to ``assistant``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
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


IndicatorSide = Literal["actual", "target"]


@dataclass(frozen=True)
class Indicator:
    """A quantitative statement of a document (「地区生产总值达到760亿元」), found at ingest.

    ``text`` is exactly ``original[start:end]`` (the clause that states it); ``value_start``/``value_end`` are the
    number with its unit inside it (「760亿元」).  ``value`` and ``unit`` are as printed (760, 亿元: 「6万余人」
    is 6 and 万人, the 余 in ``qualifier``); ``period`` is a year (2020) or the text's own words for a span
    (五年来, 今后五年), empty when the text gives none; ``subject`` says what is measured, in the text's words."""

    subject: str
    value: float
    unit: str
    period: str
    orientation: IndicatorSide
    text: str
    doc_id: str
    source: str
    start: int
    end: int
    section: str = ""
    value_start: int = 0
    value_end: int = 0
    qualifier: str = ""  # 以上, 多, 余, 近, 超 … as printed around the number

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Indicator:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


INDICATORS_KEY = "indicators"  # the registry record's document text: {"indicators": [...]} (JSON)


def indicators_json(indicators: Iterable[Indicator]) -> str:
    """How the registry keeps a document's indicators (beside its metadata, in the record's document text)."""
    return json.dumps({INDICATORS_KEY: [i.to_dict() for i in indicators]}, ensure_ascii=False, separators=(",", ":"))


def indicators_from_json(text: str | None) -> tuple[Indicator, ...] | None:
    """The indicators a registry record keeps; None for a record written before they were kept (its text is the
    file name) or one that cannot be read."""
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get(INDICATORS_KEY), list):
        return None
    try:
        return tuple(Indicator.from_dict(d) for d in data[INDICATORS_KEY])
    except (TypeError, KeyError):
        return None
