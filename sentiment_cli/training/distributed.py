"""Data-parallel training on Ray Train: ``train --engine ray --workers N``.

The driver (``train``) reads, tokenizes and encodes the data and builds the starting
model as for one process; only the fit runs on the cluster. Ray Train's
``TensorflowTrainer`` starts N workers and gives each a ``TF_CONFIG``; each worker
builds ``tf.distribute.MultiWorkerMirroredStrategy`` on it, loads the starting model
(optimizer included) inside the strategy's scope and runs the fit as a custom loop,
because Keras 3's ``model.fit`` fails under that strategy (keras-team/keras#20585).

- **The same batches as one process.** Every worker draws the same global batches
  (by length, ``batches.py``) from the run's seed; worker k takes rows k, k + N, ...
  of each. TensorFlow's collective all-reduce sums the gradients, so every replica
  applies the same update and the weights stay identical. A global batch with fewer
  rows than workers is left out (at most N - 1 rows an epoch).
- **The same loss and the same decisions.** The loss is the weighted cross-entropy
  of ``model.fit`` (class weights and augmentation weights folded into each row's
  weight), averaged over the global batch. After each epoch every worker scores the
  whole validation split and runs the run's own callbacks (early stopping with its
  best weights, learning-rate reduction), so all workers stop together.
- **Checkpoints through Ray.** After each epoch worker 0 reports the epoch's state in
  the format of ``checkpoint.py`` (model with optimizer, best weights, progress) as
  a Ray checkpoint, kept under ``OUTPUT_DIR.checkpoint/ray/``. A
  worker that dies makes Ray restart the group (up to ``MAX_FAILURES`` times), which
  goes on from the last checkpoint; ``train --resume`` finds it there too.

Ray is an optional extra (``sentiment-cli[ray]``); nothing here is imported without it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.errors import SentimentError

Log = Callable[[str], None]

RAY_DIR = "ray"  # inside OUTPUT_DIR.checkpoint/: Ray's storage for the run's checkpoints
MAX_FAILURES = 3  # restarts of the worker group after a worker dies
VAL_BATCH = 512
SEED_STRIDE = 7919  # worker k seeds its random draws with train.seed + k * SEED_STRIDE


@dataclasses.dataclass(frozen=True)
class Engine:
    """Where the fit runs: ``workers`` Ray workers, on a local Ray or at ``address``."""

    workers: int
    address: str | None = None

    def summary(self) -> dict:
        return {"name": "ray", "workers": self.workers, "address": self.address}


def require_ray() -> None:
    """Refuse at once, before any data is read, where Ray Train is not installed."""
    from sentiment_cli.models.backend import filtered_stderr

    try:
        with filtered_stderr():  # ray.train.tensorflow imports TensorFlow, which logs
            import ray.train  # noqa: F401
            import ray.train.tensorflow  # noqa: F401
    except ImportError as exc:
        raise SentimentError(
            f"--engine ray needs Ray Train ({exc}): pip install 'sentiment-cli[ray]'"
        ) from None


def ray_states(checkpoint: Path) -> list[Path]:
    """The epoch states Ray kept under ``checkpoint`` (all runs, attempts), any order."""
    return [p.parent for p in (checkpoint / RAY_DIR).glob("fit-*/checkpoint_*/progress.json")]


def row_weights(labels: np.ndarray, class_weight, sample_weight) -> np.ndarray:
    """Each row's weight in the loss, as ``model.fit`` weighs it: its sample weight
    times its class's weight."""
    weights = np.ones(len(labels), dtype=np.float32)
    if sample_weight is not None:
        weights *= np.asarray(sample_weight, dtype=np.float32)
    if class_weight:
        per_class = np.array([class_weight.get(i, 1.0) for i in range(int(labels.max()) + 1)])
        weights *= per_class[labels].astype(np.float32)
    return weights


def global_batches(lengths: np.ndarray, config: Config, seed: int, workers: int):
    """The epoch's global batches (row indices): by length where the padding is masked,
    else shuffled; those with fewer rows than workers left out."""
    from sentiment_cli.training.batches import batch_rows, by_length

    size = config.train.batch_size
    if by_length(config):
        batches = batch_rows(lengths, size, seed)
    else:
        order = np.random.default_rng(seed).permutation(len(lengths))
        batches = [order[i : i + size] for i in range(0, len(order), size)]
    return [rows for rows in batches if len(rows) >= workers]


def fit_on_ray(
    model,
    config: Config,
    prepared,
    progress,
    checkpoint: Path,
    class_weight,
    sample_weight,
    engine: Engine,
    log: Log,
) -> tuple[dict[str, list[float]], float]:
    """Fit ``model`` on ``engine``'s workers from ``progress`` (epoch 0, or a resumed
    run's); sets the fitted (best) weights on ``model`` and returns (the whole run's
    history, seconds fitting). The same contract as ``fit.fit``."""
    import ray

    t = config.train
    if progress.initial_epoch >= t.epochs or progress.stopped:
        if progress.early_stopping and progress.early_stopping.get("best_weights") is not None:
            model.set_weights(progress.early_stopping["best_weights"])
        return {key: list(values) for key, values in progress.history.items()}, 0.0
    started = time.perf_counter()
    ours = start_ray(engine)
    try:
        return fit_with(
            model, config, prepared, progress, checkpoint, class_weight, sample_weight, engine,
            log, started,
        )  # fmt: skip
    finally:
        if ours:
            ray.shutdown()  # the local Ray this fit started: its CPUs and memory back


def fit_with(
    model, config, prepared, progress, checkpoint, class_weight, sample_weight, engine, log,
    started,
):  # fmt: skip
    """``fit_on_ray`` once Ray is up."""
    import ray
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.tensorflow import TensorflowTrainer

    from sentiment_cli.training import checkpoint as ckpt

    t = config.train
    history = {key: list(values) for key, values in progress.history.items()}
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "model.keras")  # with the optimizer's state, when resumed
        model_bytes = (Path(tmp) / "model.keras").read_bytes()
    labels = prepared.y_train
    data = ray.put(
        {
            "x_train": prepared.x_train.ids,
            "y_train": labels,
            "w_train": row_weights(labels, class_weight, sample_weight),
            "x_val": prepared.x_val.ids,
            "y_val": prepared.y_val,
        }
    )
    early = dict(progress.early_stopping or {})
    job = {
        "data": data,
        "model": model_bytes,
        "config": config,
        "classes": len(prepared.splits.classes),
        "progress": {
            "initial_epoch": progress.initial_epoch,
            "history": history,
            "early_stopping": early,
        },
    }
    storage = (checkpoint / RAY_DIR).resolve()
    # Every epoch is checkpointed, for Ray's restarts; a fit that is not to be resumed
    # (train.checkpoint false, members after the first) keeps them apart and drops them.
    name = next_run_name(storage, "fit" if t.checkpoint else "scratch")
    log(
        f"Training on Ray: {engine.workers} workers"
        + (f" at {engine.address}" if engine.address else " on a local Ray")
        + f"; checkpoints in {storage}/{name}"
    )
    trainer = TensorflowTrainer(
        worker_loop,
        train_loop_config=job,
        scaling_config=ScalingConfig(
            num_workers=engine.workers, use_gpu=False, resources_per_worker={"CPU": 1}
        ),
        run_config=RunConfig(
            name=name,
            storage_path=str(storage),
            failure_config=FailureConfig(max_failures=MAX_FAILURES),
            checkpoint_config=CheckpointConfig(num_to_keep=2),
        ),
    )
    sigint = signal.getsignal(signal.SIGINT)
    try:
        result = trainer.fit()
    except SystemExit:  # Ray's own Ctrl-C handler aborts the run and exits
        raise KeyboardInterrupt from None
    except Exception as exc:  # Ray wraps the workers' errors in its own types
        raise SentimentError(
            f"--engine ray: training failed on the cluster ({worker_error(exc)}); the last "
            f"epoch's checkpoint (if any) is kept: continue with --resume"
        ) from None
    finally:
        signal.signal(signal.SIGINT, sigint)  # Ray's handler stays behind otherwise
    if result.checkpoint is None:  # a run that ends reports its last epoch: cut short
        raise KeyboardInterrupt
    with result.checkpoint.as_directory() as state:
        fitted, final, best = ckpt.load_state(Path(state))
    if not (final["stopped"] or final["epochs_done"] >= t.epochs):
        raise KeyboardInterrupt  # aborted (Ctrl-C) after an epoch's checkpoint
    if not t.checkpoint:
        shutil.rmtree(storage / name, ignore_errors=True)
    model.set_weights(best if best is not None else fitted.get_weights())
    seconds = time.perf_counter() - started
    epochs = final.get("epoch_seconds", [])
    progress.epoch_seconds = epochs
    log(
        f"Ray: {final['epochs_done']} epochs done in {seconds:.1f}s (the epochs "
        f"{sum(epochs):.1f}s, a median of {np.median(epochs) if epochs else 0:.1f}s each; "
        f"the rest is starting the workers and handing them the data and the model)"
    )
    return {k: list(v) for k, v in final["history"].items()}, seconds


def start_ray(engine: Engine) -> bool:
    """Join ``engine.address``, or start a local Ray with a CPU for each worker (at
    least the machine's); whether this call started it (False: one was running)."""
    import ray

    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    os.environ.setdefault("RAY_TRAIN_ENABLE_V2_MIGRATION_WARNINGS", "0")
    if engine.address:
        check_address(engine.address)
        try:
            ray.init(address=engine.address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise SentimentError(
                f"--address {engine.address}: cannot join a Ray cluster there ({detail}); "
                f"start one with 'ray start --head', or leave --address out for a local one"
            ) from None
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus < engine.workers:
            ray.shutdown()
            raise SentimentError(
                f"--workers {engine.workers}: the cluster at {engine.address} has {cpus:g} "
                f"CPUs and each worker takes one; ask for at most {int(cpus)} workers or "
                f"add nodes"
            )
        return True
    # Ray gives a local node the machine's address, never 127.0.0.1 (it resolves a
    # loopback address to the reachable one): the workers' collectives listen there.
    ray.init(num_cpus=max(engine.workers, os.cpu_count() or 1), include_dashboard=False, **quiet)
    return True


def check_address(address: str) -> None:
    """Refuse at once a ``host:port`` where nothing listens: Ray itself would retry
    joining it for minutes."""
    host, sep, port = address.rpartition(":")
    if "://" in address or not sep or not port.isdigit():
        return  # "auto", ray://..., left to Ray
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise SentimentError(
            f"--address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
            f"start one with 'ray start --head', or leave --address out for a local one"
        ) from None


def next_run_name(storage: Path, kind: str) -> str:
    """``fit-1``, ``fit-2``, ...: each fit of a run (a resumed run) its own folder, so
    that an earlier attempt's checkpoints stay where --resume finds them."""
    taken = [0]
    if storage.is_dir():
        pattern = re.compile(rf"{kind}-(\d+)")
        taken += [int(m.group(1)) for p in storage.iterdir() if (m := pattern.fullmatch(p.name))]
    return f"{kind}-{max(taken) + 1}"


def worker_error(exc: BaseException) -> str:
    """The first line of the deepest cause Ray gives for a failed run."""
    seen = exc
    while seen.__cause__ is not None:
        seen = seen.__cause__
    text = str(seen).strip().splitlines()
    return f"{type(seen).__name__}: {text[-1] if text else ''}"[:300]


def worker_loop(job: dict) -> None:
    """One worker's fit (runs in a Ray Train worker, ``TF_CONFIG`` set by Ray)."""
    import ray
    import ray.train
    import tensorflow as tf

    # The strategy sets up the collectives: before any other TensorFlow op runs.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    from sentiment_cli.models import backend

    keras = backend.load()
    import sentiment_cli.models.layers  # noqa: F401  (registers the custom layers)
    import sentiment_cli.models.optimizers  # noqa: F401  (and the optimizers)
    from sentiment_cli.training import checkpoint as ckpt
    from sentiment_cli.training.batches import cut, lengths_of
    from sentiment_cli.training.callbacks import ResumableEarlyStopping, macro_scores

    context = ray.train.get_context()
    rank, workers = context.get_world_rank(), context.get_world_size()
    config: Config = job["config"]
    t = config.train
    data = ray.get(job["data"])
    # Same seed, workers and data: the same weights (each worker its own dropout draws).
    keras.utils.set_random_seed(t.seed + SEED_STRIDE * rank)
    restored = ray.train.get_checkpoint()
    with strategy.scope():
        if restored is not None:  # the group restarted after a worker died
            with restored.as_directory() as state:
                model, progress, best = ckpt.load_state(Path(state))
            progress["early_stopping"] = {**progress["early_stopping"], "best_weights": best}
            progress["initial_epoch"] = progress["epochs_done"]
        else:
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / "model.keras").write_bytes(job["model"])
                model = keras.saving.load_model(
                    Path(tmp) / "model.keras", safe_mode=True, compile=True
                )
            progress = job["progress"]
        optimizer = model.optimizer
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    spec = (
        tf.TensorSpec((None, None), tf.int32),
        tf.TensorSpec((None,), tf.int64),
        tf.TensorSpec((None,), tf.float32),
        tf.TensorSpec((), tf.float32),
    )

    def replica_step(x, y, w, n):
        with tf.GradientTape() as tape:
            probs = model(x, training=True)
            loss = tf.reduce_sum(loss_fn(y, probs) * w) / n
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        correct = tf.reduce_sum(tf.cast(tf.argmax(probs, axis=1) == y, tf.float32))
        return loss, correct

    @tf.function(input_signature=spec)
    def step(x, y, w, n):
        # This worker's share of the batch loss and of the correct answers: summed over
        # the workers once an epoch (summing them every step costs collectives).
        loss, correct = strategy.run(replica_step, args=(x, y, w, n))
        local = strategy.experimental_local_results
        return local(loss)[0], local(correct)[0]

    @tf.function(input_signature=[tf.TensorSpec((2,), tf.float64)])
    def summed(values):
        per_replica = strategy.run(tf.identity, args=(values,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    @tf.function(input_signature=spec[:1])
    def scores(x):
        return model(x, training=False)

    x_train, y_train = data["x_train"], data["y_train"].astype(np.int64)
    w_train, lengths = data["w_train"], lengths_of(data["x_train"])
    x_val, y_val = data["x_val"], data["y_val"]
    val_lengths = lengths_of(x_val)
    n_classes = job["classes"]
    monitor_mode = "min" if t.monitor == "val_loss" else "max"
    early_state = progress.get("early_stopping") or {}
    early_stopping = ResumableEarlyStopping(
        monitor=t.monitor,
        mode=monitor_mode,
        patience=t.early_stopping_patience,
        restore_best_weights=True,
        restored=early_state or None,
    )
    callbacks = [early_stopping]
    if t.reduce_lr_factor < 1:
        callbacks.insert(
            0,
            keras.callbacks.ReduceLROnPlateau(
                monitor=t.monitor, mode=monitor_mode, factor=t.reduce_lr_factor, patience=0
            ),
        )
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()
    history = {k: list(v) for k, v in progress["history"].items()}
    timing = {"epoch_seconds": list(progress.get("epoch_seconds", []))}
    for epoch in range(progress["initial_epoch"], t.epochs):
        epoch_started = time.perf_counter()
        seed = t.seed + epoch
        loss_sum = correct_sum = rows = 0.0
        for batch in global_batches(lengths, config, seed, workers):
            mine = batch[rank::workers]
            longest = lengths[batch].max()
            x = cut(x_train[mine], longest, config.text.padding)
            loss, correct = step(x, y_train[mine], w_train[mine], np.float32(len(batch)))
            loss_sum += float(loss) * len(batch)
            correct_sum += float(correct)
            rows += len(batch)
        loss_sum, correct_sum = np.asarray(summed(np.array([loss_sum, correct_sum])))
        logs = {"accuracy": correct_sum / max(rows, 1), "loss": loss_sum / max(rows, 1)}
        probs = validation_scores(scores, x_val, val_lengths, config)
        picked = np.clip(probs[np.arange(len(y_val)), y_val], 1e-7, 1.0)
        logs["val_accuracy"] = float((probs.argmax(axis=1) == y_val).mean())
        logs["val_loss"] = float(-np.log(picked).mean())
        if t.monitor in ("val_macro_recall", "val_macro_f1"):
            logs.update(macro_scores(y_val, probs.argmax(axis=1), n_classes))
        if not all(np.isfinite(v) for v in logs.values()):
            model.stop_training = True  # train() refuses a diverged run (TerminateOnNaN)
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        timing["epoch_seconds"].append(round(time.perf_counter() - epoch_started, 3))
        stopped = bool(getattr(model, "stop_training", False))
        last = stopped or epoch + 1 == t.epochs
        if last:
            for callback in callbacks:
                callback.on_train_end()
        report(model, epoch, history, early_stopping, stopped, rank, logs, timing)
        if stopped:
            break


def validation_scores(scores, ids: np.ndarray, lengths: np.ndarray, config: Config) -> np.ndarray:
    """The model's probabilities for every validation row, in their order, scored in
    batches cut to their longest row."""
    from sentiment_cli.training.batches import cut

    order = np.argsort(lengths, kind="stable")
    out = None
    for i in range(0, len(order), VAL_BATCH):
        rows = order[i : i + VAL_BATCH]
        probs = np.asarray(scores(cut(ids[rows], lengths[rows].max(), config.text.padding)))
        if out is None:
            out = np.zeros((len(ids), probs.shape[1]), dtype=np.float32)
        out[rows] = probs
    return out


def report(model, epoch, history, early_stopping, stopped, rank, logs, timing) -> None:
    """Report the epoch to Ray; worker 0 with the epoch's state as the checkpoint (and
    ``timing``: each epoch's seconds, training and validation)."""
    import ray.train

    from sentiment_cli.training import checkpoint as ckpt

    metrics = {"epoch": epoch + 1, **logs}
    if rank != 0:
        ray.train.report(metrics)
        return
    progress = {
        "epochs_done": epoch + 1,
        "early_stopping": early_stopping.state(),
        "stopped": stopped,
        "history": history,
        **timing,
    }
    with tempfile.TemporaryDirectory() as tmp:
        ckpt.write_state(Path(tmp), model, progress, early_stopping.best_weights)
        ray.train.report(
            metrics, checkpoint=ray.train.Checkpoint.from_directory(str(Path(tmp) / ckpt.STATE))
        )
