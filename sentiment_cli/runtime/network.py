"""The model without TensorFlow: the trained weights in NumPy, run through the cell
equations of ``cells.py``.

At training time ``models/export.py`` writes ``weights.npz`` (arrays named by their role) and
``network.json`` (the layer list) into the model folder. ``Network`` reads them and
computes the same probabilities as the Keras model (to ~1e-6) without importing
TensorFlow or Keras.

How it is fast: the first layer's input projection ``[embedding, lexicon] @ W + b`` is
folded into one lookup table per direction (vocabulary × gates·units), so reading a
word is one row lookup. The table's rows are filled as batches of ``FOLD_ROWS`` rows or
more meet their words (a file of tweets uses a fraction of the vocabulary); fewer rows
are projected word by word, so a cold single prediction neither waits for the table
nor holds it. With masking the padding is dropped and rows are sorted by
length, so every step runs only the rows that still have words.
"""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.cells import CELLS, halve_sigmoid_gates, lstm_step_in_place, split_bias
from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime.spec import check_network

WEIGHTS_FILE = "weights.npz"
NETWORK_FILE = "network.json"
CHUNK = 4096  # rows scored at once: bounds memory for any input size
FOLD_ROWS = 256  # a batch this large looks its words up in the folded table
DTYPE = np.float32


def direction_names(bidirectional: bool) -> list[str]:
    return ["forward", "backward"] if bidirectional else ["forward"]


def network_of(arrays: dict[str, np.ndarray], spec: dict[str, Any]) -> Network | Ensemble:
    """The runtime of an exported model: an ensemble's spec lists its members."""
    return Ensemble(arrays, spec) if "members" in spec else Network(arrays, spec)


def save(folder: Path, arrays: dict[str, np.ndarray], network: dict[str, Any]) -> None:
    np.savez(Path(folder) / WEIGHTS_FILE, **arrays)
    (Path(folder) / NETWORK_FILE).write_text(json.dumps(network, indent=2), encoding="utf-8")


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def read_weights(path: Path) -> dict[str, np.ndarray]:
    """The arrays of ``weights.npz``, the large ones memory-mapped: a process reads only
    the vocabulary rows its texts use, and processes on one machine share them. (A model
    folder is replaced by a rename, never rewritten in place, so a mapped file does not
    change under a running process.)"""
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        # np.savez stores arrays as they are: together they cannot outgrow the file (whose
        # size the manifest vouches for). A compressed member could inflate to any size.
        inflated, size = sum(info.file_size for info in archive.infolist()), path.stat().st_size
        if inflated > size:
            raise ValueError(
                f"its arrays would take {inflated:,} bytes once inflated, more than the "
                f"{size:,} bytes of the file; model folders store arrays uncompressed"
            )
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            mapped = _mapped(path, raw, info) if info.file_size > MAP_BYTES else None
            if mapped is None:
                with archive.open(info) as member:
                    mapped = np.lib.format.read_array(member, allow_pickle=False)
            arrays[name] = mapped
    return arrays


MAP_BYTES = 1 << 20  # arrays larger than this are memory-mapped


def _mapped(path: Path, raw, info: zipfile.ZipInfo) -> np.ndarray | None:
    """The member as a read-only memmap, when it is stored uncompressed (``np.savez``)."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    raw.seek(info.header_offset)
    local = raw.read(30)  # the local file header; its name and extra field follow it
    if local[:4] != b"PK\x03\x04":
        return None
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    raw.seek(info.header_offset + 30 + name_length + extra_length)
    version = np.lib.format.read_magic(raw)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(raw)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(raw)
    if dtype.hasobject:
        return None
    if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize > info.file_size:
        raise ValueError(f"{info.filename}'s header claims more data than the member holds")
    order = "F" if fortran else "C"
    return np.memmap(path, dtype=dtype, mode="r", offset=raw.tell(), shape=shape, order=order)


class Ensemble:
    """The members of an ensemble folder; its probabilities are their mean."""

    def __init__(self, arrays: dict[str, np.ndarray], spec: dict[str, Any]):
        self.spec = spec
        self.members = []
        for entry in spec["members"]:
            prefix = f"{entry['name']}."
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            self.members.append(Network(own, entry))

    @property
    def vocab_size(self) -> int:
        return self.members[0].vocab_size

    @property
    def n_outputs(self) -> int:
        return self.members[0].n_outputs

    def predict_ids(self, ids: np.ndarray) -> np.ndarray:
        return np.mean([member.predict_ids(ids) for member in self.members], axis=0)


def members(network) -> list[Network]:
    """The networks whose mean is ``network``'s prediction (itself, if it is one)."""
    return network.members if isinstance(network, Ensemble) else [network]


@dataclass
class Layer:
    """One recurrent layer, one direction: W, U and the biases (an LSTM's with the i, f
    and o columns halved, for ``cells.lstm_step_in_place``)."""

    cell: str
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    input_bias: np.ndarray
    recurrent_bias: np.ndarray | float
    inputs: list[np.ndarray] | None = None  # first layer: embedding[, lexicon] per token id
    table: np.ndarray | None = None  # first layer: inputs @ W + b, rows filled as needed
    folded: np.ndarray | None = None  # which rows of the table are filled

    def fold(self, ids: np.ndarray) -> None:
        """Fill the folded table's rows of ``ids`` that are not filled yet: a batch only
        pays for the words it holds that no earlier batch had."""
        rows = len(self.inputs[0])
        if self.table is None:
            self.table = np.empty((rows, self.kernel.shape[1]), dtype=DTYPE)
            self.folded = np.zeros(rows, dtype=bool)
        wanted = np.zeros(rows, dtype=bool)
        wanted[ids.ravel()] = True
        new = np.flatnonzero(wanted & ~self.folded)
        if len(new):
            self.table[new] = self._project_ids(new)
            self.folded[new] = True

    def project(self, x: np.ndarray, folded: bool) -> np.ndarray:
        """x_t W + b for one step: ``x`` holds token ids for the first layer (looked up
        in the folded table when the batch was ``folded``), else vectors."""
        if self.inputs is None:
            return x @ self.kernel + self.input_bias
        if not folded:
            return self._project_ids(x)
        return self.table[x]

    def _project_ids(self, ids: np.ndarray) -> np.ndarray:
        # [embedding, lexicon] @ W as embedding @ W_e + lexicon @ W_l: the tables are
        # never concatenated (a copy of the whole vocabulary's vectors).
        total, start = self.input_bias, 0
        for table in self.inputs:
            width = table.shape[1]
            total = total + table[ids] @ self.kernel[start : start + width]
            start += width
        return total


class Network:
    """The recurrent network of a model folder, in NumPy."""

    def __init__(self, arrays: dict[str, np.ndarray], spec: dict[str, Any]):
        check_network(arrays, spec)
        self.spec = spec
        self.arrays = arrays
        self.mask_padding = bool(spec["mask_padding"])
        self.pooling = spec["pooling"]
        self.inputs = [arrays[name] for name in spec["inputs"]]
        self.layers: list[dict[str, Layer]] = []
        for i, entry in enumerate(spec["recurrent"]):
            directions = {}
            for direction in direction_names(spec["bidirectional"]):
                key = f"{entry['name']}.{direction}"
                input_bias, recurrent_bias = split_bias(arrays[f"{key}.bias"])
                weights = [arrays[f"{key}.kernel"], arrays[f"{key}.recurrent_kernel"], input_bias]
                if entry["cell"] == "lstm":  # for lstm_step_in_place
                    weights = [halve_sigmoid_gates(w) for w in weights]
                layer = Layer(entry["cell"], *weights[:2], weights[2], recurrent_bias)
                if i == 0:
                    layer.inputs = self.inputs
                directions[direction] = layer
            self.layers.append(directions)

    @classmethod
    def load(cls, folder: str | Path) -> Network | Ensemble:
        folder = Path(folder)
        try:
            spec = json.loads((folder / NETWORK_FILE).read_text(encoding="utf-8"))
            return network_of(read_weights(folder / WEIGHTS_FILE), spec)
        except Exception as exc:  # a damaged zip or JSON raises many types: all mean damage
            raise SentimentError(
                f"model folder {folder}: {WEIGHTS_FILE} / {NETWORK_FILE} cannot be used: "
                f"{str(exc)[:300] or type(exc).__name__}"
            ) from None

    @property
    def vocab_size(self) -> int:
        return int(self.arrays["embedding"].shape[0])

    @property
    def n_outputs(self) -> int:
        return int(self.arrays["classifier.bias"].shape[0])

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """What the first layer reads for each id: its embedding (and lexicon features)."""
        return np.concatenate([table[ids] for table in self.inputs], axis=-1)

    def predict_ids(self, ids: np.ndarray) -> np.ndarray:
        """(n, n_labels) probabilities for padded id rows (n, max_length)."""
        ids = np.asarray(ids)
        if len(ids) == 0:
            return np.zeros((0, self.arrays["classifier.bias"].shape[0]))
        parts = [self._predict(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]
        return np.concatenate(parts).astype("float64")

    def readout(self, ids: np.ndarray) -> np.ndarray:
        """The vector the classifier reads, for each row."""
        tokens, lengths = self._compact(ids)
        order = np.argsort(-lengths, kind="stable")
        tokens, lengths = tokens[order], lengths[order]
        x = None  # outputs of the previous layer, (n, T, features)
        for i, directions in enumerate(self.layers):
            last = i == len(self.layers) - 1
            keep = not (last and self.pooling == "last")
            outs = [
                self._run(layer, tokens if i == 0 else x, lengths, direction == "backward", keep)
                for direction, layer in directions.items()
            ]
            x = np.concatenate(outs, axis=-1)
        pooled = x if x.ndim == 2 else self._pool(x, lengths)
        result = np.empty_like(pooled)
        result[order] = pooled
        return result

    def classify(self, pooled: np.ndarray) -> np.ndarray:
        """The classifier's probabilities for ``readout`` vectors."""
        return softmax(pooled @ self.arrays["classifier.kernel"] + self.arrays["classifier.bias"])

    def _predict(self, ids: np.ndarray) -> np.ndarray:
        return self.classify(self.readout(ids))

    def _compact(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows left-aligned to their real tokens (masked models skip padding), with
        their lengths. Unmasked models read every position, padding included."""
        if not self.mask_padding:
            return ids, np.full(len(ids), ids.shape[1])
        real = ids != 0
        lengths = real.sum(axis=1)
        # Stable sort puts each row's real tokens first, in order.
        order = np.argsort(~real, axis=1, kind="stable")
        return np.take_along_axis(ids, order, axis=1), lengths

    def _run(self, layer: Layer, x, lengths, backward: bool, sequences: bool):
        """One direction of one layer over rows sorted by length (longest first). Returns
        the last state (n, units) or every step's output (n, T, units), aligned with the
        rows' tokens."""
        n, steps = len(lengths), int(lengths.max()) if len(lengths) else 0
        cell = CELLS[layer.cell]
        units = layer.recurrent_kernel.shape[0]
        state = tuple(np.zeros((n, units), dtype=DTYPE) for _ in range(cell.n_states))
        out = np.zeros((n, steps, units), dtype=DTYPE) if sequences else None
        active = np.searchsorted(-lengths, -np.arange(steps), side="left")  # rows with > t
        rows = np.arange(n)
        folded = layer.inputs is not None and n >= FOLD_ROWS
        if folded:
            layer.fold(x[:, :steps])
        for t in range(steps):
            k = int(active[t])
            # Backward reads each row from its last token to its first.
            position = lengths[:k] - 1 - t if backward else np.full(k, t)
            xw = layer.project(x[rows[:k], position], folded)
            if layer.cell == "lstm":
                lstm_step_in_place(xw, state[0][:k], state[1][:k], layer.recurrent_kernel)
            else:
                new, _ = cell.step(
                    xw, tuple(s[:k] for s in state), layer.recurrent_kernel, layer.recurrent_bias
                )
                for s, value in zip(state, new, strict=True):
                    s[:k] = value
            if sequences:
                out[rows[:k], position] = state[0][:k]
        return out if sequences else state[0]

    def _pool(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Max, mean or attention over each row's steps (zeros for an empty row)."""
        steps = x.shape[1]
        if steps == 0:  # every row empty
            return np.zeros((x.shape[0], x.shape[2]), dtype=DTYPE)
        real = np.arange(steps)[None, :] < lengths[:, None]
        if self.pooling == "max":
            pooled = np.where(real[..., None], x, -np.inf).max(axis=1, initial=-np.inf)
            return np.where(np.isfinite(pooled), pooled, 0.0).astype(DTYPE)
        if self.pooling == "mean":
            total = (x * real[..., None]).sum(axis=1)
            return (total / np.maximum(lengths, 1)[:, None]).astype(DTYPE)
        a = self.arrays
        scores = (np.tanh(x @ a["attention.w"] + a["attention.b"]) @ a["attention.v"])[..., 0]
        scores = np.where(real, scores, -1e9)
        weights = softmax(scores)
        return (x * weights[..., None]).sum(axis=1)
