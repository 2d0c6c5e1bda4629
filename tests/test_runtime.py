"""The NumPy runtime computes what the Keras model computes, for every shape the
configs can build, and never imports TensorFlow."""

import json

import numpy as np
import pytest

from sentiment_cli.config import load_config
from tests.conftest import fresh_python

SHAPES = [
    # cell, layers, bidirectional, mask_padding, padding, pooling, lexicon
    ("lstm", 1, False, True, "post", "last", True),
    ("lstm", 1, False, True, "pre", "last", False),
    ("gru", 1, False, True, "post", "max", True),
    ("simple_rnn", 1, False, True, "post", "mean", False),
    ("lstm", 1, False, True, "post", "attention", True),
    ("lstm", 2, False, True, "post", "last", True),
    ("gru", 2, True, True, "post", "last", False),
    ("lstm", 1, True, True, "pre", "max", True),
    ("simple_rnn", 2, True, True, "post", "attention", False),
    ("lstm", 1, False, False, "post", "last", True),
    ("gru", 1, True, False, "pre", "mean", False),
    ("simple_rnn", 1, False, False, "pre", "attention", True),
]


def random_model(
    cell, layers, bidirectional, mask, padding, pooling, lexicon, seed=0, subwords=None
):
    import keras

    from sentiment_cli.models.build import build_model

    config = load_config(
        None,
        [
            f"model.cell={cell}",
            f"model.layers={layers}",
            f"model.bidirectional={str(bidirectional).lower()}",
            f"model.mask_padding={str(mask).lower()}",
            f"text.padding={padding}",
            f"model.pooling={pooling}",
            "model.units=6",
            "model.embedding_dim=5",
            "text.max_length=9",
            f"model.subwords={0 if subwords is None else subwords.max()}",
        ],
    )
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    table = rng.uniform(-1, 1, size=(40, 2)).astype("float32") if lexicon else None
    model = build_model(config, 40, 3, None, table, subwords)
    # Larger weights than at initialization, so every gate and bias matters.
    model.set_weights(
        [w + rng.normal(0, 0.3, size=w.shape) if w.dtype.kind == "f" else w
         for w in model.get_weights()]
    )  # fmt: skip
    return model, config


def padded_ids(config, n=64, seed=1):
    from sentiment_cli.text.vocabulary import pad

    rng = np.random.default_rng(seed)
    lengths = [0, 1, 9, 12, *rng.integers(0, 12, size=n - 4)]
    sequences = [list(rng.integers(1, 40, size=k)) for k in lengths]
    return pad(sequences, config.text.max_length, config.text.padding, config.text.truncating)


@pytest.mark.parametrize("rows", [64, 300], ids=["projected", "folded-table"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_numpy_runtime_equals_keras(shape, rows):
    """Below FOLD_ROWS rows the first layer projects each word; from it on it looks the
    word up in the folded table. Both equal Keras."""
    from sentiment_cli.models.export import from_keras
    from sentiment_cli.runtime.network import FOLD_ROWS

    assert 64 < FOLD_ROWS <= 300
    model, config = random_model(*shape)
    ids = padded_ids(config, n=rows)
    expected = np.asarray(model(ids, training=False))
    got = from_keras(model, config).predict_ids(ids)
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("mask", [True, False], ids=["masked", "unmasked"])
def test_subword_vectors_are_folded_into_the_embedding(mask, tmp_path):
    """A model with character n-grams (model.subwords) is exported with each id's n-gram
    mean added to its word vector: the NumPy runtime, which has no n-gram layer, still
    equals Keras."""
    from sentiment_cli.models.export import export
    from sentiment_cli.runtime.network import Network, save
    from sentiment_cli.text.vocabulary import subword_table

    tokens = ["<pad>", "<oov>", "<user>", *(f"w{i}ord{i % 3}" for i in range(37))]
    table = subword_table(tokens, 20)
    model, config = random_model("lstm", 1, False, mask, "post", "last", True, subwords=table)
    layer = model.get_layer("subwords")
    assert (layer.table.numpy() == table).all() and np.abs(layer.vectors.numpy()).max() > 0.1
    save(tmp_path, *export(model, config))
    for rows in (64, 300):
        ids = padded_ids(config, n=rows)
        expected = np.asarray(model(ids, training=False))
        np.testing.assert_allclose(Network.load(tmp_path).predict_ids(ids), expected, atol=1e-5)


def test_subword_table_hashes_each_tokens_character_ngrams():
    from sentiment_cli.text.vocabulary import SUBWORDS_PER_TOKEN, subword_table

    tokens = ["<pad>", "<oov>", "<user>", "good", "good_NEG", "goodness", "a"]
    table = subword_table(tokens, 1000)
    assert table.shape == (7, SUBWORDS_PER_TOKEN) and table.dtype == np.int32
    assert not table[:3].any()  # padding, unknown and placeholders have none
    assert ((table >= 0) & (table <= 1000)).all()
    assert list(table[6][:2]) != [0, 0] and (table[6] > 0).sum() == 1  # "<a>": one 3-gram
    good, negated, goodness = (set(table[i][table[i] > 0]) for i in (3, 4, 5))
    assert len(good) == 9  # "<good>": 4 + 3 + 2 n-grams of 3, 4, 5 characters
    assert len(good & negated) >= 6 and len(good & goodness) >= 6  # they share "goo", "good"...
    assert (subword_table(tokens, 1000) == table).all()  # the same ids every time


def test_runtime_files_round_trip(tmp_path):
    from sentiment_cli.models.export import export
    from sentiment_cli.runtime.network import Network, save

    model, config = random_model("gru", 2, True, True, "post", "attention", True)
    save(tmp_path, *export(model, config))
    spec = json.loads((tmp_path / "network.json").read_text())
    assert [layer["name"] for layer in spec["recurrent"]] == ["rnn_1", "rnn_2"]
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as arrays:
        assert "rnn_2.backward.recurrent_kernel" in arrays.files
        assert "attention.v" in arrays.files and "lexicon" in arrays.files
    ids = padded_ids(config)
    np.testing.assert_allclose(
        Network.load(tmp_path).predict_ids(ids), np.asarray(model(ids)), atol=1e-5
    )


def test_large_weights_are_memory_mapped_and_compressed_ones_still_load(tmp_path, monkeypatch):
    from sentiment_cli.models.export import export
    from sentiment_cli.runtime import network

    model, config = random_model("lstm", 1, False, True, "post", "last", True)
    arrays, spec = export(model, config)
    network.save(tmp_path, arrays, spec)
    monkeypatch.setattr(network, "MAP_BYTES", 500)  # the tiny embedding (928 bytes) is large
    mapped = network.read_weights(tmp_path / network.WEIGHTS_FILE)
    assert isinstance(mapped["embedding"], np.memmap)
    assert not isinstance(mapped["classifier.bias"], np.memmap)
    other = tmp_path / "compressed"  # e.g. written by hand
    other.mkdir()
    np.savez_compressed(other / network.WEIGHTS_FILE, **arrays)
    read = network.read_weights(other / network.WEIGHTS_FILE)
    assert not isinstance(read["embedding"], np.memmap)
    for name, array in arrays.items():
        np.testing.assert_array_equal(mapped[name], array)
        np.testing.assert_array_equal(read[name], array)
    ids = padded_ids(config)
    np.testing.assert_allclose(
        network.Network.load(tmp_path).predict_ids(ids), np.asarray(model(ids)), atol=1e-5
    )


def test_large_input_is_scored_in_chunks(monkeypatch):
    from sentiment_cli.models.export import from_keras
    from sentiment_cli.runtime import network as runtime

    model, config = random_model("lstm", 1, False, True, "post", "max", True)
    network = from_keras(model, config)
    ids = padded_ids(config, n=300)
    whole = network.predict_ids(ids)
    monkeypatch.setattr(runtime, "CHUNK", 7)
    np.testing.assert_allclose(network.predict_ids(ids), whole, atol=1e-6)


def test_predict_never_imports_tensorflow(trained_model):
    code = (
        "import sys\n"
        "from sentiment_cli.cli import cli\n"
        "try:\n"
        f"    cli(['predict', '--model-dir', {str(trained_model)!r}, 'not bad', '-f', 'json'])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "heavy = ('tensorflow', 'keras', 'sklearn', 'scipy', 'pandas')\n"
        "leaked = sorted(m for m in heavy if m in sys.modules)\n"
        "print('LEAKED', leaked)\n"
    )
    out = fresh_python(code)
    assert "LEAKED []" in out, out
    assert '"label"' in out


def test_a_folder_from_before_the_runtime_is_read_through_keras(runner, trained_model, tmp_path):
    from sentiment_cli.cli import cli

    folder = tmp_path / "old"
    import shutil

    from sentiment_cli.models.keras_runtime import open_model

    shutil.copytree(trained_model, folder)
    open_model(trained_model, runtime="keras").keras.save(folder / "model.keras")
    (folder / "weights.npz").unlink()
    (folder / "network.json").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    files = sorted(p.name for p in folder.iterdir() if p.name != "manifest.json")
    (folder / "manifest.json").write_text(
        json.dumps({**manifest, "format_version": 1, "files": files})
    )
    args = ["predict", "--model-dir", str(folder), "-f", "json", "not bad", "so sad"]
    old = runner.invoke(cli, args)
    new = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "-f", "json"] + args[5:]
    )
    assert old.exit_code == 0, old.output
    assert old.stderr.count("was written by an older sentiment-cli (format version 1)") == 1
    got, expected = json.loads(old.stdout), json.loads(new.stdout)
    for a, b in zip(got, expected, strict=True):
        assert a["label"] == b["label"]
        for label, p in a["probabilities"].items():
            assert abs(p - b["probabilities"][label]) <= 1e-5


def test_keras_and_numpy_runtimes_agree_through_the_cli(runner, trained_model):
    from sentiment_cli.cli import cli

    texts = ["not bad at all", "I hate this", "", "😍", "the vote is on sunday"]
    results = {}
    for runtime in ("numpy", "keras"):
        args = ["predict", "--model-dir", str(trained_model), "--runtime", runtime, "-f", "json"]
        result = runner.invoke(cli, [*args, "--", *texts])
        assert result.exit_code == 0, result.output
        results[runtime] = json.loads(result.stdout)
    for a, b in zip(results["numpy"], results["keras"], strict=True):
        assert a["label"] == b["label"]
        assert (
            max(abs(a["probabilities"][k] - b["probabilities"][k]) for k in a["probabilities"])
            <= 1e-5
        )


def test_folded_rows_are_filled_as_batches_meet_their_words():
    from sentiment_cli.models.export import from_keras

    model, config = random_model("lstm", 1, False, True, "post", "last", True)
    network = from_keras(model, config)
    low = padded_ids(config, n=300, seed=1)
    low = np.where(low > 0, (low - 1) % 19 + 1, 0)  # only ids 0..19
    np.testing.assert_allclose(network.predict_ids(low), np.asarray(model(low)), atol=1e-5)
    layer = network.layers[0]["forward"]
    assert set(np.flatnonzero(layer.folded)) <= set(range(20))
    full = padded_ids(config, n=300, seed=2)
    np.testing.assert_allclose(network.predict_ids(full), np.asarray(model(full)), atol=1e-5)
    assert layer.folded[20:].any()
