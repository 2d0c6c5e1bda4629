"""predict --engine ray: a local Ray cluster scores files into a folder of shards."""

import pandas as pd
import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, predict_csv, write_csv

pytest.importorskip("ray", reason="the [ray] extra is not installed")


def test_ray_engine_finishes_on_two_cpus_with_the_plain_labels(runner, trained_model, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    rows = [(f"{text} #{i}", label) for i, (text, label) in enumerate(TWEETS * 20)]
    write_csv(inputs / "a.csv", rows[:200])
    pd.DataFrame({"text": [t for t, _ in rows[200:]]}).to_parquet(inputs / "b.parquet")
    out = tmp_path / "scored"
    args = ["predict", "--model-dir", str(trained_model), "--engine", "ray", "-i", str(inputs)]
    result = runner.invoke(cli, [*args, "-o", str(out), "--num-cpus", "2"])
    assert result.exit_code == 0, result.output
    assert (out / "_SUCCESS").exists()
    assert not list(tmp_path.glob(".scored.tmp-*"))
    shards = pd.concat(pd.read_parquet(p) for p in sorted(out.glob("*.parquet")))
    assert len(shards) == len(rows)
    expected = pd.concat([predict_csv(runner, trained_model, inputs / "a.csv"),
                          predict_csv(runner, trained_model, inputs / "b.parquet")])  # fmt: skip
    merged = shards.merge(expected, on="text", suffixes=("", "_plain"))
    assert len(merged) == len(rows)
    assert (merged["label"] == merged["label_plain"]).all()
    again = runner.invoke(cli, [*args, "-o", str(out)])
    assert again.exit_code == 1 and "exists; --engine ray writes a new folder" in again.output


def test_ray_engine_refuses_texts_and_a_missing_output(runner, trained_model, tmp_path):
    base = ["predict", "--model-dir", str(trained_model), "--engine", "ray"]
    result = runner.invoke(cli, [*base, "hello"])
    assert result.exit_code == 1 and "--engine ray scores files" in result.output
    data = write_csv(tmp_path / "a.csv", TWEETS)
    result = runner.invoke(cli, [*base, "-i", str(data)])
    assert result.exit_code == 1 and "give --output FOLDER" in result.output
