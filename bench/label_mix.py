"""Does the class mix of a few hundred labels matter? The labelling loop's ceiling.

A selection of tweets to label can beat random ones in two ways: by the mix of classes it
gathers (more of a rare class), or by which tweets of each class it gathers. This bench
measures both with the answers known in advance: for each skewed own-domain set,
size and seed, N rows of the set's training pool (``few_labels.py``'s 80% of its
train.csv) drawn

- ``random``: at random (``few_labels.sample``, the rows the random arm of
  ``bench/labelling.py`` uses);
- ``sqrt``: class by class, each class's share the square root of its share in the pool,
  renormalized (self-driving cars: 61 / 28 / 11% neutral / positive / negative become
  47 / 32 / 21%);
- ``equal``: an equal share of each class;
- ``unsure``: the pool's own shares class by class, drawn within each class with a
  chance that grows with how unsure the built-in model is of the tweet (1 minus its top
  probability): the second way, harder tweets with the mix held;

then trains the default config on each and scores it on the set's ``val`` split (the 20%
no run trains on) and on its test split. No selection that reads only tweets can know the
classes this well, so where ``sqrt`` and ``equal`` do not beat ``random``, no choice of
mix will; nor, where ``unsure`` does not, a choice of harder tweets of the same mix.

    python bench/label_mix.py [--sizes 100,300,600] [--seeds 42,43,44]
                              [--domains self_driving_cars,coachella,sanders]
                              [--mixes random,sqrt,equal,unsure]

Prints one JSON line per run and the medians, and appends the runs to
``bench/runs/few_labels/label_mix.jsonl``.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from few_labels import WORK, own_domain_files, sample  # noqa: E402

MIXES = ("random", "sqrt", "equal", "unsure")
SHARE_POWER = {"sqrt": 0.5, "equal": 0.0, "unsure": 1.0}  # of each class's pool share


@functools.cache
def unsure_weights(train_csv: Path):
    """1 minus the built-in model's top probability, for each row of ``train_csv``: how
    unsure a model that never saw the domain is of it. Scored once per pool, for every
    size and seed."""
    import pandas as pd

    from sentiment_cli import load_model

    pool = pd.read_csv(train_csv, dtype=str, keep_default_na=False)
    frame = load_model().predict(pool["text"].tolist())
    top = frame[[c for c in frame.columns if c.startswith("p_")]].max(axis=1)
    return pd.Series(1.0 - top.to_numpy() + 1e-6, index=pool.index)


def drawn(train_csv: Path, mix: str, size: int, seed: int) -> Path:
    """The rows of ``train_csv`` that ``mix`` draws, as a CSV."""
    if mix == "random":
        return sample(train_csv, str(size), seed)
    import pandas as pd

    pool = pd.read_csv(train_csv, dtype=str, keep_default_na=False)
    shares = pool["label"].value_counts(normalize=True) ** SHARE_POWER[mix]
    quotas = (shares / shares.sum() * size).round().astype(int)
    weights = unsure_weights(train_csv) if mix == "unsure" else None
    parts = [
        pool[pool["label"] == label].sample(
            n=min(quota, int((pool["label"] == label).sum())),
            weights=None if weights is None else weights[pool["label"] == label],
            random_state=seed,
        )
        for label, quota in quotas.items()
    ]
    out = WORK / "label_mix" / f"{train_csv.parent.name}-{mix}-{size}-s{seed}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(parts).sample(frac=1, random_state=seed).to_csv(out, index=False)
    return out


def run(domain: str, mix: str, size: int, seed: int) -> dict:
    from sentiment_cli.config import load_config
    from sentiment_cli.evaluation.evaluate import score
    from sentiment_cli.training.train import train

    files = own_domain_files(domain)
    data = drawn(files["train"], mix, size, seed)
    out = WORK / "label_mix" / "models" / f"{domain}-{mix}-{size}-s{seed}"
    train(data, out, load_config(None, [f"train.seed={seed}"]), force=True, verbose=0,
          log=lambda m: None)  # fmt: skip
    row = {"domain": domain, "mix": mix, "size": size, "seed": seed}
    for split in ("val", "test"):
        metrics = score(out, files[split]).metrics
        row[split] = {k: round(metrics[k], 4) for k in ("macro_f1", "accuracy")}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,600")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--domains", default="self_driving_cars,coachella,sanders")
    parser.add_argument("--mixes", default=",".join(MIXES))
    args = parser.parse_args()
    mixes = args.mixes.split(",")
    rows = []
    for domain in args.domains.split(","):
        for size in map(int, args.sizes.split(",")):
            for seed in map(int, args.seeds.split(",")):
                for mix in mixes:
                    rows.append(run(domain, mix, size, seed))
                    print(json.dumps(rows[-1]), flush=True)
                    with open(WORK / "label_mix.jsonl", "a") as handle:
                        handle.write(json.dumps(rows[-1]) + "\n")
    print("\nmacro-F1 / accuracy, medians (val | test)")
    for domain in dict.fromkeys(r["domain"] for r in rows):
        for size in dict.fromkeys(r["size"] for r in rows):
            cells = []
            for mix in mixes:
                key = (domain, size, mix)
                runs = [r for r in rows if (r["domain"], r["size"], r["mix"]) == key]
                mid = {
                    s: [statistics.median(r[s][k] for r in runs) for k in ("macro_f1", "accuracy")]
                    for s in ("val", "test")
                }  # fmt: skip
                cells.append(f"{mix} {mid['val'][0]:.3f}/{mid['val'][1]:.3f} | "
                             f"{mid['test'][0]:.3f}/{mid['test'][1]:.3f}")  # fmt: skip
            print(f"{domain:<18}{size:>5}  " + "   ".join(cells))


if __name__ == "__main__":
    main()
