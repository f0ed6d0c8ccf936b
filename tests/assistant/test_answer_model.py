"""The answer model: features of candidate sentences, the committed model file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.decision import DECISION_FEATURES
from assistant.factcheck import question_form
from assistant.features import FEATURES, common_run, type_ok
from assistant.model import MODEL_PATH, AnswerModel, ModelError, Trees, load_model
from assistant.question import analyse


def test_common_run_is_the_longest_verbatim_stretch_of_the_question() -> None:
    assert common_run("福华颐养院有多少张床位?", "福华颐养院设有317张床位。") == 5
    assert common_run("谁是作者?", "作者不详") == 2


def test_the_answer_type_of_a_quantity_question() -> None:
    q = analyse("福华颐养院有多少张床位?")
    assert type_ok(q, "设有317张床位")
    assert not type_ok(q, "位于福华街")
    when = analyse("二七商圈什么时候改造完成?")
    assert type_ok(when, "2023年2月综合改造全面完成") and not type_ok(when, "综合改造全面完成")


def test_a_claim_becomes_the_question_it_answers() -> None:
    assert question_form("二七区2020年地区生产总值为800亿元") == "二七区2020年地区生产总值为多少亿元"
    assert question_form("福华颐养院设立了371张床位") == "福华颐养院设立了多少张床位"
    assert question_form("“温暖二七”荣获第十届“中华慈善奖”") == "“温暖二七”荣获第几届“中华慈善奖”"
    assert question_form("二七区在2021年获评全国文明城区") == "二七区在哪一年获评全国文明城区"


def test_the_committed_model_matches_the_features_and_scores_deterministically() -> None:
    load_model.cache_clear()
    model = load_model(MODEL_PATH, FEATURES, DECISION_FEATURES)
    rng = np.random.default_rng(0)
    rows = rng.random((50, len(FEATURES)))
    first = model.sentence_probabilities(rows)
    load_model.cache_clear()
    again = load_model(MODEL_PATH, FEATURES, DECISION_FEATURES).sentence_probabilities(rows)
    assert np.array_equal(first, again)
    assert ((first > 0) & (first < 1)).all()
    answer = rng.random(len(DECISION_FEATURES))
    assert 0.0 < model.confidence(answer) < 1.0
    assert 0.0 < model.hint_threshold <= model.threshold < 1.0
    assert MODEL_PATH.stat().st_size < 5_000_000


def test_a_model_fitted_on_other_features_is_refused(tmp_path) -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    path = tmp_path / "other.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="make train"):
        load_model(path, FEATURES, DECISION_FEATURES)
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "missing.json", FEATURES, DECISION_FEATURES)


def test_trees_walk_every_tree_at_once() -> None:
    # Tree 1: x0 <= 0.5 → -1 else +1 (NaN goes left); tree 2: a single leaf of 0.25.
    nodes = {"feature": np.array([0, 0, 0, 0]), "threshold": np.array([0.5, 0, 0, 0]), "left": np.array([1, 0, 0, 0]),
             "right": np.array([2, 0, 0, 0]), "leaf": np.array([False, True, True, True]),
             "missing_left": np.array([True, False, False, False]), "value": np.array([0.0, -1.0, 1.0, 0.25])}
    trees = Trees(0.5, np.array([0, 3]), nodes)
    out = trees.raw(np.array([[0.2], [0.9], [np.nan]]))
    assert out.tolist() == [-0.25, 1.75, -0.25]
    again = AnswerModel.from_json(AnswerModel(("x",), trees, ("x",), trees, 0.5, 0.2, {}).to_json())
    assert again.scorer.raw(np.array([[0.9]])).tolist() == [1.75]

