"""export: ONNX and SavedModel take padded ids and give the same probabilities."""

import numpy as np

from sentiment_cli.cli import cli


def _ids(model_dir, texts):
    from sentiment_cli.models.keras_runtime import open_model

    bundle = open_model(model_dir)
    return bundle, bundle.vocab.encode(texts, bundle.config.text).ids


TEXTS = ["not bad at all", "worst day ever", "", "new episode out now http://t.co/x"]


def test_onnx_export_matches_the_runtime(runner, trained_model, tmp_path):
    import onnxruntime

    out = tmp_path / "m.onnx"
    args = ["export", "--model-dir", str(trained_model), "--format", "onnx", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "input token_ids int32 [batch, 12]" in result.output
    bundle, ids = _ids(trained_model, TEXTS)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: ids})[0]
    np.testing.assert_allclose(got, bundle.network.predict_ids(ids), atol=1e-5)
    again = runner.invoke(cli, args)
    assert again.exit_code == 1 and "exists; use --force" in again.output


def test_savedmodel_has_a_serving_signature(runner, trained_model, tmp_path):
    import tensorflow as tf

    out = tmp_path / "serving" / "1"
    out.parent.mkdir()
    args = ["export", "--model-dir", str(trained_model), "-f", "savedmodel", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    assert list(serve.structured_input_signature[1]) == ["token_ids"]
    bundle, ids = _ids(trained_model, TEXTS)
    (probs,) = serve(token_ids=tf.constant(ids)).values()
    np.testing.assert_allclose(np.asarray(probs), bundle.network.predict_ids(ids), atol=1e-5)
