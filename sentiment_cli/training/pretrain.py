"""Your own encoder from your own tweets: ``sentiment-cli pretrain CORPUS... -o ENCODER``.

A model of the tool starts from an encoder (``models/encoder.py``): word vectors, a
recurrent layer and a classifier learnt once on many tweets. The shipped one read
Sentiment140 and two benchmarks; a user with millions of tweets of their own builds
one from those, and ``train --set model.encoder=ENCODER`` starts from it.

Each CORPUS file is read for its labels:

- a CSV with the label column: its labels as they are (human ones, or distant ones such
  as Sentiment140's);
- a file without one (a CSV's text column, one tweet per line, or Parquet): the tweets'
  emoticons and emoji label them (distant supervision, Go et al. 2009): positive or
  negative where all of a tweet's markers agree. The markers are then taken out of the
  text, so that the network learns from the words, and tweets with none (or both
  kinds) are left out.

Where the labels are then negative and positive only, a neutral class is made of the
corpus's own tweets with their sentiment words taken out (``neutral.py``; ``--no-neutral``
keeps two labels), so that the encoder's whole network, classifier included, fits a
model of three labels.

The tweets are trained on as ``train`` does (10% held out for validation, the default
config, ``--set`` to change it), from random vectors (``model.encoder`` null), without
the bag-of-words baseline; the words seen ``text.min_count`` times, the recurrent layer
and the classifier are kept. The folder is written whole or not at all.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.errors import SentimentError
from sentiment_cli.training import neutral as neutral_tweets

Log = Callable[[str], None]

POSITIVE = (":)", ":-)", ": )", ":D", ":-D", "=)", "=D", ":]", ";)", ";-)", ":p", ":P", ":-p", "<3")
NEGATIVE = (":(", ":-(", ": (", ":'(", "=(", ":[", "</3")
POSITIVE_EMOJI = "😀😃😄😁😊🙂😍🥰😘☺😻❤💕💖💗💙💚💛💜🧡👍🙌🎉"
NEGATIVE_EMOJI = "😞😔😟😕🙁☹😣😖😫😩😢😭😤😠😡🤬💔👎😒"


MIN_PER_LABEL = 10  # tweets each label of the corpus needs


def _markers(emoticons: tuple[str, ...], emoji: str) -> re.Pattern:
    # An emoticon stands alone or ends a word ("great:)"), never inside a URL or a
    # longer run of punctuation; an emoji may carry its variation selector.
    # ":)))" and ":((((" are the face with its mouth repeated.
    faces = "|".join(
        re.escape(e) + (re.escape(e[-1]) + "*" if e[-1] in ")(][" else "")
        for e in sorted(emoticons, key=len, reverse=True)
    )
    return re.compile(rf"(?<![:;=</])(?:{faces})(?![\w)(\]\[/])|[{emoji}]\ufe0f?")


MARKERS = {
    "positive": _markers(POSITIVE, POSITIVE_EMOJI),
    "negative": _markers(NEGATIVE, NEGATIVE_EMOJI),
}


def distant_label(text: str) -> tuple[str | None, str]:
    """(positive / negative / None, the text without its markers): None where the tweet
    has no marker or markers of both kinds."""
    found = [label for label, pattern in MARKERS.items() if pattern.search(text)]
    if len(found) != 1:
        return None, text
    stripped = text
    for pattern in MARKERS.values():
        stripped = pattern.sub(" ", stripped)
    return found[0], re.sub(r"\s+", " ", stripped).strip()


def has_column(path: Path, column: str) -> bool:
    """Whether ``path`` is a CSV whose header names ``column``."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        return column in next(csv.reader(handle), [])


def read_corpus(paths, text_column: str, label_column: str, log: Log):
    """(texts, labels, what each file gave): labels from a file's label column, or from
    its emoticons and emoji where it has none."""
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.io.streams import iter_texts

    texts: list[str] = []
    labels: list[str] = []
    sources = []
    for path in map(Path, paths):
        if has_column(path, label_column):
            data = read_labelled(path, text_column, label_column)
            texts += data.texts
            labels += data.labels
            source = {"file": str(path), "rows": len(data), "labels": "its label column"}
        else:
            read = [t for chunk in iter_texts(str(path), text_column) for t in chunk if t.strip()]
            marked = [(label, text) for label, text in map(distant_label, read) if label]
            texts += [text for _, text in marked]
            labels += [label for label, _ in marked]
            source = {"file": str(path), "rows": len(read), "labels": "emoticons and emoji"}
            source["labelled"] = len(marked)
        log(f"Corpus: {path}: {source['rows']:,} tweets, labels from {source['labels']}")
        if "labelled" in source:
            log(f"  {source['labelled']:,} carry emoticons or emoji of one kind only: kept")
        sources.append(source)
    counts = Counter(labels)
    if len(counts) < 2 or min(counts.values()) < MIN_PER_LABEL:
        raise SentimentError(
            f"pretrain: the corpus gives {dict(counts) or 'no labelled tweets'}; an encoder "
            f"needs at least two labels with {MIN_PER_LABEL} tweets each (a label column, or "
            f"tweets with emoticons or emoji)"
        )
    return texts, labels, sources


def pretrain(
    paths: list[Path],
    output_dir: Path,
    config: Config,
    *,
    text_column: str = "text",
    label_column: str = "label",
    force: bool = False,
    verbose: int = 2,
    log: Log = print,
    engine=None,
    neutral: bool = True,
) -> dict:
    """Build an encoder from ``paths`` into ``output_dir``; returns its encoder.json.
    ``engine``: a ``distributed.Engine`` to fit on Ray's workers (as ``train``).
    ``neutral``: where the corpus's labels are negative and positive only, make a
    neutral class of its own tweets (``neutral.py``)."""
    from sentiment_cli.training.train import train

    output_dir = Path(output_dir)
    if output_dir.exists() and not force:
        raise SentimentError(f"{output_dir} already exists; pass --force to replace it")
    started = time.perf_counter()
    texts, labels, sources = read_corpus(paths, text_column, label_column, log)
    read = texts  # every tweet read, before some are made neutral
    texts, labels, made = neutral_class(texts, labels, neutral, config.train.seed, log)
    config = dataclasses.replace(  # from random vectors; no baseline to fit or blend
        config,
        model=dataclasses.replace(config.model, encoder=None),
        train=dataclasses.replace(
            config.train, baseline=False, checkpoint=False, blend="none", tune_biases=False
        ),
    )
    parent = output_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent, prefix=f".{output_dir.name}.") as tmp:
        work = Path(tmp)
        data = work / "corpus.csv"
        with open(data, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(zip(texts, labels, strict=True))
        model_dir = work / "model"
        train(data, model_dir, config, verbose=verbose, log=log, engine=engine)
        spec = encoder_spec(model_dir, config, sources, len(texts), started)
        spec["neutral_made"] = made
        write_encoder(model_dir, texts, config, spec, work / "encoder", read)
        if output_dir.exists():
            shutil.rmtree(output_dir)
        os.replace(work / "encoder", output_dir)
    log(f"Encoder written to {output_dir}: {spec['words']:,} words")
    return spec


def neutral_class(texts, labels, wanted: bool, seed: int, log: Log):
    """(texts, labels, what was made or None): with a neutral class made of the
    corpus's own tweets where it is ``wanted`` and the labels are negative and
    positive only (``neutral.py``)."""
    if not wanted or not neutral_tweets.needs_neutral(labels):
        return texts, labels, None
    with_neutral, new_labels, made = neutral_tweets.add_neutral(texts, labels, seed)
    if made["neutral"] < MIN_PER_LABEL:
        log(
            f"Neutral class: not made, only {made['neutral']} of {made['drawn']} tweets drawn "
            f"kept {neutral_tweets.MIN_WORDS} words without their sentiment words; the "
            f"encoder has negative and positive only"
        )
        return texts, labels, None
    log(
        f"Neutral class: {made['drawn']:,} tweets drawn, {made['neutral']:,} kept as neutral "
        f"with their sentiment words taken out (--no-neutral: negative and positive only)"
    )
    return with_neutral, new_labels, made


def encoder_spec(model_dir: Path, config: Config, sources, rows: int, started: float) -> dict:
    summary = json.loads((model_dir / "summary.json").read_text(encoding="utf-8"))
    return {
        "built_by": "sentiment-cli pretrain",
        "corpus": sources,
        "rows": rows,
        "labels": json.loads((model_dir / "labels.json").read_text(encoding="utf-8")),
        "text": config.to_dict()["text"],
        "model": config.to_dict()["model"],
        "best_epoch": summary["best_epoch"],
        "engine": summary["engine"],
        "validation": {k: summary["validation"][k] for k in ("n", "macro_recall", "accuracy")},
        "build_seconds": round(time.perf_counter() - started),
    }


def write_encoder(model_dir: Path, texts, config: Config, spec: dict, out: Path, read=()) -> None:
    """The trained folder's words seen ``text.min_count`` times in the corpus (the
    lexicon's entries no tweet holds were never trained), recurrent layer, classifier,
    and the fingerprints (``runtime.seen``) of every tweet trained on or ``read``."""
    from sentiment_cli.models import encoder
    from sentiment_cli.runtime import seen
    from sentiment_cli.text.tokenizer import tokenize_all

    if config.train.pretrain_data:  # its words were trained too
        from sentiment_cli.io.readers import read_labelled

        texts = [*texts, *read_labelled(config.train.pretrain_data, "text", "label").texts]
    counts = Counter(t for tokens in tokenize_all(texts, config.text) for t in tokens)
    vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))["tokens"]
    keep = [i for i, t in enumerate(vocab) if i >= 2 and counts[t] >= config.text.min_count]
    with np.load(model_dir / "weights.npz") as weights:
        arrays = {"embedding": weights["embedding"][keep]}
        arrays.update({f"rnn.{r}": weights[f"rnn.forward.{r}"] for r in encoder.RECURRENT})
        arrays.update({f"classifier.{n}": weights[f"classifier.{n}"] for n in encoder.HEAD})
    spec["words"] = len(keep)
    read = seen.fingerprints([*read, *texts])
    encoder.write(out, [vocab[i] for i in keep], arrays, spec, read)
