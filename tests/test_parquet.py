"""predict --input: Parquet files, folders and globs; --output Parquet."""

import pandas as pd
import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, predict_csv, write_csv

pq = pytest.importorskip("pyarrow.parquet", reason="the [parquet] extra is not installed")


def test_parquet_in_and_out_give_the_predict_csv(runner, trained_model, tmp_path):
    texts = pd.DataFrame({"tweet": [t for t, _ in TWEETS], "id": range(len(TWEETS))})
    texts.to_parquet(tmp_path / "in.parquet")
    expected = predict_csv(runner, trained_model, write_csv(tmp_path / "in.csv", TWEETS))
    out = tmp_path / "out.parquet"
    args = ["predict", "--model-dir", str(trained_model), "-i", str(tmp_path / "in.parquet")]
    result = runner.invoke(cli, [*args, "--text-column", "tweet", "-o", str(out)])
    assert result.exit_code == 0, result.output
    got = pd.read_parquet(out)
    assert list(got.columns) == list(expected.columns)
    assert got["label"].tolist() == expected["label"].tolist()
    pd.testing.assert_frame_equal(got.iloc[:, 2:], expected.iloc[:, 2:], atol=1e-6)
    missing = runner.invoke(cli, [*args, "-o", str(out)])
    assert missing.exit_code == 1
    assert "no column 'text'; the columns are 'tweet', 'id'" in missing.output


def test_a_folder_and_a_glob_are_read_file_by_file_in_order(runner, trained_model, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"text": [t for t, _ in TWEETS[:9]]}).to_parquet(folder / "a.parquet")
    write_csv(folder / "b.csv", TWEETS[9:])
    (folder / "notes.md").write_text("not an input")
    whole = predict_csv(runner, trained_model, write_csv(tmp_path / "all.csv", TWEETS))
    for source in (folder, folder / "[ab].*"):
        got = predict_csv(runner, trained_model, source)
        assert got["text"].tolist() == whole["text"].tolist()
        assert got["label"].tolist() == whole["label"].tolist()
    empty = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "-i", str(tmp_path / "*.nope")]
    )
    assert empty.exit_code == 1 and "no file matches this pattern" in empty.output


def test_parquet_output_needs_a_file(runner, trained_model):
    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "-f", "parquet", "hello"]
    )
    assert result.exit_code == 1
    assert "--format parquet writes a file: give --output FILE.parquet" in result.output
