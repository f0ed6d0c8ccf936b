"""`python -m assistant eval FILE.jsonl`: retrieval, answer, refusal and grounding metrics.

Gold lines (see data/eval/gold.jsonl): id, type, task, question, history?,
answerable, expect (strings a correct answer contains), evidence (exact
substrings of `source`), source, verdict? (claims).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.batch import BatchItem, answer_item
from assistant.response import AssistantResponse
from assistant.service import Assistant

_MARKER = re.compile(r"\[\d+\]")
_NUM = re.compile(r"\d+(?:\.\d+)?")
HIT_KS = (1, 3, 5)
MRR_K = 10  # mean reciprocal rank of the first evidence hit within this many retrieved chunks
FAILURE_ANSWER_CHARS = 80  # how much of a failed answer the report shows


@dataclass
class EvalResult:
    metrics: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


def load_gold(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_corpus(folder: Path) -> dict[str, str]:
    """File name → text of the reports in ``folder`` (the sources the gold items' evidence comes from)."""
    return {p.name: p.read_text(encoding="utf-8") for p in Path(folder).glob("*.txt")}


def evidence_spans(item: dict, corpus_texts: dict[str, str]) -> list[tuple[str, int, int]]:
    spans = []
    for ev in item.get("evidence", []):
        for source in [item.get("source"), *item.get("also_in", [])]:
            text = corpus_texts.get(source or "")
            if text and ev in text:
                i = text.index(ev)
                spans.append((source, i, i + len(ev)))
    return spans


def first_hit_rank(response: AssistantResponse, spans: list[tuple[str, int, int]]) -> int | None:
    """1-based rank of the first retrieved chunk holding at least half of an evidence span."""
    for rank, item in enumerate(response.retrieved, start=1):
        for source, start, end in spans:
            overlap = min(end, item.end) - max(start, item.start)
            if item.source == source and overlap >= (end - start) / 2:
                return rank
    return None


def numbers_grounded(response: AssistantResponse) -> tuple[int, int]:
    """(numbers in the answer found in its cited text, numbers in the answer)."""
    if response.no_answer:
        return 0, 0
    cited = "".join(c.text for c in response.citations)
    numbers = _NUM.findall(_MARKER.sub("", response.answer))
    return sum(1 for n in numbers if n in cited), len(numbers)


def judge(item: dict, response: AssistantResponse) -> bool:
    if item.get("task") == "check":
        return response.verdict == item.get("verdict")
    if not item.get("answerable", True):
        return response.no_answer
    return not response.no_answer and all(e in response.answer for e in item.get("expect", []))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 2)


def evaluate(gold: list[dict], run: Callable[[dict], AssistantResponse], corpus_texts: dict[str, str]) -> EvalResult:
    result = EvalResult()
    by_type: dict[str, list[bool]] = defaultdict(list)
    ranks: list[int | None] = []
    latencies: list[float] = []
    grounded = total_numbers = 0
    refusals_ok = unanswerable = false_refusals = answerable = 0
    sentences_ok = sentences_total = 0  # LLM answers: sentences that passed verification
    for item in gold:
        response = run(item)
        ok = judge(item, response)
        by_type[item["type"]].append(ok)
        latencies.append(response.timings_ms.get("total", 0.0))
        if response.sentences is not None:
            sentences_ok += sum(1 for s in response.sentences if s.verified)
            sentences_total += len(response.sentences)
        row = {
            "id": item["id"],
            "type": item["type"],
            "ok": ok,
            "no_answer": response.no_answer,
            "answer": response.answer,
            "verdict": response.verdict,
        }
        if item.get("task", "ask") == "ask":
            g, n = numbers_grounded(response)
            grounded, total_numbers = grounded + g, total_numbers + n
            if item.get("answerable", True):
                answerable += 1
                false_refusals += response.no_answer
                rank = first_hit_rank(response, evidence_spans(item, corpus_texts))
                ranks.append(rank)
                row["hit_rank"] = rank
            else:
                unanswerable += 1
                refusals_ok += response.no_answer
        result.rows.append(row)
    asks = [ok for t, oks in by_type.items() if t != "claim" for ok in oks]
    m: dict[str, Any] = {
        "questions": len(gold),
        "answer_accuracy": round(sum(asks) / len(asks), 4) if asks else None,
        "accuracy_by_type": {t: round(sum(v) / len(v), 4) for t, v in sorted(by_type.items())},
        "refusal_accuracy": round(refusals_ok / unanswerable, 4) if unanswerable else None,
        "false_refusal_rate": round(false_refusals / answerable, 4) if answerable else None,
        "numbers_grounded": round(grounded / total_numbers, 4) if total_numbers else 1.0,
        "latency_ms_p50": _pct(latencies, 0.5),
        "latency_ms_p95": _pct(latencies, 0.95),
    }
    if sentences_total:
        m["sentences_verified"] = round(sentences_ok / sentences_total, 4)
    for k in HIT_KS:
        m[f"hit@{k}"] = round(sum(1 for r in ranks if r and r <= k) / len(ranks), 4) if ranks else None
    m[f"mrr@{MRR_K}"] = round(sum(1 / r for r in ranks if r and r <= MRR_K) / len(ranks), 4) if ranks else None
    result.metrics = m
    return result


def evaluate_assistant(assistant: Assistant, gold: list[dict], corpus_texts: dict[str, str]) -> EvalResult:
    """``gold`` asked of ``assistant`` as a batch asks it (claims are checked), and scored."""
    return evaluate(gold, lambda item: answer_item(assistant, BatchItem.of(item)), corpus_texts)


def markdown_report(result: EvalResult, title: str) -> str:
    m = result.metrics
    lines = [f"# {title}", "", "| metric | value |", "| --- | --- |"]
    for key, value in m.items():
        if key != "accuracy_by_type":
            lines.append(f"| {key} | {value} |")
    lines += ["", "| type | accuracy |", "| --- | --- |"]
    lines += [f"| {t} | {v} |" for t, v in m["accuracy_by_type"].items()]
    failures = [r for r in result.rows if not r["ok"]]
    if failures:
        lines += ["", "## Failures", "", "| id | no_answer | answer |", "| --- | --- | --- |"]
        lines += [
            f"| {r['id']} | {r['no_answer']} | "
            f"{r['answer'][:FAILURE_ANSWER_CHARS].replace(chr(10), ' ').replace('|', '/')} |"
            for r in failures
        ]
    return "\n".join(lines) + "\n"
