"""The pool of tweets to label: read once, tokenized once, scored by each new model."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.labelling.choose import signature
from sentiment_cli.runtime.model_folder import ModelDir

MAX_POOL = 500_000  # tweets: a larger file is refused (split it; a sample will do)
CHUNK = 4096  # tweets run through the network at a time
Log = Callable[[str], None]


@dataclass
class Pool:
    """The tweets offered for labelling, in file order (a row's index is its id)."""

    path: str
    texts: list[str]
    labels: list[str] | None = None  # --simulate: the answers, from the label column
    _tokens: dict = field(default_factory=dict)  # text config -> tokens of every tweet

    def __len__(self) -> int:
        return len(self.texts)

    def tokens(self, text_config) -> list[list[str]]:
        from sentiment_cli.text.tokenizer import tokenize_all

        key = repr(text_config)
        if key not in self._tokens:
            self._tokens[key] = tokenize_all(self.texts, text_config)
        return self._tokens[key]

    def signatures(self) -> list[frozenset[str]]:
        from sentiment_cli.config import TextConfig

        return [signature(tokens) for tokens in self.tokens(TextConfig())]

    def scored(self, bundle: ModelDir) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, features): every tweet's probabilities under ``bundle``
        (columns: its labels) and the vector its classifier reads (an ensemble's first
        member's), in NumPy, the network run once."""
        from sentiment_cli.runtime.network import Network, members
        from sentiment_cli.runtime.predict import baseline_part, blended, predict_ids

        tokens = self.tokens(bundle.config.text)
        ids = bundle.vocab.encode_tokens(tokens, bundle.config.text).ids
        net = members(bundle.network)[0]
        features = np.concatenate(
            [net.readout(ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)]
        )
        if not isinstance(bundle.network, Network) or bundle.runtime != "numpy":
            return predict_ids(bundle, ids, baseline_part(bundle, tokens)), features
        probs = bundle.network.classify(features).astype("float64")
        return blended(bundle, probs, baseline_part(bundle, tokens)), features


def read_pool(path: str | Path, text_column: str, label_column: str | None = None) -> Pool:
    """The tweets of ``path`` (a CSV's text column, Parquet, or one per line; empty
    ones left out); with ``label_column``, a labelled CSV and its labels."""
    if label_column is not None:
        from sentiment_cli.io.readers import read_labelled

        data = read_labelled(path, text_column, label_column)
        pool = Pool(str(path), list(data.texts), list(data.labels))
    else:
        from sentiment_cli.io.streams import iter_texts

        texts = [t for chunk in iter_texts(str(path), text_column) for t in chunk if t.strip()]
        pool = Pool(str(path), texts)
    if not pool.texts:
        raise SentimentError(f"{path}: no tweet to label (column {text_column!r})")
    if len(pool) > MAX_POOL:
        raise SentimentError(
            f"{path}: {len(pool):,} tweets; a labelling pool holds at most {MAX_POOL:,} "
            f"(a random sample of them will do)"
        )
    return pool


def first_model(labels: list[str], log: Log) -> ModelDir | None:
    """What chooses before any retrain: the built-in model where every label asked for
    is one of its own (negative, neutral, positive, or some of them); otherwise none
    (the first batch is drawn at random)."""
    from sentiment_cli.resources import builtin_model_dir
    from sentiment_cli.runtime.model_folder import read_model_dir

    bundle = read_model_dir(builtin_model_dir())
    if set(labels) <= set(bundle.labels):
        log("The first tweets are chosen by the built-in model")
        return bundle
    log(
        f"The built-in model knows {', '.join(bundle.labels)}, not {', '.join(labels)}: "
        f"the first tweets are drawn at random"
    )
    return None


def write_rows(
    path: Path, pool: Pool, rows: list[int], labels: list[str], texts: list[str] | None = None
) -> Path:
    """A training CSV of the answered ``rows`` (text, label, pool_row); ``texts`` where
    they are not the pool's (a resumed session's answers of another pool)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = texts if texts is not None else [pool.texts[row] for row in rows]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "pool_row"])
        writer.writerows(zip(texts, labels, rows, strict=True))
    return path
