"""Tokenized tweets cached next to a model run, so that ``--resume`` and repeated runs
on the same data do not tokenize again.

A cache file is keyed by a hash of the texts (in order), the text settings and the
tool's version, and holds the tokens compactly: the distinct tokens, one int32 id per
token and each text's offset. It lives in ``.OUTPUT_DIR.tokens/`` beside the model
folder; delete that folder to drop the cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment_cli.config import TextConfig
from sentiment_cli.text.tokenizer import tokenize_all
from sentiment_cli.version import __version__


def cache_dir(output_dir: str | Path) -> Path:
    from sentiment_cli.runtime.model_folder import neighbour

    return neighbour(Path(output_dir), "tokens")


def key(texts: Sequence[str], config: TextConfig) -> str:
    digest = hashlib.sha256()
    settings = {"text": dataclasses.asdict(config), "version": __version__}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:32]


def tokenize_cached(
    texts: Sequence[str], config: TextConfig, folder: Path | None
) -> tuple[list[list[str]], bool]:
    """(tokens of every text, whether they came from the cache)."""
    if folder is None:
        return tokenize_all(texts, config), False
    path = Path(folder) / f"{key(texts, config)}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                table = stored["table"].tolist()
                ids, offsets = stored["ids"], stored["offsets"]
            if len(offsets) != len(texts) + 1 or offsets[-1] != len(ids):
                raise ValueError("the cache does not hold these texts")
            flat = [table[i] for i in ids]
            return [flat[offsets[k] : offsets[k + 1]] for k in range(len(offsets) - 1)], True
        except Exception:  # truncated, edited or foreign (BadZipFile, IndexError, ...)
            with contextlib.suppress(OSError):
                path.unlink()  # a cache is only a shortcut: tokenize again
    tokens = tokenize_all(texts, config)
    with contextlib.suppress(OSError):  # a cache that cannot be written is no loss
        save(path, tokens)
    return tokens, False


def save(path: Path, tokens: list[list[str]]) -> None:
    index: dict[str, int] = {}
    ids = np.fromiter(
        (index.setdefault(t, len(index)) for words in tokens for t in words), dtype="int32"
    )
    offsets = np.cumsum([0, *map(len, tokens)], dtype="int64")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}.npz"
    table = np.array(list(index), dtype=str) if index else np.array([], dtype="<U1")
    np.savez(tmp, table=table, ids=ids, offsets=offsets)
    os.replace(tmp, path)
