"""Sentence and word vectors beside the chunk vectors: embedded at ingest, keyed by content, backfilled once."""
from __future__ import annotations

import numpy as np

from settings import Settings
from vectorstore.embedding.embeddings import CachedEmbeddings, load_embeddings
from vectorstore.embedding.semantic import Vocabulary, chunk_words, embed_semantic, unit_texts


def _store(settings: Settings):
    from vectorstore.chroma.store import ChunkStore

    return ChunkStore(settings, load_embeddings(settings))


def test_ingest_embeds_every_chunks_sentences_and_words(built_index: Settings) -> None:
    store = _store(built_index)
    chunks = store.all_chunks()
    sentences = {t for c in chunks for t in unit_texts(c)}
    words = {t for c in chunks for t in chunk_words(c)}
    cached = store.embeddings.lookup(list(sentences | words))
    assert sentences <= set(cached), "every sentence has a vector after ingest"
    assert all(v.shape == (384,) for v in cached.values())
    assert len(sentences) > len(chunks) > 0
    # A process that has learnt the corpus's quoted terms (「民办学校」) cuts a few words differently
    # from the ingest worker; building the vocabulary embeds those few on first use.
    missing = words - set(cached)
    assert len(missing) <= 0.02 * len(words), sorted(missing)
    Vocabulary.of(store.embeddings, missing)
    assert not missing - set(store.embeddings.lookup(list(missing)))


def test_sentence_vectors_are_as_near_to_their_question_as_expected(built_index: Settings) -> None:
    embeddings = load_embeddings(built_index)
    q = np.asarray(embeddings.embed_query("二七区2020年的地区生产总值是多少?"))
    near, far = embeddings.vectors(
        [
            "2020年,二七区地区生产总值达到760亿元,是2015年的1.64倍,连续五年全市综合考核排名前列。",
            "福华颐养院设置床位317张。",
        ]
    )
    assert near @ q > far @ q


def test_an_index_built_without_them_is_backfilled_once(fresh_settings: Settings, corpus_dir) -> None:
    from ingest.pipeline import run_ingest

    plain = fresh_settings.replace(sentence_vectors=False)
    run_ingest(plain, [corpus_dir], show_progress=False)
    store = _store(fresh_settings)
    chunks = store.all_chunks()
    assert store.metadata().get("semantic_model") is None
    store.embed_pending()
    assert store.metadata().get("semantic_model") == store.embeddings.model_id
    assert set(unit_texts(chunks[0])) <= set(store.embeddings.lookup(unit_texts(chunks[0])))
    assert embed_semantic(store.embeddings, chunks) == 0  # nothing left to embed


def test_the_vocabulary_holds_common_content_words_only(embeddings: CachedEmbeddings) -> None:
    vocabulary = Vocabulary.of(embeddings, ["就业", "陈红民", "的", "学位", "2020"])
    assert vocabulary.words == ["学位", "就业"]
    assert "就业" in vocabulary and "陈红民" not in vocabulary
