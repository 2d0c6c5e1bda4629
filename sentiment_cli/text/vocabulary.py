"""Tokens to ids and back: the vocabulary, padding and truncation, subword n-grams."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from sentiment_cli.config import TextConfig
from sentiment_cli.errors import SentimentError
from sentiment_cli.text.tokenizer import tokenize_all

PAD = "<pad>"  # id 0: padding, masked out by the embedding layer

OOV = "<oov>"  # id 1: any token outside the vocabulary


@dataclass(frozen=True)
class Encoded:
    ids: np.ndarray  # (n, max_length) int32
    lengths: np.ndarray  # token count of each text before padding/truncation
    truncated: int  # how many texts were longer than max_length


def pad(sequences: Sequence[Sequence[int]], max_length: int, padding: str, truncating: str):
    """(n, max_length) int32 ids: zeros after (post) or before (pre) a short sequence;
    a long one loses its end (post) or its start (pre). Same as Keras' pad_sequences."""
    ids = np.zeros((len(sequences), max_length), dtype="int32")
    for row, sequence in enumerate(sequences):
        kept = sequence[:max_length] if truncating == "post" else sequence[-max_length:]
        if not len(kept):
            continue
        if padding == "post":
            ids[row, : len(kept)] = kept
        else:
            ids[row, max_length - len(kept) :] = kept
    return ids


class Vocabulary:
    """Token <-> id table. Id 0 is padding, id 1 is OOV, then tokens by frequency."""

    def __init__(self, tokens: Sequence[str]):
        if len(tokens) < 2 or tokens[0] != PAD or tokens[1] != OOV:
            raise SentimentError(
                f"vocabulary must start with {PAD!r} and {OOV!r}, got {list(tokens[:2])!r}"
            )
        self.tokens = list(tokens)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise SentimentError("vocabulary holds the same token twice")

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(
        cls,
        tokenized: Iterable[Sequence[str]],
        config: TextConfig,
        extra: Iterable[str] = (),
    ) -> Vocabulary:
        """Tokens of the training split seen at least ``min_count`` times, most frequent
        first, up to ``max_tokens``; then the ``extra`` tokens not already in (lexicon
        entries, which carry a prior sentiment even when training never saw them)."""
        counts = Counter(token for tokens in tokenized for token in tokens)
        # Frequency first, then alphabetical: the same data always gives the same ids.
        ranked = sorted(
            (item for item in counts.items() if item[1] >= config.min_count),
            key=lambda item: (-item[1], item[0]),
        )
        kept = [token for token, _ in ranked[: config.max_tokens - 2]]
        seen = set(kept)
        kept += sorted({token for token in extra if token not in seen and token not in (PAD, OOV)})
        return cls([PAD, OOV, *kept])

    def extended(self, tokenized: Iterable[Sequence[str]], config: TextConfig) -> Vocabulary:
        """This vocabulary, its ids unchanged, then the tokens of ``tokenized`` it lacks,
        seen at least ``min_count`` times, most frequent first, at most ``max_tokens - 2``
        of them (``train --from``: a trained model reads its words as before)."""
        counts = Counter(
            token for tokens in tokenized for token in tokens if token not in self.index
        )
        ranked = sorted(
            (item for item in counts.items() if item[1] >= config.min_count),
            key=lambda item: (-item[1], item[0]),
        )
        return Vocabulary([*self.tokens, *(token for token, _ in ranked[: config.max_tokens - 2])])

    def lookup(self, tokens: Sequence[str]) -> list[int]:
        return list(map(self.index.get, tokens, repeat(1)))

    def encode_tokens(self, tokenized: Sequence[Sequence[str]], config: TextConfig) -> Encoded:
        sequences = [self.lookup(tokens) for tokens in tokenized]
        lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        ids = pad(sequences, config.max_length, config.padding, config.truncating)
        return Encoded(ids=ids, lengths=lengths, truncated=int((lengths > config.max_length).sum()))

    def encode(self, texts: Iterable[str], config: TextConfig) -> Encoded:
        return self.encode_tokens(tokenize_all(texts, config), config)

    def save(self, path: Path) -> None:
        payload = {"padding_id": 0, "oov_id": 1, "tokens": self.tokens}
        Path(path).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
            tokens = payload["tokens"]
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise SentimentError(f"vocabulary {str(path)!r} cannot be read: {exc}") from None
        if not isinstance(tokens, list) or not set(map(type, tokens)) <= {str}:
            raise SentimentError(f"vocabulary {str(path)!r}: 'tokens' must be a list of strings")
        return cls(tokens)


SUBWORD_SIZES = (3, 4, 5)  # character n-gram lengths, over "<" + token + ">" (fastText)

SUBWORDS_PER_TOKEN = 24  # n-grams kept per token: its shortest first


def subword_table(tokens: Sequence[str], buckets: int) -> np.ndarray:
    """(len(tokens), SUBWORDS_PER_TOKEN) int32: each token's character n-grams hashed
    into ids 1..buckets (0: none). Placeholders such as <user> and the padding and
    unknown-word entries have none. crc32, not ``hash``: the same ids in every process."""
    import zlib

    table = np.zeros((len(tokens), SUBWORDS_PER_TOKEN), dtype="int32")
    for row, token in enumerate(tokens):
        if token.startswith("<") and token.endswith(">"):
            continue
        marked = f"<{token}>"
        grams = dict.fromkeys(
            marked[i : i + n] for n in SUBWORD_SIZES for i in range(len(marked) - n + 1)
        )
        ids = [zlib.crc32(g.encode("utf-8")) % buckets + 1 for g in grams]
        table[row, : min(len(ids), SUBWORDS_PER_TOKEN)] = ids[:SUBWORDS_PER_TOKEN]
    return table
