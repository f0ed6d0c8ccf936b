"""Per-item breakdown of an eval run on data/eval/everyday.jsonl (standard library only).

    python -m assistant batch < data/eval/everyday.jsonl > /tmp/everyday-batch.jsonl   # optional
    python -m training.breakdown docs/eval/everyday-before [--batch /tmp/everyday-batch.jsonl]

Reads RUN/report.json (written by `python -m assistant eval`) and the set, prints the figures of
docs/benchmarks.md and writes RUN/breakdown.md: for every item, the rank of the first retrieved
passage holding its evidence (hit@1 / hit@5) and, for failures, one of four categories.  With
--batch (the same questions through `python -m assistant batch`), refusals also show the
assistant's `reason` for refusing, which the eval report does not keep.
"""
from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

CATEGORIES = {
    "refused_retrieved": "refused although the evidence was in the top 5",
    "refused_not_retrieved": "refused, evidence not in the top 5",
    "wrong_quote": "answered with a quote lacking the expected string",
    "nearmiss_answered": "near-miss answered instead of refused",
}


def category(item: dict, row: dict) -> str | None:
    if row["ok"]:
        return None
    if not item["answerable"]:
        return "nearmiss_answered"
    if not row["no_answer"]:
        return "wrong_quote"
    rank = row.get("hit_rank")
    return "refused_retrieved" if rank and rank <= 5 else "refused_not_retrieved"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path, help="folder holding report.json")
    ap.add_argument("--set", type=Path, default=Path("data/eval/everyday.jsonl"))
    ap.add_argument("--batch", type=Path, help="JSONL from `python -m assistant batch` on the same set")
    args = ap.parse_args()
    reasons: dict[str, str] = {}
    if args.batch:
        for line in args.batch.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r.get("no_answer"):
                reasons[r["id"]] = r.get("reason") or ""
    items = {d["id"]: d for d in map(json.loads, args.set.read_text(encoding="utf-8").splitlines()) if d}
    rows = json.loads((args.run / "report.json").read_text(encoding="utf-8"))["rows"]
    every = [r for r in rows if items[r["id"]]["answerable"]]
    near = [r for r in rows if not items[r["id"]]["answerable"]]

    def rate(n: int, d: int) -> str:
        return f"{n}/{d} = {n / d:.3f}"

    hit1 = sum(1 for r in every if r.get("hit_rank") == 1)
    hit5 = sum(1 for r in every if r.get("hit_rank") and r["hit_rank"] <= 5)
    cats = collections.Counter(category(items[r["id"]], r) for r in rows)
    summary = [
        f"everyday answered correctly: {rate(sum(r['ok'] for r in every), len(every))}",
        f"near-miss refused:           {rate(sum(r['no_answer'] for r in near), len(near))}",
        f"false refusals (everyday):   {rate(sum(r['no_answer'] for r in every), len(every))}",
        f"evidence hit@1 / hit@5:      {rate(hit1, len(every))} / {rate(hit5, len(every))}",
        "failures: " + ", ".join(f"{k} {cats[k]}" for k in CATEGORIES),
    ]
    print("\n".join(summary))

    lines = [f"# Per-item breakdown of {args.run}/report.json", "",
             "Written by `python -m training.breakdown " + str(args.run)
             + (" --batch " + str(args.batch) if args.batch else "") + "`.", "",
             "```", *summary, "```", "",
             "Categories: " + "; ".join(f"`{k}`: {v}" for k, v in CATEGORIES.items()) + ".", "",
             "| id | question | expect | hit rank | top 1 | top 5 | result | answer (failures) or refusal reason |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        d = items[r["id"]]
        rank = r.get("hit_rank")
        cat = category(d, r)
        if r["no_answer"]:
            answer = reasons.get(r["id"], "")
        else:
            answer = "" if r["ok"] else r["answer"].replace("\n", " ").replace("|", "/")[:160]
        lines.append(f"| {r['id']} | {d['question']} | {' / '.join(d['expect'])} | {rank or '-'} | "
                     f"{'y' if rank == 1 else ('' if not d['answerable'] else 'n')} | "
                     f"{'y' if rank and rank <= 5 else ('' if not d['answerable'] else 'n')} | "
                     f"{'ok' if cat is None else cat} | {answer} |")
    (args.run / "breakdown.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
