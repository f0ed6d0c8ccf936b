"""Indicators at ingest: the extractor and the pairing against the hand-checked lists of the two bundled reports
(data/indicators/), and on a document written for no list (a third one, as an upload would bring)."""
from __future__ import annotations

from ingest.chunker import chunk_text
from ingest.indicator_eval import evaluate
from ingest.indicators import extract_indicators
from ingest.pairing import pair_indicators
from ingest.settings import ChunkingParams

# Issue 22's bars: a wrong record or a wrong pair is worse than a missing one.
MIN_PRECISION, MIN_RECALL, MIN_PAIRING_PRECISION = 0.95, 0.85, 0.95

THIRD = """马寨镇2023年工作总结

一、2023年工作回顾

2023年,马寨镇完成固定资产投资35亿元,新增就业岗位1200个,建成口袋公园8座。

二、2024年工作目标

到2024年底,固定资产投资达到40亿元,新增就业岗位1500个以上,城镇登记失业率控制在3%以内。
"""


def test_the_two_reports_against_the_hand_checked_list() -> None:
    score = evaluate()
    figures = score.figures()
    assert score.gold >= 40 and score.gold_pairs >= 5, figures
    assert score.precision >= MIN_PRECISION, figures["wrong"]
    assert score.recall >= MIN_RECALL, figures["missed"]
    assert score.pairs >= 1 and score.pairing_precision >= MIN_PAIRING_PRECISION, figures["wrong_pairs"]


def test_a_third_document_gets_its_own_indicators_and_pairs() -> None:
    found = extract_indicators(chunk_text(THIRD, "马寨镇工作总结.txt", ChunkingParams()))
    by_value = {(i.value, i.unit): i for i in found}
    assert set(by_value) == {(35, "亿元"), (1200, "个"), (8, "座"), (40, "亿元"), (1500, "个"), (3, "%")}
    for i in found:
        assert THIRD[i.start:i.end] == i.text and i.start <= i.value_start < i.value_end <= i.end
        assert i.source == "马寨镇工作总结.txt" and i.doc_id
    assert [by_value[v].orientation for v in ((35, "亿元"), (1200, "个"), (8, "座"))] == ["actual"] * 3
    assert [by_value[v].orientation for v in ((40, "亿元"), (1500, "个"), (3, "%"))] == ["target"] * 3
    assert by_value[(35, "亿元")].period == "2023" and by_value[(40, "亿元")].period == "2024"
    assert by_value[(1200, "个")].subject == "新增就业岗位"
    assert "马寨镇" not in by_value[(35, "亿元")].subject  # the place that opens the clause is not what is measured
    assert by_value[(1500, "个")].qualifier == "以上"
    pairs = {(p.actual.value, p.target.value) for p in pair_indicators(found)}
    assert pairs == {(35, 40), (1200, 1500)}  # 口袋公园 and 失业率 have no counterpart: no pair rather than a wrong one


def test_a_document_without_figures_has_no_indicators() -> None:
    text = "关于做好春节期间安全工作的通知\n\n各街道要加强巡查,确保群众过一个平安祥和的节日。\n"
    assert extract_indicators(chunk_text(text, "通知.txt", ChunkingParams())) == []
