"""Train a model from a labelled CSV and write a self-contained model folder.

While training, ``OUTPUT_DIR.checkpoint/`` holds the vocabulary, config and labels
and, after every epoch, the model with its optimizer state, the early-stopping state
and the history. An interrupted run continues from there with ``train --resume``;
the checkpoint is removed once the model folder is complete.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from sentiment_cli import artifact
from sentiment_cli.config import Config, build_config, dump_config
from sentiment_cli.data import LabelledData, check_training_labels, read_labelled
from sentiment_cli.errors import SentimentError
from sentiment_cli.text import Encoded, Vocabulary, tokenize_all

Log = Callable[[str], None]
RUN_FILE = "run.json"
STATE = "state"  # sub-folder of the checkpoint, replaced as a whole after every epoch


def split_train_val(data: LabelledData, fraction: float, seed: int, log: Log):
    """Stratified split (scikit-learn); falls back to a plain random split when a class
    has too few examples to appear on both sides."""
    from sklearn.model_selection import train_test_split

    if len(data) < 2:
        raise SentimentError(f"{data.path}: needs at least 2 rows to hold out a validation split")
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
    train_idx, val_idx = train_test_split(
        np.arange(len(data)), test_size=max(n_val, 1), random_state=seed, stratify=stratify
    )

    def pick(idx):
        return LabelledData(
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


def checkpoint_path(output_dir: Path) -> Path:
    return Path(output_dir).parent / f"{Path(output_dir).name}.checkpoint"


def state_dir(checkpoint: Path) -> Path | None:
    """The last complete epoch state (``state``, or ``state.old`` if killed mid-swap)."""
    for name in (STATE, f"{STATE}.old"):
        if (checkpoint / name / "progress.json").exists():
            return checkpoint / name
    return None


@dataclass
class Prepared:
    """The data of one run, tokenized and encoded."""

    data: LabelledData
    train: LabelledData
    val: LabelledData
    classes: list[str]
    vocab: Vocabulary
    train_tokens: list[list[str]]
    val_tokens: list[list[str]]
    x_train: Encoded
    x_val: Encoded
    y_train: np.ndarray
    y_val: np.ndarray
    pretrain: tuple[np.ndarray, np.ndarray, list[str]] | None = None  # ids, labels, names


@dataclass
class Splits:
    """The labelled data of one run, split into training and validation parts."""

    data: LabelledData
    train: LabelledData
    val: LabelledData
    classes: list[str]


def load_splits(
    data_path, val_path, config: Config, text_column: str, label_column: str, log: Log
) -> Splits:
    """Read and check the CSVs and split them; no TensorFlow needed, so bad input is
    refused at once."""
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
    return Splits(data=data, train=train_part, val=val, classes=classes)


def prepare(
    splits: Splits, config: Config, text_column: str, label_column: str, log: Log, vocab=None
) -> Prepared:
    """Tokenize, build (or reuse) the vocabulary and encode both parts."""
    data, train_part, val, classes = splits.data, splits.train, splits.val, splits.classes
    counts = Counter(train_part.labels)
    log(
        f"Data: {len(train_part)} training / {len(val)} validation tweets; labels: "
        + ", ".join(f"{c}={counts.get(c, 0)}" for c in classes)
    )

    text = config.text
    train_tokens = tokenize_all(train_part.texts, text)
    val_tokens = tokenize_all(val.texts, text)
    pretrain = None
    if config.train.pretrain_data and vocab is None:  # a resumed run is past pretraining
        pretrain = read_labelled(config.train.pretrain_data, text_column, label_column)
        check_training_labels(pretrain, label_column)
        pretrain_tokens = tokenize_all(pretrain.texts, text)
    if vocab is None:
        extra: list[str] = []
        if config.model.lexicon == "vader":
            from sentiment_cli.lexicon import vader_valences

            extra = list(vader_valences())
        # Pretraining tweets are training data too: their words join the vocabulary.
        corpus = train_tokens + pretrain_tokens if pretrain is not None else train_tokens
        vocab = Vocabulary.build(corpus, text, extra)
    x_train = vocab.encode_tokens(train_tokens, text)
    x_val = vocab.encode_tokens(val_tokens, text)
    log(
        f"Vocabulary: {len(vocab)} ids (incl. padding and OOV); max_length {text.max_length}: "
        f"truncated {x_train.truncated} training and {x_val.truncated} validation tweets "
        f"(longest: {int(x_train.lengths.max())} tokens)"
    )
    index = {label: i for i, label in enumerate(classes)}
    pretrain_set = None
    if pretrain is not None:
        pretrain_classes = sorted(set(pretrain.labels))
        pretrain_index = {label: i for i, label in enumerate(pretrain_classes)}
        pretrain_set = (
            vocab.encode_tokens(pretrain_tokens, text).ids,
            np.array([pretrain_index[label] for label in pretrain.labels], dtype="int32"),
            pretrain_classes,
        )
        log(
            f"Pretraining data: {len(pretrain)} tweets of {config.train.pretrain_data}, "
            f"labels {', '.join(pretrain_classes)}"
        )
    return Prepared(
        data=data,
        train=train_part,
        val=val,
        classes=classes,
        vocab=vocab,
        train_tokens=train_tokens,
        val_tokens=val_tokens,
        x_train=x_train,
        x_val=x_val,
        y_train=np.array([index[label] for label in train_part.labels], dtype="int32"),
        y_val=np.array([index[label] for label in val.labels], dtype="int32"),
        pretrain=pretrain_set,
    )


def new_model(config: Config, run: Prepared, log: Log):
    """Build and compile the model, reporting pretrained vectors and lexicon coverage."""
    from sentiment_cli.model import build_model, compile_model

    embedding_matrix = None
    found = None
    if config.model.embeddings_file:
        from sentiment_cli.embeddings import load_embeddings

        pretrained = load_embeddings(
            config.model.embeddings_file, run.vocab, config.model.embedding_dim, config.train.seed
        )
        embedding_matrix = pretrained.matrix
        found = {"found": pretrained.found, "vocabulary": pretrained.total}
        log(
            f"Pretrained vectors: {pretrained.found} of {pretrained.total} vocabulary words "
            f"found in {config.model.embeddings_file}"
        )
    lexicon = None
    if config.model.lexicon == "vader":
        from sentiment_cli.lexicon import lexicon_matrix

        lexicon, rated = lexicon_matrix(run.vocab)
        log(
            f"Lexicon: {rated} of {len(run.vocab) - 2} vocabulary tokens rated by VADER "
            f"(its entries are in the vocabulary even when training never saw them)"
        )
    model = build_model(config, len(run.vocab), len(run.classes), embedding_matrix, lexicon)
    compile_model(model, config)
    return model, found


def pretrain_model(model, config: Config, run: Prepared, verbose: int, log: Log) -> None:
    """Distant supervision: fit the shared embedding and recurrent layers on the
    pretraining tweets through a classifier of their own, which is then dropped."""
    import keras

    ids, labels, names = run.pretrain
    features = model.get_layer("classifier").input
    head = keras.layers.Dense(len(names), activation="softmax", name="pretrain_classifier")
    pre = keras.Model(model.inputs, head(features), name="pretraining")
    pre.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=config.train.learning_rate, clipnorm=config.train.clipnorm
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    weights = None
    if config.train.class_weight == "balanced":
        weights = class_weights([names[i] for i in labels], names)
    from sentiment_cli.callbacks import GracefulInterrupt

    started = time.perf_counter()
    with GracefulInterrupt() as interrupt:
        pre.fit(
            ids,
            labels,
            epochs=config.train.pretrain_epochs,
            batch_size=config.train.batch_size,
            class_weight=weights,
            callbacks=[interrupt],
            shuffle=True,
            verbose=verbose,
        )
    log(
        f"Pretrained on {len(ids)} tweets for {config.train.pretrain_epochs} epoch(s) in "
        f"{time.perf_counter() - started:.0f}s"
    )


def train(
    data_path: str | Path | None,
    output_dir: str | Path,
    config: Config | None,
    *,
    text_column: str = "text",
    label_column: str = "label",
    val_path: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    verbose: int = 2,
    log: Log = print,
) -> Path:
    """Train ``config`` on ``data_path`` and write the model folder; returns its path.

    With ``resume=True`` the data, config and options come from the checkpoint of an
    interrupted run that was writing ``output_dir``.
    """
    started = time.perf_counter()
    output_dir = Path(output_dir)
    checkpoint = checkpoint_path(output_dir)
    for note in artifact.recover_leftovers(output_dir):
        log(note)

    state = None
    if resume:
        state = state_dir(checkpoint)
        if state is None:
            raise SentimentError(
                f"--resume {output_dir}: no checkpoint of an interrupted run at {checkpoint}"
            )
        run_info = json.loads((checkpoint / RUN_FILE).read_text(encoding="utf-8"))
        config = build_config(
            yaml.safe_load((checkpoint / artifact.CONFIG_FILE).read_text(encoding="utf-8")),
            f"checkpoint {checkpoint}",
        )
        data_path, val_path = run_info["data"], run_info["val_data"]
        text_column, label_column = run_info["text_column"], run_info["label_column"]
        force = run_info["force"]
        log(f"Resuming the run in {checkpoint} on {data_path}")
    elif checkpoint.exists():
        # A checkpoint without a finished epoch holds nothing to resume.
        if not force and state_dir(checkpoint) is not None:
            raise SentimentError(
                f"--output-dir {output_dir}: {checkpoint} holds an interrupted run; continue it "
                f"with 'sentiment-cli train --resume {output_dir}', or use --force to start over"
            )
        shutil.rmtree(checkpoint)
    artifact.check_output_dir(output_dir, force)
    splits = load_splits(data_path, val_path, config, text_column, label_column, log)

    import keras

    from sentiment_cli.callbacks import (
        EpochCheckpoint,
        GracefulInterrupt,
        MacroRecall,
        ResumableEarlyStopping,
        load_state,
    )
    from sentiment_cli.model import check_initializers, parameter_table

    check_initializers(config)  # a bad initializer fails before the slow tokenizing
    vocab = Vocabulary.load(checkpoint / artifact.VOCAB_FILE) if resume else None
    run = prepare(splits, config, text_column, label_column, log, vocab)
    if resume:
        stored = json.loads((checkpoint / artifact.LABELS_FILE).read_text(encoding="utf-8"))
        if stored != run.classes:
            raise SentimentError(
                f"--resume {output_dir}: the labels in {data_path} changed since the run began"
            )

    # Seeds Python, NumPy and TensorFlow: same data + config + seed -> same weights.
    keras.utils.set_random_seed(config.train.seed)
    if state is not None:
        model, progress, best_weights = load_state(state)
        found = None
        restored = {**progress["early_stopping"], "best_weights": best_weights}
        initial_epoch = progress["epochs_done"]
        history = progress["history"]
        log(f"Resumed after epoch {initial_epoch} of {config.train.epochs}")
    else:
        model, found = new_model(config, run, log)
        restored, initial_epoch, history = None, 0, {}
        if run.pretrain is not None:
            pretrain_model(model, config, run, verbose, log)
    params = parameter_table(model)
    total_params = int(model.count_params())
    log("Parameters per layer:")
    for name, kind, count in params:
        log(f"  {name:<20} {kind:<22} {count:>10,}")
    log(f"  {'total':<20} {'':<22} {total_params:>10,}")

    weights = None
    if config.train.class_weight == "balanced":
        weights = class_weights(run.train.labels, run.classes)
        log(
            "Class weights: "
            + ", ".join(f"{c}={weights[i]:.3f}" for i, c in enumerate(run.classes))
        )

    monitor = config.train.monitor
    early_stopping = ResumableEarlyStopping(
        monitor=monitor,
        mode="min" if monitor == "val_loss" else "max",
        patience=config.train.early_stopping_patience,
        restore_best_weights=True,
        restored=restored,
    )
    callbacks = []
    if monitor == "val_macro_recall":
        callbacks.append(MacroRecall(run.x_val.ids, run.y_val, len(run.classes)))
    callbacks.append(early_stopping)
    if config.train.checkpoint:
        if not resume:
            checkpoint.mkdir(parents=True)
            run.vocab.save(checkpoint / artifact.VOCAB_FILE)
            (checkpoint / artifact.CONFIG_FILE).write_text(dump_config(config), encoding="utf-8")
            artifact.write_json(checkpoint / artifact.LABELS_FILE, run.classes)
            artifact.write_json(
                checkpoint / RUN_FILE,
                {
                    "data": str(Path(data_path).resolve()),
                    "val_data": None if val_path is None else str(Path(val_path).resolve()),
                    "text_column": text_column,
                    "label_column": label_column,
                    "force": force,
                },
            )
        callbacks.append(EpochCheckpoint(checkpoint, early_stopping, history))

    fit_started = time.perf_counter()
    stopped = state is not None and progress.get("stopped", False)
    if initial_epoch < config.train.epochs and not stopped:
        with GracefulInterrupt() as interrupt:
            result = model.fit(
                run.x_train.ids,
                run.y_train,
                validation_data=(run.x_val.ids, run.y_val),
                epochs=config.train.epochs,
                initial_epoch=initial_epoch,
                batch_size=config.train.batch_size,
                class_weight=weights,
                callbacks=[interrupt, *callbacks],
                shuffle=True,
                verbose=verbose,
            )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
    elif early_stopping.restored and early_stopping.restored.get("best_weights") is not None:
        model.set_weights(early_stopping.restored["best_weights"])
    fit_seconds = time.perf_counter() - fit_started
    epochs_run = len(history.get("loss", []))
    series = history.get(monitor, [])
    best_index = (
        (np.argmin(series) if monitor == "val_loss" else np.argmax(series)) if series else -1
    )
    best_epoch = int(best_index) + 1 if series else epochs_run

    from sentiment_cli.metrics import classification_metrics

    val_probs = model.predict(run.x_val.ids, batch_size=256, verbose=0)
    val_metrics = classification_metrics(
        run.val.labels, [run.classes[i] for i in val_probs.argmax(axis=1)], run.classes
    )
    log(
        f"Validation (best epoch {best_epoch} of {epochs_run} by {monitor}): "
        f"macro_recall {val_metrics['macro_recall']:.4f}, accuracy {val_metrics['accuracy']:.4f}"
    )

    baseline = baseline_validation = None
    if config.train.baseline:
        from sentiment_cli.baseline import Baseline

        baseline = Baseline.fit(
            run.train_tokens, run.train.labels, config.train.class_weight, config.train.seed
        )
        base_probs = baseline.predict_proba(run.val_tokens)
        base_metrics = classification_metrics(
            run.val.labels, [baseline.labels[i] for i in base_probs.argmax(axis=1)], run.classes
        )
        baseline_validation = base_metrics
        log(
            f"Bag-of-words baseline (fit in {baseline.fit_seconds:.1f}s): "
            f"validation macro_recall {base_metrics['macro_recall']:.4f}, "
            f"accuracy {base_metrics['accuracy']:.4f}"
        )

    x_train = run.x_train
    summary = {
        "train_data": str(data_path),
        "val_data": str(val_path) if val_path is not None else None,
        "text_column": text_column,
        "label_column": label_column,
        "rows_dropped": run.data.dropped,
        "n_train": len(run.train),
        "n_val": len(run.val),
        "label_counts_train": dict(Counter(run.train.labels)),
        "label_counts_val": dict(Counter(run.val.labels)),
        "vocabulary_size": len(run.vocab),
        "truncated_train": x_train.truncated,
        "truncated_val": run.x_val.truncated,
        "max_length": config.text.max_length,
        "oov_rate_train": round(
            float((x_train.ids == 1).sum() / max((x_train.ids > 0).sum(), 1)), 6
        ),
        "parameters": {name: count for name, _, count in params},
        "total_parameters": total_params,
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "monitor": monitor,
        "resumed": resume,
        "fit_seconds": round(fit_seconds, 3),
        "wall_seconds": None,
        "train_tweets_per_second": round(
            len(run.train) * max(epochs_run - initial_epoch, 0) / max(fit_seconds, 1e-9), 1
        ),
        "validation": val_metrics,
        "pretrained_embeddings": found,
        "baseline_fit_seconds": round(baseline.fit_seconds, 3) if baseline else None,
        "baseline_validation": baseline_validation,
    }

    def write(folder: Path) -> None:
        model.save(folder / artifact.MODEL_FILE)
        run.vocab.save(folder / artifact.VOCAB_FILE)
        (folder / artifact.CONFIG_FILE).write_text(dump_config(config), encoding="utf-8")
        artifact.write_json(folder / artifact.LABELS_FILE, run.classes)
        artifact.write_json(folder / artifact.HISTORY_FILE, history)
        if baseline is not None:
            baseline.save(folder)
        summary["wall_seconds"] = round(time.perf_counter() - started, 3)
        artifact.write_json(folder / artifact.SUMMARY_FILE, summary)

    artifact.write_model_dir(output_dir, write)
    shutil.rmtree(checkpoint, ignore_errors=True)
    log(f"Model written to {output_dir} in {summary['wall_seconds']:.1f}s")
    return output_dir
