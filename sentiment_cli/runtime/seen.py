"""``seen.npy``: which tweets a model was trained on, as fingerprints, so that
``evaluate`` can say when the tweets it scores are ones the model has read.

A model scores the tweets of its own training file, or their copies (a retweet, the
same text with another link), better than tweets it never saw, so figures measured on
them flatter it. The training file's rows are kept as fingerprints: the first 8 bytes
of the BLAKE2b hash of each row's ``io.copies.copy_key`` (the text lowercased, without
links, mentions, "RT", punctuation and emoji), sorted and unique, as one uint64 array.
The texts cannot be read back from them; two different texts share a fingerprint with a
chance of about n / 2**64. ``train --from`` keeps the fingerprints of the folder it
continues. Folders written before the file have none, and nothing is said for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.copies import copy_key
from sentiment_cli.runtime import integrity

FILE = "seen.npy"


def _fingerprint(text: str) -> int | None:
    key = copy_key(str(text))
    if not key:
        return None
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


def _array(prints: Iterable[int | None]) -> np.ndarray:
    return np.array([p for p in prints if p is not None], dtype=np.uint64)


def fingerprints(texts: Iterable[str], also: np.ndarray | None = None) -> np.ndarray:
    """Sorted unique uint64 fingerprints of the texts' non-empty copy keys (and of
    ``also``, fingerprints kept from before)."""
    found = _array(map(_fingerprint, set(texts)))
    return np.unique(found if also is None else np.concatenate([found, also.astype(np.uint64)]))


def count(texts: Iterable[str], seen: np.ndarray) -> int:
    """How many of ``texts`` (rows: each copy counts) have a fingerprint in ``seen``."""
    return counts(texts, seen)[0]


def counts(texts: Iterable[str], *known: np.ndarray | None) -> list[int | None]:
    """``count`` against each of ``known`` (None where it is None), with the texts
    fingerprinted once."""
    if all(k is None for k in known):
        return [None] * len(known)
    prints = _array(map(_fingerprint, texts))
    return [None if k is None else int(np.isin(prints, k).sum()) for k in known]


def save(folder: Path, seen: np.ndarray) -> None:
    np.save(Path(folder) / FILE, np.ascontiguousarray(seen, dtype=np.uint64), allow_pickle=False)


def read(folder: Path, manifest: dict | None) -> np.ndarray | None:
    """The folder's fingerprints, checked against its manifest; None where it has none."""
    folder = Path(folder)
    files = (manifest or {}).get("files")
    if not isinstance(files, dict) or FILE not in files:
        return None
    integrity.verify(folder, files, [FILE])
    return load(folder / FILE, f"model folder {folder}")


def load(path: Path, where: str) -> np.ndarray:
    """The fingerprints of ``path``, checked for their type (``where`` names the folder)."""
    try:
        seen = np.load(path, allow_pickle=False)
    except Exception as exc:  # a damaged header raises many types: all mean damage
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise SentimentError(f"{where}: {FILE} cannot be read: {detail}") from None
    if seen.dtype != np.uint64 or seen.ndim != 1:
        raise SentimentError(
            f"{where}: {FILE} must be one row of uint64 fingerprints, "
            f"got {seen.dtype} of shape {seen.shape}"
        )
    return seen


def member(texts: Iterable[str], seen: np.ndarray) -> np.ndarray:
    """One bool per text: its fingerprint is in ``seen`` (an empty copy key never is)."""
    prints = [_fingerprint(text) for text in texts]
    found = np.array([0 if p is None else p for p in prints], dtype=np.uint64)
    return np.isin(found, seen) & np.array([p is not None for p in prints], dtype=bool)
