"""Bag-of-words baseline: TF-IDF over word 1-2 grams + logistic regression.

It sees the same tokens as the RNN but not their order beyond bigrams, so the gap
between the two is what word order is worth on the user's data. Stored as JSON (the
n-gram vocabulary and labels) and NPZ (idf, coefficients) -- plain data, nothing
executes when it is loaded. It is fit here, with scikit-learn; every command reads it
back with ``runtime/bow.py``, which computes the same probabilities without it.

With ``chars`` the same class fits the bag a model blends in (``train.blend_features:
words+chars``): a second TF-IDF block over the character grams of each word
(``runtime.bow.char_grams``, the function the runtime counts them with), scaled to unit
length on its own, beside the word grams.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_cli.runtime.bow import BASELINE, char_grams, files  # read there, without sklearn

NGRAM_RANGE = (1, 2)
CHAR_RANGE = (2, 5)  # the character grams of the blended bag (train.blend_features)
# The blended bag's C: its columns are twice the words', each weighing less under one
# penalty; chosen on the own-domain sets' validation splits (docs/benchmark.md).
BAG_STRENGTH = 2.0
MAX_CHAR_GRAMS = 100_000  # the most frequent of them kept: bounds the folder on big files


def _identity(tokens):
    return tokens


def _vectorizer(vocabulary=None, ngram_range=NGRAM_RANGE):
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Input is already tokenized (the RNN's tokenizer), so sklearn must not re-split it.
    return TfidfVectorizer(
        tokenizer=_identity,
        preprocessor=_identity,
        token_pattern=None,
        lowercase=False,
        ngram_range=tuple(ngram_range),
        sublinear_tf=True,
        min_df=1 if vocabulary is not None else 2,
        vocabulary=vocabulary,
    )


class _CharGrams:
    """The character ``low``- to ``high``-grams of every token of a tweet, for
    scikit-learn's ``analyzer`` (an object rather than a lambda, so it has a name)."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def __call__(self, tokens: Sequence[str]) -> list[str]:
        return [gram for token in tokens for gram in char_grams(token, self.low, self.high)]


def _char_vectorizer(char_range: tuple[int, int]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=_CharGrams(*char_range),
        sublinear_tf=True,
        min_df=2,
        max_features=MAX_CHAR_GRAMS,
    )


def _fit(vectorizer, tokenized: Sequence[Sequence[str]]) -> None:
    """Fit ``vectorizer``, keeping the grams seen twice or more; where none is (a
    handful of tweets that share no word), those seen once."""
    try:
        vectorizer.fit(tokenized)
    except ValueError:  # scikit-learn: "After pruning, no terms remain"
        vectorizer.set_params(min_df=1).fit(tokenized)


def _features(vectorizer, char_vectorizer, tokenized: Sequence[Sequence[str]]):
    """The word grams' TF-IDF block, and the character grams' beside it where fit."""
    words = vectorizer.transform(tokenized)
    if char_vectorizer is None:
        return words
    from scipy.sparse import hstack

    return hstack([words, char_vectorizer.transform(tokenized)]).tocsr()


@dataclass
class Baseline:
    vectorizer: object
    classifier: object
    labels: list[str]
    fit_seconds: float = 0.0
    validation: dict | None = None  # metrics on the run's validation split, when fit there
    char_vectorizer: object | None = None  # the character grams' block, where fit with chars

    def features(self, tokenized: Sequence[Sequence[str]]):
        return _features(self.vectorizer, self.char_vectorizer, tokenized)

    @classmethod
    def fit(
        cls,
        tokenized: Sequence[Sequence[str]],
        labels: Sequence[str],
        class_weight: str,
        seed: int,
        ngram_range: tuple[int, int] = NGRAM_RANGE,
        chars: tuple[int, int] | None = None,
        strength: float = 1.0,
    ) -> Baseline:
        """Fit on ``tokenized`` (``chars``: also the character grams of each word, in a
        block of their own); ``strength`` is the logistic regression's C, the inverse of
        its L2 penalty."""
        from sklearn.linear_model import LogisticRegression

        start = time.perf_counter()
        vectorizer = _vectorizer(ngram_range=ngram_range)
        char_vectorizer = _char_vectorizer(chars) if chars else None
        _fit(vectorizer, tokenized)
        if char_vectorizer is not None:
            _fit(char_vectorizer, tokenized)
        features = _features(vectorizer, char_vectorizer, tokenized)
        rows = None  # "sqrt": each tweet weighs what its class does (``class_weights``)
        if class_weight == "sqrt":
            names = sorted(set(labels))
            by_label = {names[i]: w for i, w in class_weights(list(labels), names, "sqrt").items()}
            rows = np.array([by_label[label] for label in labels])
        classifier = LogisticRegression(
            C=strength,
            max_iter=2000,
            class_weight="balanced" if class_weight == "balanced" else None,
            random_state=seed,
            # The same optimum; on 2,000 tweets' 25,000 word and character columns
            # newton-cg takes 0.4 s here where lbfgs takes 3.8 s.
            solver="newton-cg" if chars else "lbfgs",
        )
        classifier.fit(features, list(labels), sample_weight=rows)
        return cls(
            vectorizer,
            classifier,
            [str(c) for c in classifier.classes_],
            time.perf_counter() - start,
            char_vectorizer=char_vectorizer,
        )

    def predict_proba(self, tokenized: Sequence[Sequence[str]]) -> np.ndarray:
        return self.classifier.predict_proba(self.features(tokenized))

    def save(self, folder: Path, stem: str = BASELINE) -> None:
        """Write ``stem``.json and ``stem``.npz (``runtime.bow.BagOfWords.load`` reads them)."""
        folder = Path(folder)
        vocabulary = {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}
        idf = [self.vectorizer.idf_]
        meta = {
            "kind": "tfidf_word_1_2_grams+logistic_regression",
            "ngram_range": list(self.vectorizer.ngram_range),
            "sublinear_tf": True,
            "labels": self.labels,
            "fit_seconds": round(self.fit_seconds, 3),
            "vocabulary": vocabulary,
        }
        if self.char_vectorizer is not None:
            chars = self.char_vectorizer.analyzer
            offset = len(vocabulary)  # the character grams' columns follow the words'
            meta["kind"] = "tfidf_word_1_2_grams+tfidf_char_grams+logistic_regression"
            meta["char_ngram_range"] = [chars.low, chars.high]
            meta["char_vocabulary"] = {
                gram: offset + int(i) for gram, i in self.char_vectorizer.vocabulary_.items()
            }
            idf.append(self.char_vectorizer.idf_)
        json_file, npz_file = files(stem)
        (folder / json_file).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        np.savez(
            folder / npz_file,
            idf=np.concatenate(idf),
            coef=self.classifier.coef_,
            intercept=self.classifier.intercept_,
        )


def class_weights(
    labels: list[str], classes: list[str], kind: str = "balanced"
) -> dict[int, float] | None:
    """The loss weight of each class id (``train.class_weight``): None for "none";
    "balanced" weighs a class by n / (classes * its count), so every class weighs as
    much in all; "sqrt" by the square root of that, halfway (in ratio) between the
    two: rare classes count more without the majority's accuracy paying in full."""
    if kind == "none":
        return None
    from sklearn.utils.class_weight import compute_class_weight

    present = [c for c in classes if c in set(labels)]
    weights = compute_class_weight("balanced", classes=np.array(present), y=np.array(labels))
    if kind == "sqrt":
        weights = np.sqrt(weights)
    by_label = dict(zip(present, weights, strict=True))
    return {i: float(by_label.get(c, 1.0)) for i, c in enumerate(classes)}
