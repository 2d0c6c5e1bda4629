"""Train a model from a labelled CSV and write a self-contained model folder."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sentiment_cli import artifact
from sentiment_cli.config import Config, dump_config
from sentiment_cli.data import LabelledData, check_training_labels, read_labelled
from sentiment_cli.errors import SentimentError
from sentiment_cli.text import Vocabulary, tokenize_all

Log = Callable[[str], None]


def split_train_val(data: LabelledData, fraction: float, seed: int, log: Log):
    """Stratified split (scikit-learn); falls back to a plain random split when a class
    has too few examples to appear on both sides."""
    from sklearn.model_selection import train_test_split

    counts = Counter(data.labels)
    n_val = int(np.ceil(len(data) * fraction))
    stratify = data.labels
    if min(counts.values()) < 2 or n_val < len(counts) or len(data) - n_val < len(counts):
        rare = ", ".join(f"{label!r}" for label, c in sorted(counts.items()) if c < 2)
        log(
            "Warning: validation split is not stratified"
            + (f" (classes with one example: {rare})" if rare else " (too few rows per class)")
        )
        stratify = None
    if len(data) < 2:
        raise SentimentError(f"{data.path}: needs at least 2 rows to hold out a validation split")
    train_idx, val_idx = train_test_split(
        np.arange(len(data)), test_size=max(n_val, 1), random_state=seed, stratify=stratify
    )
    pick = lambda idx: LabelledData(  # noqa: E731
        texts=[data.texts[i] for i in idx],
        labels=[data.labels[i] for i in idx],
        dropped=0,
        path=data.path,
    )
    return pick(train_idx), pick(val_idx)


def class_weights(labels: list[str], classes: list[str]) -> dict[int, float]:
    from sklearn.utils.class_weight import compute_class_weight

    present = [c for c in classes if c in set(labels)]
    weights = compute_class_weight("balanced", classes=np.array(present), y=np.array(labels))
    by_label = dict(zip(present, weights, strict=True))
    return {i: float(by_label.get(c, 1.0)) for i, c in enumerate(classes)}


def _format_counts(counts: Counter, classes: list[str]) -> str:
    return ", ".join(f"{c}={counts.get(c, 0)}" for c in classes)


def train(
    data_path: str | Path,
    output_dir: str | Path,
    config: Config,
    *,
    text_column: str = "text",
    label_column: str = "label",
    val_path: str | Path | None = None,
    force: bool = False,
    verbose: int = 2,
    log: Log = print,
) -> Path:
    """Train ``config`` on ``data_path`` and write the model folder; returns its path."""
    from sentiment_cli.model import check_initializers

    started = time.perf_counter()
    output_dir = Path(output_dir)
    for note in artifact.recover_leftovers(output_dir):
        log(note)
    artifact.check_output_dir(output_dir, force)
    check_initializers(config)  # imports Keras; fails before any data is read

    data = read_labelled(data_path, text_column, label_column)
    classes = check_training_labels(data, label_column)
    if data.dropped:
        log(f"Dropped {data.dropped} row(s) of {data_path} with an empty text or label")
    if val_path is not None:
        val = read_labelled(val_path, text_column, label_column)
        unknown = sorted(set(val.labels) - set(classes))
        if unknown:
            raise SentimentError(
                f"{val_path}: label(s) {', '.join(map(repr, unknown))} do not occur in "
                f"{data_path} (labels there: {', '.join(map(repr, classes))})"
            )
        if val.dropped:
            log(f"Dropped {val.dropped} row(s) of {val_path} with an empty text or label")
        train_part = data
    else:
        train_part, val = split_train_val(
            data, config.train.validation_split, config.train.seed, log
        )
    log(
        f"Data: {len(train_part)} training / {len(val)} validation tweets; "
        f"labels: {_format_counts(Counter(train_part.labels), classes)}"
    )

    text = config.text
    train_tokens = tokenize_all(train_part.texts, text)
    val_tokens = tokenize_all(val.texts, text)
    vocab = Vocabulary.build(train_tokens, text)
    x_train = vocab.encode_tokens(train_tokens, text)
    x_val = vocab.encode_tokens(val_tokens, text)
    oov_rate = float((x_train.ids == 1).sum() / max((x_train.ids > 0).sum(), 1))
    log(
        f"Vocabulary: {len(vocab)} ids (incl. padding and OOV) from the training split; "
        f"max_length {text.max_length}: truncated {x_train.truncated} training and "
        f"{x_val.truncated} validation tweets (longest: {int(x_train.lengths.max())} tokens)"
    )
    label_index = {label: i for i, label in enumerate(classes)}
    y_train = np.array([label_index[label] for label in train_part.labels], dtype="int32")
    y_val = np.array([label_index[label] for label in val.labels], dtype="int32")

    import keras

    from sentiment_cli.model import build_model, compile_model, parameter_table

    # Seeds Python, NumPy and TensorFlow: same data + config + seed -> same weights.
    keras.utils.set_random_seed(config.train.seed)
    embedding_matrix = None
    embeddings_found = None
    if config.model.embeddings_file:
        from sentiment_cli.embeddings import load_embeddings

        pretrained = load_embeddings(
            config.model.embeddings_file, vocab, config.model.embedding_dim, config.train.seed
        )
        embedding_matrix = pretrained.matrix
        embeddings_found = {"found": pretrained.found, "vocabulary": pretrained.total}
        log(
            f"Pretrained vectors: {pretrained.found} of {pretrained.total} vocabulary words "
            f"found in {config.model.embeddings_file}"
        )
    model = build_model(config, len(vocab), len(classes), embedding_matrix)
    compile_model(model, config)
    params = parameter_table(model)
    total_params = int(model.count_params())
    log("Parameters per layer:")
    for name, kind, count in params:
        log(f"  {name:<20} {kind:<22} {count:>10,}")
    log(f"  {'total':<20} {'':<22} {total_params:>10,}")

    weights = None
    if config.train.class_weight == "balanced":
        weights = class_weights(train_part.labels, classes)
        log("Class weights: " + ", ".join(f"{c}={weights[i]:.3f}" for i, c in enumerate(classes)))

    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=config.train.early_stopping_patience,
            restore_best_weights=True,
        )
    ]
    fit_started = time.perf_counter()
    history = model.fit(
        x_train.ids,
        y_train,
        validation_data=(x_val.ids, y_val),
        epochs=config.train.epochs,
        batch_size=config.train.batch_size,
        class_weight=weights,
        callbacks=callbacks,
        shuffle=True,
        verbose=verbose,
    )
    fit_seconds = time.perf_counter() - fit_started
    history_dict = {k: [float(v) for v in values] for k, values in history.history.items()}
    epochs_run = len(history_dict.get("loss", []))
    best_epoch = (
        int(np.argmin(history_dict["val_loss"])) + 1 if "val_loss" in history_dict else epochs_run
    )

    from sentiment_cli.metrics import classification_metrics

    val_probs = model.predict(x_val.ids, batch_size=256, verbose=0)
    val_pred = [classes[i] for i in val_probs.argmax(axis=1)]
    val_metrics = classification_metrics(val.labels, val_pred, classes)
    log(
        f"Validation (best epoch {best_epoch} of {epochs_run}): "
        f"macro_recall {val_metrics['macro_recall']:.4f}, accuracy {val_metrics['accuracy']:.4f}"
    )

    baseline = None
    if config.train.baseline:
        from sentiment_cli.baseline import Baseline

        baseline = Baseline.fit(
            train_tokens, train_part.labels, config.train.class_weight, config.train.seed
        )
        base_pred = [baseline.labels[i] for i in baseline.predict_proba(val_tokens).argmax(axis=1)]
        base_metrics = classification_metrics(val.labels, base_pred, classes)
        log(
            f"Bag-of-words baseline (fit in {baseline.fit_seconds:.1f}s): "
            f"validation macro_recall {base_metrics['macro_recall']:.4f}, "
            f"accuracy {base_metrics['accuracy']:.4f}"
        )

    summary = {
        "train_data": str(data_path),
        "val_data": str(val_path) if val_path is not None else None,
        "text_column": text_column,
        "label_column": label_column,
        "rows_dropped": data.dropped,
        "n_train": len(train_part),
        "n_val": len(val),
        "label_counts_train": dict(Counter(train_part.labels)),
        "label_counts_val": dict(Counter(val.labels)),
        "vocabulary_size": len(vocab),
        "truncated_train": x_train.truncated,
        "truncated_val": x_val.truncated,
        "max_length": text.max_length,
        "oov_rate_train": round(oov_rate, 6),
        "parameters": {name: count for name, _, count in params},
        "total_parameters": total_params,
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "fit_seconds": round(fit_seconds, 3),
        "wall_seconds": None,
        "validation": val_metrics,
        "pretrained_embeddings": embeddings_found,
        "baseline_fit_seconds": round(baseline.fit_seconds, 3) if baseline else None,
    }

    def write(folder: Path) -> None:
        model.save(folder / artifact.MODEL_FILE)
        vocab.save(folder / artifact.VOCAB_FILE)
        (folder / artifact.CONFIG_FILE).write_text(dump_config(config), encoding="utf-8")
        artifact.write_json(folder / artifact.LABELS_FILE, classes)
        artifact.write_json(folder / artifact.HISTORY_FILE, history_dict)
        if baseline is not None:
            baseline.save(folder)
        summary["wall_seconds"] = round(time.perf_counter() - started, 3)
        artifact.write_json(folder / artifact.SUMMARY_FILE, summary)

    artifact.write_model_dir(output_dir, write)
    log(f"Model written to {output_dir} in {summary['wall_seconds']:.1f}s")
    return output_dir
