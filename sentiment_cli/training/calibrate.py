"""``train.calibrate``: probabilities that mean what they say.

A network trained to a minimum of the training loss is over-confident on new tweets: its
top probability of 0.85 is right less than 85% of the time. Temperature scaling (Guo et
al. 2017) divides the classifier's logits by one number T, chosen to minimize the
negative log-likelihood of the validation split: ``softmax(z / T)``. T > 1 softens, T < 1
sharpens; the order of the classes never changes, so no label, accuracy or macro score
moves. Dividing the classifier's kernel and bias by T does it inside the model, so every
runtime (NumPy, Keras, the server, the trace, ONNX and SavedModel exports) applies it at
no cost and no runtime needs to know.

One number is fitted on a split of a few hundred tweets: it cannot overfit much, and it
is bounded to [``LOWEST``, ``HIGHEST``]. An ensemble's members share one T, fitted on the
mean of their softened probabilities, which is what the model outputs.
"""

from __future__ import annotations

import numpy as np

LOWEST, HIGHEST = 0.05, 20.0  # the temperatures considered
MIN_VALIDATION = 20  # validation tweets needed before a temperature is fitted on them


def soften(member_probs: list[np.ndarray], temperature: float) -> np.ndarray:
    """A model's probabilities once every member's logits are divided by ``temperature``
    (``p ** (1 / T)`` renormalized is ``softmax(log p / T)``)."""
    from sentiment_cli.runtime.bow import soften as soften_rows

    return np.mean([soften_rows(probs, temperature) for probs in member_probs], axis=0)


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the class ids ``y``."""
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0))))


def fit_temperature(member_probs: list[np.ndarray], y: np.ndarray) -> float:
    """The T in [LOWEST, HIGHEST] that minimizes the validation NLL of ``soften``."""
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: nll(soften(member_probs, float(np.exp(log_t))), y),
        bounds=(np.log(LOWEST), np.log(HIGHEST)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(result.x))


def divide_classifier(networks: list, temperature: float) -> None:
    """Divide the classifier's kernel and bias of each network by ``temperature``."""
    for network in networks:
        layer = network.get_layer("classifier")
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel / temperature, bias / temperature])
