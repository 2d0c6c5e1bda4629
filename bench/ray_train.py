"""`train --engine ray --workers N` against one process, on the same rows and seeds.

Three engines: one process (Keras' fit), one Ray worker (the same loop as N workers,
without collectives between processes) and N Ray workers.

Both train the default config on the same seeded sample of SemEval's training split
(10,000 rows by default, its validation 10% held out by the tool as always), with the
same seeds, one run after the other. Reported per run: validation macro recall, best
epoch, epochs run, seconds in fit and wall seconds, and training tweets/s (summary.json).
On a local cluster the workers share this machine's cores with each other (one CPU
each), so the speed is what N processes on this machine give, not N machines.

    python bench/ray_train.py [--rows 10000] [--workers 2] [--seeds 42,43,44]
        [--out bench/ray_train.json]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from train_speed import sample_rows  # noqa: E402


def run(data: Path, out: Path, seed: int, engine: list[str]) -> dict:
    command = [sys.executable, "-m", "sentiment_cli", "train", str(data), "-o", str(out)]
    command += ["--force", "-q", "--set", f"train.seed={seed}", *engine]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    summary = json.loads((out / "summary.json").read_text())
    return {
        "seed": seed,
        "engine": summary["engine"],
        "val_macro_recall": summary["validation"]["macro_recall"],
        "best_epoch": summary["best_epoch"],
        "epochs_run": summary["epochs_run"],
        "fit_seconds": summary["fit_seconds"],
        # --engine ray: each epoch on the workers; the rest of fit_seconds is start-up
        "epoch_seconds": summary.get("epoch_seconds"),
        "train_tweets_per_second": summary["train_tweets_per_second"],
        "wall_seconds": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "ray_train.json")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    engines = {
        "one process": [],
        # One Ray worker: the loop itself, without collectives between processes.
        "ray, 1 worker": ["--engine", "ray", "--workers", "1"],
        f"ray, {args.workers} workers": ["--engine", "ray", "--workers", str(args.workers)],
    }
    runs: dict[str, list[dict]] = {name: [] for name in engines}
    with tempfile.TemporaryDirectory() as tmp:
        # What starting a Ray worker costs: one epoch on the shipped sample's 288 tweets.
        # (Each Ray run's own start-up is its fit_seconds less its epoch_seconds.)
        tiny = ROOT / "data" / "sample_tweets.csv"
        startup = run(
            tiny, Path(tmp) / "tiny", 42, ["--set", "train.epochs=1", *list(engines.values())[1]]
        )
        print("start-up", json.dumps(startup), flush=True)
        data = sample_rows(args.rows, 0, Path(tmp) / "rows.csv")
        for seed in seeds:
            for name, engine in engines.items():
                result = run(data, Path(tmp) / "model", seed, engine)
                runs[name].append(result)
                print(name, json.dumps(result), flush=True)
    medians = {
        name: {
            key: statistics.median(r[key] for r in results)
            for key in ("val_macro_recall", "fit_seconds", "train_tweets_per_second")
        }
        for name, results in runs.items()
    }
    report = {
        "command": "python bench/ray_train.py " + " ".join(sys.argv[1:]),
        "rows": args.rows,
        "data": "semeval2017/train.csv, seeded sample (seed 0)",
        "seeds": seeds,
        "runs": runs,
        "startup_run": startup,
        "medians": medians,
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, m in medians.items():
        print(f"{name}: {json.dumps(m)}")


if __name__ == "__main__":
    main()
