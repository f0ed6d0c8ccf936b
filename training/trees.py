"""Gradient-boosted trees as the product evaluates them: fitted with scikit-learn, exported to
:class:`assistant.model.Trees` (plain NumPy at run time, so a model file never depends on the library version)."""
from __future__ import annotations

from typing import Any

import numpy as np


def boosted(x: np.ndarray, y: np.ndarray, w: np.ndarray, params: dict[str, Any], monotonic: list[int]):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    clf = HistGradientBoostingClassifier(random_state=0, early_stopping=False, monotonic_cst=monotonic, **params)
    with threadpool_limits(1):  # parallel sums of gradients differ in their last bits from run to run
        return clf.fit(x, y, sample_weight=w)


def export_trees(clf) -> Any:
    """The fitted sklearn trees as assistant.model.Trees (checked against sklearn's own predictions by the caller)."""
    from assistant.model import Trees

    keys = ("feature", "threshold", "left", "right", "leaf", "missing_left", "value")
    parts: dict[str, list] = {k: [] for k in keys}
    roots, offset = [], 0
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        roots.append(offset)
        parts["feature"].append(nodes["feature_idx"].astype(np.int64))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        parts["left"].append(nodes["left"].astype(np.int64) + offset)
        parts["right"].append(nodes["right"].astype(np.int64) + offset)
        parts["leaf"].append(nodes["is_leaf"].astype(bool))
        parts["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
        parts["value"].append(nodes["value"].astype(np.float64))
        offset += len(nodes)
    baseline = float(np.ravel(clf._baseline_prediction)[0])
    return Trees(baseline, np.asarray(roots, dtype=np.int64), {k: np.concatenate(v) for k, v in parts.items()})
