import json

import numpy as np
import pytest

from sentiment_cli.config import ModelConfig
from sentiment_cli.errors import SentimentError
from sentiment_cli.models import encoder
from tests.conftest import TWEETS, shared_file, train_args, write_csv


def tiny_encoder(folder, model_dir, extra_word="zebra"):
    """An encoder made of a tiny trained model's weights, plus a word no tweet holds."""
    tokens = json.loads((model_dir / "vocab.json").read_text())["tokens"][2:]
    with np.load(model_dir / "weights.npz") as w:
        arrays = {f"rnn.{r}": w[f"rnn.forward.{r}"] for r in encoder.RECURRENT}
        dim = w["embedding"].shape[1]
        known = w["embedding"][2:]
    rows = np.vstack([known, np.full((1, dim), 0.25, np.float32)])
    spec = {"model": {"cell": "lstm", "units": 4}}
    encoder.write(folder, [*tokens, extra_word], {"embedding": rows, **arrays}, spec)
    encoder.load_encoder.cache_clear()
    return rows


@pytest.fixture
def trained_encoder(runner, tmp_path):
    from sentiment_cli.cli import cli

    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    result = runner.invoke(cli, train_args(data, tmp_path / "source"))
    assert result.exit_code == 0, result.output
    rows = tiny_encoder(tmp_path / "enc", tmp_path / "source")
    return data, tmp_path / "enc", rows


def test_new_model_starts_from_the_encoder(runner, tmp_path, trained_encoder):
    from sentiment_cli.cli import cli
    from sentiment_cli.models.keras_runtime import open_model

    data, folder, rows = trained_encoder
    args = train_args(data, tmp_path / "m", "--set", f"model.encoder={folder}")
    args += ["--set", "model.embeddings_trainable=false", "--set", "train.seed=7"]
    result = runner.invoke(cli, [a for a in args if a != "--quiet"])
    assert result.exit_code == 0, result.output
    assert "the first recurrent layer starts from it" in result.output
    bundle = open_model(tmp_path / "m", runtime="keras")
    # The encoder's vocabulary merges in: "zebra" is in no training tweet.
    assert "zebra" in bundle.vocab.index
    table = bundle.keras.get_layer("embedding").get_weights()[0]
    np.testing.assert_allclose(table[bundle.vocab.index["zebra"]], 0.25)
    tokens = encoder.load_encoder(str(folder)).tokens
    love = bundle.vocab.index["love"]
    np.testing.assert_allclose(table[love], rows[tokens.index("love")], atol=1e-3)
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["pretrained_embeddings"]["recurrent_layer"] is True


def test_a_model_of_another_width_keeps_only_the_vectors(runner, tmp_path, trained_encoder):
    from sentiment_cli.cli import cli

    data, folder, _ = trained_encoder
    args = train_args(data, tmp_path / "m", "--set", f"model.encoder={folder}")
    result = runner.invoke(cli, [a for a in args if a != "--quiet"] + ["--set", "model.units=3"])
    assert result.exit_code == 0, result.output
    assert "the first recurrent layer starts fresh" in result.output


def test_vectors_of_another_size_are_not_used(runner, tmp_path, trained_encoder):
    from sentiment_cli.cli import cli

    data, folder, _ = trained_encoder
    args = train_args(data, tmp_path / "m", "--set", f"model.encoder={folder}")
    args += ["--set", "model.embedding_dim=6"]
    result = runner.invoke(cli, [a for a in args if a != "--quiet"])
    assert result.exit_code == 0, result.output
    assert "not used: its word vectors have 8 dimensions, model.embedding_dim is 6" in (
        result.output
    )


def test_unknown_encoder_is_refused(runner, tmp_path):
    from sentiment_cli.cli import cli

    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    result = runner.invoke(cli, train_args(data, tmp_path / "m", "--set", "model.encoder=nope"))
    assert result.exit_code != 0
    assert "model.encoder 'nope': neither a shipped encoder" in result.output
    assert not (tmp_path / "m").exists()


def test_embedding_rows_and_recurrent_fit():
    from sentiment_cli.config import TextConfig
    from sentiment_cli.text.vocabulary import Vocabulary

    enc = encoder.Encoder(
        "e",
        {"model": {"cell": "gru", "units": 2}},
        ("good", "bad"),
        np.array([[1.0, 1.0], [-1.0, -1.0]], np.float32),
        (np.zeros((2, 6)), np.zeros((2, 6)), np.zeros((2, 6))),
    )
    vocab = Vocabulary.build([["bad", "new"]], TextConfig(min_count=1), enc.tokens)
    matrix, known = encoder.embedding_matrix(enc, vocab, seed=0)
    assert known == 2 and not matrix[0].any()
    np.testing.assert_array_equal(matrix[vocab.index["good"]], [1, 1])
    np.testing.assert_array_equal(matrix[vocab.index["bad"]], [-1, -1])
    assert encoder.recurrent_start(enc, "gru", 2, 2) is not None
    assert encoder.recurrent_start(enc, "lstm", 2, 2) is None
    assert encoder.recurrent_start(enc, "gru", 2, 4) is None


def test_wrong_format_is_refused(tmp_path):
    folder = tmp_path / "e"
    arrays = {f"rnn.{r}": np.zeros((1, 1)) for r in encoder.RECURRENT}
    encoder.write(folder, ["a"], {"embedding": np.zeros((1, 2)), **arrays}, {"model": {}})
    spec = json.loads((folder / "encoder.json").read_text())
    (folder / "encoder.json").write_text(json.dumps({**spec, "format": 99}))
    with pytest.raises(SentimentError, match="format 99, this version of sentiment-cli reads"):
        encoder.load_encoder(str(folder))
    with pytest.raises(SentimentError):
        encoder.load_encoder.cache_clear()
        encoder.usable(ModelConfig(encoder=str(tmp_path / "missing"), embedding_dim=2), print)


def test_shipped_encoder_is_small_clean_and_the_default():
    from sentiment_cli.config import Config

    default = Config().model
    assert default.encoder == "tweets"
    folder = encoder.folder_of("tweets")
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 25e6
    enc = encoder.load_encoder("tweets")
    assert enc.dim == default.embedding_dim and len(enc.tokens) > 20_000
    assert enc.spec["never_read"] == "validation and test splits"
    sources = [enc.spec["distant_supervision"]["file"], *enc.spec["human_labelled"]]
    assert not any("val.csv" in s or "test.csv" in s for s in sources)
    # Its recurrent layer fits the default model: embedding + 2 lexicon features in.
    assert encoder.recurrent_start(enc, default.cell, default.units, 100 + 2) is not None
    # ... and so does its classifier, for the labels of the shared sentiment sets.
    assert enc.spec["labels"] == ["negative", "neutral", "positive"]
    head, why_not = encoder.classifier_start(enc, Config(), ["negative", "positive"])
    assert why_not is None and head[0].shape == (default.units, 2)


def test_shipped_encoder_keeps_the_fingerprints_of_what_it_read():
    from sentiment_cli.runtime import seen

    read = encoder.fingerprints("tweets")
    spec = encoder.load_encoder("tweets").spec
    assert spec["seen"] == {"file": "seen.npy", "fingerprints": len(read)}
    assert len(read) > 150_000 and np.all(np.diff(read.astype(np.uint64)) > 0)  # sorted, unique
    assert seen.count(["a tweet written for this test, read by no encoder"], read) == 0


def test_shipped_encoder_read_semevals_training_tweets_not_its_test_split():
    import pandas as pd

    from sentiment_cli.runtime import seen

    read = encoder.fingerprints("tweets")
    files = {s: shared_file("semeval2017", f"{s}.csv") for s in ("train", "test")}
    rows = {s: pd.read_csv(path).text[:2000] for s, path in files.items()}
    assert seen.count(rows["train"], read) == 2000
    assert seen.count(rows["test"], read) < 20  # copies of training tweets only


def test_default_model_starts_from_the_shipped_encoder(runner, tmp_path):
    from sentiment_cli.cli import cli

    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    args = ["train", str(data), "-o", str(tmp_path / "m"), "--set", "train.epochs=1"]
    result = runner.invoke(cli, [*args, "--set", "train.baseline=false"])
    assert result.exit_code == 0, result.output
    assert "Encoder 'tweets': " in result.output
    assert "the first recurrent layer starts from it" in result.output
    assert "The classifier starts from the encoder's too (negative, neutral, positive)" in (
        result.output
    )
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    coverage = summary["pretrained_embeddings"]
    assert coverage["found"] > 20_000 and coverage["recurrent_layer"] is True
    assert coverage["classifier"] is True


def test_the_whole_network_transfers_when_the_labels_are_the_encoders(runner, tmp_path):
    """model.encoder_classifier: the classifier starts from the encoder's columns of the
    model's labels (a subset here); labels the encoder does not know start it fresh."""
    from sentiment_cli.cli import cli
    from sentiment_cli.runtime.model_folder import read_model_dir

    rows = [(t, label) for t, label in TWEETS * 2 if label != "neutral"]
    data = write_csv(tmp_path / "d.csv", rows)
    assert runner.invoke(cli, train_args(data, tmp_path / "source")).exit_code == 0
    tokens = json.loads((tmp_path / "source" / "vocab.json").read_text())["tokens"][2:]
    with np.load(tmp_path / "source" / "weights.npz") as w:
        arrays = {f"rnn.{r}": w[f"rnn.forward.{r}"] for r in encoder.RECURRENT}
        arrays["embedding"] = w["embedding"][2:]
    head = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    arrays.update({"classifier.kernel": head, "classifier.bias": np.array([0.1, 0.2, 0.3])})
    spec = {"model": {"cell": "lstm", "units": 4}, "labels": ["negative", "neutral", "positive"]}
    encoder.write(tmp_path / "enc", tokens, arrays, spec)
    encoder.load_encoder.cache_clear()

    start = ["--set", f"model.encoder={tmp_path / 'enc'}", "--set", "train.learning_rate=1e-9"]
    start += ["--set", "model.encoder_classifier=true", "--set", "train.class_weight=none"]
    result = runner.invoke(
        cli, [a for a in train_args(data, tmp_path / "m", *start) if a != "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "The classifier starts from the encoder's too (negative, positive)" in result.output
    weights = read_model_dir(tmp_path / "m").network.arrays
    np.testing.assert_allclose(weights["classifier.kernel"], head[:, [0, 2]], atol=1e-4)
    np.testing.assert_allclose(weights["classifier.bias"], [0.1, 0.3], atol=1e-4)

    other = write_csv(
        tmp_path / "o.csv", [(t, "joy" if label == "positive" else label) for t, label in rows]
    )
    result = runner.invoke(
        cli, [a for a in train_args(other, tmp_path / "o", *start) if a != "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "The classifier starts fresh: the labels ['joy', 'negative'] are not all among"
        in result.output
    )
