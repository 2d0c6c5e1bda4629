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


ECE_BINS = 15  # equal-width confidence bins, as in Guo et al. (2017)


def _graded(y_true: Sequence[str], probs: np.ndarray, labels: Sequence[str]):
    """(class ids, probabilities, top probability, whether the top label is right)."""
    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index[label] for label in y_true], dtype=int)
    probs = np.asarray(probs, dtype=np.float64).reshape(len(y), len(labels))
    return y, probs, probs.max(axis=1), probs.argmax(axis=1) == y


def brier_rows(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row's Brier score: the squared distance of its probabilities to its one-hot
    class id ``y``."""
    truth = np.zeros_like(probs)
    truth[np.arange(len(y)), y] = 1.0
    return ((probs - truth) ** 2).sum(axis=1)


def reliability(
    y_true: Sequence[str], probs: np.ndarray, labels: Sequence[str]
) -> list[dict[str, float]]:
    """The reliability diagram's bins: for each non-empty confidence bin, its range, row
    count, mean confidence and accuracy."""
    _, _, confidence, correct = _graded(y_true, probs, labels)
    bins = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    return [
        {
            "low": b / ECE_BINS,
            "high": (b + 1) / ECE_BINS,
            "n": int((bins == b).sum()),
            "confidence": float(confidence[bins == b].mean()),
            "accuracy": float(correct[bins == b].mean()),
        }
        for b in np.unique(bins)
    ]


def probability_metrics(
    y_true: Sequence[str], probs: np.ndarray, labels: Sequence[str]
) -> dict[str, float | None]:
    """How far the probabilities can be trusted: ``ece`` (expected calibration error of
    the top probability over ``ECE_BINS`` bins: the gap between confidence and accuracy
    in each bin, weighted by its rows), ``brier`` (squared distance to the one-hot truth,
    summed over classes), ``log_loss`` and ``mean_confidence``; means over the rows."""
    y, probs, confidence, _ = _graded(y_true, probs, labels)
    if len(y) == 0:
        return {"ece": None, "brier": None, "log_loss": None, "mean_confidence": None}
    bins = reliability(y_true, probs, labels)
    return {
        "ece": float(sum(b["n"] * abs(b["confidence"] - b["accuracy"]) for b in bins) / len(y)),
        "brier": float(brier_rows(probs, y).mean()),
        "log_loss": float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-15, 1.0)).mean()),
        "mean_confidence": float(confidence.mean()),
    }


COVERAGE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20))  # 0.0 .. 0.95


def abstention(
    y_true: Sequence[str], probs: np.ndarray, labels: Sequence[str], min_confidence: float
) -> dict[str, Any]:
    """Answering only where the top probability is at least ``min_confidence``: how many
    rows are answered, their share (coverage) and accuracy, next to all rows' accuracy."""
    y, _, confidence, correct = _graded(y_true, probs, labels)
    answered = confidence >= min_confidence
    return {
        "min_confidence": float(min_confidence),
        "answered": int(answered.sum()),
        "abstained": int((~answered).sum()),
        "coverage": float(answered.mean()) if len(y) else None,
        "accuracy_answered": float(correct[answered].mean()) if answered.any() else None,
        "accuracy_all": float(correct.mean()) if len(y) else None,
    }


def coverage_curve(
    y_true: Sequence[str], probs: np.ndarray, labels: Sequence[str]
) -> list[dict[str, Any]]:
    """``abstention`` at every threshold of ``COVERAGE_THRESHOLDS``: the accuracy a
    user buys by answering fewer rows."""
    return [abstention(y_true, probs, labels, t) for t in COVERAGE_THRESHOLDS]
