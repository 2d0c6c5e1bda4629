"""Your own encoder against none: `pretrain` on Sentiment140, then a few labels of each
own-domain set started from it and from nothing.

    python bench/own_encoder.py [--sizes 500] [--seeds 42,43,44] [--split val]
                                [--reuse] [--no-neutral]

Builds ``bench/runs/own_encoder/encoder`` as a user would (``sentiment-cli pretrain
../shared/data/sentiment140_distant/train.csv``; ``--no-neutral`` without its neutral
class, ``--reuse`` keeps one built before), then, for each own-domain set, size and seed,
trains the default config on the same rows twice, from nothing (``model.encoder=null``)
and from that encoder (``bench/few_labels.py``'s runs: drawn from 80% of the set's
train.csv, scored on the other 20%, ``val``, and on its test split). Prints the
medians of macro-F1 side by side with the gain, and writes every run to
``bench/runs/own_encoder/results.json``. About 12 minutes on 2 cores at 500 labels.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "sentiment140_distant" / "train.csv"
WORK = ROOT / "bench" / "runs" / "own_encoder"
sys.path.insert(0, str(ROOT / "bench"))


def build(encoder: Path, neutral: bool) -> None:
    command = [sys.executable, "-m", "sentiment_cli", "pretrain", str(CORPUS), "-o", str(encoder)]
    command += ["--force", "-q"] + ([] if neutral else ["--no-neutral"])
    print("own_encoder: " + " ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)


def median_f1(runs: list[dict], split: str) -> float:
    """The median macro-F1 of the model of ``runs`` on the scored split ("model") or
    on the other one ("test" or "val")."""
    return statistics.median(
        (r if split == "model" else r[split])["model"]["macro_f1"] for r in runs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500")
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--split", choices=["val", "test"], default="val")
    parser.add_argument("--reuse", action="store_true", help="keep an encoder built before")
    parser.add_argument("--no-neutral", dest="neutral", action="store_false")
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"own_encoder: {CORPUS} is missing (the shared data)")
    from few_labels import OWN_DOMAINS, curve  # bench/few_labels.py, beside this

    encoder = WORK / "encoder"
    if not (args.reuse and (encoder / "encoder.json").exists()):
        build(encoder, args.neutral)
    other = "test" if args.split == "val" else "val"
    runs, lines = [], []
    for domain in OWN_DOMAINS:
        for name, start in (("from-nothing", "null"), ("own-encoder", str(encoder))):
            result = curve(name, args.split, args.sizes, args.seeds, domain=domain,
                           overrides=[f"model.encoder={start}"])  # fmt: skip
            runs += result["runs"]
        for size in args.sizes.split(","):
            pair = [
                [r for r in runs if r["domain"] == domain and r["size"] == size and r["name"] == n]
                for n in ("from-nothing", "own-encoder")
            ]
            medians = {
                s: [round(median_f1(group, s), 4) for group in pair]
                for s in ("model", other)
            }  # fmt: skip
            lines.append({"domain": domain, "size": size, **medians})
    WORK.mkdir(parents=True, exist_ok=True)
    spec = json.loads((encoder / "encoder.json").read_text(encoding="utf-8"))
    payload = {"encoder": {k: spec.get(k) for k in ("rows", "labels", "neutral_made")}}
    payload.update({"split": args.split, "medians": lines, "runs": runs})
    (WORK / "results.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"\nmacro-F1, medians of seeds {args.seeds}: from nothing -> from the encoder")
    for line in lines:
        (a, b), (c, d) = line["model"], line[other]
        print(
            f"  {line['domain']:18s} {line['size']:>5}  {args.split} {a:.3f} -> {b:.3f} "
            f"({100 * (b - a):+.1f})   {other} {c:.3f} -> {d:.3f} ({100 * (d - c):+.1f})"
        )


if __name__ == "__main__":
    main()
