"""The Python API: a trained model folder as an object that pipelines can call.

    from sentiment_cli import load_model

    model = load_model("runs/lstm")                       # load_model(): the built-in one
    model.predict(["not bad at all", "worst day ever"])    # DataFrame: text, label, p_<label>
    model.predict_batch(frame, text_column="tweet")       # for map_batches-style callers

It runs the TensorFlow-free runtime (``runtime.py``) and never imports TensorFlow. A
``Model`` pickles as its folder path and reloads from the folder on the other side, so
it can be shipped to worker processes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sentiment_cli.io.writers import is_utf8
from sentiment_cli.models.keras_runtime import open_model
from sentiment_cli.runtime.model_folder import ModelDir
from sentiment_cli.runtime.predict import (
    Scored,
    check_min_confidence,
    predict_chunks,
    score_texts,
)


class Model:
    """A loaded model folder."""

    def __init__(self, path: str | Path | None = None, runtime: str = "numpy"):
        from sentiment_cli.resources import builtin_model_dir

        # Absolute, so that a pickled Model loads in another working directory.
        self.path = builtin_model_dir() if path is None else Path(path).absolute()
        self.runtime = runtime
        self.bundle: ModelDir = open_model(self.path, runtime=runtime)

    @property
    def labels(self) -> list[str]:
        return list(self.bundle.labels)

    def predict(self, texts: Iterable[str] | str, min_confidence: float | None = None):
        """A DataFrame with the columns of ``predict --format csv``: text, label and
        p_<label> for every label of the model, one row per text, in order. With
        ``min_confidence``, a text whose top probability is below it is labelled
        ``"uncertain"`` (its probabilities are kept).

        ``texts`` is one string or an iterable of strings. Anything else is refused
        before scoring, with a ``TypeError`` naming the first bad item's position and
        type: ``None``, NaN and bytes are not text (decode bytes, and fill or drop
        missing values first, e.g. ``frame["text"].fillna("")``)."""
        if isinstance(texts, str):
            texts = [texts]
        elif type(texts).__name__ == "DataFrame":  # iterating one gives its column names
            raise TypeError(
                "predict takes texts, not a DataFrame; for a DataFrame's column use "
                "predict_batch(frame, text_column=...)"
            )
        elif isinstance(texts, bytes | bytearray) or not isinstance(texts, Iterable):
            raise TypeError(
                f"texts must be a string or an iterable of strings, not {type(texts).__name__}"
            )
        texts = list(texts)
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            raise TypeError(
                f"texts[{bad}] is {type(texts[bad]).__name__} {texts[bad]!r:.40}, not str; "
                f"every text must be a string (decode bytes, fill or drop missing values)"
            )
        lone = next((i for i, t in enumerate(texts) if not is_utf8(t)), None)
        if lone is not None:
            raise ValueError(
                f"texts[{lone}] holds a lone surrogate, which is not text (bytes decoded with "
                f"errors='surrogateescape'?); decode them with errors='replace'"
            )
        check_min_confidence(min_confidence, self.bundle.labels)
        return score_texts(self.bundle, texts, min_confidence).frame()

    def predict_batch(self, frame, text_column: str = "text"):
        """Score a DataFrame's ``text_column``; returns the same columns as ``predict``
        (its index follows ``frame``'s). A missing value (None, NaN) is scored as an
        empty text, as ``predict --input`` scores an empty CSV field; other values are
        read as text (``str``). Anything but a DataFrame is a ``TypeError`` (a list of
        texts goes to ``predict``)."""
        import pandas as pd

        from sentiment_cli.io.readers import check_column

        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"predict_batch takes a pandas DataFrame with a {text_column!r} column, not "
                f"{type(frame).__name__}; for a string or a list of texts use predict(texts)"
            )
        check_column(frame, text_column, "predict_batch", "text_column=")
        column = frame[text_column]
        if isinstance(column, pd.DataFrame):
            raise ValueError(
                f"predict_batch: the frame has {column.shape[1]} columns named "
                f"{text_column!r}; rename or drop all but one"
            )
        column = column.astype(object)  # a categorical column cannot take "" as a value
        texts = column.where(column.notna(), "").astype(str).tolist()
        result = self.predict(texts)
        result.index = frame.index
        return result

    def predict_many(self, chunks: Iterable[list[str]]) -> Iterable[Scored]:
        """``predict.Scored`` per chunk of texts, tokenized in a process per core."""
        return predict_chunks(self.bundle, chunks)

    def __reduce__(self):
        # Pickled as its folder: the other side loads the weights itself.
        return (Model, (str(self.path), self.runtime))

    def __repr__(self) -> str:
        return f"Model({str(self.path)!r}, labels={self.labels})"


def load_model(path: str | Path | None = None, runtime: str = "numpy") -> Model:
    """Load a model folder written by ``sentiment-cli train``; without one, the built-in
    model shipped in the package."""
    return Model(path, runtime)
