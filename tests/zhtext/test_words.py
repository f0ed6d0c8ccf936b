"""zhtext.words: the common dictionary never changes; an index's segmenter keeps its corpus terms whole."""
from __future__ import annotations

import threading

from zhtext.words import COMMON, corpus_terms


def test_corpus_terms_are_the_quoted_ones() -> None:
    assert corpus_terms(["推行“官方带娃”模式。", "打造「六个区」;“官方带娃”。", "“一”"]) == ["六个区", "官方带娃"]


def test_an_index_segmenter_keeps_its_terms_whole_and_the_common_one_is_unchanged() -> None:
    before = COMMON.cut("官方带娃服务半径")
    seg = COMMON.with_words(["官方带娃"])
    assert "官方带娃" in seg.cut("官方带娃服务半径") and "官方带娃" in seg.cut_for_search("官方带娃服务半径")
    assert ("官方带娃", "nz") in seg.tag("官方带娃服务半径") and seg.dictionary_tag("官方带娃") == "nz"
    assert COMMON.cut("官方带娃服务半径") == before and "官方带娃" not in before
    assert COMMON.dictionary_tag("官方带娃") is None and COMMON.frequency("官方带娃") == 0
    assert seg.words == ("官方带娃",) and COMMON.with_words([]) is COMMON and seg.with_words(["官方带娃"]) is seg


def test_segmenters_can_be_used_from_threads() -> None:
    seg = COMMON.with_words(["官方带娃"])
    results: list[list[str]] = []

    def work() -> None:
        for _ in range(50):
            results.append(seg.cut("官方带娃服务半径") + COMMON.cut("二七区的经济总量"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and all(r == results[0] for r in results)
