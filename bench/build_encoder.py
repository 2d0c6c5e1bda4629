"""Build the pretrained tweet encoder shipped with the tool: `make encoder`.

Trains the default model once on all the tweets we may use, then keeps its word vectors
and its recurrent layer (``sentiment_cli/models/encoder.py`` describes the folder):

- Sentiment140's 100k tweets, labelled by their emoticons (distant supervision): one
  pretraining epoch (``train.pretrain_data``);
- the training splits of the shared human-labelled domains with their labels:
  SemEval-2017's train.csv and the 90% of Tweet Sentiment Extraction's train.csv that
  `make bench` trains on. Their validation parts (SemEval's val.csv, TSE's 10% held out
  with seed 0) and every test split are never read here, so model selection on
  validation data and the test figures stay clean.

    python bench/build_encoder.py [--out sentiment_cli/encoders/tweets] [--distant-only]
                                  [--pretrain-epochs 1] [--domains semeval,tse]

``--distant-only`` leaves the human labels out (Sentiment140 alone, as the main data);
``--domains semeval`` leaves Tweet Sentiment Extraction out, for the new-domain curve of
``bench/few_labels.py``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
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
    args = parser.parse_args()

    import numpy as np

    from sentiment_cli.config import load_config
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.models import encoder
    from sentiment_cli.text.tokenizer import tokenize_all
    from sentiment_cli.training.train import train

    started = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    domains = [d for d in args.domains.split(",") if d]
    unknown = sorted(set(domains) - {"semeval", "tse"})
    if unknown:
        raise SystemExit(f"build_encoder: unknown --domains {', '.join(unknown)} (semeval, tse)")
    distant, human = sources(args.distant_only, domains)
    overrides = [
        "model.encoder=null",  # an encoder does not start from itself
        f"text.max_tokens={args.max_tokens}",
        "train.baseline=false",
        "train.checkpoint=false",
        f"train.seed={args.seed}",
    ]
    if human:
        data = WORK / "human.csv"
        rows = concatenate(human, data)
        overrides.append(f"train.pretrain_data={distant}")
        overrides.append(f"train.pretrain_epochs={args.pretrain_epochs}")
    else:
        data, rows = distant, None
    config = load_config(None, overrides)
    model_dir = WORK / "model"
    train(data, model_dir, config, force=True, verbose=0)

    # Keep the words the encoder's tweets hold at least min_count times (the vocabulary's
    # lexicon entries that no tweet holds were never trained).
    texts = read_labelled(data, "text", "label").texts
    if human:
        texts += read_labelled(distant, "text", "label").texts
    counts = Counter(t for tokens in tokenize_all(texts, config.text) for t in tokens)
    vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["tokens"]
    keep = [i for i, t in enumerate(vocab) if i >= 2 and counts[t] >= config.text.min_count]
    with np.load(model_dir / "weights.npz") as weights:
        arrays = {"embedding": weights["embedding"][keep]}
        arrays.update({f"rnn.{r}": weights[f"rnn.forward.{r}"] for r in encoder.RECURRENT})
        arrays.update({f"classifier.{n}": weights[f"classifier.{n}"] for n in encoder.HEAD})
    summary = json.loads((model_dir / "summary.json").read_text(encoding="utf-8"))

    def name(path: Path) -> str:
        if path.is_relative_to(SHARED):
            return str(path.relative_to(SHARED))
        return "tweet_sentiment_extraction/train.csv: the 90% (seed 0) `make bench` trains on"

    spec = {
        "built_by": "make encoder (python bench/build_encoder.py"
        + (" --distant-only" if args.distant_only else "")
        + (f" --pretrain-epochs {args.pretrain_epochs}" if args.pretrain_epochs != 1 else "")
        + (f" --domains {args.domains}" if args.domains != "semeval,tse" else "")
        + ")",
        "distant_supervision": {"file": name(distant), "epochs": config.train.pretrain_epochs},
        "human_labelled": [name(p) for p in human],
        "human_labelled_rows": rows,
        "never_read": "validation and test splits",
        "labels": json.loads((model_dir / "labels.json").read_text(encoding="utf-8")),
        "text": config.to_dict()["text"],
        "model": config.to_dict()["model"],
        "best_epoch": summary["best_epoch"],
        "validation": {  # 10% of the human-labelled rows, held out of the encoder's training
            k: summary["validation"][k] for k in ("n", "macro_recall", "accuracy")
        },
        "build_seconds": round(time.perf_counter() - started),
    }
    encoder.write(args.out, [vocab[i] for i in keep], arrays, spec)
    size = sum(p.stat().st_size for p in args.out.iterdir()) / 1e6
    print(f"Encoder written to {args.out}: {len(keep)} words, {size:.1f} MB")


if __name__ == "__main__":
    main()
