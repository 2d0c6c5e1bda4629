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


def simple_rnn_step(xw, state, recurrent_kernel, recurrent_bias=0.0):
    """One step: xw = W x_t + b, state = (h_{t-1},)."""
    (h,) = state
    h = np.tanh(xw + h @ recurrent_kernel + recurrent_bias)
    return (h,), {}


def lstm_step(xw, state, recurrent_kernel, recurrent_bias=0.0):
    """One step: xw = W x_t + b, state = (h_{t-1}, C_{t-1}); gates i, f, o and C_t."""
    h, c = state
    units = h.shape[-1]
    z = xw + h @ recurrent_kernel + recurrent_bias
    i = sigmoid(z[:, :units])
    f = sigmoid(z[:, units : 2 * units])
    candidate = np.tanh(z[:, 2 * units : 3 * units])
    o = sigmoid(z[:, 3 * units :])
    c = f * c + i * candidate
    h = o * np.tanh(c)
    return (h, c), {"i": i, "f": f, "o": o, "c": c}


def halve_sigmoid_gates(array: np.ndarray) -> np.ndarray:
    """An LSTM kernel, recurrent kernel or bias with its i, f and o columns halved, for
    ``lstm_step_in_place`` (halving is exact in floating point)."""
    units = array.shape[-1] // 4
    halved = np.array(array, copy=True)
    halved[..., : 2 * units] *= 0.5
    halved[..., 3 * units :] *= 0.5
    return halved


def lstm_step_in_place(z, h, c, halved_recurrent_kernel) -> None:
    """``lstm_step`` written for speed, same equations: sigmoid(x) = (1 + tanh(x/2)) / 2,
    so with the i, f, o columns of W, U and b halved beforehand (``halve_sigmoid_gates``)
    one tanh over all four blocks gives every gate. ``z`` (x_t W + b, halved) is used as
    scratch; ``h`` and ``C`` are updated in place."""
    units = h.shape[-1]
    z += h @ halved_recurrent_kernel
    np.tanh(z, out=z)
    for gates in (z[:, : 2 * units], z[:, 3 * units :]):  # i and f, then o
        gates += 1.0
        gates *= 0.5
    i, f = z[:, :units], z[:, units : 2 * units]
    candidate, o = z[:, 2 * units : 3 * units], z[:, 3 * units :]
    c *= f
    i *= candidate
    c += i
    np.tanh(c, out=h)
    h *= o


def gru_step(xw, state, recurrent_kernel, recurrent_bias=0.0):
    """One step: xw = W x_t + b (input bias), state = (h_{t-1},); gates z and r."""
    (h,) = state
    units = h.shape[-1]
    hu = h @ recurrent_kernel + recurrent_bias
    z = sigmoid(xw[:, :units] + hu[:, :units])
    r = sigmoid(xw[:, units : 2 * units] + hu[:, units : 2 * units])
    candidate = np.tanh(xw[:, 2 * units :] + r * hu[:, 2 * units :])
    h = z * h + (1.0 - z) * candidate
    return (h,), {"z": z, "r": r}


def split_bias(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray | float]:
    """(input bias, recurrent bias): only the GRU keeps a second, recurrent one."""
    bias = np.asarray(bias)
    if bias.ndim == 2:
        return bias[0], bias[1]
    return bias, 0.0


def run_sequence(step, x, kernel, recurrent_kernel, bias, n_states: int, mask=None) -> Steps:
    """Every step of one layer over x (batch, time, features), gates kept per step."""
    batch, time, _ = x.shape
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = split_bias(bias)
    state = tuple(np.zeros((batch, units)) for _ in range(n_states))
    hs = np.zeros((batch, time, units))
    gates: dict[str, np.ndarray] = {}
    for t in range(time):
        new, values = step(x[:, t] @ kernel + input_bias, state, recurrent_kernel, recurrent_bias)
        state = tuple(_carry(n, o, mask, t) for n, o in zip(new, state, strict=True))
        hs[:, t] = state[0]
        if "c" in values:
            values = {**values, "c": state[1]}
        for name, value in values.items():
            gates.setdefault(name, np.zeros((batch, time, units)))[:, t] = value
    return Steps(h=hs, gates=gates)


def simple_rnn(x, kernel, recurrent_kernel, bias, mask=None) -> Steps:
    """h_t = tanh(W x_t + U h_{t-1} + b)."""
    return run_sequence(simple_rnn_step, x, kernel, recurrent_kernel, bias, 1, mask)


def lstm(x, kernel, recurrent_kernel, bias, mask=None) -> Steps:
    """Forget, input and output gates around a cell state C_t (see module docstring)."""
    return run_sequence(lstm_step, x, kernel, recurrent_kernel, bias, 2, mask)


def gru(x, kernel, recurrent_kernel, bias, mask=None) -> Steps:
    """Update and reset gates, Keras' reset_after=True form (see module docstring)."""
    return run_sequence(gru_step, x, kernel, recurrent_kernel, bias, 1, mask)


def _carry(new: np.ndarray, old: np.ndarray, mask, t: int) -> np.ndarray:
    if mask is None:
        return new
    keep = np.asarray(mask)[:, t].astype(bool)[:, None]
    return np.where(keep, new, old)


@dataclass(frozen=True)
class Cell:
    keras_name: str  # the Keras layer class (keras.layers.<keras_name>)
    equations: Callable[..., Steps]  # the same cell in NumPy, over a whole sequence
    step: Callable  # one step: (xw, state, recurrent_kernel, recurrent_bias) -> state, gates
    n_states: int  # h, or (h, C) for the LSTM


# The one list of cells: config values, Keras layers, equations, compare's order.
CELLS = {
    "simple_rnn": Cell("SimpleRNN", simple_rnn, simple_rnn_step, 1),
    "lstm": Cell("LSTM", lstm, lstm_step, 2),
    "gru": Cell("GRU", gru, gru_step, 1),
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
