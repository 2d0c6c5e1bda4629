"""Train a model from a labelled CSV and write a self-contained model folder.

``train`` reads like a table of contents: read and split the data, tokenize and
encode it, build (or restore) the model, fit it, validate it, fit the bag-of-words
baseline, write the folder. While it runs, ``OUTPUT_DIR.checkpoint/`` (see
``checkpoint.py``) lets an interrupted run continue with ``train --resume``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime import model_folder
from sentiment_cli.text.vocabulary import Vocabulary
from sentiment_cli.training import checkpoint as ckpt
from sentiment_cli.training.blend import choose_blend
from sentiment_cli.training.checkpoint import RunOptions
from sentiment_cli.training.continued import (
    check_config,
    check_labels,
    continued_config,
    read_origin,
    reset_notes,
    same_folder,
)
from sentiment_cli.training.distributed import Engine, engine_summary
from sentiment_cli.training.finish import (
    baseline_entries,
    calibrate,
    data_summary,
    fit_baseline,
    fit_blend_bag,
    fit_summary,
    tune_biases,
    validate,
    write_model_dir,
)
from sentiment_cli.training.fit import fit_members, model_and_progress
from sentiment_cli.training.prepare import Splits, load_splits, prepare
from sentiment_cli.training.self_training import read_unlabelled, self_train
from sentiment_cli.training.start import log_parameters
from sentiment_cli.training.token_cache import cache_dir

Log = Callable[[str], None]


def train(
    data_path: str | Path | None,
    output_dir: str | Path,
    config: Config | None,
    *,
    text_column: str = "text",
    label_column: str = "label",
    val_path: str | Path | None = None,
    unlabelled_path: str | Path | None = None,
    force: bool = False,
    resume: bool = False,
    verbose: int = 2,
    log: Log = print,
    tensorboard: str | Path | None = None,
    extra_files: dict[str, Any] | None = None,
    start_from: str | Path | None = None,
    engine: Engine | str | None = None,
) -> Path:
    """Train ``config`` on ``data_path`` and write the model folder; returns its path.
    ``tensorboard``: a folder for Keras' TensorBoard logs (scalars per epoch, the graph).
    ``extra_files``: more JSON files for the folder, by name (``tune`` adds tuning.json).
    ``unlabelled_path``: unlabelled tweets of the domain (self-training: ``self_training.py``).
    ``start_from``: a model folder to continue (``continued.py``; ``config`` None: its own).
    ``engine``: an Engine fits on Ray's workers (``distributed.py``), "keras" in this
    process; None: in this process, or with ``resume`` where the interrupted run fitted.

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
        data_path, val_path, config, text_column, label_column, force, resume, output_dir, log,
        unlabelled_path, start_from, engine,
    )  # fmt: skip
    origin, config = continuing(options, config, output_dir, resume, log)
    model_folder.check_output_dir(output_dir, options.force)
    columns = (options.text_column, options.label_column)
    splits, unlabelled = read_data(data_path, val_path, options, config, origin, log)
    keras = load_keras(config)
    vocab = resumed_vocabulary(checkpoint, splits, output_dir) if resume else None
    prepared = prepare(splits, config, *columns, log, vocab, cache_dir(output_dir), unlabelled,
                       origin and origin.vocab)  # fmt: skip
    keras.utils.set_random_seed(config.train.seed)  # same data + config + seed: same weights
    model, history, fit_seconds, members, params, found, progress, self_training = fitted(
        config, prepared, options, checkpoint, resume, verbose, log, tensorboard, origin
    )
    validation, best_epoch = validate(model, config, prepared, history, log)
    validation, bias_tuning = tune_biases(model, config, prepared, validation, log)
    baseline = fit_baseline(config, prepared, log)
    bag = fit_blend_bag(config, prepared, baseline, log)
    summary = {
        **data_summary(options, prepared, config),
        "parameters": {name: count for name, _, count in params},
        "total_parameters": int(model.count_params()),
        **fit_summary(history, best_epoch, config, resume, fit_seconds, progress, prepared),
        "validation": validation,
        "bias_tuning": bias_tuning,
        "calibration": calibrate(model, config, prepared, log),  # before the blend's choice
        "members": members,
        "pretrained_embeddings": found,
        "self_training": self_training,
        "continued_from": origin and origin.summary(prepared.vocab, prepared.splits.classes),
        "engine": engine_summary(options.engine),
        **baseline_entries(baseline),
        "blend": choose_blend(model, config, prepared, bag, log, bag is baseline),
    }
    write_model_dir(
        output_dir, model, config, prepared, history, baseline, summary, started, extra_files,
        origin and origin.seen, bag if bag is not baseline else None,
    )  # fmt: skip
    shutil.rmtree(checkpoint, ignore_errors=True)
    log(f"Model written to {output_dir} in {summary['wall_seconds']:.1f}s")
    return output_dir


def read_data(data_path, val_path, options: RunOptions, config: Config, origin, log: Log):
    """(splits, unlabelled tweets): the CSVs read and checked, before TensorFlow loads."""
    columns = (options.text_column, options.label_column)
    data = data_path or options.data
    splits = load_splits(data, val_path or options.val_data, config, *columns, log, origin)
    if origin is not None:
        check_labels(origin, splits.classes, data)
    return splits, read_unlabelled(options.unlabelled, columns[0], config.train.seed, log)


def fitted(config, prepared, options, checkpoint, resume, verbose, log, tensorboard, origin=None):
    """Build (or restore, or continue from ``origin``) and fit the model, then, with
    --unlabelled, the self-trained student: (model, history, seconds fitting, members,
    parameter table, pretrained-vector coverage, the first fit's Progress, the
    ``self_training`` entry or None)."""
    model, progress, found = model_and_progress(
        config, prepared, checkpoint, resume, verbose, log, origin
    )
    if not resume and config.train.checkpoint:
        ckpt.start(checkpoint, options, config, prepared.vocab, prepared.splits.classes)
    params = log_parameters(model, log)
    engine = engine_of(options)
    model, history, seconds, members = fit_members(
        model, config, prepared, progress, checkpoint, verbose, log, tensorboard, origin, engine
    )
    refuse_divergence(history, config, model, checkpoint)
    if prepared.unlabelled is None:
        return model, history, seconds, members, params, found, progress, None

    def fitting(student_config, student):
        from sentiment_cli.models.backend import keras

        keras().utils.set_random_seed(config.train.seed)
        log(
            "Self-training: the student starts from "
            + ("the encoder again" if origin is None else f"{origin.path} again")
        )
        start, fresh, _ = model_and_progress(
            student_config, student, checkpoint, False, verbose, log, origin
        )
        return fit_members(
            start, student_config, student, fresh, checkpoint, verbose, log, None, origin, engine
        )

    model, history, student_seconds, members, summary = self_train(
        model, config, prepared, history, fitting, log
    )
    refuse_divergence(history, config, model, checkpoint)
    summary["unlabelled"] = options.unlabelled
    return model, history, seconds + student_seconds, members, params, found, progress, summary


def load_keras(config: Config):
    """Keras, loaded quietly (TensorFlow's start-up lines dropped), and the config's
    initializers checked: a bad one fails before the slow tokenizing."""
    from sentiment_cli.models.backend import load
    from sentiment_cli.models.build import check_initializers

    keras = load()
    check_initializers(config)
    return keras


def engine_of(options: RunOptions) -> Engine | None:
    return None if options.engine is None else Engine(**options.engine)


def engine_fields(engine: Engine | str | None) -> dict | None:
    """What run.json keeps of ``engine``: an Engine's fields; None for this process."""
    return dataclasses.asdict(engine) if isinstance(engine, Engine) else None


WEIGHT_LIMIT = 1e6  # |w| of a trained network stays in the tens; past this it blew up


def refuse_divergence(history: dict, config: Config, model, checkpoint: Path) -> None:
    """Stop when a loss or a weight became NaN or infinite: such weights predict
    nothing, so no model folder is written, and the checkpoint is not worth resuming."""
    import math

    losses = list(history.get("loss", [])) + list(history.get("val_loss", []))
    bad = next((i for i, x in enumerate(losses) if not math.isfinite(x)), None)
    if bad is not None:
        epoch = bad % max(len(history.get("loss", [])), 1) + 1
        what = f"the loss became {losses[bad]} in epoch {epoch}"
    elif not all(np.isfinite(w).all() for w in model.get_weights()):
        what = "the weights became NaN or infinite"
    elif max(float(np.abs(w).max(initial=0)) for w in model.get_weights()) > WEIGHT_LIMIT:
        # Finite, but no trained weight is that large: the next step overflows to NaN,
        # and what such a model answers is one class for everything.
        what = f"the weights grew past ±{WEIGHT_LIMIT:g}"
    else:
        return
    shutil.rmtree(checkpoint, ignore_errors=True)
    t = config.train
    raise SentimentError(
        f"training diverged: {what}; no model was written. Lower train.learning_rate "
        f"(now {t.learning_rate:g}) or clip the gradient with train.clipnorm (now {t.clipnorm})"
    )


def training_config(resume, data, config_path, overrides, val_data) -> Config | None:
    """The config a new run trains with; None for --resume, which brings its own."""
    if resume:
        given = [
            name
            for name, value in (
                ("DATA", data),
                ("--config", config_path),
                ("--set", overrides),
                ("--val-data", val_data),
            )
            if value
        ]
        if given:
            raise SentimentError(
                f"--resume continues a run with its own data and config; drop {', '.join(given)}"
            )
        return None
    if data is None:
        raise SentimentError("missing DATA: the labelled CSV to train on (or use --resume)")
    from sentiment_cli.config import load_config

    return load_config(config_path, overrides)


def require_tensorboard(tensorboard) -> None:
    if tensorboard is not None:
        from sentiment_cli.extras import require

        require("--tensorboard", "tensorboard", "tensorboard")


def run_options(
    data_path, val_path, config, text_column, label_column, force, resume, output_dir, log,
    unlabelled_path=None, start_from=None, engine=None,
) -> tuple[RunOptions, Config]:  # fmt: skip
    """The run's options and config: as given, or those of the interrupted run that
    ``--resume`` continues (on ``engine`` where one is given, else on the run's own)."""
    checkpoint = ckpt.path_for(output_dir)
    if resume and unlabelled_path is not None:
        raise SentimentError("--resume continues a run with its own data; drop --unlabelled")
    if resume and start_from is not None:
        raise SentimentError("--resume continues a run with its own start; drop --from")
    if resume:
        options, config = ckpt.read_run(checkpoint, output_dir)
        if engine is not None:
            options = dataclasses.replace(options, engine=engine_fields(engine))
        log(f"Resuming the run in {checkpoint} on {options.data}")
        return options, config
    options = RunOptions(
        data=absolute(data_path) if data_path is not None else "",
        val_data=None if val_path is None else absolute(val_path),
        text_column=text_column,
        label_column=label_column,
        force=force,
        unlabelled=None if unlabelled_path is None else absolute(unlabelled_path),
        start_from=None if start_from is None else absolute(start_from),
        engine=engine_fields(engine),
    )
    clear_checkpoint(checkpoint, output_dir, force)
    return options, config


def continuing(options: RunOptions, config: Config | None, output_dir: Path, resume, log):
    """(the folder ``--from`` continues or None, the run's config): the folder's own
    config where none is given; a given one must keep its network and tokenizer."""
    if options.start_from is None:
        return None, config
    origin = read_origin(options.start_from)
    if same_folder(origin, output_dir):
        raise SentimentError(
            f"--from {origin.path} is also --output-dir: the model continued is kept as it "
            f"is; write the continued one to another folder"
        )
    if config is None:
        config = continued_config(origin)
    check_config(origin, config)
    if not resume:
        for note in reset_notes(origin):
            log(note)
    return origin, config


def absolute(path: str | Path) -> str:
    """``path`` as an absolute path, its links resolved where they lead somewhere (a
    link loop is left as it is: reading it is refused with a message, later)."""
    try:
        return str(Path(path).resolve())
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop
        return os.path.abspath(path)


def clear_checkpoint(checkpoint: Path, output_dir: Path, force: bool) -> None:
    """A new run starts without a checkpoint; one with a finished epoch is only
    discarded with --force (a checkpoint without one holds nothing to resume)."""
    ckpt.refuse_link(checkpoint)
    if not checkpoint.exists():
        return
    if not force and ckpt.last_state(checkpoint) is not None:
        raise SentimentError(
            f"--output-dir {output_dir}: {checkpoint} holds an interrupted run; continue it with "
            f"'sentiment-cli train --resume --output-dir {output_dir}', or --force to start over"
        )
    shutil.rmtree(checkpoint)


def resumed_vocabulary(checkpoint: Path, splits: Splits, output_dir: Path) -> Vocabulary:
    vocab, labels = ckpt.read_vocab_and_labels(checkpoint)
    if labels != splits.classes:
        raise SentimentError(
            f"--resume {output_dir}: the labels in {splits.data.path} changed since the run began"
        )
    return vocab
