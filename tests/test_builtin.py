"""The built-in model: every command and load_model() answer with no model folder."""

import json
import pickle

import pytest

from sentiment_cli.resources import builtin_model_dir

BUILTIN = builtin_model_dir()
OBVIOUS = [
    ("I love this so much, best day ever!", "positive"),
    ("worst service ever, I hate it", "negative"),
    ("The council meets on Tuesday at 7pm", "neutral"),
]


def test_predict_answers_with_no_model_folder(runner):
    from sentiment_cli.cli import cli

    result = runner.invoke(cli, ["predict", "-f", "json", *(text for text, _ in OBVIOUS)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["label"] for row in rows] == [label for _, label in OBVIOUS]
    assert set(rows[0]["probabilities"]) == {"negative", "neutral", "positive"}


def test_the_trace_runs_on_the_builtin_model(runner):
    from sentiment_cli.cli import cli

    result = runner.invoke(cli, ["predict", "--trace", "-f", "json", "not bad at all"])
    assert result.exit_code == 0, result.output
    trace = json.loads(result.stdout)
    assert [step["word"] for step in trace["steps"]][:2] == ["not", "bad"]


def test_load_model_without_a_path_is_the_builtin_model():
    from sentiment_cli import load_model

    model = load_model()
    assert model.path == BUILTIN
    frame = model.predict([text for text, _ in OBVIOUS])
    assert list(frame["label"]) == [label for _, label in OBVIOUS]
    assert pickle.loads(pickle.dumps(model)).path == BUILTIN


def test_info_and_check_read_the_builtin_model(runner):
    from sentiment_cli.cli import cli

    check = runner.invoke(cli, ["check"])
    assert check.exit_code == 0, check.output
    assert f"{BUILTIN}: " in check.stdout and "files intact" in check.stdout
    info = runner.invoke(cli, ["info", "-f", "json"])
    assert info.exit_code == 0, info.output
    assert json.loads(info.stdout)["labels"] == ["negative", "neutral", "positive"]


def test_the_builtin_model_learnt_only_from_training_splits_and_is_calibrated():
    summary = json.loads((BUILTIN / "summary.json").read_text(encoding="utf-8"))
    assert summary["train_data"].startswith("semeval2017/train.csv + tweet_sentiment_extraction")
    assert summary["val_data"] is None  # its validation rows were held out of those
    assert summary["calibration"]["method"] == "temperature"


def test_the_builtin_model_is_at_most_10_mib():
    size = sum(path.stat().st_size for path in BUILTIN.iterdir())
    assert size <= 10 * 2**20, f"{size / 2**20:.1f} MiB"


def test_the_builtin_model_reads_every_word_the_lexicon_rates():
    # Its vocabulary is cut to fit the package; an emoji or a rated word that training
    # saw too rarely must keep its rating instead of reading as out-of-vocabulary.
    from sentiment_cli.text.lexicon import vader_valences

    vocab = json.loads((BUILTIN / "vocab.json").read_text(encoding="utf-8"))["tokens"]
    assert set(vader_valences()) <= set(vocab)
    assert len(vocab) == 20_000


def test_emoji_carry_their_sentiment_in_the_builtin_model():
    from sentiment_cli import load_model

    texts = ["going to the festival this weekend 😍", "tickets for saturday 😍😍"]
    frame = load_model().predict(texts)
    assert list(frame["label"]) == ["positive", "positive"]


def test_serve_builds_on_the_builtin_model():
    pytest.importorskip("starlette", reason="the [serve] extra is not installed")
    from starlette.testclient import TestClient

    from sentiment_cli.serving.server import create_app

    client = TestClient(create_app(BUILTIN))
    assert client.get("/health").json()["labels"] == ["negative", "neutral", "positive"]
    answer = client.post("/predict", json={"texts": [OBVIOUS[0][0]]}).json()
    assert answer[0]["label"] == "positive"
