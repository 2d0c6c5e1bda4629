"""``train.blend``: mix the bag-of-words baseline into the model's probabilities, with
the baseline's weight chosen on the run's validation split.

With few labels of a new domain, the baseline's word counts and the network's reading
of word order make different mistakes, and their mean can beat both. The weight is the
one of ``WEIGHTS`` with the best validation macro-F1 (the smallest on a tie, so the
network keeps the larger say unless the baseline earns it). It is stored in
``summary.json`` under ``blend``, and ``predict`` applies it with the NumPy baseline of
``runtime/bow.py``; a weight of 0 leaves the model as it was trained.
"""

from __future__ import annotations

from collections.abc import Callable

from sentiment_cli.config import Config
from sentiment_cli.runtime.bow import mix

WEIGHTS = tuple(round(0.1 * i, 1) for i in range(10))  # 0.0 .. 0.9


def choose_blend(model, config: Config, prepared, baseline, log: Callable[[str], None]):
    """The ``blend`` entry of summary.json, or None where ``train.blend`` is off."""
    if config.train.blend == "none" or baseline is None:
        return None
    from sentiment_cli.metrics import classification_metrics

    classes = prepared.splits.classes
    truth = prepared.splits.val.labels
    network = model.predict(prepared.x_val.ids, batch_size=256, verbose=0)
    order = [baseline.labels.index(label) for label in classes]
    words = baseline.predict_proba(prepared.val_tokens)[:, order]

    def metrics(weight: float) -> dict:
        mixed = mix(network, words, weight)
        return classification_metrics(truth, [classes[i] for i in mixed.argmax(axis=1)], classes)

    scores = {weight: metrics(weight) for weight in WEIGHTS}
    best = max(WEIGHTS, key=lambda w: (round(scores[w]["macro_f1"], 12), -w))
    log(
        f"Blend: the baseline's weight {best:.1f} of {len(WEIGHTS)} tried gives validation "
        f"macro_f1 {scores[best]['macro_f1']:.4f} (network alone "
        f"{scores[0.0]['macro_f1']:.4f}; chosen on this split, so this figure is optimistic)"
    )
    return {
        "baseline_weight": best,
        "chosen_by": "validation macro_f1",
        "validation_macro_f1": {f"{w:.1f}": round(scores[w]["macro_f1"], 6) for w in WEIGHTS},
        "validation": scores[best],
        "validation_network": scores[0.0],
    }
