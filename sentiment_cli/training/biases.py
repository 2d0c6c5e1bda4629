"""Decision biases tuned for macro recall on the validation split (``train.tune_biases``).

Macro recall is balanced accuracy: it does not depend on how often each class occurs, so
class weights during training aim at it already. Where the validation tweets differ from
the training tweets (SemEval's twitter-2016dev against its 2013-2016 training sets), the
trained model can still lean towards one class. One offset per class, added to the
classifier's logits, moves the decision back: ``softmax(z + b)`` is ``p * exp(b)``
renormalized. The offsets go into the classifier's bias, so every runtime and every
export applies them at no cost.

The offsets are chosen on the validation split by coordinate ascent over a grid of
±``LIMIT`` (the first class stays at 0: only differences matter), a smaller offset
winning ties, so a model already balanced keeps offsets near zero.
"""

from __future__ import annotations

import numpy as np

LIMIT = 1.0  # largest offset, in logits (a factor e ≈ 2.7 on one class's odds)
GRID = np.round(np.arange(-LIMIT, LIMIT + 1e-9, 0.1), 1) + 0.0  # + 0.0: no -0.0
ROUNDS = 3  # passes over the classes
MIN_PER_CLASS = 20  # validation tweets each class needs before offsets are chosen on them


def untunable(y: np.ndarray, classes: list[str]) -> str | None:
    """Why offsets cannot be chosen on these validation class ids, or None."""
    counts = np.bincount(y, minlength=len(classes))
    few = [f"{c} ({n})" for c, n in zip(classes, counts, strict=True) if n < MIN_PER_CLASS]
    if few:
        return f"the validation split has fewer than {MIN_PER_CLASS} tweets of " + ", ".join(few)
    return None


def shifted(member_probs: list[np.ndarray], offsets: np.ndarray) -> np.ndarray:
    """A model's probabilities once ``offsets`` are added to every member's logits (one
    member for a single network; an ensemble averages its members' probabilities)."""
    scale = np.exp(offsets)
    rows = [p * scale for p in member_probs]
    return np.mean([r / r.sum(axis=1, keepdims=True) for r in rows], axis=0)


def fit_offsets(member_probs: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """Per-class offsets that maximize macro recall of ``shifted(member_probs, .)``
    against the class ids ``y``."""
    from sklearn.metrics import balanced_accuracy_score

    def score(offsets: np.ndarray) -> float:
        return balanced_accuracy_score(y, shifted(member_probs, offsets).argmax(axis=1))

    offsets = np.zeros(member_probs[0].shape[1])
    for _ in range(ROUNDS):
        before = offsets.copy()
        for c in range(1, len(offsets)):
            trials = [np.where(np.arange(len(offsets)) == c, g, offsets) for g in GRID]
            offsets = max(trials, key=lambda o: (score(o), -abs(o[c])))
        if np.array_equal(offsets, before):
            break
    return offsets


def add_to_biases(networks: list, offsets: np.ndarray) -> None:
    """Add ``offsets`` to the classifier's bias of each network (an ensemble's members,
    ``runtime.keras_members``)."""
    for network in networks:
        layer = network.get_layer("classifier")
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, bias + offsets.astype(bias.dtype)])
