"""Tweets to fixed-length id sequences: tokenize, build a vocabulary, pad or truncate.

The vocabulary is built on the training split only and saved with the model, so
``predict`` and ``evaluate`` turn the same text into the same ids.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from sys import intern

from sentiment_cli.config import TextConfig
from sentiment_cli.errors import SentimentError
from sentiment_cli.text.negation import NEGATED, mark_negation

_NUMBER = re.compile(r"^[+-]?\d+([.,:]\d+)*(st|nd|rd|th|s|k|m|pm|am|%)?$")


_LOADING = threading.Lock()  # the temporary package below must not be seen by two threads


@lru_cache(maxsize=1)
def _tweet_tokenizer_class():
    """NLTK's TweetTokenizer without running ``nltk/__init__`` (1.5 s: it imports scipy
    and scikit-learn): its module and the two it needs are loaded under a temporary
    ``nltk`` package, which is removed again, so a later ``import nltk`` is untouched."""
    with _LOADING:
        return _load_tweet_tokenizer_class()


def _load_tweet_tokenizer_class():
    import importlib.util
    import sys
    import types

    if "nltk" in sys.modules:
        from nltk.tokenize import TweetTokenizer

        return TweetTokenizer
    root = importlib.util.find_spec("nltk").submodule_search_locations[0]
    try:
        for name, path in (("nltk", root), ("nltk.tokenize", f"{root}/tokenize")):
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
        api = types.ModuleType("nltk.tokenize.api")
        api.TokenizerI = _TokenizerBase
        sys.modules["nltk.tokenize.api"] = api
        from nltk.tokenize.casual import TweetTokenizer
    finally:
        for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
            del sys.modules[name]
    return TweetTokenizer


class _TokenizerBase:
    """Stands in for ``nltk.tokenize.api.TokenizerI``, the base class of NLTK's
    TweetTokenizer, while its module loads: the real one imports nltk.internals and
    xml.sax.saxutils (subprocess, urllib, http.client, ssl: 40 ms of every start) for
    helpers (span_tokenize, tokenize_sents) that TweetTokenizer.tokenize does not use."""


@lru_cache(maxsize=4)
def _tweet_tokenizer(lowercase: bool, reduce_elongations: bool):
    # TweetTokenizer keeps emoticons, emoji, URLs, @mentions and #hashtags whole and
    # unescapes HTML entities (&amp; -> &); reduce_len cuts "soooooo" to "sooo".
    tokenizer = _tweet_tokenizer_class()(preserve_case=not lowercase, reduce_len=reduce_elongations)
    return _FastTweetTokenizer.wrap(tokenizer)


_REPEATED_3 = re.compile(r"(.)\1\1")  # what reduce_lengthening would shorten
# What a token spanning whitespace needs (a phone number's gap holding a space, spaced
# dots), or a character that str.split and `regex` disagree on (``chunks``).
_SPANS_ASCII = re.compile(r"\d[ *\-.)]* [ *\-.)]*\(?\d|\.[^\S\r\n]+\.|[\x1c-\x1f]")
ASCII_ENGINE_MAX = 1000  # characters: longer texts keep `regex` and its time limit


class _FastTweetTokenizer:
    """``TweetTokenizer.tokenize`` with the same output, about twice as fast: each of its
    passes runs only where it can change the text (an HTML entity needs "&", an
    elongation needs three equal characters, a "hang" run needs four after the
    elongations are cut) and the emoticon check before lowercasing runs only on
    tokens that have capitals and are not all letters; ASCII text is matched by the
    standard library's engine (``ascii_words``). Built from NLTK's own module
    functions; where they are not there, NLTK's ``tokenize`` is used as it is."""

    def __init__(self, tokenizer, casual):
        self.tokenizer, self.casual = tokenizer, casual
        self.words = tokenizer.PHONE_WORD_RE if tokenizer.match_phone_numbers else tokenizer.WORD_RE
        self.timeout = casual.redos.DEFAULT_TIMEOUT
        # The same pattern under the standard library's engine, 2.3x faster; on ASCII
        # text it matches what `regex` matches (Unicode classes and case folding only
        # differ beyond ASCII). It has no time limit, so long texts, where the phone
        # sub-pattern backtracks quadratically, stay with `regex` and its timeout.
        try:
            self.ascii_words = re.compile(self.words.pattern, re.VERBOSE | re.IGNORECASE)
            self.ascii_emoticon = re.compile(casual.EMOTICON_RE.pattern, re.VERBOSE | re.IGNORECASE)
        except re.error:
            self.ascii_words = None
        self.spans = casual.regex.compile(_SPANS_ASCII.pattern)  # `regex`'s \d and \s

    @classmethod
    def wrap(cls, tokenizer):
        import types

        # The module's own namespace (it may have been loaded outside sys.modules).
        casual = types.SimpleNamespace(**type(tokenizer).tokenize.__globals__)
        needed = ("_replace_html_entities", "reduce_lengthening", "HANG_RE", "EMOTICON_RE", "regex")
        if tokenizer.strip_handles or not all(hasattr(casual, n) for n in needed):
            return tokenizer
        try:
            return cls(tokenizer, casual)
        except AttributeError:
            return tokenizer

    def tokenize(self, text: str) -> list[str]:
        if "&" in text:
            text = self.casual._replace_html_entities(text)
        return self.tokenize_unescaped(text)

    def chunks(self, text: str) -> list[str] | None:
        """The text's whitespace-separated chunks (HTML entities replaced first), where
        tokenizing each chunk alone gives the tokens of the whole text; else None.

        No token spans whitespace except a phone number with a space in it ("555 123
        4567") and spaced dots (". . ."), and the pattern's only look-arounds (no "@"
        before or after a bare domain, a word boundary after it) read whitespace as
        they read the start or end of a text; the elongation passes only shorten runs
        of one character. So the chunks give the same tokens unless the text holds one
        of those two spans, or a character (U+001C..U+001F) that ``str.split`` treats
        as whitespace and the `regex` module does not."""
        if "&" in text:
            text = self.casual._replace_html_entities(text)
        if text.isascii():
            if _SPANS_ASCII.search(text):
                return None
        elif self.spans.search(text):  # `regex`: its own idea of a digit and a space
            return None
        return text.split()

    def tokenize_unescaped(self, text: str) -> list[str]:
        """``tokenize`` after the HTML entities are replaced."""
        casual, tokenizer = self.casual, self.tokenizer
        if tokenizer.reduce_len:
            if _REPEATED_3.search(text):
                text = casual.reduce_lengthening(text)
            if "\n\n\n\n" in text:  # "." in reduce_lengthening skips newlines
                text = casual.HANG_RE.sub(r"\1\1\1", text)
        else:
            text = casual.HANG_RE.sub(r"\1\1\1", text)
        ascii = self.ascii_words is not None and len(text) <= ASCII_ENGINE_MAX and text.isascii()
        if ascii:
            words = self.ascii_words.findall(text)
        else:
            words = self.words.findall(text, timeout=self.timeout)
        if tokenizer.preserve_case:
            return words
        # An emoticon needs eyes (":;=8") or "<3": an all-letter token cannot be one.
        emoticon = self.ascii_emoticon.search if ascii else casual.EMOTICON_RE.search
        return [
            w if (low := w.lower()) == w or (not w.isalpha() and emoticon(w)) else low
            for w in words
        ]


def _clean(text: str) -> str:
    # Control and format characters (NUL, zero-width space, bidi marks) carry no
    # sentiment and would otherwise become tokens of their own.
    if text.isprintable():  # none of those categories is printable
        return text
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


# Skin-tone modifiers (U+1F3FB..U+1F3FF) and the text/emoji variation selectors
# (U+FE0E, U+FE0F): they change how an emoji is drawn, not what it says. Without them
# "👍🏽" is the "👍" the vocabulary and VADER know, and "❤️" is "❤" (the selector would
# otherwise be a token of its own).
_EMOJI_VARIANTS = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]")


def plain_emoji(text: str) -> str:
    """``text`` without skin tones and emoji variation selectors (``text.normalize_emoji``)."""
    return text if text.isascii() else _EMOJI_VARIANTS.sub("", text)


def load_tokenizer(config: TextConfig) -> None:
    """Load the tokenizer now (NLTK's module and its compiled patterns), e.g. before
    forking processes that will tokenize."""
    _tweet_tokenizer(config.lowercase, config.reduce_elongations)


def tokenize(text: str, config: TextConfig) -> list[str]:
    """Split one tweet into normalized tokens (negation scope marked, if configured)."""
    tokens = words(text, config)
    return mark_negation(tokens, config.negation_scope) if config.mark_negation else tokens


def text_limit(config: TextConfig) -> int:
    """Characters of one text that are tokenized: far more than ``max_length`` ids can
    hold (a tweet has at most 280), and few enough that no pattern runs for long."""
    return max(MIN_TEXT_LIMIT, CHARS_PER_ID * config.max_length)


MIN_TEXT_LIMIT = 2_000
CHARS_PER_ID = 40


def words(text: str, config: TextConfig) -> list[str]:
    """The tweet's normalized tokens, in order, before any negation marking. A text
    longer than ``text_limit`` is cut first, at the end ``truncating`` keeps.

    Most tweets are tokenized a whitespace-separated chunk at a time, and a chunk
    already seen (most of them: "the", "love", ":)") costs one dictionary lookup."""
    limit = text_limit(config)
    if len(text) > limit:
        text = text[:limit] if config.truncating == "post" else text[-limit:]
    try:
        return _words(text, config)
    except TimeoutError:  # `regex`'s time limit, on a text made to make it backtrack
        raise SentimentError(
            f"the text starting {text[:40]!r} ({len(text):,} characters) could not be "
            f"tokenized in time; it is not a tweet"
        ) from None


def _words(text: str, config: TextConfig) -> list[str]:
    tokenizer = _tweet_tokenizer(config.lowercase, config.reduce_elongations)
    text = _clean(text)
    if config.normalize_emoji:
        text = plain_emoji(text)
    chunks = tokenizer.chunks(text) if type(tokenizer) is _FastTweetTokenizer else None
    if chunks is None:
        return _normalize_all(tokenizer.tokenize(text), config)
    done = _chunks_done(
        config.lowercase,
        config.reduce_elongations,
        config.replace_urls,
        config.replace_mentions,
        config.replace_numbers,
        config.split_hashtags,
    )
    tokens: list[str] = []
    for chunk in chunks:
        normal = done.get(chunk)
        if normal is None:
            if chunk.isalpha() and chunk.isascii() and not _elongated(chunk, config):
                # A word of ASCII letters is one token, which no replacement touches.
                normal = (intern(chunk.lower() if config.lowercase else chunk),)
            else:
                normal = tuple(_normalize_all(tokenizer.tokenize_unescaped(chunk), config))
            if len(done) < _CHUNKS_MAX:
                done[chunk] = normal
        tokens += normal
    return tokens


_CHUNKS_MAX = 200_000  # distinct chunks remembered per text config


def _elongated(chunk: str, config: TextConfig) -> bool:
    return config.reduce_elongations and _REPEATED_3.search(chunk) is not None


@lru_cache(maxsize=8)
def _chunks_done(*settings: bool) -> dict[str, tuple[str, ...]]:
    """chunk -> its normalized tokens, for one text config."""
    return {}


def _normalize_all(raw: list[str], config: TextConfig) -> list[str]:
    seen = _normalized(
        config.replace_urls, config.replace_mentions, config.replace_numbers, config.split_hashtags
    )
    tokens: list[str] = []
    for token in raw:
        normal = seen.get(token)
        if normal is None:
            normal = _normalize(token, config)
            if len(seen) < _NORMALIZED_MAX:
                seen[token] = normal
        if type(normal) is str:
            tokens.append(normal)
        else:
            tokens.extend(normal)
    return tokens


_NORMALIZED_MAX = 500_000  # distinct raw tokens remembered per text config


@lru_cache(maxsize=8)
def _normalized(*replacements: bool) -> dict[str, str | tuple[str, ...]]:
    """raw token -> its normalized form(s), for one set of replacement settings: most
    tokens of a stream are ones already seen."""
    return {}


def _normalize(token: str, config: TextConfig) -> str | tuple[str, ...]:
    lowered = token.lower()
    if config.replace_urls and (lowered.startswith(("http://", "https://", "www."))):
        return "<url>"
    if config.replace_mentions and token.startswith("@") and len(token) > 1:
        return "<user>"
    if config.replace_numbers and _NUMBER.match(lowered):
        return "<number>"
    if config.split_hashtags and token.startswith("#") and len(token) > 1:
        return ("<hashtag>", intern(token[1:]))
    # One string object per distinct token: a million tweets hold ~15 million tokens
    # but a few hundred thousand distinct ones.
    return intern(token)


def tokenize_all(texts: Iterable[str], config: TextConfig) -> list[list[str]]:
    return [tokenize(text, config) for text in texts]


def typed_words(text: str, config: TextConfig) -> list[str]:
    """The words as the user typed them, one per token of ``tokenize(text, config)``:
    "LOVE" for ``love``, "@anna" for ``<user>``, "#" and "blessed" for ``<hashtag>
    blessed``, "bad" for ``bad_NEG``. Where the two cannot be aligned (a pattern that
    spans pieces), the tokens themselves, without their negation mark."""
    tokens = tokenize(text, config)
    plain = [t.removesuffix(NEGATED) for t in tokens]
    limit = text_limit(config)
    raw = text[:limit] if config.truncating == "post" else text[-limit:]
    pieces = _tweet_tokenizer(False, False).tokenize(_clean(raw))  # case and length kept
    typed: list[str] = []
    for piece in pieces:
        normal = words(piece, config)
        if normal[:1] == ["<hashtag>"] and piece.startswith("#"):
            typed += ["#", *([piece[1:]] if len(normal) == 2 else normal[1:])]
        else:
            typed += [piece] * len(normal)
    return typed if len(typed) == len(plain) else plain
