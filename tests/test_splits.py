"""Splits keep the copies of a tweet (retweets, other links or mentions) on one side, so
that validation and test figures score tweets the model has not read."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment_cli.io.copies import copy_groups, copy_key
from sentiment_cli.io.readers import LabelledData
from sentiment_cli.io.splits import split_indices
from sentiment_cli.training.prepare import split_train_val


@pytest.mark.parametrize(
    "a, b",
    [
        ("Great game!", "RT @espn: great game http://t.co/x1"),
        ("@united lost my bag AGAIN", "@Delta lost my bag again!!! https://t.co/9 😡"),
        ("#Coachella2015 here we come", "coachella2015 here we come"),
        ("new phone  day", "new phone day…"),
    ],
)
def test_copies_of_a_tweet_share_a_key(a, b):
    assert copy_key(a) == copy_key(b) != ""


@pytest.mark.parametrize(
    "a, b",
    [
        ("great game", "not a great game"),
        ("lost my bag", "found my bag"),
    ],
)
def test_different_tweets_have_different_keys(a, b):
    assert copy_key(a) != copy_key(b)


def test_a_tweet_of_links_and_emoji_only_is_a_group_of_its_own():
    groups = copy_groups(["😍😍", "😍😍", "http://t.co/a", "hello", "Hello!"])
    assert groups.tolist() == [0, 1, 2, 3, 3]


tweets = st.lists(
    st.tuples(
        st.integers(0, 30),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["", "RT @x: ", "@y "]),
    ),
    min_size=12,
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(rows=tweets, fraction=st.sampled_from([0.1, 0.2, 0.25, 0.5]), seed=st.integers(0, 9))
def test_every_copy_lands_on_the_side_of_its_tweet(rows, fraction, seed):
    texts = [f"{prefix}tweet number {n}" for n, _, prefix in rows]
    labels = [label for _, label, _ in rows]
    kept, held = split_indices(labels, fraction, seed, "data.csv", texts=texts)
    assert sorted([*kept, *held]) == list(range(len(rows)))
    keys = [copy_key(t) for t in texts]
    distinct = len(set(keys))
    if np.ceil(distinct * fraction) < distinct:  # else too few tweets to split by: by rows
        assert not {keys[i] for i in kept} & {keys[i] for i in held}
    assert len(kept) and len(held)


@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["neg", "neu", "pos"]), min_size=10, max_size=60),
    fraction=st.sampled_from([0.1, 0.2, 0.3]),
    seed=st.integers(0, 99),
)
def test_without_copies_the_split_is_the_one_by_labels_alone(labels, fraction, seed):
    texts = [f"tweet {i}" for i in range(len(labels))]
    alone = split_indices(labels, fraction, seed, "data.csv")
    grouped = split_indices(labels, fraction, seed, "data.csv", texts=texts)
    assert all(np.array_equal(a, b) for a, b in zip(alone, grouped, strict=True))


def test_the_validation_split_of_training_holds_no_copy_of_a_training_tweet():
    texts, labels = [], []
    for i in range(60):
        label = ["negative", "neutral", "positive"][i % 3]
        texts += [
            f"tweet {i} about the game",
            f"RT @fan: Tweet {i} about the game! http://t.co/{i}",
        ]
        labels += [label, label]
    logged = []
    train, val = split_train_val(LabelledData(texts, labels, 0, "d.csv"), 0.1, 42, logged.append)
    assert not {copy_key(t) for t in train.texts} & {copy_key(t) for t in val.texts}
    assert len(val) == 12 and sorted(val.labels) == sorted(["negative", "neutral", "positive"] * 4)
    assert "Validation split: 60 near-copies of other rows kept on their side" in logged


def test_one_tweet_copied_on_every_row_is_still_split():
    kept, held = split_indices(["a", "b"] * 10, 0.2, 0, "d.csv", texts=["same tweet"] * 20)
    assert len(held) == 4 and len(kept) == 16


def test_train_warns_when_val_data_holds_copies_of_training_tweets(tmp_path):
    from click.testing import CliRunner

    from sentiment_cli.cli import cli
    from tests.conftest import TWEETS, train_args, write_csv

    data = write_csv(tmp_path / "train.csv", TWEETS)
    val = write_csv(
        tmp_path / "val.csv",
        [("RT @fan: I love this so much :)", "positive"), ("a tweet of its own", "neutral")],
    )
    result = CliRunner().invoke(cli, [*train_args(data, tmp_path / "m"), "--val-data", str(val)])
    assert result.exit_code == 0, result.output
    assert f"Warning: 1 of the 2 rows of {val} have a copy in {data}" in result.output
    fresh = write_csv(tmp_path / "fresh.csv", [("a tweet of its own", "neutral")] * 2)
    result = CliRunner().invoke(cli, [*train_args(data, tmp_path / "n"), "--val-data", str(fresh)])
    assert result.exit_code == 0, result.output
    assert "have a copy in" not in result.output
