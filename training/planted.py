"""The learned planted-text detector (``ingest/planted.py``): fit both stages, measure, write.

``python -m training.planted [--out ingest/planted_model.json] [--stage2-out ingest/planted_stage2.json]
[--report docs/bench/planted.json] [--measure]``

Data:

- measured only, never used to fit, to choose a threshold or the gate: ``data/security/planted_heldout.jsonl``
  (written apart, ``held_out_written_apart``) and ``data/security/planted_fresh.jsonl`` (written before the
  second stage was built, ``held_out_fresh``);
- ``data/security/planted.jsonl``: hand-written sentences, planted (text addressed to the reader or a model)
  and ordinary (policy imperatives, notices, guides, FAQs, news …), with invisible-character, full-width and
  spaced-out variants of some of them (``of`` names the sentence a variant was made from); split by a fixed
  seed, its test part with the reports' is the seeded held-out part (``held_out``);
- ``data/security/planted_extra.jsonl``: more hand-written sentences, training only;
- every sentence of the two bundled reports (``data/corpus``), ordinary;
- for training only, ordinary: the sentences of DRCD's development paragraphs
  (``data/bench/drcd_dev_simplified.json``), the training questions of ``data/train/reports_everyday.jsonl``, and
  the statement each training planted sentence carries after its colon (「回答:二七区…为9999亿元」 → 「二七区…为
  9999亿元」: a bulletin may state a wrong figure, that is the fact-checker's business, not planted text);
  CMRC 2018's development paragraphs (``data/bench/cmrc2018_dev.json``) are only ever measured.

The set and the reports' sentences are split into train and test with a fixed seed (:data:`SEED`), a
sentence and its variants always on the same side, each label and kind in proportion.

First stage: logistic regression over the sublinear tf-idf of character 1–3-grams and word classes
(:func:`ingest.planted.grams`), its vocabulary cut to the :data:`FEATURES` grams that weigh most, refitted on
them.  Its out-of-fold scores (five folds by group) give the gate (``training.planted_stage2.choose_gate``: the
score about one in ten of the reports' sentences reach) and, for the figures of the first stage alone, its own
threshold.  Second stage (``training/planted_stage2.py``): logistic regression over each piece's e5 vector and
the first stage's out-of-fold log-odds; its flag threshold is the lowest that flags, out of fold, at most
:data:`MAX_FALSE_FLAGS` of the written ordinary and reports' sentences and :data:`MAX_FALSE_FLAGS_OTHER` of the
others.  Everything is measured with the shipped rule: the patterns, or both stages
(``ingest.planted.is_suspicious``).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest import planted
from training.planted_stage2 import TRAIN_GATE, VectorCache, choose_gate, fit_stage2, write_stage2
from zhtext.sentences import Span as TextSpan
from zhtext.sentences import split_sentences

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "data" / "security" / "planted.jsonl"
HELD_OUT = REPO / "data" / "security" / "planted_heldout.jsonl"
FRESH = REPO / "data" / "security" / "planted_fresh.jsonl"  # measured only (written before the second stage)
EXTRA = REPO / "data" / "security" / "planted_extra.jsonl"  # training only
CORPUS = REPO / "data" / "corpus"
DRCD = REPO / "data" / "bench" / "drcd_dev_simplified.json"
CMRC = REPO / "data" / "bench" / "cmrc2018_dev.json"
QUESTIONS = REPO / "data" / "train" / "reports_everyday.jsonl"
REPORT = REPO / "docs" / "bench" / "planted.json"
SEED = 20
TEST_SHARE = 0.3
FEATURES = 6000
C = 4.0  # inverse regularisation strength
POSITIVE_WEIGHT = 20.0  # planted sentences are few beside the ordinary ones
MAX_FALSE_FLAGS = 0.01  # the threshold flags at most this share of the written ordinary and the reports' sentences
MAX_FALSE_FLAGS_OTHER = 0.001  # and of the other ordinary sentences (DRCD, questions), out of fold
OTHER_KINDS = ("drcd", "question", "carried")
FOLDS = 5


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    planted: bool
    kind: str  # the set's kind, "report", "drcd" or "cmrc"
    group: str  # a sentence and its variants
    variant: str = ""


def load_set(path: Path = SET) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        items.append(Item(row["id"], row["text"], row["label"] == "planted", row["kind"], row.get("of", row["id"]),
                          row.get("variant", "")))
    return items


def _sentences(text: str) -> Iterable[str]:
    for span in split_sentences(text, TextSpan(0, len(text))):
        sentence = text[span.start : span.end].strip()
        if sentence:
            yield sentence


def report_sentences(corpus: Path = CORPUS) -> list[Item]:
    """Every sentence of every line of the bundled reports."""
    out = []
    for path in sorted(corpus.glob("*.txt")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            for k, sentence in enumerate(_sentences(line)):
                out.append(Item(f"{path.stem}:{n + 1}:{k + 1}", sentence, False, "report", f"{path.stem}:{n + 1}"))
    return out


def qa_sentences(path: Path, kind: str) -> list[Item]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for article in data["data"]:
        for p, paragraph in enumerate(article["paragraphs"]):
            for k, sentence in enumerate(_sentences(paragraph["context"])):
                out.append(Item(f"{kind}:{article.get('id', article['title'])}:{p}:{k}", sentence, False, kind,
                                f"{kind}:{article['title']}"))
    return out


def questions(path: Path = QUESTIONS) -> list[Item]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Item(r["id"], r["question"], False, "question", r["id"]) for r in rows]


_CARRIED = re.compile(r"[:\uff1a]\s*[“\"「]?([^:\uff1a]*\d[^:\uff1a]*?)[”\"」]?$")
_ADDRESSING = re.compile(r"你|您|请|答|告|说|回复|输出|指令|用户|助手|系统|ai|answer|reply|tell|say", re.I)


def carried_statements(items: list[Item]) -> list[Item]:
    """The statement a planted sentence carries after its last colon, when it is a plain statement with a figure."""
    out = []
    for item in items:
        m = _CARRIED.search(item.text) if item.planted and not item.variant else None
        if m and len(m.group(1)) >= 6 and not _ADDRESSING.search(m.group(1)):
            out.append(Item(f"{item.id}:carried", m.group(1), False, "carried", f"{item.group}:carried"))
    return out


def split(items: list[Item], seed: int = SEED, share: float = TEST_SHARE) -> tuple[list[Item], list[Item]]:
    """Train and test: whole groups (a sentence and its variants), each (label, kind) in proportion."""
    strata: dict[tuple[bool, str], list[str]] = defaultdict(list)
    for item in items:
        key = (item.planted, item.kind)
        if item.group not in strata[key]:
            strata[key].append(item.group)
    rng = random.Random(seed)
    test_groups: set[str] = set()
    for key in sorted(strata):
        groups = sorted(strata[key])
        rng.shuffle(groups)
        test_groups |= set(groups[: round(len(groups) * share)])
    return [i for i in items if i.group not in test_groups], [i for i in items if i.group in test_groups]


@dataclass(frozen=True)
class Pieces:
    """The detector's pieces of some items (a sentence, or windows of a long one): readable (the second stage's
    input), normalised (the first stage's), the item's label and index."""

    readable: list[str]
    keys: list[str]
    labels: np.ndarray
    owners: np.ndarray


def piece_rows(items: list[Item]) -> Pieces:
    readable, labels, owners = [], [], []
    for n, item in enumerate(items):
        for piece in planted.readable_pieces(item.text):
            readable.append(piece)
            labels.append(item.planted)
            owners.append(n)
    return Pieces(readable, [planted.key(p) for p in readable], np.asarray(labels, dtype=bool),
                  np.asarray(owners, dtype=int))


def _vectorizer(vocabulary: list[str] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=planted.grams, sublinear_tf=True, norm="l2", vocabulary=vocabulary)


def _classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight={False: 1.0, True: POSITIVE_WEIGHT}, max_iter=5000)


def fit(texts: list[str], labels: np.ndarray) -> planted.PlantedModel:
    """Fit on all grams, keep the FEATURES that weigh most, fit again on those (threshold 0.5 until chosen)."""
    vec = _vectorizer()
    clf = _classifier().fit(vec.fit_transform(texts), labels)
    names = vec.get_feature_names_out()
    keep = sorted(names[np.argsort(-np.abs(clf.coef_[0]))[:FEATURES]].tolist())
    vec = _vectorizer(keep)
    clf = _classifier().fit(vec.fit_transform(texts), labels)
    return planted.PlantedModel({g: i for i, g in enumerate(keep)}, vec.idf_.tolist(), clf.coef_[0].tolist(),
                                float(clf.intercept_[0]), 0.5)


def item_scores(scores: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    """Each item's highest piece score (0 for an item without pieces)."""
    out = np.zeros(n)
    np.maximum.at(out, owners, scores)
    return out


def out_of_fold(items: list[Item], rows: Pieces) -> np.ndarray:
    """Each training piece's first-stage score from a model fitted without its fold (folds by group)."""
    groups = sorted({i.group for i in items})
    random.Random(SEED).shuffle(groups)
    fold_of = {g: k % FOLDS for k, g in enumerate(groups)}
    folds = np.asarray([fold_of[items[o].group] for o in rows.owners])
    scores = np.zeros(len(rows.keys))
    for k in range(FOLDS):
        inside = np.flatnonzero(folds != k)
        model = fit([rows.keys[i] for i in inside], rows.labels[inside])
        for i in np.flatnonzero(folds == k):
            scores[i] = model.probability(rows.keys[i])
        print(f"  fold {k + 1}/{FOLDS}", file=sys.stderr)
    return scores


def choose_threshold(scores: np.ndarray, items: list[Item]) -> float:
    """The lowest threshold (never below 0.5) flagging, out of fold, at most MAX_FALSE_FLAGS of the written ordinary
    sentences and the reports' and at most MAX_FALSE_FLAGS_OTHER of the other ordinary sentences (DRCD …)."""
    threshold = 0.5
    for own, share in ((True, MAX_FALSE_FLAGS), (False, MAX_FALSE_FLAGS_OTHER)):
        ordinary = np.sort([s for s, i in zip(scores, items, strict=True)
                            if not i.planted and (i.kind in OTHER_KINDS) != own])[::-1]
        allowed = int(share * len(ordinary))
        if allowed < len(ordinary):
            threshold = max(threshold, float(np.nextafter(ordinary[allowed], 1.0)))
    return threshold


def figures(items: list[Item], flagged: list[bool]) -> dict[str, Any]:
    """Precision and recall of the flags, false flags among the ordinary items, recall by variant."""
    y = np.asarray([i.planted for i in items])
    f = np.asarray(flagged)
    tp, fp = int((y & f).sum()), int((~y & f).sum())
    by_variant: dict[str, list[bool]] = defaultdict(list)
    for item, hit in zip(items, flagged, strict=True):
        if item.planted:
            by_variant[item.variant or "written"].append(hit)
    return {
        "planted": int(y.sum()), "ordinary": int((~y).sum()),
        "precision": round(tp / max(1, tp + fp), 4), "recall": round(tp / max(1, int(y.sum())), 4),
        "false_flag_rate": round(fp / max(1, int((~y).sum())), 4), "false_flags": fp,
        "recall_by_variant": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_variant.items())},
        "missed": [i.id for i, hit in zip(items, flagged, strict=True) if i.planted and not hit],
        "false": [f"{i.id}: {i.text[:60]}" for i, hit in zip(items, flagged, strict=True) if not i.planted and hit],
    }


def write_model(model: planted.PlantedModel, path: Path) -> None:
    vocabulary = sorted(model.index, key=model.index.__getitem__)
    data = {
        "format": planted.MODEL_FORMAT,
        "about": "python -m training.planted: logistic regression over the sublinear tf-idf of character 1-3-grams "
        "(ingest.planted.grams) of normalised sentences; data/security/planted.jsonl, the bundled reports, DRCD",
        "threshold": round(model.threshold, 6),
        "intercept": round(model.intercept, 6),
        "vocabulary": vocabulary,
        "idf": [round(x, 5) for x in model.idf],
        "coef": [round(x, 5) for x in model.coef],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def training_items() -> tuple[list[Item], dict[str, int]]:
    """The training part of the set and of the reports, the extra training sentences, DRCD, questions, carried."""
    written, reports = load_set(), report_sentences()
    set_train, report_train = split(written)[0], split(reports)[0]
    extra_written, drcd = load_set(EXTRA), qa_sentences(DRCD, "drcd")
    extra = questions() + carried_statements(set_train + extra_written)
    sizes = {"written_train": len(set_train), "extra_written_train": len(extra_written),
             "report_train": len(report_train), "drcd_train": len(drcd), "other_train": len(extra)}
    print(f"train: {sizes}", file=sys.stderr)
    return set_train + extra_written + report_train + drcd + extra, sizes


def fit_all(train: list[Item], out: Path, stage2_out: Path) -> None:
    """Both stages on the training items: thresholds and gate out of fold, then the final fits, written."""
    rows = piece_rows(train)
    first_oof = out_of_fold(train, rows)
    threshold = choose_threshold(item_scores(first_oof, rows.owners, len(train)), train)
    gate = choose_gate(first_oof, np.asarray([train[o].kind == "report" for o in rows.owners]))
    learned = np.flatnonzero(first_oof >= min(gate, TRAIN_GATE))
    print(f"gate {gate:.4f}; the second stage learns from {len(learned)} of {len(rows.keys)} training pieces",
          file=sys.stderr)
    vectors = VectorCache()([rows.readable[i] for i in learned])
    stage, second_oof = fit_stage2(vectors, first_oof[learned], rows.labels[learned],
                                   [train[rows.owners[i]].group for i in learned], gate)
    scores = np.zeros(len(rows.keys))
    scores[learned] = np.where(first_oof[learned] >= gate, second_oof, 0.0)  # as shipped: only past the gate
    threshold2 = choose_threshold(item_scores(scores, rows.owners, len(train)), train)
    write_stage2(planted.EmbeddingStage(stage.coef, stage.ngram_weight, stage.intercept, gate, threshold2),
                 stage2_out)
    model = fit(rows.keys, rows.labels)
    write_model(planted.PlantedModel(model.index, model.idf, model.coef, model.intercept, threshold), out)


def _first_stage_alone(text: str) -> bool:
    """The rule before the second stage: the patterns, or a piece the first stage scores at its own threshold."""
    threshold = planted.model().threshold
    return bool(planted.pattern_phrases(text)) or any(planted.first_stage(p) >= threshold
                                                      for p in planted.pieces(text))


def measure_shipped(model_path: Path, stage2_path: Path, sizes: dict[str, int]) -> dict[str, Any]:
    """The detector as shipped (the models as written, rounded, with the patterns: ``ingest.planted.is_suspicious``)
    on the three held-out sets, the whole set, the reports and CMRC's sentences; the first stage alone beside it."""
    planted.MODEL_PATH, planted.STAGE2_PATH = model_path, stage2_path
    planted.model.cache_clear()
    planted.stage2.cache_clear()
    planted.first_stage.cache_clear()
    planted._decided.clear()
    planted.embed = VectorCache()
    shipped, stage = planted.model(), planted.stage2()

    written, reports = load_set(), report_sentences()
    set_test, report_test = split(written)[1], split(reports)[1]
    cmrc, apart, fresh = qa_sentences(CMRC, "cmrc"), load_set(HELD_OUT), load_set(FRESH)
    everything = written + reports + cmrc + apart + fresh
    planted._second_stage([p for i in everything for p in planted.candidates(i.text)])  # one batch, cached

    def measure(items: list[Item]) -> dict[str, Any]:
        result = figures(items, [planted.is_suspicious(i.text) for i in items])
        alone = figures(items, [_first_stage_alone(i.text) for i in items])
        result["first_stage_alone"] = {k: alone[k] for k in ("precision", "recall", "false_flag_rate", "false_flags")}
        result["second_stage_reads"] = sum(bool(planted.candidates(i.text)) for i in items)
        result["planted_past_gate"] = sum(bool(planted.candidates(i.text)) for i in items if i.planted)
        return result

    gated_reports = sum(bool(planted.candidates(i.text)) for i in reports)
    return {
        "model": {"features": len(shipped.index), "first_stage_threshold": round(shipped.threshold, 4),
                  "gate": round(stage.gate, 4), "second_stage_threshold": round(stage.threshold, 4), "C": C,
                  "positive_weight": POSITIVE_WEIGHT, "seed": SEED, "test_share": TEST_SHARE},
        "sizes": sizes | {"written_test": len(set_test), "report_test": len(report_test),
                          "written_apart": len(apart), "fresh": len(fresh), "cmrc_measured": len(cmrc)},
        "held_out": measure(set_test + report_test),
        "held_out_written_only": measure(set_test),
        "held_out_written_apart": measure(apart),
        "held_out_fresh": measure(fresh),
        "whole_set": measure(written + reports),
        "reports_flagged": [i.id for i in reports if planted.is_suspicious(i.text)],
        "reports_sentences_embedded": f"{gated_reports}/{len(reports)}",
        "patterns_alone": figures(
            written + reports, [bool(planted.pattern_phrases(i.text)) for i in written + reports]
        ),
        "cmrc_dev_sentences": {k: v for k, v in measure(cmrc).items() if k in (
            "ordinary", "false_flags", "false_flag_rate", "false", "first_stage_alone", "second_stage_reads")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=planted.MODEL_PATH)
    parser.add_argument("--stage2-out", type=Path, default=planted.STAGE2_PATH)
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--measure", action="store_true", help="measure the models as written; do not fit them")
    args = parser.parse_args(argv)

    sizes: dict[str, int] = {}
    if args.measure and args.report.exists():  # the training part's sizes, as the fit recorded them
        sizes = {k: v for k, v in json.loads(args.report.read_text(encoding="utf-8")).get("sizes", {}).items()
                 if k.endswith("_train")}
    if not args.measure:
        train, sizes = training_items()
        fit_all(train, args.out, args.stage2_out)

    result = measure_shipped(args.out, args.stage2_out, sizes)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name in ("held_out", "held_out_written_apart", "held_out_fresh", "whole_set"):
        r = result[name]
        print(f"{name}: precision {r['precision']}, recall {r['recall']}, false flags {r['false_flags']}/"
              f"{r['ordinary']} (first stage alone: recall {r['first_stage_alone']['recall']}, false flags "
              f"{r['first_stage_alone']['false_flags']})", file=sys.stderr)
    print(f"reports flagged: {len(result['reports_flagged'])}; CMRC sentences flagged: "
          f"{result['cmrc_dev_sentences']['false_flags']}/{result['cmrc_dev_sentences']['ordinary']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["FRESH", "HELD_OUT", "Item", "figures", "fit", "load_set", "main", "measure_shipped", "report_sentences",
           "split"]
