"""Training throughput: the tool against a plain Keras script of the same size.

Both read the same rows of SemEval's training split (20,000 by default, a seeded
sample), hold out the same validation rows and train one epoch:

- **the tool**: ``sentiment-cli train`` with ``train.epochs=1`` (its default model,
  encoder, checkpoint, validation and all); tweets/s is ``summary.json``'s
  ``train_tweets_per_second`` (training rows / seconds in ``fit``).
- **plain Keras**: Embedding(20,000 × 100, ``mask_zero``) → LSTM 64 → Dense, Adam,
  batch 64, every tweet padded to 50, on the tool's own token ids (so tokenizing is
  no one's cost); tweets/s is training rows / seconds in ``fit`` for the same epoch
  with the same validation rows.

Each runs in its own process, one after the other, ``--repeats`` times; the medians
are reported. The tool's one-epoch validation macro recall is reported beside it.

    python bench/train_speed.py [--rows 20000] [--repeats 3] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEMEVAL = ROOT.parent / "shared" / "data" / "semeval2017" / "train.csv"


def sample_rows(rows: int, seed: int, out: Path) -> Path:
    import pandas as pd

    frame = pd.read_csv(SEMEVAL)
    frame.sample(n=min(rows, len(frame)), random_state=seed).to_csv(out, index=False)
    return out


def tool(data: Path, work: Path, overrides: list[str]) -> dict:
    """One epoch of ``sentiment-cli train``; its summary's speed and validation."""
    out = work / "tool"
    sets = ["train.epochs=1", *overrides]
    command = [sys.executable, "-m", "sentiment_cli", "train", str(data), "-o", str(out)]
    command += ["--force", "-q"] + [arg for s in sets for arg in ("--set", s)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    summary = json.loads((out / "summary.json").read_text())
    ids = plain_inputs(out, data)
    return {
        "tweets_per_second": summary["train_tweets_per_second"],
        "fit_seconds": summary["fit_seconds"],
        "val_macro_recall": summary["validation"]["macro_recall"],
        "inputs": str(ids),
    }


def plain_inputs(model_dir: Path, data: Path) -> Path:
    """The tool's train and validation ids and labels (padded to 50), for the plain script."""
    from sentiment_cli.config import load_config
    from sentiment_cli.training.prepare import load_splits, prepare

    config = load_config(str(model_dir / "config.yaml"))
    quiet = lambda message: None  # noqa: E731
    splits = load_splits(str(data), None, config, "text", "label", quiet)
    prepared = prepare(splits, config, "text", "label", quiet)
    path = model_dir.parent / "plain_inputs.npz"
    np.savez(
        path,
        x_train=prepared.x_train.ids[: len(splits.train)],
        y_train=prepared.y_train[: len(splits.train)],
        x_val=prepared.x_val.ids,
        y_val=prepared.y_val,
    )
    return path


PLAIN = """
import json, sys, time
import numpy as np
import keras
data = np.load(sys.argv[1])
keras.utils.set_random_seed(42)
inputs = keras.Input(shape=(50,), dtype="int32")
x = keras.layers.Embedding(20000, 100, mask_zero=True)(inputs)
x = keras.layers.LSTM(64)(x)
outputs = keras.layers.Dense(int(data["y_train"].max()) + 1, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
x_train = np.minimum(data["x_train"], 19999)
x_val = np.minimum(data["x_val"], 19999)
started = time.perf_counter()
model.fit(x_train, data["y_train"], validation_data=(x_val, data["y_val"]),
          epochs=1, batch_size=64, verbose=0)
seconds = time.perf_counter() - started
print(json.dumps({"tweets_per_second": len(x_train) / seconds, "fit_seconds": seconds}))
"""


def plain(inputs: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PLAIN, inputs], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


TARGET = 1.8  # issue #30: the tool trains at least 1.8x as many tweets/s as plain Keras


def run(rows: int = 20_000, repeats: int = 3, seed: int = 0, overrides=(), log=print) -> dict:
    """Median tweets/s of the tool and of plain Keras over ``repeats`` paired runs."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = sample_rows(rows, seed, work / "rows.csv")
        for i in range(repeats):
            started = time.perf_counter()
            ours = tool(data, work, list(overrides))
            theirs = plain(ours.pop("inputs"))
            ratio = ours["tweets_per_second"] / theirs["tweets_per_second"]
            runs.append({"tool": ours, "plain_keras": theirs, "ratio": round(ratio, 3)})
            log(
                f"[train speed] run {i + 1}: tool {ours['tweets_per_second']:.0f} tweets/s "
                f"(val macro recall {ours['val_macro_recall']:.4f}), plain Keras "
                f"{theirs['tweets_per_second']:.0f} tweets/s: {ratio:.2f}x "
                f"({time.perf_counter() - started:.0f}s)"
            )
    return {
        "rows": rows,
        "overrides": list(overrides),
        "tool_tweets_per_second": statistics.median(r["tool"]["tweets_per_second"] for r in runs),
        "plain_keras_tweets_per_second": round(
            statistics.median(r["plain_keras"]["tweets_per_second"] for r in runs), 1
        ),
        "ratio": statistics.median(r["ratio"] for r in runs),
        "target_ratio": TARGET,
        "val_macro_recall": statistics.median(r["tool"]["val_macro_recall"] for r in runs),
        "runs": runs,
    }


def summary_line(result: dict) -> str:
    met = "met" if result["ratio"] >= result["target_ratio"] else "NOT met"
    return (
        f"training, one epoch on {result['rows']:,} SemEval rows: tool "
        f"{result['tool_tweets_per_second']:.0f} tweets/s, plain Keras "
        f"{result['plain_keras_tweets_per_second']:.0f} tweets/s: {result['ratio']:.2f}x "
        f"(target >= {result['target_ratio']}x, {met}); val macro recall "
        f"{result['val_macro_recall']:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run(args.rows, args.repeats, args.seed, args.overrides, lambda m: print(m, flush=True))
    print("median: " + summary_line(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
