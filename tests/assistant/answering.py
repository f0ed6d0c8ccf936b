"""Answering hand-made passages the way the product does, without an index on disk.

BM25 (the real ``LexicalIndex``) and dense cosine (the real embedder) are fused by the
retriever's own ``fuse``, so the answer model sees the retrieval scores it was fitted on.
"""
from __future__ import annotations

import numpy as np

from assistant.corpus import CorpusView
from assistant.extractive import Extraction, ExtractiveAnswerer
from assistant.question import analyse
from assistant.reader import load_reader
from settings import Settings
from vectorstore.chroma.schema import embedding_input
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.embedding.local_model import ensure
from vectorstore.keyword.lexical import LexicalIndex
from vectorstore.records import Chunk, ScoredChunk
from vectorstore.retriever import fuse


def view_of(chunks: list[Chunk], embeddings: CachedEmbeddings) -> CorpusView:
    return CorpusView.of(LexicalIndex(chunks, [embedding_input(c) for c in chunks]), embeddings)


def retrieve(
    question: str, view: CorpusView, embeddings: CachedEmbeddings, k: int = 8
) -> tuple[list[ScoredChunk], np.ndarray]:
    """The fused top-k of ``view``'s chunks for ``question``, and the question's vector."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    query = analyse(question, view.segmenter).retrieval_query()
    vector = np.asarray(embeddings.embed_query(query), dtype=np.float32)
    chunks = view.index.chunks
    passages = np.asarray(embeddings.embed_documents([embedding_input(c) for c in chunks]), dtype=np.float32)
    dense = list(zip(chunks, (passages @ vector).tolist(), strict=False))
    bm25 = view.index.scores(query)
    lexical = [(c, float(bm25[i])) for i, c in enumerate(chunks) if bm25[i] > 0]
    return fuse(dense, lexical, settings.retrieval.fusion, settings.retrieval.dense_weight, settings.retrieval.rrf_k)[
        :k
    ], vector


def extract(question: str, chunks: list[Chunk], embeddings: CachedEmbeddings, settings: Settings | None = None,
            k: int = 8) -> Extraction:
    view = view_of(chunks, embeddings)
    evidence, _ = retrieve(question, view, embeddings, k)
    settings = settings or Settings(_env_file=None)  # type: ignore[call-arg]
    answerer = ExtractiveAnswerer(settings.answering, load_reader(ensure(settings.embedding.local_model_dir)))
    return answerer.extract(analyse(question, view.segmenter), evidence, view)
