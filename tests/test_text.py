import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_cli.config import TextConfig
from sentiment_cli.text.tokenizer import tokenize
from sentiment_cli.text.vocabulary import OOV, PAD, Vocabulary
from tests.conftest import fresh_python

DEFAULT = TextConfig()


@pytest.mark.parametrize(
    "text,tokens",
    [
        ("@Bob I loooooove this!!! :)", ["<user>", "i", "looove", "this", "!", "!", "!", ":)"]),
        ("see http://t.co/x1 and www.a.com", ["see", "<url>", "and", "<url>"]),
        ("#MondayBlues again", ["<hashtag>", "mondayblues", "again"]),
        ("3.5 stars at 10:30", ["<number>", "stars", "at", "<number>"]),
        ("not bad 😍😍", ["not", "bad_NEG", "😍", "😍"]),
        ("fish &amp; chips", ["fish", "&", "chips"]),
        ("zero\u200bwidth\x00nul", ["zero", "width", "nul"]),
        ("love it 👍🏽 I ❤️ NY", ["love", "it", "👍", "i", "❤", "ny"]),
        ("", []),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text, DEFAULT) == tokens


def test_skin_tones_and_variation_selectors_are_kept_where_normalize_emoji_is_off():
    """Models trained before ``text.normalize_emoji`` read "👍🏽" as its own token and the
    selector of "❤️" as one more: they keep reading it so."""
    config = TextConfig(normalize_emoji=False)
    tokens = ["love", "it", "👍🏽", "i", "❤", "\ufe0f", "ny"]
    assert tokenize("love it 👍🏽 I ❤️ NY", config) == tokens


def test_tokenize_options_off_keep_raw_tokens():
    config = TextConfig(
        lowercase=False,
        replace_urls=False,
        replace_mentions=False,
        split_hashtags=False,
        reduce_elongations=False,
    )
    assert tokenize("@Bob LOVES #Tea sooooo http://x.co", config) == [
        "@Bob",
        "LOVES",
        "#Tea",
        "sooooo",
        "http://x.co",
    ]


def test_mark_negation():
    config = TextConfig(mark_negation=True)
    assert tokenize("not good at all. fine", config) == [
        "not",
        "good_NEG",
        "at_NEG",
        "all_NEG",
        ".",
        "fine",
    ]


def _vocab(texts, **kwargs):
    config = TextConfig(min_count=1, **kwargs)
    return Vocabulary.build([tokenize(t, config) for t in texts], config), config


def test_vocabulary_reserves_padding_and_oov_and_ranks_by_frequency():
    vocab, _ = _vocab(["b a a", "c a b"])
    assert vocab.tokens == [PAD, OOV, "a", "b", "c"]


def test_vocabulary_min_count_and_max_tokens():
    config = TextConfig(min_count=2, max_tokens=3)
    vocab = Vocabulary.build([["x", "y", "y", "z", "z", "z"]], config)
    assert vocab.tokens == [PAD, OOV, "z"]


@pytest.mark.parametrize(
    "padding,truncating,expected",
    [
        ("post", "post", [[2, 3, 0, 0], [2, 3, 4, 5]]),
        ("pre", "pre", [[0, 0, 2, 3], [3, 4, 5, 6]]),
        ("post", "pre", [[2, 3, 0, 0], [3, 4, 5, 6]]),
        ("pre", "post", [[0, 0, 2, 3], [2, 3, 4, 5]]),
    ],
)
def test_padding_and_truncation(padding, truncating, expected):
    vocab, config = _vocab(["a b c d e"], max_length=4, padding=padding, truncating=truncating)
    encoded = vocab.encode(["a b", "a b c d e"], config)
    assert encoded.ids.tolist() == expected
    assert encoded.truncated == 1
    assert encoded.lengths.tolist() == [2, 5]


def test_unknown_tokens_map_to_oov_and_empty_text_is_all_padding():
    vocab, config = _vocab(["good day"], max_length=3)
    # ties are broken alphabetically: day=2, good=3
    assert vocab.encode(["good night", ""], config).ids.tolist() == [[3, 1, 0], [0, 0, 0]]


def test_vocabulary_round_trips(tmp_path):
    vocab, config = _vocab(["é 😍 #tag @u"])
    vocab.save(tmp_path / "v.json")
    loaded = Vocabulary.load(tmp_path / "v.json")
    assert loaded.tokens == vocab.tokens
    texts = ["😍 é unknown"]
    assert np.array_equal(loaded.encode(texts, config).ids, vocab.encode(texts, config).ids)


VOCAB, CONFIG_POST = _vocab(["the a love hate 😍 :) not <user>"], max_length=7)
CONFIG_PRE = TextConfig(min_count=1, max_length=7, padding="pre", truncating="pre")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from([CONFIG_POST, CONFIG_PRE]))
def test_any_text_becomes_exactly_max_length_ids_in_range(text, config):
    ids = VOCAB.encode([text], config).ids[0]
    assert ids.shape == (config.max_length,)
    assert ids.min() >= 0 and ids.max() < len(VOCAB)
    nonzero = np.flatnonzero(ids)
    if len(nonzero):
        # padding only on the configured side: the real ids form one contiguous block
        if config.padding == "post":
            assert nonzero[0] == 0 and (ids[: nonzero[-1] + 1] != 0).all()
        else:
            assert nonzero[-1] == config.max_length - 1 and (ids[nonzero[0] :] != 0).all()


SAMPLES = [
    "Sooooo HAPPY @Anna :-) XD #Blessed http://x.co/AbC &amp; can’t",
    "I LOVE IT!!!!!! <3 </3 8D D8 ;P :-P =) (: \n\n\n\n done",
    "&#128512; &lt;3 &notanentity; &&&; ....... ?????",
    "Call 555-123-4567 now!!! $50 OFF 10PM",
    "",
]


@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("reduce_len", [True, False])
def test_fast_tokenizer_matches_nltk(lowercase, reduce_len):
    from nltk.tokenize import TweetTokenizer  # NLTK's own, as `import nltk` gives it

    from sentiment_cli.text.tokenizer import _clean, _tweet_tokenizer

    fast = _tweet_tokenizer(lowercase, reduce_len)
    assert type(fast).__name__ == "_FastTweetTokenizer"
    nltk = TweetTokenizer(preserve_case=not lowercase, reduce_len=reduce_len)
    for text in SAMPLES:
        assert fast.tokenize(_clean(text)) == nltk.tokenize(_clean(text)), text


@given(st.text(max_size=80))
def test_fast_tokenizer_matches_nltk_on_any_text(text):
    from nltk.tokenize import TweetTokenizer  # NLTK's own, as `import nltk` gives it

    from sentiment_cli.text.tokenizer import _clean, _tweet_tokenizer

    nltk = TweetTokenizer(preserve_case=False, reduce_len=True)
    assert _tweet_tokenizer(True, True).tokenize(_clean(text)) == nltk.tokenize(_clean(text))


PIECES = [chr(c) for c in range(32, 127)] + ["\n", ":)", ":-(", "<3", "http://t.co/x", "&amp;"]
ASCII_TWEETS = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


@given(ASCII_TWEETS)
def test_ascii_text_takes_the_standard_engine_and_gets_nltks_tokens(text):
    """ASCII text is matched by the standard library's `re` (fast path): its tokens
    are still those of NLTK, whose pattern runs under the `regex` module."""
    from nltk.tokenize import TweetTokenizer  # NLTK's own, as `import nltk` gives it

    from sentiment_cli.text.tokenizer import _clean, _tweet_tokenizer

    fast = _tweet_tokenizer(True, True)
    assert fast.ascii_words is not None
    nltk = TweetTokenizer(preserve_case=False, reduce_len=True)
    assert fast.tokenize(_clean(text)) == nltk.tokenize(_clean(text))


def whole_text_words(text: str, config: TextConfig) -> list[str]:
    """What ``words`` gives when the tweet is tokenized whole (the reference)."""
    from sentiment_cli.text.tokenizer import _clean, _normalize_all, _tweet_tokenizer, plain_emoji

    tokenizer = _tweet_tokenizer(config.lowercase, config.reduce_elongations)
    text = plain_emoji(_clean(text)) if config.normalize_emoji else _clean(text)
    return _normalize_all(tokenizer.tokenize(text), config)


# Pieces that make tokens span whitespace, or that tell the two regex engines apart:
# phone numbers with spaces, spaced dots, entities that become spaces, separators that
# str.split and `regex` disagree on, digits outside ASCII (U+116D0 is one to `regex`
# only), a no-break space.
SPAN_PIECES = [
    " ",
    "  ",
    "\n",
    ".",
    ". .",
    "555 123 4567",
    "(555) 123-4567",
    "+1 555",
    "1 2 3 4 5 6 7",
    "&#32;",
    "&nbsp;",
    "&amp;",
    "&#28;",
    "\x1c",
    "\u00a0",
    "\u0663",
    "\U000116d0",
    "@a.com",
    "x.com/a b",
    ":)",
    ": )",
    "<3",
    "soooo",
    "!!!!",
    "#tag",
    "Good",
    "NOT",
    "é",
    "😀",
    "👍🏽",
    "❤️",
]
SPAN_TWEETS = st.lists(
    st.one_of(st.sampled_from(SPAN_PIECES), st.text(max_size=3)), max_size=30
).map("".join)
OTHER_CONFIG = TextConfig(
    lowercase=False,
    reduce_elongations=False,
    replace_numbers=False,
    split_hashtags=False,
    normalize_emoji=False,
)


@settings(max_examples=300, deadline=None)
@given(SPAN_TWEETS, st.sampled_from([TextConfig(), OTHER_CONFIG]))
def test_tokenizing_chunk_by_chunk_gives_the_whole_texts_tokens(text, config):
    """``words`` tokenizes most tweets one whitespace-separated chunk at a time and
    remembers chunks; that must never change a token."""
    from sentiment_cli.text.tokenizer import words

    expected = whole_text_words(text, config)
    assert words(text, config) == expected
    assert words(text, config) == expected  # again, from the remembered chunks


def test_chunks_are_refused_where_a_token_spans_whitespace():
    from sentiment_cli.text.tokenizer import _tweet_tokenizer, words

    tokenizer = _tweet_tokenizer(True, True)
    for text in [
        "call 555 123 4567",
        "wait . . . what",
        "a\x1cb",
        "a&#28;b",
        "x \U000116d0 \U000116d1",
    ]:
        assert tokenizer.chunks(text) is None, text
    assert tokenizer.chunks("I LOVE it :) 2016") == ["I", "LOVE", "it", ":)", "2016"]
    assert words("call 555 123 4567", TextConfig()) == ["call", "555 123 4567"]


def test_the_tokenizer_loads_without_nltks_package_and_leaves_it_untouched():
    """NLTK's TweetTokenizer is loaded without nltk/__init__ (scipy, scikit-learn) and
    without nltk.internals (http.client, ssl); afterwards `import nltk` is NLTK's own,
    and its tokenizer gives the same tokens."""
    code = (
        "import sys\n"
        "from sentiment_cli.config import TextConfig\n"
        "from sentiment_cli.text.tokenizer import load_tokenizer, _tweet_tokenizer\n"
        "load_tokenizer(TextConfig())\n"
        "heavy = ('nltk', 'nltk.internals', 'http.client', 'ssl', 'scipy', 'sklearn')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
        "from nltk.tokenize import TweetTokenizer\n"
        "import nltk.tokenize.api\n"
        "print('REAL', issubclass(TweetTokenizer, nltk.tokenize.api.TokenizerI))\n"
        "text = 'Sooooo HAPPY @Anna :-) XD #Blessed http://x.co/AbC &amp; can’t 555-123-4567'\n"
        "ours = _tweet_tokenizer(True, True).tokenize(text)\n"
        "theirs = TweetTokenizer(preserve_case=False, reduce_len=True).tokenize(text)\n"
        "print('SAME', ours == theirs)\n"
    )
    assert fresh_python(code).split("\n")[:3] == ["LOADED []", "REAL True", "SAME True"]


def test_first_use_from_many_threads_at_once():
    """The tokenizer's first load is shared by every thread (a server's threadpool)."""
    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from sentiment_cli.config import TextConfig\n"
        "from sentiment_cli.text.tokenizer import tokenize\n"
        "def one(i):\n"
        "    return tokenize(f'so happy {i} :)', TextConfig())\n"
        "with ThreadPoolExecutor(8) as pool:\n"
        "    out = list(pool.map(one, range(64)))\n"
        "print(len(out), out[3])\n"
    )
    assert fresh_python(code).strip() == "64 ['so', 'happy', '<number>', ':)']"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=8))
def test_token_cache_gives_back_the_tokens(texts):
    import tempfile
    from pathlib import Path

    from sentiment_cli.text.tokenizer import tokenize_all
    from sentiment_cli.training.token_cache import tokenize_cached

    config = TextConfig()
    with tempfile.TemporaryDirectory() as folder:
        first, cached = tokenize_cached(texts, config, Path(folder))
        again, hit = tokenize_cached(texts, config, Path(folder))
    assert not cached and hit
    assert first == again == tokenize_all(texts, config)


@pytest.mark.parametrize(
    "text, typed",
    [
        ("I do NOT love this", ["I", "do", "NOT", "love", "this"]),
        (
            "thanks @anna sooooo much #blessed",
            ["thanks", "@anna", "sooooo", "much", "#", "blessed"],
        ),
        ("see http://t.co/x at 10pm :)", ["see", "http://t.co/x", "at", "10pm", ":)"]),
        ("I ❤️ NY 👍🏽", ["I", "❤", "NY", "👍🏽"]),
        ("", []),
    ],
)
def test_the_trace_shows_the_words_as_typed(text, typed):
    from sentiment_cli.config import TextConfig
    from sentiment_cli.text.tokenizer import typed_words

    config = TextConfig()
    assert typed_words(text, config) == typed
    assert len(typed_words(text, config)) == len(tokenize(text, config))


def test_the_trace_table_shows_typed_words_with_marks(runner, trained_model):
    from sentiment_cli.cli import cli

    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "--trace", "NOT bad @anna"]
    )
    assert result.exit_code == 0, result.output
    assert "NOT" in result.output and "bad¬" in result.output and "@anna" in result.output
    assert "_NEG" not in result.output and "<user>" not in result.output


def _scope(text, rule):
    config = TextConfig(negation_scope=rule)
    return " ".join(tokenize(text, config))


def test_grammar_scope_ends_where_a_negator_intensifies():
    # A degree expression after "couldn't"/"never"/"no" reads "as X as can be".
    assert _scope("couldn't be happier with it", "grammar") == "couldn't be_NEG happier with it"
    assert _scope("could not have been more rude", "grammar").endswith("more rude")
    assert _scope("never been so happy", "grammar") == "never been_NEG so happy"
    assert _scope("no better way to start", "grammar") == "no better way to start"
    # ... while a plain "not" still flips a comparative, and "no more" is an end.
    assert _scope("not better than before", "grammar") == "not better_NEG than_NEG before_NEG"
    assert _scope("no more pain", "grammar") == "no more_NEG pain_NEG"
    assert _scope("not so good", "grammar") == "not so_NEG good_NEG"
    # The clause rule marks to the clause's end, as every model before the rule did.
    assert _scope("couldn't be happier", "clause") == "couldn't be_NEG happier_NEG"


def test_grammar_scope_wh_clauses_and_implicative_verbs():
    assert _scope("can't believe how good it was", "grammar") == (
        "can't believe_NEG how good it was"
    )
    assert _scope("it never fails to amaze", "grammar") == "it never fails to amaze"
    assert _scope("the app fails to load", "grammar") == "the app fails to_NEG load_NEG"
    assert _scope("the app fails to load", "clause") == "the app fails to load"
    # a curly apostrophe is still a negator that can intensify
    assert _scope("I can’t be happier", "grammar").endswith("be_NEG happier")


def test_grammar_scope_can_not_get_enough():
    assert _scope("can't get enough of this song", "grammar") == "can't get_NEG enough of this song"
    assert _scope("I could not thank you enough", "grammar").endswith("thank_NEG you_NEG enough")
    assert _scope("never enough time", "grammar") == "never enough_NEG time_NEG"


@pytest.mark.parametrize(
    ("text", "negation", "contrast"),
    [
        ("not bad at all", True, False),
        ("I can't complain", True, False),
        ("I can’t complain", True, False),
        ("never again", True, False),
        ("good food but slow service", False, True),
        ("although it rained, we loved it", False, True),
        ("what a great day", False, False),
        ("notable nobel prize", False, False),
    ],
)
def test_the_cues_where_the_network_alone_answers_a_blended_model(text, negation, contrast):
    from sentiment_cli.config import TextConfig
    from sentiment_cli.text.negation import has_contrast, has_negation
    from sentiment_cli.text.tokenizer import tokenize_all

    tokens = tokenize_all([text], TextConfig())[0]
    assert has_negation(tokens) is negation
    assert has_contrast(tokens) is contrast
