"""Model selection across domains, on validation data only: one candidate per call.

Trains a candidate (the default config plus --set overrides) on each shared
human-labelled domain and scores it on that domain's validation split and on the probe
suite, next to the bag-of-words baseline. Test splits are not read here; the chosen
candidates are scored on test by `make bench`.

    python bench/quality.py NAME [--set KEY=VALUE ...] [--seed 42] [--domains semeval,tse]

Domains: SemEval-2017 (train.csv; val.csv) and Tweet Sentiment Extraction (its
train.csv split 90/10 with seed 0 into train/val; the test split is not touched).
Appends one JSON line per domain to bench/runs/quality/results.jsonl and prints it.
`train.tune_biases` is off in these runs, since its offsets are chosen on the validation
split itself.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "bench" / "runs" / "quality"
PROBES = ROOT / "data" / "probes" / "probes.csv"


def domains() -> dict[str, tuple[Path, Path]]:
    """name -> (train CSV, validation CSV): the splits `make bench` uses
    (``domains.domain_files``)."""
    from types import SimpleNamespace

    from domains import domain_files  # bench/domains.py, beside this script

    args = SimpleNamespace(
        data_dir=SHARED / "semeval2017", tse_dir=SHARED / "tweet_sentiment_extraction", limit=None
    )
    files = {name: domain_files(name, args, WORK) for name in ("semeval", "tse")}
    return {name: (f["train"], f["val"]) for name, f in files.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--domains", default="semeval,tse")
    args = parser.parse_args()

    from sentiment_cli.config import load_config
    from sentiment_cli.evaluation.evaluate import probe_accuracy, score
    from sentiment_cli.training.train import train

    # Biases tuned on the validation split would make its score optimistic: they stay
    # off here (bench/bias_halves.py checks that lever on validation halves instead).
    overrides = ["train.tune_biases=false", *args.overrides, f"train.seed={args.seed}"]
    config = load_config(None, overrides)
    WORK.mkdir(parents=True, exist_ok=True)
    for domain, (train_csv, val_csv) in domains().items():
        if domain not in args.domains.split(","):
            continue
        out = WORK / f"{args.name}-{domain}-s{args.seed}"
        started = time.perf_counter()
        train(train_csv, out, config, val_path=val_csv, force=True, verbose=0, log=lambda m: None)
        seconds = time.perf_counter() - started
        val = score(out, val_csv).metrics
        probes = probe_accuracy(out, PROBES)
        summary = json.loads((out / "summary.json").read_text())
        row = {
            "name": args.name,
            "domain": domain,
            "seed": args.seed,
            "overrides": args.overrides,
            "train_seconds": round(seconds, 1),
            "best_epoch": summary["best_epoch"],
            "epochs_run": summary["epochs_run"],
            "val_macro_recall": round(val["macro_recall"], 4),
            "val_accuracy": round(val["accuracy"], 4),
            "bow_val_macro_recall": round(val["baseline"]["macro_recall"], 4),
            "probes": {k: round(v, 3) for k, v in probes["model"].items()},
            "bow_probes": {k: round(v, 3) for k, v in probes["baseline"].items()},
        }
        with open(WORK / "results.jsonl", "a") as handle:
            handle.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
