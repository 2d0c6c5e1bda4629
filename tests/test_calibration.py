"""Calibrated probabilities, the metrics that say whether p can be trusted, and
abstaining below a confidence (predict, evaluate, the server, the Python API)."""

import json

import numpy as np
import pytest

from tests.conftest import TWEETS, train_args, write_csv


def test_probability_metrics_on_hand_worked_rows():
    from sentiment_cli.metrics import probability_metrics

    labels = ["neg", "pos"]
    sure_and_right = probability_metrics(["neg", "pos"], [[1.0, 0.0], [0.0, 1.0]], labels)
    assert sure_and_right["ece"] == 0.0
    assert sure_and_right["brier"] == 0.0
    assert sure_and_right["log_loss"] == pytest.approx(0.0, abs=1e-12)
    # Four rows at confidence 0.9, half of them right: one bin, gap 0.4.
    probs = [[0.9, 0.1]] * 4
    half = probability_metrics(["neg", "neg", "pos", "pos"], probs, labels)
    assert half["ece"] == pytest.approx(0.4)
    assert half["mean_confidence"] == pytest.approx(0.9)
    assert half["brier"] == pytest.approx((0.01 + 0.01 + 0.81 + 0.81) * 2 / 4)
    assert half["log_loss"] == pytest.approx(-(np.log(0.9) + np.log(0.1)) / 2)


def test_abstention_counts_the_rows_at_least_that_confident():
    from sentiment_cli.metrics import abstention

    probs = [[0.95, 0.05], [0.6, 0.4], [0.3, 0.7], [0.85, 0.15]]
    result = abstention(["a", "b", "b", "b"], probs, ["a", "b"], 0.8)
    assert (result["answered"], result["abstained"]) == (2, 2)
    assert result["coverage"] == 0.5
    assert result["accuracy_answered"] == 0.5  # right on row 0, wrong on row 3
    assert result["accuracy_all"] == 0.5


def test_the_fitted_temperature_softens_an_over_confident_model_and_keeps_its_labels():
    from sentiment_cli.training.calibrate import fit_temperature, nll, soften

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2000)
    logits = rng.normal(0, 1, (2000, 3))
    logits[np.arange(2000), y] += 1.0  # right more often than not...
    honest = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    sharp = soften([honest], 1 / 3)  # ...and three times too sure of it
    temperature = fit_temperature([sharp], y)
    assert 2.5 < temperature < 3.5
    assert nll(soften([sharp], temperature), y) < nll(sharp, y) - 0.1
    assert (soften([sharp], temperature).argmax(axis=1) == sharp.argmax(axis=1)).all()


@pytest.fixture(scope="module")
def calibrated_pair(tmp_path_factory):
    """The same tiny model trained twice, with and without train.calibrate."""
    from click.testing import CliRunner

    from sentiment_cli.cli import cli

    base = tmp_path_factory.mktemp("calibrated")
    data = write_csv(base / "tweets.csv", TWEETS * 6)
    folders = {}
    for method in ("none", "temperature"):
        out = base / method
        # the network alone: what the blend does to the answers is test_blend.py's
        args = train_args(
            data, out, "--set", "train.validation_split=0.3", "--set", "train.blend=none"
        )
        args += ["--set", f"train.calibrate={method}", "--set", "train.epochs=3"]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        folders[method] = out
    return folders


def test_training_folds_the_temperature_into_the_classifier(calibrated_pair):
    from sentiment_cli import load_model
    from sentiment_cli.training.calibrate import soften

    summary = json.loads((calibrated_pair["temperature"] / "summary.json").read_text())
    calibration = summary["calibration"]
    assert calibration["method"] == "temperature"
    assert (
        calibration["validation_after"]["log_loss"] <= calibration["validation_before"]["log_loss"]
    )
    none = json.loads((calibrated_pair["none"] / "summary.json").read_text())
    assert none["calibration"] is None

    texts = ["I love this so much", "worst service ever", "the vote is on sunday", "meh"]
    raw = load_model(calibrated_pair["none"]).predict(texts)
    calibrated = load_model(calibrated_pair["temperature"]).predict(texts)
    columns = [c for c in raw.columns if c.startswith("p_")]
    expected = soften([raw[columns].to_numpy()], calibration["temperature"])
    np.testing.assert_allclose(calibrated[columns].to_numpy(), expected, atol=2e-5)
    assert list(calibrated["label"]) == list(raw["label"])


def test_the_keras_runtime_gives_the_calibrated_probabilities_too(calibrated_pair):
    from sentiment_cli import load_model

    texts = ["I love this so much", "worst service ever"]
    folder = calibrated_pair["temperature"]
    numpy_side = load_model(folder).predict(texts)
    keras_side = load_model(folder, runtime="keras").predict(texts)
    columns = [c for c in numpy_side.columns if c.startswith("p_")]
    np.testing.assert_allclose(numpy_side[columns], keras_side[columns], atol=1e-5)


def test_too_small_a_validation_split_is_left_uncalibrated_and_says_so(runner, tiny_csv, tmp_path):
    from sentiment_cli.cli import cli

    args = [a for a in train_args(tiny_csv, tmp_path / "m") if a != "--quiet"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Probabilities not calibrated: fewer than 20 validation tweets" in result.output
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["calibration"] is None


def test_predict_min_confidence_answers_uncertain_and_keeps_the_probabilities(
    runner, trained_model
):
    from sentiment_cli.cli import cli

    texts = ["I love this so much :)", "the vote is on sunday"]
    base = ["predict", "--model-dir", str(trained_model), "-f", "json", *texts]
    plain = json.loads(runner.invoke(cli, base).stdout)
    assert all(row["label"] != "uncertain" for row in plain)
    result = runner.invoke(cli, [*base, "--min-confidence", "1"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["label"] for row in rows] == ["uncertain", "uncertain"]
    assert [row["probabilities"] for row in rows] == [row["probabilities"] for row in plain]
    low = json.loads(runner.invoke(cli, [*base, "--min-confidence", "0"]).stdout)
    assert low == plain


@pytest.mark.parametrize(
    "value, message",
    [("1.5", "1.5 is not in the range 0.0<=x<=1.0"), ("nan", "'nan' is not a finite number")],
)
def test_predict_refuses_a_min_confidence_outside_0_to_1(runner, trained_model, value, message):
    from sentiment_cli.cli import cli

    args = ["predict", "--model-dir", str(trained_model), "--min-confidence", value, "hi"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.output


def test_min_confidence_is_refused_with_the_trace(runner, trained_model):
    from sentiment_cli.cli import cli

    args = ["predict", "--model-dir", str(trained_model), "--trace", "--min-confidence", "0.5"]
    result = runner.invoke(cli, [*args, "not bad"])
    assert result.exit_code == 1
    assert "Error: --min-confidence answers local predictions, not --trace" in result.output


def test_a_model_with_a_label_named_uncertain_refuses_min_confidence():
    from sentiment_cli.errors import SentimentError
    from sentiment_cli.runtime.predict import check_min_confidence

    check_min_confidence(0.8, ["negative", "positive"])
    with pytest.raises(SentimentError, match="has a label 'uncertain'"):
        check_min_confidence(0.8, ["certain", "uncertain"])


def test_evaluate_reports_calibration_next_to_the_baseline_and_abstention(
    runner, trained_model, tiny_csv, tmp_path
):
    from sentiment_cli.cli import cli

    args = ["evaluate", "--model-dir", str(trained_model), str(tiny_csv), "-f", "json"]
    result = runner.invoke(cli, [*args, "--min-confidence", "0.5"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    for side in (metrics, metrics["baseline"]):
        assert 0 <= side["ece"] <= 1 and side["brier"] >= 0 and side["log_loss"] >= 0
    a = metrics["abstention"]
    assert a["min_confidence"] == 0.5
    assert a["answered"] + a["abstained"] == metrics["n"]
    assert a["accuracy_all"] == pytest.approx(metrics["accuracy"])

    table = runner.invoke(cli, [*args[:-2], "--min-confidence", "0.5"])
    assert "ece" in table.stdout and "log_loss" in table.stdout
    assert f"At --min-confidence 0.5: {a['answered']} of {metrics['n']} rows answered" in (
        table.stdout
    )


def test_the_report_draws_the_reliability_diagram(runner, trained_model, tiny_csv, tmp_path):
    from sentiment_cli.cli import cli

    report = tmp_path / "report"
    args = ["evaluate", "--model-dir", str(trained_model), str(tiny_csv)]
    result = runner.invoke(cli, [*args, "--report-dir", str(report), "--min-confidence", "0.6"])
    assert result.exit_code == 0, result.output
    assert (report / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (report / "report.md").read_text()
    assert "![Reliability and abstaining](reliability.png)" in text
    assert "At --min-confidence 0.6:" in text


def test_the_server_answers_uncertain_below_min_confidence(trained_model):
    pytest.importorskip("starlette", reason="the [serve] extra is not installed")
    from starlette.testclient import TestClient

    from sentiment_cli.serving.server import create_app

    client = TestClient(create_app(trained_model))
    texts = ["I love this so much :)", "worst day ever"]
    plain = client.post("/predict", json={"texts": texts}).json()
    sure = client.post("/predict", json={"texts": texts, "min_confidence": 1.0}).json()
    assert [row["label"] for row in sure] == ["uncertain", "uncertain"]
    assert [row["probabilities"] for row in sure] == [row["probabilities"] for row in plain]
    for bad in (1.5, "high", True):
        response = client.post("/predict", json={"texts": texts, "min_confidence": bad})
        assert response.status_code == 422
        assert "min_confidence" in response.json()["error"]


def test_the_python_api_takes_min_confidence(trained_model):
    from sentiment_cli import load_model

    frame = load_model(trained_model).predict(["hello there"], min_confidence=1.0)
    assert list(frame["label"]) == ["uncertain"]
