"""``train.blend``: mix a bag of words into the model's probabilities, with its weight
chosen on the run's validation split, under a guard that the network's reading of word
order is kept. The bag is ``finish.fit_blend_bag``'s: by default one of its own that also
reads each word's character grams (``train.blend_features``), else the baseline.

With few labels of a new domain, the bag's word counts and the network's reading
of word order make different mistakes, and their mean can beat both. But a bag of words
cannot read a negation's scope or which side of a "but" decides, so in tweets holding
either (``text.negation.ORDER_CUES``) the network alone answers (``NETWORK_DECIDES``).

The weight is chosen among ``WEIGHTS`` by the validation Brier score (the mean squared
distance of the probabilities to the one-hot truth): a proper score of every
probability, where macro-F1 only counts which label wins, so a split of 50 to 200
tweets chooses a steadier weight by it (measured: ``docs/benchmark.md``, "Choosing the
blend's weight"). Even so, the lowest score on a few dozen tweets is often luck: of the
weights within one standard error of the lowest, the one nearest ``PRIOR_WEIGHT`` is
used where validation has fewer than ``CHOOSES_ALONE`` tweets (``one_se_choice``), so a
small split moves the weight only as far as it shows more than its noise.
Where the labels include positive and negative, a weight is only allowed if, on the
shipped probes (``data/probes/probes.csv``), the blend keeps the accuracy of every
category in ``GUARDED`` within ``TOLERANCE`` of the network alone. The choice is stored
in ``summary.json`` under ``blend``, and ``predict`` applies it with the NumPy bag of
``runtime/bow.py``; a weight of 0 leaves the model as it was trained.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.runtime.bow import BASELINE, BLEND_BAG, Blend, mix, soften

WEIGHTS = tuple(round(0.1 * i, 1) for i in range(10))  # 0.0 .. 0.9
NETWORK_DECIDES = ("negation", "contrast")
GUARDED = ("negation", "negated_negative", "contrast", "negation_not_flipping")
TOLERANCE = 0.02  # how much accuracy a guarded probe category may lose to the blend
# The weight a noisy validation split is pulled to: where the bag helps, validation of
# hundreds of tweets chose 0.2 to 0.5 (median 0.3) on the four own-domain sets, SemEval
# and TSE (docs/benchmark.md, "Choosing the blend's weight")
PRIOR_WEIGHT = 0.3
# Validation tweets from which the lowest Brier score is used as it is: with 200 (2,000
# labels) the rule moved no median on validation, and test preferred the split's own
# choice on Sanders; with 30 and 50 it gained (docs/benchmark.md, "A few dozen
# validation tweets")
CHOOSES_ALONE = 100
RULE = f", one-standard-error rule toward {PRIOR_WEIGHT}"  # what chosen_by adds below it


def choose_blend(
    model, config: Config, prepared, bag, log: Callable[[str], None], is_baseline=True
):
    """The ``blend`` entry of summary.json, or None where ``train.blend`` is off or
    there is no bag of words to blend (``train.baseline: false``). ``bag`` is
    ``finish.fit_blend_bag``'s: the baseline itself where ``is_baseline``, else one the
    folder keeps as ``blend_bag``."""
    if config.train.blend == "none" or bag is None:
        return None
    from sentiment_cli.metrics import brier_rows, classification_metrics

    classes = prepared.splits.classes
    truth = prepared.splits.val.labels
    x, tokens = prepared.x_val.ids, prepared.val_tokens
    network, words, shares = _parts(model, bag, classes, x, tokens)
    mixtures = {weight: mix(network, words, weight * shares) for weight in WEIGHTS}
    errors = {weight: brier_rows(mixtures[weight], prepared.y_val) for weight in WEIGHTS}

    def metrics(weight: float) -> dict:
        predicted = [classes[i] for i in mixtures[weight].argmax(axis=1)]
        brier = float(errors[weight].mean())
        return {**classification_metrics(truth, predicted, classes), "brier": brier}

    scores = {weight: metrics(weight) for weight in WEIGHTS}
    brier = {w: scores[w]["brier"] for w in WEIGHTS}
    probes = probe_guard(model, config, prepared, bag)
    allowed = [w for w in WEIGHTS if probes is None or w not in probes["refused"]]
    best, lowest = one_se_choice(allowed, np.stack([errors[w] for w in allowed], axis=1))
    named = "the baseline's" if is_baseline else "the bag of words'"
    chosen_by, how = _account(len(truth), brier[lowest], lowest)
    log(
        f"Blend: {named} weight {best:.1f} ({len(allowed)} of {len(WEIGHTS)} weights "
        f"keep the probes; {how}{brier[best]:.4f} against "
        f"{brier[0.0]:.4f} for the network alone) gives validation macro_f1 "
        f"{scores[best]['macro_f1']:.4f} (network alone {scores[0.0]['macro_f1']:.4f}; chosen "
        f"on this split, so this figure is optimistic); in tweets with a negation or "
        f"contrast the network alone answers"
    )
    if probes is not None:
        by_weight = probes.pop("by_weight")
        probes["blended"] = by_weight[best]
    temperature = blend_temperature(config, network, words, best * shares, prepared.y_val, log)
    return {
        "baseline_weight": best,
        "bag": BASELINE if is_baseline else BLEND_BAG,
        "network_decides": list(NETWORK_DECIDES),
        "temperature": temperature,
        "chosen_by": chosen_by,
        "lowest_brier_weight": lowest,
        "validation_brier": {f"{w:.1f}": round(brier[w], 6) for w in WEIGHTS},
        "validation_macro_f1": {f"{w:.1f}": round(scores[w]["macro_f1"], 6) for w in WEIGHTS},
        "validation": scores[best],
        "validation_network": scores[0.0],
        "probes": probes,
    }


def _account(n_val: int, lowest_brier: float, lowest: float) -> tuple[str, str]:
    """(summary.json's ``chosen_by``, the log's words for the choice) on ``n_val``
    validation tweets."""
    if n_val >= CHOOSES_ALONE:
        return "validation Brier score", "the lowest validation Brier score, "
    return "validation Brier score" + RULE, (
        f"of those whose validation Brier score is within one standard error of the "
        f"lowest, {lowest_brier:.4f} at {lowest:.1f}, the nearest {PRIOR_WEIGHT}: "
    )


def one_se_choice(weights: list[float], errors: np.ndarray) -> tuple[float, float]:
    """(the weight to use, the weight with the lowest Brier score on the split).

    ``errors`` holds each validation tweet's Brier score (rows) under each of
    ``weights`` (columns, ascending). The lowest mean on a few dozen tweets is often
    luck, so the one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani and
    Friedman, "The Elements of Statistical Learning", 7.10) keeps every weight whose
    mean is within one standard error of the lowest (the standard error of their mean
    difference, tweet by tweet) and takes the one nearest ``PRIOR_WEIGHT``, the smaller
    of two as near: the weight stays near the prior unless the split shows more than
    its noise. A split of ``CHOOSES_ALONE`` tweets or more keeps its own choice."""
    means = np.round(errors.mean(axis=0), 12)
    best = int(np.argmin(means))  # the first, smaller weight of a tie
    if len(errors) >= CHOOSES_ALONE:
        return weights[best], weights[best]
    gaps = errors - errors[:, [best]]
    noise = gaps.std(axis=0, ddof=1) / np.sqrt(len(errors)) if len(errors) > 1 else 0 * means
    within = [k for k in range(len(weights)) if gaps[:, k].mean() <= noise[k] + 1e-12]
    used = min(within, key=lambda k: (abs(weights[k] - PRIOR_WEIGHT), weights[k]))
    return weights[used], weights[best]


def blend_temperature(config: Config, network, words, shares, y, log) -> float:
    """One temperature for the blended tweets' mixture, fitted by NLL on validation as
    ``train.calibrate`` fits the network's (``runtime.bow.Blend.apply`` applies it);
    1.0 without calibration, a blend, or enough blended validation tweets."""
    from sentiment_cli.metrics import probability_metrics
    from sentiment_cli.training.calibrate import MIN_VALIDATION, fit_temperature

    rows = shares[:, 0] > 0
    if config.train.calibrate == "none" or rows.sum() < MIN_VALIDATION:
        return 1.0
    mixed = mix(network, words, shares)[rows]
    temperature = round(fit_temperature([mixed], y[rows]), 4)
    blended = soften(mixed, temperature)
    labels = list(range(mixed.shape[1]))
    before, after = (probability_metrics(list(y[rows]), p, labels)["ece"] for p in (mixed, blended))
    log(f"Blend calibrated: temperature {temperature:.2f} (ECE of the blended validation "
        f"tweets {before:.3f} -> {after:.3f})")  # fmt: skip
    return temperature


def _parts(model, bag, classes: list[str], ids, tokens):
    """The network's and the bag's probabilities of the rows (columns in the
    model's label order), and 1 where the bag may take part, 0 where the network
    alone answers."""
    network = model.predict(ids, batch_size=256, verbose=0)
    order = [bag.labels.index(label) for label in classes]
    words = bag.predict_proba(tokens)[:, order]
    return network, words, Blend(1.0, NETWORK_DECIDES).weights(tokens)


def probe_guard(model, config: Config, prepared, bag) -> dict | None:
    """Per weight, the accuracy of each guarded probe category, and the weights that
    lose more than TOLERANCE on one; None where the labels have no positive and
    negative to probe."""
    classes = prepared.splits.classes
    if not {"positive", "negative"} <= set(classes):
        return None
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.resources import probes_file
    from sentiment_cli.text.tokenizer import tokenize_all

    suite = read_labelled(probes_file(), "text", "label", "category")
    tokens = tokenize_all(suite.texts, config.text)
    ids = prepared.vocab.encode_tokens(tokens, config.text).ids
    network, words, shares = _parts(model, bag, classes, ids, tokens)
    truth, categories = np.array(suite.labels), np.array(suite.categories)

    def accuracy(weight: float) -> dict[str, float]:
        predicted = np.array(classes)[mix(network, words, weight * shares).argmax(axis=1)]
        return {
            c: round(float((predicted[categories == c] == truth[categories == c]).mean()), 4)
            for c in GUARDED
        }

    by_weight = {w: accuracy(w) for w in WEIGHTS}
    alone = by_weight[0.0]
    refused = [w for w in WEIGHTS if any(by_weight[w][c] < alone[c] - TOLERANCE for c in GUARDED)]
    return {
        "guard": f"each of {', '.join(GUARDED)} within {TOLERANCE} of the network alone",
        "network": alone,
        "refused": refused,
        "by_weight": by_weight,
    }
