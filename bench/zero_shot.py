"""The built-in model out of the box, against VADER, on every shared test split.

No training: the model shipped in the package (``bench/build_builtin.py``; it read the
training splits of SemEval-2017 and Tweet Sentiment Extraction, so those two rows are
its own domains, not zero-shot) and VADER (compound ≥ 0.05 positive, ≤ −0.05 negative,
neutral between: its authors' thresholds) score each test split; accuracy, macro-F1
and macro recall side by side, and the built-in model's calibration (ECE) on each,
which shows what a shift of domain does to its probabilities.

    python bench/zero_shot.py [--out FILE.json] [--model-dir DIR]
                              [--split test|train]

``--split train`` scores the training splits of the four domains the built-in model never
read instead: that is where a change to the built-in model is chosen, so that the test
splits stay for reporting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
CLI = [sys.executable, "-m", "sentiment_cli"]
DOMAINS = {  # each a folder of ../shared/data with train.csv and test.csv
    "semeval": "semeval2017",
    "tse": "tweet_sentiment_extraction",
    "covid_tweets": "covid_tweets",
    "self_driving_cars": "self_driving_cars",
    "coachella": "coachella",
    "sanders": "sanders",
}
SEEN = {"semeval", "tse"}  # the built-in model read these domains' training splits
KEYS = ("accuracy", "macro_f1", "macro_recall")


def vader_labels(texts: list[str]) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    labels = []
    for text in texts:
        compound = analyzer.polarity_scores(text)["compound"]
        labels.append(
            "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        )
    return labels


def score(name: str, path: Path, model_dir: Path | None = None) -> dict:
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.metrics import classification_metrics

    chosen = [] if model_dir is None else ["--model-dir", str(model_dir)]
    result = subprocess.run(
        [*CLI, "evaluate", *chosen, str(path), "-f", "json", "--min-confidence", "0.8"],
        check=True,
        capture_output=True,
        text=True,
    )
    model = json.loads(result.stdout)
    data = read_labelled(path, "text", "label")
    labels = ["negative", "neutral", "positive"]
    vader = classification_metrics(data.labels, vader_labels(data.texts), labels)
    return {
        "domain": name,
        "zero_shot": name not in SEEN,
        "n": model["n"],
        "builtin": {**{k: model[k] for k in KEYS}, "ece": model["ece"]},
        "builtin_min_confidence_0.8": model["abstention"],
        "vader": {k: vader[k] for k in KEYS},
    }


def run(model_dir: Path | None = None, split: str = "test") -> list[dict]:
    rows = []
    for name, folder in DOMAINS.items():
        if split == "train" and name in SEEN:
            continue  # the built-in model trained on it
        path = SHARED / folder / f"{split}.csv"
        if not path.exists():
            print(f"[bench] zero-shot: {path} not found, skipped", flush=True)
            continue
        rows.append(score(name, path, model_dir))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def print_table(rows: list[dict], split: str = "test") -> None:
    print(f"\nBuilt-in model against VADER on each {split} split (no training on the domain)")
    print(f"{'domain':<20}{'seen':>6}{'acc':>8}{'VADER':>8}{'F1':>8}{'VADER':>8}{'ECE':>8}")
    for row in rows:
        b, v = row["builtin"], row["vader"]
        print(
            f"{row['domain']:<20}{'no' if row['zero_shot'] else 'yes':>6}"
            f"{b['accuracy']:>8.3f}{v['accuracy']:>8.3f}{b['macro_f1']:>8.3f}{v['macro_f1']:>8.3f}"
            f"{b['ece']:>8.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="bench/runs/zero_shot[_train].json")
    parser.add_argument("--model-dir", type=Path, default=None, help="instead of the built-in")
    parser.add_argument("--split", choices=["test", "train"], default="test")
    args = parser.parse_args()
    rows = run(args.model_dir, args.split)
    suffix = "" if args.split == "test" else f"_{args.split}"
    args.out = args.out or ROOT / "bench" / "runs" / f"zero_shot{suffix}.json"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print_table(rows, args.split)


if __name__ == "__main__":
    main()
