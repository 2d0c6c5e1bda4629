"""Real training on the shared benchmark data (minutes): `make test-slow`."""

import json
import subprocess
import sys
from collections import Counter

import pytest

from sentiment_cli.cli import cli
from tests.conftest import ROOT, shared_file

pytestmark = pytest.mark.slow


def test_semeval_lstm_beats_the_majority_class(runner, tmp_path):
    train = shared_file("semeval2017", "train.csv")
    val = shared_file("semeval2017", "val.csv")
    test = shared_file("semeval2017", "test.csv")
    out = tmp_path / "lstm"
    result = runner.invoke(
        cli,
        [
            "train",
            str(train),
            "-o",
            str(out),
            "--val-data",
            str(val),
            "-q",
            "--set",
            "train.epochs=2",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["evaluate", "--model-dir", str(out), str(test), "-f", "json"])
    metrics = json.loads(result.output)
    import pandas as pd

    labels = pd.read_csv(test)["label"]
    majority_share = Counter(labels).most_common(1)[0][1] / len(labels)
    assert metrics["accuracy"] > majority_share + 0.05
    assert metrics["macro_recall"] > 1 / 3 + 0.15  # majority class alone scores 1/3


def test_benchmark_script_on_a_subset(tmp_path):
    data_dir = shared_file("semeval2017", "train.csv").parent
    tse_dir = shared_file("tweet_sentiment_extraction", "train.csv").parent
    out = tmp_path / "results.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--data-dir",
            str(data_dir),
            "--tse-dir",
            str(tse_dir),
            "--limit",
            "400",
            "--seeds",
            "42",
            "--skip-configs",
            "--out",
            str(out),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    results = json.loads(out.read_text())
    assert set(results["domains"]) == {"semeval", "tse"}
    for domain in results["domains"].values():
        run = domain["runs"][0]
        assert set(run["model"]) == {"macro_recall", "accuracy", "f1_pn", "macro_f1"}
        assert run["baseline"]["macro_recall"] > 0
        assert set(run["probes"]) >= {"negation", "negated_negative", "contrast", "control"}
    for key in (
        "cold_predict_seconds",
        "vader_cold_seconds",
        "file_tweets_per_second",
        "vader_file_tweets_per_second",
        "help_seconds",
        "train_tweets_per_second",
        "train_peak_rss_mib",
        "file_peak_rss_mib",
    ):
        assert results["speed"][key] > 0


def test_every_semeval_tweet_gets_the_ids_nltk_tokenization_gives():
    """The fast tokenizer path changes no id: same tokens as NLTK's own tokenize."""
    import pandas as pd
    from nltk.tokenize import TweetTokenizer  # NLTK's own, as `import nltk` gives it

    from sentiment_cli.config import TextConfig
    from sentiment_cli.text.tokenizer import (
        _clean,
        _normalize_all,
        _tweet_tokenizer,
        plain_emoji,
        tokenize,
        words,
    )

    texts = []
    for split in ("train", "val", "test"):
        path = shared_file("semeval2017", f"{split}.csv")
        texts += pd.read_csv(path, dtype=str, keep_default_na=False)["text"].tolist()
    config = TextConfig()
    nltk = TweetTokenizer(preserve_case=False, reduce_len=True)
    fast = _tweet_tokenizer(True, True)
    assert type(fast).__name__ == "_FastTweetTokenizer"
    for text in texts:
        assert fast.tokenize(_clean(text)) == nltk.tokenize(_clean(text)), text
        # ... and tokenizing chunk by chunk (``words``, after the emoji's skin tones and
        # variation selectors are dropped) changes none of them.
        reference = nltk.tokenize(plain_emoji(_clean(text)))
        assert words(text, config) == _normalize_all(reference, config), text
    assert len(texts) > 60_000 and all(tokenize(t, config) for t in texts[:100])  # none empty


def test_clipping_lets_a_stretching_rnn_learn():
    from sentiment_cli.experiments.exploding import exploding_experiment

    result = exploding_experiment(radii=(1.5,), log=lambda message: None)
    unclipped, clipped = result["runs"]
    assert unclipped["max_grad_norm"] > 10 * clipped["max_applied_norm"]
    assert clipped["accuracy"] > 0.9
    assert unclipped["accuracy"] < 0.75


def test_ray_engine_on_20000_semeval_tweets(runner, tmp_path):
    import io

    import pandas as pd

    pytest.importorskip("ray", reason="the [ray] extra is not installed")
    data = pd.read_csv(shared_file("semeval2017", "train.csv"), dtype=str, keep_default_na=False)
    data = data.head(20_000)
    model = tmp_path / "model"
    small = data.head(2_000)
    small.to_csv(tmp_path / "small.csv", index=False)
    args = ["train", str(tmp_path / "small.csv"), "-o", str(model), "-q"]
    assert runner.invoke(cli, [*args, "--set", "train.epochs=1"]).exit_code == 0
    inputs = tmp_path / "parts"
    inputs.mkdir()
    for i in range(4):
        data.iloc[i * 5_000 : (i + 1) * 5_000].to_parquet(inputs / f"part-{i}.parquet")
    out = tmp_path / "scored"
    result = runner.invoke(
        cli,
        ["predict", "--model-dir", str(model), "--engine", "ray", "-i", str(inputs),
         "-o", str(out), "--num-cpus", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shards = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet")))
    assert len(shards) == 20_000
    plain = runner.invoke(
        cli, ["predict", "--model-dir", str(model), "-i", str(inputs), "-f", "csv"]
    )
    expected = pd.read_csv(io.StringIO(plain.stdout), keep_default_na=False)
    # Ray may reorder rows: compare the multiset of (text, label) pairs.
    key = ["text", "label"]
    pairs = shards[key].sort_values(key).reset_index(drop=True)
    assert pairs.equals(expected[key].sort_values(key).reset_index(drop=True))


def test_two_workers_on_loopback_end_with_identical_weights(tmp_path):
    """MultiWorkerMirroredStrategy, custom loop: 2 processes, 5 synchronous steps."""
    import os
    import socket

    import numpy as np
    import pandas as pd

    data = pd.read_csv(shared_file("semeval2017", "train.csv"), dtype=str, keep_default_na=False)
    data.head(400).to_csv(tmp_path / "d.csv", index=False)
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    cluster = [f"127.0.0.1:{p}" for p in ports]
    workers = []
    for i in range(2):
        config = {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": i}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config)}
        command = [sys.executable, str(ROOT / "bench" / "distributed.py"), str(tmp_path / "d.csv"),
                   "--steps", "5", "--out", str(tmp_path / f"w{i}.npz")]  # fmt: skip
        workers.append(subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE))
    for worker in workers:
        assert worker.wait(timeout=600) == 0, worker.stderr.read().decode()[-3000:]
    with np.load(tmp_path / "w0.npz") as a, np.load(tmp_path / "w1.npz") as b:
        assert a.files == b.files and len(a.files) > 3
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])
        assert np.abs(a[a.files[-1]]).sum() > 0  # the classifier bias moved off its zeros


def test_more_labels_continued_with_from_beat_the_first_model(runner, tmp_path):
    """covid_tweets: 250 labels, then 500 continued from that model (train --from); the
    continued model scores better on the test split (bench/continue_from.py: 0.596 ->
    0.684 macro-F1, medians of 3 seeds), and the first folder is untouched."""
    import pandas as pd

    rows = pd.read_csv(shared_file("covid_tweets", "train.csv")).sample(500, random_state=7)
    first_rows, all_rows = tmp_path / "first.csv", tmp_path / "all.csv"
    rows.iloc[:250].to_csv(first_rows, index=False)
    rows.to_csv(all_rows, index=False)
    first, continued = tmp_path / "first", tmp_path / "continued"
    test = str(shared_file("covid_tweets", "test.csv"))

    def macro_f1(model):
        result = runner.invoke(cli, ["evaluate", "--model-dir", str(model), test, "-f", "json"])
        return json.loads(result.output)["macro_f1"]

    result = runner.invoke(cli, ["train", str(first_rows), "-o", str(first), "-q"])
    assert result.exit_code == 0, result.output
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    result = runner.invoke(
        cli, ["train", str(all_rows), "-o", str(continued), "--from", str(first), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before
    assert macro_f1(continued) > macro_f1(first) + 0.02


def test_label_simulate_on_a_real_pool(runner, tmp_path):
    """label --simulate on sanders: the budget is met with distinct tweets, answered with
    the pool's own labels, and every label of the set is asked for."""
    import pandas as pd

    pool = shared_file("sanders", "train.csv")
    out = tmp_path / "chosen.csv"
    result = runner.invoke(cli, ["label", str(pool), "-o", str(out), "--simulate",
                                 "--budget", "60"])  # fmt: skip
    assert result.exit_code == 0, result.output
    chosen = pd.read_csv(out, keep_default_na=False)
    frame = pd.read_csv(pool, keep_default_na=False)
    assert len(chosen) == 60 and chosen["pool_row"].is_unique
    pairs = set(zip(frame["text"], frame["label"], strict=True))
    assert all(pair in pairs for pair in zip(chosen["text"], chosen["label"], strict=True))
    assert set(chosen["label"]) == set(frame["label"])


def test_ray_engine_reads_shared_tweets_with_line_breaks(runner, tmp_path):
    """The first 20,000 shared tweets (coachella's first: some hold line breaks inside
    their quotes) through predict --engine ray: every tweet scored once. Arrow's chunked
    CSV reader split or refused such files (make bench's 100,000-row file) until the
    reader was told that values may hold line breaks."""
    import csv

    import pandas as pd

    texts = []
    for path in sorted(shared_file("coachella", "train.csv").parent.parent.glob("*/*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle)]
        if len(texts) >= 20_000:
            break
    texts = texts[:20_000]
    assert sum("\n" in t for t in texts) > 100
    data = tmp_path / "tweets.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["text"], *([t] for t in texts)])
    model = tmp_path / "model"
    train = shared_file("sanders", "train.csv")
    result = runner.invoke(cli, ["train", str(train), "-o", str(model), "-q",
                                 "--set", "train.epochs=1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = tmp_path / "scored"
    result = runner.invoke(cli, ["predict", "--model-dir", str(model), "--engine", "ray",
                                 "-i", str(data), "-o", str(out), "--num-cpus", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    shards = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet")))
    assert sorted(shards["text"]) == sorted(texts)
