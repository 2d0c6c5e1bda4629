"""A model folder keeps fingerprints of the tweets it was trained on (seen.npy), and
evaluate says when the tweets it scores are those, or copies of them."""

import json
import shutil

import numpy as np

from sentiment_cli.cli import cli
from sentiment_cli.runtime import seen
from tests.conftest import TWEETS, train_args, write_csv
from tests.test_hostile import remanifest

UNSEEN = [
    ("the parade starts at noon on main street", "neutral"),
    ("this update broke my phone", "negative"),
    ("RT @fan: what a great day, sooo happy 😍 http://t.co/z", "positive"),  # a copy
]


def evaluated(runner, folder, rows, tmp_path, *args):
    data = write_csv(tmp_path / "scored.csv", rows)
    result = runner.invoke(cli, ["evaluate", "--model-dir", str(folder), str(data), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_evaluate_counts_the_rows_the_model_was_trained_on(runner, trained_model, tmp_path):
    manifest = json.loads((trained_model / "manifest.json").read_text())
    assert seen.FILE in manifest["files"]
    metrics = json.loads(evaluated(runner, trained_model, TWEETS * 2, tmp_path, "-f", "json"))
    assert metrics["copies_of_training_rows"] == len(TWEETS) * 2
    metrics = json.loads(evaluated(runner, trained_model, UNSEEN, tmp_path, "-f", "json"))
    assert metrics["copies_of_training_rows"] == 1
    assert "Warning: 1 of the 3 rows are tweets of the model's training file" in evaluated(
        runner, trained_model, UNSEEN, tmp_path
    )
    assert "Warning" not in evaluated(runner, trained_model, UNSEEN[:2], tmp_path)


def test_the_fingerprints_hold_no_text_and_one_entry_per_tweet(trained_model):
    prints = np.load(trained_model / seen.FILE, allow_pickle=False)
    assert prints.dtype == np.uint64 and prints.shape == (len(TWEETS),)  # each tweet twice
    assert TWEETS[0][0].encode() not in (trained_model / seen.FILE).read_bytes()


def test_a_folder_without_fingerprints_is_scored_without_a_word(runner, trained_model, tmp_path):
    folder = tmp_path / "old"
    shutil.copytree(trained_model, folder)
    (folder / seen.FILE).unlink()
    remanifest(folder)
    assert runner.invoke(cli, ["check", str(folder)]).exit_code == 0
    metrics = json.loads(evaluated(runner, folder, TWEETS, tmp_path, "-f", "json"))
    assert metrics["copies_of_training_rows"] is None
    assert "Warning" not in evaluated(runner, folder, TWEETS, tmp_path)


def test_damaged_fingerprints_are_refused_naming_the_file(runner, trained_model, tmp_path):
    folder = tmp_path / "damaged"
    shutil.copytree(trained_model, folder)
    np.save(folder / seen.FILE, np.zeros((2, 2)), allow_pickle=False)
    data = write_csv(tmp_path / "d.csv", TWEETS)
    args = ["evaluate", "--model-dir", str(folder), str(data)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and "seen.npy" in result.output and "damaged" in result.output
    remanifest(folder)  # the manifest vouching for the wrong array
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert "seen.npy must be one row of uint64 fingerprints, got float64" in result.output
    assert "Traceback" not in result.output


def test_a_continued_model_keeps_the_fingerprints_of_the_one_it_continues(runner, tmp_path):
    first = write_csv(tmp_path / "first.csv", TWEETS * 2)
    result = runner.invoke(cli, train_args(first, tmp_path / "old"))
    assert result.exit_code == 0, result.output
    later = write_csv(tmp_path / "later.csv", [*TWEETS[:6], *UNSEEN[:2]] * 3)
    out = tmp_path / "continued"
    args = ["train", str(later), "-o", str(out), "-q", "--from", str(tmp_path / "old")]
    result = runner.invoke(cli, [*args, "--set", "train.epochs=1"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(evaluated(runner, out, [*TWEETS, *UNSEEN[:2]], tmp_path, "-f", "json"))
    assert metrics["copies_of_training_rows"] == len(TWEETS) + 2


def test_an_ensemble_counts_the_tweets_any_member_read(runner, trained_model, tmp_path):
    legacy = tmp_path / "legacy"
    shutil.copytree(trained_model, legacy)
    (legacy / seen.FILE).unlink()
    remanifest(legacy)
    data = write_csv(tmp_path / "d.csv", [*TWEETS, *UNSEEN[:2]])
    args = ["evaluate", str(data), "--ensemble", "-f", "json", "--model-dir", str(trained_model)]
    result = runner.invoke(cli, [*args, "--model-dir", str(trained_model)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["copies_of_training_rows"] == len(TWEETS)
    result = runner.invoke(cli, [*args, "--model-dir", str(legacy)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["copies_of_training_rows"] is None
