"""Calibration in-domain: are the probabilities honest on each domain's test split?

For each domain, trains the default config on its training split as a user would
(``train TRAIN.csv``: the run holds its own validation split out, and fits the
temperature there), then scores the test split: accuracy, macro-F1, the expected
calibration error (ECE, 15 bins), Brier score and log-loss, next to the same model with
its temperature undone (T = 1: what training gave before calibration) and to the
bag-of-words baseline. Then ``--min-confidence 0.8``: coverage and the accuracy of the
rows answered.

    python bench/calibration.py [--domains tse,covid_tweets,...] [--seeds 42,43,44]
                                [--set KEY=VALUE ...] [--name NAME] [--reuse]

Appends one JSON line per run to bench/runs/calibration/results.jsonl and prints the
medians per domain.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "bench" / "runs" / "calibration"
OWN_DOMAINS = ("covid_tweets", "self_driving_cars", "coachella", "sanders")
DOMAINS = ("tse", *OWN_DOMAINS)
CLI = [sys.executable, "-m", "sentiment_cli"]
sys.path.insert(0, str(ROOT / "bench"))


def files(domain: str) -> dict[str, Path]:
    """The training and test CSVs of a domain, as a user has them. The shipped encoder
    read 90% of TSE's train.csv, so a run on it holds its validation split out of half of
    the other 10% (``training/prepare.py``, ``split_unread``)."""
    folder = SHARED / ("tweet_sentiment_extraction" if domain == "tse" else domain)
    return {"train": folder / "train.csv", "test": folder / "test.csv"}


def uncalibrated(model_dir: Path, test: Path) -> dict:
    """The test metrics of the model with its temperature undone (``p ** T``
    renormalized is the softmax of the logits before they were divided by T), and
    ``ece_floor``: the median ECE that a perfectly calibrated model with the same
    confidences would show on this many tweets (labels drawn from its own
    probabilities, 50 draws): below it, a measured ECE is noise. ``ece_hindsight`` is
    the ECE once a temperature fitted on the test split's own labels
    (``temperature_hindsight``) is applied on top of the model's. It is read off the
    answers, so it is no result: it says how much of the measured ECE any one
    temperature could take away on this split."""
    import numpy as np

    from sentiment_cli import load_model
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.metrics import probability_metrics
    from sentiment_cli.training.calibrate import fit_temperature, soften

    model = load_model(model_dir)
    summary = json.loads((model_dir / "summary.json").read_text())
    temperature = (summary.get("calibration") or {}).get("temperature", 1.0)
    data = read_labelled(test, "text", "label")
    frame = model.predict(data.texts)
    probs = frame[[f"p_{label}" for label in model.labels]].to_numpy(dtype=np.float64)
    raw = np.clip(probs, 1e-12, 1) ** temperature
    raw /= raw.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    cumulative = probs.cumsum(axis=1) / probs.sum(axis=1, keepdims=True)
    floors = []
    for _ in range(50):
        drawn = (rng.random((len(probs), 1)) > cumulative).sum(axis=1)
        labels = [model.labels[i] for i in np.minimum(drawn, len(model.labels) - 1)]
        floors.append(probability_metrics(labels, probs, model.labels)["ece"])
    truth = np.array([model.labels.index(label) for label in data.labels])
    best = fit_temperature([probs], truth)
    hindsight = probability_metrics(data.labels, soften([probs], best), model.labels)
    return {
        "temperature": temperature,
        **probability_metrics(data.labels, raw, model.labels),
        "ece_floor": float(np.median(floors)),
        "temperature_hindsight": round(best, 4),
        "ece_hindsight": hindsight["ece"],
    }


def run(domain: str, seed: int, overrides: list[str], name: str, reuse: bool = False) -> dict:
    paths = files(domain)
    out = WORK / "models" / f"{name}-{domain}-seed{seed}"
    sets = [f"train.seed={seed}", *overrides]
    started = time.perf_counter()
    if not (reuse and (out / "manifest.json").exists()):
        train = [*CLI, "train", str(paths["train"]), "-o", str(out), "--force"]
        subprocess.run([*train, *(a for s in sets for a in ("--set", s))], check=True)
    seconds = time.perf_counter() - started
    evaluate = [*CLI, "evaluate", "--model-dir", str(out), str(paths["test"]), "-f", "json"]
    result = subprocess.run(
        [*evaluate, "--min-confidence", "0.8"], check=True, capture_output=True, text=True
    )
    metrics = json.loads(result.stdout)
    keys = ("accuracy", "macro_f1", "ece", "brier", "log_loss", "mean_confidence")
    row = {
        "name": name,
        "domain": domain,
        "seed": seed,
        "overrides": overrides,
        "train_seconds": round(seconds, 1),
        "model": {k: metrics[k] for k in keys},
        "before": uncalibrated(out, paths["test"]),
        "baseline": {k: metrics["baseline"][k] for k in keys},
        "abstain_0.8": metrics["abstention"],
    }
    with open(WORK / "results.jsonl", "a") as handle:
        handle.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)
    return row


def medians(rows: list[dict]) -> list[dict]:
    table = []
    for domain in dict.fromkeys(r["domain"] for r in rows):
        runs = [r for r in rows if r["domain"] == domain]

        def mid(part: str, key: str, runs=runs):
            values = [r[part][key] for r in runs if r[part].get(key) is not None]
            return round(statistics.median(values), 4) if values else None

        table.append(
            {
                "domain": domain,
                "seeds": len(runs),
                "temperature": mid("before", "temperature"),
                "ece_before": mid("before", "ece"),
                "ece_floor": mid("before", "ece_floor"),
                "ece_hindsight": mid("before", "ece_hindsight"),
                "ece": mid("model", "ece"),
                "ece_baseline": mid("baseline", "ece"),
                "accuracy": mid("model", "accuracy"),
                "macro_f1": mid("model", "macro_f1"),
                "coverage_0.8": mid("abstain_0.8", "coverage"),
                "accuracy_answered_0.8": mid("abstain_0.8", "accuracy_answered"),
            }
        )
    return table


def section(seeds: list[int]) -> dict:
    """`make bench`'s calibration section: every domain, the default config."""
    WORK.mkdir(parents=True, exist_ok=True)
    print("[bench] calibration in-domain: TSE and the four own-domain sets", flush=True)
    rows = [run(domain, seed, [], "bench") for domain in DOMAINS for seed in seeds]
    return {"runs": rows, "medians": medians(rows)}


def print_table(section: dict | None) -> None:
    if not section:
        return
    print("\nCalibration in-domain (trained on the training split, scored on test; medians)")
    print(
        f"{'domain':<20}{'T':>6}{'ECE T=1':>9}{'ECE':>7}{'floor':>7}{'hindsight':>10}{'BoW':>7}"
        f"{'acc':>7}"
        f"{'cover@.8':>10}{'acc@.8':>8}"
    )
    for row in section["medians"]:
        print(
            f"{row['domain']:<20}{row['temperature']:>6.2f}{row['ece_before']:>9.3f}"
            f"{row['ece']:>7.3f}{row['ece_floor'] or 0:>7.3f}{row.get('ece_hindsight') or 0:>10.3f}"
            f"{row['ece_baseline']:>7.3f}"
            f"{row['accuracy']:>7.3f}"
            f"{row['coverage_0.8']:>10.3f}{row['accuracy_answered_0.8']:>8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default=",".join(DOMAINS))
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--name", default="default")
    parser.add_argument("--reuse", action="store_true", help="score the models already trained")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = [
        run(domain, int(seed), args.overrides, args.name, args.reuse)
        for domain in args.domains.split(",")
        for seed in args.seeds.split(",")
    ]
    for row in medians(rows):
        print(json.dumps(row))
    print_table({"medians": medians(rows)})


if __name__ == "__main__":
    main()
