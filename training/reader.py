"""Fine-tune the neural reader (``assistant/reader.py``) and ship what changed.

``python -m training.reader [--layers 4] [--epochs 2] [--work var/train/reader]`` (``make train`` runs it after
``training.reader_data`` and ``training.contrasts``):

1. The labelled windows of the train split (CMRC 2018, DRCD, the reports' training questions, and the
   generated contrasts) are tokenized as the reader reads them (question, context; at most
   ``MAX_TOKENS``); an answer is a token span, "no answer" the first token (SQuAD 2.0).  A window whose
   answer the cut-off drops is left out.
2. ``BertForQuestionAnswering`` is built from the local model folder (the bundled weights), everything below
   the top ``--layers`` layers frozen, and trained with ``transformers``' ``Trainer``: fixed seed, checkpoints
   every ``SAVE_STEPS`` steps in ``--work`` (a second run resumes from the last one), a progress bar.
3. The fine-tuned layers and the span head are written to ``assistant/reader/reader.safetensors``: matrices as
   int8 with one scale per output row, vectors as float16 (a few MB); ``reader.json`` records the layers, the
   window size, the base model and the validation figures.  Nothing else ships: the rest is the bundled model.

Validation (never trained on) gives exact match and F1 of the spans and the share of "no answer" windows
read as such; the test split is not read here.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.reader import CONFIG_FILE, DELTA_FILE, MAX_TOKENS, READER_DIR, Window, best_span
from training.reader_data import OUT as WINDOWS
from training.reader_data import Example, read_examples

WORK = Path("var/train/reader")
CONTRASTS = Path("var/train/contrasts.jsonl")
SEED = 42
SAVE_STEPS = 200
REPORT_REPEAT = 3  # the reports' own questions are few: each is seen this many times per epoch
REPLAY_SHARE = 0.25  # with --focus: this share of the windows outside the hard kinds is read again


@dataclass(frozen=True)
class Hyper:
    layers: int = 4
    epochs: float = 2.0
    batch: int = 16
    learning_rate: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01


def encode(tokenizer: Any, examples: list[Example], max_tokens: int = MAX_TOKENS) -> tuple[list[dict], list[int]]:
    """Token features with start/end positions; and the indices of the examples kept (answer not cut off)."""
    enc = tokenizer([e.question for e in examples], [e.context for e in examples], truncation="only_second",
                    max_length=max_tokens, return_offsets_mapping=True)
    feats, kept = [], []
    for i, ex in enumerate(examples):
        seq = enc.sequence_ids(i)
        offsets = enc["offset_mapping"][i]
        start_tok = end_tok = 0
        if ex.answerable:
            a, b = ex.start, ex.start + len(ex.answer)
            inside = [t for t, sid in enumerate(seq) if sid == 1 and offsets[t][0] < b and offsets[t][1] > a]
            if not inside or offsets[inside[-1]][1] < b:
                continue
            start_tok, end_tok = inside[0], inside[-1]
        feats.append({"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
                      "start_positions": start_tok, "end_positions": end_tok})
        kept.append(i)
    return feats, kept


def load_split(split: str, windows: Path = WINDOWS, contrasts: Path = CONTRASTS) -> list[Example]:
    rows = [e for e in read_examples(windows) if e.split == split]
    if contrasts.exists():
        rows += [e for e in read_examples(contrasts) if e.split == split]
    if split == "train":
        rows += [e for e in rows if e.set in ("gold", "reports_train")] * (REPORT_REPEAT - 1)
    return rows


def focused(rows: list[Example]) -> list[Example]:
    """The windows a focused continuation reads: every one the reader misreads most (the generated contrasts, the
    reports' own questions, the attribute near misses) and a stable ``REPLAY_SHARE`` of the rest, so what it
    reads well is kept."""
    from training.sets import bucket

    def hard(e: Example) -> bool:
        return e.set in ("contrasts", "gold", "reports_train") or e.kind == "attribute"

    return [e for e in rows if hard(e) or bucket(f"replay:{e.id}") < REPLAY_SHARE * 100]


def build_model(model_dir: Path, layers: int, init: Path | None = None):
    """The reader to train: the bundled model (or the checkpoint ``init`` of an earlier run), everything below the
    top ``layers`` layers frozen."""
    from transformers import BertForQuestionAnswering

    model = BertForQuestionAnswering.from_pretrained(str(init or model_dir))
    total = model.config.num_hidden_layers
    trained = list(range(total - layers, total))
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith("qa_outputs") or any(
            name.startswith(f"bert.encoder.layer.{i}.") for i in trained
        )
    return model, trained


def trained_tensors(model: Any, trained: list[int]) -> dict[str, Any]:
    """The int8/float16 tensors of what training changed (see the module docstring)."""
    import torch

    out: dict[str, Any] = {}
    for name, value in model.state_dict().items():
        if not (name.startswith("qa_outputs") or any(name.startswith(f"bert.encoder.layer.{i}.") for i in trained)):
            continue
        value = value.detach().float()
        if value.ndim == 2 and value.shape[0] > 2:  # matrices: int8, a scale per output row
            scale = value.abs().amax(dim=1).clamp(min=1e-8) / 127.0
            out[name + ".q8"] = torch.round(value / scale[:, None]).to(torch.int8)
            out[name + ".scale"] = scale.to(torch.float32)
        else:
            out[name] = value.to(torch.float16) if value.ndim == 1 else value
    return out


def evaluate(model: Any, tokenizer: Any, examples: list[Example], batch: int = 32) -> dict[str, Any]:
    """Exact match and F1 (characters) of the best span on answerable windows; no-answer decisions at margin 0."""
    import torch

    model.eval()
    margins, right, f1s, labels = [], [], [], []
    for i in range(0, len(examples), batch):
        part = examples[i : i + batch]
        enc = tokenizer([e.question for e in part], [e.context for e in part], truncation="only_second",
                        max_length=MAX_TOKENS, padding=True, return_offsets_mapping=True, return_tensors="np")
        with torch.inference_mode():
            out = model(input_ids=torch.from_numpy(enc["input_ids"]),
                        attention_mask=torch.from_numpy(enc["attention_mask"]))
        for j, ex in enumerate(part):
            win = Window(ex.question, ex.context, (0,), ((0, len(ex.context)),))
            r = best_span(win, out.start_logits[j].numpy(), out.end_logits[j].numpy(), enc.sequence_ids(j),
                          enc["offset_mapping"][j])
            margins.append(r.margin)
            labels.append(ex.answerable)
            if ex.answerable:
                right.append(r.text == ex.answer)
                f1s.append(char_f1(r.text, ex.answer))
    m, y = np.array(margins), np.array(labels)
    return {
        "answer_vs_none_auc": auc(m, y),
        "windows": len(examples), "answerable": int(y.sum()),
        "exact_match": round(float(np.mean(right)), 4) if right else None,
        "f1": round(float(np.mean(f1s)), 4) if f1s else None,
        "answerable_read_as_none": round(float((m[y] < 0).mean()), 4) if y.any() else None,
        "none_read_as_none": round(float((m[~y] < 0).mean()), 4) if (~y).any() else None,
    }


def auc(margins: np.ndarray, answerable: np.ndarray) -> float | None:
    """How well the margin tells windows that answer from those that do not (None: only one kind)."""
    y = answerable.astype(bool)
    if not (y.any() and (~y).any()):
        return None
    ranks = np.argsort(np.argsort(margins)) + 1
    return round(float((ranks[y].sum() - y.sum() * (y.sum() + 1) / 2) / (y.sum() * (~y).sum())), 4)


def char_f1(pred: str, gold: str) -> float:
    """F1 over characters, as CMRC 2018's evaluation counts Chinese."""
    if not pred or not gold:
        return float(pred == gold)
    common = sum(min(pred.count(c), gold.count(c)) for c in set(pred))
    if not common:
        return 0.0
    p, r = common / len(pred), common / len(gold)
    return 2 * p * r / (p + r)


class _Rows:
    def __init__(self, rows: list[dict]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]


def train(hyper: Hyper, work: Path, out: Path, model_dir: Path, init: Path | None = None,
          focus: bool = False) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer, DataCollatorWithPadding, Trainer, TrainingArguments, set_seed
    from transformers.trainer_utils import get_last_checkpoint

    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    set_seed(SEED)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    train_rows, val_rows = load_split("train"), load_split("val")
    if focus:
        train_rows = focused(train_rows)
    feats, kept = encode(tokenizer, train_rows)
    print(f"train windows {len(train_rows)} (kept {len(kept)}), val {len(val_rows)}", file=sys.stderr, flush=True)
    model, trained = build_model(model_dir, hyper.layers, init)
    args = TrainingArguments(
        output_dir=str(work), per_device_train_batch_size=hyper.batch, num_train_epochs=hyper.epochs,
        learning_rate=hyper.learning_rate, weight_decay=hyper.weight_decay,
        warmup_steps=hyper.warmup,  # a float below 1 is a share of the steps
        lr_scheduler_type="linear", logging_steps=25, save_steps=SAVE_STEPS, save_total_limit=2, seed=SEED,
        data_seed=SEED, use_cpu=True, report_to=[], train_sampling_strategy="group_by_length", dataloader_num_workers=0,
        disable_tqdm=False, save_only_model=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=_Rows(feats),
                      data_collator=DataCollatorWithPadding(tokenizer))
    started = time.perf_counter()
    last = get_last_checkpoint(str(work)) if work.exists() else None
    trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - started
    validation = evaluate(model, tokenizer, val_rows)
    by_set = {s: evaluate(model, tokenizer, [e for e in val_rows if e.set == s])
              for s in sorted({e.set for e in val_rows})}
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file(trained_tensors(model, trained), str(out / DELTA_FILE))
    from vectorstore.embedding.local_model import fingerprint

    meta = {
        "layers": trained, "max_tokens": MAX_TOKENS, "base": {"folder": model_dir.name,
                                                              "fingerprint": fingerprint(model_dir)},
        "hyper": hyper.__dict__, "seed": SEED, "started_from": str(init) if init else "the bundled model",
        "focus": {"replay_share": REPLAY_SHARE} if focus else None,
        "train_windows": len(kept), "seconds": round(seconds, 1),
        "validation": validation, "validation_by_set": by_set, "command": "make train",
    }
    (out / CONFIG_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return meta


def evaluate_shipped(split: str, quantize: bool) -> dict[str, Any]:
    """The shipped reader (as the product loads it: the bundled model, the fine-tuned part, int8 or not) on the
    windows of ``split``, per set."""
    from assistant.reader import Reader
    from vectorstore.embedding.local_model import ensure

    shipped = Reader(ensure(), quantize=quantize)
    rows = [e for e in read_examples(WINDOWS) if e.split == split]
    if CONTRASTS.exists():
        rows += [e for e in read_examples(CONTRASTS) if e.split == split]
    sets = sorted({e.set for e in rows})
    out = {"all": evaluate(shipped.model, shipped.tokenizer, rows)}
    out |= {s: evaluate(shipped.model, shipped.tokenizer, [e for e in rows if e.set == s]) for s in sets}
    kinds = sorted({e.kind for e in rows})
    out |= {f"kind:{k}": evaluate(shipped.model, shipped.tokenizer, [e for e in rows if e.kind == k]) for k in kinds}
    return out


def main(argv: list[str] | None = None) -> int:
    from vectorstore.embedding.local_model import ensure

    parser = argparse.ArgumentParser(prog="python -m training.reader", description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=Hyper.layers, help="top layers fine-tuned")
    parser.add_argument("--epochs", type=float, default=Hyper.epochs)
    parser.add_argument("--batch", type=int, default=Hyper.batch)
    parser.add_argument("--learning-rate", type=float, default=Hyper.learning_rate)
    parser.add_argument("--work", type=Path, default=WORK, help="checkpoints (a second run resumes)")
    parser.add_argument("--init", type=Path, help="start from this checkpoint of an earlier run (default: the bundled "
                        "model)")
    parser.add_argument("--out", type=Path, default=READER_DIR)
    parser.add_argument("--focus", action="store_true", help="train on the hard kinds of windows and a replay share "
                        "of the rest (a continuation of an earlier run, with --init)")
    parser.add_argument("--evaluate", choices=("val", "test"), help="measure the shipped reader on that split's "
                        "windows instead of training (the test split only ever here)")
    parser.add_argument("--float", action="store_true", help="with --evaluate: the float32 reader, not int8")
    args = parser.parse_args(argv)
    if args.evaluate:
        print(json.dumps(evaluate_shipped(args.evaluate, not args.float), ensure_ascii=False, indent=1))
        return 0
    hyper = Hyper(args.layers, args.epochs, args.batch, args.learning_rate)
    meta = train(hyper, args.work, args.out, ensure(), args.init, args.focus)
    print(json.dumps(meta["validation"], ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
