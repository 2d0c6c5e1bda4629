"""train.tune_biases: offsets chosen for macro recall on validation, in the classifier."""

import json

import numpy as np
import pytest

from sentiment_cli.cli import cli
from sentiment_cli.training.biases import fit_offsets, shifted
from tests.conftest import TWEETS, train_args, write_csv


def leaning(n: int, lean: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, true class ids) of 3 balanced classes from a model that knows the
    class but adds ``lean`` to class 0's logit."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    logits = rng.normal(0, 1, (len(y), 3))
    logits[np.arange(len(y)), y] += 1.5
    logits[:, 0] += lean
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True), y


def macro_recall(probs, y):
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, probs.argmax(axis=1))


def test_offsets_undo_a_lean_and_leave_a_balanced_model_alone():
    probs, y = leaning(3000, lean=1.0)
    offsets = fit_offsets([probs], y)
    assert offsets[0] == 0  # the first class is the reference
    # Classes 1 and 2 are raised by about the lean (within the grid's step and noise).
    assert offsets[1] == pytest.approx(1.0, abs=0.3) and offsets[2] == pytest.approx(1.0, abs=0.3)
    held_out, y_held_out = leaning(3000, lean=1.0, seed=1)
    assert (
        macro_recall(shifted([held_out], offsets), y_held_out)
        > macro_recall(held_out, y_held_out) + 0.03
    )
    balanced, y_balanced = leaning(3000, lean=0.0)
    assert np.abs(fit_offsets([balanced], y_balanced)).max() <= 0.2


def test_shifted_is_softmax_of_shifted_logits_averaged_over_members():
    logits = np.random.default_rng(2).normal(0, 2, (2, 5, 3))
    offsets = np.array([0.0, 0.5, -0.3])

    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    members = [softmax(z) for z in logits]
    expected = np.mean([softmax(z + offsets) for z in logits], axis=0)
    np.testing.assert_allclose(shifted(members, offsets), expected, atol=1e-12)


@pytest.fixture(scope="module", params=["1", "2"], ids=["single", "ensemble"])
def tuned_and_untuned(request, tmp_path_factory):
    """(tuned folder, its log), (untuned folder, its log): the same data, seed and
    number of members (``train.members``, the parameter)."""
    from click.testing import CliRunner

    base = tmp_path_factory.mktemp("biases")
    # Positive tweets three times over: the unweighted model leans to them.
    rows = [r for r in TWEETS if r[1] == "positive"] * 6 + [r for r in TWEETS if r[1] != "positive"]
    data = write_csv(base / "d.csv", rows * 2)
    val = write_csv(base / "v.csv", TWEETS * 4)  # 24 of each class
    folders = []
    for name, tune in (("tuned", "true"), ("plain", "false")):
        args = train_args(data, base / name, "--set", f"train.tune_biases={tune}")
        args += ["--val-data", str(val), "--set", "train.class_weight=none"]
        args += ["--set", "train.epochs=3", "--set", f"train.members={request.param}"]
        args += ["--set", "train.calibrate=none"]  # the offsets alone move the classifier
        result = CliRunner().invoke(cli, [a for a in args if a != "--quiet"])
        assert result.exit_code == 0, result.output
        folders.append((base / name, result.output))
    return folders


def test_tuned_biases_are_in_the_model_every_runtime_reads(tuned_and_untuned):
    from sentiment_cli.models.keras_runtime import open_model
    from sentiment_cli.runtime.network import members

    (tuned, output), (plain, _) = tuned_and_untuned
    assert "Biases tuned for macro recall on the validation split: negative +0.0" in output
    summary = json.loads((tuned / "summary.json").read_text())
    offsets = np.array(list(summary["bias_tuning"]["offsets"].values()))
    assert np.any(offsets)  # the data is built to make the model lean
    assert json.loads((plain / "summary.json").read_text())["bias_tuning"] is None
    texts = ["worst day ever", "best coffee", "the vote is on sunday", "so sad"]
    plain_bundle = open_model(plain)
    ids = plain_bundle.vocab.encode(texts, plain_bundle.config.text).ids
    # Each member's logits are shifted, then the members averaged.
    expected = shifted([m.predict_ids(ids) for m in members(plain_bundle.network)], offsets)
    for runtime in ("numpy", "keras"):
        bundle = open_model(tuned, runtime=runtime)
        got = (
            bundle.network.predict_ids(ids)
            if runtime == "numpy"
            else bundle.keras.predict(ids, verbose=0)
        )
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_too_few_validation_tweets_of_a_class_leave_the_biases_alone(runner, tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    val = write_csv(tmp_path / "v.csv", TWEETS[:12] * 4 + TWEETS[12:13])  # one neutral
    args = train_args(
        data, tmp_path / "m", "--val-data", str(val), "--set", "train.tune_biases=true"
    )
    result = runner.invoke(cli, [a for a in args if a != "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Biases not tuned: the validation split has fewer than 20 tweets of neutral (1)" in (
        result.output
    )
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["bias_tuning"] is None
