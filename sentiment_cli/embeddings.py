"""Pretrained word vectors in GloVe / word2vec text format (``word v1 v2 ...``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.text import Vocabulary


@dataclass(frozen=True)
class PretrainedEmbeddings:
    matrix: np.ndarray  # (len(vocab), dim); rows of words not in the file are random
    found: int  # vocabulary words (padding and OOV excluded) that had a vector
    total: int  # vocabulary words, padding and OOV excluded


def load_embeddings(
    path: str | Path, vocab: Vocabulary, dim: int, seed: int
) -> PretrainedEmbeddings:
    """Build an embedding matrix for ``vocab`` from a text vector file.

    A word2vec header line (``count dim``) is skipped. Words missing from the file get
    small random vectors, the padding row is zero.
    """
    path = Path(path)
    if not path.is_file():
        raise SentimentError(f"model.embeddings_file {str(path)!r}: file does not exist")
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.05, size=(len(vocab), dim)).astype("float32")
    matrix[0] = 0.0
    found = set()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if line_no == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header
            if len(parts) < 2:
                continue
            word, values = parts[0], parts[1:]
            if len(values) != dim:
                raise SentimentError(
                    f"model.embeddings_file {str(path)!r}: line {line_no} has a "
                    f"{len(values)}-dimensional vector, but model.embedding_dim is {dim}"
                )
            index = vocab.index.get(word)
            if index is None or index < 2:
                continue
            try:
                matrix[index] = np.asarray(values, dtype="float32")
            except ValueError:
                raise SentimentError(
                    f"model.embeddings_file {str(path)!r}: line {line_no} holds a value that "
                    f"is not a number"
                ) from None
            found.add(index)
    return PretrainedEmbeddings(matrix=matrix, found=len(found), total=len(vocab) - 2)
