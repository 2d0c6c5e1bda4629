"""Build the Keras model: Embedding -> SimpleRNN / LSTM / GRU (stacked, optionally
bidirectional) -> read-out -> Dense softmax classifier."""

from __future__ import annotations

from typing import Any

import numpy as np

from sentiment_cli.cells import CELLS
from sentiment_cli.config import Config, TrainConfig, brief
from sentiment_cli.errors import SentimentError


def keras_cell(name: str):
    """The Keras layer class of a cell named in the config (``cells.CELLS``)."""
    from sentiment_cli.models import backend

    keras = backend.keras()

    return getattr(keras.layers, CELLS[name].keras_name)


def initializer_names() -> list[str]:
    from sentiment_cli.models import backend

    keras = backend.keras()

    return sorted(
        name
        for name in dir(keras.initializers)
        if name.islower()
        and not name.startswith("_")
        and name not in ("get", "serialize", "deserialize", "stft")
    )


def resolve_initializer(value: Any, key: str):
    """A Keras initializer from a name or a {class_name, config} mapping."""
    from sentiment_cli.models import backend

    keras = backend.keras()

    if isinstance(value, dict):
        # Only Keras' own initializer classes: Keras would also import a "module" the
        # mapping names and call what it finds there.
        name = value.get("class_name")
        known = isinstance(name, str) and isinstance(getattr(keras.initializers, name, None), type)
        # Keras' own serialization also names its module and no registered name.
        own = value.get("module", "keras.initializers") == "keras.initializers"
        own = own and value.get("registered_name") is None
        if (
            set(value) - {"class_name", "config", "module", "registered_name"}
            or not known
            or not own
        ):
            raise SentimentError(
                f"{key}: {brief(value)} is not a Keras initializer; a mapping takes only "
                f"class_name (one of Keras' initializer classes, e.g. Orthogonal) and config"
            )
    try:
        initializer = keras.initializers.get(value)
    except (ValueError, TypeError) as exc:
        detail = str(exc).splitlines()[0]
        raise SentimentError(
            f"{key}: unknown initializer {brief(value)} ({detail[:160]}); valid names: "
            f"{', '.join(initializer_names())}, or a mapping "
            f"{{class_name: Orthogonal, config: {{gain: 1.0}}}}"
        ) from None
    if initializer is None:
        raise SentimentError(f"{key}: an initializer is required")
    return initializer


def check_initializers(config: Config) -> None:
    """Resolve both initializers and draw one matrix of the shape each fills (capped
    in size), so a bad one fails before data is read rather than inside TensorFlow."""
    m = config.model
    gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[m.cell] * m.units
    width = m.embedding_dim + (2 if m.lexicon == "vader" else 0)
    for key, value, shape in (
        ("model.kernel_initializer", m.kernel_initializer, (width, gates)),
        ("model.recurrent_initializer", m.recurrent_initializer, (m.units, gates)),
    ):
        initializer = resolve_initializer(value, key)
        rows, cols = shape
        if rows * cols > 1 << 22:  # enough to show a shape or argument error
            rows, cols = min(rows, 64), min(cols, 256)
        try:
            initializer((rows, cols), dtype="float32")
        except Exception as exc:  # TensorFlow raises many types for bad arguments
            detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise SentimentError(
                f"{key}: {brief(value)} cannot fill a {rows}×{cols} matrix "
                f"({type(exc).__name__}: {detail})"
            ) from None


def rnn_layer_names(config: Config) -> list[str]:
    n = config.model.layers
    return ["rnn"] if n == 1 else [f"rnn_{i + 1}" for i in range(n)]


def build_model(
    config: Config,
    vocab_size: int,
    n_classes: int,
    embedding_matrix: np.ndarray | None = None,
    lexicon_matrix: np.ndarray | None = None,
    subword_table: np.ndarray | None = None,
    any_length: bool = False,
):
    """The Keras model for ``config``; its input is ``text.max_length`` ids per tweet, or
    any number with ``any_length`` (training on batches cut to their longest tweet)."""
    from sentiment_cli.models import backend

    keras = backend.keras()
    from keras import layers

    from sentiment_cli.models.layers import AttentionPooling, MaskedMaxPooling, MaskedMeanPooling

    m = config.model
    length = None if any_length else config.text.max_length
    inputs = keras.Input(shape=(length,), dtype="int32", name="token_ids")
    x = token_vectors(config, inputs, vocab_size, embedding_matrix, lexicon_matrix, subword_table)
    x = recurrent_layers(config, x)
    if m.pooling == "max":
        x = MaskedMaxPooling(name="pooling")(x)
    elif m.pooling == "mean":
        x = MaskedMeanPooling(name="pooling")(x)
    elif m.pooling == "attention":
        x = AttentionPooling(name="pooling")(x)
    if m.dropout > 0:
        x = layers.Dropout(m.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classifier")(x)
    model = keras.Model(inputs, outputs, name=f"sentiment_{m.cell}")
    # Set, not passed as Constant initializers: an initializer's values are written
    # into model.keras's config as JSON text (100 MB for a 50k-word embedding).
    if embedding_matrix is not None:
        model.get_layer("embedding").set_weights([embedding_matrix])
    if lexicon_matrix is not None:  # prior sentiment per token id: a frozen table
        model.get_layer("lexicon").set_weights([lexicon_matrix])
    if subword_table is not None:
        model.get_layer("subwords").table.assign(subword_table)
    return model


def token_vectors(config: Config, inputs, vocab_size, embedding_matrix, lexicon_matrix, subwords):
    """What the first recurrent layer reads for each token id: its word vector (plus
    its character n-grams' mean), its lexicon features, channel dropout."""
    from keras import layers

    from sentiment_cli.models.layers import RowEmbedding, Subwords

    m = config.model
    x = RowEmbedding(
        vocab_size,
        m.embedding_dim,
        # mask_zero lets every later layer skip padding (id 0) instead of reading zeros.
        mask_zero=m.mask_padding,
        trainable=m.embeddings_trainable or embedding_matrix is None,
        name="embedding",
    )(inputs)
    if subwords is not None:
        grams = Subwords(
            vocab_size,
            subwords.shape[1],
            m.subwords,
            m.embedding_dim,
            mask_zero=m.mask_padding,
            name="subwords",
        )
        x = layers.Add(name="word_and_subwords")([x, grams(inputs)])
    if lexicon_matrix is not None:
        # Prior sentiment per token id: frozen, and saved with the model.
        prior = layers.Embedding(
            vocab_size,
            lexicon_matrix.shape[1],
            mask_zero=m.mask_padding,
            trainable=False,
            name="lexicon",
        )(inputs)
        x = layers.Concatenate(name="embedding_and_lexicon")([x, prior])
    if m.embedding_dropout > 0:
        x = layers.SpatialDropout1D(m.embedding_dropout, name="embedding_dropout")(x)
    return x


def recurrent_layers(config: Config, x):
    """The stacked (optionally bidirectional) recurrent layers applied to ``x``."""
    from sentiment_cli.models import backend

    keras = backend.keras()
    m = config.model
    names = rnn_layer_names(config)
    for i, name in enumerate(names):
        last = i == len(names) - 1
        rnn = keras_cell(m.cell)(
            m.units,
            # Only the last layer under "last" pooling collapses the sequence to h_T.
            return_sequences=not (last and m.pooling == "last"),
            kernel_initializer=resolve_initializer(
                m.kernel_initializer, "model.kernel_initializer"
            ),
            recurrent_initializer=resolve_initializer(
                m.recurrent_initializer, "model.recurrent_initializer"
            ),
            recurrent_dropout=m.recurrent_dropout,
            name=name if not m.bidirectional else f"{name}_cell",
        )
        if m.bidirectional:
            rnn = keras.layers.Bidirectional(rnn, name=name)
        x = rnn(x)
    return x


# Steps that one call into TensorFlow runs: a small model's step is short enough that
# Keras' work between steps (its loop, the callbacks' batch hooks) shows; the same
# steps in the same order, so the same weights. Ctrl-C and the batch hooks act every
# STEPS_PER_CALL steps.
STEPS_PER_CALL = 8


def compile_model(model, train: TrainConfig) -> None:
    """Adam (AdamW with ``train.weight_decay``) with the configured learning rate and
    gradient clipping, the word table updated on the rows each batch used (see
    ``optimizers.py``), sparse categorical cross-entropy: every model of the tool (and
    its pretraining head) trains this way."""
    from sentiment_cli.models.optimizers import RowAdam, RowAdamW

    if train.weight_decay > 0:
        optimizer = RowAdamW(
            learning_rate=train.learning_rate,
            weight_decay=train.weight_decay,
            clipnorm=train.clipnorm,
        )
    else:
        optimizer = RowAdam(learning_rate=train.learning_rate, clipnorm=train.clipnorm)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_CALL,
    )


def parameter_table(model) -> list[tuple[str, str, int]]:
    """(layer name, layer type, parameter count) for every layer with parameters."""
    rows = []
    for layer in model.layers:
        count = int(sum(np.prod(w.shape) for w in layer.weights))
        if count:
            rows.append((layer.name, type(layer).__name__, count))
    return rows


def ensemble_of(models: list, config: Config):
    """One Keras model: the mean of ``models``' probabilities, each a named member
    (``member_name``), so the NumPy runtime finds their weights."""
    from sentiment_cli.models import backend

    keras = backend.keras()
    inputs = keras.Input(shape=(config.text.max_length,), dtype="int32", name="token_ids")
    outputs = [
        keras.Model(m.input, m.output, name=member_name(i))(inputs)
        for i, m in enumerate(models, start=1)
    ]
    mean = keras.layers.Average(name="mean")(outputs)
    return keras.Model(inputs, mean, name=f"ensemble_of_{len(models)}")


def member_name(i: int) -> str:
    return f"member_{i}"
