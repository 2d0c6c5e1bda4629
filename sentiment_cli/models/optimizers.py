"""Adam that updates only the embedding rows a batch used.

The default model's word table has 5.2M weights (52k words × 100), and a batch of 64
tweets touches about 1,000 of its rows. Keras' Adam turns the table's sparse gradient
into a dense one and updates all 5.2M weights and both their moments at every step:
measured on this machine, two thirds of a training step. These optimizers update the
rows in the batch only ("lazy" Adam, as TensorFlow Addons' LazyAdam and PyTorch's
SparseAdam do): a row's moments decay when the row is used, not at every step. Every
dense weight (the recurrent layer, the classifier) is updated exactly as by Keras' Adam.

Imported only by code that already needs TensorFlow; registered as serializable, so
a checkpoint's ``model.keras`` loads with ``safe_mode=True`` once this is imported.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class SparseRows:
    """Adam's update for a sparse (``tf.IndexedSlices``) gradient, on its rows only."""

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        rows, where = tf.unique(gradient.indices)
        grad = tf.math.unsorted_segment_sum(
            tf.cast(gradient.values, dtype), where, tf.shape(rows)[0]
        )
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        lr = tf.cast(learning_rate, dtype)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m_rows = beta_1 * tf.gather(m.value, rows) + (1 - beta_1) * grad
        v_rows = beta_2 * tf.gather(v.value, rows) + (1 - beta_2) * tf.square(grad)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        update = alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon)
        self.assign_sub(variable, tf.IndexedSlices(update, rows))


@keras.saving.register_keras_serializable(package="sentiment_cli")
class RowAdam(SparseRows, keras.optimizers.Adam):
    """Adam; a sparse gradient (the word table's) updates its rows only."""


@keras.saving.register_keras_serializable(package="sentiment_cli")
class RowAdamW(SparseRows, keras.optimizers.AdamW):
    """AdamW (decoupled weight decay over every weight); a sparse gradient updates its
    rows only."""
