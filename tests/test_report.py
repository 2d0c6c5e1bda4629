import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

from sentiment_cli.cli import cli
from sentiment_cli.config import TextConfig
from sentiment_cli.models.baseline import Baseline
from sentiment_cli.runtime.bow import BagOfWords
from sentiment_cli.text.tokenizer import tokenize_all
from tests.conftest import TWEETS, train_args

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_report_dir_files(runner, trained_model, tiny_csv, tmp_path):
    report = tmp_path / "report"
    result = runner.invoke(
        cli,
        ["evaluate", "--model-dir", str(trained_model), str(tiny_csv), "--report-dir", str(report)],
    )
    assert result.exit_code == 0, result.output
    assert f"Report written to {report / 'report.md'}" in result.output
    for name in ("confusion_matrix.png", "learning_curves.png"):
        data = (report / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 10_000  # a real plot, not an empty canvas
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["n"] == len(TWEETS) * 2
    assert set(metrics["baseline"]) >= {"macro_recall", "per_class", "confusion_matrix"}
    markdown = (report / "report.md").read_text()
    for name in ("confusion_matrix.png", "learning_curves.png", "errors.csv", "metrics.json"):
        assert f"]({name})" in markdown
    assert "| macro_recall |" in markdown

    import pandas as pd

    errors = pd.read_csv(report / "errors.csv")
    assert list(errors.columns) == [
        "text",
        "true_label",
        "predicted_label",
        "probability",
        "probability_of_true_label",
    ]
    cm = np.array(metrics["confusion_matrix"]["matrix"])
    assert len(errors) == cm.sum() - np.trace(cm)
    assert (errors["true_label"] != errors["predicted_label"]).all()
    assert errors["probability"].is_monotonic_decreasing


def test_several_models_side_by_side(runner, trained_model, tiny_csv, tmp_path):
    result = runner.invoke(
        cli,
        [
            "evaluate",
            "--model-dir",
            str(trained_model),
            "--model-dir",
            str(trained_model),
            str(tiny_csv),
            "--report-dir",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"1-model: {trained_model}" in result.output
    assert f"2-model: {trained_model}" in result.output
    assert "bag-of-words" in result.output
    assert (tmp_path / "r" / "1-model" / "report.md").exists()
    assert (tmp_path / "r" / "2-model" / "report.md").exists()


def test_baseline_saves_as_plain_data_and_reloads_identically(tmp_path, monkeypatch):
    config = TextConfig()
    tokens = tokenize_all([t for t, _ in TWEETS] * 2, config)
    labels = [label for _, label in TWEETS] * 2
    baseline = Baseline.fit(tokens, labels, "balanced", seed=0)
    baseline.save(tmp_path)
    expected = baseline.predict_proba(tokens)

    def refuse(*args, **kwargs):
        raise AssertionError("the baseline must load without unpickling")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    loaded = BagOfWords.load(tmp_path)  # how every command reads it
    np.testing.assert_allclose(loaded.predict_proba(tokens), expected, atol=1e-12)

    code = (
        "import sys, json; from sentiment_cli.runtime.bow import BagOfWords;"
        "from sentiment_cli.config import TextConfig;"
        "from sentiment_cli.text.tokenizer import tokenize_all;"
        "b = BagOfWords.load(sys.argv[1]);"
        "tokens = tokenize_all(json.loads(sys.argv[2]), TextConfig());"
        "print(json.dumps(b.predict_proba(tokens).tolist()))"
    )
    texts = json.dumps([t for t, _ in TWEETS] * 2)
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), texts],
        capture_output=True,
        text=True,
        check=True,
    )
    np.testing.assert_allclose(np.array(json.loads(out.stdout)), expected, atol=1e-12)


def test_baseline_npz_with_pickled_objects_is_refused(tmp_path):
    from sentiment_cli.errors import SentimentError

    tokens = tokenize_all([t for t, _ in TWEETS], TextConfig())
    Baseline.fit(tokens, [label for _, label in TWEETS], "none", seed=0).save(tmp_path)
    np.savez(
        tmp_path / "baseline.npz",
        idf=np.array([object()], dtype=object),
        coef=np.zeros((3, 1)),
        intercept=np.zeros(3),
    )
    with pytest.raises(SentimentError, match="baseline.json / baseline.npz cannot be read"):
        BagOfWords.load(tmp_path)


def test_baseline_can_be_turned_off(runner, tiny_csv, tmp_path):
    args = train_args(tiny_csv, tmp_path / "m", "--set", "train.baseline=false")
    assert runner.invoke(cli, args).exit_code == 0
    assert not (tmp_path / "m" / "baseline.json").exists()
    result = runner.invoke(
        cli, ["evaluate", "--model-dir", str(tmp_path / "m"), str(tiny_csv), "-f", "json"]
    )
    assert json.loads(result.output)["baseline"] is None


def test_ensemble_averages_member_probabilities(runner, trained_model, tiny_csv, tmp_path):
    from sentiment_cli.evaluation.evaluate import score, score_ensemble

    single = score(trained_model, tiny_csv)
    twice = score_ensemble([trained_model, trained_model], tiny_csv)
    np.testing.assert_allclose(twice.probabilities, single.probabilities, atol=1e-7)
    assert twice.metrics["members"] == [str(trained_model)] * 2
    result = runner.invoke(
        cli,
        [
            "evaluate",
            "--model-dir",
            str(trained_model),
            "--model-dir",
            str(trained_model),
            "--ensemble",
            str(tiny_csv),
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["model_dir"] == "ensemble of 2"
    result = runner.invoke(
        cli, ["evaluate", "--model-dir", str(trained_model), "--ensemble", str(tiny_csv)]
    )
    assert result.output.strip() == "Error: --ensemble needs at least two --model-dir"
