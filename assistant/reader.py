"""The neural reader: reads the question and the best candidate sentences together and says where the answer is,
or that it is not there.

A standard ``transformers`` extractive question-answering model (``BertForQuestionAnswering``) built on the
bundled multilingual-e5-small (``vectorstore/embedding/local_model.py``), its top layers and span head
fine-tuned by ``make train`` (``training/reader.py``) in the SQuAD 2.0 manner: a start and an end score per
token, and "no answer here" as the span on the first token.  Only what training changed ships with the
product (``assistant/reader/``: the fine-tuned layers and the head, int8); the rest is the bundled model.

One *window* is read per question: the question (with the previous one, for a follow-up) and the few best
candidate sentences, each group under its document's short heading, at most ``max_tokens`` tokens, in one
int8 forward pass on one core.  The same :func:`window` builds the training inputs, so the model is trained
on exactly what it reads at run time.
"""
from __future__ import annotations

import json
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.records import SECTION_SEP

READER_DIR = Path(__file__).with_name("reader")
DELTA_FILE = "reader.safetensors"
CONFIG_FILE = "reader.json"
MAX_TOKENS = 192  # question + context; one window costs ~45 ms on one core, int8
QUESTION_TOKENS = 48  # the question side (current question first, then the previous one) is cut to this
MAX_ANSWER_TOKENS = 40  # longest span considered
HEADER_CHARS = 14  # a group's heading is cut to this many characters
FOLLOW_UP_MARK = " 上一问:"


@dataclass(frozen=True)
class Sentence:
    """One sentence offered to the reader: its text, the heading of its document part, and who it belongs to."""

    text: str
    header: str = ""  # the document's title and section (:func:`header`); shown once per run of sentences sharing it
    key: int = -1  # the caller's index (a candidate number)
    position: tuple[int, int] = (0, 0)  # where it stands: (retrieval rank of its passage, offset in the document)
    source: str = ""  # its document's file name


def header(title: str, section: str, sep: str = SECTION_SEP) -> str:
    """A short heading for a sentence: its document's title and the last part of its section path."""
    last = section.split(sep)[-1].strip() if section else ""
    title = title.strip()
    if not last or last == title:
        return title[:HEADER_CHARS]
    return f"{title[: HEADER_CHARS // 2]}|{last[: HEADER_CHARS // 2]}"


@dataclass(frozen=True)
class Window:
    """What the reader reads: ``question`` against ``context``; ``spans[i]`` is where sentence ``keys[i]`` sits."""

    question: str
    context: str
    keys: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]  # character offsets of each sentence in ``context``

    def locate(self, start: int, end: int) -> tuple[int, int, int] | None:
        """(sentence index, start, end) of a context span, the offsets relative to that sentence's text."""
        for i, (a, b) in enumerate(self.spans):
            if a <= start and end <= b:
                return i, start - a, end - a
        return None


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one window."""

    span_score: float  # best span: start logit + end logit
    null_score: float  # "no answer here": the first token's start + end logits
    sentence: int  # index into the window's sentences of the best span (-1: none found)
    start: int  # offsets of the span within that sentence's text
    end: int
    text: str

    @property
    def margin(self) -> float:
        """How much more the best span is believed than "no answer" (SQuAD 2.0's decision score)."""
        return self.span_score - self.null_score


NO_READING = Reading(-1e4, 0.0, -1, 0, 0, "")


def question_side(question: str, previous: str | None = None) -> str:
    """The reader's question: the question as asked, then, for a follow-up, the question before it."""
    return f"{question}{FOLLOW_UP_MARK}{previous}" if previous else question


def window(question: str, sentences: Sequence[Sentence], count_tokens, max_tokens: int = MAX_TOKENS) -> Window:
    """The question and as many of ``sentences`` as fit in ``max_tokens`` (taken in the order given: best first; at
    least one), then set out in reading order (by ``position``), each run of one heading under that heading.

    ``count_tokens``: a function giving the token counts of a list of texts (the reader tokenizer's)."""
    budget = max_tokens - 4 - min(count_tokens([question])[0], QUESTION_TOKENS)
    heads = sorted({s.header for s in sentences if s.header})
    counts = count_tokens([s.text for s in sentences] + [f"【{h}】" for h in heads]) if sentences else []
    head_cost = dict(zip(heads, counts[len(sentences):], strict=True))
    chosen: list[Sentence] = []
    shown: set[str] = set()
    used = 0
    for s, n in zip(sentences, counts[: len(sentences)], strict=True):
        cost = n + 1 + (head_cost[s.header] if s.header and s.header not in shown else 0)  # +1: the space between
        if chosen and used + cost > budget:
            continue  # a shorter one further down may still fit
        chosen.append(s)
        shown.add(s.header)
        used += cost
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    cursor = 0
    last = None
    for s in sorted(chosen, key=lambda s: s.position):
        lead = f"【{s.header}】" if s.header and s.header != last else ""
        last = s.header
        parts.append(lead + s.text)
        spans.append((cursor + len(lead), cursor + len(lead) + len(s.text)))
        cursor += len(parts[-1]) + 1
    ordered = sorted(chosen, key=lambda s: s.position)
    return Window(question, " ".join(parts), tuple(s.key for s in ordered), tuple(spans))


@dataclass(frozen=True)
class ReaderInfo:
    """What ``reader.json`` records: the layers it replaces, how it was trained and what it scored."""

    layers: tuple[int, ...]
    max_tokens: int
    base: dict[str, Any]
    info: dict[str, Any]


class Reader:
    """The fine-tuned reader, loaded once per process (:func:`load_reader`); thread-safe, one core per window."""

    def __init__(self, model_dir: Path, reader_dir: Path = READER_DIR, quantize: bool = True) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import torch
        from transformers import AutoTokenizer, BertForQuestionAnswering
        from transformers.utils import logging as hf_logging

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        meta = json.loads((reader_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        self.info = ReaderInfo(tuple(meta["layers"]), int(meta["max_tokens"]), meta.get("base", {}), meta)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            verbosity = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()  # the base has no span head (the fine-tuned part brings it): not news
            try:
                model = BertForQuestionAnswering.from_pretrained(str(model_dir))
            finally:
                hf_logging.set_verbosity(verbosity)
        load_delta(model, reader_dir / DELTA_FILE)
        model.eval()
        self.model = quantized(model) if quantize else model
        self.max_tokens = self.info.max_tokens
        torch.set_num_threads(1)  # one window per core: several questions at once use every core
        # …and no more than one per core: twenty questions' forward passes at once on two cores thrash the caches
        # (20 clients on 2 cores: 10.0 answers/s unbounded, 13.5 bounded; docs/benchmarks.md section 11)
        self._slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        # A fast tokenizer keeps its truncation and padding settings in shared state that each call sets: a count
        # (no truncation) beside another question's encoding (only_second) failed with "Second sequence not
        # provided" under concurrent questions.  Tokenizing is short; one at a time.
        self._tokenizing = threading.Lock()

    def _tokenize(self, *args: Any, **kwargs: Any) -> Any:
        with self._tokenizing:
            return self.tokenizer(*args, **kwargs)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self._tokenize(texts, add_special_tokens=False)["input_ids"]]

    def window(self, question: str, sentences: Sequence[Sentence]) -> Window:
        return window(self.clip(question), sentences, self.count_tokens, self.max_tokens)

    def clip(self, question: str) -> str:
        """The question side cut to QUESTION_TOKENS tokens, so that the passage always keeps its room."""
        enc = self._tokenize(question, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        return question if len(offsets) <= QUESTION_TOKENS else question[: offsets[QUESTION_TOKENS - 1][1]]

    def encode(self, windows: Sequence[Window]) -> Any:  # a BatchEncoding (offsets and sequence ids per row)
        return self._tokenize(
            [w.question for w in windows], [w.context for w in windows],
            truncation="only_second", max_length=self.max_tokens, padding=True,
            return_offsets_mapping=True, return_tensors="np",
        )

    def read(self, windows: Sequence[Window]) -> list[Reading]:
        """One reading per window (one forward pass; a window of no sentences reads as no answer)."""
        todo = [i for i, w in enumerate(windows) if w.context]
        out = [NO_READING] * len(windows)
        if not todo:
            return out
        enc = self.encode([windows[i] for i in todo])
        torch = self.torch
        with self._slots, torch.inference_mode():
            logits = self.model(
                input_ids=torch.from_numpy(enc["input_ids"]), attention_mask=torch.from_numpy(enc["attention_mask"])
            )
        starts, ends = logits.start_logits.numpy(), logits.end_logits.numpy()
        for row, i in enumerate(todo):
            out[i] = best_span(windows[i], starts[row], ends[row], enc.sequence_ids(row), enc["offset_mapping"][row])
        return out


def _ffn_output(name: str) -> bool:
    return name.endswith(".output.dense") and ".attention." not in name


def quantized(model: Any) -> Any:
    """``model`` with int8 matrix products (weights per output channel, activations per tensor, dynamic), except
    the feed-forward output projections and the span head: the GELU outputs they read have outliers a per-tensor
    int8 scale crushes (validation AUC of answer against no answer 0.84 → 0.77 when they are int8 too).  They run
    in bfloat16 where the CPU has it (AVX512-BF16, AMX), else in float32."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    spec: dict[Any, Any] = {n: per_channel_dynamic_qconfig for n in names if not _ffn_output(n) and n != "qa_outputs"}
    with warnings.catch_warnings():  # eager-mode dynamic quantisation: deprecated, not gone, in torch 2.13
        warnings.simplefilter("ignore")
        model = quantize_dynamic(model, spec, dtype=torch.qint8)
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Linear) and _ffn_output(name):
                module.to(torch.bfloat16)
                module.forward = _bf16_forward(module)  # type: ignore[method-assign]
    return model


def _bf16_forward(module: Any):
    import torch.nn.functional as F

    def forward(x: Any) -> Any:
        return F.linear(x.to(module.weight.dtype), module.weight, module.bias).float()

    return forward


def best_span(win: Window, start_logits: np.ndarray, end_logits: np.ndarray, sequence_ids: list[int | None],
              offsets: np.ndarray, max_answer_tokens: int = MAX_ANSWER_TOKENS) -> Reading:
    """The best context span (end not before start, at most ``max_answer_tokens``, inside one sentence) against the
    null span on the first token."""
    context = np.array([sid == 1 for sid in sequence_ids])
    null = float(start_logits[0] + end_logits[0])
    if not context.any():
        return Reading(-1e4, null, -1, 0, 0, "")
    s = np.where(context, start_logits, -np.inf)
    e = np.where(context, end_logits, -np.inf)
    n = len(s)
    scores = s[:, None] + e[None, :]
    band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), k=max_answer_tokens)
    scores = np.where(band, scores, -np.inf)
    for _ in range(8):  # the best span that lies inside one sentence (not across a sentence boundary)
        flat = int(np.argmax(scores))
        i, j = divmod(flat, n)
        if not np.isfinite(scores[i, j]):
            break
        a, b = int(offsets[i][0]), int(offsets[j][1])
        where = win.locate(a, b)
        if where is not None and b > a:
            k, sa, sb = where
            text = win.context[a:b]
            return Reading(float(scores[i, j]), null, k, sa, sb, text)
        scores[i, j] = -np.inf
    return Reading(-1e4, null, -1, 0, 0, "")


def load_delta(model: Any, path: Path) -> None:
    """Put the fine-tuned tensors of ``path`` (int8 with a scale per output row, or float) into ``model``."""
    from safetensors.torch import load_file

    tensors = load_file(str(path))
    state = {}
    for name, value in tensors.items():
        if name.endswith(".q8"):
            base = name[: -len(".q8")]
            scale = tensors[base + ".scale"]
            state[base] = value.float() * scale.float()[:, None]
        elif not name.endswith(".scale"):
            state[name] = value.float()
    missing = [k for k in state if k not in model.state_dict()]
    if missing:
        raise ValueError(f"{path}: tensors the model does not have: {missing[:3]}")
    model.load_state_dict(state, strict=False)


_readers: dict[tuple[str, str], Reader] = {}
_readers_lock = threading.Lock()


def available(reader_dir: Path = READER_DIR) -> bool:
    return (reader_dir / DELTA_FILE).exists() and (reader_dir / CONFIG_FILE).exists()


def load_reader(model_dir: Path, reader_dir: Path = READER_DIR) -> Reader:
    """The process's reader for this base model folder and fine-tuned part (loaded once, about 3 s)."""
    key = (str(model_dir), str(reader_dir))
    with _readers_lock:
        if key not in _readers:
            _readers[key] = Reader(model_dir, reader_dir)
        return _readers[key]
