"""Tweets to fixed-length id sequences: tokenize, build a vocabulary, pad or truncate.

The vocabulary is built on the training split only and saved with the model, so
``predict`` and ``evaluate`` turn the same text into the same ids.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sentiment_cli.config import TextConfig
from sentiment_cli.errors import SentimentError

PAD = "<pad>"  # id 0: padding, masked out by the embedding layer
OOV = "<oov>"  # id 1: any token outside the vocabulary

_NUMBER = re.compile(r"^[+-]?\d+([.,:]\d+)*(st|nd|rd|th|s|k|m|pm|am|%)?$")


@lru_cache(maxsize=4)
def _tweet_tokenizer(lowercase: bool, reduce_elongations: bool):
    from nltk.tokenize import TweetTokenizer

    # TweetTokenizer keeps emoticons, emoji, URLs, @mentions and #hashtags whole and
    # unescapes HTML entities (&amp; -> &); reduce_len cuts "soooooo" to "sooo".
    return TweetTokenizer(preserve_case=not lowercase, reduce_len=reduce_elongations)


def _clean(text: str) -> str:
    # Control and format characters (NUL, zero-width space, bidi marks) carry no
    # sentiment and would otherwise become tokens of their own.
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


def tokenize(text: str, config: TextConfig) -> list[str]:
    """Split one tweet into normalized tokens."""
    raw = _tweet_tokenizer(config.lowercase, config.reduce_elongations).tokenize(_clean(text))
    tokens: list[str] = []
    for token in raw:
        lowered = token.lower()
        if config.replace_urls and (lowered.startswith(("http://", "https://", "www."))):
            tokens.append("<url>")
        elif config.replace_mentions and token.startswith("@") and len(token) > 1:
            tokens.append("<user>")
        elif config.replace_numbers and _NUMBER.match(lowered):
            tokens.append("<number>")
        elif config.split_hashtags and token.startswith("#") and len(token) > 1:
            tokens.extend(["<hashtag>", token[1:]])
        else:
            tokens.append(token)
    if config.mark_negation:
        from nltk.sentiment.util import mark_negation

        tokens = mark_negation(tokens)
    return tokens


def tokenize_all(texts: Iterable[str], config: TextConfig) -> list[list[str]]:
    return [tokenize(text, config) for text in texts]


@dataclass(frozen=True)
class Encoded:
    ids: np.ndarray  # (n, max_length) int32
    lengths: np.ndarray  # token count of each text before padding/truncation
    truncated: int  # how many texts were longer than max_length


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

    def lookup(self, tokens: Sequence[str]) -> list[int]:
        return [self.index.get(token, 1) for token in tokens]

    def encode_tokens(self, tokenized: Sequence[Sequence[str]], config: TextConfig) -> Encoded:
        from keras.utils import pad_sequences

        sequences = [self.lookup(tokens) for tokens in tokenized]
        lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        ids = pad_sequences(
            sequences,
            maxlen=config.max_length,
            dtype="int32",
            padding=config.padding,
            truncating=config.truncating,
            value=0,
        )
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
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SentimentError(f"vocabulary {str(path)!r} cannot be read: {exc}") from None
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise SentimentError(f"vocabulary {str(path)!r}: 'tokens' must be a list of strings")
        return cls(tokens)
