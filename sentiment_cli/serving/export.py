"""Export a trained model for other runtimes: ONNX or a TensorFlow SavedModel.

The exported model takes padded id sequences (int32, shape (batch, max_length)) and
returns the label probabilities (float32, shape (batch, n_labels)). Tokenization stays
in Python: turn text into ids with the folder's ``vocab.json`` and ``config.yaml``
(``sentiment_cli.text.tokenizer``), or reimplement them.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

from sentiment_cli.errors import SentimentError
from sentiment_cli.extras import require
from sentiment_cli.models.keras_runtime import open_model
from sentiment_cli.runtime.model_folder import check_model_dir

FORMATS = ("onnx", "savedmodel")
SIGNATURE = "serving_default"  # the SavedModel signature TF Serving calls by default
ONNX_PACKAGES = ("tf2onnx", "onnx", "onnxruntime")


def export(model_dir: str | Path, fmt: str, output: str | Path, force: bool = False) -> dict:
    """Write the model to ``output`` and check it against Keras on a few inputs;
    returns what was written and the largest probability difference."""
    if fmt not in FORMATS:
        raise SentimentError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    check_model_dir(Path(model_dir))
    output = Path(output)
    if output.exists() or output.is_symlink():
        if not force:
            raise SentimentError(f"--output {output}: exists; use --force to replace it")
        check_replaceable(output, fmt)
    if fmt == "onnx":
        require("--format onnx", "onnx", *ONNX_PACKAGES)
    bundle = open_model(model_dir, runtime="keras")
    ids = sample_ids(bundle)
    from sentiment_cli.models.backend import filtered_stderr

    expected = bundle.keras.predict(ids, verbose=0)
    tmp = output.parent / f".{output.name}.tmp"
    _remove(tmp)
    with filtered_stderr(), warnings.catch_warnings():  # converters log through absl
        # Keras' tf2onnx shim probes numpy for np.object, which warns; nothing to act on.
        warnings.filterwarnings("ignore", message="In the future `np.object`")
        if fmt == "onnx":
            bundle.keras.export(str(tmp), format="onnx", verbose=False)
            got = run_onnx(tmp, ids)
        else:
            bundle.keras.export(str(tmp), format="tf_saved_model", verbose=False)
            got = run_savedmodel(tmp, ids)
    difference = float(abs(got - expected).max())
    if difference > 1e-5:
        raise SentimentError(
            f"the exported model differs from the Keras model by {difference:.2g} (over 1e-5)"
        )
    _remove(output)
    tmp.rename(output)
    return {
        "format": fmt,
        "output": str(output),
        "input": {"name": "token_ids", "dtype": "int32", "shape": [None, ids.shape[1]]},
        "output_probabilities": {"dtype": "float32", "labels": bundle.labels},
        "max_difference_from_keras": difference,
        "checked_rows": int(len(ids)),
        # predict mixes this share of the bag-of-words baseline in; the export has none
        "baseline_weight_not_exported": bundle.blend.weight,
    }


def check_replaceable(output: Path, fmt: str) -> None:
    """--force replaces only what an export wrote: an ONNX file, or a SavedModel folder
    (or an empty one); never a device, a pipe, a link or someone's other files."""
    if output.is_symlink():
        raise SentimentError(f"--output {output}: is a symbolic link; refusing to replace it")
    if fmt == "onnx":
        if not output.is_file():
            raise SentimentError(
                f"--output {output}: exists and is not a regular file; export --format onnx "
                f"replaces only an ONNX file it wrote"
            )
        if not _is_onnx(output):
            raise SentimentError(
                f"--output {output}: is not an ONNX model; refusing to replace it even with --force"
            )
        return
    if not output.is_dir():
        raise SentimentError(
            f"--output {output}: exists and is not a folder; export --format savedmodel "
            f"replaces only a SavedModel folder it wrote"
        )
    if any(output.iterdir()) and not (output / "saved_model.pb").is_file():
        raise SentimentError(
            f"--output {output}: is not empty and holds no saved_model.pb; refusing to "
            f"replace it even with --force"
        )


def _is_onnx(path: Path) -> bool:
    try:
        import onnx

        onnx.load(str(path), load_external_data=False)
    except Exception:  # any parse failure means: not an ONNX model
        return False
    return True


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def sample_ids(bundle) -> Any:
    """A few padded rows to check the export on: the tool's own example tweets."""
    texts = ["not bad at all", "I hate this", "", "what a great day :)", "the vote is on sunday"]
    return bundle.vocab.encode(texts * 4, bundle.config.text).ids


def run_onnx(path: Path, ids):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: ids.astype("int32")})[0]


def run_savedmodel(path: Path, ids):
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures[SIGNATURE]
    (name,) = serve.structured_input_signature[1]
    outputs = serve(**{name: tf.constant(ids, dtype=tf.int32)})
    return np.asarray(next(iter(outputs.values())))
