import json
import subprocess
import sys

import numpy as np
import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, fresh_python, train_args, write_csv


def all_commands(group=cli, prefix=()) -> list[list[str]]:
    """Every command and group of the CLI, found from click itself (none can be missed)."""
    found = [list(prefix)]
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            found += all_commands(command, (*prefix, name))
        else:
            found.append([*prefix, name])
    return found


COMMANDS = all_commands()


def test_every_command_is_covered():
    names = {" ".join(c) for c in COMMANDS}
    assert {"train", "tune", "predict", "evaluate", "split", "compare", "export", "serve"} <= names
    assert {"info", "check", "configs", "experiment memory", "experiment order"} <= names
    assert {"pretrain", "label"} <= names
    assert "experiment exploding" in names and len(COMMANDS) == 18


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "main")
def test_help_has_example(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_help_does_not_import_tensorflow():
    code = (
        "import sys; from click.testing import CliRunner; from sentiment_cli.cli import cli\n"
        f"for command in {COMMANDS!r}:\n"
        "    assert CliRunner().invoke(cli, [*command, '--help']).exit_code == 0\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    assert fresh_python(code).strip() == "False False"


def test_bad_input_is_refused_before_tensorflow_is_imported(tmp_path):
    data = write_csv(tmp_path / "d.csv", [("only", "positive"), ("one class", "positive")])
    code = (
        "import sys; from click.testing import CliRunner; from sentiment_cli.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['train', {str(data)!r}, '-o', {str(tmp_path / 'm')!r}])\n"
        "print(r.exit_code, 'tensorflow' in sys.modules)"
    )
    assert fresh_python(code).strip() == "1 False"


def test_train_writes_a_complete_model_folder(trained_model):
    names = sorted(p.name for p in trained_model.iterdir())
    assert names == sorted(
        [
            "manifest.json",
            "weights.npz",
            "network.json",
            "vocab.json",
            "config.yaml",
            "labels.json",
            "history.json",
            "summary.json",
            "baseline.json",
            "baseline.npz",
            "blend_bag.json",
            "blend_bag.npz",
            "seen.npy",
        ]
    )
    summary = json.loads((trained_model / "summary.json").read_text())
    assert summary["n_train"] + summary["n_val"] == len(TWEETS) * 2
    assert summary["epochs_run"] == 1
    assert set(summary["label_counts_train"]) == {"positive", "negative", "neutral"}
    assert json.loads((trained_model / "labels.json").read_text()) == [
        "negative",
        "neutral",
        "positive",
    ]
    assert "units: 4" in (trained_model / "config.yaml").read_text()


def test_train_prints_data_truncation_and_parameters(runner, tiny_csv, tmp_path):
    long_tweet = ("so " * 30 + "good", "positive")
    data = write_csv(tmp_path / "long.csv", TWEETS * 2 + [long_tweet, ("", "positive"), ("x", "")])
    result = runner.invoke(cli, train_args(data, tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert "Dropped 2 row(s)" in result.output
    assert "max_length 12: truncated" in result.output
    assert "rnn                  LSTM" in result.output
    assert "total" in result.output


def test_train_refuses_existing_dir_without_force(runner, tiny_csv, trained_model):
    result = runner.invoke(cli, train_args(tiny_csv, trained_model))
    assert result.exit_code == 1
    assert f"Error: --output-dir {trained_model}: already exists; use --force" in result.output


def test_predict_json(runner, trained_model):
    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "I love it", "I hate it", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["text"] for r in rows] == ["I love it", "I hate it"]
    for row in rows:
        assert set(row["probabilities"]) == {"negative", "neutral", "positive"}
        assert sum(row["probabilities"].values()) == pytest.approx(1, abs=1e-5)
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)


def test_predict_from_stdin_lines_and_csv_file(runner, trained_model, tiny_csv, tmp_path):
    result = runner.invoke(
        cli,
        ["predict", "--model-dir", str(trained_model), "-i", "-", "-f", "jsonl"],
        input="first tweet\n\nsecond tweet\n",
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["text"] for line in result.output.splitlines()] == [
        "first tweet",
        "second tweet",
    ]
    out = tmp_path / "preds.csv"
    result = runner.invoke(
        cli,
        [
            "predict",
            "--model-dir",
            str(trained_model),
            "-i",
            str(tiny_csv),
            "-f",
            "csv",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "text,label,p_negative,p_neutral,p_positive"
    assert len(lines) == 1 + len(TWEETS) * 2


def test_predict_table_shows_labels(runner, trained_model):
    result = runner.invoke(cli, ["predict", "--model-dir", str(trained_model), "nice one"])
    assert result.exit_code == 0
    assert "nice one" in result.output and "p(positive)" in result.output


def test_evaluate_json_has_the_documented_keys(runner, trained_model, tiny_csv):
    result = runner.invoke(
        cli, ["evaluate", "--model-dir", str(trained_model), str(tiny_csv), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for key in (
        "n",
        "accuracy",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "f1_pn",
        "per_class",
        "confusion_matrix",
    ):
        assert key in report
    assert report["n"] == len(TWEETS) * 2
    assert report["confusion_matrix"]["labels"] == ["negative", "neutral", "positive"]
    assert np.array(report["confusion_matrix"]["matrix"]).sum() == report["n"]
    assert set(report["baseline"]) >= {"accuracy", "macro_recall", "f1_pn"}


def test_evaluate_table(runner, trained_model, tiny_csv):
    result = runner.invoke(cli, ["evaluate", "--model-dir", str(trained_model), str(tiny_csv)])
    assert result.exit_code == 0, result.output
    for text in ("macro_recall", "bag-of-words", "RNN − BoW", "Confusion matrix", "support"):
        assert text in result.output


def test_evaluate_unknown_label_is_an_error(runner, trained_model, tmp_path):
    data = write_csv(tmp_path / "t.csv", [("meh", "mixed"), ("ok", "positive")])
    result = runner.invoke(cli, ["evaluate", "--model-dir", str(trained_model), str(data)])
    assert result.exit_code == 1
    assert (
        f"Error: {data}: label(s) 'mixed' in column 'label' are not known to the model "
        "(it knows 'negative', 'neutral', 'positive')"
    ) in result.output


def test_reloaded_in_a_fresh_process_gives_the_same_probabilities(runner, trained_model):
    texts = ["I love it", "worst day ever", "meeting at 5"]
    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), *texts, "-f", "json"]
    )
    here = [r["probabilities"] for r in json.loads(result.output)]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sentiment_cli",
            "predict",
            "--model-dir",
            str(trained_model),
            *texts,
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    there = [r["probabilities"] for r in json.loads(out.stdout)]
    for a, b in zip(here, there, strict=True):
        for label in a:
            assert a[label] == pytest.approx(b[label], abs=1e-6)


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "missing.csv", "-o", "x"], "Error: missing.csv: file does not exist"),
        (
            ["evaluate", "--model-dir", "nowhere", "t.csv"],
            "Error: model folder nowhere does not exist; train one with 'sentiment-cli train'",
        ),
        (
            ["predict", "--model-dir", "nowhere"],
            "Error: no texts: give them as arguments or with --input FILE (- for stdin)",
        ),
        (
            ["train", "d.csv", "-o", "x", "--set", "model.units"],
            "Error: --set 'model.units': expected KEY=VALUE, e.g. --set model.units=64",
        ),
    ],
)
def test_errors_are_one_line_without_traceback(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_missing_column_lists_columns_and_suggests(runner, tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS, header=("tweet", "label"))
    result = runner.invoke(cli, train_args(data, tmp_path / "m"))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {data}: no column 'text'; the columns are 'tweet', 'label'; "
        "did you mean 'tweet' (--text-column tweet)?"
    )


def test_one_class_only_is_an_error(runner, tmp_path):
    data = write_csv(tmp_path / "d.csv", [("good", "positive"), ("great", "positive")])
    result = runner.invoke(cli, train_args(data, tmp_path / "m"))
    assert result.exit_code == 1
    assert "has only one class ('positive'); training needs at least 2" in result.output


def test_binary_labels_and_numeric_labels_as_strings(runner, tmp_path):
    rows = [(t, "1" if lab == "positive" else "0") for t, lab in TWEETS if lab != "neutral"]
    data = write_csv(tmp_path / "d.csv", rows * 2)
    out = tmp_path / "m"
    result = runner.invoke(cli, train_args(data, out))
    assert result.exit_code == 0, result.output
    assert json.loads((out / "labels.json").read_text()) == ["0", "1"]
    result = runner.invoke(cli, ["evaluate", "--model-dir", str(out), str(data), "-f", "json"])
    assert json.loads(result.output)["f1_pn"] is None


def test_split_is_stratified(runner, tiny_csv, tmp_path):
    result = runner.invoke(
        cli, ["split", str(tiny_csv), "-o", str(tmp_path / "s"), "--test-size", "0.25"]
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    test = pd.read_csv(tmp_path / "s" / "test.csv")
    train = pd.read_csv(tmp_path / "s" / "train.csv")
    assert len(test) + len(train) == len(TWEETS) * 2
    # each tweet is in the file twice, and its two copies stay on one side: 5 of the 18
    # tweets held out (a quarter, rounded up), spread over the labels as evenly as 5 go
    assert not set(test["text"]) & set(train["text"])
    assert sorted((test["label"].value_counts() // 2).tolist()) == [1, 2, 2]


def test_train_writes_tensorboard_logs(runner, tiny_csv, tmp_path):
    logs = tmp_path / "tb"
    result = runner.invoke(cli, [*train_args(tiny_csv, tmp_path / "m"), "--tensorboard", str(logs)])
    assert result.exit_code == 0, result.output
    assert f"TensorBoard logs: {logs}" in result.output
    for part in ("train", "validation"):
        assert list((logs / part).glob("events.out.tfevents.*")), part


def test_input_progress_reaches_the_file_size_and_stays_off_without_a_terminal(
    runner, trained_model, tmp_path
):
    from sentiment_cli.io.streams import iter_texts

    path = write_csv(tmp_path / "in.csv", TWEETS * 300)
    seen = []
    chunks = iter_texts(str(path), chunk_size=1000, progress=lambda b, n: seen.append((b, n)))
    assert sum(len(c) for c in chunks) == len(TWEETS) * 300
    assert [n for _, n in seen] == [1000] * 5 + [400]
    assert [b for b, _ in seen] == sorted(b for b, _ in seen)
    assert seen[-1][0] == path.stat().st_size
    args = ["predict", "--model-dir", str(trained_model), "-i", str(path), "-f", "csv"]
    result = runner.invoke(cli, [*args, "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0 and result.stderr == ""


def test_output_to_a_named_pipe_writes_into_it_and_leaves_it_a_pipe(
    runner, trained_model, tmp_path
):
    """--output onto something that is not a regular file (/dev/null, a pipe) writes
    into it: the write-then-rename of a regular file would replace it with a file
    (as root, /dev/null itself)."""
    import os
    import stat
    import threading

    pipe = tmp_path / "scores"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    args = ["predict", "--model-dir", str(trained_model), "-f", "csv", "-o", str(pipe)]
    result = runner.invoke(cli, [*args, "not bad at all"])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert received and received[0].startswith("text,label,") and "not bad at all" in received[0]
    assert list(tmp_path.glob(".scores.tmp-*")) == []


def test_reduce_lr_factor_lowers_the_rate_after_an_epoch_without_improvement(
    runner, tiny_csv, tmp_path
):
    """train.reduce_lr_factor < 1: an epoch that does not improve the monitored score
    multiplies the learning rate by the factor (history.json's learning_rate)."""
    out = tmp_path / "m"
    extra = ["--set", "train.epochs=8", "--set", "train.early_stopping_patience=8"]
    extra += ["--set", "train.reduce_lr_factor=0.5", "--set", "train.monitor=val_macro_recall"]
    result = runner.invoke(cli, train_args(tiny_csv, out, *extra))
    assert result.exit_code == 0, result.output
    history = json.loads((out / "history.json").read_text())
    rates, scores = history["learning_rate"], history["val_macro_recall"]
    assert len(rates) == len(scores) == 8
    # rates[t] is the rate epoch t ran with; a plateau at epoch t shows in rates[t + 1].
    best = scores[0]
    for epoch in range(1, 7):
        expected = rates[epoch] * (1.0 if scores[epoch] > best else 0.5)
        assert rates[epoch + 1] == pytest.approx(expected, rel=1e-5), (epoch, rates, scores)
        best = max(best, scores[epoch])
    assert rates[-1] < rates[0]  # the run did plateau


def test_early_stopping_can_follow_validation_macro_f1(runner, tiny_csv, tmp_path):
    out = tmp_path / "m"
    extra = ["--set", "train.epochs=3", "--set", "train.early_stopping_patience=3"]
    result = runner.invoke(
        cli, train_args(tiny_csv, out, *extra, "--set", "train.monitor=val_macro_f1")
    )
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "history.json").read_text())["val_macro_f1"]
    assert len(scores) == 3 and all(0 <= s <= 1 for s in scores)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_epoch"] == scores.index(max(scores)) + 1
