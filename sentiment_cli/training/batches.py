"""Batches of tweets of similar length, each cut to its own longest tweet.

Every tweet is padded to ``text.max_length`` ids (50 by default), but a tweet has
about 20 tokens, so most recurrent steps of a padded batch read padding. With the
padding masked (``model.mask_padding``) those steps change nothing: the state is
carried over and pooling skips them. So the steps can go. Each epoch, the training
rows are shuffled, cut into pools of ``POOL_BATCHES`` batches, sorted by length inside
each pool and batched; the batches are then shuffled, and each is cut to its longest
tweet (the "sortish" sampling of fairseq's and AllenNLP's bucket iterators). The
model computes the same function; only the padding it never read is gone.

With unmasked padding the zeros are part of what the model reads, and the batches
stay padded and shuffled as Keras does it (``train.length_batches: false`` asks for
that too).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.models.size import batch_size_for

POOL_BATCHES = 50  # batches sorted together: random enough, and even lengths inside


def lengths_of(ids: np.ndarray) -> np.ndarray:
    """Ids per row that are not padding (id 0)."""
    return (ids != 0).sum(axis=1)


def batch_rows(lengths: np.ndarray, batch_size: int, seed: int | None) -> list[np.ndarray]:
    """Row indices of each batch: shuffled pools sorted by length, batches shuffled
    (``seed``); with ``seed=None`` (validation) all rows sorted by length, in order."""
    if seed is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths))
    pool = batch_size * POOL_BATCHES
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def cut(ids: np.ndarray, longest: int, padding: str) -> np.ndarray:
    """``ids`` without the padding columns beyond ``longest`` (at least one column)."""
    longest = max(int(longest), 1)
    return ids[:, :longest] if padding == "post" else ids[:, ids.shape[1] - longest :]


def dataset(ids, labels, weights, config: Config, seed: int | None, batch_size: int):
    """A tf.data.Dataset of (ids, labels, weights) batches of ``batch_size`` by length;
    each pass over it (each epoch) draws a new order from ``seed``, ``seed + 1``, ..."""
    import tensorflow as tf

    lengths = lengths_of(ids)
    passes = itertools.count()
    padding = config.text.padding

    def batches():
        epoch_seed = None if seed is None else seed + next(passes)
        for rows in batch_rows(lengths, batch_size, epoch_seed):
            yield cut(ids[rows], lengths[rows].max(), padding), labels[rows], weights[rows]

    signature = (
        tf.TensorSpec((None, None), tf.int32),
        tf.TensorSpec((None,), tf.as_dtype(labels.dtype)),
        tf.TensorSpec((None,), tf.float32),
    )
    batched = tf.data.Dataset.from_generator(batches, output_signature=signature)
    # Known length: Keras shows the epoch's progress and does not warn at its end.
    n_batches = len(batch_rows(lengths, batch_size, None if seed is None else seed))
    return batched.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(2)


def by_length(config: Config) -> bool:
    """Whether batches go by length: asked for, and the padding is masked."""
    return config.train.length_batches and config.model.mask_padding


def fit_arguments(
    config: Config,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray] | None,
    class_weight: dict[int, float] | None,
    sample_weight: np.ndarray | None,
    seed: int,
) -> dict[str, Any]:
    """The data arguments of ``model.fit``: batches by length where they apply (class
    weights folded into per-row weights, the same loss), else the padded arrays."""
    ids, labels = train
    size = batch_size_for(config.train, len(ids))
    if not by_length(config):
        arguments = {
            "x": ids,
            "y": labels,
            "batch_size": size,
            "class_weight": class_weight,
            "sample_weight": sample_weight,
            "shuffle": True,
        }
        return {**arguments, "validation_data": val} if val is not None else arguments
    weights = row_weights(labels, class_weight, sample_weight)
    arguments = {"x": dataset(ids, labels, weights, config, seed, size), "shuffle": False}
    if val is not None:
        ones = np.ones(len(val[1]), dtype=np.float32)
        arguments["validation_data"] = dataset(val[0], val[1], ones, config, None, size)
    return arguments


def row_weights(labels: np.ndarray, class_weight, sample_weight) -> np.ndarray:
    """Each row's weight in the loss, as ``model.fit`` weighs it: its sample weight
    times its class's weight (float32)."""
    weights = np.ones(len(labels), dtype=np.float32)
    if sample_weight is not None:
        weights *= np.asarray(sample_weight, dtype=np.float32)
    if class_weight:
        per_class = np.array([class_weight.get(i, 1.0) for i in range(int(labels.max()) + 1)])
        weights *= per_class[labels].astype(np.float32)
    return weights


def global_batches(lengths: np.ndarray, config: Config, seed: int, workers: int):
    """An epoch's batches (row indices) for ``workers`` data-parallel workers
    (``train --engine ray``): by length where the padding is masked, else shuffled;
    those with fewer rows than workers left out."""
    size = batch_size_for(config.train, len(lengths))
    if by_length(config):
        batches = batch_rows(lengths, size, seed)
    else:
        order = np.random.default_rng(seed).permutation(len(lengths))
        batches = [order[i : i + size] for i in range(0, len(order), size)]
    return [rows for rows in batches if len(rows) >= workers]
