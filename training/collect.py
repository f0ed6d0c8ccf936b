"""Candidate features of every question of a set, as the product computes them, with their labels.

Used by ``training.ranking`` (``make train``): each question goes through the product's own
steps (``Assistant.retrieve_chain`` then ``ExtractiveAnswerer.table``), so the model is fitted
on exactly the rows it will score at run time.  A candidate is positive when it holds a gold
answer and comes from the gold paragraph (any file, for the reports, which overlap).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.generalise import index_settings, load_set
from training.sets import REPORT_SETS, Item, swapped


@dataclass
class Collected:
    """One question: its item, what the product saw, and which candidates hold the answer."""

    item: Item
    set_name: str
    table: Any  # assistant.features.CandidateTable
    labels: np.ndarray  # 1.0 where the candidate holds a gold answer


def label(item: Item, set_name: str, sources: list[str], texts: list[str]) -> np.ndarray:
    if not item.answerable or not item.answers:
        return np.zeros(len(texts))
    same_source = set_name in REPORT_SETS
    return np.array(
        [
            float((same_source or s == item.source) and any(a in t for a in item.answers))
            for s, t in zip(sources, texts, strict=True)
        ]
    )


def collect(set_name: str, work: Path, splits: tuple[str, ...] = ("train", "val", "test"),
            pool: dict[str, list[str]] | None = None) -> list[Collected]:
    """``pool``: names to make near misses with (training.sets.swapped), for the train and val splits."""
    from assistant.service import Assistant

    qa = load_set(set_name)
    assistant = Assistant(index_settings(qa, work))
    assistant.warm_up()
    out = []
    started = time.perf_counter()
    items = [i for i in qa.items + (swapped(qa, pool) if pool else []) if i.split in splits]
    for n, item in enumerate(items, 1):
        turn, evidence = assistant.evidence_for(item.question, list(item.history) or None)
        table = assistant.answerer.table(turn.analysed, evidence.chunks, turn.view)
        texts = [c.text for c in table.candidates]
        out.append(
            Collected(
                item, set_name, table, label(item, set_name, [c.chunk.source for c in table.candidates], texts)
            )
        )
        if n % 500 == 0:
            print(
                f"{set_name}: {n}/{len(items)} questions, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return out
