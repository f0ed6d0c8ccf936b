"""The document registry: one record per committed document, in a second Chroma collection.

A document's record (its content fingerprint, chunk count, provenance) is written
*after* all its chunks and removed *before* they are, so it is the commit mark:
readers show a chunk only when its ``doc_hash`` equals the committed one, and an
ingest killed half-way leaves a document that is invisible and redone next time
(its fingerprint does not match), never one that is half there for good.

The record's document text keeps the document's indicators (:class:`vectorstore.records.Indicator`, as JSON), so
they are committed and removed with it; listing documents reads the metadata only.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import chromadb

from vectorstore.chroma import chroma_io
from vectorstore.records import DocumentInfo, Indicator, indicators_from_json, indicators_json

SUFFIX = "__docs"
_PAGE = 1000
_VECTOR = [1.0]  # Chroma wants an embedding per record; the registry is never searched by vector


def registry_name(collection: str) -> str:
    return collection + SUFFIX


class DocumentRegistry:
    """Reads through ``client``; writes through ``write_client`` (a Chroma server's long-timeout client)."""

    def __init__(
        self, client: chromadb.ClientAPI, collection: str, write_client: chromadb.ClientAPI | None = None
    ) -> None:
        self._client = client
        self._write_client = write_client or client
        self.name = registry_name(collection)
        self._collection: chromadb.Collection | None = None
        self._writable: chromadb.Collection | None = None

    def exists(self) -> bool:
        return self.name in {c.name for c in self._client.list_collections()}

    def open(self, create: bool) -> bool:
        """Attach to the registry collection (creating it with ``create``); False if there is none."""
        if create:
            self._writable = self._write_client.get_or_create_collection(self.name)
            self._collection = (
                self._client.get_collection(self.name) if self._client is not self._write_client else self._writable
            )
        elif self.exists():
            self._collection = self._client.get_collection(self.name)
            self._writable = (
                self._write_client.get_collection(self.name)
                if self._client is not self._write_client
                else self._collection
            )
        return self._collection is not None

    @property
    def ready(self) -> bool:
        return self._collection is not None

    def all(self) -> dict[str, DocumentInfo]:
        assert self._collection is not None
        found: dict[str, DocumentInfo] = {}
        offset = 0
        while True:
            page = self._collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for meta in chroma_io.metadatas(page):
                info = DocumentInfo.from_metadata(meta)
                found[info.doc_id] = info
            if len(page["ids"]) < _PAGE:
                return found
            offset += _PAGE

    def get(self, doc_ids: Iterable[str]) -> dict[str, DocumentInfo]:
        assert self._collection is not None
        ids = list(dict.fromkeys(doc_ids))
        found: dict[str, DocumentInfo] = {}
        for i in range(0, len(ids), _PAGE):
            for meta in chroma_io.metadatas(self._collection.get(ids=ids[i : i + _PAGE], include=["metadatas"])):
                info = DocumentInfo.from_metadata(meta)
                found[info.doc_id] = info
        return found

    def indicators(self, doc_ids: Iterable[str] | None = None) -> dict[str, tuple[Indicator, ...] | None]:
        """doc id → the document's indicators (None: a record from before they were kept), of these documents
        (of all: None)."""
        assert self._collection is not None
        found: dict[str, tuple[Indicator, ...] | None] = {}
        if doc_ids is None:
            offset = 0
            while True:
                page = self._collection.get(include=["documents"], limit=_PAGE, offset=offset)
                found |= dict(zip(page["ids"], map(indicators_from_json, chroma_io.documents(page)), strict=True))
                if len(page["ids"]) < _PAGE:
                    return found
                offset += _PAGE
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), _PAGE):
            page = self._collection.get(ids=ids[i : i + _PAGE], include=["documents"])
            found |= dict(zip(page["ids"], map(indicators_from_json, chroma_io.documents(page)), strict=True))
        return found

    def put(
        self, infos: Iterable[DocumentInfo], indicators: Mapping[str, Sequence[Indicator] | None] | None = None
    ) -> None:
        """Commit the documents' records, each with its indicators (a document without an entry in ``indicators``
        gets a record as before they were kept: its file name)."""
        assert self._writable is not None
        infos = list(infos)
        kept = indicators or {}
        for i in range(0, len(infos), _PAGE):
            part = infos[i : i + _PAGE]
            texts = [
                d.source if kept.get(d.doc_id) is None else indicators_json(kept[d.doc_id] or ()) for d in part
            ]
            self._writable.upsert(ids=[d.doc_id for d in part], embeddings=chroma_io.vectors([_VECTOR] * len(part)),
                                    metadatas=[d.metadata() for d in part], documents=texts)

    def delete(self, doc_ids: Iterable[str]) -> None:
        assert self._writable is not None
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), _PAGE):
            self._writable.delete(ids=ids[i : i + _PAGE])

    def count(self) -> int:
        assert self._collection is not None
        return self._collection.count()
