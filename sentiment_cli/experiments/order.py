"""Does word order matter to a trained model? Scores it, and its bag-of-words baseline,
on the same tweets with their words as written, shuffled within each tweet, and
reversed; and on negation pairs ("good" / "not good") built from the model's own
vocabulary and the sentiment lexicon, counting how often the predicted polarity flips.

A model that reads order loses accuracy when the words are shuffled; a unigram bag of
words cannot (the baseline's bigrams are the only order it sees). Where a model's
negation marking is on, it is applied after the words are moved, as the tokenizer
would on such a text.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.evaluation.evaluate import stored_baseline
from sentiment_cli.io.readers import read_labelled
from sentiment_cli.metrics import classification_metrics
from sentiment_cli.models.keras_runtime import open_model
from sentiment_cli.runtime.predict import baseline_part, predict_ids
from sentiment_cli.text.negation import mark_negation
from sentiment_cli.text.tokenizer import words

# (plain, negated) frames for the negation pairs; {w} is a sentiment word.
PAIR_FRAMES = [("{w}", "not {w}"), ("it was {w}", "it was not {w}"), ("i {w} it", "i don't {w} it")]
PAIR_WORDS = 100  # most frequent rated words of each polarity in the model's vocabulary


def order_experiment(
    model_dir: str | Path,
    data_path: str | Path,
    *,
    seeds: int = 3,
    text_column: str = "text",
    label_column: str = "label",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:

    bundle = open_model(model_dir)
    data = read_labelled(data_path, text_column, label_column)
    unknown = sorted(set(data.labels) - set(bundle.labels))
    if unknown:
        raise SentimentError(
            f"{data_path}: label(s) {', '.join(map(repr, unknown))} are not known to the model"
        )
    baseline = stored_baseline(bundle)
    config = bundle.config.text
    as_written = [words(text, config) for text in data.texts]

    def predictions(token_lists: list[list[str]]) -> dict[str, list[str]]:
        marked = [
            mark_negation(t, config.negation_scope) if config.mark_negation else t
            for t in token_lists
        ]
        ids = bundle.vocab.encode_tokens(marked, config).ids
        probs = predict_ids(bundle, ids, baseline_part(bundle, marked))
        out = {"model": [bundle.labels[i] for i in probs.argmax(axis=1)]}
        if baseline is not None:
            out["baseline"] = [baseline.labels[i] for i in baseline.predict_proba(marked).argmax(1)]
        return out

    def scored(token_lists):
        return {
            side: _scores(data.labels, predicted, bundle.labels)
            for side, predicted in predictions(token_lists).items()
        }

    log("scoring: as written, reversed")
    conditions = [
        {"name": "as written", **scored(as_written)},
        {"name": "reversed", **scored([t[::-1] for t in as_written])},
    ]
    runs = []
    for seed in range(seeds):
        log(f"scoring: shuffled (seed {seed})")
        rng = np.random.default_rng(seed)
        runs.append(scored([[t[i] for i in rng.permutation(len(t))] for t in as_written]))
    conditions.insert(1, {"name": f"shuffled ({seeds} seeds)", **_mean_and_spread(runs)})
    return {
        "model_dir": str(model_dir),
        "data": str(data_path),
        "n": len(data),
        "has_baseline": baseline is not None,
        "conditions": conditions,
        "negation": negation_pairs(bundle, predictions),
    }


def _scores(truth: list[str], predicted: list[str], labels: list[str]) -> dict[str, float]:
    metrics = classification_metrics(truth, predicted, labels)
    return {"macro_recall": metrics["macro_recall"], "accuracy": metrics["accuracy"]}


def _mean_and_spread(runs: list[dict]) -> dict:
    out = {}
    for side in runs[0]:
        out[side] = {}
        for key in ("macro_recall", "accuracy"):
            values = [run[side][key] for run in runs]
            out[side][key] = statistics.fmean(values)
            out[side][f"{key}_std"] = statistics.pstdev(values)
    return out


def negation_pairs(bundle, predictions) -> dict[str, Any]:
    """How often negating a sentiment word flips the predicted polarity."""
    from sentiment_cli.text.lexicon import vader_valences

    valences = vader_valences()
    rated = [t for t in bundle.vocab.tokens[2:] if t.isalpha() and abs(valences.get(t, 0)) >= 2]
    chosen = [w for w in rated if valences[w] > 0][:PAIR_WORDS]
    chosen += [w for w in rated if valences[w] < 0][:PAIR_WORDS]
    config = bundle.config.text
    plain, negated = [], []
    for w in chosen:
        for a, b in PAIR_FRAMES:
            plain.append(words(a.format(w=w), config))
            negated.append(words(b.format(w=w), config))
    before, after = predictions(plain), predictions(negated)
    opposite = {"positive": "negative", "negative": "positive"}
    result: dict[str, Any] = {"pairs": len(plain), "words": len(chosen)}
    for side in before:
        polar = [(x, y) for x, y in zip(before[side], after[side], strict=True) if x in opposite]
        result[side] = {
            "polar_pairs": len(polar),
            "flipped": sum(opposite[x] == y for x, y in polar) / max(len(polar), 1),
            "changed": sum(x != y for x, y in polar) / max(len(polar), 1),
        }
    examples = []
    for i in range(0, min(len(plain), 12), 3):
        examples.append(
            {
                "plain": " ".join(plain[i]),
                "negated": " ".join(negated[i]),
                "model": [before["model"][i], after["model"][i]],
            }
        )
    result["examples"] = examples
    return result


def plot_order(result: dict[str, Any], path: Path) -> None:
    from sentiment_cli.plots import grouped_bars, pyplot, save

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = [c["name"] for c in result["conditions"]]
    sides = ["model"] + (["baseline"] if result["has_baseline"] else [])
    series = {
        "RNN" if side == "model" else "bag-of-words": (
            [c[side]["macro_recall"] for c in result["conditions"]],
            [c[side].get("macro_recall_std", 0.0) for c in result["conditions"]],
        )
        for side in sides
    }
    grouped_bars(left, names, series, "macro recall", "Word order moved")
    negation = result["negation"]
    rates = [negation[side]["flipped"] for side in sides]
    bars = right.bar(["RNN", "bag-of-words"][: len(sides)], rates, color=["tab:blue", "tab:orange"])
    right.bar_label(bars, fmt="%.2f", fontsize=8)
    right.set_ylim(0, 1)
    right.set_ylabel("share of polar predictions that flip")
    right.set_title(f"Negating a sentiment word ({negation['pairs']} pairs)")
    save(fig, path)
