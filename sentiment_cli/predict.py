"""Predict labels and probabilities for new texts with a trained model folder."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from sentiment_cli.artifact import ModelDir, load_model_dir

BATCH_SIZE = 256


def predict_proba(bundle: ModelDir, texts: list[str]) -> np.ndarray:
    """(len(texts), n_labels) probabilities; rows follow ``bundle.labels``."""
    if not texts:
        return np.zeros((0, len(bundle.labels)), dtype="float32")
    return predict_ids(bundle, bundle.vocab.encode(texts, bundle.config.text).ids)


def predict_ids(bundle: ModelDir, ids: np.ndarray) -> np.ndarray:
    # model(x) instead of model.predict: no progress bar and no per-call tf.data set-up.
    out = [
        np.asarray(bundle.model(ids[start : start + BATCH_SIZE], training=False))
        for start in range(0, len(ids), BATCH_SIZE)
    ]
    return np.concatenate(out).astype("float64")


def to_frame(bundle: ModelDir, texts: list[str], probs: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"text": texts, "label": [bundle.labels[i] for i in probs.argmax(axis=1)]})
    for i, label in enumerate(bundle.labels):
        frame[f"p_{label}"] = probs[:, i]
    return frame


def predict_chunks(bundle: ModelDir, chunks: Iterable[list[str]]) -> Iterator[pd.DataFrame]:
    """One DataFrame per chunk of texts, so large inputs use bounded memory."""
    for texts in chunks:
        yield to_frame(bundle, texts, predict_proba(bundle, texts))


def predict(model_dir: str, texts: list[str]) -> pd.DataFrame:
    """Columns: text, label, and p_<label> for every label of the model."""
    bundle = load_model_dir(model_dir)
    return to_frame(bundle, texts, predict_proba(bundle, texts))


def records(bundle: ModelDir, frame: pd.DataFrame) -> list[dict]:
    """The JSON shape: {"text", "label", "probabilities": {label: p}}."""
    columns = [f"p_{label}" for label in bundle.labels]
    probs = frame[columns].to_numpy()
    return [
        {
            "text": text,
            "label": label,
            "probabilities": {lab: float(p) for lab, p in zip(bundle.labels, row, strict=True)},
        }
        for text, label, row in zip(frame["text"], frame["label"], probs, strict=True)
    ]
