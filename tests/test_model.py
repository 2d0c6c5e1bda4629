import numpy as np
import pytest

from sentiment_cli.config import load_config
from sentiment_cli.errors import SentimentError
from sentiment_cli.models.build import build_model, parameter_table


def _build(*overrides, vocab=50, classes=3):
    config = load_config(None, ["text.max_length=7", *overrides])
    return build_model(config, vocab, classes)


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["last", "max", "mean", "attention"])
def test_output_shape_and_probabilities(cell, pooling):
    model = _build(f"model.cell={cell}", f"model.pooling={pooling}", "model.units=5")
    ids = np.array([[2, 3, 4, 0, 0, 0, 0], [5, 6, 7, 8, 9, 10, 11]], dtype="int32")
    probs = np.asarray(model(ids))
    assert probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert [layer.name for layer in model.layers][:2] == ["token_ids", "embedding"]
    assert model.get_layer("classifier").units == 3


def test_stacked_bidirectional_layers_are_named():
    model = _build("model.layers=2", "model.bidirectional=true", "model.units=3")
    names = [layer.name for layer in model.layers]
    assert "rnn_1" in names and "rnn_2" in names
    assert model.get_layer("rnn_2").forward_layer.units == 3


def test_zeros_kernel_initializer_gives_zero_kernel():
    model = _build("model.kernel_initializer=zeros", "model.units=6")
    rnn = model.get_layer("rnn")
    assert not np.any(rnn.cell.kernel.numpy())


def test_orthogonal_recurrent_initializer_applies_to_every_layer():
    model = _build(
        "model.recurrent_initializer={class_name: Orthogonal, config: {gain: 1.0}}",
        "model.cell=simple_rnn",
        "model.layers=2",
        "model.units=8",
    )
    for name in ("rnn_1", "rnn_2"):
        u = model.get_layer(name).cell.recurrent_kernel.numpy()
        np.testing.assert_allclose(u.T @ u, np.eye(8), atol=1e-5)


def test_unknown_initializer_lists_valid_names():
    with pytest.raises(SentimentError) as info:
        _build("model.kernel_initializer=glorot_unifrom")
    message = str(info.value)
    assert "model.kernel_initializer: unknown initializer 'glorot_unifrom'" in message
    assert "glorot_uniform" in message and "orthogonal" in message


def test_lstm_has_about_four_times_the_parameters_of_a_simple_rnn():
    def rnn_params(cell):
        rows = parameter_table(_build(f"model.cell={cell}", "model.units=64"))
        return dict((name, count) for name, _, count in rows)["rnn"]

    simple, lstm, gru = rnn_params("simple_rnn"), rnn_params("lstm"), rnn_params("gru")
    # embedding_dim 100, units 64: (100 + 64 + 1) * 64 per gate
    assert simple == (100 + 64 + 1) * 64
    assert lstm == 4 * simple
    assert gru == 3 * (100 + 64) * 64 + 2 * 3 * 64  # Keras' reset_after GRU: two biases


def test_weight_decay_shrinks_weights_that_get_no_gradient():
    """train.weight_decay > 0 trains with AdamW: an embedding row that no batch reads
    still decays towards zero, while plain Adam leaves it where it started."""
    from sentiment_cli.models.build import compile_model

    rows = {}
    for decay in (0.0, 0.5):
        config = load_config(None, ["text.max_length=7", f"train.weight_decay={decay}"])
        model = build_model(config, 50, 3)
        compile_model(model, config.train)
        before = model.get_layer("embedding").get_weights()[0][49].copy()
        ids = np.array([[2, 3, 4, 0, 0, 0, 0]] * 8, dtype="int32")
        model.fit(ids, np.zeros(8, dtype="int32"), epochs=3, batch_size=8, verbose=0)
        after = model.get_layer("embedding").get_weights()[0][49]
        rows[decay] = np.abs(after).sum() / np.abs(before).sum()
    from sentiment_cli.models import backend

    assert isinstance(model.optimizer, backend.keras().optimizers.AdamW)
    assert rows[0.0] == pytest.approx(1.0) and rows[0.5] < 0.999
