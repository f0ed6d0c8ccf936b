"""`make train`: every learned part of the answerer, in order, each step resumable.

``python -m training [--from STEP] [--only STEP]``

1. ``ranking``: the sentence ranking (gradient-boosted trees over candidate features; ``training.ranking``), which
   orders the candidates the reader reads;
2. ``windows``: the reader's labelled windows from CMRC 2018, DRCD and the reports' training questions,
   made by the product's retrieval and that ranking (``training.reader_data``);
3. ``contrasts``: generated plan/achievement, indicator, place and follow-up contrasts (``training.contrasts``);
4. ``reader``: fine-tune the reader's top 4 layers (``training.reader``; checkpoints in var/train/reader, a
   second run resumes);
5. ``deepen``: continue from that run's last checkpoint with the top 6 layers trained (checkpoints in
   var/train/reader6): the reader that ships (``assistant/reader/reader.json`` records ``started_from``);
6. ``decision``: fit the calibrated decision and its threshold on validation questions (``training.decision``).

About 2.5 hours on 2 cores (the two reader runs about an hour each).  A step whose output exists is skipped
unless it is named by ``--from``/``--only`` (then it and, with ``--from``, the steps after it run again).
Seeds are fixed throughout.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from training import contrasts, decision, reader, reader_data

STEPS = ("ranking", "windows", "contrasts", "reader", "deepen", "decision")
_DONE = Path("var/train/.done")


def _ranking() -> None:
    from training import ranking as train

    train.main(["--report", "var/train/ranking.json"])


def _deepen() -> None:
    last = max(reader.WORK.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    reader.main(["--layers", "6", "--epochs", "1.5", "--learning-rate", "2e-4", "--work", f"{reader.WORK}6",
                 "--init", str(last)])


ACTIONS: dict[str, tuple[Callable[[], object], Path | None]] = {
    "ranking": (_ranking, _DONE / "ranking"),
    "windows": (lambda: reader_data.main([]), reader_data.OUT),
    "contrasts": (lambda: contrasts.main([]), contrasts.OUT),
    "reader": (lambda: reader.main([]), _DONE / "reader"),
    "deepen": (_deepen, _DONE / "deepen"),
    "decision": (lambda: decision.main([]), _DONE / "decision"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="start", choices=STEPS, help="run this step and every one after it again")
    parser.add_argument("--only", choices=STEPS, help="run this step only")
    args = parser.parse_args(argv)
    forced = {args.only} if args.only else set(STEPS[STEPS.index(args.start):]) if args.start else set()
    for step in STEPS:
        if args.only and step != args.only:
            continue
        action, output = ACTIONS[step]
        if step not in forced and output is not None and output.exists():
            print(f"[training] {step}: done already ({output}); --from {step} to run it again", file=sys.stderr)
            continue
        started = time.perf_counter()
        print(f"[training] {step} ...", file=sys.stderr, flush=True)
        action()
        if output is not None and output.parent == _DONE:
            _DONE.mkdir(parents=True, exist_ok=True)
            output.touch()
        print(f"[training] {step}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
