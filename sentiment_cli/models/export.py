"""A trained Keras model as NumPy arrays named by their role, plus a layer list: what
the model folder's weights.npz and network.json hold, and what the NumPy runtime
(``runtime/network.py``) runs without TensorFlow."""

from __future__ import annotations

from typing import Any

import numpy as np

from sentiment_cli.models.build import member_name
from sentiment_cli.runtime.network import DTYPE, Ensemble, Network, network_of


def export(model, config) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays by role, layer list) of a trained Keras model built by ``model.build_model``;
    for an ensemble (``train.members`` > 1), every member's, under ``member_<i>.``."""
    if config.train.members > 1:
        arrays, members = {}, []
        for member in keras_members(model, config):
            member_arrays, network = export_network(member, config)
            arrays.update({f"{member.name}.{key}": value for key, value in member_arrays.items()})
            members.append({"name": member.name, **network})
        return arrays, {"members": members, "combine": "mean"}
    return export_network(model, config)


def keras_members(model, config) -> list:
    """The Keras networks whose probabilities ``model`` averages: an ensemble's members
    (``train.members`` > 1, named by ``member_name``), or the model itself."""
    if config.train.members > 1:
        return [model.get_layer(member_name(i)) for i in range(1, config.train.members + 1)]
    return [model]


def export_network(model, config) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    from sentiment_cli.models.build import rnn_layer_names

    m = config.model
    names = {layer.name for layer in model.layers}
    arrays = {"embedding": model.get_layer("embedding").get_weights()[0]}
    if "subwords" in names:  # each id's n-gram mean, added once here
        layer = model.get_layer("subwords")
        means = subword_means(layer.table.numpy(), layer.vectors.numpy())
        arrays["embedding"] = arrays["embedding"] + means
    if "lexicon" in names:
        arrays["lexicon"] = model.get_layer("lexicon").get_weights()[0]
    recurrent = []
    for name in rnn_layer_names(config):
        layer = model.get_layer(name)
        parts = (
            {"forward": layer.forward_layer, "backward": layer.backward_layer}
            if m.bidirectional
            else {"forward": layer}
        )
        for direction, part in parts.items():
            kernel, recurrent_kernel, bias = part.get_weights()
            arrays[f"{name}.{direction}.kernel"] = kernel
            arrays[f"{name}.{direction}.recurrent_kernel"] = recurrent_kernel
            arrays[f"{name}.{direction}.bias"] = bias
        recurrent.append({"name": name, "cell": m.cell, "units": m.units})
    if m.pooling == "attention":
        w, b, v = model.get_layer("pooling").get_weights()
        arrays.update({"attention.w": w, "attention.b": b, "attention.v": v})
    kernel, bias = model.get_layer("classifier").get_weights()
    arrays.update({"classifier.kernel": kernel, "classifier.bias": bias})
    network = {
        "inputs": ["embedding", *(["lexicon"] if "lexicon" in arrays else [])],
        "max_length": config.text.max_length,
        "padding": config.text.padding,
        "mask_padding": m.mask_padding,
        "bidirectional": m.bidirectional,
        "recurrent": recurrent,
        "pooling": m.pooling,
        "classifier": {"activation": "softmax"},
    }
    return {k: np.asarray(v, dtype=DTYPE) for k, v in arrays.items()}, network


def subword_means(table: np.ndarray, vectors: np.ndarray, rows: int = 4096) -> np.ndarray:
    """Per vocabulary id, the mean vector of its character n-grams (zeros for none), as
    the ``Subwords`` layer computes it; a block of ids at a time."""
    means = np.zeros((len(table), vectors.shape[1]), dtype=DTYPE)
    for start in range(0, len(table), rows):
        grams = table[start : start + rows]
        present = (grams > 0)[..., None]
        total = (vectors[grams] * present).sum(axis=1)
        means[start : start + rows] = total / np.maximum(present.sum(axis=1), 1)
    return means


def from_keras(model, config) -> Network | Ensemble:
    """The NumPy network of a Keras model held in memory."""
    return network_of(*export(model, config))
