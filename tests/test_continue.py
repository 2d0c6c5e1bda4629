"""train --from: a trained model folder continued on new rows."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import yaml

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, train_args, write_csv

NEW_ROWS = [
    ("zorblax is wonderful, zorblax forever", "positive"),
    ("zorblax broke again, awful zorblax", "negative"),
    ("meh, it is fine I guess", "mixed"),
    ("meh whatever, some good some bad", "mixed"),
    ("meh. ok and not ok", "mixed"),
]


def trained(runner, tmp_path, name="old", *extra):
    data = write_csv(tmp_path / f"{name}.csv", TWEETS * 2)
    out = tmp_path / name
    result = runner.invoke(cli, train_args(data, out, *extra), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def contents(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--set", "model.cell=gru"],
        ["--set", "model.cell=simple_rnn", "--set", "model.pooling=max"],
        ["--set", "model.bidirectional=true", "--set", "model.pooling=attention"],
        ["--set", "train.members=2"],
        ["--set", "model.subwords=50"],
    ],
    ids=["lstm", "gru", "simple_rnn-max", "bidirectional-attention", "ensemble", "subwords"],
)
def test_a_continued_model_starts_as_the_folder_predicts(runner, tmp_path, extra):
    """Before its first step, the continued network answers every tweet of the old
    vocabulary exactly as the folder does, each ensemble member from its own weights."""
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.runtime.network import members
    from sentiment_cli.training.continued import continued_config, read_origin, start_member

    old = trained(runner, tmp_path, "old", *extra)
    origin = read_origin(old)
    config = continued_config(origin)
    bundle = read_model_dir(old)
    ids = bundle.vocab.encode([text for text, _ in TWEETS], config.text).ids
    for i, net in enumerate(members(bundle.network)):
        model = start_member(origin, i, config, origin.vocab, origin.labels)
        started = model.predict(ids, verbose=0)
        np.testing.assert_allclose(started, net.predict_ids(ids), atol=1e-5)


def test_new_labels_start_beside_the_old_ones_as_they_were():
    from sentiment_cli.training.continued import grown_classifier

    rng = np.random.default_rng(0)
    kernel, bias = rng.normal(size=(4, 3)), np.array([0.5, -0.2, 0.1])
    old = ["negative", "neutral", "positive"]
    new_kernel, new_bias = grown_classifier(kernel, bias, old, ["mixed", *old])
    features = rng.normal(size=(5, 4))
    np.testing.assert_allclose((features @ new_kernel + new_bias)[:, 1:], features @ kernel + bias)
    assert (new_kernel[:, 0] == 0).all() and new_bias[0] == pytest.approx(bias.mean())


def test_train_from_writes_a_new_folder_and_leaves_the_old_one(runner, tmp_path):
    old = trained(runner, tmp_path)
    before = contents(old)
    new_data = write_csv(tmp_path / "new.csv", TWEETS + NEW_ROWS * 3)
    out = tmp_path / "continued"
    result = runner.invoke(
        cli,
        ["train", str(new_data), "-o", str(out), "--from", str(old), "-q",
         "--set", "train.epochs=2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert contents(old) == before
    assert runner.invoke(cli, ["check", str(out)]).exit_code == 0

    old_tokens = json.loads((old / "vocab.json").read_text())["tokens"]
    new_tokens = json.loads((out / "vocab.json").read_text())["tokens"]
    assert new_tokens[: len(old_tokens)] == old_tokens
    assert "zorblax" in new_tokens[len(old_tokens) :]
    assert json.loads((out / "labels.json").read_text()) == [
        "mixed", "negative", "neutral", "positive",
    ]  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["continued_from"]["model_dir"] == str(old.resolve())
    assert summary["continued_from"]["new_labels"] == ["mixed"]
    assert summary["continued_from"]["new_words"] == len(new_tokens) - len(old_tokens)
    old_config = yaml.safe_load((old / "config.yaml").read_text())
    new_config = yaml.safe_load((out / "config.yaml").read_text())
    old_config["train"]["epochs"] = 2
    assert new_config == old_config

    predicted = runner.invoke(cli, ["predict", "--model-dir", str(out), "--format", "json",
                                    "meh zorblax"])  # fmt: skip
    assert predicted.exit_code == 0, predicted.output
    assert set(json.loads(predicted.output)[0]["probabilities"]) == {
        "mixed", "negative", "neutral", "positive",
    }  # fmt: skip


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "model.units=8"], "model.units cannot change"),
        (["--set", "text.max_length=20"], "text.max_length cannot change"),
        (["--config", "gru"], "drop --config"),
        (["--set", "train.members=2"], "train.members must stay 1"),
    ],
)
def test_what_would_change_the_network_is_refused(runner, tmp_path, args, message):
    old = trained(runner, tmp_path)
    data = write_csv(tmp_path / "new.csv", TWEETS)
    out = tmp_path / "continued"
    result = runner.invoke(cli, ["train", str(data), "-o", str(out), "--from", str(old), *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_new_rows_without_a_label_the_model_knows_are_refused(runner, tmp_path):
    old = trained(runner, tmp_path)
    data = write_csv(tmp_path / "new.csv", [r for r in TWEETS if r[1] != "neutral"] * 2)
    out = tmp_path / "continued"
    result = runner.invoke(cli, ["train", str(data), "-o", str(out), "--from", str(old)])
    assert result.exit_code == 1
    assert f"{data}: no row labelled 'neutral', which the model in" in result.output
    assert not out.exists()


def test_the_folder_continued_is_never_the_one_written(runner, tmp_path):
    old = trained(runner, tmp_path)
    before = contents(old)
    data = write_csv(tmp_path / "new.csv", TWEETS)
    result = runner.invoke(cli, ["train", str(data), "-o", str(old), "--from", str(old),
                                 "--force"])  # fmt: skip
    assert result.exit_code == 1
    assert "is also --output-dir" in result.output
    assert contents(old) == before


def test_from_a_folder_that_is_not_a_model(runner, tmp_path):
    (tmp_path / "empty").mkdir()
    data = write_csv(tmp_path / "new.csv", TWEETS)
    result = runner.invoke(cli, ["train", str(data), "-o", str(tmp_path / "out"),
                                 "--from", str(tmp_path / "empty")])  # fmt: skip
    assert result.exit_code == 1
    assert str(tmp_path / "empty") in result.output
    assert "Traceback" not in result.output


def test_an_interrupted_continued_run_resumes_from_its_checkpoint(runner, tmp_path):
    old = trained(runner, tmp_path)
    data = write_csv(tmp_path / "new.csv", (TWEETS + NEW_ROWS) * 4)
    out = tmp_path / "continued"
    args = [sys.executable, "-m", "sentiment_cli", "train", str(data), "-o", str(out),
            "--from", str(old), "--set", "train.epochs=4",
            "--set", "train.early_stopping_patience=500"]  # fmt: skip
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in process.stdout:
        if "Epoch 3/4" in line:
            break
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert not out.exists()

    result = runner.invoke(cli, ["train", "--resume", "-o", str(out), "-q",
                                 "--from", str(old)])  # fmt: skip
    assert result.exit_code == 1
    assert "drop --from" in result.output
    state = tmp_path / "continued.checkpoint" / "run.json"
    assert json.loads(state.read_text())["start_from"] == str(old.resolve())

    result = runner.invoke(cli, ["train", "--resume", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "Resumed after epoch 2 of 4" in result.output
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["continued_from"]["new_labels"] == ["mixed"]
    assert runner.invoke(cli, ["check", str(out)]).exit_code == 0
