"""The copies of a tweet: a retweet ("RT @news: ..."), the same tweet posted again with
another link, or with other mentions, is the same text to a reader. ``copy_key`` is
what such copies share; splits keep them on one side (``io.splits``), ``train
--val-data`` and ``evaluate`` count them (``runtime.seen``). No scikit-learn here: the
runtime reads it."""

from __future__ import annotations

import re

import numpy as np

_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_RETWEET = re.compile(r"\brt\b")
_NOT_A_WORD = re.compile(r"[\W_]+")  # punctuation, emoji, "#", spaces


def copy_key(text: str) -> str:
    """What two copies of a tweet share: the text lowercased, without links, mentions,
    "RT", punctuation, emoji or runs of spaces ("RT @news: Great game! http://t.co/x"
    and "great game" have the same key). Empty where nothing is left."""
    text = _MENTION.sub(" ", _LINK.sub(" ", text)).lower()
    return " ".join(_NOT_A_WORD.sub(" ", _RETWEET.sub(" ", text)).split())


def copy_groups(texts: list[str]) -> np.ndarray:
    """Each row's group id, numbered in order of first appearance: rows with the same
    non-empty ``copy_key`` share one; a row with an empty key is a group of its own."""
    ids: dict[str, int] = {}
    groups = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        key = copy_key(str(text)) or f"\0{i}"
        groups[i] = ids.setdefault(key, len(ids))
    return groups
