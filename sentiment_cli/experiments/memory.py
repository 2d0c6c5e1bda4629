"""Memory over distance: can a cell carry one word's sentiment across N filler words?

Each synthetic sequence starts with a sentiment word (one of 10 positive or 10
negative ids) followed by N filler ids drawn at random; the label is the first
word's polarity, so a model can only be right if its state keeps that word for N
steps. A plain RNN's gradient through time shrinks step by step (vanishing
gradients), so its accuracy falls towards chance as N grows; an LSTM's cell state
C_t carries the word as long as its forget gate stays open.

Also measured: ‖∂L/∂h_t‖, the gradient of the loss with respect to the hidden state
at each step t, for the longest sequences -- the vanishing gradient made visible.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sentiment_cli.errors import SentimentError

N_SENTIMENT = 10  # ids 2..11 positive, 12..21 negative
N_FILLER = 40  # ids 22..61
VOCAB = 2 + 2 * N_SENTIMENT + N_FILLER
# "cell" or "cell:recurrent_initializer". The textbook plain RNN starts from a small
# random U (random_normal: stddev 0.05, spectral radius about 0.2, so the gradient
# shrinks at every step); Keras' default orthogonal U (radius 1) keeps gradient norms
# at initialization, which is worth seeing side by side. A Glorot U has radius about 1
# for a square matrix, so whether it vanishes depends on the draw.
DEFAULT_VARIANTS = ("simple_rnn:random_normal", "simple_rnn", "lstm", "gru")


def make_sequences(n: int, distance: int, rng: np.random.Generator):
    """(ids (n, distance + 1), labels (n,)): label 1 = positive first word."""
    labels = rng.integers(0, 2, size=n)
    first = np.where(labels == 1, 2, 2 + N_SENTIMENT) + rng.integers(0, N_SENTIMENT, size=n)
    fillers = rng.integers(2 + 2 * N_SENTIMENT, VOCAB, size=(n, distance))
    return np.concatenate([first[:, None], fillers], axis=1).astype("int32"), labels.astype("int32")


def parse_variant(spec: str) -> tuple[str, str]:
    """'lstm' -> ('lstm', 'orthogonal'); 'simple_rnn:glorot_uniform' -> that initializer."""
    cell, _, initializer = spec.partition(":")
    return cell, initializer or "orthogonal"


def parse_variants(text: str, option: str = "--cells") -> list[str]:
    """Comma-separated CELL[:INITIALIZER] specs, each cell and initializer checked."""
    from sentiment_cli.cells import CELLS
    from sentiment_cli.models.build import resolve_initializer

    variants = [spec.strip() for spec in text.split(",") if spec.strip()]
    if not variants:
        raise SentimentError(f"{option}: expected at least one cell, e.g. {option} lstm,gru")
    for spec in variants:
        cell, initializer = parse_variant(spec)
        if cell not in CELLS:
            raise SentimentError(f"{option}: unknown cell {cell!r}; expected {', '.join(CELLS)}")
        resolve_initializer(initializer, f"{option} {spec}")
    return variants


def build(spec: str, units: int, embedding_dim: int, seed: int, compiled: bool = True):
    """Embedding -> one recurrent layer -> Dense(2) for the synthetic sequences; spec is
    CELL[:RECURRENT_INITIALIZER], the initializer a name or a Keras config mapping."""
    from sentiment_cli.models import backend

    keras = backend.keras()

    from sentiment_cli.config import TrainConfig
    from sentiment_cli.models.build import compile_model, keras_cell

    cell, recurrent_initializer = parse_variant(spec) if isinstance(spec, str) else spec
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(VOCAB, embedding_dim, name="embedding")(inputs)
    initializer = keras.initializers.get(recurrent_initializer)
    x = keras_cell(cell)(units, recurrent_initializer=initializer, name="rnn")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, outputs)
    if compiled:
        compile_model(model, TrainConfig(learning_rate=0.005, clipnorm=1.0))
    return model


def state_gradient_norms(model, ids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean over the batch of ‖∂L/∂h_t‖ for every step t (the cell unrolled by hand)."""
    from sentiment_cli.models import backend

    keras = backend.keras()
    import tensorflow as tf

    embedded = model.get_layer("embedding")(ids)
    cell = model.get_layer("rnn").cell
    classifier = model.get_layer("classifier")
    batch = ids.shape[0]
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    states = [tf.zeros((batch, size)) for size in sizes]
    hs = []
    with tf.GradientTape() as tape:
        for t in range(ids.shape[1]):
            h, states = cell(embedded[:, t], states, training=False)
            states = list(states) if isinstance(states, (list, tuple)) else [states]
            hs.append(h)
        loss = keras.losses.sparse_categorical_crossentropy(labels, classifier(hs[-1]))
        loss = tf.reduce_mean(loss)
    grads = tape.gradient(loss, hs)
    return np.array([float(tf.reduce_mean(tf.norm(g, axis=-1))) for g in grads])


def memory_experiment(
    distances: Sequence[int] = (5, 10, 20, 50, 100),
    cell_names: Sequence[str] = DEFAULT_VARIANTS,
    *,
    train_size: int = 1000,
    test_size: int = 500,
    units: int = 16,
    embedding_dim: int = 8,
    epochs: int = 20,
    batch_size: int = 32,
    seed: int = 42,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Test accuracy of each cell at each distance, and ‖∂L/∂h_t‖ at initialization for
    the largest one."""
    from sentiment_cli.models.backend import load

    load()  # TensorFlow, quietly
    rng = np.random.default_rng(seed)
    results: dict[str, Any] = {
        "distances": list(distances),
        "cells": list(cell_names),
        "settings": {
            "train_size": train_size,
            "test_size": test_size,
            "units": units,
            "embedding_dim": embedding_dim,
            "epochs": epochs,
            "seed": seed,
        },
        "accuracy": {cell: [] for cell in cell_names},
        "seconds": {cell: [] for cell in cell_names},
        "gradient_norms": {},
    }
    longest = max(distances)
    for distance in distances:
        x_train, y_train = make_sequences(train_size, distance, rng)
        x_test, y_test = make_sequences(test_size, distance, rng)
        for cell in cell_names:
            started = time.perf_counter()
            model = build(cell, units, embedding_dim, seed)
            if distance == longest:
                # At initialization: how much of the loss' gradient reaches step t when
                # learning starts (a trained model's near-zero loss hides it).
                norms = state_gradient_norms(model, x_test[:64], y_test[:64])
                results["gradient_norms"][cell] = norms.tolist()
            model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
            probs = model.predict(x_test, batch_size=256, verbose=0)
            accuracy = float((probs.argmax(axis=1) == y_test).mean())
            seconds = time.perf_counter() - started
            results["accuracy"][cell].append(accuracy)
            results["seconds"][cell].append(round(seconds, 2))
            log(f"N={distance:<4} {cell:<26} accuracy {accuracy:.3f}  ({seconds:.1f}s)")
    return results


def plot_memory(results: dict[str, Any], path) -> None:
    from sentiment_cli.plots import pyplot, save

    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for cell in results["cells"]:
        left.plot(results["distances"], results["accuracy"][cell], "-o", label=cell)
    left.axhline(0.5, color="grey", linestyle=":", label="chance")
    left.set_xscale("log")
    left.set_xticks(results["distances"], [str(d) for d in results["distances"]])
    left.set_xlabel("filler words between the sentiment word and the end (N)")
    left.set_ylabel("test accuracy")
    left.set_ylim(0.4, 1.02)
    left.set_title("Remembering the first word")
    left.legend()
    for cell, norms in results["gradient_norms"].items():
        norms = np.asarray(norms, dtype=float)
        # float32 underflows to exactly 0 far from the loss; leave those steps blank.
        right.plot(range(1, len(norms) + 1), np.where(norms > 0, norms, np.nan), label=cell)
    right.set_yscale("log")
    right.set_xlabel("time step t")
    right.set_ylabel("‖∂L/∂h_t‖ (mean over a batch)")
    longest = max(results["distances"])
    right.set_title(f"Gradient reaching step t, at initialization (N = {longest})")
    right.legend()
    save(fig, path)
