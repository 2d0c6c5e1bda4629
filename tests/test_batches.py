"""Batches by length: every row once an epoch, even lengths inside a batch, and the
model computing the same answers on a batch cut to its longest tweet."""

import numpy as np
import pytest

from sentiment_cli.config import load_config
from sentiment_cli.models.build import build_model
from sentiment_cli.training.batches import batch_rows, cut, fit_arguments, lengths_of


def _ids(lengths, width=12, padding="post"):
    rows = np.zeros((len(lengths), width), dtype="int32")
    for i, n in enumerate(lengths):
        if padding == "post":
            rows[i, :n] = np.arange(2, n + 2)
        else:
            rows[i, width - n :] = np.arange(2, n + 2)
    return rows


def test_each_epoch_has_every_row_once_and_batches_of_like_length():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 50, size=5000)
    epochs = [batch_rows(lengths, 64, seed) for seed in (7, 8)]
    for batches in epochs:
        assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(5000))
        assert max(len(b) for b in batches) == 64
        spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
        assert spread < 5  # a random batch of 64 spans about 45
    first, second = (np.concatenate(b) for b in epochs)
    assert not np.array_equal(first, second)  # a new order each epoch
    assert np.array_equal(np.concatenate(batch_rows(lengths, 64, 7)), first)  # seeded


def test_validation_batches_go_in_length_order():
    lengths = np.array([5, 1, 3, 3, 9])
    assert [list(b) for b in batch_rows(lengths, 2, None)] == [[1, 2], [3, 0], [4]]


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_cut_drops_only_padding(padding):
    ids = _ids([3, 5, 2], padding=padding)
    kept = cut(ids, lengths_of(ids).max(), padding)
    assert kept.shape == (3, 5)
    assert np.array_equal(np.sort(kept[kept > 0]), np.sort(ids[ids > 0]))
    assert cut(np.zeros((2, 12), dtype="int32"), 0, padding).shape == (2, 1)


@pytest.mark.parametrize("padding", ["post", "pre"])
@pytest.mark.parametrize("pooling", ["last", "max", "mean", "attention"])
def test_a_cut_batch_gets_the_answers_of_the_padded_one(padding, pooling):
    config = load_config(
        None,
        ["text.max_length=12", f"text.padding={padding}", f"model.pooling={pooling}"]
        + ["model.units=6", "model.embedding_dim=4", "model.lexicon=none"],
    )
    model = build_model(config, 40, 3, any_length=True)
    ids = _ids([3, 7, 1], padding=padding)
    padded = np.asarray(model(ids))
    short = np.asarray(model(cut(ids, 7, padding)))
    np.testing.assert_allclose(short, padded, atol=1e-5)


def test_class_weights_become_row_weights_and_unmasked_padding_stays_padded():
    config = load_config(None, ["text.max_length=12"])
    ids, labels = _ids([3, 5, 2, 4]), np.array([0, 1, 1, 2])
    rows = np.array([1.0, 1.0, 0.5, 1.0])
    arguments = fit_arguments(config, (ids, labels), None, {0: 2.0, 1: 1.0, 2: 3.0}, rows, 1)
    x, y, w = (np.asarray(part) for part in next(iter(arguments["x"])))
    assert x.shape[1] == 5 == lengths_of(x).max()
    order = [int(np.flatnonzero((ids[:, :5] == row).all(axis=1))[0]) for row in x]
    assert list(y) == list(labels[order])
    assert np.allclose(w, (np.array([2.0, 1.0, 1.0, 3.0]) * rows)[order])
    unmasked = load_config(None, ["text.max_length=12", "model.mask_padding=false"])
    padded = fit_arguments(unmasked, (ids, labels), None, {0: 2.0}, None, 1)
    assert padded["x"] is ids and padded["class_weight"] == {0: 2.0}


def _tiny_model(optimizer, embedding=None):
    from sentiment_cli.models import backend

    keras = backend.keras()
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = (embedding or keras.layers.Embedding)(30, 4, mask_zero=True)(inputs)
    x = keras.layers.LSTM(3)(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.compile(optimizer(1e-2, clipnorm=1.0), "sparse_categorical_crossentropy")
    return model


def test_row_adam_moves_the_rows_a_batch_used_as_adam_does_and_no_other():
    from sentiment_cli.models import backend
    from sentiment_cli.models.optimizers import RowAdam

    keras = backend.keras()
    first = np.array([[2, 3, 4, 0], [5, 6, 0, 0]], dtype="int32")  # no word twice
    second = np.array([[7, 8, 0, 0], [9, 0, 0, 0]], dtype="int32")
    labels = np.array([0, 2])
    runs = {}
    for optimizer in (keras.optimizers.Adam, RowAdam):
        model = _tiny_model(optimizer)
        start = model.get_weights()
        model.train_on_batch(first, labels)
        after_one = model.get_weights()
        model.train_on_batch(second, labels)
        runs[optimizer] = (start, after_one, model.get_weights())
    start, adam_one, adam_two = runs[keras.optimizers.Adam]
    _, rows_one, rows_two = runs[RowAdam]
    for a, b in zip(adam_one, rows_one, strict=True):  # step one: the same update everywhere
        np.testing.assert_allclose(a, b, atol=1e-7)
    used = [2, 3, 4, 5, 6]
    moved = np.abs(rows_two[0] - rows_one[0]).sum(axis=1)
    assert moved[used].max() == 0  # not in the second batch: left alone
    assert moved[[7, 8, 9]].min() > 0
    assert np.abs(adam_two[0] - adam_one[0]).sum(axis=1)[used].min() > 0  # Adam's momentum
    for a, b in zip(adam_two[1:], rows_two[1:], strict=True):  # dense weights: Adam's update
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_the_word_table_read_by_rows_trains_as_keras_embedding_and_reads_no_whole_table():
    from sentiment_cli.models import backend
    from sentiment_cli.models.layers import RowEmbedding
    from sentiment_cli.models.optimizers import RowAdam

    keras = backend.keras()
    batches = [np.array([[2, 3, 4, 0], [5, 6, 0, 0]]), np.array([[7, 3, 0, 0], [9, 0, 0, 0]])]
    weights = []
    for embedding in (keras.layers.Embedding, RowEmbedding):
        model = _tiny_model(RowAdam, embedding)
        for ids in batches * 2:
            model.train_on_batch(ids.astype("int32"), np.array([0, 2]))
        weights.append(model.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # After an update in place, a whole-table read copies the table at every step.
    assert _table_readers(RowEmbedding) == {"ResourceGather"}
    assert "ReadVariableOp" in _table_readers(keras.layers.Embedding)  # what it avoids


def _table_readers(embedding) -> set[str]:
    """The op types that read the word table in the traced model."""
    import tensorflow as tf

    from sentiment_cli.models.optimizers import RowAdam

    model = _tiny_model(RowAdam, embedding)
    function = tf.function(model).get_concrete_function(tf.TensorSpec((None, None), tf.int32))
    handle = model.layers[1].embeddings.value.handle
    inside = [internal for external, internal in function.graph.captures if external is handle]
    return {op.type for tensor in inside for op in tensor.consumers()}


def test_auto_batch_size_grows_with_the_data_and_a_number_is_kept():
    from sentiment_cli.models.size import AUTO_STEPS, batch_size_for

    auto = load_config(None, ["train.batch_size=auto"]).train
    assert batch_size_for(auto, 500) == 64  # a few hundred labels: many small steps
    assert batch_size_for(auto, 128 * AUTO_STEPS - 1) == 64
    assert batch_size_for(auto, 128 * AUTO_STEPS) == 128
    assert batch_size_for(auto, 256 * AUTO_STEPS) == 256
    assert batch_size_for(auto, 10_000_000) == 256  # capped
    fixed = load_config(None, ["train.batch_size=32"]).train
    assert batch_size_for(fixed, 10_000_000) == 32
    # The epoch's batches are the size auto chose, and validation goes in the same size.
    ids = _ids(np.random.default_rng(0).integers(1, 12, size=128 * AUTO_STEPS))
    labels = np.zeros(len(ids), dtype="int32")
    val = (ids[:300], labels[:300])
    config = load_config(None, ["train.batch_size=auto"])
    arguments = fit_arguments(config, (ids, labels), val, None, None, 1)
    assert max(len(b[1]) for b in arguments["x"]) == 128
    assert max(len(b[1]) for b in arguments["validation_data"]) == 128


@pytest.mark.parametrize("value", ["fast", 0, 1.5, True])
def test_a_batch_size_that_is_neither_a_count_nor_auto_is_refused(value):
    from sentiment_cli.errors import SentimentError

    with pytest.raises(SentimentError, match=r"train\.batch_size must be"):
        load_config(None, [f"train.batch_size={value}"])


def test_several_steps_per_call_train_every_batch_as_one_step_per_call_does():
    from sentiment_cli.models import backend
    from sentiment_cli.models.build import STEPS_PER_CALL, build_model, compile_model

    tiny = ["model.units=4", "model.embedding_dim=3", "model.lexicon=none"]
    config = load_config(None, [*tiny, "train.batch_size=8"])
    rng = np.random.default_rng(0)
    ids = _ids(rng.integers(1, 12, size=11 * 8 + 3))  # 12 batches: not a multiple of 8
    labels = rng.integers(0, 3, size=len(ids))
    weights, steps = [], []
    for per_call in (1, STEPS_PER_CALL):
        backend.keras().utils.set_random_seed(3)
        model = build_model(config, 40, 3, any_length=True)
        compile_model(model, config.train)
        model.steps_per_execution = per_call
        model.fit(**fit_arguments(config, (ids, labels), None, None, None, 1), verbose=0)
        weights.append(model.get_weights())
        steps.append(int(model.optimizer.iterations.numpy()))
    assert STEPS_PER_CALL > 1 and steps == [12, 12]
    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
