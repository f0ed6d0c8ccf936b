"""The learned planted-text detector (``ingest/planted.py``): fit, measure, write.

``python -m training.planted [--out ingest/planted_model.json] [--report docs/bench/planted.json] [--measure]``

Data:

- ``data/security/planted_heldout.jsonl``: hand-written later, apart, in other words, and never used to fit the
  model or choose its threshold: only ever measured (``held_out_written_apart``);
- ``data/security/planted.jsonl``: hand-written sentences, planted (text addressed to the reader or a model)
  and ordinary (policy imperatives, notices, guides, FAQs, news …), with invisible-character, full-width and
  spaced-out variants of some of them (``of`` names the sentence a variant was made from);
- every sentence of the two bundled reports (``data/corpus``), ordinary;
- for training only, ordinary: the sentences of DRCD's development paragraphs
  (``data/bench/drcd_dev_simplified.json``), the training questions of ``data/train/reports_everyday.jsonl``, and
  the statement each training planted sentence carries after its colon (「回答:二七区…为9999亿元」 → 「二七区…为
  9999亿元」: a bulletin may state a wrong figure, that is the fact-checker's business, not planted text);
  CMRC 2018's development paragraphs (``data/bench/cmrc2018_dev.json``) are only ever measured.

The set and the reports' sentences are split into train and test with a fixed seed (:data:`SEED`), a
sentence and its variants always on the same side, each label and kind in proportion.  The model is
logistic regression over the sublinear tf-idf of character 1–3-grams (:func:`ingest.planted.grams`),
its vocabulary cut to the :data:`FEATURES` grams that weigh most, refitted on them; the flag threshold
is the lowest that flags at most :data:`MAX_FALSE_FLAGS` of the training ordinary sentences out of fold.
It is measured with the shipped rule: the patterns or the model (``ingest.planted.is_suspicious``).
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
from zhtext.sentences import Span as TextSpan
from zhtext.sentences import split_sentences

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "data" / "security" / "planted.jsonl"
HELD_OUT = REPO / "data" / "security" / "planted_heldout.jsonl"
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
MAX_FALSE_FLAGS = 0.005  # the threshold flags at most this share of the written ordinary and the reports' sentences
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


def _piece_rows(items: list[Item]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The detector's pieces of each item (a sentence, or windows of a long one), their labels and owners."""
    texts, labels, owners = [], [], []
    for n, item in enumerate(items):
        for piece in planted.pieces(item.text):
            texts.append(piece)
            labels.append(item.planted)
            owners.append(n)
    return texts, np.asarray(labels), np.asarray(owners)


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


def _item_scores(model: planted.PlantedModel, texts: list[str], owners: np.ndarray, n: int) -> np.ndarray:
    """Each item's highest piece probability."""
    out = np.zeros(n)
    for text, owner in zip(texts, owners, strict=True):
        out[owner] = max(out[owner], model.probability(text))
    return out


def out_of_fold(items: list[Item]) -> np.ndarray:
    """Each training item's score from a model fitted without its fold (folds by group)."""
    groups = sorted({i.group for i in items})
    random.Random(SEED).shuffle(groups)
    fold_of = {g: k % FOLDS for k, g in enumerate(groups)}
    scores = np.zeros(len(items))
    for k in range(FOLDS):
        inside = [i for i in items if fold_of[i.group] != k]
        outside_idx = [n for n, i in enumerate(items) if fold_of[i.group] == k]
        texts, labels, _ = _piece_rows(inside)
        model = fit(texts, labels)
        held = [items[n] for n in outside_idx]
        t, _, owners = _piece_rows(held)
        scores[outside_idx] = _item_scores(model, t, owners, len(held))
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


def measure_shipped(model_path: Path, sizes: dict[str, int]) -> dict[str, Any]:
    """The detector as shipped (the model as written, rounded, with the patterns: ``ingest.planted.is_suspicious``)
    on the held-out parts, the whole set, the reports and CMRC's sentences."""
    planted.MODEL_PATH = model_path
    planted.model.cache_clear()
    planted._flagged_piece.cache_clear()
    shipped = planted.model()

    def measure(items: list[Item]) -> dict[str, Any]:
        return figures(items, [planted.is_suspicious(i.text) for i in items])

    written, reports = load_set(), report_sentences()
    set_test, report_test = split(written)[1], split(reports)[1]
    cmrc, apart = qa_sentences(CMRC, "cmrc"), load_set(HELD_OUT)
    return {
        "model": {"features": len(shipped.index), "threshold": round(shipped.threshold, 4), "C": C,
                  "positive_weight": POSITIVE_WEIGHT, "seed": SEED, "test_share": TEST_SHARE},
        "sizes": sizes | {"written_test": len(set_test), "report_test": len(report_test),
                          "written_apart": len(apart), "cmrc_measured": len(cmrc)},
        "held_out": measure(set_test + report_test),
        "held_out_written_only": measure(set_test),
        "held_out_written_apart": measure(apart),
        "whole_set": measure(written + reports),
        "reports_flagged": [i.id for i in reports if planted.is_suspicious(i.text)],
        "patterns_alone": figures(
            written + reports, [bool(planted.pattern_phrases(i.text)) for i in written + reports]
        ),
        "cmrc_dev_sentences": {k: v for k, v in measure(cmrc).items() if k in ("ordinary", "false_flags",
                                                                              "false_flag_rate", "false")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=planted.MODEL_PATH)
    parser.add_argument("--report", type=Path, default=REPORT)
    parser.add_argument("--measure", action="store_true", help="measure the model at --out; do not fit it again")
    args = parser.parse_args(argv)

    sizes: dict[str, int] = {}
    if args.measure and args.report.exists():  # the training part's sizes, as the fit recorded them
        sizes = {k: v for k, v in json.loads(args.report.read_text(encoding="utf-8")).get("sizes", {}).items()
                 if k.endswith("_train")}
    if not args.measure:
        written, reports = load_set(), report_sentences()
        set_train, report_train = split(written)[0], split(reports)[0]
        drcd = qa_sentences(DRCD, "drcd")
        extra = questions() + carried_statements(set_train)
        train = set_train + report_train + drcd + extra
        sizes = {"written_train": len(set_train), "report_train": len(report_train), "drcd_train": len(drcd),
                 "other_train": len(extra)}
        print(f"train: {len(set_train)} written, {len(report_train)} report, {len(drcd)} DRCD, {len(extra)} other",
              file=sys.stderr)
        threshold = choose_threshold(out_of_fold(train), train)
        texts, piece_labels, _ = _piece_rows(train)
        model = fit(texts, piece_labels)
        write_model(planted.PlantedModel(model.index, model.idf, model.coef, model.intercept, threshold), args.out)

    result = measure_shipped(args.out, sizes)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name in ("held_out", "held_out_written_apart", "whole_set"):
        r = result[name]
        print(f"{name}: precision {r['precision']}, recall {r['recall']}, false flags {r['false_flags']}/"
              f"{r['ordinary']}", file=sys.stderr)
    print(f"reports flagged: {len(result['reports_flagged'])}; CMRC sentences flagged: "
          f"{result['cmrc_dev_sentences']['false_flags']}/{result['cmrc_dev_sentences']['ordinary']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Item", "figures", "fit", "load_set", "main", "measure_shipped", "report_sentences", "split"]
