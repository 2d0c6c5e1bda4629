"""Keras callbacks for training: validation macro recall, resumable early stopping, an
every-epoch checkpoint (written by ``checkpoint.write_state``) and a clean Ctrl-C.

Imported only by code that already needs TensorFlow.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import keras
import numpy as np

from sentiment_cli.training.checkpoint import write_state


class MacroRecall(keras.callbacks.Callback):
    """Adds ``val_macro_recall`` (the SemEval-2017 headline metric) and ``val_macro_f1``
    to the epoch logs, so early stopping can follow what the benchmark rewards."""

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, n_classes: int):
        super().__init__()
        self.x_val, self.y_val, self.n_classes = x_val, y_val, n_classes

    def on_epoch_end(self, epoch, logs=None):
        predicted = self.model.predict(self.x_val, batch_size=512, verbose=0).argmax(axis=1)
        if logs is not None:
            logs.update(macro_scores(self.y_val, predicted, self.n_classes))


def macro_scores(y_val: np.ndarray, predicted: np.ndarray, n_classes: int) -> dict[str, float]:
    """``val_macro_recall`` and ``val_macro_f1`` of ``predicted`` (class ids)."""
    from sklearn.metrics import f1_score, recall_score

    labels = list(range(n_classes))
    return {
        key: float(score(y_val, predicted, labels=labels, average="macro", zero_division=0))
        for key, score in (("val_macro_recall", recall_score), ("val_macro_f1", f1_score))
    }


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping whose progress (best value, epochs waited, best weights) can be
    carried over from an interrupted run."""

    def __init__(self, *args, restored: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.restored = restored

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.restored:
            self.wait = self.restored["wait"]
            self.best = self.restored["best"]
            self.best_epoch = self.restored["best_epoch"]
            self.best_weights = self.restored.get("best_weights")

    def state(self) -> dict:
        best = None if self.best is None else float(self.best)
        return {"wait": int(self.wait), "best": best, "best_epoch": int(self.best_epoch)}


def schedule(train, restored: dict | None) -> tuple[ResumableEarlyStopping, list]:
    """(early stopping, [learning-rate reduction?, early stopping]): the callbacks that
    decide a run's course from ``train.monitor``, the same in one process and on Ray's
    workers; early stopping restored from an interrupted run's state."""
    mode = "min" if train.monitor == "val_loss" else "max"
    early_stopping = ResumableEarlyStopping(
        monitor=train.monitor,
        mode=mode,
        patience=train.early_stopping_patience,
        restore_best_weights=True,
        restored=restored,
    )
    if train.reduce_lr_factor >= 1:
        return early_stopping, [early_stopping]
    # After an epoch that did not improve `monitor`, go on with a smaller step.
    reduce = keras.callbacks.ReduceLROnPlateau(
        monitor=train.monitor, mode=mode, factor=train.reduce_lr_factor, patience=0
    )
    return early_stopping, [reduce, early_stopping]


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: save model + optimizer, early-stopping state and history."""

    def __init__(self, checkpoint: Path, early_stopping: ResumableEarlyStopping, history: dict):
        super().__init__()
        self.checkpoint = checkpoint
        self.early_stopping = early_stopping
        self.history = {k: list(v) for k, v in history.items()}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        progress = {
            "epochs_done": epoch + 1,
            "early_stopping": self.early_stopping.state(),
            "stopped": bool(self.model.stop_training),
            "history": self.history,
        }
        write_state(self.checkpoint, self.model, progress, self.early_stopping.best_weights)


class GracefulInterrupt(keras.callbacks.Callback):
    """Ctrl-C during ``fit`` stops training at the next batch boundary.

    A KeyboardInterrupt raised while TensorFlow runs a step can abort the process
    (SIGABRT) instead of unwinding it; so the SIGINT handler only records the request,
    and this callback raises KeyboardInterrupt between batches, where it unwinds
    cleanly. A second Ctrl-C interrupts at once. Use it as a context manager around
    ``fit``; it leaves SIGINT alone when the parent ignored it or off the main thread.
    """

    def __init__(self):
        super().__init__()
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if current is not signal.SIG_IGN:
                self.previous = signal.signal(signal.SIGINT, self._request)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None
        return False

    def _request(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def _check(self, *args, **kwargs):
        if self.requested:
            raise KeyboardInterrupt

    on_train_batch_end = _check
    on_test_batch_end = _check
    on_predict_batch_end = _check
    on_epoch_begin = _check
