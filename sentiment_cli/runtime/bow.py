"""The bag-of-words models without scikit-learn: TF-IDF and a logistic regression,
computed in NumPy from a JSON and an NPZ file.

``models/baseline.py`` fits them with scikit-learn and writes the two files; this
module reads them and computes the same probabilities (to ~1e-6), so a model that
blends a bag of words into its answers (``train.blend``) predicts without scikit-learn.
Two are kept: the baseline (``baseline.json`` / ``.npz``: word 1-2 grams), the yardstick
every model is compared with, and the bag a model blends in (``blend_bag.json`` /
``.npz``: the same word grams plus the character 2-5 grams of each word, the spelling
variants and word pieces of tweets that a few hundred labels never show whole). For
every gram in the vocabulary, ``1 + log(count)`` times its idf, each block of grams
(words, characters) scaled to unit length, then ``softmax(x @ coef.T + intercept)`` (the
logistic function for two labels). ``Blend`` is how much of them a model mixes in.
"""

from __future__ import annotations

import json
import reprlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.text.negation import ORDER_CUES

BASELINE = "baseline"  # the stem of the baseline's files
BLEND_BAG = "blend_bag"  # the stem of the files of the bag a model blends in
BAGS = (BASELINE, BLEND_BAG)  # the bags summary.json's blend.bag may name
CACHED_TOKENS = 50_000  # a BagOfWords keeps the character-gram columns of this many tokens


def files(stem: str) -> list[str]:
    """The two files of the bag of words named ``stem``."""
    return [f"{stem}.json", f"{stem}.npz"]


JSON_FILE, NPZ_FILE = files(BASELINE)


def char_grams(token: str, low: int, high: int) -> list[str]:
    """The character ``low``- to ``high``-grams of one token, a space marking each end
    (" good " gives " g", "go", ..., "good "): a word's pieces, prefixes and suffixes."""
    padded = f" {token} "
    return [
        padded[i : i + n]
        for n in range(low, min(high, len(padded)) + 1)
        for i in range(len(padded) - n + 1)
    ]


def mix(network: np.ndarray, baseline: np.ndarray, weight: float | np.ndarray) -> np.ndarray:
    """A blended model's probabilities: ``(1 - weight) * network + weight * baseline``
    (``weight`` one number, or one per row of shape (rows, 1))."""
    return (1.0 - weight) * network + weight * baseline


@dataclass(frozen=True)
class Blend:
    """How a model mixes a bag of words in (summary.json's ``blend``): the bag's share
    ``weight``, except in tweets holding one of the ``network_decides`` cues
    (``text.negation.ORDER_CUES``: "negation", "contrast"), where the network alone
    answers, because their meaning is in the word order a bag of words cannot see.
    ``bag`` names the bag's files (``BAGS``; folders before ``blend_bag``: the baseline)."""

    weight: float = 0.0
    network_decides: tuple[str, ...] = ()
    temperature: float = 1.0  # fitted to the blended tweets of the validation split
    bag: str = BASELINE

    def apply(self, network: np.ndarray, words: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """The answers: ``mix``, then where the baseline took part, the mixture's log
        divided by ``temperature`` and renormalized (a mean of two probability vectors
        is less sure than either; this undoes that where validation says so)."""
        mixed = mix(network, words, shares)
        blended = shares[:, 0] > 0
        if self.temperature != 1.0 and blended.any():
            mixed[blended] = soften(mixed[blended], self.temperature)
        return mixed

    def weights(self, tokenized: Sequence[Sequence[str]]) -> np.ndarray:
        """(rows, 1): the baseline's share in each tweet's probabilities."""
        shares = np.full((len(tokenized), 1), self.weight)
        if self.network_decides and self.weight:
            cues = [ORDER_CUES[name] for name in self.network_decides]
            decided = [any(cue(tokens) for cue in cues) for tokens in tokenized]
            shares[np.asarray(decided, dtype=bool)] = 0.0
        return shares


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` of each row: T > 1 softens, T < 1 sharpens, the order of
    the classes stays (``p ** (1 / T)`` renormalized)."""
    logits = np.log(np.clip(probs.astype(np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def read_blend(blend: Any, where: str) -> Blend:
    """summary.json's ``blend`` entry (None: the model does not blend), checked."""
    if blend is None:
        return Blend()
    weight = blend.get("baseline_weight") if isinstance(blend, dict) else None
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight < 1:
        raise SentimentError(
            f"{where}: blend.baseline_weight must be a number from 0 to below 1, got {weight!r}"
        )
    cues = blend.get("network_decides", [])
    if not isinstance(cues, list) or not all(isinstance(c, str) and c in ORDER_CUES for c in cues):
        raise SentimentError(
            f"{where}: blend.network_decides must be a list of {', '.join(ORDER_CUES)}, "
            f"got {reprlib.repr(cues)}"
        )
    temperature = blend.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        temperature = -1.0
    if not 0.05 <= temperature <= 20:
        raise SentimentError(
            f"{where}: blend.temperature must be a number from 0.05 to 20, "
            f"got {reprlib.repr(blend.get('temperature'))}"
        )
    bag = blend.get("bag", BASELINE)
    if bag not in BAGS:
        raise SentimentError(
            f"{where}: blend.bag must be one of {', '.join(BAGS)}, got {reprlib.repr(bag)}"
        )
    return Blend(float(weight), tuple(cues), float(temperature), bag)


def _columns_within(grams: dict[str, Any], low: int, high: int) -> bool:
    """Whether every column of ``grams`` (a JSON object: gram -> column) is an integer
    in [low, high). Checked on the parsed object, not copied: a bag of 215,000 grams
    loads in about 0.1 s where copying it took 0.17."""
    if not isinstance(grams, dict) or not all(type(c) is int for c in grams.values()):
        return False
    values = np.fromiter(grams.values(), dtype=np.int64, count=len(grams))
    return not len(values) or (low <= int(values.min()) and int(values.max()) < high)


@dataclass(frozen=True)
class BagOfWords:
    vocabulary: dict[str, int]  # "word" or "word word" -> column
    weights: np.ndarray  # (columns, classes): coef transposed
    intercept: np.ndarray  # (classes,)
    labels: list[str]
    ngram_range: tuple[int, int]
    idf: np.ndarray
    # character grams of each word: "gram" -> column (after the word grams' columns)
    char_vocabulary: dict[str, int] = field(default_factory=dict)
    char_range: tuple[int, int] | None = None
    _token_columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, folder: Path, stem: str = BASELINE) -> BagOfWords:
        folder = Path(folder)
        json_file, npz_file = files(stem)
        odd = next((name for name in (json_file, npz_file) if not (folder / name).is_file()), None)
        if odd is not None:  # missing, or a FIFO or a device, which could hang a read
            raise SentimentError(
                f"{folder}: bag-of-words file {odd} is missing or not a regular file"
            )
        try:
            meta = json.loads((folder / json_file).read_text(encoding="utf-8"))
            with np.load(folder / npz_file, allow_pickle=False) as arrays:
                idf, coef, intercept = arrays["idf"], arrays["coef"], arrays["intercept"]
            vocabulary, chars = meta["vocabulary"], meta.get("char_vocabulary", {})
            columns = len(vocabulary) + len(chars)
            fitting = _columns_within(vocabulary, 0, len(vocabulary)) and _columns_within(
                chars, len(vocabulary), columns
            )
            labels = [str(label) for label in meta["labels"]]
            low, high = (int(n) for n in meta.get("ngram_range", (1, 2)))
            char_range = meta.get("char_ngram_range")
            char_range = tuple(int(n) for n in char_range) if char_range else None
        except Exception as exc:  # a damaged zip or JSON raises many types: all mean damage
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise SentimentError(
                f"{folder}: {json_file} / {npz_file} cannot be read: {detail}"
            ) from None
        binary = len(labels) == 2 and coef.shape[0] == 1
        if (
            not fitting
            or any(a.dtype.kind not in "fiu" for a in (idf, coef, intercept))
            or idf.shape != (columns,)
            or coef.ndim != 2
            or coef.shape[1] != columns
            or coef.shape[0] != (1 if binary else len(labels))
            or intercept.shape != (coef.shape[0],)
            or (
                chars
                and (
                    char_range is None
                    or len(char_range) != 2
                    or not 1 <= char_range[0] <= char_range[1] <= 20
                )
            )
        ):
            raise SentimentError(f"{folder}: {json_file} and {npz_file} do not match")
        return cls(
            vocabulary,
            np.ascontiguousarray(coef.T, dtype=np.float64),
            intercept.astype(np.float64),
            labels,
            (low, high),
            idf.astype(np.float64),
            chars,
            char_range if chars else None,
        )

    def _grams(self, tokens: Sequence[str]) -> Counter:
        low, high = self.ngram_range
        if (low, high) == (1, 2):  # the usual case, built without slicing
            grams = Counter(tokens)
            grams.update(map(" ".join, zip(tokens, tokens[1:], strict=False)))
            return grams
        grams = Counter()
        for n in range(low, high + 1):
            grams.update(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return grams

    def _word_block(self, tokenized: Sequence[Sequence[str]]) -> tuple[np.ndarray, ...]:
        """(row, column, count) of every word gram in the vocabulary."""
        rows: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        get = self.vocabulary.get
        for i, tokens in enumerate(tokenized):
            for gram, count in self._grams(tokens).items():
                column = get(gram)
                if column is not None:
                    rows.append(i)
                    columns.append(column)
                    counts.append(count)
        return (np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64),
                np.asarray(counts, dtype=np.float64))  # fmt: skip

    def _columns_of(self, token: str) -> np.ndarray:
        """The columns of a token's character grams in the vocabulary, one per
        occurrence; kept for the next tweet that holds the token."""
        found = self._token_columns.get(token)
        if found is None:
            if len(self._token_columns) >= CACHED_TOKENS:
                self._token_columns.clear()
            get = self.char_vocabulary.get
            grams = (get(gram) for gram in char_grams(token, *self.char_range))
            found = np.fromiter((c for c in grams if c is not None), dtype=np.int64)
            self._token_columns[token] = found
        return found

    def _char_block(self, tokenized: Sequence[Sequence[str]]) -> tuple[np.ndarray, ...]:
        """(row, column, count) of every character gram in the vocabulary, counted
        over all the words of a tweet."""
        empty = np.zeros(0, dtype=np.int64)
        pieces = [[self._columns_of(t) for t in tokens] for tokens in tokenized]
        lengths = [sum(len(c) for c in row) for row in pieces]
        columns = np.concatenate([c for row in pieces for c in row] or [empty])
        rows = np.repeat(np.arange(len(tokenized), dtype=np.int64), lengths)
        width = len(self.idf)
        keys, counts = np.unique(rows * width + columns, return_counts=True)
        return keys // width, keys % width, counts.astype(np.float64)

    def _scaled(self, block: tuple[np.ndarray, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
        """A block's sublinear TF-IDF values, each row's scaled to unit length."""
        row, column, counts = block
        values = (1.0 + np.log(counts)) * self.idf[column]
        norms = np.sqrt(np.bincount(row, weights=values * values, minlength=n))
        return column, values / np.where(norms > 0, norms, 1.0)[row]

    def predict_proba(self, tokenized: Sequence[Sequence[str]]) -> np.ndarray:
        """(len(tokenized), len(labels)) probabilities; columns follow ``labels``."""
        n = len(tokenized)
        blocks = [self._word_block(tokenized)]
        if self.char_vocabulary:
            blocks.append(self._char_block(tokenized))
        logits = np.tile(self.intercept, (n, 1))
        for block in blocks:
            column, values = self._scaled(block, n)
            contributions = values[:, None] * self.weights[column]
            for c in range(logits.shape[1]):
                logits[:, c] += np.bincount(block[0], weights=contributions[:, c], minlength=n)
        if logits.shape[1] == 1:  # two labels: sklearn keeps one row of coefficients
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([1.0 - positive, positive], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def aligned(self, tokenized: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
        """Probabilities with columns in the order of ``labels`` (the model's)."""
        order = [self.labels.index(label) for label in labels]
        return self.predict_proba(tokenized)[:, order]
