"""Reliability diagram: the answer model's confidence against how often answers at that confidence are right."""
from __future__ import annotations

from pathlib import Path
from typing import Any

BINS = 10


def bins(confidences: list[float], right: list[bool], n: int = BINS) -> list[dict[str, float]]:
    out = []
    for b in range(n):
        lo, hi = b / n, (b + 1) / n
        idx = [i for i, c in enumerate(confidences) if lo <= c < hi or (b == n - 1 and c == 1.0)]
        if idx:
            out.append({"from": lo, "to": hi, "n": len(idx), "confidence": sum(confidences[i] for i in idx) / len(idx),
                        "accuracy": sum(right[i] for i in idx) / len(idx)})
    return out


def plot(series: dict[str, tuple[list[float], list[bool]]], out: Path, title: str) -> Path:
    """One line per named set of (confidence, right) pairs, with the diagonal of perfect calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfectly calibrated")
    for (name, (conf, right)), marker in zip(series.items(), "osD^v", strict=False):
        points: list[dict[str, Any]] = bins(conf, right)
        ax.plot(
            [p["confidence"] for p in points],
            [p["accuracy"] for p in points],
            marker=marker,
            label=f"{name} (n={len(conf)})",
        )
        hist.hist(conf, bins=BINS, range=(0, 1), alpha=0.5, label=name)
    ax.set_ylabel("share of answers that are right")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    hist.set_xlabel("confidence")
    hist.set_ylabel("questions")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
