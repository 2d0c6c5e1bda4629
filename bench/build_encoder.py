"""Build the pretrained tweet encoder shipped with the tool: `make encoder`.

Runs ``sentiment-cli pretrain`` on all the tweets we may use (the default model,
trained once; the folder keeps its word vectors, recurrent layer and classifier:
``sentiment_cli/models/encoder.py`` describes it), then records in ``encoder.json``
what it read and never read:

- Sentiment140's 100k tweets, labelled by their emoticons (distant supervision): one
  pretraining epoch (``train.pretrain_data``);
- the training splits of the shared human-labelled domains with their labels:
  SemEval-2017's train.csv and the 90% of Tweet Sentiment Extraction's train.csv that
  `make bench` trains on. Their validation parts (SemEval's val.csv, TSE's 10% held out
  with seed 0) and every test split are never read here, so model selection on
  validation data and the test figures stay clean.

    python bench/build_encoder.py [--out sentiment_cli/encoders/tweets] [--distant-only]
                                  [--pretrain-epochs 1] [--domains semeval,tse]

``--distant-only`` leaves the human labels out (Sentiment140 alone, as the main data, and
``pretrain`` makes its neutral class, see ``training/neutral.py``);
``--domains semeval`` leaves Tweet Sentiment Extraction out, for the new-domain curve of
``bench/few_labels.py``. ``--seen-only`` trains nothing: it writes the fingerprints of
the tweets the sources hold (``seen.npy``, as ``pretrain`` writes them) into an encoder
folder built from them before encoders kept the file.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "bench" / "runs" / "encoder"
sys.path.insert(0, str(ROOT / "bench"))


def sources(distant_only: bool, domains: list[str]) -> tuple[Path, list[Path]]:
    """(the distant-supervision CSV, the human-labelled training CSVs of ``domains``)."""
    from types import SimpleNamespace

    from domains import domain_files  # bench/domains.py, beside this script

    distant = SHARED / "sentiment140_distant" / "train.csv"
    if not distant.exists():
        raise SystemExit(f"build_encoder: {distant} not found (the shared data is needed)")
    if distant_only:
        return distant, []
    args = SimpleNamespace(
        data_dir=SHARED / "semeval2017", tse_dir=SHARED / "tweet_sentiment_extraction", limit=None
    )
    return distant, [domain_files(name, args, WORK)["train"] for name in domains]


def concatenate(paths: list[Path], out: Path) -> int:
    """One text,label CSV of ``paths`` (each has text and label columns); its row count."""
    from sentiment_cli.io.readers import read_labelled

    rows = 0
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for path in paths:
            data = read_labelled(path, "text", "label")
            writer.writerows(zip(data.texts, data.labels, strict=True))
            rows += len(data)
    return rows


def write_seen(out: Path, paths: list[Path]) -> None:
    """``out``'s seen.npy: the fingerprints of every tweet of ``paths`` (what ``pretrain``
    writes), and its count in encoder.json."""
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.models.encoder import keep_seen
    from sentiment_cli.runtime import seen

    texts = [text for path in paths for text in read_labelled(path, "text", "label").texts]
    prints = seen.fingerprints(texts)
    spec_file = out / "encoder.json"
    spec = keep_seen(out, prints, json.loads(spec_file.read_text(encoding="utf-8")))
    spec_file.write_text(json.dumps(spec, ensure_ascii=False, indent=1), "utf-8")
    print(f"build_encoder: {out / seen.FILE}: {len(prints):,} fingerprints, {len(texts):,} tweets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "sentiment_cli" / "encoders" / "tweets")
    parser.add_argument("--distant-only", action="store_true")
    parser.add_argument("--max-tokens", type=int, default=40000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pretrain-epochs", type=int, default=1, help="epochs on Sentiment140")
    parser.add_argument(
        "--domains",
        default="semeval,tse",
        help="human-labelled domains to read (bench/few_labels.py builds one without tse)",
    )
    parser.add_argument(
        "--seen-only", action="store_true", help="write seen.npy of the sources, train nothing"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    domains = [d for d in args.domains.split(",") if d]
    unknown = sorted(set(domains) - {"semeval", "tse"})
    if unknown:
        raise SystemExit(f"build_encoder: unknown --domains {', '.join(unknown)} (semeval, tse)")
    distant, human = sources(args.distant_only, domains)
    sets = [f"text.max_tokens={args.max_tokens}", f"train.seed={args.seed}"]
    if human:
        data = WORK / "human.csv"
        rows = concatenate(human, data)
        sets += [f"train.pretrain_data={distant}", f"train.pretrain_epochs={args.pretrain_epochs}"]
    else:
        data, rows = distant, None
    if args.seen_only:
        return write_seen(args.out, [distant, data] if human else [distant])
    command = [sys.executable, "-m", "sentiment_cli", "pretrain", str(data), "-o", str(args.out)]
    command += ["--force", "-q"] + [arg for s in sets for arg in ("--set", s)]
    print("build_encoder: " + " ".join(command[2:]), flush=True)
    subprocess.run(command, check=True)

    def name(path: Path) -> str:
        if path.is_relative_to(SHARED):
            return str(path.relative_to(SHARED))
        return "tweet_sentiment_extraction/train.csv: the 90% (seed 0) `make bench` trains on"

    # What the shipped encoder read, and what it never read, in the shared data's names.
    spec_file = args.out / "encoder.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec.update(
        {
            "built_by": "make encoder (python bench/build_encoder.py"
            + (" --distant-only" if args.distant_only else "")
            + (f" --pretrain-epochs {args.pretrain_epochs}" if args.pretrain_epochs != 1 else "")
            + (f" --domains {args.domains}" if args.domains != "semeval,tse" else "")
            + "), through sentiment-cli pretrain",
            "distant_supervision": {
                "file": name(distant),
                "epochs": args.pretrain_epochs if human else None,
            },
            "human_labelled": [name(p) for p in human],
            "human_labelled_rows": rows,
            "never_read": "validation and test splits",
            "build_seconds": round(time.perf_counter() - started),
        }
    )
    spec_file.write_text(json.dumps(spec, ensure_ascii=False, indent=1), "utf-8")
    size = sum(p.stat().st_size for p in args.out.iterdir()) / 1e6
    print(f"Encoder written to {args.out}: {spec['words']} words, {size:.1f} MB")


if __name__ == "__main__":
    main()
