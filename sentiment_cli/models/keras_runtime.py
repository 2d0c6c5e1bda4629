"""Opening a model folder for a command: the one function every command, the server and
the Python API call (``open_model``).

The NumPy runtime (``runtime/``) reads a current folder without TensorFlow. The Keras
model is made here, in the layer that may import Keras, only when it is asked for
(``--runtime keras``, ``export``): rebuilt from config.yaml and weights.npz (format
version 3), or loaded from the model.keras of an older folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime.model_folder import (
    MODEL_FILE,
    ModelDir,
    check_model_dir,
    read_config,
    read_model_dir,
)


def open_model(folder: str | Path, runtime: str = "numpy", warn=None) -> ModelDir:
    """The model folder, checked and loaded for prediction: ``runtime`` numpy scores in
    NumPy; keras also makes the Keras model and scores with it."""
    folder = Path(folder)
    version = check_model_dir(folder)["format_version"]
    if version >= 2 and runtime == "numpy":
        return read_model_dir(folder)
    if version >= 3:
        bundle = read_model_dir(folder)
        bundle.keras = rebuild(bundle.config, bundle.network)
    else:
        keras_model = load_keras_model(folder / MODEL_FILE)
        network = None
        if version < 2:
            (warn or _warn_once)(
                f"Note: {folder} was written by an older sentiment-cli (format version "
                f"{version}): its weights are read through Keras, which is slower to start; "
                f"retrain it for the TensorFlow-free runtime"
            )
            from sentiment_cli.models.export import from_keras

            network = from_keras(keras_model, read_config(folder))
        bundle = read_model_dir(folder, network=network)
        bundle.keras = keras_model
    if runtime == "keras":
        bundle.runtime = "keras"
        bundle.keras_predict = _predictor(bundle.keras)
    return bundle


def rebuild(config, network):
    """The Keras model whose weights are ``network``'s (an Ensemble's members become a
    mean of members, as trained). Subword vectors come folded into the embedding, so
    the rebuilt model has none: it computes the same probabilities."""
    import dataclasses

    from sentiment_cli.models.build import build_model, ensemble_of
    from sentiment_cli.runtime.network import Ensemble, members

    plain = dataclasses.replace(config, model=dataclasses.replace(config.model, subwords=0))
    models = [_single(plain, net, build_model) for net in members(network)]
    return ensemble_of(models, plain) if isinstance(network, Ensemble) else models[0]


def _single(config, net, build_model):
    arrays = net.arrays
    lexicon = np.asarray(arrays["lexicon"]) if "lexicon" in arrays else None
    embedding = np.asarray(arrays["embedding"])
    model = build_model(config, len(embedding), net.n_outputs, embedding, lexicon)
    set_inner_layers(model, net)
    model.get_layer("classifier").set_weights(
        [arrays["classifier.kernel"], arrays["classifier.bias"]]
    )
    return model


def set_inner_layers(model, net) -> None:
    """Give the Keras ``model`` the recurrent layers and attention of ``net`` (a NumPy
    Network of the same config): all but the word tables and the classifier."""
    arrays, spec = net.arrays, net.spec
    for entry in spec["recurrent"]:
        layer = model.get_layer(entry["name"])
        parts = {"forward": layer}
        if spec["bidirectional"]:
            parts = {"forward": layer.forward_layer, "backward": layer.backward_layer}
        for direction, part in parts.items():
            key = f"{entry['name']}.{direction}"
            part.set_weights([arrays[f"{key}.{role}"] for role in ROLES])
    if spec["pooling"] == "attention":
        model.get_layer("pooling").set_weights([arrays[f"attention.{r}"] for r in "wbv"])


ROLES = ("kernel", "recurrent_kernel", "bias")


def _predictor(model):
    def predict(ids: np.ndarray) -> np.ndarray:
        from sentiment_cli.models.backend import filtered_stderr

        with filtered_stderr():  # the first masked step logs a oneDNN fallback notice
            probs = model.predict(ids, batch_size=1024, verbose=0)
        return np.asarray(probs, dtype="float64")

    return predict


def load_keras_model(path: Path):
    from sentiment_cli.models.backend import load

    keras = load()

    import sentiment_cli.models.layers  # noqa: F401  (registers the custom layers)

    if not Path(path).is_file():
        raise SentimentError(f"{path}: missing; this model folder holds no Keras model")
    try:
        # safe_mode refuses Lambda layers and other serialized Python code.
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc) or "lambda" in str(exc).lower():
            raise SentimentError(
                f"{path}: refused to load: the model contains Python code (a Lambda layer "
                f"or a serialized function), which could run anything; only models "
                f"without code are loaded"
            ) from None
        raise SentimentError(
            f"{path}: cannot load the Keras model; the file is corrupted or not a .keras "
            f"file ({detail[:200]})"
        ) from None


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr)
