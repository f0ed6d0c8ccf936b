"""Training windows for the neural reader, made by the product's own retrieval and candidate ranking.

``python -m training.reader_data [--sets cmrc,drcd,gold,reports_train] [--out var/train/reader_windows.jsonl]``

Every question of a set goes through the product (``Assistant.evidence_for`` then the answerer's candidate
table and sentence scorer); its best candidate sentences become one reader window
(:func:`assistant.reader.window`, exactly what the reader reads at run time).  Each window is labelled
with where a gold answer sits in it, or with "no answer here".  Besides that main window, each question
gives (chosen by a stable hash, so runs agree):

* ``removed``: the same window without the sentences that hold a gold answer: a passage on the right
  subject that does not say what is asked (a held-out-sentence near miss);
* ``attribute``: another question of the same paragraph, whose answers the window lacks, asked of this
  window: the same sentences, another attribute asked (樱桃沟's ticket price asked of its location);
* ``history``: the question with an unrelated earlier question of the same article before it (a topic
  switch: the reader must read the question asked, not the one before).

Questions the sets mark unanswerable (held-out paragraphs, off-article questions, the reports' near misses)
give their main window only, labelled "no answer".  The splits are the sets' own (by article); test is
written too, for measuring, and never trained on (``training.reader`` reads train and val only).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.extractive import ranked_sentences
from assistant.reader import Sentence, Window, question_side, window
from training.generalise import DEFAULT_WORK, index_settings, load_set
from training.sets import REPORT_SETS, Item, bucket

OUT = Path("var/train/reader_windows.jsonl")
REMOVED_EVERY = 2  # one answerable question in this many also gives a window without its answer
ATTRIBUTE_EVERY = 1  # …and this share gives another question of its paragraph asked of its window
HISTORY_EVERY = 6  # …and one in this many is asked after an unrelated question of its article


@dataclass(frozen=True)
class Example:
    """One labelled reader window: ``context[start:start + len(answer)] == answer``, or no answer (start -1)."""

    id: str
    set: str
    split: str
    kind: str  # main | removed | attribute | history | contrast (generated, training.contrasts)
    question: str  # the reader's question side (with the previous question for a follow-up)
    context: str
    answer: str
    start: int

    @property
    def answerable(self) -> bool:
        return self.start >= 0


def label(win: Window, sentences: list[Sentence], answers: tuple[str, ...], allowed: set[int]) -> tuple[str, int]:
    """(answer, context offset) of the first gold answer in the best-ranked allowed sentence, else ("", -1)."""
    by_key = {s.key: s for s in sentences}
    for rank_key in [s.key for s in sentences]:  # best first
        if rank_key not in win.keys or rank_key not in allowed:
            continue
        k = win.keys.index(rank_key)
        text = by_key[rank_key].text
        hits = [(text.find(a), a) for a in answers if a and a in text]
        if hits:
            at, answer = min(hits)
            return answer, win.spans[k][0] + at
    return "", -1


class Builder:
    """Windows of one question set, read through one Assistant over that set's index."""

    def __init__(self, set_name: str, work: Path) -> None:
        from assistant.model import MODEL_PATH, load_model
        from assistant.reader import MAX_TOKENS
        from assistant.service import Assistant
        from vectorstore.embedding.local_model import ensure

        self.name = set_name
        self.qa = load_set(set_name)
        self.assistant = Assistant(index_settings(self.qa, work))
        # only the ranking is read here: the decision part of the file may be an older one's
        self.assistant.answerer.model = load_model(MODEL_PATH)
        self.assistant.warm_up()
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(ensure()))
        self.max_tokens = MAX_TOKENS
        self.by_source: dict[str, list[Item]] = defaultdict(list)
        self.by_article: dict[str, list[Item]] = defaultdict(list)
        for item in self.qa.items:
            self.by_source[item.source].append(item)
            self.by_article[_article(set_name, item)].append(item)

    def count(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]]

    def ranked(self, item: Item) -> list[Sentence]:
        """The item's candidate sentences, best first, as the product ranks them."""
        history = list(item.history) or None
        turn, evidence = self.assistant.evidence_for(item.question, history)
        answerer = self.assistant.answerer
        table = answerer.table(turn.analysed, evidence.chunks, turn.view)
        return ranked_sentences(table.candidates, answerer.model.sentence_probabilities(table.matrix))

    def examples(self, item: Item) -> Iterator[Example]:
        sentences = self.ranked(item)
        previous = _previous(item)
        q = question_side(item.question, previous)
        main = window(q, sentences, self.count, self.max_tokens)
        allowed = {s.key for s in sentences if self.name in REPORT_SETS or s.source == item.source}
        answer, start = label(main, sentences, item.answers, allowed) if item.answerable else ("", -1)
        yield self._example(item, "main", main, answer, start)
        if not item.answerable:
            return
        if bucket(f"removed:{item.qid}") % REMOVED_EVERY == 0:
            kept = [s for s in sentences if not any(a in s.text for a in item.answers)]
            if kept:
                yield self._example(item, "removed", window(q, kept, self.count, self.max_tokens), "", -1)
        if start >= 0 and self.name not in REPORT_SETS and bucket(f"attr:{item.qid}") % ATTRIBUTE_EVERY == 0:
            other = self._other_question(item, main.context)
            if other is not None:
                asked = window(other.question, sentences, self.count, self.max_tokens)
                if not any(a in asked.context for a in other.answers):
                    yield self._example(other, "attribute", asked, "", -1, suffix=f"@{item.qid}")
        if self.name not in REPORT_SETS and not previous and bucket(f"hist:{item.qid}") % HISTORY_EVERY == 0:
            before = self._unrelated(item)
            if before is not None:
                hq = question_side(item.question, before.question)
                win = window(hq, sentences, self.count, self.max_tokens)
                a, s = label(win, sentences, item.answers, allowed)
                yield self._example(item, "history", win, a, s)

    def _example(self, item: Item, kind: str, win: Window, answer: str, start: int, suffix: str = "") -> Example:
        return Example(f"{self.name}:{item.qid}{suffix}:{kind}", self.name, item.split, kind, win.question,
                       win.context, answer, start)

    def _other_question(self, item: Item, context: str) -> Item | None:
        """A question of the same paragraph whose answers ``context`` lacks."""
        others = [o for o in self.by_source[item.source]
                  if o.qid != item.qid and o.answerable and not any(a in context for a in o.answers)]
        return others[bucket(f"pick:{item.qid}") % len(others)] if others else None

    def _unrelated(self, item: Item) -> Item | None:
        """An earlier question of the same article about another paragraph (or another fact of this one)."""
        others = [o for o in self.by_article[_article(self.name, item)]
                  if o.qid != item.qid and not set(o.answers) & set(item.answers)]
        return others[bucket(f"before:{item.qid}") % len(others)] if others else None


def _article(set_name: str, item: Item) -> str:
    return item.source.rsplit("-", 1)[0] if set_name == "drcd" else item.source


def _previous(item: Item) -> str | None:
    users = [m["content"] for m in item.history if m.get("role") == "user"]
    return users[-1] if users else None


def build(sets: list[str], work: Path, out: Path) -> dict[str, Any]:
    out.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    started = time.perf_counter()
    with open(out, "w", encoding="utf-8") as f:
        for name in sets:
            builder = Builder(name, work)
            items = builder.qa.items
            for n, item in enumerate(items, 1):
                for ex in builder.examples(item):
                    f.write(json.dumps(asdict(ex), ensure_ascii=False) + "\n")
                    counts[f"{name}/{ex.split}"][f"{ex.kind}/{'answer' if ex.answerable else 'none'}"] += 1
                if n % 500 == 0:
                    print(f"{name}: {n}/{len(items)} questions, {time.perf_counter() - started:.0f} s",
                          file=sys.stderr, flush=True)
    return {k: dict(v) for k, v in counts.items()}


def read_examples(path: Path = OUT) -> list[Example]:
    with open(path, encoding="utf-8") as f:
        return [Example(**json.loads(line)) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.reader_data", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="cmrc,drcd,gold,reports_train")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    counts = build([s for s in args.sets.split(",") if s], args.work, args.out)
    print(json.dumps(counts, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
