"""The labelling loop against random labels, on the own-domain sets of ../shared/data.

For each set and seed, ``label --simulate`` (``labelling.loop.simulate``, the same
choices and retrains as the page) chooses up to the largest size from the set's
training pool (80% of its train.csv, as ``few_labels.py`` splits it), answering with
the pool's own labels. Then, for each size N, a model of the default config is trained
on the loop's first N rows, and one on N rows drawn at random (``few_labels.sample``,
the rows the few-labels curves use), same seed, and both are scored on the set's
test.csv (``--split val``: on the 20% of its train.csv that ``few_labels.py`` holds out,
where a change to the loop is chosen; test is for the figures reported).

    python bench/labelling.py [--domains covid_tweets,...] [--sizes 100,300,600]
                              [--seeds 42,43,44] [--every 25] [--out FILE.json]
                              [--split test|val]
                              [--plot docs/labelling.png]
    python bench/labelling.py --latency covid_tweets

``--latency DOMAIN`` instead answers 200 tweets of DOMAIN's pool through the page's
HTTP API, one every 0.25 s, with a retrain every 25, and prints the answer times (p50,
p99) overall and while a retrain runs.

Prints one JSON line per run and the median table; writes both to --out.
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

from few_labels import OWN_DOMAINS, WORK, own_domain_files, sample  # noqa: E402

RUNS = WORK / "labelling"


def trained_score(data: Path, name: str, seed: int, scored_on: Path) -> dict:
    from sentiment_cli.config import load_config
    from sentiment_cli.evaluation.evaluate import score
    from sentiment_cli.training.train import train

    out = RUNS / "models" / f"{name}-s{seed}"
    config = load_config(None, [f"train.seed={seed}"])
    train(data, out, config, force=True, verbose=0, log=lambda m: None)
    metrics = score(out, scored_on).metrics
    return {k: round(metrics[k], 4) for k in ("macro_f1", "accuracy")}


def one(domain: str, seed: int, sizes: list[int], every: int, split: str = "test") -> dict:
    from sentiment_cli.labelling.pool import read_pool, write_rows
    from sentiment_cli.labelling.simulate import simulate

    files = own_domain_files(domain)
    pool = read_pool(files["train"], "text", "label")
    started = time.perf_counter()
    chosen = simulate(
        pool, max(sizes), seed, every, RUNS / "work" / f"{domain}-s{seed}", lambda m: None
    )
    loop_seconds = round(time.perf_counter() - started, 1)
    result = {"domain": domain, "seed": seed, "every": every, "split": split,
              "loop_seconds": loop_seconds, "sizes": {}}  # fmt: skip
    for n in sizes:
        rows = chosen[:n]
        labels = [pool.labels[r] for r in rows]
        data = write_rows(RUNS / "data" / f"{domain}-loop{n}-s{seed}.csv", pool, rows, labels)
        result["sizes"][str(n)] = {
            "loop": trained_score(data, f"{domain}-loop{n}", seed, files[split]),
            "random": trained_score(
                sample(files["train"], str(n), seed), f"{domain}-random{n}", seed, files[split]
            ),
            "loop_label_shares": {
                label: round(labels.count(label) / len(labels), 3) for label in sorted(set(labels))
            },
        }
    return result


def medians(runs: list[dict], sizes: list[int]) -> dict:
    table: dict = {}
    for domain in OWN_DOMAINS:
        mine = [r for r in runs if r["domain"] == domain]
        if not mine:
            continue
        table[domain] = {}
        for n in sizes:
            cell = {}
            for arm in ("loop", "random"):
                for k in ("macro_f1", "accuracy"):
                    values = [r["sizes"][str(n)][arm][k] for r in mine]
                    cell[f"{arm}_{k}"] = round(statistics.median(values), 4)
            cell["gain_macro_f1"] = round(cell["loop_macro_f1"] - cell["random_macro_f1"], 4)
            table[domain][str(n)] = cell
    return table


def show(table: dict, split: str = "test") -> None:
    print(f"\nThe loop's labels against random ones ({split}, medians of seeds)")
    print(f"  {'domain':<18} {'N':>4}  loop F1 / acc   random F1 / acc   gain F1")
    for domain, rows in table.items():
        for n, c in rows.items():
            print(
                f"  {domain:<18} {n:>4}  {c['loop_macro_f1']:.3f} / {c['loop_accuracy']:.3f}"
                f"    {c['random_macro_f1']:.3f} / {c['random_accuracy']:.3f}"
                f"    {100 * c['gain_macro_f1']:+.1f}"
            )


def plot(table: dict, path: Path, split: str = "test") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(table), figsize=(4 * len(table), 3.4), squeeze=False)
    for ax, (domain, rows) in zip(axes[0], table.items(), strict=True):
        sizes = [int(n) for n in rows]
        for arm, style in (("loop", "o-"), ("random", "s--")):
            ax.plot(sizes, [rows[str(n)][f"{arm}_macro_f1"] for n in sizes], style, label=arm)
        ax.set_title(domain)
        ax.set_xlabel("labelled tweets")
        ax.set_ylabel(f"{split} macro-F1")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def latency(domain: str, answers: int, think: float, every: int) -> dict:
    """The page's answer time while retrains run: a session on ``domain``'s pool (its
    own labels as the answers), ``answers`` POSTs to /api/answer through HTTP, one each
    ``think`` seconds, a retrain (with 3-fold estimate) every ``every``."""
    import json as jsonlib
    import tempfile
    import threading
    import urllib.request

    from sentiment_cli.labelling.answers import Answers
    from sentiment_cli.labelling.page import make_server
    from sentiment_cli.labelling.pool import read_pool
    from sentiment_cli.labelling.session import Session

    pool = read_pool(own_domain_files(domain)["train"], "text", "label")
    truth = dict(zip(pool.texts, pool.labels, strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "labelled.csv"
        models = Path(tmp) / "labelled.models"
        models.mkdir()
        session = Session(pool, Answers.open(out, sorted(set(pool.labels))), 42, every,
                          models, lambda m: None, folds=3)  # fmt: skip
        server = make_server(session, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        page = urllib.request.urlopen(url + "/").read().decode()
        token = page.split("TOKEN = ")[1].split('"')[1]
        tweet = jsonlib.loads(urllib.request.urlopen(url + "/api/next").read())
        timings, during = [], []
        for _ in range(answers):
            body = jsonlib.dumps({"row": tweet["row"], "label": truth[tweet["text"]]}).encode()
            request = urllib.request.Request(url + "/api/answer", data=body,
                                             headers={"X-Label-Token": token})  # fmt: skip
            busy = session.process is not None
            started = time.perf_counter()
            tweet = jsonlib.loads(urllib.request.urlopen(request).read())
            seconds = time.perf_counter() - started
            (during if busy else timings).append(seconds)
            time.sleep(think)
        while session.process is not None:
            time.sleep(0.5)
        server.shutdown()
        server.server_close()
        rounds = len(session.rounds)
    every_ms = sorted(1000 * t for t in timings + during)
    busy_ms = sorted(1000 * t for t in during)

    def pct(values, q):
        return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None

    busy = {"answers": len(busy_ms), "p50_ms": pct(busy_ms, 0.5),
            "p99_ms": pct(busy_ms, 0.99), "max_ms": pct(busy_ms, 1.0)}  # fmt: skip
    return {"domain": domain, "pool": len(pool), "answers": answers, "think_seconds": think,
            "retrains": rounds, "p50_ms": pct(every_ms, 0.5), "p99_ms": pct(every_ms, 0.99),
            "while_retraining": busy}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", default=",".join(OWN_DOMAINS))
    parser.add_argument("--sizes", default="100,300,600")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--every", type=int, default=25)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "labelling.json")
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--split", choices=["test", "val"], default="test")
    parser.add_argument(
        "--latency", metavar="DOMAIN", help="the page's answer time while retrains run"
    )
    args = parser.parse_args()
    if args.latency:
        print(json.dumps(latency(args.latency, 200, 0.25, args.every)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    runs = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for domain in args.domains.split(","):
            runs.append(one(domain, seed, sizes, args.every, args.split))
            print(json.dumps(runs[-1]), flush=True)
    table = medians(runs, sizes)
    show(table, args.split)
    payload = {"split": args.split, "medians": table, "runs": runs}
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    if args.plot:
        plot(table, args.plot, args.split)


if __name__ == "__main__":
    main()
