"""compare and experiment memory."""

import json

import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, tiny_sets, write_csv


def test_compare_cells_table_json_and_report(runner, tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    test = write_csv(tmp_path / "t.csv", TWEETS)
    result = runner.invoke(
        cli,
        [
            "compare",
            str(data),
            "--test",
            str(test),
            "--report-dir",
            str(tmp_path / "r"),
            "-f",
            "json",
            *tiny_sets(),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    names = [row["name"] for row in payload["models"]]
    assert names == ["simple_rnn", "lstm", "gru"]
    params = {row["name"]: row["recurrent_parameters"] for row in payload["models"]}
    # inputs: 8 embedding + 2 lexicon features; units 4: SimpleRNN (10 + 4 + 1) * 4
    assert params == {"simple_rnn": 60, "lstm": 240, "gru": 3 * (10 + 4) * 4 + 2 * 3 * 4}
    for row in payload["models"]:
        assert 0 <= row["test_macro_recall"] <= 1 and row["train_seconds"] > 0
    assert payload["baseline"]["name"] == "bag-of-words"
    assert payload["baseline"]["test_macro_recall"] is not None
    assert json.loads((tmp_path / "r" / "comparison.json").read_text()) == payload
    assert (tmp_path / "r" / "comparison.png").read_bytes().startswith(b"\x89PNG")


def test_compare_several_configs_keeps_models(runner, tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    a, b = tmp_path / "small.yaml", tmp_path / "wide.yaml"
    a.write_text("model:\n  cell: gru\n")
    b.write_text("model:\n  cell: lstm\n  bidirectional: true\n")
    result = runner.invoke(
        cli,
        [
            "compare",
            str(data),
            "--config",
            str(a),
            "--config",
            str(b),
            "-o",
            str(tmp_path / "models"),
            *tiny_sets(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "small" in result.stdout and "wide" in result.stdout and "bag-of-words" in result.stdout
    assert (tmp_path / "models" / "wide" / "weights.npz").exists()


def test_memory_experiment_tiny(runner, tmp_path):
    result = runner.invoke(
        cli,
        [
            "experiment",
            "memory",
            "--distances",
            "2,6",
            "--cells",
            "simple_rnn,lstm",
            "--train-size",
            "40",
            "--epochs",
            "1",
            "--report-dir",
            str(tmp_path),
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["distances"] == [2, 6]
    assert set(payload["accuracy"]) == {"simple_rnn", "lstm"}
    assert all(len(v) == 2 and all(0 <= a <= 1 for a in v) for v in payload["accuracy"].values())
    assert len(payload["gradient_norms"]["lstm"]) == 7  # one per step of the longest sequence
    assert (tmp_path / "memory.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--cells", "transformer"], "Error: --cells: unknown cell 'transformer'"),
        (["--cells", "lstm:nonsense"], "Error: --cells lstm:nonsense: unknown initializer"),
        (["--distances", "5,x"], "expected comma-separated integers, got '5,x'"),
    ],
)
def test_memory_bad_options(runner, args, message):
    result = runner.invoke(cli, ["experiment", "memory", *args])
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.slow
def test_memory_experiment_shows_the_vanishing_gradient():
    from sentiment_cli.experiments.memory import memory_experiment

    result = memory_experiment(
        distances=(5, 100), cell_names=("simple_rnn:random_normal", "lstm"), log=lambda m: None
    )
    for cell in result["cells"]:
        assert result["accuracy"][cell][0] > 0.9  # 5 fillers: every cell remembers
    norms = result["gradient_norms"]["simple_rnn:random_normal"]
    assert norms[0] < 1e-3 * norms[-1]  # the gradient reaching the first word has vanished


def test_distant_pretraining_runs_before_training(runner, tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    distant = write_csv(
        tmp_path / "distant.csv",
        [
            ("so happy today :)", "positive"),
            ("sad and tired :(", "negative"),
            ("zebra crossing joy :)", "positive"),
            ("zebra crossing pain :(", "negative"),
        ]
        * 3,
    )
    result = runner.invoke(
        cli,
        [
            "train",
            str(data),
            "-o",
            str(tmp_path / "m"),
            "-q",
            "--set",
            f"train.pretrain_data={distant}",
            *tiny_sets(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Pretraining data: 12 tweets" in result.output
    assert "Pretrained on 12 tweets for 1 epoch(s)" in result.output
    vocab = json.loads((tmp_path / "m" / "vocab.json").read_text())["tokens"]
    assert "zebra" in vocab  # pretraining words join the vocabulary
    labels = json.loads((tmp_path / "m" / "labels.json").read_text())
    assert labels == ["negative", "neutral", "positive"]  # the real task's head
