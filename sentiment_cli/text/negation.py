"""Negation scope: the words after a negator, up to the clause's end, get _NEG.

Two scopes are offered (``text.negation_scope``):

- ``clause``: every word from the negator to the clause's end is marked.
- ``grammar``: the same, but the scope also ends where English grammar says a negator
  stops flipping: at a degree expression after a negator that can intensify ("couldn't
  be happier", "never been so happy", "no better way", "can't get enough"), at a
  wh-clause ("can't believe how good"), and a negative-implicative verb counts as a
  negator ("never fails to amaze" reads like a double negative).
"""

from __future__ import annotations

from collections.abc import Sequence
from sys import intern
from typing import Literal

NEGATED = "_NEG"  # the mark a word in a negation's scope carries
NEGATORS = frozenset(
    "not no never nothing nobody none nor neither nowhere cannot without hardly barely "
    "scarcely dont cant wont didnt doesnt isnt wasnt arent aint couldnt wouldnt shouldnt "
    "havent hasnt hadnt".split()
)

CONTRASTS = frozenset("but however although though yet except".split())

Scope = Literal["clause", "grammar"]

# "fails to X" means "not X": followed by "to", these verbs negate (Karttunen's
# negative implicatives), so "never fails to disappoint" keeps "disappoint" unflipped.
IMPLICATIVES = frozenset("fail fails failed failing cease ceases ceased".split())
# Negators whose scope a degree expression turns from "not X" into "as X as can be":
# "couldn't be happier", "can't get any better", "never been better", "no better way",
# "nothing worse than". A plain "not"/"isn't better" still flips.
INTENSIFIABLE = frozenset("never no nothing nobody none cannot couldn't couldnt can't cant".split())
MODALS = frozenset(("can", "could"))  # "could not", "can not" intensify like "couldn't"
# Comparatives of evaluative adjectives (and "more", which builds the others).
COMPARATIVES = frozenset(
    "better worse more happier nicer greater cooler sweeter prettier cuter funnier easier "
    "tastier lovelier luckier prouder sadder angrier uglier dumber crazier scarier "
    "stupider smarter brighter stronger weaker cheaper faster louder smoother cleaner "
    "dirtier healthier richer safer kinder bigger worser lazier nastier".split()
)
DEGREE_AFTER_NEVER = frozenset("so such this that".split())  # "never been so happy"
QUANTIFIERS = frozenset("never no nothing nobody none".split())  # "never enough" is a lack
WH_WORDS = frozenset("how what why".split())  # "can't believe how good it was"


def is_negator(tokens: Sequence[str], i: int) -> bool:
    token = tokens[i]
    # "can’t" with a curly apostrophe tokenizes as "can ’ t".
    curly = token == "t" and i > 0 and tokens[i - 1] in ("’", "'")
    return token in NEGATORS or _ends_in_nt(token) or curly


def _is_implicative(tokens: Sequence[str], i: int) -> bool:
    return tokens[i] in IMPLICATIVES and i + 1 < len(tokens) and tokens[i + 1] == "to"


def _can_intensify(tokens: Sequence[str], i: int) -> bool:
    token = tokens[i]
    if token in INTENSIFIABLE:
        return True
    before = tokens[i - 1] if i > 0 else ""
    if token == "t":  # "can ’ t", "couldn ’ t"
        return i > 1 and tokens[i - 2] in ("can", "couldn", "could")
    return token == "not" and before in MODALS


def _ends_in_nt(token: str) -> bool:
    return token.endswith(("n't", "n’t"))


_CLAUSE_PUNCTUATION = frozenset(".,:;!?…")


def ends_scope(token: str) -> bool:
    """A clause ends at a punctuation mark (not an emoticon such as ":)") or a
    contrastive word."""
    return token in CONTRASTS or (bool(token) and set(token) <= _CLAUSE_PUNCTUATION)


def _degree(tokens: Sequence[str], i: int, negator: str) -> bool:
    """Whether tokens[i], inside the scope of an intensifiable ``negator``, is a degree
    expression that ends the scope ("no more" is the end of something, not a degree)."""
    token = tokens[i]
    if token in COMPARATIVES:
        return not (token == "more" and tokens[i - 1] in ("no", "nothing"))
    if token == "enough":  # "can't get enough", "couldn't thank you enough"
        return negator not in QUANTIFIERS
    return negator == "never" and token in DEGREE_AFTER_NEVER


def mark_negation(tokens: Sequence[str], scope_rule: Scope = "clause") -> list[str]:
    """ "_NEG" on the words after a negator, up to the end of its clause: the next
    punctuation mark or contrastive word ("not bad at all, but" -> "not bad_NEG
    at_NEG all_NEG , but"). A second negator inside the scope closes it, so double
    negatives read as positives ("not that it wasn't good" leaves "good" unmarked).
    With ``scope_rule="grammar"`` the scope also ends at a degree expression after an
    intensifying negator, at a wh-word, and at a negative-implicative verb (see the
    module's docstring).

    NLTK's ``mark_negation`` keeps the scope open across commas and "but" and marks
    the second negator instead of closing the scope; both would mislabel the clause
    that decides a contrast."""
    grammar = scope_rule == "grammar"
    if NEGATORS.isdisjoint(tokens) and "t" not in tokens:
        joined = " ".join(tokens)  # one search for "n't" instead of one per token
        implicative = grammar and not IMPLICATIVES.isdisjoint(tokens)
        if not implicative and (
            ("n't" not in joined and "n’t" not in joined) or not any(map(_ends_in_nt, tokens))
        ):
            return list(tokens)  # no negator: nothing to mark (most tweets)
    marked: list[str] = []
    scope = intensify = False
    negator = ""
    for i, token in enumerate(tokens):
        if is_negator(tokens, i) or (grammar and _is_implicative(tokens, i)):
            scope = not scope
            negator = token
            intensify = grammar and scope and _can_intensify(tokens, i)
        elif ends_scope(token) or (grammar and token in WH_WORDS):
            scope = False
        elif scope and intensify and _degree(tokens, i, negator):
            scope = False
        elif scope and token[:1].isalpha():
            token += NEGATED
        marked.append(intern(token))
    return marked


def has_negation(tokens: Sequence[str]) -> bool:
    """A negator, or a word marked as in a negation's scope."""
    return any(token.endswith(NEGATED) or is_negator(tokens, i) for i, token in enumerate(tokens))


def has_contrast(tokens: Sequence[str]) -> bool:
    """A contrastive word ("but", "although", ...), whose clauses weigh differently."""
    return not CONTRASTS.isdisjoint(tokens)


# Constructions whose meaning depends on word order, which a bag of words cannot read.
ORDER_CUES = {"negation": has_negation, "contrast": has_contrast}
