"""A retrain of the labelling loop: the default config on the answers so far.

``label`` runs it as a subprocess (``python -m sentiment_cli.labelling.retrain``), so
that the page never waits on TensorFlow; ``label --simulate`` calls ``retrain`` here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime.model_folder import ModelDir

Log = Callable[[str], None]


def retrain(data: Path, out: Path, seed: int, log: Log) -> ModelDir | None:
    """A model of the default config trained on ``data`` (from the shipped encoder, the
    whole network transferred), read back; None where the answers cannot train one yet
    (one label only, too few rows to hold out validation), said in one line."""
    from sentiment_cli.config import load_config
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.training.train import train

    config = load_config(None, [f"train.seed={seed}"])
    try:
        train(data, out, config, force=True, verbose=0, log=lambda message: None)
    except SentimentError as exc:
        log(f"No retrain yet: {exc}")
        return None
    return read_model_dir(out)


def cross_validated(data: Path, work: Path, seed: int, folds: int) -> dict | None:
    """Accuracy and macro-F1 of the default config on ``data``, each row predicted by a
    model that did not train on it (``folds``-fold, stratified where the labels allow);
    None with fewer than 2 rows of some label per fold."""
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import StratifiedKFold

    from sentiment_cli.metrics import classification_metrics
    from sentiment_cli.runtime.predict import predict_proba

    frame = pd.read_csv(data, dtype=str, keep_default_na=False)
    if frame["label"].value_counts().min() < 2 * folds:
        return None
    predicted = np.empty(len(frame), dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for k, (fit_rows, held) in enumerate(splitter.split(frame["text"], frame["label"])):
        part = work / f"fold-{k}.csv"
        frame.iloc[fit_rows].to_csv(part, index=False)
        bundle = retrain(part, work / f"fold-{k}", seed, lambda message: None)
        if bundle is None:
            return None
        probs = predict_proba(bundle, frame["text"].iloc[held].tolist())
        predicted[held] = [bundle.labels[i] for i in probs.argmax(axis=1)]
    labels = sorted(set(frame["label"]))
    metrics = classification_metrics(frame["label"].tolist(), list(predicted), labels)
    return {"folds": folds, "rows": len(frame), "accuracy": round(metrics["accuracy"], 4),
            "macro_f1": round(metrics["macro_f1"], 4)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m sentiment_cli.labelling.retrain ANSWERS.csv OUT --seed S --folds K``:
    the model in OUT (written atomically, as ``train`` writes), then its cross-validated
    estimate in OUT.cv.json; exit status 0, or 3 when no model could be trained yet."""
    import argparse
    import json
    import shutil

    parser = argparse.ArgumentParser(prog="python -m sentiment_cli.labelling.retrain")
    parser.add_argument("answers", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args(argv)
    if retrain(args.answers, args.out, args.seed, print) is None:
        return 3
    if args.folds > 1:
        work = args.out.with_name(args.out.name + ".folds")
        try:
            cv = cross_validated(args.answers, work, args.seed, args.folds)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        temporary = args.out.with_name(args.out.name + ".cv.json.tmp")
        temporary.write_text(json.dumps(cv) + "\n", encoding="utf-8")
        temporary.replace(args.out.with_name(args.out.name + ".cv.json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
