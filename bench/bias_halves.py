"""Does `train.tune_biases` carry over? Checked on validation data only.

For each model folder (trained with ``--set train.tune_biases=false``), the validation
split is cut in two halves at random, offsets are chosen on one half
(``sentiment_cli.training.biases.fit_offsets``, as training does) and scored on the other, four
times over:

    python bench/bias_halves.py VAL.csv MODEL_DIR [MODEL_DIR ...]

Prints the held-out change of macro recall per folder and over all of them (mean and
standard error, in points).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPEATS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("val", type=Path)
    parser.add_argument("model_dirs", type=Path, nargs="+")
    args = parser.parse_args()

    from sklearn.metrics import balanced_accuracy_score

    from sentiment_cli.evaluation.evaluate import score
    from sentiment_cli.training.biases import fit_offsets, shifted

    gains = []
    for folder in args.model_dirs:
        summary = json.loads((folder / "summary.json").read_text())
        if summary.get("bias_tuning"):
            raise SystemExit(f"{folder}: its biases were tuned on this split already")
        scored = score(folder, args.val)
        labels = scored.bundle.labels
        y = np.array([labels.index(label) for label in scored.data.labels])
        probs = scored.probabilities
        rng = np.random.default_rng(0)
        own = []
        for _ in range(REPEATS):
            order = rng.permutation(len(y))
            fit, held_out = order[: len(y) // 2], order[len(y) // 2 :]
            offsets = fit_offsets([probs[fit]], y[fit])
            before = balanced_accuracy_score(y[held_out], probs[held_out].argmax(axis=1))
            after = balanced_accuracy_score(
                y[held_out], shifted([probs[held_out]], offsets).argmax(axis=1)
            )
            own.append(100 * (after - before))
        gains += own
        print(f"{folder.name}: held-out macro recall {np.mean(own):+.2f} points", flush=True)
    error = np.std(gains) / np.sqrt(len(gains))
    print(f"all: {np.mean(gains):+.2f} ± {error:.2f} points ({len(gains)} halves)")


if __name__ == "__main__":
    main()
