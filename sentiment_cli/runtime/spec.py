"""A model folder's network.json held against its weights.npz before anything runs:
known cells and poolings, every array present with the shape the layer list implies,
and no NaN or infinite weight. A mismatch is a ValueError naming what disagrees."""

from __future__ import annotations

from typing import Any

import numpy as np

from sentiment_cli.cells import CELLS

POOLINGS = ("last", "max", "mean", "attention")
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}  # blocks of `units` columns in W and U


def _array(arrays: dict, name: str, shape: tuple) -> np.ndarray:
    """The array ``name``, whose shape must match ``shape`` (None: any size there)."""
    if name not in arrays:
        raise ValueError(f"weights.npz has no array {name!r}")
    array = arrays[name]
    ok = array.ndim == len(shape) and all(
        want is None or got == want for got, want in zip(array.shape, shape, strict=True)
    )
    if not ok:
        wanted = "×".join("n" if s is None else str(s) for s in shape)
        raise ValueError(f"{name} has shape {array.shape}, network.json implies ({wanted})")
    return array


def check_network(arrays: dict[str, np.ndarray], spec: Any) -> None:
    """Raise ValueError when ``spec`` (network.json) and ``arrays`` (weights.npz)
    disagree, or a weight is not finite."""
    if not isinstance(spec, dict):
        raise ValueError("network.json must be a JSON object")
    for key in ("inputs", "recurrent", "pooling", "mask_padding", "bidirectional"):
        if key not in spec:
            raise ValueError(f"network.json has no {key!r}")
    if spec["pooling"] not in POOLINGS:
        raise ValueError(f"network.json: unknown pooling {spec['pooling']!r} (known: {POOLINGS})")
    inputs = spec["inputs"]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(n, str) for n in inputs):
        raise ValueError("network.json: 'inputs' must be a list of array names")
    rows = _array(arrays, inputs[0], (None, None)).shape[0]
    width = sum(_array(arrays, name, (rows, None)).shape[1] for name in inputs)
    recurrent = spec["recurrent"]
    if not isinstance(recurrent, list) or not recurrent:
        raise ValueError("network.json: 'recurrent' must list at least one layer")
    directions = ["forward", "backward"] if spec["bidirectional"] else ["forward"]
    for entry in recurrent:
        if not isinstance(entry, dict) or entry.get("cell") not in CELLS:
            raise ValueError(f"network.json: unknown cell in {entry!r} (known: {list(CELLS)})")
        gates = GATES[entry["cell"]]
        for direction in directions:
            key = f"{entry.get('name')}.{direction}"
            units = _array(arrays, f"{key}.recurrent_kernel", (None, None)).shape[0]
            _array(arrays, f"{key}.recurrent_kernel", (units, gates * units))
            _array(arrays, f"{key}.kernel", (width, gates * units))
            two = getattr(arrays.get(f"{key}.bias"), "ndim", 1) == 2  # GRU: input, recurrent
            _array(arrays, f"{key}.bias", (2, gates * units) if two else (gates * units,))
        width = units * len(directions)
    if spec["pooling"] == "attention":
        size = _array(arrays, "attention.w", (width, None)).shape[1]
        _array(arrays, "attention.b", (size,))
        _array(arrays, "attention.v", (size, 1))
    n_outputs = _array(arrays, "classifier.kernel", (width, None)).shape[1]
    _array(arrays, "classifier.bias", (n_outputs,))
    for name, array in arrays.items():
        if array.dtype.kind != "f":
            raise ValueError(f"{name} holds {array.dtype} values, not floating point")
        # A memory-mapped table (the embedding) is not read whole: a process reads only
        # the rows its texts use. Its bytes are the trained ones (the manifest's hash),
        # and training refuses to write NaN or infinite weights.
        if not isinstance(array, np.memmap) and not np.isfinite(array).all():
            raise ValueError(f"{name} holds NaN or infinite weights (did the training diverge?)")
