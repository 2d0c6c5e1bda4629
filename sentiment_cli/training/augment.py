"""Training-data augmentation that teaches the network to read negation and contrast.

Few training tweets negate a sentiment word, so a network can score well while treating
"not good" like "good". These rules make edited copies of real training tweets, on their
tokens, with labels that follow from the edit:

- negation: a positive or negative tweet whose sentiment words (VADER |valence| >= 1.0)
  all agree with its label, and that holds no negator or "but", gives the clause of its
  first sentiment word with a negator inserted before that word ("loved the show" ->
  "never loved the show"; the negators range from "not" and "n't" to "no one",
  "nothing" and "without"); the label flips (positive <-> negative; a negated
  negative reads as positive, as in "not bad").
- contrast: two such sentiment clauses of opposite polarity, from two tweets, joined
  by a contrastive connective ("A , but B", "although A , B"); the label is the second
  clause's, the one that decides.

The rules edit real tweets; they never use the sentence frames of the probe suite
(``bench/make_probes.py``), so the probes stay a test of what the network learned.
Only the training split is augmented, never validation or test data.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sentiment_cli.config import TrainConfig
from sentiment_cli.text.negation import CONTRASTS, NEGATED, Scope, ends_scope, is_negator
from sentiment_cli.text.negation import mark_negation as mark

NEGATORS = [
    ["not"],
    ["never"],
    ["don't"],
    ["didn't"],
    ["isn't"],
    ["wasn't"],
    ["can't"],
    ["won't"],
    ["not", "really"],
    ["not", "even"],
    ["hardly"],
    ["no", "longer"],
    # Quantifiers and "without": in tweets they are mostly negative words themselves
    # ("no one cares", "nothing works"), so a network that never sees them negate a
    # negative word reads "no one would call it weak" as negative.
    ["no"],
    ["nothing"],
    ["nobody"],
    ["without"],
    ["no", "one"],
    ["none"],
]
DEFAULT_SHARE = TrainConfig.augment_negated_negatives  # of the negated copies, from negatives
CONNECTIVES = [[",", "but"], [".", "but"], [",", "however"], ["but"], [".", "still"], [",", "yet"]]
CONCESSIVES = [["although"], ["though"], ["even", "though"], ["while"]]
# |VADER valence| of the words that carry a tweet's polarity. 1.0 and not 1.5, so that the
# copies also negate milder words ("complaint" -1.2, "boring" -1.3, "bored" -1.1): on
# SemEval validation, 3 seeds, negated negatives 0.912 -> 0.925, macro recall level.
STRONG = 1.0


def _has_negation_or_contrast(tokens: Sequence[str]) -> bool:
    return any(is_negator(tokens, i) or t in CONTRASTS for i, t in enumerate(tokens))


def clauses(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of each clause: runs of tokens between punctuation marks and
    contrastive words."""
    spans, start = [], 0
    for i, token in enumerate(tokens):
        if ends_scope(token):
            if i > start:
                spans.append((start, i))
            start = i + 1
    if len(tokens) > start:
        spans.append((start, len(tokens)))
    return spans


def sentiment_clauses(
    tokens: Sequence[Sequence[str]], labels: Sequence[str], valences: dict[str, float]
) -> dict[str, list[tuple[int, int, int, int]]]:
    """Per polarity, (tweet, clause start, clause end, first sentiment word) of the tweets
    whose sentiment words (|valence| >= STRONG) all agree with their label and that hold
    no negator or contrastive word: the clause around the first of those words."""
    found: dict[str, list[tuple[int, int, int, int]]] = {"positive": [], "negative": []}
    for i, (words, label) in enumerate(zip(tokens, labels, strict=True)):
        if label not in found or _has_negation_or_contrast(words):
            continue
        sign = 1 if label == "positive" else -1
        rated = [j for j, w in enumerate(words) if abs(valences.get(w, 0.0)) >= STRONG]
        if not rated or any(valences[words[j]] * sign <= 0 for j in rated):
            continue
        first = next((j for j in rated if words[j].isalpha()), None)  # a word, no emoticon
        spans = [(a, b) for a, b in clauses(words) if first is not None and a <= first < b]
        if spans:
            found[label].append((i, *spans[0], first))
    return found


def negation_copies(
    tokens: Sequence[Sequence[str]],
    found: dict[str, list[tuple[int, int, int, int]]],
    count: int,
    rng: random.Random,
    mark_negation: bool = False,
    scope_rule: Scope = "clause",
    negated_negatives: float = DEFAULT_SHARE,
) -> tuple[list[list[str]], list[str]]:
    """``count`` negated sentiment clauses, the share ``negated_negatives`` of them from
    negative tweets (read as positive, "not bad") and the rest from positive ones, with
    a negator before the first sentiment word (the scope marked, when the tokenizer
    marks it). Only the clause is kept, so the rest of the tweet (its topic) is not
    taught with the opposite label."""
    flip = {"positive": "negative", "negative": "positive"}
    # At least as many negated negatives as negated positives: negators occur mostly in
    # negative tweets, and a network that learns "negator means negative" misreads
    # "not bad".
    if not all(found.values()):
        return [], []
    from_negative = int(count * negated_negatives)
    sizes = {"negative": from_negative, "positive": count - from_negative}
    new_tokens, new_labels = [], []
    for side, clauses_of_side in found.items():
        # Without replacement while the clauses last; past that a clause comes back with
        # another negator drawn.
        picks = rng.sample(clauses_of_side, min(sizes[side], len(clauses_of_side)))
        picks += rng.choices(clauses_of_side, k=sizes[side] - len(picks))
        for i, start, end, first in picks:
            # One negator before the first sentiment word: its scope runs to the clause
            # end (a second one would cancel it).
            negator = rng.choice(NEGATORS)
            words = [*tokens[i][start:first], *negator, *tokens[i][first:end]]
            marked = mark(words, scope_rule)
            if not marked[first - start + len(negator)].endswith(NEGATED):
                # The grammar keeps "never better" unflipped: negate it plainly instead.
                words = [*tokens[i][start:first], "not", *tokens[i][first:end]]
                marked = mark(words, scope_rule)
            new_tokens.append(marked if mark_negation else words)
            new_labels.append(flip[side])
    return new_tokens, new_labels


def contrast_pairs(
    tokens: Sequence[Sequence[str]],
    found: dict[str, list[tuple[int, int, int, int]]],
    count: int,
    rng: random.Random,
) -> tuple[list[list[str]], list[str]]:
    """``count`` pairs of sentiment clauses of opposite polarity from two tweets, joined
    by a contrastive connective ("A , but B", "although A , B"), labelled as B."""
    if not found["positive"] or not found["negative"]:
        return [], []
    new_tokens, new_labels = [], []
    for k in range(count):
        second = "positive" if k % 2 else "negative"
        first = "negative" if second == "positive" else "positive"
        (i, a, b, _), (j, c, d, _) = rng.choice(found[first]), rng.choice(found[second])
        clause_a, clause_b = list(tokens[i][a:b]), list(tokens[j][c:d])
        if rng.random() < 0.25:  # the concession first
            new_tokens.append([*rng.choice(CONCESSIVES), *clause_a, ",", *clause_b])
        else:
            new_tokens.append([*clause_a, *rng.choice(CONNECTIVES), *clause_b])
        new_labels.append(second)
    return new_tokens, new_labels


def augment(
    tokens: Sequence[Sequence[str]],
    labels: Sequence[str],
    *,
    negation: float,
    contrast: float,
    seed: int,
    mark_negation: bool = False,
    scope_rule: Scope = "clause",
    negated_negatives: float = DEFAULT_SHARE,
) -> tuple[list[list[str]], list[str]]:
    """The extra (tokens, labels) to add to a training split; empty when both fractions
    are 0 or the labels are not named positive/negative."""
    if not (negation or contrast) or not {"positive", "negative"} <= set(labels):
        return [], []
    from sentiment_cli.text.lexicon import vader_valences

    rng = random.Random(seed)
    found = sentiment_clauses(tokens, labels, vader_valences())
    n = len(tokens)
    neg_tokens, neg_labels = negation_copies(
        tokens, found, int(negation * n), rng, mark_negation, scope_rule, negated_negatives
    )
    con_tokens, con_labels = contrast_pairs(tokens, found, int(contrast * n), rng)
    return neg_tokens + con_tokens, neg_labels + con_labels
