"""Prior sentiment of tokens from the VADER lexicon (Hutto & Gilbert 2014, MIT licence),
as extra per-token features.

VADER rates ~7,500 English words, slang and emoticons from -4 (most negative) to +4.
Emoji are rated by the words of their Unicode names ("smiling face with heart-eyes").
The features become a frozen embedding table indexed by token id, saved inside the
Keras model, so ``predict`` does not need the lexicon package.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.text.vocabulary import Vocabulary

FEATURES = ["valence", "in_lexicon"]  # valence / 4 in [-1, 1]; 1 when rated


def _package_dir() -> Path:
    spec = importlib.util.find_spec("vaderSentiment")
    if spec is None or not spec.submodule_search_locations:
        raise SentimentError(
            "model.lexicon: vader needs the vaderSentiment package (pip install vaderSentiment)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def vader_valences() -> dict[str, float]:
    """token -> mean valence in [-4, 4], words, emoticons and emoji."""
    folder = _package_dir()
    valences: dict[str, float] = {}
    with open(folder / "vader_lexicon.txt", encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                try:
                    valences[parts[0]] = float(parts[1])
                except ValueError:
                    continue
    emoji_file = folder / "emoji_utf8_lexicon.txt"
    if emoji_file.exists():
        with open(emoji_file, encoding="utf-8") as handle:
            for line in handle:
                emoji, _, description = line.rstrip("\n").partition("\t")
                rated = [valences[w] for w in description.lower().split() if w in valences]
                if emoji and rated and emoji not in valences:
                    valences[emoji] = float(np.mean(rated))
    return valences


def lexicon_matrix(vocab: Vocabulary) -> tuple[np.ndarray, int]:
    """(len(vocab), len(FEATURES)) feature table and how many vocabulary tokens are rated."""
    valences = vader_valences()
    matrix = np.zeros((len(vocab), len(FEATURES)), dtype="float32")
    rated = 0
    for index, token in enumerate(vocab.tokens[2:], start=2):
        # mark_negation turns "good" into "good_NEG": rate it as the opposite of "good".
        word, negated = (token[:-4], True) if token.endswith("_NEG") else (token, False)
        value = valences.get(word)
        if value is None:
            continue
        matrix[index] = [(-value if negated else value) / 4.0, 1.0]
        rated += 1
    return matrix, rated
