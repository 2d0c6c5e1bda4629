"""sentiment-cli pretrain: an encoder from a user's own tweets, labelled by their label
column or by their emoticons and emoji, that a model then starts from."""

import json

import numpy as np
import pytest

from sentiment_cli.cli import cli
from sentiment_cli.runtime import seen
from sentiment_cli.training.pretrain import distant_label
from tests.conftest import TWEETS, tiny_sets, write_csv


@pytest.mark.parametrize(
    "text, label, kept",
    [
        ("great day :)", "positive", "great day"),
        ("great:) see you", "positive", "great see you"),
        ("love it ❤️ 😍", "positive", "love it"),
        ("flight cancelled :'( again", "negative", "flight cancelled again"),
        ("so sad 😢", "negative", "so sad"),
        ("still awake :))))", "positive", "still awake"),
        ("gotta love timezones :p", "positive", "gotta love timezones"),
        ("missed it :((((", "negative", "missed it"),
        ("fine :) but then :(", None, "fine :) but then :("),  # both kinds: left out
        ("see http://t.co/a:)b now", None, "see http://t.co/a:)b now"),  # inside a URL
        ("ID: 5 (room 3)", None, "ID: 5 (room 3)"),
        ("no marker here", None, "no marker here"),
    ],
)
def test_emoticons_and_emoji_label_a_tweet_and_leave_its_text(text, label, kept):
    assert distant_label(text) == (label, kept)


def _corpus(tmp_path):
    lines = tmp_path / "mine.txt"
    words = ["love this place", "worst day ever", "so happy now", "never going back"]
    rows = [f"{words[i % 4]} {i} {':)' if i % 2 == 0 else ':('}" for i in range(80)]
    lines.write_text("\n".join(rows + ["a tweet with no face"] * 20) + "\n", encoding="utf-8")
    labelled = write_csv(tmp_path / "labelled.csv", TWEETS * 3)
    return lines, labelled


def test_pretrain_writes_an_encoder_that_a_model_starts_from(runner, tmp_path):
    lines, labelled = _corpus(tmp_path)
    out = tmp_path / "encoder"
    result = runner.invoke(
        cli, ["pretrain", str(lines), str(labelled), "-o", str(out), "-q", *tiny_sets()]
    )
    assert result.exit_code == 0, result.output
    assert "80 carry emoticons or emoji of one kind only" in result.output
    spec = json.loads((out / "encoder.json").read_text(encoding="utf-8"))
    assert [s["labels"] for s in spec["corpus"]] == ["emoticons and emoji", "its label column"]
    assert spec["rows"] == 80 + len(TWEETS) * 3
    assert spec["labels"] == ["negative", "neutral", "positive"]
    assert "love" in spec["tokens"] and "<number>" in spec["tokens"]
    with np.load(out / "weights.npz") as weights:
        assert weights["embedding"].shape == (len(spec["tokens"]), 8)
        assert weights["classifier.kernel"].shape == (4, 3)
    read = seen.load(out / "seen.npy", "encoder")
    assert spec["seen"] == {"file": "seen.npy", "fingerprints": len(read)}
    labelled_texts = [text for text, _ in TWEETS]
    assert seen.count(labelled_texts, read) == len(labelled_texts)
    assert seen.count(["a tweet it never read"], read) == 0
    model = tmp_path / "model"
    args = ["train", str(labelled), "-o", str(model), "-q", *tiny_sets()]
    result = runner.invoke(cli, [*args, "--set", f"model.encoder={out}"])
    assert result.exit_code == 0, result.output
    assert f"Encoder '{out}'" in result.output
    assert "The classifier starts from the encoder's too" in result.output
    # It read every tweet of that file: validation cannot avoid them, and the log says so.
    assert f"are tweets the encoder {str(out)!r} was trained on" in result.output
    summary = json.loads((model / "summary.json").read_text(encoding="utf-8"))
    assert summary["start_read"] == {
        "by": f"the encoder {str(out)!r}",
        "training": summary["n_train"],
        "validation": summary["n_val"],
    }


def test_a_corpus_without_labels_or_faces_is_refused_and_nothing_is_written(runner, tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("just words\nmore words\n", encoding="utf-8")
    out = tmp_path / "encoder"
    result = runner.invoke(cli, ["pretrain", str(plain), "-o", str(out), *tiny_sets()])
    assert result.exit_code != 0
    assert "no labelled tweets" in result.output and "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == [plain]


def test_an_existing_encoder_is_kept_without_force(runner, tmp_path):
    lines, _ = _corpus(tmp_path)
    out = tmp_path / "encoder"
    out.mkdir()
    (out / "encoder.json").write_text("{}", encoding="utf-8")
    result = runner.invoke(cli, ["pretrain", str(lines), "-o", str(out), *tiny_sets()])
    assert result.exit_code != 0 and "--force" in result.output
    assert (out / "encoder.json").read_text(encoding="utf-8") == "{}"


def test_words_of_the_pretraining_data_are_kept_too(runner, tmp_path):
    """make encoder pretrains on Sentiment140 first (train.pretrain_data), then on the
    human labels: the words only the first holds were trained, and are kept."""
    _, labelled = _corpus(tmp_path)
    distant = write_csv(
        tmp_path / "distant.csv",
        [(f"zebras everywhere {i}", "positive") for i in range(10)]
        + [(f"quagmire again {i}", "negative") for i in range(10)],
    )
    out = tmp_path / "encoder"
    args = ["pretrain", str(labelled), "-o", str(out), "-q", *tiny_sets()]
    result = runner.invoke(cli, [*args, "--set", f"train.pretrain_data={distant}"])
    assert result.exit_code == 0, result.output
    tokens = json.loads((out / "encoder.json").read_text(encoding="utf-8"))["tokens"]
    assert {"zebras", "quagmire"} <= set(tokens)


@pytest.mark.parametrize(
    "text, neutral",
    [
        ("I love this new phone so much", "I this new phone so much"),
        ("worst flight ever, delayed at Heathrow", "flight ever, at Heathrow"),
        ("I don't like the update at all", "I the update at all"),
        ("Great!!", None),  # too few words left
        ("on the bus to work", None),  # no sentiment word to take out: not made neutral
    ],
)
def test_a_neutral_tweet_is_a_tweet_without_its_sentiment_words(text, neutral):
    from sentiment_cli.text.lexicon import vader_valences
    from sentiment_cli.text.negation import NEGATORS
    from sentiment_cli.training.neutral import without_sentiment

    assert without_sentiment(text, vader_valences(), NEGATORS) == neutral


def test_a_negative_and_positive_corpus_gets_a_neutral_class_unless_told_not(runner, tmp_path):
    """An encoder of three labels transfers its whole network to a three-label model;
    a corpus of emoticons alone has two."""
    lines, _ = _corpus(tmp_path)
    out, two = tmp_path / "encoder", tmp_path / "two"
    result = runner.invoke(cli, ["pretrain", str(lines), "-o", str(out), "-q", *tiny_sets()])
    assert result.exit_code == 0, result.output
    spec = json.loads((out / "encoder.json").read_text(encoding="utf-8"))
    assert spec["labels"] == ["negative", "neutral", "positive"]
    made = spec["neutral_made"]
    assert 10 <= made["neutral"] <= made["drawn"] < 80
    assert spec["rows"] == 80 - made["drawn"] + made["neutral"]
    assert f"{made['neutral']:,} kept as neutral" in result.output
    args = ["pretrain", str(lines), "-o", str(two), "-q", "--no-neutral", *tiny_sets()]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    spec = json.loads((two / "encoder.json").read_text(encoding="utf-8"))
    assert spec["labels"] == ["negative", "positive"] and spec["neutral_made"] is None
    assert spec["rows"] == 80


def test_evaluate_counts_the_rows_the_models_encoder_read(runner, tmp_path):
    lines, _ = _corpus(tmp_path)
    encoder = tmp_path / "encoder"
    result = runner.invoke(cli, ["pretrain", str(lines), "-o", str(encoder), "-q", *tiny_sets()])
    assert result.exit_code == 0, result.output
    labelled = write_csv(tmp_path / "labelled.csv", TWEETS * 3)  # tweets the encoder never read
    model = tmp_path / "model"
    args = ["train", str(labelled), "-o", str(model), "-q", *tiny_sets()]
    result = runner.invoke(cli, [*args, "--set", f"model.encoder={encoder}"])
    assert result.exit_code == 0, result.output
    read = [("love this place 0", "positive"), ("worst day ever 1", "negative")]
    scored = write_csv(tmp_path / "scored.csv", [*read, *TWEETS[:3], ("a new tweet", "neutral")])
    evaluate = ["evaluate", "--model-dir", str(model), str(scored)]
    metrics = json.loads(runner.invoke(cli, [*evaluate, "-f", "json"]).output)
    assert metrics["copies_of_rows_the_encoder_read"] == 2
    assert metrics["copies_of_training_rows"] == 3
    output = runner.invoke(cli, evaluate).output
    assert "Warning: 2 of the 6 rows are tweets the model's encoder was trained on" in output
    encoder.rename(tmp_path / "moved")  # the encoder is not where the model was trained
    metrics = json.loads(runner.invoke(cli, [*evaluate, "-f", "json"]).output)
    assert metrics["copies_of_rows_the_encoder_read"] is None
    assert "encoder was trained on" not in runner.invoke(cli, evaluate).output
