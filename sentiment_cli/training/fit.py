"""The fit loop: callbacks, class weights, ensemble members, a resumed run's progress."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.models.baseline import class_weights
from sentiment_cli.models.build import ensemble_of
from sentiment_cli.models.size import batch_size_for
from sentiment_cli.training import checkpoint as ckpt
from sentiment_cli.training.batches import fit_arguments
from sentiment_cli.training.checkpoint import Progress
from sentiment_cli.training.continued import Origin, started
from sentiment_cli.training.finish import validate
from sentiment_cli.training.prepare import Prepared
from sentiment_cli.training.start import new_model, pretrain_model

Log = Callable[[str], None]


def model_and_progress(
    config: Config,
    prepared: Prepared,
    checkpoint: Path,
    resume: bool,
    verbose: int,
    log: Log,
    origin: Origin | None = None,
    member: int = 0,
):
    """(model, Progress, pretrained-vector coverage): a new model (pretrained first when
    configured), the ``member`` of the ``origin`` folder that ``train --from`` continues,
    or the interrupted run's model and progress."""
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
    if origin is not None:
        model, found = started(origin, member, config, prepared, log)
        return model, Progress(), found
    model, found = new_model(config, prepared, log)
    if prepared.pretrain is not None:
        pretrain_model(model, config, prepared, verbose, log)
    return model, Progress(), found


def fit(
    model,
    config: Config,
    prepared: Prepared,
    progress: Progress,
    checkpoint: Path,
    verbose: int,
    log: Log,
    tensorboard: str | Path | None = None,
    engine=None,
) -> tuple[dict[str, list[float]], float]:
    """Fit with early stopping (best weights restored) and an every-epoch checkpoint;
    returns the whole run's history and the seconds spent fitting. ``engine``: a
    ``distributed.Engine`` to fit on Ray's workers instead of in this process."""
    t = config.train
    weights, sample_weights = loss_weights(config, prepared, log)
    to_fit = progress.initial_epoch < t.epochs and not progress.stopped
    if to_fit and t.batch_size == "auto":
        rows = len(prepared.y_train)
        log(f"Batches of {batch_size_for(t, rows)} tweets (train.batch_size: auto, {rows:,} rows)")
    if to_fit and engine is not None:
        from sentiment_cli.training.distributed import fit_on_ray

        return fit_on_ray(
            model, config, prepared, progress, checkpoint, weights, sample_weights, engine, log
        )
    from sentiment_cli.training.callbacks import GracefulInterrupt

    callbacks = fit_callbacks(config, prepared, progress, checkpoint, tensorboard, log)
    history = {key: list(values) for key, values in progress.history.items()}
    started = time.perf_counter()
    if to_fit:
        with GracefulInterrupt() as interrupt:
            result = model.fit(
                **fit_arguments(
                    config,
                    (prepared.x_train.ids, prepared.y_train),
                    (prepared.x_val.ids, prepared.y_val),
                    weights,
                    sample_weights,
                    seed=t.seed + progress.initial_epoch,
                ),
                epochs=t.epochs,
                initial_epoch=progress.initial_epoch,
                callbacks=[interrupt, *callbacks],
                verbose=verbose,
            )
        for key, values in result.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
    elif progress.early_stopping and progress.early_stopping.get("best_weights") is not None:
        model.set_weights(progress.early_stopping["best_weights"])
    return history, time.perf_counter() - started


def fit_members(
    model, config, prepared, progress, checkpoint, verbose, log, tensorboard, origin=None,
    engine=None,
):  # fmt: skip
    """Fit the model; with ``train.members`` k > 1, then k - 1 more with the seeds that
    follow (each from its own member of ``origin`` under ``train --from``), and return
    their average as one model. Returns (model, the first member's
    history, seconds fitting, each member's seed, best epoch and validation metrics)."""
    k = config.train.members
    if k > 1:
        log(f"Member 1 of {k} (seed {config.train.seed})")
    history, seconds = fit(
        model, config, prepared, progress, checkpoint, verbose, log, tensorboard, engine
    )
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
            member_config, prepared, checkpoint, False, verbose, lambda message: None,
            origin, i - 1,
        )  # fmt: skip
        member_history, member_seconds = fit(
            member, member_config, prepared, fresh, checkpoint, verbose, log, None, engine
        )
        seconds += member_seconds
        fitted.append(member)
        runs.append(member_run(member, member_config, prepared, member_history, log))
    log(f"Ensemble: the mean of {k} members' probabilities")
    return ensemble_of(fitted, config), history, seconds, runs


def member_run(model, config, prepared, history, log) -> dict[str, Any]:
    metrics, best_epoch = validate(model, config, prepared, history, log)
    return {"seed": config.train.seed, "best_epoch": best_epoch, "validation": metrics}


def fit_callbacks(config, prepared, progress, checkpoint, tensorboard, log) -> list:
    """Validation macro recall (when monitored), resumable early stopping, the epoch
    checkpoint and TensorBoard, as configured."""
    from sentiment_cli.models import backend
    from sentiment_cli.training.callbacks import EpochCheckpoint, MacroRecall, schedule

    t = config.train
    early_stopping, deciding = schedule(t, progress.early_stopping)
    # A NaN or infinite loss ends the run at once; train() then refuses to write it.
    callbacks = [backend.keras().callbacks.TerminateOnNaN()]
    if t.monitor in ("val_macro_recall", "val_macro_f1"):
        n_classes = len(prepared.splits.classes)
        callbacks.append(MacroRecall(prepared.x_val.ids, prepared.y_val, n_classes))
    callbacks += deciding
    if t.checkpoint:
        callbacks.append(EpochCheckpoint(checkpoint, early_stopping, progress.history))
    if tensorboard is not None:
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
    weights = class_weights(real_labels, classes, config.train.class_weight)
    if weights is not None:
        log("Class weights: " + ", ".join(f"{c}={weights[i]:.3f}" for i, c in enumerate(classes)))
    if len(prepared.y_train) == len(real_labels):
        return weights, None
    per_class = np.array([(weights or {}).get(i, 1.0) for i in range(len(classes))])
    sample_weights = per_class[prepared.y_train]
    end = len(sample_weights) - prepared.pseudo
    sample_weights[len(real_labels) : end] *= config.train.augment_weight
    sample_weights[end:] *= config.train.pseudo_weight  # self-training's pseudo-labels
    return None, sample_weights
