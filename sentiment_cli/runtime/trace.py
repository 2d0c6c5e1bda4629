"""Per-word prediction trace: what the model would predict if the tweet ended after
each word, and (``gates=True``) what the cell's gates did at that word.

The recurrent layers are run through the NumPy equations in ``cells`` on the trained
weights; the trained read-out and classifier are applied to the state after every
step. The last step equals the model's ordinary prediction.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sentiment_cli.cells import CELLS
from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime.model_folder import ModelDir
from sentiment_cli.runtime.network import members
from sentiment_cli.runtime.network import softmax as _softmax
from sentiment_cli.text.negation import NEGATED
from sentiment_cli.text.tokenizer import tokenize, typed_words


def _weights(bundle: ModelDir, name: str) -> np.ndarray:
    return np.asarray(bundle.network.arrays[name], dtype="float64")


def _readout(bundle: ModelDir, h: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Read-out vector after each step t (from the states of the real steps <= t)."""
    pooling = bundle.config.model.pooling
    if pooling == "last":
        return h
    out = np.zeros_like(h)
    if pooling == "attention":
        w, b, v = (_weights(bundle, f"attention.{k}") for k in "wbv")
        scores = (np.tanh(h @ w + b) @ v)[:, 0]
    for t in range(len(h)):
        seen = [s for s in range(t + 1) if real[s]]
        if not seen:
            continue
        states = h[seen]
        if pooling == "max":
            out[t] = states.max(axis=0)
        elif pooling == "mean":
            out[t] = states.mean(axis=0)
        else:
            weights = _softmax(scores[seen])
            out[t] = weights @ states
    return out


def gate_summary(kind: str, gates: dict[str, np.ndarray], h: np.ndarray) -> dict[str, Any]:
    """Per-step means of the gates and the norm of the state (one layer, one text)."""
    if kind == "LSTM":
        return {
            "forget": gates["f"].mean(axis=-1),
            "input": gates["i"].mean(axis=-1),
            "output": gates["o"].mean(axis=-1),
            "cell_norm": np.linalg.norm(gates["c"], axis=-1),
        }
    if kind == "GRU":
        return {
            "update": gates["z"].mean(axis=-1),
            "reset": gates["r"].mean(axis=-1),
            "state_norm": np.linalg.norm(h, axis=-1),
        }
    return {"state_norm": np.linalg.norm(h, axis=-1)}


def run_layers(bundle: ModelDir, ids: np.ndarray, real: np.ndarray) -> list[tuple]:
    """(name, cell, Steps) of every recurrent layer over one padded row, gates kept."""
    # The vectors the first layer reads: word embedding (+ lexicon features).
    x = np.asarray(bundle.network.vectors(ids), dtype="float64")[None]
    layer_traces = []
    for entry in bundle.network.spec["recurrent"]:
        name, cell = entry["name"], CELLS[entry["cell"]]
        kernel, recurrent_kernel, bias = (
            _weights(bundle, f"{name}.forward.{k}") for k in ("kernel", "recurrent_kernel", "bias")
        )
        steps = cell.equations(x, kernel, recurrent_kernel, bias, mask=real[None])
        layer_traces.append((name, cell.keras_name, steps))
        x = steps.h
    return layer_traces


def add_gates(steps: list[dict], layer_traces: list[tuple]) -> None:
    """Each step's gate means (and per-unit values) of every layer, under "gates"."""
    for name, kind, layer_steps in layer_traces:
        per_unit = {k: v[0] for k, v in layer_steps.gates.items()}
        summary = gate_summary(kind, per_unit, layer_steps.h[0])
        for step in steps:
            t = step["position"]
            step.setdefault("gates", []).append(
                {
                    "layer": name,
                    "cell": kind,
                    **{k: float(v[t]) for k, v in summary.items()},
                    "per_unit": {k: v[t].round(6).tolist() for k, v in per_unit.items()},
                }
            )


def member_steps(bundle: ModelDir, ids: np.ndarray, real: np.ndarray):
    """(layer traces, probabilities after every step, probabilities of an empty
    read-out) of one network."""
    layer_traces = run_layers(bundle, ids, real)
    h = layer_traces[-1][2].h[0]
    kernel, bias = _weights(bundle, "classifier.kernel"), _weights(bundle, "classifier.bias")
    probs = _softmax(_readout(bundle, h, real) @ kernel + bias)
    return layer_traces, probs, _softmax(np.zeros_like(h[0]) @ kernel + bias)


def kept_and_cut(tokens: list[str], typed: list[str], text_config):
    """((tokens kept, their typed words), tokens cut) at ``max_length``, at the end
    ``truncating`` drops."""
    n_keep = min(len(tokens), text_config.max_length)
    if text_config.truncating == "post":
        return (tokens[:n_keep], typed[:n_keep]), tokens[n_keep:]
    start = len(tokens) - n_keep
    return (tokens[start:], typed[start:]), tokens[:start]


def trace(bundle: ModelDir, text: str, gates: bool = False) -> dict[str, Any]:
    """{"tokens", "cut", "steps": [{"word", "token", "negated", "id", "oov",
    "probabilities", ...}], "final"}: ``word`` as typed, ``token`` as the model read it
    (lowercased, replaced, negation-marked)."""
    config = bundle.config
    if config.model.bidirectional:
        raise SentimentError(
            "--trace needs a unidirectional model: a bidirectional layer also reads the tweet "
            "from its end, so its state after word t already depends on the words after t "
            "and there is no prediction 'if the tweet ended here'"
        )
    text_config = config.text
    tokens = tokenize(text, text_config)
    (kept, kept_typed), cut = kept_and_cut(tokens, typed_words(text, text_config), text_config)
    ids = bundle.vocab.encode_tokens([tokens], text_config).ids[0]
    start = 0 if text_config.padding == "post" else text_config.max_length - len(kept)
    positions = list(range(start, start + len(kept)))
    real = ids != 0 if config.model.mask_padding else np.ones_like(ids, dtype=bool)
    networks = members(bundle.network)
    if gates and len(networks) > 1:
        raise SentimentError(
            f"--gates shows the gates of one network; {bundle.path} is an ensemble of "
            f"{len(networks)} members (train.members): use --trace without --gates"
        )
    # An ensemble's prediction after each word is the mean of its members'.
    runs = [member_steps(dataclasses.replace(bundle, network=n), ids, real) for n in networks]
    probs = np.mean([step_probs for _, step_probs, _ in runs], axis=0)
    layer_traces = runs[0][0]

    # Without masking the padding steps change the state too, so they are shown.
    shown = positions if config.model.mask_padding else list(range(len(ids)))
    by_position = dict(zip(positions, zip(kept, kept_typed, strict=True), strict=True))
    steps = []
    for t in shown:
        token, word = by_position.get(t, ("<pad>", ""))
        step = {
            "position": t,
            "word": word,  # as typed
            "token": token,  # what the model read
            "negated": token.endswith(NEGATED),
            "id": int(ids[t]),
            "oov": bool(ids[t] == 1),
            "probabilities": dict(zip(bundle.labels, map(float, probs[t]), strict=True)),
        }
        step["label"] = max(step["probabilities"], key=step["probabilities"].get)
        steps.append(step)
    if gates:
        add_gates(steps, layer_traces)
    if steps:
        final = steps[-1]["probabilities"]
    else:  # nothing but padding: the classifier sees the empty read-out
        empty = np.mean([empty_probs for _, _, empty_probs in runs], axis=0)
        final = dict(zip(bundle.labels, map(float, empty), strict=True))
    result = {
        "text": text,
        "tokens": kept,
        "cut": cut,
        "steps": steps,
        "final": {"label": max(final, key=final.get), "probabilities": final},
    }
    return with_blend(bundle, result, tokens)


def with_blend(bundle: ModelDir, result: dict[str, Any], tokens: list[str]) -> dict[str, Any]:
    """Where the model blends its baseline in, ``final`` becomes what predict answers
    and the network's own read-out moves to ``network_final``."""
    if bundle.bow is None:
        return result
    final = result["final"]["probabilities"]
    mixed = blended(bundle, np.array([final[label] for label in bundle.labels]), tokens)
    return {
        **result,
        "network_final": result["final"],
        "final": {
            "label": bundle.labels[int(mixed.argmax())],
            "probabilities": dict(zip(bundle.labels, map(float, mixed), strict=True)),
            "baseline_weight": float(bundle.blend.weights([tokens])[0, 0]),
        },
    }


def blended(bundle: ModelDir, network_probs: np.ndarray, tokens: list[str]) -> np.ndarray:
    words = bundle.bow.aligned([tokens], bundle.labels)
    shares = bundle.blend.weights([tokens])
    return bundle.blend.apply(network_probs[None, :].astype(np.float64), words, shares)[0]
