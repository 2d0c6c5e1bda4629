"""experiment order: word order moved, and negation pairs."""

import json

import numpy as np

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, write_csv


def test_as_written_equals_evaluate_and_report_is_written(runner, trained_model, tmp_path):
    data = write_csv(tmp_path / "t.csv", TWEETS)
    evaluated = runner.invoke(
        cli, ["evaluate", "--model-dir", str(trained_model), str(data), "-f", "json"]
    )
    args = ["experiment", "order", "--model-dir", str(trained_model), str(data), "-f", "json"]
    result = runner.invoke(cli, [*args, "--seeds", "2", "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    order = json.loads(result.stdout)
    metrics = json.loads(evaluated.stdout)
    written = order["conditions"][0]
    assert written["name"] == "as written"
    assert written["model"]["macro_recall"] == metrics["macro_recall"]
    assert written["baseline"]["accuracy"] == metrics["baseline"]["accuracy"]
    assert [c["name"] for c in order["conditions"]] == [
        "as written",
        "shuffled (2 seeds)",
        "reversed",
    ]
    assert "macro_recall_std" in order["conditions"][1]["model"]
    assert order["negation"]["pairs"] == 3 * order["negation"]["words"] > 0
    assert 0 <= order["negation"]["model"]["flipped"] <= 1
    assert (tmp_path / "r" / "order.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "r" / "order.json").read_text()) == order


def test_shuffling_leaves_a_unigram_bag_of_words_unchanged():
    from sentiment_cli.config import TextConfig
    from sentiment_cli.models.baseline import Baseline
    from sentiment_cli.text.tokenizer import tokenize

    tokens = [tokenize(text, TextConfig()) for text, _ in TWEETS * 3]
    labels = [label for _, label in TWEETS * 3]
    unigrams = Baseline.fit(tokens, labels, "balanced", 0, ngram_range=(1, 1))
    bigrams = Baseline.fit(tokens, labels, "balanced", 0)
    rng = np.random.default_rng(0)
    shuffled = [[t[i] for i in rng.permutation(len(t))] for t in tokens]
    np.testing.assert_allclose(unigrams.predict_proba(shuffled), unigrams.predict_proba(tokens))
    # Its bigrams are the only order the built-in baseline sees: shuffling moves it.
    assert not np.allclose(bigrams.predict_proba(shuffled), bigrams.predict_proba(tokens))
