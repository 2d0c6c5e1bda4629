"""Pretrained word vectors in GloVe / word2vec text format (``word v1 v2 ...``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.text.vocabulary import Vocabulary


@dataclass(frozen=True)
class PretrainedEmbeddings:
    matrix: np.ndarray  # (len(vocab), dim); rows of words not in the file are random
    found: int  # vocabulary words (padding and OOV excluded) that had a vector
    total: int  # vocabulary words, padding and OOV excluded


def random_start(rows: int, dim: int, seed: int) -> np.ndarray:
    """Small random vectors for words without a pretrained one; zeros for padding (id 0)."""
    matrix = np.random.default_rng(seed).normal(0.0, 0.05, size=(rows, dim)).astype("float32")
    matrix[0] = 0.0
    return matrix


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
    matrix = random_start(len(vocab), dim, seed)
    found = set()
    file_dim = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip(" ")
            if not line:
                continue
            if file_dim is None:
                head = line.split(" ")
                if len(head) == 2 and all(p.isdigit() for p in head):
                    file_dim = int(head[1])  # word2vec header: "count dim"
                    continue
                file_dim = len(head) - 1
            if file_dim != dim:
                raise SentimentError(
                    f"model.embeddings_file {str(path)!r}: holds {file_dim}-dimensional "
                    f"vectors, but model.embedding_dim is {dim}"
                )
            # The vector is the last `dim` fields: some tokens (":- )") contain spaces.
            parts = line.rsplit(" ", dim)
            if len(parts) != dim + 1:
                raise SentimentError(
                    f"model.embeddings_file {str(path)!r}: line {line_no} has "
                    f"{len(parts) - 1} values, expected {dim}"
                )
            index = vocab.index.get(parts[0])
            if index is None or index < 2:
                continue
            try:
                vector = np.asarray(parts[1:], dtype="float32")
            except ValueError:
                vector = None
            if vector is None or not np.isfinite(vector).all():  # "nan", "inf", 1e39
                raise SentimentError(
                    f"model.embeddings_file {str(path)!r}: line {line_no} ({parts[0]!r}) holds "
                    f"a value that is not a finite number"
                ) from None
            matrix[index] = vector
            found.add(index)
    return PretrainedEmbeddings(matrix=matrix, found=len(found), total=len(vocab) - 2)
