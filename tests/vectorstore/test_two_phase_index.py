"""A new document is searchable by BM25 as soon as it is written; dense search follows once embedded."""
from __future__ import annotations

from pathlib import Path

import pytest

import vectorstore.chroma.store as store_module
from ingest.pipeline import Ingestor, IngestReport
from settings import Settings
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.index import open_store
from vectorstore.retriever import HybridRetriever

NEW_DOC = "樱桃沟新建了一座萤火虫科普馆,占地三千平方米,预计明年春天开放。\n\n馆内设有夜间观察步道。\n"


def _store(settings: Settings) -> ChunkStore:
    return open_store(settings, load_embeddings(settings), create=True)


def test_lexical_first_then_dense(fresh_settings: Settings, corpus_dir: Path, tmp_path: Path) -> None:
    store = _store(fresh_settings)
    ingestor = Ingestor(fresh_settings, store=store, show_progress=False)
    ingestor.ingest(sorted(corpus_dir.glob("*.txt")), IngestReport())
    doc = tmp_path / "firefly.txt"
    doc.write_text(NEW_DOC, encoding="utf-8")

    report = IngestReport()
    ingestor.ingest([doc], report, dense=False)
    assert report.added == ["firefly.txt"]
    assert store.has_pending() and {c.source for c in store.pending()} == {"firefly.txt"}
    meta = store.metadata()  # what queries read instead of scanning the collection
    assert meta["pending"] is True and meta["chunks"] == store.count() == store.revision()[1]

    retriever = HybridRetriever.from_settings(store, fresh_settings)
    hits = retriever.search("萤火虫科普馆", 3)
    assert hits and hits[0].chunk.source == "firefly.txt", "BM25 finds the new text before it is embedded"
    assert all(c.source != "firefly.txt" for c, _ in store.dense_search("萤火虫科普馆", 200)), (
        "dense search ignores placeholders"
    )

    assert ingestor.embed_pending() == len([c for c in store.all_chunks() if c.source == "firefly.txt"])
    assert not store.has_pending() and store.metadata()["pending"] is False
    assert any(c.source == "firefly.txt" for c, _ in store.dense_search("萤火虫科普馆", 3))


def test_changed_document_never_mixes_versions(fresh_settings: Settings, tmp_path: Path) -> None:
    store = _store(fresh_settings)
    ingestor = Ingestor(fresh_settings, store=store, show_progress=False)
    doc = tmp_path / "notice.txt"
    doc.write_text("旧版本:活动在五月举行。\n", encoding="utf-8")
    ingestor.ingest([doc], IngestReport())
    doc.write_text("新版本:活动改在六月举行。\n", encoding="utf-8")
    ingestor.ingest([doc], IngestReport(), dense=False)
    texts = [c.text for c in store.all_chunks() if c.source == "notice.txt"]
    assert texts and all("新版本" in t for t in texts)
    assert all("旧版本" not in c.text for c, _ in store.dense_search("活动什么时候举行", 10))


def test_placeholders_never_count_even_when_a_query_lands_on_them(
    fresh_settings: Settings, corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While chunks await their vectors the dense search asks Chroma for a few more hits unfiltered and drops
    the placeholders (a filtered search costs 350 ms at 100k chunks); when placeholders crowd out real hits
    (a query vector on top of one, no margin) it falls back to the filtered search: k real hits either way."""
    store = _store(fresh_settings)
    ingestor = Ingestor(fresh_settings, store=store, show_progress=False)
    ingestor.ingest(sorted(corpus_dir.glob("*.txt")), IngestReport())
    doc = tmp_path / "firefly.txt"
    doc.write_text(NEW_DOC, encoding="utf-8")
    ingestor.ingest([doc], IngestReport(), dense=False)
    waiting = [c for c in store.pending() if c.source == "firefly.txt"]
    on_a_placeholder = store.placeholder(waiting[0].chunk_id)
    calls: list[object] = []
    search = store.vectorstore.similarity_search_by_vector_with_relevance_scores

    def counted(vector, k, filter=None):  # noqa: A002 - langchain-chroma's name
        calls.append(filter)
        return search(vector, k=k, filter=filter)

    monkeypatch.setattr(store.vectorstore, "similarity_search_by_vector_with_relevance_scores", counted)
    hits = store.dense_search_by_vector(on_a_placeholder, 5)
    assert len(hits) == 5 and all(c.source != "firefly.txt" for c, _ in hits)
    assert calls == [None], "the placeholder was dropped from an unfiltered search"
    calls.clear()
    monkeypatch.setattr(store_module, "PLACEHOLDER_MARGIN", 0)
    hits = store.dense_search_by_vector(on_a_placeholder, 5)
    assert len(hits) == 5 and all(c.source != "firefly.txt" for c, _ in hits)
    assert calls == [None, {"dense_ready": True}], "crowded out: the filtered search"
