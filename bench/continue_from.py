"""What `train --from` costs and gains, on the own-domain sets of ../shared/data.

Two cases, each with seeds 42 / 43 / 44, rows drawn at random from a set's training
pool (80% of its train.csv, as `few_labels.py` splits it), scored on its test.csv:

- **Labels arrive over time** (each of the four sets). A model is trained on the first
  FIRST rows. Then FIRST more arrive, and the user trains on all of them, either
  continuing the first model (`--from`) or from the start. Is continuing as good, and
  is it faster?
- **A new topic** (PAIRS). A model is trained on OLD rows of one set, then continued on
  NEW rows of another set only. What does continuing cost on the old set's test
  (forgetting), and what does it gain on the new set's, against the old model, a model
  of the new rows alone, and one trained from the start on both?

    python bench/continue_from.py [--first 250] [--old 1000] [--new 500]
                                  [--seeds 42,43,44] [--out bench/continue_from.json]

Prints the median tables and writes every run and the medians to --out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from few_labels import OWN_DOMAINS, WORK, own_domain_files  # noqa: E402

PAIRS = (("covid_tweets", "sanders"), ("sanders", "self_driving_cars"))
RUNS = WORK / "continue_from"


def rows(domain: str, sizes: list[int], seed: int) -> list[Path]:
    """Disjoint random draws of ``sizes`` rows from ``domain``'s training pool, each
    written as a CSV (cumulative: the second holds the first's rows too)."""
    import pandas as pd

    frame = pd.read_csv(own_domain_files(domain)["train"], dtype=str, keep_default_na=False)
    frame = frame.sample(frac=1.0, random_state=seed)
    paths, end = [], 0
    for i, size in enumerate(sizes):
        end += size
        path = RUNS / "data" / f"{domain}-{'-'.join(map(str, sizes))}-s{seed}-{i}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.iloc[:end].to_csv(path, index=False)
        paths.append(path)
    return paths


def new_only(domain: str, new: int, seed: int) -> Path:
    """``new`` rows of ``domain``'s training pool, drawn at random."""
    import pandas as pd

    frame = pd.read_csv(own_domain_files(domain)["train"], dtype=str, keep_default_na=False)
    path = RUNS / "data" / f"{domain}-new{new}-s{seed}.csv"
    frame.sample(frac=1.0, random_state=seed + 1000).iloc[:new].to_csv(path, index=False)
    return path


def joined(a: Path, b: Path, name: str) -> Path:
    import pandas as pd

    path = RUNS / "data" / name
    pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in (a, b)]).to_csv(
        path, index=False
    )
    return path


def fit(name: str, data: Path, seed: int, start_from: Path | None = None) -> tuple[Path, float]:
    from sentiment_cli.config import load_config
    from sentiment_cli.training.continued import continued_config, read_origin
    from sentiment_cli.training.train import train

    seeded = [f"train.seed={seed}"]
    if start_from is None:
        config = load_config(None, seeded)
    else:
        config = continued_config(read_origin(start_from), seeded)
    out = RUNS / "models" / f"{name}-s{seed}"
    started = time.perf_counter()
    train(data, out, config, force=True, verbose=0, log=lambda m: None, start_from=start_from)
    return out, round(time.perf_counter() - started, 1)


def scored(model: Path, domain: str) -> dict:
    from sentiment_cli.evaluation.evaluate import score

    metrics = score(model, own_domain_files(domain)["test"]).metrics
    return {k: round(metrics[k], 4) for k in ("macro_f1", "accuracy")}


def over_time(domain: str, first: int, seed: int) -> dict:
    part, both = rows(domain, [first, first], seed)
    a, a_s = fit(f"{domain}-first{first}", part, seed)
    b, b_s = fit(f"{domain}-continued{2 * first}", both, seed, start_from=a)
    c, c_s = fit(f"{domain}-fresh{2 * first}", both, seed)
    return {
        "case": "over_time", "domain": domain, "seed": seed, "first": first,
        "first_model": {**scored(a, domain), "seconds": a_s},
        "continued": {**scored(b, domain), "seconds": b_s},
        "from_the_start": {**scored(c, domain), "seconds": c_s},
    }  # fmt: skip


def new_topic(old_domain: str, new_domain: str, old: int, new: int, seed: int) -> dict:
    (old_rows,) = rows(old_domain, [old], seed)
    new_rows = new_only(new_domain, new, seed)
    both = joined(old_rows, new_rows, f"{old_domain}+{new_domain}-s{seed}.csv")
    models = {
        "old_model": fit(f"{old_domain}-old{old}", old_rows, seed),
        "new_rows_only": fit(f"{new_domain}-new{new}", new_rows, seed),
    }
    models["continued"] = fit(
        f"{old_domain}-then-{new_domain}", new_rows, seed, start_from=models["old_model"][0]
    )
    models["from_the_start_on_both"] = fit(f"{old_domain}+{new_domain}", both, seed)
    return {
        "case": "new_topic", "old": old_domain, "new": new_domain, "seed": seed,
        **{
            name: {"old_test": scored(path, old_domain), "new_test": scored(path, new_domain),
                   "seconds": seconds}
            for name, (path, seconds) in models.items()
        },
    }  # fmt: skip


def median(runs: list[dict], *path: str) -> float:
    values = []
    for run in runs:
        value = run
        for key in path:
            value = value[key]
        values.append(value)
    return round(statistics.median(values), 4)


def tables(runs: list[dict]) -> dict:
    out: dict = {"over_time": {}, "new_topic": {}}
    for domain in OWN_DOMAINS:
        mine = [r for r in runs if r["case"] == "over_time" and r["domain"] == domain]
        if mine:
            out["over_time"][domain] = {
                name: {k: median(mine, name, k) for k in ("macro_f1", "accuracy", "seconds")}
                for name in ("first_model", "continued", "from_the_start")
            }
    for old, new in PAIRS:
        mine = [r for r in runs if r["case"] == "new_topic" and (r["old"], r["new"]) == (old, new)]
        if mine:
            out["new_topic"][f"{old} -> {new}"] = {
                name: {
                    **{
                        f"{side}_{k}": median(mine, name, f"{side}_test", k)
                        for side in ("old", "new")
                        for k in ("macro_f1", "accuracy")
                    },
                    "seconds": median(mine, name, "seconds"),
                }
                for name in ("old_model", "new_rows_only", "continued", "from_the_start_on_both")
            }
    return out


def show(medians: dict) -> None:
    print("\nLabels arrive over time (test macro-F1 / accuracy, seconds; medians of seeds)")
    for domain, row in medians["over_time"].items():
        cells = "  ".join(
            f"{name} {v['macro_f1']:.3f}/{v['accuracy']:.3f} {v['seconds']:.0f}s"
            for name, v in row.items()
        )
        print(f"  {domain:<18} {cells}")
    print("\nA new topic (old set's test | new set's test, macro-F1 / accuracy)")
    for pair, row in medians["new_topic"].items():
        print(f"  {pair}")
        for name, v in row.items():
            print(
                f"    {name:<24} {v['old_macro_f1']:.3f}/{v['old_accuracy']:.3f} | "
                f"{v['new_macro_f1']:.3f}/{v['new_accuracy']:.3f}  {v['seconds']:.0f}s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=250)
    parser.add_argument("--old", type=int, default=1000)
    parser.add_argument("--new", type=int, default=500)
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--cases", default="over_time,new_topic")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "continue_from.json")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    runs = []
    for seed in seeds:
        if "over_time" in args.cases:
            for domain in OWN_DOMAINS:
                runs.append(over_time(domain, args.first, seed))
                print(json.dumps(runs[-1]), flush=True)
        if "new_topic" in args.cases:
            for old, new in PAIRS:
                runs.append(new_topic(old, new, args.old, args.new, seed))
                print(json.dumps(runs[-1]), flush=True)
    medians = tables(runs)
    show(medians)
    args.out.write_text(json.dumps({"medians": medians, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
