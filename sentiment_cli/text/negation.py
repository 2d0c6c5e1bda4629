"""Negation scope: the words after a negator, up to the clause's end, get _NEG."""

from __future__ import annotations

from collections.abc import Sequence
from sys import intern

NEGATED = "_NEG"  # the mark a word in a negation's scope carries
NEGATORS = frozenset(
    "not no never nothing nobody none nor neither nowhere cannot without hardly barely "
    "scarcely dont cant wont didnt doesnt isnt wasnt arent aint couldnt wouldnt shouldnt "
    "havent hasnt hadnt".split()
)

CONTRASTS = frozenset("but however although though yet except".split())


def is_negator(tokens: Sequence[str], i: int) -> bool:
    token = tokens[i]
    # "can’t" with a curly apostrophe tokenizes as "can ’ t".
    curly = token == "t" and i > 0 and tokens[i - 1] in ("’", "'")
    return token in NEGATORS or _ends_in_nt(token) or curly


def _ends_in_nt(token: str) -> bool:
    return token.endswith(("n't", "n’t"))


_CLAUSE_PUNCTUATION = frozenset(".,:;!?…")


def ends_scope(token: str) -> bool:
    """A clause ends at a punctuation mark (not an emoticon such as ":)") or a
    contrastive word."""
    return token in CONTRASTS or (bool(token) and set(token) <= _CLAUSE_PUNCTUATION)


def mark_negation(tokens: Sequence[str]) -> list[str]:
    """ "_NEG" on the words after a negator, up to the end of its clause: the next
    punctuation mark or contrastive word ("not bad at all, but" -> "not bad_NEG
    at_NEG all_NEG , but"). A second negator inside the scope closes it, so double
    negatives read as positives ("not that it wasn't good" leaves "good" unmarked).

    NLTK's ``mark_negation`` keeps the scope open across commas and "but" and marks
    the second negator instead of closing the scope; both would mislabel the clause
    that decides a contrast."""
    if NEGATORS.isdisjoint(tokens) and "t" not in tokens:
        joined = " ".join(tokens)  # one search for "n't" instead of one per token
        if ("n't" not in joined and "n’t" not in joined) or not any(map(_ends_in_nt, tokens)):
            return list(tokens)  # no negator: nothing to mark (most tweets)
    marked: list[str] = []
    scope = False
    for i, token in enumerate(tokens):
        if is_negator(tokens, i):
            scope = not scope
        elif ends_scope(token):
            scope = False
        elif scope and token[:1].isalpha():
            token += NEGATED
        marked.append(intern(token))
    return marked
