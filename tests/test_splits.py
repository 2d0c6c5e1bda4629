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


def _start(tmp_path, texts):
    """An encoder folder that read ``texts`` (its fingerprints; no weights needed here)."""
    from sentiment_cli.runtime import seen

    folder = tmp_path / "encoder"
    folder.mkdir()
    (folder / "encoder.json").write_text("{}", encoding="utf-8")
    seen.save(folder, seen.fingerprints(texts))
    return folder


def _labelled(n):
    labels = [["negative", "neutral", "positive"][i % 3] for i in range(n)]
    texts = [f"tweet number {i} about the {['bad', 'fine', 'good'][i % 3]} match" for i in range(n)]
    return LabelledData(texts, labels, 0, "d.csv")


def test_validation_holds_out_the_tweets_the_encoder_never_read(tmp_path):
    from sentiment_cli.config import load_config
    from sentiment_cli.training.prepare import read_by_start

    data = _labelled(300)
    folder = _start(tmp_path, data.texts[:240] + ["RT @x: " + data.texts[0]])
    start = read_by_start(load_config(None, [f"model.encoder={folder}"]))
    logged = []
    train, val = split_train_val(data, 0.1, 42, logged.append, start)
    assert len(val) == 30 and set(val.texts) <= set(data.texts[240:])
    assert sorted(val.labels) == sorted(["negative", "neutral", "positive"] * 10)
    assert sorted(train.texts + val.texts) == sorted(data.texts)
    assert len(set(train.texts) & set(data.texts[240:])) == 30  # half the others still teach
    assert logged == [
        f"Validation split: 30 of the 60 others, the rest trained on; 240 of the 300 rows "
        f"of d.csv are tweets the encoder {str(folder)!r} was trained on, or copies of them"
    ]


def test_validation_takes_at_most_half_of_the_tweets_the_start_never_read(tmp_path):
    from sentiment_cli.config import load_config
    from sentiment_cli.training.prepare import read_by_start

    data = _labelled(300)
    folder = _start(tmp_path, data.texts[:210])
    start = read_by_start(load_config(None, [f"model.encoder={folder}"]))
    _, val = split_train_val(data, 0.1, 42, lambda message: None, start)
    assert len(val) == 30 and set(val.texts) <= set(data.texts[210:])  # 10% of the file
    _, val = split_train_val(data, 0.2, 42, lambda message: None, start)
    assert len(val) == 45 and set(val.texts) <= set(data.texts[210:])  # not 60: half of 90


def test_a_file_the_encoder_read_whole_keeps_the_usual_split_and_says_so(tmp_path):
    from sentiment_cli.config import load_config
    from sentiment_cli.training.prepare import read_by_start

    data = _labelled(300)
    start = read_by_start(load_config(None, [f"model.encoder={_start(tmp_path, data.texts)}"]))
    logged = []
    _, val = split_train_val(data, 0.1, 42, logged.append, start)
    _, usual = split_train_val(data, 0.1, 42, lambda message: None)
    assert val.texts == usual.texts
    assert "too few others are left to validate on" in logged[0]


def test_a_few_tweets_the_encoder_read_by_chance_change_nothing(tmp_path):
    from sentiment_cli.config import load_config
    from sentiment_cli.training.prepare import read_by_start

    data = _labelled(300)
    folder = _start(tmp_path, data.texts[:14])  # under 5% of the rows: chance
    start = read_by_start(load_config(None, [f"model.encoder={folder}"]))
    logged = []
    train, val = split_train_val(data, 0.1, 42, logged.append, start)
    usual_train, usual_val = split_train_val(data, 0.1, 42, lambda message: None)
    assert (train.texts, val.texts) == (usual_train.texts, usual_val.texts) and not logged


def test_the_start_of_train_from_is_the_encoder_and_the_model_continued(tmp_path):
    from sentiment_cli.config import load_config
    from sentiment_cli.runtime import seen
    from sentiment_cli.training.prepare import read_by_start

    folder = _start(tmp_path, ["a tweet the encoder read"])
    config = load_config(None, [f"model.encoder={folder}"])
    prints, name = read_by_start(config, seen.fingerprints(["an old label"]), "runs/old")
    assert seen.count(["a tweet the encoder read", "an old label", "a new one"], prints) == 2
    assert name == f"the encoder {str(folder)!r} and the model of --from runs/old"
    assert read_by_start(load_config(None, ["model.encoder=null"])) is None


def test_train_warns_when_val_data_holds_tweets_the_encoder_read(tmp_path):
    from sentiment_cli.config import load_config
    from sentiment_cli.training.prepare import load_splits
    from tests.conftest import TWEETS, write_csv

    data = write_csv(tmp_path / "train.csv", TWEETS)
    val = write_csv(tmp_path / "val.csv", [("read by the encoder", "neutral"), ("new", "neutral")])
    folder = _start(tmp_path, ["Read by the encoder!"])
    logged = []
    config = load_config(None, [f"model.encoder={folder}"])
    load_splits(data, val, config, "text", "label", logged.append)
    assert f"Warning: 1 of the 2 rows of {val} are tweets the encoder {str(folder)!r} was " in (
        "\n".join(logged)
    )


def test_a_damaged_fingerprint_file_of_an_encoder_is_refused_by_name(tmp_path):
    from sentiment_cli.config import load_config
    from sentiment_cli.errors import SentimentError
    from sentiment_cli.training.prepare import read_by_start

    folder = _start(tmp_path, ["a tweet"])
    (folder / "seen.npy").write_bytes(b"\x93NUMPY not really")
    with pytest.raises(SentimentError, match=r"model.encoder .*encoder.*: seen.npy cannot be read"):
        read_by_start(load_config(None, [f"model.encoder={folder}"]))
    np.save(folder / "seen.npy", np.array([1.5, 2.5]))
    with pytest.raises(SentimentError, match=r"seen.npy must be one row of uint64 fingerprints"):
        read_by_start(load_config(None, [f"model.encoder={folder}"]))
