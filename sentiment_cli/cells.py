"""The recurrent cells' equations in NumPy, run on a trained model's weights.

These are the lecture's equations, written the way Keras stores the weights: the
kernel W acts on the input x_t, the recurrent kernel U on the previous state h_{t-1}
(W x_t + U h_{t-1} is the lecture's W[h_{t-1}, x_t] with the matrix split in two).
Tests check each against the Keras layer to 1e-5, masking included; ``trace`` and
``--gates`` use them to show what happens after every word.

SimpleRNN::

    h_t = tanh(W x_t + U h_{t-1} + b)

LSTM (Keras packs the four blocks of W, U and b in the order i, f, c, o)::

    f_t  = σ(W_f x_t + U_f h_{t-1} + b_f)        forget gate: what to keep of C_{t-1}
    i_t  = σ(W_i x_t + U_i h_{t-1} + b_i)        input gate: how much of the new to add
    C'_t = tanh(W_c x_t + U_c h_{t-1} + b_c)     candidate cell state
    C_t  = f_t * C_{t-1} + i_t * C'_t            cell state
    o_t  = σ(W_o x_t + U_o h_{t-1} + b_o)        output gate
    h_t  = o_t * tanh(C_t)

GRU (Keras' default ``reset_after=True``; blocks in the order z, r, h; separate input
and recurrent biases)::

    z_t  = σ(W_z x_t + b_z + U_z h_{t-1} + b'_z)          update gate
    r_t  = σ(W_r x_t + b_r + U_r h_{t-1} + b'_r)          reset gate
    h'_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + b'_h))
    h_t  = z_t * h_{t-1} + (1 - z_t) * h'_t

Where the mask is 0 (padding) the state is carried over unchanged, as Keras does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Steps:
    """Per-step values of one recurrent layer over one batch: arrays (batch, time, units)."""

    h: np.ndarray  # hidden state after each step
    gates: dict[str, np.ndarray] = field(default_factory=dict)  # f, i, o, c / z, r


def simple_rnn(x, kernel, recurrent_kernel, bias, mask=None, h0=None) -> Steps:
    """h_t = tanh(W x_t + U h_{t-1} + b)."""
    batch, time, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((batch, units)) if h0 is None else h0
    hs = np.zeros((batch, time, units))
    for t in range(time):
        new = np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias)
        h = _carry(new, h, mask, t)
        hs[:, t] = h
    return Steps(h=hs)


def lstm(x, kernel, recurrent_kernel, bias, mask=None, h0=None, c0=None) -> Steps:
    """Forget, input and output gates around a cell state C_t (see module docstring)."""
    batch, time, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((batch, units)) if h0 is None else h0
    c = np.zeros((batch, units)) if c0 is None else c0
    out = {name: np.zeros((batch, time, units)) for name in ("h", "i", "f", "o", "c")}
    for t in range(time):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i = sigmoid(z[:, :units])
        f = sigmoid(z[:, units : 2 * units])
        candidate = np.tanh(z[:, 2 * units : 3 * units])
        o = sigmoid(z[:, 3 * units :])
        new_c = f * c + i * candidate
        new_h = o * np.tanh(new_c)
        c = _carry(new_c, c, mask, t)
        h = _carry(new_h, h, mask, t)
        for name, value in (("h", h), ("i", i), ("f", f), ("o", o), ("c", c)):
            out[name][:, t] = value
    return Steps(h=out.pop("h"), gates=out)


def gru(x, kernel, recurrent_kernel, bias, mask=None, h0=None) -> Steps:
    """Update and reset gates, Keras' reset_after=True form (see module docstring)."""
    batch, time, _ = x.shape
    units = recurrent_kernel.shape[0]
    bias = np.asarray(bias)
    input_bias, recurrent_bias = (bias[0], bias[1]) if bias.ndim == 2 else (bias, 0.0)
    h = np.zeros((batch, units)) if h0 is None else h0
    out = {name: np.zeros((batch, time, units)) for name in ("h", "z", "r")}
    for t in range(time):
        xw = x[:, t] @ kernel + input_bias
        hu = h @ recurrent_kernel + recurrent_bias
        z = sigmoid(xw[:, :units] + hu[:, :units])
        r = sigmoid(xw[:, units : 2 * units] + hu[:, units : 2 * units])
        candidate = np.tanh(xw[:, 2 * units :] + r * hu[:, 2 * units :])
        new_h = z * h + (1.0 - z) * candidate
        h = _carry(new_h, h, mask, t)
        for name, value in (("h", h), ("z", z), ("r", r)):
            out[name][:, t] = value
    return Steps(h=out.pop("h"), gates=out)


def _carry(new: np.ndarray, old: np.ndarray, mask, t: int) -> np.ndarray:
    if mask is None:
        return new
    keep = np.asarray(mask)[:, t].astype(bool)[:, None]
    return np.where(keep, new, old)


@dataclass(frozen=True)
class Cell:
    keras_name: str  # the Keras layer class (keras.layers.<keras_name>)
    equations: Callable[..., Steps]  # the same cell in NumPy


# The one list of cells: config values, Keras layers, equations, compare's order.
CELLS = {
    "simple_rnn": Cell("SimpleRNN", simple_rnn),
    "lstm": Cell("LSTM", lstm),
    "gru": Cell("GRU", gru),
}


def run_layer(layer, x: np.ndarray, mask=None) -> Steps:
    """Run a trained Keras SimpleRNN / LSTM / GRU layer's weights through the NumPy
    equations. x: (batch, time, features)."""
    kind = type(layer).__name__
    by_keras_name = {cell.keras_name: cell.equations for cell in CELLS.values()}
    if kind not in by_keras_name:
        raise ValueError(f"no reference implementation for {kind}")
    weights = [np.asarray(w, dtype="float64") for w in layer.get_weights()]
    if len(weights) == 2:  # use_bias=False
        weights.append(np.zeros(weights[1].shape[1]))
    kernel, recurrent_kernel, bias = weights
    return by_keras_name[kind](
        np.asarray(x, dtype="float64"), kernel, recurrent_kernel, bias, mask=mask
    )
