"""train.members: one model folder holding k members, averaged by every runtime."""

import json

import numpy as np
import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, train_args, write_csv

TEXTS = ["not bad at all", "worst day ever", "", "the vote is on sunday"]


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    from click.testing import CliRunner

    base = tmp_path_factory.mktemp("ensemble")
    data = write_csv(base / "d.csv", TWEETS * 2)
    runner, outputs = CliRunner(), []
    for name, members in (("ens", "2"), ("single", "1")):
        args = train_args(data, base / name, "--set", f"train.members={members}")
        result = runner.invoke(cli, [a for a in args if a != "--quiet"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    return base / "ens", base / "single", outputs[0]


def test_members_are_seeded_and_averaged(ensemble):
    from sentiment_cli.artifact import load_model_dir
    from sentiment_cli.runtime import members

    folder, single, _ = ensemble
    summary = json.loads((folder / "summary.json").read_text())
    assert [m["seed"] for m in summary["members"]] == [42, 43]
    bundle = load_model_dir(folder)
    ids = bundle.vocab.encode(TEXTS, bundle.config.text).ids
    first, second = members(bundle.network)
    p1, p2 = first.predict_ids(ids), second.predict_ids(ids)
    assert not np.allclose(p1, p2)  # two different networks
    np.testing.assert_allclose(bundle.network.predict_ids(ids), (p1 + p2) / 2, atol=1e-7)
    # The first member is the model a one-member run with the same seed trains.
    alone = load_model_dir(single)
    np.testing.assert_allclose(p1, alone.network.predict_ids(ids), atol=1e-5)


def test_numpy_runtime_matches_keras(ensemble):
    from sentiment_cli.artifact import load_model_dir

    folder, _, output = ensemble
    assert "Member 2 of 2 (seed 43)" in output
    assert "Validation (the mean of 2 members)" in output
    numpy_bundle = load_model_dir(folder)
    keras_bundle = load_model_dir(folder, runtime="keras")
    ids = numpy_bundle.vocab.encode(TEXTS, numpy_bundle.config.text).ids
    np.testing.assert_allclose(
        numpy_bundle.network.predict_ids(ids),
        keras_bundle.model.predict(ids, verbose=0),
        atol=1e-5,
    )


def test_trace_ends_at_the_ensembles_prediction(runner, ensemble):
    folder, _, _ = ensemble
    text = "worst day ever"
    traced = runner.invoke(
        cli, ["predict", "--model-dir", str(folder), "--trace", "-f", "json", text]
    )
    plain = runner.invoke(cli, ["predict", "--model-dir", str(folder), "-f", "json", text])
    assert traced.exit_code == 0 and plain.exit_code == 0, traced.output + plain.output
    final = json.loads(traced.output)["final"]["probabilities"]
    expected = json.loads(plain.output)[0]["probabilities"]
    for label, p in expected.items():
        assert final[label] == pytest.approx(p, abs=1e-5)
    gates = runner.invoke(cli, ["predict", "--model-dir", str(folder), "--gates", text])
    assert gates.exit_code == 1 and "is an ensemble of 2 members" in gates.output


def test_onnx_export_of_an_ensemble(runner, ensemble, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from sentiment_cli.artifact import load_model_dir

    folder, _, _ = ensemble
    out = tmp_path / "e.onnx"
    args = ["export", "--model-dir", str(folder), "--format", "onnx", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    bundle = load_model_dir(folder)
    ids = bundle.vocab.encode(TEXTS, bundle.config.text).ids
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: ids})[0]
    np.testing.assert_allclose(got, bundle.network.predict_ids(ids), atol=1e-5)


def test_distilled_members_leave_one_network(runner, tmp_path):
    from sentiment_cli.artifact import load_model_dir

    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    folder = tmp_path / "distilled"
    args = train_args(data, folder, "--set", "train.members=2", "--set", "train.distill=true")
    result = runner.invoke(cli, [a for a in args if a != "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Validation (the mean of 2 members)" in result.output
    assert "Distilling the 2 members into one model (seed 44)" in result.output
    assert "retracing" not in result.output
    assert "members" not in json.loads((folder / "network.json").read_text())
    summary = json.loads((folder / "summary.json").read_text())
    assert [m["seed"] for m in summary["members"]] == [42, 43]
    assert summary["distilled"]["seed"] == 44
    assert 0 <= summary["distilled"]["teacher_validation"]["macro_recall"] <= 1
    numpy_bundle = load_model_dir(folder)
    keras_bundle = load_model_dir(folder, runtime="keras")
    assert not any(layer.name.startswith("member_") for layer in keras_bundle.model.layers)
    ids = numpy_bundle.vocab.encode(TEXTS, numpy_bundle.config.text).ids
    np.testing.assert_allclose(
        numpy_bundle.network.predict_ids(ids), keras_bundle.model.predict(ids, verbose=0), atol=1e-5
    )


def test_a_distilled_model_learns_the_given_probabilities(tmp_path):
    """Soft targets are learnt as given, with no class weights on top (the teacher
    already weighed the classes): where every tweet reads the same, the model learns
    the plain mean of their target rows, however unbalanced the labels are."""
    from sentiment_cli import train as training
    from sentiment_cli.config import load_config
    from sentiment_cli.model import compile_model
    from tests.conftest import TINY

    rows = [("the same words", "negative")] * 4 + [("the same words", "positive")] * 36
    data = write_csv(tmp_path / "u.csv", rows + [("other words", "neutral")] * 4)
    settings = ["train.epochs=80", "train.early_stopping_patience=80", "train.learning_rate=0.05"]
    settings += ["model.dropout=0"]
    settings += ["train.checkpoint=false", "train.augment_negation=0", "model.encoder=null"]
    config = load_config(None, [*TINY, *settings, "train.augment_contrast=0"])
    quiet = lambda message: None  # noqa: E731
    prepared = training.prepare(
        training.load_splits(data, data, config, "text", "label", quiet),
        config,
        "text",
        "label",
        quiet,
    )
    model, _ = training.new_model(config, prepared, quiet)
    compile_model(model, config.train, soft_targets=True)
    by_class = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7]], dtype="float32")
    soft = (by_class[prepared.y_train], by_class[prepared.y_val])
    training.fit(model, config, prepared, training.Progress(), tmp_path / "ck", 0, quiet, soft=soft)
    same = np.array(prepared.splits.train.texts) == "the same words"
    learnt = model.predict(prepared.x_train.ids[same][:1], verbose=0)[0]
    expected = by_class[prepared.y_train[same]].mean(axis=0)  # mostly "positive"'s row
    np.testing.assert_allclose(learnt, expected, atol=0.05)
