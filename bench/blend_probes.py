"""What ``train.blend: auto`` would do to a trained model folder: the baseline weight its
validation split chooses, and the probe categories with and without it.

    python bench/blend_probes.py MODEL_DIR VAL.csv

The choice is ``training/blend.py``'s (macro-F1 over the weights 0 to 0.9, the smaller
on a tie), made from the folder's network and baseline without training again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.metrics import classification_metrics
    from sentiment_cli.resources import probes_file
    from sentiment_cli.runtime.bow import BagOfWords
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.text.tokenizer import tokenize_all
    from sentiment_cli.training.blend import WEIGHTS

    folder, val = Path(sys.argv[1]), Path(sys.argv[2])
    bundle, bow = read_model_dir(folder), BagOfWords.load(folder)
    labels = bundle.labels

    def scored(texts: list[str], truth: list[str], weight: float) -> tuple[dict, list[str]]:
        tokens = tokenize_all(texts, bundle.config.text)
        ids = bundle.vocab.encode_tokens(tokens, bundle.config.text).ids
        mixed = (1 - weight) * bundle.network.predict_ids(ids) + weight * bow.aligned(
            tokens, labels
        )
        predicted = [labels[i] for i in mixed.argmax(axis=1)]
        return classification_metrics(truth, predicted, labels), predicted

    data = read_labelled(val, "text", "label")
    f1 = {w: scored(data.texts, data.labels, w)[0]["macro_f1"] for w in WEIGHTS}
    best = max(WEIGHTS, key=lambda w: (round(f1[w], 12), -w))
    print("validation macro-F1 by weight:", {w: round(v, 4) for w, v in f1.items()})
    print(f"chosen weight: {best}")
    probes = read_labelled(probes_file(), "text", "label", "category")
    for weight in sorted({0.0, best}):
        _, predicted = scored(probes.texts, probes.labels, weight)
        right = np.array(predicted) == np.array(probes.labels)
        categories = dict.fromkeys(probes.categories)
        shown = {
            c: round(float(right[np.array(probes.categories) == c].mean()), 3) for c in categories
        }
        print(f"probes at weight {weight}: {shown}")


if __name__ == "__main__":
    main()
