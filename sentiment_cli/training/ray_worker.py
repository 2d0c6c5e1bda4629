"""One Ray Train worker of ``train --engine ray`` (the driver's side: ``distributed.py``).

Ray Train runs ``worker_loop`` in each worker process with ``TF_CONFIG`` set. The
worker builds ``MultiWorkerMirroredStrategy`` first (the collectives are configured
before any other TensorFlow op), loads the starting model, or the last epoch's state
after a restart, inside its scope, and fits:

- each step, its rows of the global batch (``batches.global_batches``); the
  gradients are summed across the workers and every worker applies the same update;
- each epoch, the whole validation split and the run's own callbacks (early stopping
  with its best weights, learning-rate reduction), the same on every worker, so they
  stop together; then a report to Ray, worker 0's with the epoch's state
  (``checkpoint.write_state``'s format) as the checkpoint.

Imported only inside Ray's workers, which already need TensorFlow.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.training.batches import global_batches

VAL_BATCH = 512
SEED_STRIDE = 7919  # worker k seeds its random draws with train.seed + k * SEED_STRIDE


def worker_loop(job: dict) -> None:
    """One worker's fit (the ``train_loop_per_worker`` of Ray's TensorflowTrainer)."""
    import tensorflow as tf

    # The strategy sets up the collectives: before any other TensorFlow op runs.
    worker = Worker(job, tf.distribute.MultiWorkerMirroredStrategy())
    worker.fit()


class Worker:
    """A worker's model, data, steps and callbacks, and its loop over the epochs."""

    def __init__(self, job: dict, strategy):
        import ray
        import ray.train

        from sentiment_cli.models import backend

        self.keras = backend.load()
        context = ray.train.get_context()
        self.rank, self.workers = context.get_world_rank(), context.get_world_size()
        self.job, self.strategy = job, strategy
        self.config: Config = job["config"]
        data = ray.get(job["data"])
        self.x_train, self.y_train = data["x_train"], data["y_train"].astype(np.int64)
        self.w_train, self.x_val, self.y_val = data["w_train"], data["x_val"], data["y_val"]
        from sentiment_cli.training.batches import lengths_of

        self.lengths = lengths_of(self.x_train)
        # Same seed, workers and data: the same weights (each worker its own dropout draws).
        self.keras.utils.set_random_seed(self.config.train.seed + SEED_STRIDE * self.rank)
        self.model, self.progress = self.start(ray.train.get_checkpoint())
        self.step, self.summed, self.scores = self.functions()
        self.early_stopping, self.callbacks = self.fit_callbacks()

    def start(self, restored):
        """(model, progress): the last epoch's state after a restart, else the driver's."""
        import sentiment_cli.models.layers  # noqa: F401  (registers the custom layers)
        import sentiment_cli.models.optimizers  # noqa: F401  (and the optimizers)
        from sentiment_cli.training import checkpoint as ckpt

        with self.strategy.scope():
            if restored is not None:  # the group restarted after a worker died
                with restored.as_directory() as state:
                    model, progress, best = ckpt.load_state(Path(state))
                progress["early_stopping"] = {**progress["early_stopping"], "best_weights": best}
                progress["initial_epoch"] = progress["epochs_done"]
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    (Path(tmp) / "model.keras").write_bytes(self.job["model"])
                    model = self.keras.saving.load_model(
                        Path(tmp) / "model.keras", safe_mode=True, compile=True
                    )
                progress = self.job["progress"]
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
        return model, progress

    def functions(self):
        """(step, summed, scores): one training step on this worker's rows, a sum over
        the workers, and the model's probabilities."""
        import tensorflow as tf

        model, strategy, optimizer = self.model, self.strategy, self.model.optimizer
        loss_fn = self.keras.losses.SparseCategoricalCrossentropy(reduction=None)
        spec = (
            tf.TensorSpec((None, None), tf.int32),
            tf.TensorSpec((None,), tf.int64),
            tf.TensorSpec((None,), tf.float32),
            tf.TensorSpec((), tf.float32),
        )

        def replica_step(x, y, w, n):
            with tf.GradientTape() as tape:
                probs = model(x, training=True)
                loss = tf.reduce_sum(loss_fn(y, probs) * w) / n  # model.fit's weighted loss
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            correct = tf.reduce_sum(tf.cast(tf.argmax(probs, axis=1) == y, tf.float32))
            return loss, correct

        @tf.function(input_signature=spec)
        def step(x, y, w, n):
            # This worker's share of the batch loss and of the correct answers: summed
            # over the workers once an epoch (summing them every step costs collectives).
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

        return step, summed, scores

    def fit_callbacks(self):
        """(early stopping, every callback): the run's own (``callbacks.schedule``, as in
        one process), restored from the progress when the fit resumes."""
        from sentiment_cli.training.callbacks import schedule

        restored = self.progress.get("early_stopping") or None
        early_stopping, callbacks = schedule(self.config.train, restored)
        for callback in callbacks:
            callback.set_model(self.model)
            callback.on_train_begin()
        return early_stopping, callbacks

    def fit(self) -> None:
        """The epochs left, each reported to Ray; ends with the best weights."""
        t = self.config.train
        history = {k: list(v) for k, v in self.progress["history"].items()}
        timing = {"epoch_seconds": list(self.progress.get("epoch_seconds", []))}
        for epoch in range(self.progress["initial_epoch"], t.epochs):
            started = time.perf_counter()
            logs = {**self.train_epoch(t.seed + epoch), **self.validation_logs()}
            if not all(np.isfinite(v) for v in logs.values()):
                self.model.stop_training = True  # train() refuses a diverged run
            for callback in self.callbacks:
                callback.on_epoch_end(epoch, logs)
            for key, value in logs.items():
                history.setdefault(key, []).append(float(value))
            timing["epoch_seconds"].append(round(time.perf_counter() - started, 3))
            stopped = bool(getattr(self.model, "stop_training", False))
            if stopped or epoch + 1 == t.epochs:
                for callback in self.callbacks:
                    callback.on_train_end()
            self.report(epoch, history, stopped, logs, timing)
            if stopped:
                break

    def train_epoch(self, seed: int) -> dict[str, float]:
        """One pass over the training rows; the epoch's loss and accuracy, all workers'."""
        from sentiment_cli.training.batches import cut

        lengths, rank, workers = self.lengths, self.rank, self.workers
        loss_sum = correct_sum = rows = 0.0
        for batch in global_batches(lengths, self.config, seed, workers):
            mine = batch[rank::workers]
            x = cut(self.x_train[mine], lengths[batch].max(), self.config.text.padding)
            n = np.float32(len(batch))
            loss, correct = self.step(x, self.y_train[mine], self.w_train[mine], n)
            loss_sum += float(loss) * len(batch)
            correct_sum += float(correct)
            rows += len(batch)
        loss_sum, correct_sum = np.asarray(self.summed(np.array([loss_sum, correct_sum])))
        return {"accuracy": correct_sum / max(rows, 1), "loss": loss_sum / max(rows, 1)}

    def validation_logs(self) -> dict[str, float]:
        """Validation loss and accuracy as ``model.fit`` logs them (and macro recall and
        F1 where the run monitors one of them)."""
        from sentiment_cli.training.callbacks import macro_scores

        y_val = self.y_val
        probs = validation_scores(self.scores, self.x_val, self.config)
        picked = np.clip(probs[np.arange(len(y_val)), y_val], 1e-7, 1.0)
        logs = {
            "val_accuracy": float((probs.argmax(axis=1) == y_val).mean()),
            "val_loss": float(-np.log(picked).mean()),
        }
        if self.config.train.monitor in ("val_macro_recall", "val_macro_f1"):
            logs.update(macro_scores(y_val, probs.argmax(axis=1), self.job["classes"]))
        return logs

    def report(self, epoch, history, stopped, logs, timing) -> None:
        """Report the epoch to Ray; worker 0 with the epoch's state as the checkpoint
        (and ``timing``: each epoch's seconds, training and validation)."""
        import ray.train

        from sentiment_cli.training import checkpoint as ckpt

        metrics = {"epoch": epoch + 1, **logs}
        if self.rank != 0:
            ray.train.report(metrics)
            return
        progress = {
            "epochs_done": epoch + 1,
            "early_stopping": self.early_stopping.state(),
            "stopped": stopped,
            "history": history,
            **timing,
        }
        best = self.early_stopping.best_weights
        with tempfile.TemporaryDirectory() as tmp:
            ckpt.write_state(Path(tmp), self.model, progress, best)
            state = ray.train.Checkpoint.from_directory(str(Path(tmp) / ckpt.STATE))
            ray.train.report(metrics, checkpoint=state)


def validation_scores(scores, ids: np.ndarray, config: Config) -> np.ndarray:
    """The model's probabilities for every validation row, in their order, scored in
    batches cut to their longest row."""
    from sentiment_cli.training.batches import cut, lengths_of

    lengths = lengths_of(ids)
    order = np.argsort(lengths, kind="stable")
    out = None
    for i in range(0, len(order), VAL_BATCH):
        rows = order[i : i + VAL_BATCH]
        probs = np.asarray(scores(cut(ids[rows], lengths[rows].max(), config.text.padding)))
        if out is None:
            out = np.zeros((len(ids), probs.shape[1]), dtype=np.float32)
        out[rows] = probs
    return out
