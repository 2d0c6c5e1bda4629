"""Classification metrics (scikit-learn), in the shape ``evaluate --format json`` prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def f1_pn_labels(labels: Sequence[str]) -> tuple[str, str] | None:
    """The (positive, negative) label names, matched case-insensitively, if both exist."""
    by_lower = {label.lower(): label for label in labels}
    for pos, neg in (("positive", "negative"), ("pos", "neg")):
        if pos in by_lower and neg in by_lower:
            return by_lower[pos], by_lower[neg]
    return None


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """accuracy, macro precision/recall/F1, f1_pn, per-class scores and the confusion
    matrix, over ``labels`` in that order."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
    )

    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    macro = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average="macro", zero_division=0
    )
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    pn = f1_pn_labels(labels)
    f1_pn = None
    if pn is not None:
        f1_pn = float(np.mean([per_class[pn[0]]["f1"], per_class[pn[1]]["f1"]]))
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_precision": float(macro[0]),
        "macro_recall": float(macro[1]),
        "macro_f1": float(macro[2]),
        "f1_pn": f1_pn,
        "per_class": per_class,
        "confusion_matrix": {"labels": labels, "matrix": matrix.tolist()},
    }
