"""A neutral class for a corpus that has none: its own tweets, their sentiment words out.

Distant labels say negative or positive (emoticons and emoji, Sentiment140), while the
domains users bring are often mostly neutral (news, questions, announcements). An
encoder learnt from two labels gives words and a recurrent layer, but no classifier of
three labels to transfer, and its states never learnt what a tweet without sentiment
looks like. So where a corpus's labels are exactly negative and positive, ``pretrain``
makes the third one from the corpus itself: a share ``SHARE`` of its tweets, drawn at
random (seed ``train.seed``), leaves its class; in each, every word the VADER lexicon
rates ``|valence| >= MIN_VALENCE`` and every negator is taken out, and what is left is
a neutral tweet where at least ``MIN_WORDS`` words remain and one was taken out (the
rest of the drawn tweets are left out). Such a tweet is a noisy neutral (what is left
of "on the plane for an hour, delays at heathrow" still complains), as the emoticons
are noisy labels; measured, it is what makes an encoder of Sentiment140 worth starting
from on a new domain (``docs/train.md``, "Your own encoder").
"""

from __future__ import annotations

import re

import numpy as np

SHARE = 1 / 3  # of the corpus's tweets drawn to become neutral ones
MIN_VALENCE = 0.5  # |VADER valence| from which a word is a sentiment word
MIN_WORDS = 3  # words a neutral tweet keeps at least
LABELS = ("negative", "positive")  # the corpus's labels for which a neutral class is made
NEUTRAL = "neutral"

_EDGES = re.compile(r"^[^\w#@']+|[^\w']+$")


def needs_neutral(labels: list[str]) -> bool:
    """Whether the corpus's labels are exactly ``LABELS``."""
    return set(labels) == set(LABELS)


def without_sentiment(text: str, valences: dict[str, float], negators: frozenset[str]):
    """``text`` with its sentiment words and negators taken out (words split at
    whitespace, compared lowercased without their leading and trailing punctuation),
    or None where fewer than ``MIN_WORDS`` words remain or none was taken out."""
    words = text.split()
    kept = [w for w in words if not _sentiment_word(_EDGES.sub("", w.lower()), valences, negators)]
    if len(kept) < MIN_WORDS or len(kept) == len(words):
        return None
    return " ".join(kept)


def _sentiment_word(word: str, valences: dict[str, float], negators: frozenset[str]) -> bool:
    # The negators are spelt without apostrophes: "don't" is found as "dont".
    return abs(valences.get(word, 0.0)) >= MIN_VALENCE or word.replace("'", "") in negators


def add_neutral(texts: list[str], labels: list[str], seed: int):
    """(texts, labels, what was made): a share ``SHARE`` of the tweets drawn out of
    their class, those that keep enough words added back as neutral ones."""
    from sentiment_cli.text.lexicon import vader_valences
    from sentiment_cli.text.negation import NEGATORS

    valences = vader_valences()
    drawn = np.random.default_rng(seed).random(len(texts)) < SHARE
    kept = np.flatnonzero(~drawn)
    made = (without_sentiment(texts[i], valences, NEGATORS) for i in np.flatnonzero(drawn))
    neutral = [t for t in made if t is not None]
    out_texts, out_labels = [texts[i] for i in kept], [labels[i] for i in kept]
    summary = {
        "made_from": f"{SHARE:.0%} of the tweets drawn at random, their words of |VADER "
        f"valence| >= {MIN_VALENCE} and negators taken out, kept with {MIN_WORDS}+ words left",
        "drawn": int(drawn.sum()),
        "neutral": len(neutral),
    }
    return out_texts + neutral, out_labels + [NEUTRAL] * len(neutral), summary
