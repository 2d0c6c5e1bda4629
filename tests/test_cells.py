"""The NumPy equations match Keras' layers, and the trace ends at the prediction."""

import json

import keras
import numpy as np
import pytest

from sentiment_cli.cells import run_layer
from sentiment_cli.cli import cli
from tests.conftest import TWEETS, tiny_sets, train_args, write_csv

LAYERS = {"SimpleRNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}


def test_in_place_lstm_step_is_the_lstm_step():
    """The runtime's LSTM step (one tanh for every gate, state updated in place) computes
    what the lecture's ``lstm_step`` computes, over several steps of large gate values."""
    from sentiment_cli.cells import halve_sigmoid_gates, lstm_step, lstm_step_in_place

    rng = np.random.default_rng(1)
    units, batch = 8, 5
    recurrent_kernel = rng.normal(scale=2.0, size=(units, 4 * units))
    h, c = rng.normal(size=(batch, units)), rng.normal(size=(batch, units))
    fast_h, fast_c = h.copy(), c.copy()
    for _ in range(4):
        xw = rng.normal(scale=3.0, size=(batch, 4 * units))
        (h, c), _ = lstm_step(xw, (h, c), recurrent_kernel)
        halved = halve_sigmoid_gates(xw)
        lstm_step_in_place(halved, fast_h, fast_c, halve_sigmoid_gates(recurrent_kernel))
        np.testing.assert_allclose(fast_h, h, atol=1e-12)
        np.testing.assert_allclose(fast_c, c, atol=1e-12)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_reference_equations_match_keras(kind, masked):
    rng = np.random.default_rng(0)
    batch, time, features, units = 3, 7, 5, 4
    x = rng.normal(size=(batch, time, features)).astype("float32")
    layer = LAYERS[kind](units, return_sequences=True, bias_initializer="random_normal")
    mask = None
    if masked:
        mask = np.ones((batch, time), dtype=bool)
        mask[0, 5:] = False  # post-padded
        mask[1, :3] = False  # pre-padded
    expected = np.asarray(layer(x, mask=mask))
    got = run_layer(layer, x, mask).h
    if masked:
        # At masked steps Keras outputs zeros while the reference carries the state;
        # the real steps must agree (the final state is checked below).
        np.testing.assert_allclose(got[mask], expected[mask], atol=1e-5)
    else:
        np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_final_state_after_masked_steps_matches_keras(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 1]], dtype=bool)
    layer = LAYERS[kind](5, bias_initializer="random_normal")  # last output only
    expected = np.asarray(layer(x, mask=mask))
    np.testing.assert_allclose(run_layer(layer, x, mask).h[:, -1], expected, atol=1e-5)


def test_lstm_gates_are_in_range_and_cell_state_follows_the_equation():
    rng = np.random.default_rng(2)
    layer = keras.layers.LSTM(4, return_sequences=True)
    x = rng.normal(size=(1, 5, 3)).astype("float32")
    layer(x)
    steps = run_layer(layer, x)
    g = steps.gates
    for name in ("i", "f", "o"):
        assert ((g[name] > 0) & (g[name] < 1)).all()
    # h_t = o_t * tanh(C_t)
    np.testing.assert_allclose(steps.h, g["o"] * np.tanh(g["c"]), atol=1e-12)


@pytest.fixture(scope="module", params=["lstm-last", "gru-max", "simple_rnn-attention", "lstm-pre"])
def traced_model(request, tmp_path_factory):
    from click.testing import CliRunner

    cell, pooling = request.param.split("-")
    extra = ["text.padding=pre", "text.truncating=pre"] if pooling == "pre" else []
    pooling = "last" if pooling == "pre" else pooling
    base = tmp_path_factory.mktemp(request.param)
    data = write_csv(base / "d.csv", TWEETS * 2)
    args = train_args(
        data,
        base / "m",
        *tiny_sets(
            f"model.cell={cell}",
            f"model.pooling={pooling}",
            "model.lexicon=vader",
            "model.layers=2",
            *extra,
            "train.blend=none",  # the network's own trace; test_blend.py traces a blend
        ),
    )
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return base / "m"


def test_last_trace_step_equals_the_prediction(traced_model):
    from sentiment_cli.models.keras_runtime import open_model
    from sentiment_cli.runtime.predict import predict_proba
    from sentiment_cli.runtime.trace import trace

    bundle = open_model(traced_model)
    texts = ["I love this", "not bad at all :) #win", "a b c d e f g h i j k l m n o p", "😍"]
    expected = predict_proba(bundle, texts)
    for text, probs in zip(texts, expected, strict=True):
        result = trace(bundle, text, gates=True)
        last = result["steps"][-1]["probabilities"]
        np.testing.assert_allclose([last[lab] for lab in bundle.labels], probs, atol=1e-5)
        assert result["final"]["probabilities"] == last


def test_trace_json_shape_and_truncation(runner, trained_model):
    long_text = " ".join(f"w{i}" for i in range(20))
    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "--gates", "-f", "json", long_text]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) >= {"tokens", "steps", "final", "cut"}
    assert len(payload["steps"]) == 12  # max_length of the tiny model
    assert payload["cut"] == [f"w{i}" for i in range(12, 20)]
    assert all(step["oov"] for step in payload["steps"])
    gates = payload["steps"][0]["gates"][0]
    assert gates["cell"] == "LSTM"
    assert set(gates) >= {"forget", "input", "output", "cell_norm", "per_unit"}
    assert len(gates["per_unit"]["f"]) == 4  # units of the tiny model


def test_trace_table(runner, trained_model):
    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "--gates", "I love it"]
    )
    assert result.exit_code == 0, result.output
    assert "love" in result.output and "f̄" in result.output and "final:" in result.output


def test_trace_refuses_bidirectional_models(runner, tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    args = train_args(data, tmp_path / "m", "--set", "model.bidirectional=true")
    assert runner.invoke(cli, args).exit_code == 0
    result = runner.invoke(cli, ["predict", "--model-dir", str(tmp_path / "m"), "--trace", "hi"])
    assert result.exit_code == 1
    assert "Error: --trace needs a unidirectional model" in result.output
