"""What can a choice of a few hundred tweets to label buy? The labelling loop's ceiling.

A selection of tweets to label can beat random ones in two ways: by the mix of classes it
gathers (more of a rare class), or by which tweets of each class it gathers. This bench
measures both, most arms with the answers known in advance: for each own-domain set,
size and seed, N rows of the set's training pool (``few_labels.py``'s 80% of its
train.csv) drawn

- ``random``: at random (``few_labels.sample``, the rows the random arm of
  ``bench/labelling.py`` uses);
- ``sqrt``: class by class, each class's share the square root of its share in the pool,
  renormalized (self-driving cars: 61 / 28 / 11% neutral / positive / negative become
  47 / 32 / 21%); ``sqrt-unweighted``: the same rows trained without the default's
  square-root class weights, so that each class weighs in training as in a random draw;
- ``equal``: an equal share of each class;
- ``unsure``: the pool's own shares class by class, drawn within each class with a
  chance that grows with how unsure the built-in model is of the tweet (1 minus its top
  probability): the second way, harder tweets with the mix held;
- ``mistaken``: half the rows drawn from those the built-in model gets wrong, half at
  random from the rest;
- ``typical``: no answers read: the most typical row of each of N k-means clusters of
  the built-in model's readout, largest cluster first (TypiClust, Hacohen et al. 2022);

then trains the default config on each and scores it on the set's ``val`` split (the 20%
no run trains on) and on its test split. No selection that reads only tweets can know the
classes this well, so where ``sqrt`` and ``equal`` do not beat ``random``, no choice of
mix will; nor, where ``unsure`` and ``mistaken`` do not, a choice of harder tweets.

    python bench/label_mix.py [--sizes 100,300,600] [--seeds 42,43,44]
                              [--domains self_driving_cars,coachella,sanders]
                              [--mixes random,sqrt,equal,unsure,...]
    python bench/label_mix.py --summary [--loop FILE.json ...]

Prints one JSON line per run and the medians, and appends the runs to
``bench/runs/few_labels/label_mix.jsonl``. ``--summary`` trains nothing: for each set and
size it sets each selection's mean macro-F1 against random's over all of random's seeds
(run ``--mixes random --seeds 45,...,50`` for more), with the standard error of the
difference and how far apart two arms of 3 random seeds land; ``--loop`` adds the
loop's arm of a ``bench/labelling.py --out FILE.json`` run.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from few_labels import WORK, own_domain_files, sample  # noqa: E402

MIXES = ("random", "sqrt", "equal", "unsure", "typical", "sqrt-unweighted", "mistaken")
SHARE_POWER = {"sqrt": 0.5, "equal": 0.0, "unsure": 1.0}  # of each class's pool share
# A mix trained with other settings than the default config's: ``sqrt-unweighted`` is the
# sqrt mix without the default's sqrt class weights, so that the classes weigh in
# training as a random draw's do (a share of sqrt(pool share) each), only with more
# tweets of the rare ones.
SETTINGS = {"sqrt-unweighted": ("sqrt", ["train.class_weight=none"])}


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


@functools.cache
def pool_features(train_csv: Path):
    """(pool, features, signatures, guesses) of ``train_csv``'s rows: the vector the
    built-in model's classifier reads (L2-normalized), each row's near-duplicate
    signature, and the built-in model's label for it."""
    import numpy as np

    from sentiment_cli.labelling.pool import first_model, read_pool

    pool = read_pool(train_csv, "text", "label")
    model = first_model(["negative", "neutral", "positive"], print)
    probs, features = pool.scored(model)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    guesses = [model.labels[i] for i in probs.argmax(axis=1)]
    return pool, features / np.maximum(norms, 1e-12), pool.signatures(), guesses


def mistaken(train_csv: Path, size: int, seed: int) -> list[int]:
    """Half the rows drawn from those the built-in model gets wrong (its guess is not
    the row's label, read in advance), the other half at random from the rest."""
    import numpy as np

    pool, _, _, guesses = pool_features(train_csv)
    wrong = np.array([g != label for g, label in zip(guesses, pool.labels, strict=True)])
    rng = np.random.default_rng(seed)
    half = min(size // 2, int(wrong.sum()))
    rows = rng.choice(np.flatnonzero(wrong), half, replace=False)
    rest = rng.choice(np.flatnonzero(~wrong), size - half, replace=False)
    return [int(r) for r in rng.permutation(np.concatenate([rows, rest]))]


def typical(train_csv: Path, size: int, seed: int) -> list[int]:
    """TypiClust (Hacohen et al. 2022): k-means of the pool into ``size`` clusters; from
    each, largest first, its most typical row (highest inverse mean distance to its 20
    nearest neighbours in the cluster), near-duplicates of rows taken passed over."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.neighbors import NearestNeighbors

    from sentiment_cli.labelling.choose import near

    _, x, signatures, _ = pool_features(train_csv)
    assign = KMeans(n_clusters=size, n_init=1, random_state=seed).fit_predict(x)
    chosen: list[int] = []
    for cluster in np.argsort(-np.bincount(assign, minlength=size), kind="stable"):
        members = np.flatnonzero(assign == cluster)
        k = min(20, len(members) - 1)
        if k > 0:
            dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(x[members]).kneighbors(x[members])
            members = members[np.argsort(dist[:, 1:].mean(axis=1), kind="stable")]
        for row in members:
            if not any(near(signatures[row], signatures[c]) for c in chosen):
                chosen.append(int(row))
                break
    return chosen


def drawn(train_csv: Path, mix: str, size: int, seed: int) -> Path:
    """The rows of ``train_csv`` that ``mix`` draws, as a CSV."""
    if mix == "random":
        return sample(train_csv, str(size), seed)
    if mix in ("typical", "mistaken"):
        from sentiment_cli.labelling.pool import write_rows

        pool = pool_features(train_csv)[0]
        rows = (typical if mix == "typical" else mistaken)(train_csv, size, seed)
        out = WORK / "label_mix" / f"{train_csv.parent.name}-{mix}-{size}-s{seed}.csv"
        return write_rows(out, pool, rows, [pool.labels[r] for r in rows])
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
    drawn_as, overrides = SETTINGS.get(mix, (mix, []))
    data = drawn(files["train"], drawn_as, size, seed)
    out = WORK / "label_mix" / "models" / f"{domain}-{mix}-{size}-s{seed}"
    config = load_config(None, [f"train.seed={seed}", *overrides])
    train(data, out, config, force=True, verbose=0, log=lambda m: None)
    row = {"domain": domain, "mix": mix, "size": size, "seed": seed}
    for split in ("val", "test"):
        metrics = score(out, files[split]).metrics
        row[split] = {k: round(metrics[k], 4) for k in ("macro_f1", "accuracy")}
    return row


def loop_rows(path: Path) -> list[dict]:
    """The loop's arm of a ``bench/labelling.py --out FILE.json`` run, as rows of this
    bench (mix ``loop``, scored on that run's split only)."""
    payload = json.loads(path.read_text())
    split = payload.get("split", "test")
    return [
        {"domain": run["domain"], "mix": "loop", "size": int(n), "seed": run["seed"],
         split: cell["loop"]}
        for run in payload["runs"] for n, cell in run["sizes"].items()
    ]  # fmt: skip


def null_range(values: list[float]) -> tuple[float, float]:
    """The 5th and 95th percentiles of the median of 3 of ``values`` minus the median
    of 3 others, over every two disjoint triples: how far apart two arms of 3 seeds
    of the same selection land."""
    seeds = range(len(values))
    gaps = sorted(
        statistics.median(values[i] for i in a) - statistics.median(values[j] for j in b)
        for a in itertools.combinations(seeds, 3)
        for b in itertools.combinations([j for j in seeds if j not in a], 3)
    )
    return gaps[int(0.05 * len(gaps))], gaps[int(0.95 * len(gaps))]


def summary(rows: list[dict], split: str) -> None:
    """Each selection's mean macro-F1 on ``split`` minus random's mean over all its
    seeds, with the standard error of that difference; the last run of a (domain, mix,
    size, seed) counts."""
    last = {(r["domain"], r["mix"], r["size"], r["seed"]): r for r in rows if split in r}
    cells: dict = {}
    for (domain, mix, size, _), r in last.items():
        cells.setdefault((domain, size), {}).setdefault(mix, []).append(100 * r[split]["macro_f1"])
    print(f"\n{split} macro-F1: random's mean and sd over its seeds; each selection's mean "
          f"minus random's, ± its standard error [seeds]")  # fmt: skip
    for (domain, size), arms in sorted(cells.items()):
        base = arms.get("random", [])
        if len(base) < 2:
            continue
        low, high = null_range(base) if len(base) >= 6 else (float("nan"),) * 2
        line = (f"{domain:<18}{size:>5}  random {statistics.mean(base):.1f} "
                f"sd {statistics.stdev(base):.1f} [{len(base)}], 3 against 3: "
                f"{low:+.1f}..{high:+.1f}")  # fmt: skip
        for mix, values in sorted(arms.items()):
            if mix == "random" or len(values) < 2:
                continue
            gap = statistics.mean(values) - statistics.mean(base)
            se = (statistics.variance(values) / len(values)
                  + statistics.variance(base) / len(base)) ** 0.5  # fmt: skip
            line += f" | {mix} {gap:+.1f}±{se:.1f} [{len(values)}]"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,600")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--domains", default="self_driving_cars,coachella,sanders")
    parser.add_argument("--mixes", default=",".join(MIXES))
    parser.add_argument(
        "--summary", action="store_true",
        help="train nothing: each selection in label_mix.jsonl against random's seeds",
    )  # fmt: skip
    parser.add_argument(
        "--loop", type=Path, action="append", default=[], metavar="FILE.json",
        help="with --summary: the loop's arm of a bench/labelling.py --out FILE.json",
    )  # fmt: skip
    args = parser.parse_args()
    if args.summary:
        rows = [json.loads(line) for line in open(WORK / "label_mix.jsonl")]
        rows += [row for path in args.loop for row in loop_rows(path)]
        for split in ("val", "test"):
            summary(rows, split)
        return
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
