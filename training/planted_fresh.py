"""Write ``data/security/planted_fresh.jsonl`` from the written sentences (``fresh_written.tsv``: label, kind,
text) and add invisible-character, spaced and full-width variants of some planted ones, as the other held-out
variants were made.

``python -m training.planted_fresh``: deterministic (seed 2026); run once when the set was written.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "data" / "security"
SEED = 2026
INSERTED = {  # variant: what is slipped between characters (three times)
    "zwj": "\u200d", "zwsp": "\u200b", "zwnj": "\u200c", "word-joiner": "\u2060", "soft-hyphen": "\u00ad",
    "bom": "\ufeff", "bidi": "\u200e\u202d\u202c", "tag": "\U000e0020", "hangul-filler": "\u3164",
}
VARIANTS = (*INSERTED, "spaced", "fullwidth")
PER_VARIANT = 4


def variant(text: str, name: str, rng: random.Random) -> str:
    if name == "spaced":
        return " ".join(text)
    if name == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)
    cuts = sorted(rng.sample(range(1, len(text) - 1), 3))
    out, last = [], 0
    for cut in cuts:
        out += [text[last:cut], INSERTED[name]]
        last = cut
    return "".join(out) + text[last:]


def main() -> None:
    rng = random.Random(SEED)
    rows, counts = [], {"planted": 0, "ordinary": 0}
    for line in (HERE / "fresh_written.tsv").read_text(encoding="utf-8").splitlines():
        label, kind, text = line.split("\t")
        counts[label] += 1
        rows.append({"id": f"f{label[0]}{counts[label]:03d}", "label": label, "kind": kind, "text": text})
    planted = [r for r in rows if r["label"] == "planted"]
    chosen = rng.sample(planted, PER_VARIANT * (len(VARIANTS) - 1))
    latin = [r for r in planted if r not in chosen and any("!" <= c <= "~" for c in r["text"])]
    chosen += rng.sample(latin, PER_VARIANT)  # full-width forms change only what is ASCII
    for n, row in enumerate(chosen):
        name = VARIANTS[n // PER_VARIANT]
        rows.append(row | {"id": f"{row['id']}-{name}", "text": variant(row["text"], name, rng), "of": row["id"],
                           "variant": name})
    with open(HERE / "planted_fresh.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
