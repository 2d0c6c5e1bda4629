"""Data-parallel training on Ray Train: ``train --engine ray --workers N``.

The driver (``train``) reads, tokenizes and encodes the data and builds the starting
model as for one process; only the fit runs on the cluster. Ray Train's
``TensorflowTrainer`` starts N workers and gives each a ``TF_CONFIG``; each worker
builds ``tf.distribute.MultiWorkerMirroredStrategy`` on it, loads the starting model
(optimizer included) inside the strategy's scope and runs the fit as a custom loop,
because Keras 3's ``model.fit`` fails under that strategy (keras-team/keras#20585).

The workers' side is ``ray_worker.py``.

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
  a Ray checkpoint, kept under ``OUTPUT_DIR.checkpoint/ray/`` (``checkpoint.RAY_DIR``). A
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
from sentiment_cli.training import checkpoint as ckpt

Log = Callable[[str], None]

MAX_FAILURES = 3  # restarts of the worker group after a worker dies


@dataclasses.dataclass(frozen=True)
class Engine:
    """Where the fit runs: ``workers`` Ray workers, on a local Ray or at ``address``."""

    workers: int
    address: str | None = None

    def summary(self) -> dict:
        return {"name": "ray", "workers": self.workers, "address": self.address}


def engine_summary(fields: dict | None) -> dict:
    """``summary.json``'s ``engine``: where the fit ran (run.json's Engine fields; None:
    in the training process)."""
    if fields is None:
        return {"name": "keras", "workers": 1, "address": None}
    return Engine(**fields).summary()


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
    run's, with epochs left); sets the fitted (best) weights on ``model`` and returns
    (the whole run's history, seconds fitting). The same contract as ``fit.fit``."""
    import ray

    t = config.train
    started = time.perf_counter()
    ours = start_ray(engine)
    try:
        job = job_for(model, config, prepared, progress, class_weight, sample_weight)
        storage = (checkpoint / ckpt.RAY_DIR).resolve()
        # Every epoch is checkpointed, for Ray's restarts; a fit that is not to be resumed
        # (train.checkpoint false, members after the first) keeps them apart, then drops them.
        name = next_run_name(storage, "fit" if t.checkpoint else "scratch")
        where = f" at {engine.address}" if engine.address else " on a local Ray"
        log(f"Training on Ray: {engine.workers} workers{where}; checkpoints in {storage}/{name}")
        fitted, final, best = run_trainer(job, engine, storage, name)
    finally:
        if ours:
            ray.shutdown()  # the local Ray this fit started: its CPUs and memory back
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


def job_for(model, config: Config, prepared, progress, class_weight, sample_weight) -> dict:
    """What every worker gets: the data (in Ray's object store), the starting model as a
    ``.keras`` file's bytes (with the optimizer's state, when resumed), the config and
    the progress to start from."""
    import ray

    from sentiment_cli.training.batches import row_weights

    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "model.keras")
        model_bytes = (Path(tmp) / "model.keras").read_bytes()
    labels = prepared.y_train
    data = {
        "x_train": prepared.x_train.ids,
        "y_train": labels,
        "w_train": row_weights(labels, class_weight, sample_weight),  # as model.fit weighs
        "x_val": prepared.x_val.ids,
        "y_val": prepared.y_val,
    }
    return {
        "data": ray.put(data),
        "model": model_bytes,
        "config": config,
        "classes": len(prepared.splits.classes),
        "progress": {
            "initial_epoch": progress.initial_epoch,
            "history": {key: list(values) for key, values in progress.history.items()},
            "early_stopping": dict(progress.early_stopping or {}),
        },
    }


def run_trainer(job: dict, engine: Engine, storage: Path, name: str):
    """Run the workers to the end of the fit: (model, progress, best weights) of its
    last checkpoint. Ctrl-C (Ray aborts the run) is a KeyboardInterrupt; a run that
    failed past Ray's restarts, a SentimentError."""
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.tensorflow import TensorflowTrainer

    from sentiment_cli.training.ray_worker import worker_loop

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
        return ckpt.load_state(Path(state))


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
            auth = "" if os.environ.get("RAY_AUTH_MODE") else (
                "; a cluster with token authentication (Ray's default) also needs "
                "RAY_AUTH_MODE=token here, with its token in ~/.ray/auth_token or "
                "RAY_AUTH_TOKEN"
            )  # fmt: skip
            raise SentimentError(
                f"--address {engine.address}: cannot join a Ray cluster there ({detail}){auth}"
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
