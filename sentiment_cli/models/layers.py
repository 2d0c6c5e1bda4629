"""Custom Keras layers used by the model: sequence read-outs that respect the padding
mask, and tables read by the rows a batch uses.

Imported only by code that already needs TensorFlow. Registered as serializable, so a
saved ``.keras`` file loads with ``safe_mode=True`` as long as this module is imported.
"""

from __future__ import annotations

import keras
from keras import ops


class SequenceReadout(keras.layers.Layer):
    """(batch, time, units) -> (batch, units) over the unpadded steps: the mask is used
    here and not passed on."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="sentiment_cli")
class MaskedMaxPooling(SequenceReadout):
    """Max over time of the recurrent outputs, ignoring padded steps.

    Keras' GlobalMaxPooling1D ignores the mask, so padded steps (output 0) would
    compete in the max.
    """

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.max(inputs, axis=1)
        keep = ops.expand_dims(ops.cast(mask, "bool"), -1)
        pooled = ops.max(ops.where(keep, inputs, ops.full_like(inputs, -1e9)), axis=1)
        # A text with no tokens at all (empty after tokenization) reads out zeros.
        return ops.where(ops.any(keep, axis=1), pooled, ops.zeros_like(pooled))


@keras.saving.register_keras_serializable(package="sentiment_cli")
class MaskedMeanPooling(SequenceReadout):
    """Mean over time of the unpadded steps; zeros for a text with no tokens (where
    GlobalAveragePooling1D would divide 0 by 0)."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        keep = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        count = ops.maximum(ops.sum(keep, axis=1), 1.0)
        return ops.sum(inputs * keep, axis=1) / count


@keras.saving.register_keras_serializable(package="sentiment_cli")
class AttentionPooling(SequenceReadout):
    """Weighted mean of the recurrent outputs h_t, weights softmax(v . tanh(W h_t + b))
    over the unpadded steps (additive attention, Bahdanau-style, one query)."""

    def __init__(self, attention_units: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.attention_units = attention_units

    def build(self, input_shape):
        dim = input_shape[-1]
        self.w = self.add_weight(
            name="w", shape=(dim, self.attention_units), initializer="glorot_uniform"
        )
        self.b = self.add_weight(name="b", shape=(self.attention_units,), initializer="zeros")
        self.v = self.add_weight(
            name="v", shape=(self.attention_units, 1), initializer="glorot_uniform"
        )

    def scores(self, inputs, mask=None):
        scores = ops.squeeze(ops.matmul(ops.tanh(ops.matmul(inputs, self.w) + self.b), self.v), -1)
        if mask is not None:
            scores = ops.where(ops.cast(mask, "bool"), scores, ops.full_like(scores, -1e9))
        return ops.softmax(scores, axis=-1)

    def call(self, inputs, mask=None):
        weights = self.scores(inputs, mask)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def get_config(self):
        return {**super().get_config(), "attention_units": self.attention_units}


def rows_of(table, ids):
    """The rows ``ids`` of a weight ``table``, read as rows (TensorFlow's resource gather).

    Keras' own lookup (``ops.take``) first reads the whole table as a tensor. Once the
    optimizer has updated some of a variable's rows in place (``optimizers.RowAdam``),
    TensorFlow copies the whole variable on every such read to keep the tensor stable:
    20 MB for the default word table, 1.9 ms on this machine, at every training step.
    A gather on the variable reads only the rows; the same values and gradients."""
    import tensorflow as tf

    return tf.gather(table.value, ops.cast(ids, "int32"))


@keras.saving.register_keras_serializable(package="sentiment_cli")
class RowEmbedding(keras.layers.Embedding):
    """Keras' ``Embedding`` (same weights, mask and config) that reads its table by rows
    (``rows_of``)."""

    def call(self, inputs):
        return ops.cast(rows_of(self.embeddings, inputs), self.compute_dtype)


@keras.saving.register_keras_serializable(package="sentiment_cli")
class Subwords(keras.layers.Layer):
    """token ids (batch, time) -> the mean vector of each token's character n-grams
    (batch, time, dim), added to its word vector (fastText's subword information). Which
    n-grams a vocabulary id has is a fixed table (``text.subword_table``); their vectors
    start at zero and are learnt. After training, ``runtime.export`` adds each id's mean
    into the embedding, so prediction costs nothing more."""

    def __init__(
        self, vocab_size: int, per_token: int, buckets: int, dim: int, mask_zero: bool, **kwargs
    ):
        super().__init__(**kwargs)
        self.vocab_size, self.per_token, self.buckets, self.dim = (
            vocab_size, per_token, buckets, dim
        )  # fmt: skip
        self.mask_zero = mask_zero  # the embedding's mask, which Add keeps only if both have it
        self.table = self.add_weight(
            shape=(vocab_size, per_token), dtype="int32", initializer="zeros",
            trainable=False, name="table",
        )  # fmt: skip
        self.vectors = self.add_weight(
            shape=(buckets + 1, dim), initializer="zeros", name="vectors"
        )

    def call(self, ids):
        grams = ops.take(self.table, ops.cast(ids, "int32"), axis=0)  # (batch, time, per_token)
        vectors = rows_of(self.vectors, grams)  # (batch, time, per_token, dim)
        present = ops.expand_dims(ops.cast(grams > 0, vectors.dtype), -1)
        count = ops.maximum(ops.sum(present, axis=2), 1.0)
        return ops.sum(vectors * present, axis=2) / count

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "mask_zero": self.mask_zero,
            "vocab_size": self.vocab_size,
            "per_token": self.per_token,
            "buckets": self.buckets,
            "dim": self.dim,
        }
