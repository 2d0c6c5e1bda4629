"""Which tweets to label next: those the current model would learn most from, unlike
each other, with no run of near-duplicates.

Each tweet's gradient at the classifier, taking the model's own guess as its label, is
large where the model is unsure and points in different directions for different kinds
of tweets. A batch is seeded over those gradients as k-means++ seeds clusters (BADGE:
Ash et al., "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower Bounds",
ICLR 2020): the largest first, then each next one drawn with a chance that grows with
its squared distance to those already picked. A tweet whose words (mentions, links,
numbers and "rt" aside) overlap one already in the batch by ``NEAR`` or more (Jaccard),
or repeat one taken before, is passed over: a retweet is labelled once (until only such
tweets are left). A share ``EXPLORE`` of each batch is drawn at random, so the labels
also follow the domain's own mix. Without a model (labels the built-in model does not
know, before the first retrain), every pick is random; so is every pick of a chooser
made ``at_random`` (``label --choose random``), near-duplicates still offered once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

NEAR = 0.7  # Jaccard overlap of two tweets' words from which they count as one
EXPLORE = 0.2  # share of each batch drawn at random
BATCH = 10  # tweets chosen at a time from one model
IGNORED = {"rt", "<user>", "<url>", "<number>", "<hashtag>"}


def signature(tokens: Sequence[str]) -> frozenset[str]:
    """The words that make a tweet what it is, for near-duplicate checks."""
    return frozenset(t for t in tokens if t not in IGNORED and not t.endswith("_NEG"))


def near(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= NEAR


class Chooser:
    """Picks batches of pool rows; remembers what was taken, so that a tweet and its
    near-duplicates are offered once."""

    def __init__(self, signatures: list[frozenset[str]], seed: int, at_random: bool = False):
        self.signatures = signatures
        self.at_random = at_random
        self.rng = np.random.default_rng(seed)
        self.taken: set[int] = set()
        self.seen: set[frozenset[str]] = set()  # exact signatures taken

    def take(self, rows: Iterable[int]) -> None:
        """Mark ``rows`` as taken (answered, or shown) without choosing them."""
        for row in rows:
            self.taken.add(int(row))
            self.seen.add(self.signatures[row])

    def batch(
        self, size: int, probs: np.ndarray | None, features: np.ndarray | None = None
    ) -> list[int]:
        """Up to ``size`` rows not taken yet: a share ``EXPLORE`` at random, the rest
        by ``_badge`` from the current model's ``probs`` and ``features`` of every
        pool row (None, or a chooser ``at_random``: all at random)."""
        free = np.array([i for i in range(len(self.signatures)) if i not in self.taken])
        if len(free) == 0:
            return []
        shuffled = free[self.rng.permutation(len(free))]
        if self.at_random or probs is None or features is None:
            return self._filled(self._pick(shuffled, size, []), shuffled, size)
        chosen = self._badge(shuffled, size - int(round(size * EXPLORE)), probs, features)
        rest = shuffled[~np.isin(shuffled, chosen)]
        return self._filled(chosen + self._pick(rest, size - len(chosen), chosen), shuffled, size)

    def _filled(self, picked: list[int], shuffled: np.ndarray, size: int) -> list[int]:
        """``picked``, topped up from ``shuffled`` where only near-duplicates of taken
        tweets are left: a pool of retweets still gets labelled."""
        if len(picked) < size:
            more = [int(r) for r in shuffled if int(r) not in self.taken][: size - len(picked)]
            self.take(more)
            picked = picked + more
        return picked

    def _badge(self, shuffled, size, probs, features) -> list[int]:
        """k-means++ seeding over each tweet's loss gradient at the classifier, taking
        the model's guess as its label (BADGE, Ash et al. 2020): the gradient is large
        where the model is unsure, and seeding spreads the picks over unlike tweets."""
        p, h = probs[shuffled], features[shuffled]
        residual = p.copy()
        residual[np.arange(len(p)), p.argmax(axis=1)] -= 1.0
        grads = (residual[:, :, None] * h[:, None, :]).reshape(len(p), -1)
        squared = (grads**2).sum(axis=1)
        distance = squared.copy()
        chosen: list[int] = []
        at = int(np.argmax(squared))
        while len(chosen) < size:
            row = int(shuffled[at])
            if self._pick(np.array([row]), 1, chosen):
                chosen.append(row)
                gap = ((grads - grads[at]) ** 2).sum(axis=1)
                distance = np.minimum(distance, gap)
            distance[at] = 0.0
            total = distance.sum()
            if total <= 0:
                break
            at = int(self.rng.choice(len(distance), p=distance / total))
        return chosen

    def _pick(self, order: np.ndarray, size: int, already: list[int]) -> list[int]:
        picked: list[int] = []
        batch = [self.signatures[i] for i in already]
        for row in order:
            if len(picked) >= size:
                break
            sig = self.signatures[row]
            if sig in self.seen or any(near(sig, other) for other in batch):
                continue
            picked.append(int(row))
            batch.append(sig)
        self.take(picked)
        return picked
