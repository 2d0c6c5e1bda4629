"""The benchmark: `make bench`.

For each shared human-labelled domain (SemEval-2017 Task 4A; Tweet Sentiment
Extraction), trains the default config with several seeds, evaluates each on the test
split next to its bag-of-words baseline and on the probe suite (accuracy per
category), and reports the median and the spread. Then speed and memory, each next to
VADER scoring the same input in its own process: a cold single prediction and the whole
SemEval test file. Then every config in configs/ once on SemEval; the few-labels curve on
TSE and on the four own-domain sets (bench/few_labels.py); the built-in model against
VADER; calibration in-domain. Prints tables and writes bench/results.json.

    python bench/run.py [--domains semeval,tse] [--seeds 42,43,44] [--limit N]
                        [--skip-configs] [--out bench/results.json]

Settings are chosen on validation data only: SemEval's val.csv; for Tweet Sentiment
Extraction, which has no val split, 10% of train.csv held out with seed 0. Each test
split is read once per trained model. --limit N uses the first N rows of each file
(the smoke test). Every training and prediction runs as its own process, so wall time
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

from domains import domain_files  # bench/domains.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DEFAULT_DATA = SHARED / "semeval2017"
PROBES = ROOT / "data" / "probes" / "probes.csv"
METRICS = ["macro_recall", "accuracy", "f1_pn", "macro_f1"]
CLI = [sys.executable, "-m", "sentiment_cli"]


# A small process starts the measured one and reports its peak RSS: ru_maxrss counts the
# image a process was forked from, and this benchmark's own process is large.
LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "seconds = time.perf_counter() - started\n"
    "open(sys.argv[1], 'w').write(f'{seconds} {usage.ru_maxrss} {status}')\n"
)


def measured(command: list[str]) -> dict:
    """Run ``command``: its wall seconds (from its own start), peak RSS (MiB) and output."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile("w+") as out:
        report = Path(tmp) / "report"
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        seconds, rss_kib, status = report.read_text().split()
        out.seek(0)
        text = out.read()
    return {
        "seconds": float(seconds),
        "peak_rss_mib": int(rss_kib) / 1024,
        "exit_code": os.waitstatus_to_exitcode(int(status)),
        "output": text,
    }


def run(args: list[str], log_path: Path | None = None) -> dict:
    """Run a sentiment-cli command in its own process."""
    result = measured([*CLI, *args])
    if log_path is not None:
        log_path.write_text(result["output"])
    if result["exit_code"] != 0:
        raise SystemExit(f"sentiment-cli {' '.join(args)} failed:\n{result['output'][-3000:]}")
    return result


def evaluate(model_dir: Path, test: Path) -> dict:
    result = run(["evaluate", "--model-dir", str(model_dir), str(test), "--format", "json"])
    return json.loads(result["output"][result["output"].index("{") :])


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


def probe_scores(model_dir: Path) -> dict:
    metrics = evaluate(model_dir, PROBES)
    return {
        category: {"model": row["accuracy"], "baseline": row["baseline_accuracy"]}
        for category, row in metrics["categories"].items()
    }


def run_domain(name: str, files: dict, seeds: list[int], work: Path, logs: Path) -> dict:
    runs = []
    for seed in seeds:
        out = work / f"{name}-default-seed{seed}"
        print(f"[bench] {name}: default config, seed {seed}: training", flush=True)
        row = {"seed": seed, **train(files["train"], files["val"], out, None, seed, logs)}
        metrics = evaluate(out, files["test"])
        row["model"] = scores(metrics)
        row["baseline"] = scores(metrics["baseline"])
        row["probes"] = probe_scores(out)
        runs.append(row)
        print(
            f"[bench]   macro_recall {row['model']['macro_recall']:.4f} "
            f"(bag-of-words {row['baseline']['macro_recall']:.4f}), "
            f"{row['train_wall_seconds']:.0f}s",
            flush=True,
        )
    median_run = sorted(runs, key=lambda r: r["model"]["macro_recall"])[len(runs) // 2]
    categories = list(runs[0]["probes"])
    spread = [r["model"]["macro_recall"] for r in runs]
    return {
        "files": {k: str(v) for k, v in files.items()},
        "runs": runs,
        "median": {
            "seed": median_run["seed"],
            "model": {k: statistics.median(r["model"][k] for r in runs) for k in METRICS},
            "baseline": {k: statistics.median(r["baseline"][k] for r in runs) for k in METRICS},
            "probes": {
                c: {
                    side: statistics.median(r["probes"][c][side] for r in runs)
                    for side in ("model", "baseline")
                }
                for c in categories
            },
            "train_wall_seconds": statistics.median(r["train_wall_seconds"] for r in runs),
        },
        "macro_recall_min_max": [min(spread), max(spread)],
    }


VADER_SCRIPT = """
import csv, sys
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
analyzer = SentimentIntensityAnalyzer()
if sys.argv[1] == "--file":
    with open(sys.argv[2], newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        scores = [analyzer.polarity_scores(row["text"])["compound"] for row in rows]
    print(len(scores))
else:
    print(analyzer.polarity_scores(sys.argv[1])["compound"])
"""


def vader(*args: str) -> dict:
    """VADER in its own process, like a user would run it."""
    result = measured([sys.executable, "-c", VADER_SCRIPT, *args])
    if result["exit_code"] != 0:
        raise SystemExit(f"bench: VADER failed:\n{result['output'][-2000:]}")
    return result


def median_of(runs) -> dict:
    """The run of median wall time."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def speed(model_dir: Path, test: Path) -> dict:
    """Ours and VADER's, each in its own process, same inputs, same run (medians of 3)."""
    import pandas as pd

    n = len(pd.read_csv(test, dtype=str, keep_default_na=False))
    tweet = "what a great day :)"
    args = ["predict", "--model-dir", str(model_dir), "--input", str(test), "-f", "csv"]
    # Each the median of three runs, taken in turns: one run of a second or less moves
    # by a tenth of its time from one run to the next.
    ours_cold, vader_cold, ours_file, vader_file = (
        median_of(runs)
        for runs in zip(
            *(
                (
                    run(["predict", "--model-dir", str(model_dir), tweet]),
                    vader(tweet),
                    run([*args, "--output", os.devnull]),
                    vader("--file", str(test)),
                )
                for _ in range(3)
            ),
            strict=True,
        )
    )
    helped = run(["--help"])
    return {
        "file_tweets": n,
        "cold_predict_seconds": round(ours_cold["seconds"], 3),
        "cold_predict_peak_rss_mib": round(ours_cold["peak_rss_mib"], 1),
        "vader_cold_seconds": round(vader_cold["seconds"], 3),
        "vader_cold_peak_rss_mib": round(vader_cold["peak_rss_mib"], 1),
        "file_seconds": round(ours_file["seconds"], 3),
        "file_tweets_per_second": round(n / ours_file["seconds"], 1),
        "file_peak_rss_mib": round(ours_file["peak_rss_mib"], 1),
        "vader_file_seconds": round(vader_file["seconds"], 3),
        "vader_file_tweets_per_second": round(n / vader_file["seconds"], 1),
        "help_seconds": round(helped["seconds"], 3),
    }


def serve_load(model_dir: Path, requests: int = 2000, clients: int = 8) -> dict:
    """`sentiment-cli serve` in its own process on a loopback port; ``requests`` single-
    tweet POST /predict from ``clients`` concurrent keep-alive connections (bounded in
    count; nothing leaves the machine). Latency per request, as the client sees it."""
    import http.client
    import socket
    from concurrent.futures import ThreadPoolExecutor

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*CLI, "serve", "--model-dir", str(model_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("bench: serve did not start")
        body = json.dumps({"texts": ["what a great day :)"]})

        def client(count: int) -> list[float]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            latencies = []
            for _ in range(count):
                started = time.perf_counter()
                connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise SystemExit(f"bench: serve answered {response.status}")
                latencies.append(time.perf_counter() - started)
            return latencies

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            parts = list(pool.map(client, [requests // clients] * clients))
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies = sorted(x for part in parts for x in part)
    return {
        "serve_requests": len(latencies),
        "serve_clients": clients,
        "serve_requests_per_second": round(len(latencies) / seconds, 1),
        "serve_p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "serve_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2),
    }


def shared_rows(pattern: str, columns: list[str]) -> list[tuple[str, ...]]:
    """The given columns of every shared CSV matching ``pattern``, in file order."""
    import csv

    rows = []
    for path in sorted(SHARED.glob(pattern)):
        with open(path, newline="", encoding="utf-8") as handle:
            rows += [tuple(row[c] for c in columns) for row in csv.DictReader(handle)]
    return rows


def cycled_csv(path: Path, header: list[str], rows: list[tuple], n: int) -> Path:
    """A CSV of ``n`` rows, ``rows`` repeated in order (written once, then reused)."""
    import csv

    if not path.exists():
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows[i % len(rows)] for i in range(n))
    return path


def scale_predict(model_dir: Path, work: Path, sizes=(100_000, 1_000_000)) -> dict:
    """Whole-process ``predict --input`` of N-row CSVs built from every shared tweet
    (SemEval, TSE, NLTK, Sentiment140 texts, cycled in file order to N rows): seconds,
    tweets/s and peak RSS for each N (memory should stay flat in N)."""
    texts = shared_rows("*/*.csv", ["text"])
    out = {"source_tweets": len(texts), "sizes": {}}
    for n in sizes:
        path = cycled_csv(work / f"scale-{n}.csv", ["text"], texts, n)
        print(f"[bench] predict on {n:,} rows", flush=True)
        result = run(["predict", "--model-dir", str(model_dir), "--input", str(path), "-f",
                      "csv", "--output", str(work / "scale-out.csv")])  # fmt: skip
        out["sizes"][str(n)] = {
            "seconds": round(result["seconds"], 2),
            "tweets_per_second": round(n / result["seconds"], 1),
            "peak_rss_mib": round(result["peak_rss_mib"], 1),
        }
    (work / "scale-out.csv").unlink(missing_ok=True)
    return out


def scale_train(work: Path, val: Path, sizes=(100_000, 1_000_000)) -> dict:
    """One epoch of the default config on N labelled rows cycled from the shared
    human-labelled and distant sets (SemEval, TSE, NLTK, Sentiment140 train files; label
    names as they are), validation on SemEval's val.csv, no baseline, no checkpoint:
    wall seconds, training tweets/s and peak RSS."""
    rows = shared_rows("*/train.csv", ["text", "label"])
    out = {"source_rows": len(rows), "sizes": {}}
    for n in sizes:
        path = cycled_csv(work / f"train-scale-{n}.csv", ["text", "label"], rows, n)
        print(f"[bench] train one epoch on {n:,} rows", flush=True)
        model = work / f"train-scale-{n}"
        result = run(["train", str(path), "-o", str(model), "--val-data", str(val), "--force",
                      "-q", "--set", "train.epochs=1", "--set", "train.baseline=false",
                      "--set", "train.checkpoint=false"])  # fmt: skip
        summary = json.loads((model / "summary.json").read_text())
        out["sizes"][str(n)] = {
            "seconds": round(result["seconds"], 1),
            "fit_seconds": summary["fit_seconds"],
            "train_tweets_per_second": summary["train_tweets_per_second"],
            "peak_rss_mib": round(result["peak_rss_mib"], 1),
        }
    return out


def ray_vs_plain(model_dir: Path, work: Path, n: int = 100_000) -> dict:
    """The same n-row CSV scored by plain predict and by --engine ray (local Ray on all
    cores, its start-up included), each its own process."""
    import shutil

    path = work / f"scale-{n}.csv"
    plain = run(["predict", "--model-dir", str(model_dir), "-i", str(path), "-f", "parquet",
                 "-o", str(work / "plain.parquet")])  # fmt: skip
    shutil.rmtree(work / "ray-out", ignore_errors=True)
    ray = run(["predict", "--model-dir", str(model_dir), "--engine", "ray", "-i", str(path),
               "-o", str(work / "ray-out")])  # fmt: skip
    return {
        "rows": n,
        "plain_seconds": round(plain["seconds"], 2),
        "ray_seconds": round(ray["seconds"], 2),
        "ray_over_plain": round(ray["seconds"] / plain["seconds"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("SEMEVAL_DIR", DEFAULT_DATA))
    )
    parser.add_argument("--tse-dir", type=Path, default=SHARED / "tweet_sentiment_extraction")
    parser.add_argument("--domains", default="semeval,tse")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--skip-configs", action="store_true")
    parser.add_argument("--skip-scale", action="store_true", help="no 100k / 1M-row predict")
    parser.add_argument(
        "--skip-few-labels", action="store_true", help="no new-domain learning curve"
    )
    parser.add_argument(
        "--skip-own-domains", action="store_true", help="no curves on the four own-domain sets"
    )
    parser.add_argument(
        "--skip-speed", action="store_true", help="no speed, memory and serve measurements"
    )
    parser.add_argument(
        "--skip-zero-shot", action="store_true", help="no built-in model against VADER"
    )
    parser.add_argument(
        "--skip-calibration", action="store_true", help="no in-domain calibration runs"
    )
    parser.add_argument(
        "--skip-peers", action="store_true", help="no VADER / fastText / TF-IDF chart"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "runs")
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="measure speed, serve and scaled predict (plain and Ray) again on the models "
        "of the last run (--out), keeping its trainings; for runtime changes",
    )
    args = parser.parse_args()
    if args.remeasure:
        remeasure(args)
        return

    work = args.work_dir
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    domains = args.domains.split(",")
    results: dict = {
        "limit": args.limit,
        "seeds": seeds,
        "default_config": "configs/lstm.yaml",
        "probes": str(PROBES.relative_to(ROOT)),
        "domains": {},
    }
    files = {name: domain_files(name, args, work) for name in domains}
    for name in domains:
        results["domains"][name] = run_domain(name, files[name], seeds, work, logs)

    first = domains[0]
    median_seed = results["domains"][first]["median"]["seed"]
    median_dir = work / f"{first}-default-seed{median_seed}"
    if not args.skip_speed:
        print("[bench] speed and memory, next to VADER", flush=True)
        results["speed"] = speed(median_dir, files[first]["test"])
        results["speed"].update(serve_load(median_dir))
        median_run = next(r for r in results["domains"][first]["runs"] if r["seed"] == median_seed)
        results["speed"]["train_tweets_per_second"] = median_run["train_tweets_per_second"]
        results["speed"]["train_peak_rss_mib"] = median_run["train_peak_rss_mib"]
        import train_speed  # bench/train_speed.py, beside this script

        print("[bench] training speed against a plain Keras script", flush=True)
        results["speed"]["train_vs_plain_keras"] = train_speed.run(
            log=lambda message: print(message, flush=True)
        )
    if not args.skip_scale and not args.limit:
        results["scale"] = scale_predict(median_dir, work)
        results["scale"]["ray"] = ray_vs_plain(median_dir, work)
        results["scale"]["train"] = scale_train(work, files[first]["val"])

    results["configs"] = []
    if not args.skip_configs:
        for config in sorted((ROOT / "configs").glob("*.yaml")):
            out = work / f"config-{config.stem}"
            print(f"[bench] {config.name}: training", flush=True)
            row = {
                "config": config.name,
                **train(
                    files[first]["train"], files[first]["val"], out, str(config), seeds[0], logs
                ),
            }
            metrics = evaluate(out, files[first]["test"])
            row["model"] = scores(metrics)
            row["baseline"] = scores(metrics["baseline"])
            results["configs"].append(row)

    if not args.skip_peers and not args.limit:
        import peers  # bench/peers.py, beside this script

        print("[bench] peers: VADER, fastText, TF-IDF + LR and ours", flush=True)
        results["peers"] = peers.run(
            {
                name: (
                    files[name],
                    work / f"{name}-default-seed{results['domains'][name]['median']['seed']}",
                )
                for name in domains
                if name in peers.DOMAINS
            }
        )
    if not args.skip_few_labels and not args.limit:
        results["few_labels"] = few_labels_curve(seeds)
    if not args.skip_own_domains and not args.limit:
        results["own_domains"] = own_domain_curves(seeds)
    if not args.skip_zero_shot and not args.limit:
        import zero_shot  # bench/zero_shot.py, beside this script

        print("[bench] the built-in model against VADER on every test split", flush=True)
        results["zero_shot"] = zero_shot.run()
    if not args.skip_calibration and not args.limit:
        import calibration  # bench/calibration.py, beside this script

        results["calibration"] = calibration.section(seeds)
    carry_over(results, args.out)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"[bench] wrote {args.out}")


SECTIONS = (
    "speed",
    "scale",
    "configs",
    "peers",
    "few_labels",
    "own_domains",
    "zero_shot",
    "calibration",
)


def carry_over(results: dict, previous_path: Path) -> None:
    """The sections this run skipped (--skip-speed, --skip-scale, --skip-configs,
    --skip-peers, --skip-few-labels, --skip-own-domains, --skip-zero-shot,
    --skip-calibration), kept from the previous results file and listed under
    ``carried_over`` so that no reader takes them for this run's."""
    if not previous_path.exists():
        return
    previous = json.loads(previous_path.read_text())
    kept = []
    for key in SECTIONS:
        if not results.get(key) and previous.get(key):
            results[key] = previous[key]
            kept.append(key)
    if kept:
        results["carried_over"] = {
            "sections": kept,
            "from": "the previous bench/results.json (not measured in this run)",
        }


FEW_LABELS_PLOT = ROOT / "docs" / "few_labels.png"


def few_labels_curve(seeds: list[int]) -> dict:
    """The new-domain curve (bench/few_labels.py) on TSE's test split, from an encoder
    that never read TSE (built first when absent, about 3 minutes), with its plot."""
    import few_labels

    if not (few_labels.ENCODER / "encoder.json").exists():
        print(f"[bench] building the encoder without TSE: {few_labels.ENCODER}", flush=True)
        build = [sys.executable, str(ROOT / "bench" / "build_encoder.py"), "--domains", "semeval"]
        subprocess.run([*build, "--out", str(few_labels.ENCODER)], check=True)
    print("[bench] few labels of a new domain: TSE test, 250 to all", flush=True)
    result = few_labels.curve("bench", "test", seeds=",".join(map(str, seeds)))
    title = f"Few labels of a new domain (TSE test, median of {len(seeds)} seeds)"
    few_labels.plot(result["medians"], FEW_LABELS_PLOT, title)
    return {"plot": str(FEW_LABELS_PLOT.relative_to(ROOT)), **result}


OWN_DOMAIN_SIZES = "250,500,2000,all"


def own_domain_curves(seeds: list[int]) -> dict:
    """The few-labels curve on each own-domain set (bench/few_labels.py --domain), on its
    test split, from the shipped encoder, which never read them (``unread``), with a
    plot per set."""
    import few_labels

    curves = {}
    for domain in few_labels.OWN_DOMAINS:
        print(f"[bench] own domain {domain}: test, {OWN_DOMAIN_SIZES} labels", flush=True)
        check = few_labels.unread(domain)
        if check["train_tweets_the_encoder_read"] or check["test_tweets_the_encoder_read"]:
            print(f"[bench] warning: the encoder read tweets of {domain}: {check}", flush=True)
        result = few_labels.curve(
            "bench", "test", OWN_DOMAIN_SIZES, ",".join(map(str, seeds)), domain=domain
        )
        plot = ROOT / "docs" / f"own_domain_{domain}.png"
        title = f"{domain}: few labels of your own domain (test, median of {len(seeds)} seeds)"
        few_labels.plot(result["medians"], plot, title)
        curves[domain] = {"plot": str(plot.relative_to(ROOT)), "unread": check, **result}
    return curves


def remeasure(args) -> None:
    """The speed figures of the last run's median model, measured again."""
    results = json.loads(args.out.read_text())
    first = next(iter(results["domains"]))
    domain = results["domains"][first]
    model_dir = args.work_dir / f"{first}-default-seed{domain['median']['seed']}"
    print(f"[bench] speed and memory again, on {model_dir}", flush=True)
    trained = ("train_tweets_per_second", "train_peak_rss_mib", "train_vs_plain_keras")
    kept = {k: results["speed"][k] for k in trained if k in results["speed"]}
    results["speed"] = {**speed(model_dir, Path(domain["files"]["test"])), **kept}
    results["speed"].update(serve_load(model_dir))
    train = results.get("scale", {}).get("train")
    results["scale"] = scale_predict(model_dir, args.work_dir)
    results["scale"]["ray"] = ray_vs_plain(model_dir, args.work_dir)
    if train:
        results["scale"]["train"] = train
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"[bench] wrote {args.out}")


def print_table(results: dict) -> None:
    for name, domain in results["domains"].items():
        print(
            f"\nDefault config on {name} test ({domain['files']['test']}), "
            f"early stopping on {domain['files']['val']}"
        )
        print(
            f"{'seed':>6} {'macro_recall':>12} {'accuracy':>9} {'f1_pn':>7} {'macro_f1':>9} "
            f"{'BoW MR':>7} {'RNN-BoW':>8} {'train s':>8}"
        )
        rows = [
            (str(r["seed"]), r["model"], r["baseline"], r["train_wall_seconds"])
            for r in domain["runs"]
        ]
        med = domain["median"]
        rows.append(("median", med["model"], med["baseline"], med["train_wall_seconds"]))
        for label, m, b, seconds in rows:
            print(
                f"{label:>6} {m['macro_recall']:>12.4f} {m['accuracy']:>9.4f} "
                f"{m['f1_pn']:>7.4f} {m['macro_f1']:>9.4f} {b['macro_recall']:>7.4f} "
                f"{m['macro_recall'] - b['macro_recall']:>+8.4f} {seconds:>8.0f}"
            )
        low, high = domain["macro_recall_min_max"]
        print(f"spread of macro_recall over seeds: {low:.4f} to {high:.4f}")
        print(f"probe accuracy (median over seeds): {'category':<18} {'RNN':>6} {'BoW':>6}")
        for category, row in med["probes"].items():
            print(f"{'':>36}{category:<18} {row['model']:>6.3f} {row['baseline']:>6.3f}")
    print_few_labels(results.get("few_labels"))
    for domain, curve in (results.get("own_domains") or {}).items():
        print_few_labels(curve, domain)
    import calibration
    import zero_shot

    if results.get("zero_shot"):
        zero_shot.print_table(results["zero_shot"])
    calibration.print_table(results.get("calibration"))
    import peers

    peers.print_table(results.get("peers"))
    s = results.get("speed")
    if s:  # absent with --skip-speed and no earlier results to carry over
        print(
            f"\nSpeed and memory (each its own process; VADER on the same input):\n"
            f"  cold predict of one tweet: {s['cold_predict_seconds']:.2f}s, "
            f"{s['cold_predict_peak_rss_mib']:.0f} MiB (VADER {s['vader_cold_seconds']:.2f}s, "
            f"{s['vader_cold_peak_rss_mib']:.0f} MiB)\n"
            f"  the {s['file_tweets']}-tweet test file: "
            f"{s['file_tweets_per_second']:.0f} tweets/s, "
            f"{s['file_peak_rss_mib']:.0f} MiB (VADER {s['vader_file_tweets_per_second']:.0f} "
            f"tweets/s)\n"
            f"  serve: {s['serve_requests']} single-tweet requests from {s['serve_clients']} "
            f"clients: {s['serve_requests_per_second']:.0f} requests/s, p50 "
            f"{s['serve_p50_ms']:.1f} ms, p99 {s['serve_p99_ms']:.1f} ms\n"
            f"  training {s['train_tweets_per_second']:.0f} tweets/s, peak RSS "
            f"{s['train_peak_rss_mib']:.0f} MiB; --help {s['help_seconds']:.2f}s"
        )
        if s.get("train_vs_plain_keras"):
            import train_speed

            print("  " + train_speed.summary_line(s["train_vs_plain_keras"]))
    if results.get("scale"):
        print(
            f"\npredict --input, whole process, rows cycled from "
            f"{results['scale']['source_tweets']:,} shared tweets:"
        )
        for n, row in results["scale"]["sizes"].items():
            print(
                f"  {int(n):>9,} rows: {row['seconds']:.1f}s, {row['tweets_per_second']:,.0f} "
                f"tweets/s, peak RSS {row['peak_rss_mib']:.0f} MiB"
            )
        ray = results["scale"].get("ray")
        if ray:
            print(
                f"  --engine ray on the same {ray['rows']:,} rows: {ray['ray_seconds']:.1f}s "
                f"(plain {ray['plain_seconds']:.1f}s: {ray['ray_over_plain']:.2f}x), local Ray "
                f"start-up included"
            )
        for n, row in results["scale"].get("train", {}).get("sizes", {}).items():
            print(
                f"  train, one epoch on {int(n):,} rows: {row['seconds']:.0f}s "
                f"({row['train_tweets_per_second']:,.0f} tweets/s), peak RSS "
                f"{row['peak_rss_mib']:,.0f} MiB"
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


def print_few_labels(curve: dict | None, where: str = "TSE") -> None:
    if not curve:
        return
    print(f"\nFew labels of a new domain ({where} {curve['split']}, medians over seeds)")
    print(f"{'tweets':>7} {'macro_f1':>9} {'BoW':>7} {'accuracy':>9} {'BoW':>7}")
    for line in curve["medians"]:
        m, b = line["model"], line["baseline"]
        print(
            f"{line['size']:>7} {m['macro_f1']:>9.4f} {b['macro_f1']:>7.4f} "
            f"{m['accuracy']:>9.4f} {b['accuracy']:>7.4f}"
        )


if __name__ == "__main__":
    main()
