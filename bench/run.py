"""The SemEval-2017 Task 4A benchmark: `make bench`.

Trains the default config on train.csv (early stopping on val.csv) for several
seeds, evaluates each on test.csv next to its bag-of-words baseline, measures speed
and memory, then trains every config in configs/ once for a side-by-side table.
Prints a table and writes bench/results.json.

    python bench/run.py [--data-dir ../shared/data/semeval2017] [--seeds 42,43,44]
                        [--limit N] [--skip-configs] [--out bench/results.json]

--limit N trains and tests on the first N rows of each file (for the smoke test).
Every training and prediction runs as its own `sentiment-cli` process, so wall time
and peak memory (RSS) are those a user would see.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "semeval2017"
METRICS = ["macro_recall", "accuracy", "f1_pn", "macro_f1"]
CLI = [sys.executable, "-m", "sentiment_cli"]


def run(args: list[str], log_path: Path | None = None) -> dict:
    """Run a sentiment-cli command; wall seconds, peak RSS (MiB) and stdout."""
    started = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(
            [*CLI, *args], stdout=out, stderr=subprocess.STDOUT, env=env, text=True
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    if log_path is not None:
        log_path.write_text(text)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sentiment-cli {' '.join(args)} failed:\n{text[-3000:]}")
    return {"seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024, "output": text}


def limited(path: Path, limit: int | None, work: Path) -> Path:
    if not limit:
        return path
    import pandas as pd

    target = work / f"{path.stem}-{limit}.csv"
    pd.read_csv(path, dtype=str, keep_default_na=False).head(limit).to_csv(target, index=False)
    return target


def evaluate(model_dir: Path, test: Path) -> dict:
    result = run(["evaluate", "--model-dir", str(model_dir), str(test), "--format", "json"])
    return json.loads(result["output"][result["output"].index("{") :])


def prediction_speed(model_dir: Path, test: Path) -> dict:
    """Batch throughput in-process, and what a user waits for in a fresh process."""
    from sentiment_cli.artifact import load_model_dir
    from sentiment_cli.data import read_labelled
    from sentiment_cli.predict import predict_proba

    bundle = load_model_dir(model_dir)
    texts = read_labelled(test).texts
    predict_proba(bundle, texts[:256])  # warm-up: graph tracing
    started = time.perf_counter()
    predict_proba(bundle, texts)
    seconds = time.perf_counter() - started
    cold = run(["predict", "--model-dir", str(model_dir), "what a great day :)"])
    batch = run(
        [
            "predict",
            "--model-dir",
            str(model_dir),
            "--input",
            str(test),
            "--format",
            "csv",
            "--output",
            os.devnull,
        ]
    )
    helped = run(["--help"])
    return {
        "predict_tweets": len(texts),
        "predict_tweets_per_second": round(len(texts) / seconds, 1),
        "predict_cold_start_seconds": round(cold["seconds"], 2),
        "predict_file_seconds": round(batch["seconds"], 2),
        "predict_peak_rss_mib": round(batch["peak_rss_mib"], 1),
        "help_seconds": round(helped["seconds"], 2),
    }


def train(data: Path, val: Path, out: Path, config: str | None, seed: int, logs: Path) -> dict:
    args = [
        "train",
        str(data),
        "--output-dir",
        str(out),
        "--val-data",
        str(val),
        "--force",
        "--quiet",
        "--set",
        f"train.seed={seed}",
    ]
    if config:
        args += ["--config", config]
    result = run(args, logs / f"{out.name}.log")
    summary = json.loads((out / "summary.json").read_text())
    return {
        "train_wall_seconds": round(result["seconds"], 1),
        "train_peak_rss_mib": round(result["peak_rss_mib"], 1),
        "train_tweets_per_second": summary["train_tweets_per_second"],
        "epochs_run": summary["epochs_run"],
        "best_epoch": summary["best_epoch"],
        "total_parameters": summary["total_parameters"],
        "recurrent_parameters": sum(
            count for name, count in summary["parameters"].items() if name.startswith("rnn")
        ),
    }


def scores(metrics: dict) -> dict:
    return {key: metrics[key] for key in METRICS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("SEMEVAL_DIR", DEFAULT_DATA))
    )
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--skip-configs", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "runs")
    args = parser.parse_args()

    files = {name: args.data_dir / f"{name}.csv" for name in ("train", "val", "test")}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise SystemExit(
            f"bench: the SemEval-2017 data is not here ({', '.join(missing)}); "
            f"pass --data-dir or set SEMEVAL_DIR"
        )
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    train_csv, val_csv, test_csv = (limited(files[n], args.limit, work) for n in files)
    seeds = [int(s) for s in args.seeds.split(",")]

    results: dict = {
        "data_dir": str(args.data_dir),
        "limit": args.limit,
        "seeds": seeds,
        "default_config": "configs/lstm.yaml",
        "runs": [],
    }
    for seed in seeds:
        out = work / f"default-seed{seed}"
        print(f"[bench] default config, seed {seed}: training", flush=True)
        row = {"seed": seed, **train(train_csv, val_csv, out, None, seed, logs)}
        metrics = evaluate(out, test_csv)
        row["model"] = scores(metrics)
        row["baseline"] = scores(metrics["baseline"]) if metrics["baseline"] else None
        results["runs"].append(row)
        print(
            f"[bench]   macro_recall {row['model']['macro_recall']:.4f} "
            f"(bag-of-words {row['baseline']['macro_recall']:.4f}), "
            f"{row['train_wall_seconds']:.0f}s",
            flush=True,
        )

    median_run = sorted(results["runs"], key=lambda r: r["model"]["macro_recall"])[
        len(results["runs"]) // 2
    ]
    results["median"] = {
        "seed": median_run["seed"],
        "model": {k: statistics.median(r["model"][k] for r in results["runs"]) for k in METRICS},
        "baseline": {
            k: statistics.median(r["baseline"][k] for r in results["runs"]) for k in METRICS
        },
        "train_wall_seconds": statistics.median(r["train_wall_seconds"] for r in results["runs"]),
    }
    spread = [r["model"]["macro_recall"] for r in results["runs"]]
    results["macro_recall_min_max"] = [min(spread), max(spread)]
    print("[bench] prediction speed and start-up", flush=True)
    results["speed"] = prediction_speed(work / f"default-seed{median_run['seed']}", test_csv)
    results["speed"]["train_tweets_per_second"] = median_run["train_tweets_per_second"]
    results["speed"]["train_peak_rss_mib"] = median_run["train_peak_rss_mib"]

    results["configs"] = []
    if not args.skip_configs:
        for config in sorted((ROOT / "configs").glob("*.yaml")):
            out = work / f"config-{config.stem}"
            print(f"[bench] {config.name}: training", flush=True)
            row = {
                "config": config.name,
                **train(train_csv, val_csv, out, str(config), seeds[0], logs),
            }
            metrics = evaluate(out, test_csv)
            row["model"] = scores(metrics)
            row["baseline"] = scores(metrics["baseline"]) if metrics["baseline"] else None
            results["configs"].append(row)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"[bench] wrote {args.out}")


def print_table(results: dict) -> None:
    print("\nDefault config on SemEval-2017 test (train.csv, early stopping on val.csv)")
    print(
        f"{'seed':>6} {'macro_recall':>12} {'accuracy':>9} {'f1_pn':>7} {'macro_f1':>9} "
        f"{'BoW MR':>7} {'RNN-BoW':>8} {'train s':>8}"
    )
    for r in results["runs"]:
        m, b = r["model"], r["baseline"]
        print(
            f"{r['seed']:>6} {m['macro_recall']:>12.4f} {m['accuracy']:>9.4f} "
            f"{m['f1_pn']:>7.4f} {m['macro_f1']:>9.4f} {b['macro_recall']:>7.4f} "
            f"{m['macro_recall'] - b['macro_recall']:>+8.4f} {r['train_wall_seconds']:>8.0f}"
        )
    med = results["median"]
    print(
        f"{'median':>6} {med['model']['macro_recall']:>12.4f} {med['model']['accuracy']:>9.4f} "
        f"{med['model']['f1_pn']:>7.4f} {med['model']['macro_f1']:>9.4f} "
        f"{med['baseline']['macro_recall']:>7.4f} "
        f"{med['model']['macro_recall'] - med['baseline']['macro_recall']:>+8.4f} "
        f"{med['train_wall_seconds']:>8.0f}"
    )
    speed = results["speed"]
    print(
        f"\ntraining {speed['train_tweets_per_second']:.0f} tweets/s, peak RSS "
        f"{speed['train_peak_rss_mib']:.0f} MiB; prediction "
        f"{speed['predict_tweets_per_second']:.0f} tweets/s in batch, "
        f"{speed['predict_file_seconds']:.1f}s for the {speed['predict_tweets']}-tweet file "
        f"(peak RSS {speed['predict_peak_rss_mib']:.0f} MiB); "
        f"cold start of one prediction {speed['predict_cold_start_seconds']:.1f}s; "
        f"--help {speed['help_seconds']:.2f}s"
    )
    if results["configs"]:
        print(
            f"\n{'config':<16} {'rnn params':>10} {'params':>10} {'macro_recall':>12} "
            f"{'accuracy':>9} {'f1_pn':>7} {'train s':>8}"
        )
        for r in results["configs"]:
            m = r["model"]
            print(
                f"{r['config']:<16} {r['recurrent_parameters']:>10,} {r['total_parameters']:>10,} "
                f"{m['macro_recall']:>12.4f} {m['accuracy']:>9.4f} {m['f1_pn']:>7.4f} "
                f"{r['train_wall_seconds']:>8.0f}"
            )


if __name__ == "__main__":
    main()
