"""Few labels of a new domain: the model against its bag-of-words baseline, side by side.

The user's real case is a few hundred to a few thousand labelled tweets of a domain the
tool has never seen. Tweet Sentiment Extraction (TSE) plays that domain here, so the
encoder the models start from must not have read it: build one from Sentiment140 and
SemEval-2017 only first,

    python bench/build_encoder.py --domains semeval --out bench/runs/encoders/no_tse

then train on N rows drawn at random (per seed) from TSE's training 90%, for each N and
seed, and score the model and its baseline on one split:

    python bench/few_labels.py NAME [--split val|test] [--sizes 250,500,2000,5000,all]
                               [--seeds 42,43,44] [--encoder DIR] [--set KEY=VALUE ...]
                               [--skew negative=0.63] [--plot FILE.png]
                               [--domain covid_tweets|self_driving_cars|coachella|sanders]
                               [--unlabelled]

``--domain`` runs on an own-domain set of ../shared/data instead of TSE: its models start
from the shipped encoder (which never read it), draw from 80% of its train.csv and hold
the other 20% (seed 0, the copies of a tweet on one side: ``sentiment-cli split``) as the
``val`` split. ``--unlabelled`` gives each run the rest of
the training pool without labels (``train --unlabelled``, self-training).

Each run holds its own validation out of its N rows (``train.validation_split``), as a
user with N labels would; ``--split val`` (TSE's held-out 10%, the default) is for
choosing levers, ``--split test`` for the figures `make bench` reports. ``--skew
LABEL=SHARE`` makes a skewed domain of TSE (as many customer-service sets are: most
tweets negative) by dropping rows of the other labels, from the training pool and the
scored split alike (seed 0), so the label shares match in both. Appends one JSON
line per run to bench/runs/few_labels/results.jsonl and prints it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "bench" / "runs" / "few_labels"
ENCODER = ROOT / "bench" / "runs" / "encoders" / "no_tse"
METRICS = ("macro_recall", "macro_f1", "accuracy")
sys.path.insert(0, str(ROOT / "bench"))


OWN_DOMAINS = ("covid_tweets", "self_driving_cars", "coachella", "sanders")


def own_domain_files(domain: str) -> dict[str, Path]:
    """An own-domain set's train pool (80% of its train.csv), val (the other 20%, seed 0:
    for choosing levers, as a user would hold some labels out) and its official test."""
    source = SHARED / domain
    missing = [str(source / f) for f in ("train.csv", "test.csv") if not (source / f).exists()]
    if missing:
        raise SystemExit(f"few_labels: {', '.join(missing)} not found")
    split_dir = WORK / f"{domain}-split"
    if not (split_dir / "val.csv").exists():
        from sentiment_cli.io.splits import split_file

        split_file(source / "train.csv", split_dir, 0.2, 0)
        (split_dir / "test.csv").rename(split_dir / "val.csv")
    return {"train": split_dir / "train.csv", "val": split_dir / "val.csv",
            "test": source / "test.csv"}  # fmt: skip


ENCODER_SOURCES = (
    "sentiment140_distant/train.csv",
    "semeval2017/train.csv",
    "tweet_sentiment_extraction/train.csv",
)  # what the shipped encoder read (sentiment_cli/encoders/tweets/encoder.json)


def unread(domain: str) -> dict:
    """How many of an own-domain set's tweets (train and test) the shipped encoder's
    training files hold, compared as lowercased text with runs of spaces closed: the
    check that the encoder never read the domain."""
    import pandas as pd

    def texts(path: Path) -> set[str]:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        return set(frame["text"].str.lower().str.split().str.join(" "))

    read = set().union(*(texts(SHARED / source) for source in ENCODER_SOURCES))
    found = {split: texts(SHARED / domain / f"{split}.csv") for split in ("train", "test")}
    return {
        "encoder_read": list(ENCODER_SOURCES),
        **{f"{s}_tweets": len(t) for s, t in found.items()},
        **{f"{s}_tweets_the_encoder_read": len(t & read) for s, t in found.items()},
    }


def domain_files(domain: str) -> dict[str, Path]:
    return tse_files() if domain == "tse" else own_domain_files(domain)


def tse_files() -> dict[str, Path]:
    """TSE's train (90%), val (10%, seed 0) and test CSVs, as `make bench` splits them."""
    from types import SimpleNamespace

    from domains import domain_files  # bench/domains.py, beside this script

    args = SimpleNamespace(
        data_dir=SHARED / "semeval2017", tse_dir=SHARED / "tweet_sentiment_extraction", limit=None
    )
    return domain_files("tse", args, WORK)


def skewed(path: Path, skew: str | None) -> Path:
    """``path`` with rows of the labels other than LABEL dropped (seed 0) until LABEL
    holds SHARE of the rows (``skew`` "LABEL=SHARE"); ``path`` itself without a skew."""
    if not skew:
        return path
    import pandas as pd

    label, share = skew.split("=")
    out = WORK / "skewed" / f"{path.stem}-{label}-{share}.csv"
    if not out.exists():
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        major = frame[frame["label"] == label]
        others = frame[frame["label"] != label]
        keep = round(len(major) * (1 - float(share)) / float(share))
        others = others.sample(n=min(keep, len(others)), random_state=0)
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.concat([major, others]).sample(frac=1, random_state=0).to_csv(out, index=False)
    return out


def drawn(train_csv: Path, size: str, seed: int):
    """(``train_csv`` as a frame, the ``size`` rows drawn from it at random with ``seed``;
    "all": every row)."""
    import pandas as pd

    frame = pd.read_csv(train_csv, dtype=str, keep_default_na=False)
    if size == "all":
        return frame, frame
    return frame, frame.sample(n=min(int(size), len(frame)), random_state=seed)


def sample(train_csv: Path, size: str, seed: int) -> Path:
    """The ``drawn`` rows, as a CSV."""
    out = WORK / "samples" / f"{train_csv.parent.name}-{train_csv.stem}-{size}-s{seed}.csv"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        drawn(train_csv, size, seed)[1].to_csv(out, index=False)
    return out


def rest(train_csv: Path, size: str, seed: int) -> Path | None:
    """The texts of ``train_csv`` that ``sample`` left out, without their labels: the
    user's unlabelled tweets (``train --unlabelled``); None where none is left."""
    out = WORK / "samples" / f"{train_csv.parent.name}-{train_csv.stem}-{size}-s{seed}-rest.csv"
    if not out.exists():
        frame, chosen = drawn(train_csv, size, seed)
        if len(chosen) == len(frame):
            return None
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.drop(chosen.index)[["text"]].to_csv(out, index=False)
    return out


def pick(metrics: dict) -> dict:
    return {k: round(metrics[k], 4) for k in METRICS}


def run(
    name, size: str, seed: int, files: dict, split: str, overrides: list, skew=None,
    unlabelled: bool = False,
) -> dict:  # fmt: skip
    from sentiment_cli.config import load_config
    from sentiment_cli.evaluation.evaluate import score
    from sentiment_cli.training.train import train

    config = load_config(None, [*overrides, f"train.seed={seed}"])
    data = sample(skewed(files["train"], skew), size, seed)
    out = WORK / "models" / f"{name}-{files['train'].parent.name}-{size}-s{seed}"
    started = time.perf_counter()
    more = rest(skewed(files["train"], skew), size, seed) if unlabelled else None
    train(data, out, config, force=True, verbose=0, log=lambda m: None, unlabelled_path=more)
    seconds = time.perf_counter() - started
    other = "test" if split == "val" else "val"  # scored too, so one training serves both
    metrics, also = (score(out, skewed(files[s], skew)).metrics for s in (split, other))
    summary = json.loads((out / "summary.json").read_text())
    return {
        "name": name,
        "size": size,
        "seed": seed,
        "split": split,
        "skew": skew,
        "domain": files["domain"],
        "overrides": overrides,
        "unlabelled": summary.get("self_training"),
        "train_seconds": round(seconds, 1),
        "best_epoch": summary["best_epoch"],
        "blend": (summary.get("blend") or {}).get("baseline_weight"),
        "model": pick(metrics),
        "baseline": pick(metrics["baseline"]),
        other: {"model": pick(also), "baseline": pick(also["baseline"])},
    }


def medians(rows: list[dict]) -> list[dict]:
    """Per size: the median over seeds of every figure, model and baseline."""
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    table = []
    for size in sizes:
        runs = [r for r in rows if r["size"] == size]
        line = {"size": size, "seeds": len(runs)}
        for side in ("model", "baseline"):
            line[side] = {k: round(statistics.median(r[side][k] for r in runs), 4) for k in METRICS}
        table.append(line)
    return table


def curve(
    name: str,
    split: str = "val",
    sizes: str = "250,500,2000,5000,all",
    seeds: str = "42,43,44",
    encoder: Path = ENCODER,
    overrides: list[str] | None = None,
    skew: str | None = None,
    domain: str = "tse",
    unlabelled: bool = False,
) -> dict:
    """Train and score every (size, seed); {"runs": [...], "medians": [...]}. Each run is
    also appended to results.jsonl and printed as it ends. TSE's models start from
    ``encoder`` (one that never read TSE); an own domain's from the shipped encoder, which
    never read any of them (`make bench` checks it: bench/run.py ``unread``)."""
    if domain != "tse":
        encoder = None
    elif not (encoder / "encoder.json").exists():
        raise SystemExit(
            f"few_labels: no encoder at {encoder}; build it with "
            f"python bench/build_encoder.py --domains semeval --out {encoder}"
        )
    files = {**domain_files(domain), "domain": domain}
    chosen = [f"model.encoder={encoder}"] if encoder else []
    overrides = ["train.tune_biases=false", *chosen, *(overrides or [])]
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in sizes.split(","):
        for seed in (int(s) for s in seeds.split(",")):
            row = run(name, size, seed, files, split, overrides, skew, unlabelled)
            rows.append(row)
            with open(WORK / "results.jsonl", "a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    table = medians(rows)
    for line in table:
        print(json.dumps({"median": line}), flush=True)
    return {"name": name, "split": split, "skew": skew, "runs": rows, "medians": table}


def plot(table: list[dict], path: Path, title: str) -> None:
    """Macro-F1 and accuracy against the number of labelled tweets, model and baseline
    (medians over seeds), one panel each."""
    sys.path.insert(0, str(ROOT))
    from sentiment_cli.plots import pyplot, save

    plt = pyplot()
    sizes = [line["size"] for line in table]
    x = range(len(sizes))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("macro_f1", "accuracy"), strict=True):
        for side, label in (("model", "RNN (sentiment-cli)"), ("baseline", "bag-of-words")):
            ax.plot(x, [line[side][metric] for line in table], marker="o", label=label)
        ax.set_xticks(list(x), sizes)
        ax.set_xlabel("labelled tweets of the new domain")
        ax.set_ylabel(metric.replace("_", "-"))
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(title)
    save(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--split", choices=["val", "test"], default="val")
    parser.add_argument("--sizes", default="250,500,2000,5000,all")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--encoder", type=Path, default=ENCODER)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--skew", default=None, metavar="LABEL=SHARE")
    parser.add_argument("--domain", default="tse", choices=["tse", *OWN_DOMAINS])
    parser.add_argument(
        "--unlabelled", action="store_true", help="the rest of the training pool, unlabelled"
    )
    parser.add_argument("--plot", type=Path, default=None, help="PNG of the medians")
    args = parser.parse_args()
    result = curve(
        args.name, args.split, args.sizes, args.seeds, args.encoder, args.overrides, args.skew,
        args.domain, args.unlabelled,
    )  # fmt: skip
    if args.plot:
        title = f"Few labels of a new domain ({args.domain} {args.split})"
        plot(result["medians"], args.plot, title)


if __name__ == "__main__":
    main()
