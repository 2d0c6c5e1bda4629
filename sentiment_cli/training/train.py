"""Train a model from a labelled CSV and write a self-contained model folder.

``train`` reads like a table of contents: read and split the data, tokenize and
encode it, build (or restore) the model, fit it, validate it, fit the bag-of-words
baseline, write the folder. While it runs, ``OUTPUT_DIR.checkpoint/`` (see
``checkpoint.py``) lets an interrupted run continue with ``train --resume``.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.config import Config, dump_config
from sentiment_cli.errors import SentimentError
from sentiment_cli.io.readers import (
    LabelledData,
    check_training_labels,
    read_labelled,
    split_indices,
)
from sentiment_cli.runtime import model_folder
from sentiment_cli.text.tokenizer import Encoded, Vocabulary
from sentiment_cli.training import checkpoint as ckpt
from sentiment_cli.training.checkpoint import RunOptions
from sentiment_cli.training.token_cache import cache_dir

Log = Callable[[str], None]


def split_train_val(data: LabelledData, fraction: float, seed: int, log: Log):
    """Hold out a stratified validation part (``data.split_indices``)."""
    train_idx, val_idx = split_indices(data.labels, fraction, seed, data.path, log, "validation")

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


@dataclass
class Splits:
    """The labelled data of one run, split into training and validation parts."""

    data: LabelledData  # the training CSV as read
    train: LabelledData  # the part the model is fit on (augmented copies included)
    val: LabelledData
    classes: list[str]


@dataclass
class Prepared:
    """The splits of one run, tokenized and encoded with the run's vocabulary."""

    splits: Splits
    vocab: Vocabulary
    train_tokens: list[list[str]]
    val_tokens: list[list[str]]
    x_train: Encoded
    x_val: Encoded
    y_train: np.ndarray
    y_val: np.ndarray
    pretrain: tuple[np.ndarray, np.ndarray, list[str]] | None = None  # ids, labels, names
    real_train: tuple[LabelledData, list[list[str]]] | None = None  # before augmentation


@dataclass
class Progress:
    """Where fitting starts: epoch 0, or the state of an interrupted run."""

    initial_epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    early_stopping: dict | None = None  # best, wait, best_epoch, best_weights
    stopped: bool = False  # early stopping had already ended the interrupted run


def load_splits(
    data_path, val_path, config: Config, text_column: str, label_column: str, log: Log
) -> Splits:
    """Read and check the CSVs and split them; no TensorFlow needed, so bad input is
    refused at once."""
    if text_column == label_column:
        raise SentimentError(
            f"--text-column and --label-column are both {text_column!r}; the model would "
            f"read its own labels. Name two different columns"
        )
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
    splits: Splits,
    config: Config,
    text_column: str,
    label_column: str,
    log: Log,
    vocab=None,
    cache: Path | None = None,
) -> Prepared:
    """Tokenize, build (or reuse) the vocabulary, augment the training part and encode
    both parts."""
    counts = Counter(splits.train.labels)
    log(
        f"Data: {len(splits.train)} training / {len(splits.val)} validation tweets; labels: "
        + ", ".join(f"{c}={counts.get(c, 0)}" for c in splits.classes)
    )
    from sentiment_cli.training.token_cache import tokenize_cached

    text = config.text
    train_tokens, cached = tokenize_cached(splits.train.texts, text, cache)
    val_tokens, _ = tokenize_cached(splits.val.texts, text, cache)
    if cached:
        log(f"Tokens read from the cache in {cache}")
    pretrain = pretrain_tokens = None
    if config.train.pretrain_data and vocab is None:  # a resumed run is past pretraining
        pretrain = read_labelled(config.train.pretrain_data, text_column, label_column)
        check_training_labels(pretrain, label_column)
        pretrain_tokens, _ = tokenize_cached(pretrain.texts, text, cache)
    if vocab is None:
        vocab = build_vocabulary(config, train_tokens + (pretrain_tokens or []))
    real_part, real_tokens = splits.train, train_tokens
    splits = dataclasses.replace(splits)
    splits.train, train_tokens = augmented(splits.train, train_tokens, config, log)
    x_train = vocab.encode_tokens(train_tokens, text)
    x_val = vocab.encode_tokens(val_tokens, text)
    log(
        f"Vocabulary: {len(vocab)} ids (incl. padding and OOV); max_length {text.max_length}: "
        f"truncated {truncated(x_train, len(real_part))} training and {x_val.truncated} "
        f"validation tweets (longest: {int(x_train.lengths[: len(real_part)].max())} tokens)"
    )
    pretrain_set = None
    if pretrain is not None:
        names = sorted(set(pretrain.labels))
        pretrain_set = (
            vocab.encode_tokens(pretrain_tokens, text).ids,
            label_ids(pretrain.labels, names),
            names,
        )
        log(
            f"Pretraining data: {len(pretrain)} tweets of {config.train.pretrain_data}, "
            f"labels {', '.join(names)}"
        )
    return Prepared(
        splits=splits,
        vocab=vocab,
        train_tokens=train_tokens,
        val_tokens=val_tokens,
        x_train=x_train,
        x_val=x_val,
        y_train=label_ids(splits.train.labels, splits.classes),
        y_val=label_ids(splits.val.labels, splits.classes),
        pretrain=pretrain_set,
        real_train=(real_part, real_tokens),
    )


def truncated(encoded: Encoded, n_real: int) -> int:
    """Tweets of the training split (its augmented copies left out) cut at max_length."""
    return int((encoded.lengths[:n_real] > encoded.ids.shape[1]).sum())


def label_ids(labels: list[str], classes: list[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(classes)}
    return np.array([index[label] for label in labels], dtype="int32")


def build_vocabulary(config: Config, corpus: list[list[str]]) -> Vocabulary:
    """The training tokens (pretraining tweets are training data too), plus the
    lexicon's entries, which carry a prior even when training never saw them."""
    extra: list[str] = []
    if config.model.lexicon == "vader":
        from sentiment_cli.text.lexicon import vader_valences

        extra = list(vader_valences())
        if config.text.mark_negation:  # a negated word's prior is the opposite one
            extra += [f"{word}_NEG" for word in extra]
    from sentiment_cli.models.encoder import usable

    encoder = usable(config.model, lambda message: None)
    if encoder is not None:
        extra += encoder.tokens  # its words start from its vectors, even unseen in training
    return Vocabulary.build(corpus, config.text, extra)


def augmented(
    train_part: LabelledData, train_tokens: list[list[str]], config: Config, log: Log
) -> tuple[LabelledData, list[list[str]]]:
    """The training split plus its negated copies and contrast pairs (config.train)."""
    from sentiment_cli.training.augment import augment

    t = config.train
    tokens, labels = augment(
        train_tokens,
        train_part.labels,
        negation=t.augment_negation,
        contrast=t.augment_contrast,
        seed=t.seed,
        mark_negation=config.text.mark_negation,
    )
    if not tokens:
        return train_part, train_tokens
    log(f"Augmented the training split with {len(tokens)} edited tweets (negation, contrast)")
    part = LabelledData(
        texts=train_part.texts + [" ".join(words) for words in tokens],
        labels=train_part.labels + labels,
        dropped=train_part.dropped,
        path=train_part.path,
    )
    return part, train_tokens + tokens


def new_model(config: Config, prepared: Prepared, log: Log):
    """Build (``start_model``) and compile the model."""
    from sentiment_cli.models.build import compile_model

    model, found = start_model(config, prepared.vocab, len(prepared.splits.classes), log)
    compile_model(model, config.train)
    return model, found


def start_model(config: Config, vocab: Vocabulary, n_classes: int, log: Log):
    """(the model before training, pretrained-vector coverage): built, started from the
    pretrained vectors or encoder where configured, with lexicon coverage reported."""
    from sentiment_cli.models.build import build_model, rnn_layer_names

    lexicon = None
    if config.model.lexicon == "vader":
        from sentiment_cli.text.lexicon import lexicon_matrix

        lexicon, rated = lexicon_matrix(vocab)
        log(
            f"Lexicon: {rated} of {len(vocab) - 2} vocabulary tokens rated by VADER "
            f"(its entries are in the vocabulary even when training never saw them)"
        )
    embedding_matrix, found, recurrent = pretrained_start(config, vocab, lexicon, log)
    subwords = None
    if config.model.subwords:
        from sentiment_cli.text.tokenizer import subword_table

        subwords = subword_table(vocab.tokens, config.model.subwords)
    model = build_model(config, len(vocab), n_classes, embedding_matrix, lexicon, subwords)
    if recurrent is not None:
        layer = model.get_layer(rnn_layer_names(config)[0])
        (layer.forward_layer if config.model.bidirectional else layer).set_weights(recurrent)
    return model, found


def pretrained_start(config: Config, vocab: Vocabulary, lexicon, log: Log):
    """(embedding matrix, coverage, first recurrent layer's weights) to start from:
    ``model.embeddings_file``'s vectors, or the pretrained encoder's vectors and
    recurrent layer (``model.encoder``), or nothing (random)."""
    m = config.model
    if m.embeddings_file:
        from sentiment_cli.models.embeddings import load_embeddings

        pretrained = load_embeddings(m.embeddings_file, vocab, m.embedding_dim, config.train.seed)
        log(
            f"Pretrained vectors: {pretrained.found} of {pretrained.total} vocabulary words "
            f"found in {m.embeddings_file}"
            + (f" (model.encoder {m.encoder!r} not used)" if m.encoder else "")
        )
        found = {"source": m.embeddings_file, "found": pretrained.found}
        return pretrained.matrix, {**found, "vocabulary": pretrained.total}, None
    from sentiment_cli.models.encoder import embedding_matrix, recurrent_start, usable

    encoder = usable(m, log)
    if encoder is None:
        return None, None, None
    matrix, known = embedding_matrix(encoder, vocab, config.train.seed)
    input_dim = m.embedding_dim + (lexicon.shape[1] if lexicon is not None else 0)
    recurrent = recurrent_start(encoder, m.cell, m.units, input_dim)
    log(
        f"Encoder {m.encoder!r}: {known} of {len(vocab) - 2} vocabulary words start from its "
        f"vectors; the first recurrent layer starts "
        + ("from it" if recurrent is not None else "fresh (its cell, width or input differ)")
    )
    found = {"source": f"encoder {m.encoder}", "found": known, "vocabulary": len(vocab) - 2}
    return matrix, {**found, "recurrent_layer": recurrent is not None}, recurrent


def pretrain_model(model, config: Config, prepared: Prepared, verbose: int, log: Log) -> None:
    """Distant supervision: fit the shared embedding and recurrent layers on the
    pretraining tweets through a classifier of their own, which is then dropped."""
    from sentiment_cli.models import backend

    keras = backend.keras()

    from sentiment_cli.models.build import compile_model
    from sentiment_cli.training.callbacks import GracefulInterrupt

    ids, labels, names = prepared.pretrain
    features = model.get_layer("classifier").input
    head = keras.layers.Dense(len(names), activation="softmax", name="pretrain_classifier")
    pre = keras.Model(model.inputs, head(features), name="pretraining")
    compile_model(pre, config.train)
    weights = None
    if config.train.class_weight == "balanced":
        weights = class_weights([names[i] for i in labels], names)
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
    tensorboard: str | Path | None = None,
) -> Path:
    """Train ``config`` on ``data_path`` and write the model folder; returns its path.
    ``tensorboard``: a folder for Keras' TensorBoard logs (scalars per epoch, the graph).

    With ``resume=True`` the data, config and options come from the checkpoint of an
    interrupted run that was writing ``output_dir``.
    """
    started = time.perf_counter()
    require_tensorboard(tensorboard)
    output_dir = Path(output_dir)
    checkpoint = ckpt.path_for(output_dir)
    for note in model_folder.recover_leftovers(output_dir):
        log(note)
    options, config = run_options(
        data_path, val_path, config, text_column, label_column, force, resume, output_dir, log
    )
    model_folder.check_output_dir(output_dir, options.force)
    columns = (options.text_column, options.label_column)
    splits = load_splits(
        data_path or options.data, val_path or options.val_data, config, *columns, log
    )

    from sentiment_cli.models.backend import load
    from sentiment_cli.models.build import check_initializers

    keras = load()  # quietly: TensorFlow's start-up lines are dropped
    check_initializers(config)  # a bad initializer fails before the slow tokenizing
    vocab = resumed_vocabulary(checkpoint, splits, output_dir) if resume else None
    prepared = prepare(splits, config, *columns, log, vocab, cache_dir(output_dir))
    # Seeds Python, NumPy and TensorFlow: same data + config + seed -> same weights.
    keras.utils.set_random_seed(config.train.seed)
    model, progress, found = model_and_progress(config, prepared, checkpoint, resume, verbose, log)
    if not resume and config.train.checkpoint:
        ckpt.start(checkpoint, options, config, prepared.vocab, prepared.splits.classes)
    params = log_parameters(model, log)
    model, history, fit_seconds, members = fit_members(
        model, config, prepared, progress, checkpoint, verbose, log, tensorboard
    )
    validation, best_epoch = validate(model, config, prepared, history, log)
    validation, bias_tuning = tune_biases(model, config, prepared, validation, log)
    baseline = fit_baseline(config, prepared, log)
    summary = {
        **data_summary(options, prepared, config),
        "parameters": {name: count for name, _, count in params},
        "total_parameters": int(model.count_params()),
        **fit_summary(history, best_epoch, config, resume, fit_seconds, progress, prepared),
        "validation": validation,
        "bias_tuning": bias_tuning,
        "members": members,
        "pretrained_embeddings": found,
        "baseline_fit_seconds": round(baseline.fit_seconds, 3) if baseline else None,
        "baseline_validation": baseline.validation if baseline else None,
    }
    write_model_dir(output_dir, model, config, prepared, history, baseline, summary, started)
    shutil.rmtree(checkpoint, ignore_errors=True)
    log(f"Model written to {output_dir} in {summary['wall_seconds']:.1f}s")
    return output_dir


def require_tensorboard(tensorboard) -> None:
    import importlib.util

    if tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
        raise SentimentError(
            "--tensorboard needs the tensorboard package: pip install 'sentiment-cli[tensorboard]'"
        )


def run_options(
    data_path, val_path, config, text_column, label_column, force, resume, output_dir, log
) -> tuple[RunOptions, Config]:
    """The run's options and config: as given, or those of the interrupted run that
    ``--resume`` continues."""
    checkpoint = ckpt.path_for(output_dir)
    if resume:
        options, config = ckpt.read_run(checkpoint, output_dir)
        log(f"Resuming the run in {checkpoint} on {options.data}")
        return options, config
    options = RunOptions(
        data=str(Path(data_path).resolve()) if data_path is not None else "",
        val_data=None if val_path is None else str(Path(val_path).resolve()),
        text_column=text_column,
        label_column=label_column,
        force=force,
    )
    clear_checkpoint(checkpoint, output_dir, force)
    return options, config


def clear_checkpoint(checkpoint: Path, output_dir: Path, force: bool) -> None:
    """A new run starts without a checkpoint; one with a finished epoch is only
    discarded with --force (a checkpoint without one holds nothing to resume)."""
    if not checkpoint.exists():
        return
    if not force and ckpt.last_state(checkpoint) is not None:
        raise SentimentError(
            f"--output-dir {output_dir}: {checkpoint} holds an interrupted run; continue it "
            f"with 'sentiment-cli train --resume {output_dir}', or use --force to start over"
        )
    shutil.rmtree(checkpoint)


def resumed_vocabulary(checkpoint: Path, splits: Splits, output_dir: Path) -> Vocabulary:
    vocab, labels = ckpt.read_vocab_and_labels(checkpoint)
    if labels != splits.classes:
        raise SentimentError(
            f"--resume {output_dir}: the labels in {splits.data.path} changed since the run began"
        )
    return vocab


def model_and_progress(
    config: Config, prepared: Prepared, checkpoint: Path, resume: bool, verbose: int, log: Log
):
    """(model, Progress, pretrained-vector coverage): a new model (pretrained first when
    configured), or the interrupted run's model and progress."""
    if resume:
        model, state, best_weights = ckpt.load_state(ckpt.last_state(checkpoint))
        progress = Progress(
            initial_epoch=state["epochs_done"],
            history=state["history"],
            early_stopping={**state["early_stopping"], "best_weights": best_weights},
            stopped=state.get("stopped", False),
        )
        log(f"Resumed after epoch {progress.initial_epoch} of {config.train.epochs}")
        return model, progress, None
    model, found = new_model(config, prepared, log)
    if prepared.pretrain is not None:
        pretrain_model(model, config, prepared, verbose, log)
    return model, Progress(), found


def log_parameters(model, log: Log) -> list[tuple[str, str, int]]:
    from sentiment_cli.models.build import parameter_table

    params = parameter_table(model)
    log("Parameters per layer:")
    for name, kind, count in params:
        log(f"  {name:<20} {kind:<22} {count:>10,}")
    log(f"  {'total':<20} {'':<22} {int(model.count_params()):>10,}")
    return params


def fit(
    model,
    config: Config,
    prepared: Prepared,
    progress: Progress,
    checkpoint: Path,
    verbose: int,
    log: Log,
    tensorboard: str | Path | None = None,
) -> tuple[dict[str, list[float]], float]:
    """Fit with early stopping (best weights restored) and an every-epoch checkpoint;
    returns the whole run's history and the seconds spent fitting."""
    from sentiment_cli.training.callbacks import GracefulInterrupt

    t = config.train
    weights, sample_weights = loss_weights(config, prepared, log)
    callbacks = fit_callbacks(config, prepared, progress, checkpoint, tensorboard, log)
    history = {key: list(values) for key, values in progress.history.items()}
    started = time.perf_counter()
    if progress.initial_epoch < t.epochs and not progress.stopped:
        with GracefulInterrupt() as interrupt:
            result = model.fit(
                prepared.x_train.ids,
                prepared.y_train,
                validation_data=(prepared.x_val.ids, prepared.y_val),
                epochs=t.epochs,
                initial_epoch=progress.initial_epoch,
                batch_size=t.batch_size,
                class_weight=weights,
                sample_weight=sample_weights,
                callbacks=[interrupt, *callbacks],
                shuffle=True,
                verbose=verbose,
            )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
    elif progress.early_stopping and progress.early_stopping.get("best_weights") is not None:
        model.set_weights(progress.early_stopping["best_weights"])
    return history, time.perf_counter() - started


def fit_members(model, config, prepared, progress, checkpoint, verbose, log, tensorboard):
    """Fit the model; with ``train.members`` k > 1, then k - 1 more with the seeds that
    follow, and return their average as one model. Returns (model, the first member's
    history, seconds fitting, each member's seed, best epoch and validation metrics)."""
    k = config.train.members
    if k > 1:
        log(f"Member 1 of {k} (seed {config.train.seed})")
    history, seconds = fit(model, config, prepared, progress, checkpoint, verbose, log, tensorboard)
    if k == 1:
        return model, history, seconds, None
    from sentiment_cli.models import backend

    keras = backend.keras()
    fitted, runs = [model], [member_run(model, config, prepared, history, log)]
    for i in range(2, k + 1):
        seed = config.train.seed + i - 1
        log(f"Member {i} of {k} (seed {seed})")
        # Only the first member is checkpointed: --resume continues it, then trains the rest.
        train = dataclasses.replace(config.train, seed=seed, checkpoint=False)
        member_config = dataclasses.replace(config, train=train)
        keras.utils.set_random_seed(seed)
        member, fresh, _ = model_and_progress(
            member_config, prepared, checkpoint, False, verbose, lambda message: None
        )
        member_history, member_seconds = fit(
            member, member_config, prepared, fresh, checkpoint, verbose, log
        )
        seconds += member_seconds
        fitted.append(member)
        runs.append(member_run(member, member_config, prepared, member_history, log))
    log(f"Ensemble: the mean of {k} members' probabilities")
    return averaged(fitted, config), history, seconds, runs


def member_run(model, config, prepared, history, log) -> dict[str, Any]:
    metrics, best_epoch = validate(model, config, prepared, history, log)
    return {"seed": config.train.seed, "best_epoch": best_epoch, "validation": metrics}


def averaged(models: list, config: Config):
    """One Keras model: the mean of ``models``' probabilities, each a named member
    (``runtime.member_name``), so the NumPy runtime finds their weights."""
    from sentiment_cli.models import backend
    from sentiment_cli.runtime.network import member_name

    keras = backend.keras()
    inputs = keras.Input(shape=(config.text.max_length,), dtype="int32", name="token_ids")
    outputs = [
        keras.Model(m.input, m.output, name=member_name(i))(inputs)
        for i, m in enumerate(models, start=1)
    ]
    mean = keras.layers.Average(name="mean")(outputs)
    return keras.Model(inputs, mean, name=f"ensemble_of_{len(models)}")


def fit_callbacks(config, prepared, progress, checkpoint, tensorboard, log) -> list:
    """Validation macro recall (when monitored), resumable early stopping, the epoch
    checkpoint and TensorBoard, as configured."""
    from sentiment_cli.training.callbacks import (
        EpochCheckpoint,
        MacroRecall,
        ResumableEarlyStopping,
    )

    t = config.train
    early_stopping = ResumableEarlyStopping(
        monitor=t.monitor,
        mode="min" if t.monitor == "val_loss" else "max",
        patience=t.early_stopping_patience,
        restore_best_weights=True,
        restored=progress.early_stopping,
    )
    callbacks = []
    if t.monitor == "val_macro_recall":
        n_classes = len(prepared.splits.classes)
        callbacks.append(MacroRecall(prepared.x_val.ids, prepared.y_val, n_classes))
    if t.reduce_lr_factor < 1:
        from sentiment_cli.models import backend

        # After an epoch that did not improve `monitor`, go on with a smaller step.
        callbacks.append(
            backend.keras().callbacks.ReduceLROnPlateau(
                monitor=t.monitor,
                mode="min" if t.monitor == "val_loss" else "max",
                factor=t.reduce_lr_factor,
                patience=0,
            )
        )
    callbacks.append(early_stopping)
    if t.checkpoint:
        callbacks.append(EpochCheckpoint(checkpoint, early_stopping, progress.history))
    if tensorboard is not None:
        from sentiment_cli.models import backend

        keras = backend.keras()
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(tensorboard), write_graph=True))
        log(f"TensorBoard logs: {tensorboard} (tensorboard --logdir {tensorboard})")
    return callbacks


def loss_weights(config: Config, prepared: Prepared, log: Log):
    """(class weights, sample weights): balanced class weights from the tweets as given
    (the augmented copies are all positive or negative); with augmentation, per-row
    weights instead, the copies' scaled by train.augment_weight."""
    real_labels = prepared.real_train[0].labels
    classes = prepared.splits.classes
    weights = None
    if config.train.class_weight == "balanced":
        weights = class_weights(real_labels, classes)
        log("Class weights: " + ", ".join(f"{c}={weights[i]:.3f}" for i, c in enumerate(classes)))
    if len(prepared.y_train) == len(real_labels):
        return weights, None
    per_class = np.array([(weights or {}).get(i, 1.0) for i in range(len(classes))])
    sample_weights = per_class[prepared.y_train]
    sample_weights[len(real_labels) :] *= config.train.augment_weight
    return None, sample_weights


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
    from sentiment_cli.runtime.network import keras_members
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
    baseline = Baseline.fit(tokens, real.labels, config.train.class_weight, config.train.seed)
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
    return {
        "train_data": options.data,
        "val_data": options.val_data,
        "text_column": options.text_column,
        "label_column": options.label_column,
        "rows_dropped": splits.data.dropped,
        "n_train": len(real),
        "n_augmented": len(splits.train) - len(real),
        "n_val": len(splits.val),
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
        "fit_seconds": round(fit_seconds, 3),
        "wall_seconds": None,
        "train_tweets_per_second": round(
            len(prepared.splits.train) * epochs_now / max(fit_seconds, 1e-9), 1
        ),
    }


def write_model_dir(
    output_dir: Path,
    model,
    config: Config,
    prepared: Prepared,
    history: dict,
    baseline,
    summary: dict,
    started: float,
) -> None:
    """Write the model folder atomically (``model_folder.write_model_dir``)."""

    from sentiment_cli.runtime import network

    def write(folder: Path) -> None:
        model.save(folder / model_folder.MODEL_FILE)
        network.save(folder, *network.export(model, config))
        prepared.vocab.save(folder / model_folder.VOCAB_FILE)
        (folder / model_folder.CONFIG_FILE).write_text(dump_config(config), encoding="utf-8")
        model_folder.write_json(folder / model_folder.LABELS_FILE, prepared.splits.classes)
        model_folder.write_json(folder / model_folder.HISTORY_FILE, history)
        if baseline is not None:
            baseline.save(folder)
        summary["wall_seconds"] = round(time.perf_counter() - started, 3)
        model_folder.write_json(folder / model_folder.SUMMARY_FILE, summary)

    model_folder.write_model_dir(output_dir, write)
