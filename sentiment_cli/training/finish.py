"""After the fit: validation, bias offsets, the baseline, the summary and the model
folder."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.config import Config, dump_config
from sentiment_cli.models.size import batch_size_for
from sentiment_cli.runtime import model_folder
from sentiment_cli.runtime.bow import BLEND_BAG
from sentiment_cli.runtime.integrity import file_hash
from sentiment_cli.training.checkpoint import Progress, RunOptions
from sentiment_cli.training.prepare import Prepared, truncated

Log = Callable[[str], None]


def validate(
    model, config: Config, prepared: Prepared, history: dict, log: Log
) -> tuple[dict[str, Any], int]:
    """The restored model's validation metrics, and the epoch (1-based) it comes from."""
    from sentiment_cli.metrics import classification_metrics

    monitor = config.train.monitor
    series = history.get(monitor, [])
    epochs_run = len(history.get("loss", []))
    if series:
        best = np.argmin(series) if monitor == "val_loss" else np.argmax(series)
        best_epoch = int(best) + 1
    else:
        best_epoch = epochs_run
    classes = prepared.splits.classes
    probs = model.predict(prepared.x_val.ids, batch_size=256, verbose=0)
    metrics = classification_metrics(
        prepared.splits.val.labels, [classes[i] for i in probs.argmax(axis=1)], classes
    )
    source = f"best epoch {best_epoch} of {epochs_run} by {monitor}"
    if model.name.startswith("ensemble_of_"):
        source = f"the mean of {config.train.members} members"
    log(
        f"Validation ({source}): "
        f"macro_recall {metrics['macro_recall']:.4f}, accuracy {metrics['accuracy']:.4f}"
    )
    return metrics, best_epoch


def tune_biases(model, config: Config, prepared: Prepared, before: dict[str, Any], log: Log):
    """``train.tune_biases``: add to the classifier's biases the offsets that maximize
    macro recall on the validation split (``biases.py``). Returns the model's validation
    metrics after, and the offsets with the metrics before (None where it is off or the
    split is too small)."""
    from sentiment_cli.metrics import classification_metrics
    from sentiment_cli.models.export import keras_members
    from sentiment_cli.training.biases import add_to_biases, fit_offsets, shifted, untunable

    if not config.train.tune_biases:
        return before, None
    classes = prepared.splits.classes
    reason = untunable(prepared.y_val, classes)
    if reason:
        log(f"Biases not tuned: {reason}")
        return before, None
    networks = keras_members(model, config)
    probs = [net.predict(prepared.x_val.ids, batch_size=256, verbose=0) for net in networks]
    offsets = fit_offsets(probs, prepared.y_val)
    add_to_biases(networks, offsets)
    predicted = shifted(probs, offsets).argmax(axis=1)
    after = classification_metrics(
        prepared.splits.val.labels, [classes[i] for i in predicted], classes
    )
    log(
        "Biases tuned for macro recall on the validation split: "
        + ", ".join(f"{c} {o:+.1f}" for c, o in zip(classes, offsets, strict=True))
        + f"; macro_recall {before['macro_recall']:.4f} -> {after['macro_recall']:.4f} "
        "(chosen on this split, so this figure is optimistic)"
    )
    tuning = {
        "offsets": {c: float(o) for c, o in zip(classes, offsets, strict=True)},
        "validation_before": before,
    }
    return after, tuning


def calibrate(model, config: Config, prepared: Prepared, log: Log) -> dict[str, Any] | None:
    """``train.calibrate``: divide the classifier's logits by the temperature that fits
    the validation split best (``calibrate.py``); summary.json's ``calibration`` entry,
    None where it is off or the split is too small to fit on."""
    from sentiment_cli.metrics import probability_metrics
    from sentiment_cli.models.export import keras_members
    from sentiment_cli.training.calibrate import (
        MIN_VALIDATION,
        divide_classifier,
        fit_temperature,
        soften,
    )

    if config.train.calibrate == "none":
        return None
    y = prepared.y_val
    if len(y) < MIN_VALIDATION:
        log(f"Probabilities not calibrated: fewer than {MIN_VALIDATION} validation tweets")
        return None
    classes = prepared.splits.classes
    truth = prepared.splits.val.labels
    networks = keras_members(model, config)
    probs = [net.predict(prepared.x_val.ids, batch_size=256, verbose=0) for net in networks]
    temperature = fit_temperature(probs, y)
    before = probability_metrics(truth, soften(probs, 1.0), classes)
    after = probability_metrics(truth, soften(probs, temperature), classes)
    divide_classifier(networks, temperature)
    log(
        f"Probabilities calibrated on the validation split: temperature {temperature:.2f} "
        f"(fitted to its log-loss, {before['log_loss']:.3f} -> {after['log_loss']:.3f}; "
        f"ECE {before['ece']:.3f} -> {after['ece']:.3f})"
    )
    return {
        "method": "temperature",
        "temperature": round(temperature, 6),
        "validation_before": before,
        "validation_after": after,
    }


def baseline_entries(baseline) -> dict[str, Any]:
    """summary.json's entries for the baseline (None where none was fit)."""
    return {
        "baseline_fit_seconds": round(baseline.fit_seconds, 3) if baseline else None,
        "baseline_validation": baseline.validation if baseline else None,
    }


# The baseline is a fixed yardstick, whatever the network's train.class_weight: a
# balanced TF-IDF + logistic regression, the strong bag-of-words of the literature.
BASELINE_CLASS_WEIGHT = "balanced"


def fit_baseline(config: Config, prepared: Prepared, log: Log):
    """The TF-IDF + logistic regression baseline on the same tokens, with its
    validation metrics in ``.validation``; None when config.train.baseline is off."""
    if not config.train.baseline:
        return None
    from sentiment_cli.metrics import classification_metrics
    from sentiment_cli.models.baseline import Baseline

    splits = prepared.splits
    # The training tweets as given: augmentation teaches word order, which a bag of words
    # cannot use; the edited copies would only blur its word statistics.
    real, tokens = prepared.real_train
    baseline = Baseline.fit(tokens, real.labels, BASELINE_CLASS_WEIGHT, config.train.seed)
    probs = baseline.predict_proba(prepared.val_tokens)
    baseline.validation = classification_metrics(
        splits.val.labels, [baseline.labels[i] for i in probs.argmax(axis=1)], splits.classes
    )
    log(
        f"Bag-of-words baseline (fit in {baseline.fit_seconds:.1f}s): "
        f"validation macro_recall {baseline.validation['macro_recall']:.4f}, "
        f"accuracy {baseline.validation['accuracy']:.4f}"
    )
    return baseline


def data_summary(options: RunOptions, prepared: Prepared, config: Config) -> dict[str, Any]:
    splits, x_train = prepared.splits, prepared.x_train
    real = prepared.real_train[0]
    data = Path(options.data)
    return {
        "train_data": options.data,
        "train_data_sha256": file_hash(data) if data.is_file() else None,
        "val_data": options.val_data,
        "text_column": options.text_column,
        "label_column": options.label_column,
        "rows_dropped": splits.data.dropped,
        "n_train": len(real),
        "n_augmented": len(splits.train) - len(real),
        "n_val": len(splits.val),
        "start_read": splits.start_read,
        "label_counts_train": dict(Counter(real.labels)),
        "label_counts_val": dict(Counter(splits.val.labels)),
        "vocabulary_size": len(prepared.vocab),
        "truncated_train": truncated(x_train, len(real)),
        "truncated_val": prepared.x_val.truncated,
        "max_length": config.text.max_length,
        "oov_rate_train": round(
            float((x_train.ids == 1).sum() / max((x_train.ids > 0).sum(), 1)), 6
        ),
    }


def fit_summary(
    history: dict,
    best_epoch: int,
    config: Config,
    resume: bool,
    fit_seconds: float,
    progress: Progress,
    prepared: Prepared,
) -> dict[str, Any]:
    epochs_run = len(history.get("loss", []))
    epochs_now = max(epochs_run - progress.initial_epoch, 0)
    return {
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "monitor": config.train.monitor,
        "resumed": resume,
        "batch_size": batch_size_for(config.train, len(prepared.y_train)),
        "fit_seconds": round(fit_seconds, 3),
        "wall_seconds": None,
        "train_tweets_per_second": round(
            len(prepared.splits.train) * epochs_now / max(fit_seconds, 1e-9), 1
        ),
        **({"epoch_seconds": progress.epoch_seconds} if progress.epoch_seconds else {}),
    }


def fit_blend_bag(config: Config, prepared: Prepared, baseline, log: Log):
    """The bag of words the blend mixes in (``train.blend_features``): the baseline
    itself ("words"), or one fit on the same tweets that also reads the character grams
    of each word ("words+chars"); None where nothing is blended (no baseline, or
    ``train.blend: none``)."""
    if config.train.blend == "none" or baseline is None:
        return None
    if config.train.blend_features == "words":
        return baseline
    from sentiment_cli.models.baseline import BAG_STRENGTH, CHAR_RANGE, Baseline

    real, tokens = prepared.real_train
    bag = Baseline.fit(
        tokens, real.labels, BASELINE_CLASS_WEIGHT, config.train.seed, chars=CHAR_RANGE,
        strength=BAG_STRENGTH,
    )  # fmt: skip
    low, high = CHAR_RANGE
    log(
        f"Bag of words to blend in: word 1-2 grams and the character {low}-{high} grams of "
        f"each word, {len(bag.char_vectorizer.vocabulary_):,} of them (fit in "
        f"{bag.fit_seconds:.1f}s)"
    )
    return bag


def write_model_dir(
    output_dir: Path,
    model,
    config: Config,
    prepared: Prepared,
    history: dict,
    baseline,
    summary: dict,
    started: float,
    extra_files: dict[str, Any] | None = None,
    seen_before: np.ndarray | None = None,
    bag=None,
) -> None:
    """Write the model folder atomically (``model_folder.write_model_dir``), with the
    fingerprints of the training file's tweets (``runtime.seen``; and ``seen_before``,
    those of the folder ``--from`` continues) and ``bag``, the bag of words the model
    blends in where it is not the baseline."""

    from sentiment_cli.models.export import export
    from sentiment_cli.runtime import network, seen

    def write(folder: Path) -> None:
        network.save(folder, *export(model, config))
        prepared.vocab.save(folder / model_folder.VOCAB_FILE)
        (folder / model_folder.CONFIG_FILE).write_text(dump_config(config), encoding="utf-8")
        model_folder.write_json(folder / model_folder.LABELS_FILE, prepared.splits.classes)
        model_folder.write_json(folder / model_folder.HISTORY_FILE, history)
        if baseline is not None:
            baseline.save(folder)
        if bag is not None:
            bag.save(folder, BLEND_BAG)
        seen.save(folder, seen.fingerprints(prepared.splits.data.texts, seen_before))
        summary["wall_seconds"] = round(time.perf_counter() - started, 3)
        model_folder.write_json(folder / model_folder.SUMMARY_FILE, summary)
        for name, payload in (extra_files or {}).items():
            model_folder.write_json(folder / name, payload)

    model_folder.write_model_dir(output_dir, write)
