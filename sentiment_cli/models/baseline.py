"""Bag-of-words baseline: TF-IDF over word 1-2 grams + logistic regression.

It sees the same tokens as the RNN but not their order beyond bigrams, so the gap
between the two is what word order is worth on the user's data. Stored as JSON (the
n-gram vocabulary and labels) and NPZ (idf, coefficients) -- plain data, nothing
executes when it is loaded. It is fit here, with scikit-learn; every command reads it
back with ``runtime/bow.py``, which computes the same probabilities without it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_cli.runtime.bow import JSON_FILE, NPZ_FILE  # runtime.bow reads them, without sklearn

NGRAM_RANGE = (1, 2)


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


@dataclass
class Baseline:
    vectorizer: object
    classifier: object
    labels: list[str]
    fit_seconds: float = 0.0
    validation: dict | None = None  # metrics on the run's validation split, when fit there

    @classmethod
    def fit(
        cls,
        tokenized: Sequence[Sequence[str]],
        labels: Sequence[str],
        class_weight: str,
        seed: int,
        ngram_range: tuple[int, int] = NGRAM_RANGE,
    ) -> Baseline:
        from sklearn.linear_model import LogisticRegression

        start = time.perf_counter()
        vectorizer = _vectorizer(ngram_range=ngram_range)
        features = vectorizer.fit_transform(tokenized)
        rows = None  # "sqrt": each tweet weighs what its class does (``class_weights``)
        if class_weight == "sqrt":
            names = sorted(set(labels))
            by_label = {names[i]: w for i, w in class_weights(list(labels), names, "sqrt").items()}
            rows = np.array([by_label[label] for label in labels])
        classifier = LogisticRegression(
            C=1.0,
            max_iter=2000,
            class_weight="balanced" if class_weight == "balanced" else None,
            random_state=seed,
        )
        classifier.fit(features, list(labels), sample_weight=rows)
        return cls(
            vectorizer,
            classifier,
            [str(c) for c in classifier.classes_],
            time.perf_counter() - start,
        )

    def predict_proba(self, tokenized: Sequence[Sequence[str]]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(tokenized))

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        vocabulary = {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}
        meta = {
            "kind": "tfidf_word_1_2_grams+logistic_regression",
            "ngram_range": list(self.vectorizer.ngram_range),
            "sublinear_tf": True,
            "labels": self.labels,
            "fit_seconds": round(self.fit_seconds, 3),
            "vocabulary": vocabulary,
        }
        (folder / JSON_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        np.savez(
            folder / NPZ_FILE,
            idf=self.vectorizer.idf_,
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
