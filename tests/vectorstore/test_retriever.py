"""vectorstore.retriever.HybridRetriever on the session index of the two reports,
plus unit tests of fusion and duplicate collapsing with hand-made inputs."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from langchain_core.documents import Document

from ingest.pipeline import run_ingest
from settings import Settings
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.index import open_store
from vectorstore.keyword.lexical import LexicalIndex, tokenize
from vectorstore.records import Chunk, ScoredChunk, doc_id_for
from vectorstore.retriever import HybridRetriever, collapse_duplicates, fuse, jaccard, to_document

from common import PLAN

# (question, strings that must all appear in the top-3 chunks)
QUESTIONS = [
    ("二七区2020年的地区生产总值是多少?", ["760亿元"]),
    ("福华颐养院有多少张床位?", ["317张"]),
    ("二七区的市场主体数量达到了多少户?", ["14.7万户"]),
    ("二七区共有多少个事项实现了“一网通办、一次办成”?", ["1161个事项"]),
    ("五年来二七区在教育上投入了多少资金?", ["26亿元"]),
    ("通过“名校托管、一校多区”,二七区建成了几个教育发展共同体?", ["19个"]),
    ("2021年7月20日郭家咀水库出现险情后,二七区撤离了多少居民?", ["9.8万居民"]),
    ("防汛救灾期间二七区累计组织了多少人次参与抢险救灾和恢复重建?", ["13.1万人次"]),
    ("松石园是什么时候开园的?", ["2020年10月1日"]),
    ("按照规划,到2025年二七区的地区生产总值要达到多少?", ["1200亿元"]),
    ("健康产业板块未来要打造成什么中心?", ["南部医疗康养中心"]),
    ("“温暖二七”精准扶贫项目获得的是第几届中华慈善奖?", ["第十一届"]),
    ("7月1日郑州市的街道书记交流会上,代表二七区作典型发言的是谁?", ["张振威"]),
    ("“官方带娃”最早啥时候开始试的,几所学校啊?", ["2019年11月11日"]),
]


@pytest.fixture(scope="module")
def retriever(built_store: ChunkStore, built_index: Settings) -> HybridRetriever:
    return HybridRetriever.from_settings(built_store, built_index)


def top_texts(results: list[ScoredChunk], n: int = 3) -> str:
    return "\n".join(r.chunk.text for r in results[:n])


# --------------------------------------------------------------------------- real questions


@pytest.mark.parametrize(("question", "expected"), QUESTIONS, ids=[q for q, _ in QUESTIONS])
def test_evidence_in_top_3(retriever: HybridRetriever, question: str, expected: list[str]) -> None:
    results = retriever.search(question, 3)
    assert len(results) == 3
    texts = top_texts(results)
    for needle in expected:
        assert needle in texts, f"{needle} not in top 3 for {question}"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("二七区2020年的地区生产总值是多少?", "760亿元"),
        ("福华颐养院有多少张床位?", "317张"),
        ("松石园是什么时候开园的?", "2020年10月1日"),
    ],
)
@pytest.mark.parametrize(
    "overrides",
    [{"dense_weight": 0.0}, {"dense_weight": 1.0}, {"fusion": "rrf"}, {"fusion": "rrf", "dense_weight": 0.5}],
    ids=["bm25-only", "dense-only", "rrf", "rrf-0.5"],
)
def test_each_mode_finds_the_evidence(
    built_store: ChunkStore, built_index: Settings, overrides: dict, question: str, expected: str
) -> None:
    retriever = HybridRetriever.from_settings(built_store, built_index, **overrides)
    assert expected in top_texts(retriever.search(question, 3))


def test_bm25_only_never_embeds_the_query(built_store: ChunkStore, built_index: Settings) -> None:
    retriever = HybridRetriever.from_settings(built_store, built_index, dense_weight=0.0)
    results = retriever.search("福华颐养院有多少张床位?", 5)
    assert results
    assert all(r.dense is None for r in results)
    assert all(r.lexical is not None and r.lexical > 0 for r in results)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(1.0)


def test_dense_only_ranks_by_cosine(built_store: ChunkStore, built_index: Settings) -> None:
    retriever = HybridRetriever.from_settings(built_store, built_index, dense_weight=1.0)
    results = retriever.search("二七区2020年的地区生产总值是多少?", 5)
    assert len(results) == 5
    assert all(r.dense is not None for r in results)
    dense = [r.dense for r in results]
    assert dense == sorted(dense, reverse=True)
    assert results[0].score == pytest.approx(1.0)
    # Matches the store's own dense search order.
    top = built_store.dense_search("二七区2020年的地区生产总值是多少?", 1)[0][0]
    assert results[0].chunk.chunk_id == top.chunk_id


def test_rrf_scores(built_store: ChunkStore, built_index: Settings) -> None:
    retriever = HybridRetriever.from_settings(built_store, built_index, fusion="rrf", dense_weight=0.5, rrf_k=60)
    results = retriever.search("福华颐养院有多少张床位?", 8)
    assert len(results) == 8
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 / 61 + 1e-12 for s in scores)
    assert "317张" in top_texts(results, 3)


def test_results_are_sorted_unique_and_within_k(retriever: HybridRetriever) -> None:
    for k in (1, 3, 8, 20):
        results = retriever.search("养老服务", k)
        assert len(results) == k
        ids = [r.chunk.chunk_id for r in results]
        assert len(set(ids)) == len(ids)
        scores = [r.score for r in results]
        assert scores == sorted(scores, reverse=True)
        for i, a in enumerate(results):
            for b in results[i + 1 :]:
                assert jaccard(a.chunk.text, b.chunk.text) < retriever.dedup_threshold


def test_default_k_comes_from_settings(retriever: HybridRetriever, built_index: Settings) -> None:
    assert retriever.k == built_index.retrieval.top_k
    assert len(retriever.search("二七区")) == built_index.retrieval.top_k


def test_query_with_no_known_words(retriever: HybridRetriever) -> None:
    results = retriever.search("xyzzy qwerty", 3)
    assert len(results) == 3  # dense search still answers
    assert all(r.lexical in (None, 0.0) for r in results)
    bm25 = HybridRetriever.from_settings(retriever.store, retriever.store.settings, dense_weight=0.0)
    assert bm25.search("xyzzy qwerty", 3) == []
    assert bm25.search("的 了 是 吗", 3) == [], "stopwords only"


def test_invoke_returns_documents_with_scores(retriever: HybridRetriever, corpus_texts: dict[str, str]) -> None:
    docs = retriever.invoke("福华颐养院有多少张床位?", k=2)
    assert len(docs) == 2
    for doc in docs:
        assert isinstance(doc, Document)
        meta = doc.metadata
        assert doc.id == meta["chunk_id"]
        assert corpus_texts[meta["source"]][meta["start"] : meta["end"]] == doc.page_content
        assert meta["score"] is not None and "dense_score" in meta and "bm25_score" in meta
        assert meta["doc_id"] == doc_id_for(meta["source"])
    assert any("317张" in d.page_content for d in docs)


def test_to_document() -> None:
    chunk = make_chunk("c1", "正文。")
    doc = to_document(ScoredChunk(chunk, 0.5, 0.9, None))
    assert doc.page_content == "正文。" and doc.id == "c1"
    assert doc.metadata["score"] == 0.5 and doc.metadata["dense_score"] == 0.9 and doc.metadata["bm25_score"] is None
    assert Chunk.from_metadata(doc.page_content, doc.metadata) == chunk


# --------------------------------------------------------------------------- index changes


@pytest.fixture
def fresh_store(fresh_settings: Settings) -> ChunkStore:
    run_ingest(fresh_settings, [fresh_settings.ingest.corpus_dir], show_progress=False)
    return ChunkStore(fresh_settings, load_embeddings(fresh_settings))


def test_bm25_is_rebuilt_when_the_collection_changes(
    fresh_store: ChunkStore, fresh_settings: Settings, tmp_path: Path
) -> None:
    retriever = HybridRetriever.from_settings(fresh_store, fresh_settings, dense_weight=0.0)
    assert not any("鹦鹉螺" in r.chunk.text for r in retriever.search("鹦鹉螺科技馆", 3))
    first_index = retriever.lexical_index()
    assert retriever.lexical_index() is first_index, "no rebuild while nothing changes"

    new_file = tmp_path / "新闻.txt"
    new_file.write_text("二七区的新消息\n\n鹦鹉螺科技馆将于明年开放。它位于二七区南部。\n", encoding="utf-8")
    report = run_ingest(fresh_settings, [new_file], show_progress=False)  # another store handle writes
    assert report.added == ["新闻.txt"]

    results = retriever.search("鹦鹉螺科技馆", 3)
    assert retriever.lexical_index() is not first_index
    assert results and results[0].chunk.source == "新闻.txt"
    assert "鹦鹉螺科技馆" in results[0].chunk.text

    run_ingest(fresh_settings, [], remove=["新闻.txt"], show_progress=False)
    assert not any("鹦鹉螺" in r.chunk.text for r in retriever.search("鹦鹉螺科技馆", 3))
    assert len(retriever.all_chunks()) == fresh_store.count()


def test_identical_documents_collapse_into_one_result(
    fresh_store: ChunkStore, fresh_settings: Settings, tmp_path: Path
) -> None:
    copy = tmp_path / "plan-copy.txt"
    shutil.copyfile(Path(fresh_settings.ingest.corpus_dir) / PLAN, copy)
    run_ingest(fresh_settings, [copy], show_progress=False)
    retriever = HybridRetriever.from_settings(fresh_store, fresh_settings)
    results = retriever.search("到2025年地区生产总值要达到多少?", 5)
    texts = [r.chunk.text for r in results]
    assert len(texts) == len(set(texts)) == 5
    merged = [r for r in results if r.duplicates]
    assert merged, "the copy's chunks are folded into the originals"
    by_id = {c.chunk_id: c for c in fresh_store.all_chunks()}
    for r in merged:
        for dup in r.duplicates:
            assert by_id[dup].text == r.chunk.text and by_id[dup].source != r.chunk.source


def test_similar_captions_collapse_at_a_lower_threshold(built_store: ChunkStore, built_index: Settings) -> None:
    plan_caption = "道路综合改造全面完成,营造整洁舒适的城市环境"
    review_caption = "道路综合改造全面完成,营造整洁有序、舒适愉悦的城市环境"
    query = "道路综合改造全面完成 城市环境"
    strict = HybridRetriever.from_settings(built_store, built_index, dedup_threshold=1.01).search(query, 8)
    texts = [r.chunk.text for r in strict]
    assert plan_caption in texts and review_caption in texts

    loose = HybridRetriever.from_settings(built_store, built_index, dedup_threshold=0.6).search(query, 8)
    texts = [r.chunk.text for r in loose]
    assert (plan_caption in texts) != (review_caption in texts)
    kept = next(r for r in loose if r.chunk.text in (plan_caption, review_caption))
    assert len(kept.duplicates) >= 1


def test_empty_collection(fresh_settings: Settings) -> None:
    store = open_store(fresh_settings, load_embeddings(fresh_settings), create=True)
    retriever = HybridRetriever.from_settings(store, fresh_settings)
    assert retriever.search("二七区", 3) == []
    assert retriever.invoke("二七区") == []


# --------------------------------------------------------------------------- fuse / collapse / jaccard units


def make_chunk(chunk_id: str, text: str) -> Chunk:
    return Chunk(chunk_id, "doc-x", "x.txt", "标题", "", "text", 0, len(text), text)


A, B, C = make_chunk("a", "甲甲甲。"), make_chunk("b", "乙乙乙。"), make_chunk("c", "丙丙丙。")


def test_fuse_minmax() -> None:
    fused = fuse([(A, 0.9), (B, 0.5)], [(B, 10.0), (C, 5.0)], "minmax", 0.7, 60)
    assert [s.chunk.chunk_id for s in fused] == ["a", "b", "c"]
    assert [s.score for s in fused] == pytest.approx([0.7, 0.3, 0.0])
    assert [(s.dense, s.lexical) for s in fused] == [(0.9, None), (0.5, 10.0), (None, 5.0)]


def test_fuse_minmax_weights() -> None:
    dense, lexical = [(A, 0.9), (B, 0.5)], [(B, 10.0), (C, 5.0)]
    assert [s.chunk.chunk_id for s in fuse(dense, lexical, "minmax", 0.3, 60)][:1] == ["b"]
    only_bm25 = fuse(dense, lexical, "minmax", 0.0, 60)
    assert only_bm25[0].chunk.chunk_id == "b" and only_bm25[0].score == pytest.approx(1.0)
    only_dense = fuse(dense, lexical, "minmax", 1.0, 60)
    assert only_dense[0].chunk.chunk_id == "a" and only_dense[0].score == pytest.approx(1.0)


def test_fuse_minmax_single_and_equal_scores() -> None:
    fused = fuse([(A, 0.4)], [(B, 3.0), (C, 3.0)], "minmax", 0.5, 60)
    assert {s.chunk.chunk_id: s.score for s in fused} == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5})


def test_fuse_rrf() -> None:
    fused = fuse([(A, 0.9), (B, 0.5)], [(B, 10.0), (C, 5.0)], "rrf", 0.7, 60)
    expected = {"a": 0.7 / 61, "b": 0.7 / 62 + 0.3 / 61, "c": 0.3 / 62}
    assert [s.chunk.chunk_id for s in fused] == ["b", "a", "c"]
    assert {s.chunk.chunk_id: s.score for s in fused} == pytest.approx(expected)


def test_fuse_rrf_k() -> None:
    fused = fuse([(A, 0.9)], [(A, 2.0)], "rrf", 0.5, 0)
    assert fused[0].score == pytest.approx(1.0)


def test_fuse_empty_and_one_sided() -> None:
    assert fuse([], [], "minmax", 0.5, 60) == []
    assert fuse([], [], "rrf", 0.5, 60) == []
    fused = fuse([], [(C, 2.0), (A, 1.0)], "minmax", 0.7, 60)
    assert [s.chunk.chunk_id for s in fused] == ["c", "a"]
    assert all(s.dense is None for s in fused)


def test_fuse_same_chunk_in_both_lists_appears_once() -> None:
    fused = fuse([(A, 0.9), (B, 0.1)], [(A, 7.0), (B, 1.0)], "minmax", 0.5, 60)
    assert [s.chunk.chunk_id for s in fused] == ["a", "b"]
    assert fused[0].dense == 0.9 and fused[0].lexical == 7.0


def test_collapse_duplicates_keeps_the_best_of_each_group() -> None:
    text = "二七区地区生产总值达到760亿元,是2015年的1.64倍,连续五年保持增长。"
    near = text.replace("连续五年", "连续5年")
    ranked = [
        ScoredChunk(make_chunk("best", text), 0.9, 0.8, 5.0),
        ScoredChunk(make_chunk("other", "福华颐养院设置床位317张。"), 0.8),
        ScoredChunk(make_chunk("near", near), 0.7),
        ScoredChunk(make_chunk("same", text), 0.6),
    ]
    assert jaccard(text, near) >= 0.8
    kept = collapse_duplicates(ranked, 0.8)
    assert [s.chunk.chunk_id for s in kept] == ["best", "other"]
    assert kept[0].duplicates == ("near", "same")
    assert (kept[0].score, kept[0].dense, kept[0].lexical) == (0.9, 0.8, 5.0)
    assert kept[1].duplicates == ()


def test_collapse_duplicates_threshold() -> None:
    ranked = [ScoredChunk(make_chunk("x", "甲乙丙丁戊己"), 1.0), ScoredChunk(make_chunk("y", "甲乙丙丁戊庚"), 0.5)]
    j = jaccard("甲乙丙丁戊己", "甲乙丙丁戊庚")
    assert 0 < j < 1
    assert len(collapse_duplicates(ranked, j)) == 1
    assert len(collapse_duplicates(ranked, j + 0.01)) == 2
    assert collapse_duplicates([], 0.8) == []


def test_jaccard() -> None:
    assert jaccard("二七区", "二七区") == 1.0
    assert jaccard("二七区", "郑州市") == 0.0
    assert jaccard("", "二七区") == 0.0
    assert jaccard("甲", "甲") == 0.0  # no bigrams
    assert jaccard("二 七\n区", "二七区") == 1.0  # whitespace ignored
    assert jaccard("甲乙丙", "乙丙丁") == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- lexical


def test_tokenize_drops_stopwords_and_punctuation() -> None:
    tokens = tokenize("二七区的地区生产总值是多少?")
    assert "的" not in tokens and "是" not in tokens and "多少" not in tokens and "?" not in tokens
    assert "二七区" in tokens or "二七" in tokens
    assert "生产总值" in tokens or "生产" in tokens
    assert tokenize("GDP Growth") == ["gdp", "growth"]


def test_quoted_terms_are_learned() -> None:
    index = LexicalIndex([make_chunk("a", "推行“官方带娃”模式。")], ["推行“官方带娃”模式。"])
    assert "官方带娃" in tokenize("官方带娃服务半径", index.segmenter)


def test_lexical_index_search() -> None:
    chunks = [
        make_chunk("a", "福华颐养院设置床位317张。"),
        make_chunk("b", "二七区地区生产总值760亿元。"),
        make_chunk("c", "五年来投入资金26亿元。"),
    ]
    index = LexicalIndex(chunks, [c.text for c in chunks])
    hits = index.search("福华颐养院的床位", 3)
    assert hits[0][0].chunk_id == "a" and hits[0][1] > 0
    assert all(score > 0 for _, score in hits)
    assert index.search("完全无关的词语组合", 3) == []
    assert LexicalIndex([], []).search("福华", 3) == []
