"""The kept keyword index (vectorstore/keyword/) equals a fresh build, survives kill -9, and never makes a
question wait: real Chroma, real jieba, real `python -m ingest` processes."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import vectorstore.keyword.builder as builder
import vectorstore.keyword.folder as folder_module
import vectorstore.keyword.service as service
from assistant.corpus import CorpusView
from ingest.pipeline import run_ingest
from settings import Settings
from vectorstore.chroma.maintenance import compact
from vectorstore.chroma.schema import embedding_input
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.index import open_store
from vectorstore.keyword.lexical import LexicalIndex
from vectorstore.keyword.service import LexicalStore, lexical_folder, lexical_store
from vectorstore.records import SECTION_SEP, Chunk

from common import make_settings

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent.parent

# Sentences sharing words; quoted terms that other sentences use unquoted, so that adding or deleting a
# document adds a corpus term to the index's segmenter or takes one away, and other documents' chunks are
# cut again.
SENTENCES = [
    "二七区推行“官方带娃”模式。",
    "官方带娃服务半径扩大。",
    "建设“六个区”是重点。",
    "六个区协同发展。",
    "打造“三个二七”品牌。",
    "三个二七和六个区。",
    "地区生产总值达到760亿元。",
    "就业岗位增加三千个。",
    "学位供给持续扩大。",
    "医疗资源下沉到社区。",
    "养老床位317张。",
    "Hello World 与 AI 产业。",
    "道路改造全面完成。",
    "",
]
SECTIONS = ["", "一、总体", f"一、总体{SECTION_SEP}(一)分项", f"一、总体{SECTION_SEP}(二)分项"]
QUERIES = [
    "二七区的官方带娃",
    "六个区",
    "就业 学位",
    "AI",
    "生产总值 760亿元 医疗",
    "hello",
    "三个二七品牌",
    "养老 床位 张",
]
NEEDLES = ["二七", "官方带娃", "区", "的", "hello", "一、总体\n", "六个区", "760亿", "z", "分项\n"]


def fresh(store: ChunkStore) -> LexicalIndex:
    """A fresh build from the collection, as the retriever used to make on every revision."""
    chunks = store.all_chunks()
    return LexicalIndex(chunks, [embedding_input(c) for c in chunks])


def assert_equals_fresh_build(store: ChunkStore) -> None:
    snap = lexical_store(store.settings).current(store)
    index = fresh(store)
    assert [c.chunk_id for c in snap.chunks] == [c.chunk_id for c in index.chunks], "the collection's order"
    assert list(snap.chunks) == index.chunks
    assert snap.segmenter.words == index.segmenter.words, "the same corpus terms"
    for query in QUERIES + [s[:5] for s in SENTENCES]:
        kept, built = snap.scores(query), index.scores(query)
        assert kept.dtype == built.dtype and np.array_equal(kept, built), (query, kept, built)  # bit for bit
        assert snap.search(query, 5) == index.search(query, 5)
    kept_view, built_view = CorpusView.kept(snap, store.embeddings), CorpusView.of(index, store.embeddings)
    assert kept_view.stats.n == built_view.stats.n
    for needle in NEEDLES:
        assert kept_view.stats.df((needle,)) == built_view.stats.df((needle,)), needle
    for key in {(c.doc_id, c.section) for c in index.chunks} | {
        (c.doc_id, c.section.rsplit(SECTION_SEP, 1)[0]) for c in index.chunks
    }:
        assert kept_view.outline.sections.get(key, []) == built_view.outline.sections.get(key, [])
        assert (key in kept_view.outline.groups) == (key in built_view.outline.groups)
        if key in built_view.outline.groups:
            assert kept_view.outline.groups[key] == built_view.outline.groups[key]


def document(doc_id: str, version: int, spec: list[tuple[str, int, list[int]]]) -> list[Chunk]:
    chunks, pos = [], 0
    for j, (kind, section, sentences) in enumerate(spec):
        text = "".join(SENTENCES[i] for i in sentences)
        chunks.append(
            Chunk(
                f"{doc_id}-v{version}-{j}",
                doc_id,
                f"{doc_id}.txt",
                doc_id,
                SECTIONS[section],
                kind,
                pos,
                pos + len(text),  # type: ignore[arg-type]
                text,
                f"hash-{version}",
                "2026-01-01T00:00:00+00:00",
                "actual" if j % 2 else "unknown",
                j == 3,
            )
        )
        pos += len(text) + 1
    return chunks


chunk_spec = st.tuples(
    st.sampled_from(["text", "text", "heading"]),
    st.integers(0, len(SECTIONS) - 1),
    st.lists(st.integers(0, len(SENTENCES) - 1), min_size=1, max_size=3),
)
operation = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 5), st.lists(chunk_spec, min_size=1, max_size=5)),
    st.tuples(st.just("delete"), st.integers(0, 5), st.just([])),
    st.tuples(st.just("compact"), st.just(0), st.just([])),
)


@pytest.fixture(scope="module")
def prop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lexstore-property")


@hsettings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operations=st.lists(operation, min_size=1, max_size=7))

def test_kept_index_equals_a_fresh_build_after_any_adds_and_deletes(
    prop_dir: Path, embeddings: CachedEmbeddings, operations
) -> None:
    """After every write (each followed by the incremental update a writer runs), BM25 scores, search results,
    term statistics and outline equal those of a fresh build, bit for bit."""
    settings = make_settings(prop_dir, collection=f"p{uuid.uuid4().hex[:10]}")
    store = open_store(settings, embeddings, create=True)
    versions: dict[str, int] = {}
    for kind, n, spec in operations:
        doc_id = f"doc{n}"
        if kind == "put":
            versions[doc_id] = versions.get(doc_id, 0) + 1
            store.write_documents({doc_id: document(doc_id, versions[doc_id], spec)})
        elif kind == "delete":
            store.delete_documents([doc_id])
        else:
            compact(store)
        assert_equals_fresh_build(store)


def test_an_update_reads_only_what_changed_and_merges_small_pieces(
    fresh_settings: Settings, embeddings: CachedEmbeddings
) -> None:
    store = open_store(fresh_settings, embeddings, create=True)
    for i in range(builder.MAX_SMALL_SEGMENTS + 3):
        store.write_documents({f"d{i}": document(f"d{i}", 1, [("text", 1, [i % 12, 2])])})
    snap = lexical_store(fresh_settings).current(store)
    assert len(snap.segments) <= builder.MAX_SMALL_SEGMENTS + 1, "small segments are merged"
    store.delete_documents(["d0", "d1", "d2", "d3"])
    snap = lexical_store(fresh_settings).current(store)
    assert snap.dead_rows == 0 or snap.dead_rows <= builder.MERGE_SHARE * snap.rows
    assert_equals_fresh_build(store)
    folder = lexical_folder(fresh_settings)
    generations = sorted(folder.glob("gen-*.json"))
    assert len(generations) <= folder_module.KEEP_GENERATIONS, "old generations are removed"
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*.tmp"))


def ingest(index: Path, folder: Path, *extra: str, script: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERQI_")} | {"PYTHONPATH": str(REPO)}
    command = [sys.executable, *(script or ["-m", "ingest"]), *extra, "--index-dir", str(index), "-q", str(folder)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)

@contextmanager
def folder_held(kept: LexicalStore) -> Iterator[None]:
    """Another process's update holding the kept index's folder (its lock, from a thread) until the block ends."""
    busy, release = threading.Event(), threading.Event()

    def hold() -> None:
        with kept._lock.held(None):
            busy.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert busy.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()



def restarted(settings: Settings) -> tuple[ChunkStore, LexicalStore]:
    """The store and kept index as a process starting now sees them (nothing of this process's state)."""
    from vectorstore.embedding.embeddings import load_embeddings

    return ChunkStore(settings, load_embeddings(settings)), LexicalStore(lexical_folder(settings), settings)


def test_a_new_process_loads_the_kept_index_without_cutting_any_text(
    fresh_settings: Settings, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_ingest(fresh_settings, [corpus_dir], show_progress=False)
    store, kept = restarted(fresh_settings)
    monkeypatch.setattr(builder, "text_tokens", lambda *args: pytest.fail("a kept index is loaded, not rebuilt"))
    started = time.perf_counter()
    snap = kept.current(store)
    assert time.perf_counter() - started < 5.0 and snap.n == store.count() == 74
    index = fresh(store)
    for query in ["二七区2020年的地区生产总值是多少?", "福华颐养院有多少张床位?", "“六个区”分别是什么?"]:
        assert np.array_equal(snap.scores(query), index.scores(query))



def test_a_kept_index_an_older_version_wrote_with_a_vocabulary_loads_and_its_vocabulary_files_go(
    fresh_settings: Settings, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older version kept a bridging vocabulary: its manifests name ``vocab-NNNNNN.json`` / ``.npy`` files
    (``"vocab"``, ``"vocab_complete"``).  Such a generation loads as it is (no text is cut again), the fields are
    ignored, and the next update writes a manifest without them and removes the files, which no generation uses."""
    run_ingest(fresh_settings, [corpus_dir], show_progress=False)
    lexical = lexical_folder(fresh_settings)
    current = (lexical / "CURRENT").read_text(encoding="utf-8").strip()
    record = json.loads((lexical / current).read_text(encoding="utf-8"))
    assert "vocab" not in record and not list(lexical.glob("vocab-*")), "this version keeps no vocabulary"
    # the generation as the older version wrote it
    (lexical / "vocab-000001.json").write_text(json.dumps(["就业", "学位"], ensure_ascii=False), encoding="utf-8")
    np.save(lexical / "vocab-000001.npy", np.ones((2, 384), dtype=np.float32))
    record |= {"vocab": "vocab-000001", "vocab_complete": True}
    (lexical / current).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")

    store, kept = restarted(fresh_settings)
    monkeypatch.setattr(builder, "text_tokens", lambda *args: pytest.fail("the generation is loaded, not rebuilt"))
    snap = kept.current(store)
    assert snap.generation == int(current[4:10]) and snap.n == store.count() == 74
    monkeypatch.undo()
    service._stores[lexical] = kept
    assert_equals_fresh_build(store)

    writer = open_store(fresh_settings, store.embeddings)
    writer.write_documents({"doc-new": document("doc-new", 1, [("text", 1, [0, 6])])})
    snap = kept.current(store)
    assert snap.generation > int(current[4:10]) and any(c.doc_id == "doc-new" for c in snap.chunks)
    newest = json.loads((lexical / f"gen-{snap.generation:06d}.json").read_text(encoding="utf-8"))
    assert "vocab" not in newest and "vocab_complete" not in newest
    assert not list(lexical.glob("vocab-*")), "the older version's vocabulary files are removed as unused"
    assert (lexical / current).exists(), "the generation itself is still kept (KEEP_GENERATIONS)"
    assert_equals_fresh_build(store)

@pytest.mark.parametrize(
    "point, n",
    [
        ("segment", 3),
        pytest.param("generation", 1, marks=pytest.mark.slow),
        pytest.param("current", 1, marks=pytest.mark.slow),
    ],
    ids=["half-written-segment", "generation-without-manifest", "manifest-not-current"],
)
def test_kill_9_in_the_middle_of_an_update_is_detected_and_repaired_at_start(
    tmp_path: Path, fresh_settings: Settings, corpus_dir: Path, caplog: pytest.LogCaptureFixture, point: str, n: int
) -> None:
    folder = tmp_path / "corpus"
    shutil.copytree(corpus_dir, folder)
    run_ingest(fresh_settings, [folder], show_progress=False)
    (folder / "notice.txt").write_text("二七区通知\n\n“官方带娃”服务点新增12个,覆盖全部街道。\n", encoding="utf-8")
    killed = ingest(fresh_settings.store.index_dir, folder, script=[str(TESTS / "crash_lexical.py"), point, str(n)])
    assert killed.returncode == -9, killed.stderr[-2000:]
    lexical = lexical_folder(fresh_settings)
    leftovers = [p.name for p in lexical.iterdir() if p.name.endswith(".tmp")] + [
        p.name for p in lexical.glob("gen-*.json")
    ]
    assert leftovers
    store, kept = restarted(fresh_settings)
    with caplog.at_level(logging.INFO, logger="vectorstore"):
        snap = kept.current(store)
    assert any(c.source == "notice.txt" for c in snap.chunks), "the update the kill interrupted is made at start"
    service._stores[lexical] = kept
    assert_equals_fresh_build(store)
    assert not [p for p in lexical.iterdir() if p.name.endswith(".tmp")], "half-written files are removed"


def crashed_between_write_and_update(tmp_path: Path, settings: Settings, corpus_dir: Path, delete: bool = False
                                     ) -> None:
    """`python -m ingest` killed (-9) once notice.txt is committed to the collection (or, ``delete``, removed from
    it), before the keyword index followed: the registry lists the document whole, the kept index does not hold it
    (or the other way round)."""
    folder = tmp_path / "corpus"
    shutil.copytree(corpus_dir, folder)
    notice = folder / "notice.txt"
    if delete:
        notice.write_text("二七区通知\n\n“官方带娃”服务点新增12个,覆盖全部街道。\n", encoding="utf-8")
    run_ingest(settings, [folder], show_progress=False)
    if delete:
        notice.unlink()
    else:
        notice.write_text("二七区通知\n\n“官方带娃”服务点新增12个,覆盖全部街道。\n", encoding="utf-8")
    script = [str(TESTS / "crash_lexical.py"), "written", "1"]
    killed = ingest(settings.store.index_dir, folder, *(["--prune"] if delete else []), script=script)
    assert killed.returncode == -9, killed.stderr[-2000:]


def test_a_server_takes_in_the_documents_a_crash_left_out_before_it_answers(
    tmp_path: Path, fresh_settings: Settings, corpus_dir: Path
) -> None:
    """Was: after kill -9 between a document's write and its keyword update, a restarted server listed the
    document whole but its first questions read the kept index without it (the update ran in the background)."""
    crashed_between_write_and_update(tmp_path, fresh_settings, corpus_dir)
    store, kept = restarted(fresh_settings)
    assert "notice.txt" in {d.source for d in store.documents()}
    assert not any(c.source == "notice.txt" for c in kept.load().chunks), "the crash left it out"
    kept.serve(store, poll_seconds=60.0)  # returns once the kept index holds every listed document
    snap = kept.current(store)
    assert any(c.source == "notice.txt" for c in snap.chunks)
    assert snap.search("官方带娃服务点新增", 1)[0][0].source == "notice.txt"
    assert kept.indexing(store, snap) == ()


def test_a_server_drops_the_documents_a_crash_left_in_before_it_answers(
    tmp_path: Path, fresh_settings: Settings, corpus_dir: Path
) -> None:
    """The same for a deletion: a document the registry no longer lists is not found by the first questions."""
    crashed_between_write_and_update(tmp_path, fresh_settings, corpus_dir, delete=True)
    store, kept = restarted(fresh_settings)
    assert "notice.txt" not in {d.source for d in store.documents()}
    assert any(c.source == "notice.txt" for c in kept.load().chunks), "the crash left it in"
    kept.serve(store, poll_seconds=60.0)
    assert not any(c.source == "notice.txt" for c in kept.current(store).chunks)


def test_documents_still_being_indexed_after_the_start_wait_are_named(
    tmp_path: Path, fresh_settings: Settings, corpus_dir: Path
) -> None:
    """A catch-up that takes longer than ``lexical_start_wait`` (another process holds the folder here; a large
    index's update takes 15-20 s) does not hold the start: the old snapshot is served and names what it lacks."""
    crashed_between_write_and_update(tmp_path, fresh_settings, corpus_dir)
    settings = fresh_settings.replace(lexical_start_wait=0.5)
    store, kept = restarted(settings)
    with folder_held(kept):
        started = time.perf_counter()
        kept.serve(store, poll_seconds=0.2)
        assert time.perf_counter() - started < 5
        old = kept.current(store)
        assert kept.indexing(store, old) == ("notice.txt",)
    deadline = time.monotonic() + 30
    while kept.current(store) is old and time.monotonic() < deadline:
        time.sleep(0.1)
    assert kept.indexing(store, kept.current(store)) == ()
    assert kept.indexing(store, old) == ("notice.txt",), "named for a question still reading the old snapshot"


def test_a_normal_start_reads_nothing_but_the_collection_version(
    fresh_settings: Settings, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No crash: the start's check costs one metadata read (the registry is not read, no question waits)."""
    run_ingest(fresh_settings, [corpus_dir], show_progress=False)
    store, kept = restarted(fresh_settings)
    monkeypatch.setattr(ChunkStore, "documents", lambda self: pytest.fail("the registry is read"))
    started = time.perf_counter()
    kept.serve(store, poll_seconds=60.0)
    snap = kept.current(store)
    assert kept.indexing(store, snap) == ()
    assert time.perf_counter() - started < 2


def test_a_damaged_kept_index_is_rebuilt_from_the_collection(
    fresh_settings: Settings, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_ingest(fresh_settings, [corpus_dir], show_progress=False)
    lexical = lexical_folder(fresh_settings)
    for segment in lexical.glob("seg-*"):
        with open(segment / "post_row.npy", "r+b") as fh:
            fh.truncate(40)  # a torn file: its size no longer matches the segment's description
    store, kept = restarted(fresh_settings)
    with caplog.at_level(logging.WARNING, logger="vectorstore"):
        snap = kept.current(store)
    assert snap.n == 74
    assert any("关键词索引" in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    service._stores[lexical] = kept
    assert_equals_fresh_build(store)
    # garbage in the newest manifest: the one before it is used, then brought up to date
    newest = sorted(lexical.glob("gen-*.json"))[-1]
    newest.write_text("{not json", encoding="utf-8")
    store, kept = restarted(fresh_settings)
    assert kept.current(store).n == 74


def test_a_question_never_waits_for_an_update(
    fresh_settings: Settings, corpus_dir: Path, embeddings: CachedEmbeddings
) -> None:
    """A server's question reads the snapshot it has while another writer's update holds the folder;
    the new version arrives by itself (the poll) once the update can run."""
    run_ingest(fresh_settings, [corpus_dir], show_progress=False)
    store, kept = restarted(fresh_settings)
    kept.serve(store, poll_seconds=0.2)
    before = kept.current(store)
    # another update holds the folder from before the write on (else the poll could update it first)
    with folder_held(kept):
        other = fresh_settings.replace(lexical_on_write=False)  # a writer that leaves the update to others
        writer = open_store(other, embeddings)
        writer.write_documents({"doc-late": document("doc-late", 1, [("text", 1, [0, 6])])})
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            snap = kept.current(store)
            timings.append(time.perf_counter() - started)
            assert snap is before
            before.scores("官方带娃")
        assert max(timings) < 0.5
    deadline = time.monotonic() + 20
    while kept.current(store) is before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(c.doc_id == "doc-late" for c in kept.current(store).chunks)


def test_a_kept_index_that_disagrees_with_the_collection_is_rebuilt_at_start(
    fresh_settings: Settings, corpus_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server checks its kept index against the collection once at start (documents, chunk ids and their
    order; ids are read without their metadata): a chunk removed behind the index's back, with the
    collection's version unchanged, is found and the kept index rebuilt from the collection."""
    run_ingest(fresh_settings, [corpus_dir], show_progress=False)
    store, kept = restarted(fresh_settings)
    snap = kept.current(store)
    assert kept.verify(store), "an index that agrees is left alone"
    assert kept.current(store) is snap
    gone = snap.ids()[5]
    store.writable.delete(ids=[gone])  # not through the store: neither revision nor count moves
    assert snap.matches(store.version())
    with caplog.at_level(logging.WARNING, logger="vectorstore"):
        assert not kept.verify(store)
    assert any("rebuilding" in r.getMessage() for r in caplog.records)
    rebuilt = kept.current(store)
    assert rebuilt is not snap and rebuilt.n == snap.n - 1 and gone not in rebuilt.ids()
    assert rebuilt.ids() == store.chunk_ids()
