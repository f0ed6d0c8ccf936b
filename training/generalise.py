"""Answer and refusal figures on question sets split by article: what the answerer does on text it was not fitted on.

``python -m training.generalise [--sets drcd,cmrc,drcd_attr,cmrc_attr,reports_check,everyday] [--splits test]
[--out FILE.json] [--work DIR]``

Each set's indexed paragraphs are written as .txt documents and ingested (incrementally, the
embedding cache kept in ``--work``), then every question of the chosen splits goes through the
product (``Assistant.ask``).  Per set, split and answerability it reports: gold answer in the
answer, refusals, mean confidence, expected calibration error, and latency.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, bench_env, contains_any, latency_stats, strip_markers, write_json
from training.calibration import bins, plot
from training.sets import (
    ATTRIBUTE,
    EVERYDAY,
    REPORT_SETS,
    REPORTS,
    Item,
    QASet,
    Split,
    load_reports,
    load_squad,
    with_attribute_gaps,
)

bench_env()

DEFAULT_WORK = ROOT / "var" / "qa"
ECE_BINS = 10


def load_set(name: str) -> QASet:
    if name.endswith(ATTRIBUTE):
        return with_attribute_gaps(load_squad(name.removesuffix(ATTRIBUTE)))
    return load_reports(REPORT_SETS[name], name=name) if name in REPORT_SETS else load_squad(name)


def index_settings(qa: QASet, work: Path, **overrides: Any):
    """Settings of the set's index in ``work``, ingested (incrementally) from its corpus."""
    from ingest.pipeline import run_ingest
    from settings import Settings

    on_reports = qa.name in REPORT_SETS
    home = work / ("reports" if on_reports else qa.name)
    corpus = REPORTS if on_reports else qa.write_corpus(home / "corpus")
    _seed_cache(home / "index", work / qa.name.removesuffix(ATTRIBUTE) / "index")
    settings = Settings(
        _env_file=None, index_dir=home / "index", corpus_dir=corpus, **overrides
    )
    started = time.perf_counter()
    report = run_ingest(settings, [corpus], prune=True, show_progress=False)
    print(f"{qa.name}: {report.summary()} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return settings


def _seed_cache(index: Path, source: Path) -> None:
    """A variant of a set (its attribute gaps) starts from the set's embedding cache: only what changed is embedded."""
    cache = source / "embedding_cache.sqlite"
    if index != source and not index.exists() and cache.exists():
        index.mkdir(parents=True)
        shutil.copy2(cache, index / cache.name)


def correct(item: Item, answer: str) -> bool:
    """A report item needs every expected string; a Wikipedia item any of its gold answers."""
    if item.kind == "wiki":
        return contains_any(answer, item.answers)
    return all(a in answer for a in item.answers)


def ece(confidences: list[float], outcomes: list[bool], n: int = ECE_BINS) -> float | None:
    """Expected calibration error: |mean confidence − accuracy| per equal-width bin, weighted by size."""
    if not confidences:
        return None
    return round(
        sum(b["n"] / len(confidences) * abs(b["confidence"] - b["accuracy"]) for b in bins(confidences, outcomes, n)), 4
    )


_PUNCT = re.compile(r"[\s,，。.!！?？;；:：、“”\"'‘’()（）《》【】\-—]")


def _plain(text: str) -> str:
    """As CMRC 2018's evaluation compares answers: without spaces and punctuation."""
    return _PUNCT.sub("", text)


def char_f1(pred: str, gold: str) -> float:
    """F1 over characters (CMRC 2018's measure for Chinese), punctuation removed."""
    pred, gold = _plain(pred), _plain(gold)
    if not pred or not gold:
        return float(pred == gold)
    common = sum(min(pred.count(c), gold.count(c)) for c in set(pred))
    if not common:
        return 0.0
    p, r = common / len(pred), common / len(gold)
    return 2 * p * r / (p + r)


def short_scores(item: Item, short: str | None) -> tuple[float | None, float | None]:
    """(exact match, F1) of a short answer against the item's gold spans (a wiki item's answers, a report item's
    ``short``); a missing short answer scores 0; an item without a gold span (a list, a set that names none) is
    not scored (None, None)."""
    golds = item.answers if item.kind == "wiki" else ((item.short,) if item.short else ())
    if not golds:
        return None, None
    if not short:
        return 0.0, 0.0
    return (max(float(_plain(short) == _plain(g)) for g in golds), max(char_f1(short, g) for g in golds))


def ask_all(assistant: Any, items: list[Item]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        t0 = time.perf_counter()
        r = assistant.ask(item.question, history=list(item.history) or None, id=item.qid)
        ms = (time.perf_counter() - t0) * 1000
        answer = strip_markers(r.answer)
        ok_answer = (not r.no_answer) and correct(item, answer)
        # the answer the model rated, given or shown as tentative (see run())
        draft_right = (
            item.answerable
            and bool(r.citations)
            and correct(item, strip_markers(" ".join(c.text for c in r.citations)))
        )
        sources = [x.source for x in r.retrieved]
        short = r.short_answer.text if r.short_answer else None
        em, f1 = short_scores(item, None if r.no_answer else short) if item.answerable else (None, None)
        rows.append({
            "id": item.qid, "split": item.split, "kind": item.kind, "answerable": item.answerable,
            "no_answer": r.no_answer, "in_answer": ok_answer,
            "ok": ok_answer if item.answerable else r.no_answer,
            "confidence": getattr(r, "confidence", None), "draft_right": draft_right,
            "gold_rank": sources.index(item.source) + 1 if item.source in sources else None,
            "ms": round(ms, 2), "answer": answer[:300], "short": short, "short_em": em, "short_f1": f1,
        })
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {"questions": len(rows), "answerable": len(ans), "unanswerable": len(una)}
    if ans:
        out["gold_in_answer"] = round(sum(r["in_answer"] for r in ans) / len(ans), 4)
        out["answerable_refused"] = round(sum(r["no_answer"] for r in ans) / len(ans), 4)
        out["gold_hit@1"] = round(sum(r["gold_rank"] == 1 for r in ans) / len(ans), 4)
        out["gold_hit@5"] = round(sum(bool(r["gold_rank"] and r["gold_rank"] <= 5) for r in ans) / len(ans), 4)
        spans = [r for r in ans if r.get("short_em") is not None]
        if spans:
            out["short_scored"] = len(spans)
            out["short_exact_match"] = round(sum(r["short_em"] for r in spans) / len(spans), 4)
            out["short_f1"] = round(sum(r["short_f1"] for r in spans) / len(spans), 4)
    if una:
        out["unanswerable_refused"] = round(sum(r["no_answer"] for r in una) / len(una), 4)
    scored = [r for r in rows if r["confidence"] is not None]
    if scored:  # confidence: the probability that the best answer (given or withheld) is right
        out["ece"] = ece([r["confidence"] for r in scored], [r["draft_right"] for r in scored])
        out["mean_confidence"] = round(sum(r["confidence"] for r in scored) / len(scored), 4)
    out["latency"] = latency_stats([r["ms"] for r in rows])
    return out


def run(names: list[str], splits: list[Split], work: Path) -> dict[str, Any]:
    from assistant.service import Assistant
    results: dict[str, Any] = {}
    for name in names:
        qa = load_set(name)
        items = [i for i in qa.items if i.split in splits]
        if not items:
            continue
        # Every refusal shows its closest answer (hint threshold 0): what is refused is unchanged, and the
        # calibration of the confidence can be measured on every question, refused ones included.
        assistant = Assistant(index_settings(qa, work, answer_hint_confidence=0.0))
        assistant.warm_up()
        rows = ask_all(assistant, items)
        results[name] = {
            "summary": {
                s: summarise([r for r in rows if r["split"] == s]) for s in splits if any(r["split"] == s for r in rows)
            },
            "rows": rows,
        }
        if name in REPORT_SETS:  # the reports' sets by type of question (plan, actual, followup, qty, …)
            for split, summary in results[name]["summary"].items():
                mine = [r for r in rows if r["split"] == split]
                summary["by_kind"] = {
                    kind: {k: v for k, v in summarise([r for r in mine if r["kind"] == kind]).items() if k != "latency"}
                    for kind in sorted({r["kind"] for r in mine})
                }
        for s, summary in results[name]["summary"].items():
            print(
                name,
                s,
                {k: v for k, v in summary.items() if k != "latency"},
                "p95",
                summary["latency"]["p95_ms"],
                file=sys.stderr,
                flush=True,
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.generalise", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="drcd,cmrc,drcd_attr,cmrc_attr,reports_check,everyday,gold")
    parser.add_argument("--splits", default="test")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "generalise.json")
    parser.add_argument(
        "--plot", type=lambda s: Path(s) if s else None, default=ROOT / "docs" / "calibration.png",
        help="reliability diagram ('' for none)",
    )
    args = parser.parse_args(argv)
    names = [n for n in args.sets.split(",") if n]
    if "everyday" in names and not EVERYDAY.exists():
        names.remove("everyday")
    results = run(names, args.splits.split(","), args.work)
    write_json(args.out, {name: r["summary"] for name, r in results.items()})
    write_json(args.out.with_suffix(".rows.json"), {name: r["rows"] for name, r in results.items()})
    if args.plot:
        series = {f"{name} {s}": ([r["confidence"] for r in rows], [r["draft_right"] for r in rows])
                  for name, res in results.items() for s in args.splits.split(",")
                  if (rows := [r for r in res["rows"] if r["split"] == s and r["confidence"] is not None])}
        plot(series, args.plot, "Answer confidence on held-out questions (reliability)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
