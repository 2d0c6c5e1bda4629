"""How should a blended model's probabilities be calibrated? Four ways, on unseen tweets.

A blended model (``train.blend``) mixes the network's probabilities with the
bag-of-words baseline's and then gives the blended tweets a temperature of their own,
fitted on the run's validation split (``training/blend.py``). This script compares that
with three other ways, all fitted on the same validation split, and scores each on
tweets the model never saw:

- ``network``: the network alone (its own temperature, as trained);
- ``blend``: the model as it answers (today's way);
- ``one_temperature``: the same mixture, one temperature for every tweet;
- ``geometric``: a log-linear mixture (``(1 - w) log p_network + w log p_words``,
  renormalized), one temperature for every tweet.

Train the models first on each own-domain set's 80% pool, so that its other 20% (the
``val`` split of ``few_labels.py``) is unseen, then score them on that split:

    python bench/few_labels.py calall --domain SET --sizes all --split val
    python bench/blend_calibration.py bench/runs/few_labels/models/calall-*-all-s*

Prints, per model and method, the ECE and accuracy on the unseen split, then the mean
ECE of each method over the models.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SPLITS = ROOT / "bench" / "runs" / "few_labels"
OWN_DOMAINS = ("covid_tweets", "self_driving_cars", "coachella", "sanders")


def scored(folder: Path) -> dict[str, dict]:
    """Each method's probability metrics and accuracy on the unseen split of the run's
    set; empty where the model does not blend."""
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.io.splits import split_indices
    from sentiment_cli.metrics import probability_metrics
    from sentiment_cli.runtime.bow import mix, soften
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.text.tokenizer import tokenize_all
    from sentiment_cli.training.calibrate import fit_temperature

    bundle = read_model_dir(folder)
    if bundle.bow is None or not bundle.blend.weight:
        return {}
    domain = next(d for d in OWN_DOMAINS if f"-{d}-split-" in folder.name)
    seed = int(folder.name.rsplit("-s", 1)[1])
    pool = read_labelled(SPLITS / f"{domain}-split" / "train.csv", "text", "label")
    _, held = split_indices(pool.labels, bundle.config.train.validation_split, seed, "pool")
    validation = ([pool.texts[i] for i in held], [pool.labels[i] for i in held])
    unseen = read_labelled(SPLITS / f"{domain}-split" / "val.csv", "text", "label")

    def parts(texts):
        tokens = tokenize_all(texts, bundle.config.text)
        ids = bundle.vocab.encode_tokens(tokens, bundle.config.text).ids
        network = bundle.network.predict_ids(ids).astype(np.float64)
        words = bundle.bow.aligned(tokens, bundle.labels).astype(np.float64)
        return network, words, bundle.blend.weights(tokens)

    fit = parts(validation[0])
    y = np.array([bundle.labels.index(label) for label in validation[1]])
    one = fit_temperature([mix(*fit)], y)
    geo = fit_temperature([geometric(*fit)], y)
    methods = {
        "network": lambda n, w, s: n,
        "blend": bundle.blend.apply,
        "one_temperature": lambda n, w, s: soften(mix(n, w, s), one),
        "geometric": lambda n, w, s: soften(geometric(n, w, s), geo),
    }
    test = parts(unseen.texts)
    truth = np.array([bundle.labels.index(label) for label in unseen.labels])
    results = {}
    for name, method in methods.items():
        probs = method(*test)
        metrics = probability_metrics(unseen.labels, probs, bundle.labels)
        results[name] = {**metrics, "accuracy": float((probs.argmax(axis=1) == truth).mean())}
    return results


def geometric(network, words, shares):
    """The log-linear mixture: ``(1 - share) log network + share log words``, renormalized."""
    logits = (1 - shares) * np.log(np.clip(network, 1e-12, 1)) + shares * np.log(
        np.clip(words, 1e-12, 1)
    )
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def main() -> None:
    folders = [Path(a) for a in sys.argv[1:]]
    if not folders:
        raise SystemExit(__doc__)
    ece: dict[str, list[float]] = {}
    for folder in folders:
        results = scored(folder)
        if not results:
            print(f"{folder.name}: does not blend, left out", flush=True)
            continue
        line = " | ".join(
            f"{name} ECE {r['ece']:.3f} acc {r['accuracy']:.3f}" for name, r in results.items()
        )
        print(f"{folder.name}: {line}", flush=True)
        for name, r in results.items():
            ece.setdefault(name, []).append(r["ece"])
    for name, values in ece.items():
        print(f"{name}: mean ECE {statistics.fmean(values):.4f} over {len(values)} models")


if __name__ == "__main__":
    main()
