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
    from sentiment_cli.models.keras_runtime import open_model
    from sentiment_cli.runtime.network import members

    folder, single, _ = ensemble
    summary = json.loads((folder / "summary.json").read_text())
    assert [m["seed"] for m in summary["members"]] == [42, 43]
    bundle = open_model(folder)
    ids = bundle.vocab.encode(TEXTS, bundle.config.text).ids
    first, second = members(bundle.network)
    p1, p2 = first.predict_ids(ids), second.predict_ids(ids)
    assert not np.allclose(p1, p2)  # two different networks
    np.testing.assert_allclose(bundle.network.predict_ids(ids), (p1 + p2) / 2, atol=1e-7)
    # The first member is the model a one-member run with the same seed trains.
    alone = open_model(single)
    np.testing.assert_allclose(p1, alone.network.predict_ids(ids), atol=1e-5)


def test_numpy_runtime_matches_keras(ensemble):
    from sentiment_cli.models.keras_runtime import open_model

    folder, _, output = ensemble
    assert "Member 2 of 2 (seed 43)" in output
    assert "Validation (the mean of 2 members)" in output
    numpy_bundle = open_model(folder)
    keras_bundle = open_model(folder, runtime="keras")
    ids = numpy_bundle.vocab.encode(TEXTS, numpy_bundle.config.text).ids
    np.testing.assert_allclose(
        numpy_bundle.network.predict_ids(ids),
        keras_bundle.keras.predict(ids, verbose=0),
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
    from sentiment_cli.models.keras_runtime import open_model

    folder, _, _ = ensemble
    out = tmp_path / "e.onnx"
    args = ["export", "--model-dir", str(folder), "--format", "onnx", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    bundle = open_model(folder)
    ids = bundle.vocab.encode(TEXTS, bundle.config.text).ids
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: ids})[0]
    np.testing.assert_allclose(got, bundle.network.predict_ids(ids), atol=1e-5)
