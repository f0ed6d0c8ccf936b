"""The store against a real Chroma server (`chroma run`) on 127.0.0.1."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.__main__ import main as ingest_main
from ingest.pipeline import run_ingest
from settings import Settings
from vectorstore.chroma.client import drop_collection
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import CachedEmbeddings, load_embeddings
from vectorstore.errors import ModelMismatchError, StoreError, StoreUnavailableError
from vectorstore.index import open_store
from vectorstore.records import doc_id_for
from vectorstore.retriever import HybridRetriever

from chroma_server import HOST, ChromaServer, start_server
from common import PLAN, REVIEW, free_port

pytestmark = pytest.mark.server

@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real Chroma server for this module, stopped (process group) at the end."""
    folder = tmp_path_factory.mktemp("chroma-server")
    server = start_server(folder / "data", folder / "server.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_settings(chroma_server: ChromaServer, fresh_settings: Settings) -> Settings:
    """Server mode, a collection of its own per test; the embedding cache (in index_dir) is pre-filled."""
    return fresh_settings.replace(
        chroma_host=chroma_server.host, chroma_port=chroma_server.port, collection=f"t_{uuid.uuid4().hex[:12]}"
    )


def test_ingest_search_and_delete_through_the_server(server_settings: Settings, corpus_dir: Path) -> None:
    report = run_ingest(server_settings, [corpus_dir], show_progress=False)
    assert sorted(report.added) == [PLAN, REVIEW]
    assert not (Path(server_settings.store.index_dir) / "chroma.sqlite3").exists(), "nothing is stored locally"

    store = ChunkStore(server_settings, load_embeddings(server_settings))
    docs = store.documents()
    assert [d.source for d in docs] == [PLAN, REVIEW]
    assert store.count() == sum(d.chunks for d in docs)
    revision = store.revision()

    again = run_ingest(server_settings, [corpus_dir], show_progress=False)
    assert sorted(again.unchanged) == [PLAN, REVIEW]
    assert store.revision() == revision

    retriever = HybridRetriever.from_settings(store, server_settings)
    results = retriever.search("二七区2020年的地区生产总值是多少?", 3)
    assert any("760亿元" in r.chunk.text for r in results)
    dense = store.dense_search("福华颐养院有多少张床位?", 3)
    assert any("317张" in c.text for c, _ in dense)

    assert store.delete_documents([doc_id_for(REVIEW)]) == 1
    assert [d.source for d in store.documents()] == [PLAN]
    assert store.revision()[0] == revision[0] + 1
    assert not any(r.chunk.source == REVIEW for r in retriever.search("二七区2020年的地区生产总值是多少?", 5))

    assert drop_collection(server_settings) is True
    assert drop_collection(server_settings) is False


def test_cli_against_the_server(
    server_settings: Settings, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ERQI_CHROMA_HOST", str(server_settings.store.chroma_host))
    monkeypatch.setenv("ERQI_CHROMA_PORT", str(server_settings.store.chroma_port))
    monkeypatch.setenv("ERQI_COLLECTION", server_settings.store.collection)
    assert ingest_main(["--index-dir", str(server_settings.store.index_dir), "-q", str(corpus_dir)]) == 0
    assert "added 2" in capsys.readouterr().out
    assert ingest_main(["--index-dir", str(server_settings.store.index_dir), "--remove", PLAN]) == 0
    store = ChunkStore(server_settings, load_embeddings(server_settings))
    assert [d.source for d in store.documents()] == [REVIEW]


def test_missing_collection_and_model_mismatch_on_the_server(
    server_settings: Settings, embeddings: CachedEmbeddings, tmp_path: Path
) -> None:
    from vectorstore.errors import IndexMissingError

    with pytest.raises(IndexMissingError):
        ChunkStore(server_settings, embeddings)
    ChunkStore(server_settings, CachedEmbeddings(embeddings.inner, "model-A", tmp_path / "a.sqlite"), create=True)
    with pytest.raises(ModelMismatchError, match="--rebuild"):
        ChunkStore(server_settings, embeddings)


def test_server_that_is_down_is_reported_clearly(
    settings_factory, embeddings: CachedEmbeddings, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_factory("down", chroma_host=HOST, chroma_port=free_port())
    with pytest.raises(StoreUnavailableError) as info:
        ChunkStore(settings, embeddings)
    assert f"{HOST}:{settings.store.chroma_port}" in str(info.value)
    with pytest.raises(StoreUnavailableError):
        run_ingest(settings, [corpus_dir], show_progress=False)
    with pytest.raises(StoreUnavailableError):
        drop_collection(settings)


def test_cli_with_server_down_exits_2(
    tmp_path: Path, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("ERQI_CHROMA_HOST", HOST)
    monkeypatch.setenv("ERQI_CHROMA_PORT", str(port))
    assert ingest_main(["--index-dir", str(tmp_path / "idx"), "-q", str(corpus_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and f"{HOST}:{port}" in err


def test_server_going_down_after_open_raises_store_unavailable(
    short_lived_server: ChromaServer, fresh_settings: Settings, embeddings: CachedEmbeddings
) -> None:
    settings = fresh_settings.replace(chroma_host=short_lived_server.host, chroma_port=short_lived_server.port)
    store = open_store(settings, embeddings, create=True)
    retriever = HybridRetriever.from_settings(store, settings)
    assert store.count() == 0
    short_lived_server.stop()

    failures = []
    for name, call in [
        ("count", store.count),
        ("revision", store.revision),
        ("documents", store.documents),
        ("dense_search", lambda: store.dense_search("二七区", 3)),
        ("search", lambda: retriever.search("二七区", 3)),
    ]:
        try:
            call()
        except StoreUnavailableError as exc:
            assert str(short_lived_server.port) in str(exc)
        except Exception as exc:  # noqa: BLE001 - that is the bug
            failures.append(f"{name}: {type(exc).__module__}.{type(exc).__name__}: {exc}")
        else:
            failures.append(f"{name}: no error")
    assert not failures, "\n".join(failures)
    assert issubclass(StoreUnavailableError, StoreError)
