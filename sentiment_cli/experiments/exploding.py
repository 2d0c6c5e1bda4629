"""Exploding gradients, measured: backpropagation through time multiplies the gradient
by the recurrent matrix once per step, so where that matrix stretches (spectral radius
above 1) the gradient can grow exponentially with the sequence length. One huge
gradient step throws the weights far away, and training fails; clipping the gradient
norm bounds every step.

A plain RNN (SimpleRNN, tanh) reads the synthetic sequences of the memory experiment
(``memory.make_sequences``: a sentiment word, then filler words; the label is that
word's polarity), with its recurrent matrix U started as an orthogonal matrix times
the spectral radius, trained by plain gradient descent (SGD) with clipping off and on.
Per step it records the gradient norm as computed (before clipping), the norm of the
gradient applied (after clipping), the loss and whether either is NaN or infinite.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sentiment_cli.experiments.memory import build, make_sequences

EXPLODES = 1e3  # a gradient norm above this counts as exploded


def exploding_experiment(
    radii: Sequence[float] = (1.5, 2.5),
    clipnorm: float = 1.0,
    *,
    length: int = 40,
    steps: int = 150,
    batch_size: int = 32,
    learning_rate: float = 0.1,
    units: int = 32,
    embedding_dim: int = 8,
    seed: int = 42,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """For each spectral radius, one run without clipping and one with ``clipnorm``."""
    rng = np.random.default_rng(seed)
    x_train, y_train = make_sequences(batch_size * steps, length, rng)
    x_test, y_test = make_sequences(500, length, rng)
    runs = []
    for radius in radii:
        for clip in (None, clipnorm):
            run = train_run(
                radius, clip, (x_train, y_train), (x_test, y_test), steps, batch_size,
                learning_rate, units, embedding_dim, seed,
            )  # fmt: skip
            runs.append(run)
            log(
                f"{run['name']:<34} max gradient norm {run['max_grad_norm']:.3g}, applied "
                f"{run['max_applied_norm']:.3g}, final loss {run['final_loss']:.3g}, accuracy "
                f"{run['accuracy'] if run['accuracy'] is None else round(run['accuracy'], 3)}"
            )
    return {
        "settings": {
            "length": length,
            "steps": steps,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "optimizer": "SGD",
            "units": units,
            "seed": seed,
            "explodes_above": EXPLODES,
        },
        "runs": runs,
    }


def train_run(
    radius, clip, train, test, steps, batch_size, learning_rate, units, embedding_dim, seed
) -> dict[str, Any]:
    """One setting: SGD on the training sequences, the gradient recorded every step."""
    from sentiment_cli.models import backend

    keras = backend.keras()
    import tensorflow as tf

    (x_train, y_train), (x_test, y_test) = train, test
    started = time.perf_counter()
    initializer = {"class_name": "Orthogonal", "config": {"gain": float(radius)}}
    model = build(("simple_rnn", initializer), units, embedding_dim, seed, compiled=False)
    optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
    raw, applied, losses = [], [], []
    for step in range(steps):
        batch = slice(step * batch_size, (step + 1) * batch_size)
        with tf.GradientTape() as tape:
            probs = model(x_train[batch], training=True)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(y_train[batch], probs)
            )
        grads = tape.gradient(loss, model.trainable_variables)
        norm = float(tf.linalg.global_norm(grads))
        if clip is not None:
            grads, _ = tf.clip_by_global_norm(grads, clip, use_norm=tf.constant(norm))
        raw.append(norm)
        applied.append(float(tf.linalg.global_norm(grads)))
        losses.append(float(loss))
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    probs = np.asarray(model(x_test, training=False))
    accuracy = float((probs.argmax(axis=1) == y_test).mean()) if np.isfinite(probs).all() else None
    finite = [math.isfinite(v) for v in (*losses, *raw)]
    return {
        "name": f"radius {radius:g}, " + ("no clipping" if clip is None else f"clipnorm {clip:g}"),
        "radius": float(radius),
        "clipnorm": clip,
        "grad_norm": raw,
        "applied_norm": applied,
        "loss": losses,
        "non_finite_step": None if all(finite) else finite.index(False) % steps,
        "max_grad_norm": max((v for v in raw if math.isfinite(v)), default=None),
        "max_applied_norm": max((v for v in applied if math.isfinite(v)), default=None),
        "exploded": (not all(finite)) or max(applied) > EXPLODES,
        "final_loss": losses[-1],
        "accuracy": accuracy,
        "seconds": round(time.perf_counter() - started, 2),
    }


def plot_exploding(result: dict[str, Any], path) -> None:
    from sentiment_cli.plots import pyplot, save

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for run in result["runs"]:
        style = "-" if run["clipnorm"] is None else "--"
        steps = np.arange(1, len(run["grad_norm"]) + 1)
        left.plot(steps, run["grad_norm"], style, label=run["name"])
        right.plot(steps, run["loss"], style, label=run["name"])
    left.axhline(EXPLODES, color="grey", linestyle=":", label=f"{EXPLODES:g}")
    left.set_yscale("log")
    left.set_xlabel("training step")
    left.set_ylabel("gradient norm before clipping")
    left.set_title("Gradient norm per step")
    left.legend(fontsize=8)
    right.set_xlabel("training step")
    right.set_ylabel("loss")
    right.set_title(f"Loss (chance: {math.log(2):.2f})")
    right.legend(fontsize=8)
    save(fig, path)
