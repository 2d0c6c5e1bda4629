"""Peers on one chart: where each tool stands on accuracy, training time and speed.

On SemEval-2017 and Tweet Sentiment Extraction, same machine, same run, same splits
(train, val, test):

- **VADER**: no training; compound >= 0.05 positive, <= -0.05 negative, neutral between
  (its authors' thresholds).
- **fastText** (supervised, the ``fasttext-numpy2`` wheel of Facebook's library): its own
  autotune on the validation split for ``--fasttext-seconds`` (the training time counts
  the search and the final fit), on the tweets as ``fasttext.tokenize`` reads them,
  lowercased.
- **TF-IDF + logistic regression**: the tool's own bag-of-words baseline (word 1-2-grams,
  balanced class weights), fitted on the training split.
- **sentiment-cli**: ``train`` with the default config (``make bench`` passes the folder
  of its median-seed run; alone, this script trains one with seed 42).

Test macro recall (the SemEval-2017 measure), training seconds, and prediction
throughput: tweets/s over the test split inside one process, model loaded (for ours and
VADER, also the whole process from the command line, in ``bench/run.py``'s speed
section). One plot: macro recall against training seconds (log), the marker's size
growing with throughput.

    python bench/peers.py [--domains semeval,tse] [--fasttext-seconds 120] [--plot PNG]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DOMAINS = {"semeval": SHARED / "semeval2017", "tse": SHARED / "tweet_sentiment_extraction"}
PLOT = ROOT / "docs" / "peers.png"
TOOLS = ("VADER", "fastText", "TF-IDF + LR", "sentiment-cli")


def read(path: Path) -> tuple[list[str], list[str]]:
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame["text"].tolist(), frame["label"].tolist()


def macro_recall(gold: list[str], predicted: list[str]) -> float:
    from sklearn.metrics import recall_score

    return round(float(recall_score(gold, predicted, average="macro", zero_division=0)), 4)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def row(tool: str, gold, predicted, train_seconds: float, predict_seconds: float) -> dict:
    return {
        "tool": tool,
        "macro_recall": macro_recall(gold, predicted),
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold), 4),
        "train_seconds": round(train_seconds, 1),
        "tweets_per_second": round(len(gold) / max(predict_seconds, 1e-9), 1),
    }


def vader(test) -> dict:
    from zero_shot import vader_labels  # bench/zero_shot.py, beside this script

    predicted, seconds = timed(vader_labels, test[0])
    return row("VADER", test[1], predicted, 0.0, seconds)


def fasttext_line(text: str) -> str:
    import fasttext

    return " ".join(fasttext.tokenize(re.sub(r"\s+", " ", text.lower())))


def fasttext_peer(train, val, test, seconds: int, work: Path) -> dict:
    import fasttext

    def write(split, name):
        path = work / name
        lines = (f"__label__{y} {fasttext_line(x)}" for x, y in zip(*split, strict=True))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    started = time.perf_counter()
    train_file, val_file = write(train, "train.txt"), write(val, "val.txt")
    model = fasttext.train_supervised(
        input=train_file, autotuneValidationFile=val_file, autotuneDuration=seconds, verbose=0
    )
    train_seconds = time.perf_counter() - started

    def predict(texts):
        labels, _ = model.predict([fasttext_line(t) for t in texts])
        return [label[0].removeprefix("__label__") for label in labels]

    predicted, predict_seconds = timed(predict, test[0])
    return row("fastText", test[1], predicted, train_seconds, predict_seconds)


def bag_of_words(train, test) -> dict:
    """The tool's baseline as ``train`` fits it: tokenized, balanced; timed with tokenizing."""
    from sentiment_cli.config import load_config
    from sentiment_cli.models.baseline import Baseline
    from sentiment_cli.text.tokenizer import tokenize_all

    text = load_config(None).text

    def fit(texts, labels):
        return Baseline.fit(tokenize_all(texts, text), labels, "balanced", seed=42)

    def predict(texts):
        probs = model.predict_proba(tokenize_all(texts, text))
        return [model.labels[i] for i in probs.argmax(axis=1)]

    model, train_seconds = timed(fit, *train)
    predicted, seconds = timed(predict, test[0])
    return row("TF-IDF + LR", test[1], predicted, train_seconds, seconds)


def ours(model_dir: Path, test) -> dict:
    """A trained folder: its whole ``train`` wall time; NumPy prediction, folder loaded."""
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.runtime.predict import predict_proba

    summary = json.loads((model_dir / "summary.json").read_text())
    model = read_model_dir(model_dir)

    def predict(texts):
        return [model.labels[i] for i in predict_proba(model, texts).argmax(axis=1)]

    predicted, seconds = timed(predict, test[0])
    return row("sentiment-cli", test[1], predicted, summary["wall_seconds"], seconds)


def train_ours(files: dict, out: Path, seed: int = 42) -> Path:
    command = [sys.executable, "-m", "sentiment_cli", "train", str(files["train"]), "-o"]
    command += [str(out), "--val-data", str(files["val"]), "--force", "-q"]
    command += ["--set", f"train.seed={seed}"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out


def domain(name: str, files: dict, model_dir: Path | None, seconds: int, work: Path) -> list[dict]:
    """Every tool on one domain's ``files`` (train / val / test CSVs, as `make bench`
    splits them); ours from ``model_dir``, or trained here when None."""
    train, val, test = (read(files[s]) for s in ("train", "val", "test"))
    if model_dir is None:
        model_dir = train_ours(files, work / f"{name}-ours")
    rows = [
        vader(test),
        fasttext_peer(train, val, test, seconds, work),
        bag_of_words(train, test),
        ours(model_dir, test),
    ]
    for line in rows:
        print(f"[peers] {name}: {json.dumps(line)}", flush=True)
    return rows


def run(domains: dict[str, tuple[dict, Path | None]], fasttext_seconds: int = 120, plot_path=PLOT):
    """{"domains": {name: [row per tool]}, "plot": path}; ``domains`` gives each
    domain's files and trained folder of ours (None: train one here)."""
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            name: domain(name, files, model_dir, fasttext_seconds, Path(tmp))
            for name, (files, model_dir) in domains.items()
        }
    plot(results, plot_path)
    return {
        "fasttext_autotune_seconds": fasttext_seconds,
        "domains": results,
        "plot": str(plot_path.relative_to(ROOT)),
    }


def plot(results: dict, path: Path) -> None:
    """Test macro recall against training seconds, one panel per domain; the marker's
    area grows with prediction throughput (tweets/s)."""
    sys.path.insert(0, str(ROOT))
    from sentiment_cli.plots import pyplot, save

    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, (name, rows) in zip(axes[0], results.items(), strict=True):
        for line in rows:
            x = max(line["train_seconds"], 0.1)  # VADER trains in no time: drawn at 0.1 s
            fastest = max(r["tweets_per_second"] for r in rows)
            size = 20 + 200 * line["tweets_per_second"] / fastest
            ax.scatter([x], [line["macro_recall"]], s=size, label=line["tool"], alpha=0.8)
            ax.annotate(
                f"{line['tool']}\n{line['tweets_per_second']:,.0f} tweets/s",
                (x, line["macro_recall"]),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
            )
        ax.set_xscale("log")
        ax.set_xlim(0.05, 8 * max(max(r["train_seconds"] for r in rows), 1))  # room for names
        ax.set_xlabel("training seconds (log; VADER: none, drawn at 0.1)")
        ax.set_ylabel("test macro recall")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    fig.suptitle("Peers, same machine and run: accuracy against training time and throughput")
    save(fig, path)


def print_table(section: dict | None) -> None:
    if not section:
        return
    print(
        f"\nPeers (test macro recall, training seconds, tweets/s in one process; fastText "
        f"autotuned {section['fasttext_autotune_seconds']}s on val):"
    )
    for name, rows in section["domains"].items():
        for line in rows:
            print(
                f"  {name:<8} {line['tool']:<14} {line['macro_recall']:.4f}  "
                f"{line['train_seconds']:>7.1f}s  {line['tweets_per_second']:>9,.0f} tweets/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default="semeval,tse")
    parser.add_argument("--fasttext-seconds", type=int, default=120)
    parser.add_argument("--model-dir", action="append", default=[], metavar="DOMAIN=DIR")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    given = dict(item.split("=", 1) for item in args.model_dir)
    from types import SimpleNamespace

    from domains import domain_files  # bench/domains.py: TSE's val is 10% of its train

    where = SimpleNamespace(data_dir=DOMAINS["semeval"], tse_dir=DOMAINS["tse"], limit=None)
    work = ROOT / "bench" / "runs"
    dirs = {
        name: (domain_files(name, where, work), Path(given[name]) if name in given else None)
        for name in args.domains.split(",")
    }
    result = run(dirs, args.fasttext_seconds, args.plot.resolve())
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
