"""train --unlabelled: self-training on the user's unlabelled tweets."""

import json

import numpy as np
import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, train_args, write_csv

UNLABELLED = [
    "the zorblax launch was wonderful, love it",
    "zorblax support is awful, hate this",
    "zorblax update out today",
    "so happy with my new zorblax :)",
    "worst zorblax ever, broken again",
    "",  # an empty line is skipped, not pseudo-labelled
] * 4


@pytest.fixture(scope="module")
def self_trained(tmp_path_factory):
    from click.testing import CliRunner

    base = tmp_path_factory.mktemp("self")
    data = write_csv(base / "tweets.csv", TWEETS * 2)
    more = base / "more.txt"
    more.write_text("\n".join(UNLABELLED) + "\n", encoding="utf-8")
    out = base / "model"
    args = train_args(data, out, "--unlabelled", str(more), "--set", "train.pseudo_labels=1")
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out, more, result.output


def test_the_student_trains_on_the_tweets_the_teacher_is_surest_of(self_trained):
    out, more, output = self_trained
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["self_training"]
    assert entry["unlabelled"] == str(more.resolve())
    assert entry["unlabelled_read"] == 20  # the four empty lines are not tweets
    n_train = summary["n_train"]
    # train.pseudo_labels=1: at most one pseudo-label per labelled training tweet, in
    # the training labels' shares
    assert 0 < entry["pseudo_labelled"] <= min(20, n_train)
    chosen = {label: v["tweets"] for label, v in entry["per_label"].items()}
    assert sum(chosen.values()) == entry["pseudo_labelled"]
    counts = summary["label_counts_train"]
    for label, n in chosen.items():
        assert n <= round(min(20, n_train) * counts[label] / n_train)
    assert set(entry["teacher_validation"]) == {"macro_f1", "macro_recall", "accuracy"}
    assert "pseudo-labelled" in output and "the student starts from the encoder again" in output


def test_words_only_the_unlabelled_tweets_hold_join_the_vocabulary(self_trained):
    out, _, _ = self_trained
    vocab = json.loads((out / "vocab.json").read_text())
    tokens = vocab["tokens"] if isinstance(vocab, dict) else vocab
    assert "zorblax" in tokens  # in no labelled tweet, twice or more in the unlabelled ones


def test_pseudo_labelled_rows_weigh_train_pseudo_weight_in_the_loss():
    from sentiment_cli.config import load_config
    from sentiment_cli.training.fit import loss_weights
    from sentiment_cli.training.prepare import Prepared

    class Real:
        labels = ["positive", "negative", "positive", "negative"]

    class Splits:
        classes = ["negative", "positive"]

    config = load_config(None, ["train.class_weight=none", "train.pseudo_weight=0.25"])
    y = np.array([1, 0, 1, 0, 0, 1, 1], dtype="int32")  # 4 real, 1 augmented, 2 pseudo
    prepared = Prepared(Splits, None, [], [], None, None, y, None, real_train=(Real, []), pseudo=2)
    _, sample_weights = loss_weights(config, prepared, lambda message: None)
    expected = [1, 1, 1, 1, config.train.augment_weight, 0.25, 0.25]
    np.testing.assert_allclose(sample_weights, expected)


def test_bad_unlabelled_files_are_refused_before_anything_is_written(runner, tiny_csv, tmp_path):
    out = tmp_path / "m"
    missing = runner.invoke(cli, train_args(tiny_csv, out, "--unlabelled", str(tmp_path / "no")))
    assert missing.exit_code != 0 and "no" in missing.output
    header_only = tmp_path / "empty.csv"
    header_only.write_text("text\n", encoding="utf-8")
    result = runner.invoke(cli, train_args(tiny_csv, out, "--unlabelled", str(header_only)))
    assert result.exit_code != 0
    assert f"{header_only}: has a header but no data rows" in result.output
    empty = tmp_path / "blank.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    result = runner.invoke(cli, train_args(tiny_csv, out, "--unlabelled", str(empty)))
    assert result.exit_code != 0
    assert f"{empty}: holds no text" in result.output
    wrong = write_csv(tmp_path / "wrong.csv", [("a", "b")], header=("tweet", "x"))
    result = runner.invoke(cli, train_args(tiny_csv, out, "--unlabelled", str(wrong)))
    assert result.exit_code != 0 and "text" in result.output and "wrong.csv" in result.output
    for outcome in (missing, result):
        assert "Traceback" not in outcome.output
    assert not out.exists()
    resumed = runner.invoke(cli, ["train", "--resume", "-o", str(out), "--unlabelled", str(empty)])
    assert resumed.exit_code != 0 and "drop --unlabelled" in resumed.output


def test_reading_a_large_file_keeps_a_uniform_sample_in_bounded_memory(tmp_path, monkeypatch):
    from sentiment_cli.training import self_training

    monkeypatch.setattr(self_training, "MAX_UNLABELLED", 100)
    lines = tmp_path / "many.txt"
    lines.write_text("\n".join(f"tweet {i}" for i in range(1000)) + "\n", encoding="utf-8")
    notes = []
    kept = self_training.read_unlabelled(lines, "text", 42, notes.append)
    assert len(kept) == 100 and len(set(kept)) == 100
    numbers = sorted(int(t.split()[1]) for t in kept)
    assert numbers[-1] > 500  # not the first 100 lines
    assert "1,000 tweets" in notes[0] and "a random 100" in notes[0]
    assert kept == self_training.read_unlabelled(lines, "text", 42, notes.append)  # seeded
