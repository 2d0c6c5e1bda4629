"""Score a model folder (and its bag-of-words baseline) on a labelled CSV."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.readers import LabelledData, read_labelled
from sentiment_cli.metrics import abstention, classification_metrics, probability_metrics
from sentiment_cli.models.keras_runtime import open_model
from sentiment_cli.resources import probes_file
from sentiment_cli.runtime import bow, seen
from sentiment_cli.runtime.model_folder import ModelDir, check_model_dir, read_baseline
from sentiment_cli.runtime.predict import baseline_part, predict_ids, predict_proba
from sentiment_cli.text.tokenizer import tokenize_all

PROBES = probes_file()  # data/probes/probes.csv, shipped with the package


def encoder_read(bundle: ModelDir) -> np.ndarray | None:
    """The fingerprints of the tweets the model's encoder (``model.encoder``) was
    trained on: a model has read them too, labels and all where its corpus had them.
    None where the model started from no encoder, or its folder is not found here or
    keeps none."""
    from sentiment_cli.models.encoder import fingerprints

    model = bundle.config.model
    if not model.encoder or model.embeddings_file:
        return None
    try:
        return fingerprints(model.encoder)
    except SentimentError:  # a user's encoder moved or damaged: nothing to say
        return None


def _union(parts: list[np.ndarray | None]) -> np.ndarray | None:
    return None if any(p is None for p in parts) else np.concatenate(parts)


@dataclass
class Evaluation:
    metrics: dict[str, Any]  # what `evaluate --format json` prints
    bundle: ModelDir
    data: LabelledData
    predicted: list[str]
    probabilities: np.ndarray  # (n, n_labels), columns follow bundle.labels


def score(
    model_dir: str | Path,
    data_path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    category_column: str = "category",
    runtime: str = "numpy",
    min_confidence: float | None = None,
) -> Evaluation:
    """Score the model and its baseline: labels, and how far the probabilities can be
    trusted (ECE, Brier score, log-loss). A ``category_column`` in the CSV (the probe
    suite has one) adds accuracy per category under ``categories``; ``min_confidence``
    adds what answering only the rows at least that confident gives, under
    ``abstention``."""
    # Both inputs are checked before the model loads.
    check_model_dir(Path(model_dir))
    data = read_labelled(data_path, text_column, label_column, category_column)
    bundle = open_model(model_dir, runtime=runtime)
    unknown = sorted(set(data.labels) - set(bundle.labels))
    if unknown:
        raise SentimentError(
            f"{data_path}: label(s) {', '.join(map(repr, unknown))} in column {label_column!r} "
            f"are not known to the model (it knows {', '.join(map(repr, bundle.labels))})"
        )
    tokens = tokenize_all(data.texts, bundle.config.text)
    encoded = bundle.vocab.encode_tokens(tokens, bundle.config.text)
    probs = predict_ids(bundle, encoded.ids, baseline_part(bundle, tokens))
    predicted = [bundle.labels[i] for i in probs.argmax(axis=1)]
    metrics = graded(data.labels, predicted, probs, bundle.labels)
    metrics["truncated"] = encoded.truncated
    metrics["rows_dropped"] = data.dropped
    trained_on = seen.read(bundle.path, bundle.manifest)  # None: the folder keeps none
    (metrics["copies_of_training_rows"], metrics["copies_of_rows_the_encoder_read"]) = seen.counts(
        data.texts, trained_on, encoder_read(bundle)
    )
    metrics["model_dir"] = str(model_dir)
    metrics["data"] = str(data_path)

    metrics["baseline"] = None
    base_pred = None
    baseline = stored_baseline(bundle)
    if baseline is not None:
        base_probs = baseline.aligned(tokens, bundle.labels)
        base_pred = [bundle.labels[i] for i in base_probs.argmax(axis=1)]
        metrics["baseline"] = graded(data.labels, base_pred, base_probs, bundle.labels)
    if data.categories is not None:
        metrics["categories"] = category_accuracy(data, predicted, base_pred)
    evaluation = Evaluation(metrics, bundle, data, predicted, probs)
    return abstaining(evaluation, min_confidence)


def stored_baseline(bundle: ModelDir):
    """The folder's bag-of-words baseline (its files checked against the manifest
    first), or None where it has none."""
    if bundle.bow is not None and bundle.blend.bag == bow.BASELINE:
        return bundle.bow
    if not os.path.lexists(bundle.path / bow.JSON_FILE):
        return None
    if bundle.format_version >= 3:
        return read_baseline(bundle.path, bundle.manifest, bundle.labels)
    return bow.BagOfWords.load(bundle.path)


def graded(truth: list[str], predicted: list[str], probs, labels: list[str]) -> dict[str, Any]:
    """The metrics of the labels, and of the probabilities behind them."""
    return {
        **classification_metrics(truth, predicted, labels),
        **probability_metrics(truth, probs, labels),
    }


def abstaining(evaluation: Evaluation, min_confidence: float | None) -> Evaluation:
    """``evaluation`` with ``abstention`` in its metrics (coverage and the accuracy of
    the rows answered at ``min_confidence``); unchanged without one."""
    if min_confidence is not None:
        truth, labels = evaluation.data.labels, evaluation.bundle.labels
        evaluation.metrics["abstention"] = abstention(
            truth, evaluation.probabilities, labels, min_confidence
        )
    return evaluation


def category_accuracy(
    data: LabelledData, predicted: list[str], baseline: list[str] | None
) -> dict[str, dict[str, Any]]:
    """{category: {n, accuracy, baseline_accuracy}} in the order categories first occur."""
    rows: dict[str, dict[str, Any]] = {}
    for i, category in enumerate(data.categories or []):
        row = rows.setdefault(category, {"n": 0, "correct": 0, "baseline_correct": 0})
        row["n"] += 1
        row["correct"] += predicted[i] == data.labels[i]
        if baseline is not None:
            row["baseline_correct"] += baseline[i] == data.labels[i]
    return {
        category: {
            "n": row["n"],
            "accuracy": row["correct"] / row["n"],
            "baseline_accuracy": row["baseline_correct"] / row["n"] if baseline else None,
        }
        for category, row in rows.items()
    }


def probe_accuracy(model_dir: str | Path, probes_path: str | Path) -> dict[str, dict]:
    """Accuracy per probe category: {"model": {category: acc}, "baseline": {...}}."""
    categories = score(model_dir, probes_path).metrics["categories"]
    return {
        "model": {c: row["accuracy"] for c, row in categories.items()},
        "baseline": {c: row["baseline_accuracy"] for c, row in categories.items()},
    }


def score_ensemble(
    model_dirs: list[str | Path],
    data_path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    runtime: str = "numpy",
) -> Evaluation:
    """Average the probabilities of several models with the same labels (each model
    reads the text with its own vocabulary and config). The baseline shown is the
    first model's."""
    first = score(
        model_dirs[0],
        data_path,
        text_column=text_column,
        label_column=label_column,
        runtime=runtime,
    )
    labels = first.bundle.labels
    members = [first.probabilities]
    trained_on = [seen.read(first.bundle.path, first.bundle.manifest)]
    bundles = []
    for model_dir in model_dirs[1:]:
        bundle = open_model(model_dir, runtime=runtime)
        bundles.append(bundle)
        if bundle.labels != labels:
            raise SentimentError(
                f"--ensemble: {model_dir} predicts {bundle.labels}, {model_dirs[0]} predicts "
                f"{labels}; ensemble members need the same labels"
            )
        members.append(predict_proba(bundle, first.data.texts))
        trained_on.append(seen.read(bundle.path, bundle.manifest))
    probs = np.mean(members, axis=0)
    predicted = [labels[i] for i in probs.argmax(axis=1)]
    metrics = graded(first.data.labels, predicted, probs, labels)
    for key in ("truncated", "rows_dropped", "data", "baseline"):
        metrics[key] = first.metrics[key]
    read = [encoder_read(first.bundle)] + [encoder_read(b) for b in bundles]
    (metrics["copies_of_training_rows"], metrics["copies_of_rows_the_encoder_read"]) = seen.counts(
        first.data.texts, *(_union(parts) for parts in (trained_on, read))
    )  # tweets any member (or its encoder) read; unknown where one keeps no fingerprints
    metrics["model_dir"] = f"ensemble of {len(model_dirs)}"
    metrics["members"] = [str(d) for d in model_dirs]
    return Evaluation(metrics, first.bundle, first.data, predicted, probs)


def evaluate_models(
    model_dirs: list[str | Path],
    data_path: str | Path,
    *,
    ensemble: bool = False,
    text_column: str = "text",
    label_column: str = "label",
    runtime: str = "numpy",
    min_confidence: float | None = None,
) -> list[Evaluation]:
    """What ``evaluate`` reports: one evaluation per model folder, or one of their
    average with ``ensemble``; ``min_confidence`` as in ``score``."""
    columns = {"text_column": text_column, "label_column": label_column, "runtime": runtime}
    if ensemble:
        if len(model_dirs) < 2:
            raise SentimentError("--ensemble needs at least two --model-dir")
        evaluations = [score_ensemble(list(model_dirs), data_path, **columns)]
    else:
        evaluations = [score(d, data_path, **columns) for d in model_dirs]
    return [abstaining(e, min_confidence) for e in evaluations]


def evaluate(
    model_dir: str | Path,
    data_path: str | Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
) -> dict[str, Any]:
    """Metrics of the model on the data; the baseline's under ``baseline`` (null when
    the model folder has none)."""
    return score(model_dir, data_path, text_column=text_column, label_column=label_column).metrics
