"""The edited training copies that teach negation and contrast (training/augment.py)."""

import random

import pytest

from sentiment_cli.config import Config, TrainConfig
from sentiment_cli.io.readers import LabelledData
from sentiment_cli.text.lexicon import vader_valences
from sentiment_cli.text.negation import NEGATED
from sentiment_cli.training.augment import (
    NEGATORS,
    STRONG,
    augment,
    contrast_pairs,
    negation_copies,
    sentiment_clauses,
)
from sentiment_cli.training.prepare import augmented

TWEETS = [
    ("i loved the show . see you on friday", "positive"),
    ("what a great game", "positive"),
    ("it was better than expected", "positive"),
    ("the food was awful", "negative"),
    ("i hate mondays", "negative"),
    ("terrible service , again", "negative"),
    ("such a boring lecture", "negative"),  # a milder word: VADER -1.3
    ("the bus leaves at nine", "neutral"),
    ("not great , but i loved it", "positive"),  # negation and contrast: never edited
]
TOKENS = [text.split() for text, _ in TWEETS]
LABELS = [label for _, label in TWEETS]


@pytest.fixture(scope="module")
def found():
    return sentiment_clauses(TOKENS, LABELS, vader_valences())


def negator_of(copy: list[str]) -> tuple[str, ...]:
    """The negator inserted in a copy: the words just before its negated sentiment word."""
    valences = vader_valences()
    plain = [t.removesuffix(NEGATED) for t in copy]
    word = next(i for i, t in enumerate(copy) if t.endswith(NEGATED) and plain[i] in valences)
    for negator in sorted(NEGATORS, key=len, reverse=True):
        if plain[word - len(negator) : word] == negator:
            return tuple(negator)
    raise AssertionError(f"no negator before the sentiment word in {copy}")


def test_only_clean_sentiment_tweets_are_edited(found):
    edited = {i for side in found.values() for i, *_ in side}
    # Not the neutral tweet, not the one that already negates and contrasts.
    assert edited == {0, 1, 2, 3, 4, 5, 6}


def test_negated_copies_flip_the_label_and_keep_only_the_clause(found):
    tokens, labels = negation_copies(
        TOKENS, found, 200, random.Random(0), mark_negation=True, scope_rule="grammar"
    )
    assert len(tokens) == 200
    # Negated negatives (read as positive) in the config's share.
    assert labels.count("positive") == int(200 * TrainConfig().augment_negated_negatives)
    valences = vader_valences()
    negators = {word for negator in NEGATORS for word in negator}
    for copy, label in zip(tokens, labels, strict=True):
        plain = [t.removesuffix(NEGATED) for t in copy]
        words = [t for t in plain if t not in negators]
        rated = [valences[t] for t in words if abs(valences.get(t, 0)) >= STRONG]
        # A positive clause negated is negative and the other way round.
        assert rated and all((v > 0) == (label == "negative") for v in rated), copy
        assert "friday" not in plain and "again" not in plain  # the clause only
        # The sentiment word is inside the scope, so the network reads it negated.
        assert any(t.endswith(NEGATED) and t.removesuffix(NEGATED) in valences for t in copy)


def test_the_share_of_negated_negatives_is_set(found):
    _, labels = negation_copies(TOKENS, found, 300, random.Random(0), negated_negatives=0.67)
    assert labels.count("positive") == 201 and labels.count("negative") == 99


def test_training_takes_the_share_from_the_config():
    texts = [" ".join(words) for words in TOKENS] * 25
    data = LabelledData(texts=texts, labels=LABELS * 25, dropped=0, path="train.csv")
    for share in (0.5, 0.8):
        config = Config(
            train=TrainConfig(
                augment_negation=0.5, augment_contrast=0.0, augment_negated_negatives=share
            )
        )
        part, _ = augmented(data, TOKENS * 25, config, log=lambda message: None)
        added = part.labels[len(data) :]
        # Half as many negated copies as tweets, the share of them negated negatives
        # (labelled positive).
        copies = int(0.5 * len(data))
        assert len(added) == copies and added.count("positive") == int(copies * share)


def test_every_kind_of_negator_negates_a_negative_word(found):
    tokens, labels = negation_copies(
        TOKENS, found, 2000, random.Random(1), mark_negation=True, scope_rule="grammar"
    )
    pairs = zip(tokens, labels, strict=True)
    negated_negatives = [negator_of(copy) for copy, label in pairs if label == "positive"]
    # Quantifiers and "without", not only "not" and "n't": "no one would call it weak".
    assert {("no", "one"), ("nothing",), ("nobody",), ("without",)} <= set(negated_negatives)
    assert {("not",), ("never",), ("don't",)} <= set(negated_negatives)


def test_milder_sentiment_words_are_negated_too(found):
    # "not a boring moment" is a negated negative as much as "not a terrible one".
    tokens, labels = negation_copies(
        TOKENS, found, 500, random.Random(5), mark_negation=True, scope_rule="grammar"
    )
    assert {label for copy, label in zip(tokens, labels, strict=True) if "boring_NEG" in copy} == {
        "positive"
    }


def test_a_degree_word_the_grammar_keeps_unflipped_is_negated_with_not(found):
    # "never better" is not a negated "better" under the grammar scope: the copy of
    # "it was better than expected" must still negate it, with a plain "not".
    tokens, labels = negation_copies(
        TOKENS, found, 2000, random.Random(2), mark_negation=True, scope_rule="grammar"
    )
    copies = [c for c in tokens if "better_NEG" in c or "better" in c]
    assert copies
    assert all("better_NEG" in c for c in copies)
    assert {negator_of(c) for c in copies if "better_NEG" in c} >= {("not",)}


def test_unmarked_copies_when_the_tokenizer_does_not_mark(found):
    tokens, _ = negation_copies(TOKENS, found, 50, random.Random(3), mark_negation=False)
    assert not any(t.endswith(NEGATED) for copy in tokens for t in copy)


def test_contrast_pairs_take_the_label_of_the_second_clause(found):
    valences = vader_valences()
    tokens, labels = contrast_pairs(TOKENS, found, 100, random.Random(4))
    assert labels.count("positive") == labels.count("negative") == 50
    for copy, label in zip(tokens, labels, strict=True):
        last_rated = [valences[t] for t in copy if abs(valences.get(t, 0)) >= STRONG][-1]
        assert (last_rated > 0) == (label == "positive"), copy


def test_nothing_is_added_without_positive_and_negative_labels():
    assert augment(TOKENS, ["a"] * len(TOKENS), negation=0.5, contrast=0.5, seed=0) == ([], [])
    assert augment(TOKENS, LABELS, negation=0.0, contrast=0.0, seed=0) == ([], [])


def test_augment_adds_the_requested_fractions_and_is_reproducible():
    first = augment(TOKENS * 25, LABELS * 25, negation=0.2, contrast=0.1, seed=7)
    n = len(TOKENS) * 25
    assert len(first[0]) == int(0.2 * n) + int(0.1 * n)
    assert augment(TOKENS * 25, LABELS * 25, negation=0.2, contrast=0.1, seed=7) == first
    assert augment(TOKENS * 25, LABELS * 25, negation=0.2, contrast=0.1, seed=8) != first
