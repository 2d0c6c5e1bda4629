"""Bad input, interrupted runs, determinism and safe loading."""

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, tiny_sets, train_args, write_csv


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


GOOD = "".join(f'"{t}",{label}\n' for t, label in TWEETS)

BAD_FILES = [
    ("empty.csv", b"", "file is empty (0 bytes), expected a CSV with a header row"),
    ("header.csv", b"text,label\n", "has a header but no data rows"),
    (
        "binary.csv",
        bytes(range(128, 256)) * 8,
        "not UTF-8 text (another encoding, or not a text file): byte 0x80 at line 1 (offset 0); "
        "save the file as UTF-8 (Latin-1 and Windows-1252 are not accepted)",
    ),
    (
        "latin1.csv",
        "text,label\ncafé nice,positive\n".encode("latin-1"),
        "not UTF-8 text (another encoding, or not a text file): byte 0xe9 at line 2 (offset 14); "
        "save the file as UTF-8 (Latin-1 and Windows-1252 are not accepted)",
    ),
    (
        "ragged.csv",
        b"text,label\ngood,positive\nbad, really,negative\n",
        "line 3 has 3 fields, expected 2 like the header; put texts that contain commas in "
        'double quotes ("...")',
    ),
    (
        "quote.csv",
        b'text,label\n"never closed,positive\nok,negative\n',
        "unterminated quote: the quoted field starting on line 2 is never closed",
    ),
    (
        "dup.csv",
        b"text,text,label\na,b,positive\n",
        "duplicate column name(s) 'text' in the header; each column needs a unique name",
    ),
    (
        "blank.csv",
        b"text,label\n  ,positive\n,negative\n",
        "all 2 rows have an empty 'text' or 'label'",
    ),
    (
        "many.csv",
        ("text,label\n" + "".join(f"t{i},{i}\n" for i in range(60))).encode(),
        "column 'label' has 60 distinct labels (more than 50); is it the right column? "
        "Choose one with --label-column",
    ),
]


@pytest.mark.parametrize("name,content,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_give_one_line_errors(runner, tmp_path, name, content, message):
    path = _write(tmp_path / name, content)
    result = runner.invoke(cli, train_args(path, tmp_path / "m"))
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {path}: {message}"
    assert not (tmp_path / "m").exists()


def test_directory_instead_of_file(runner, tmp_path):
    result = runner.invoke(cli, train_args(tmp_path, tmp_path / "m"))
    assert result.output.strip() == f"Error: {tmp_path}: is a directory, expected a CSV file"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root reads files whatever their permissions",
)
def test_unreadable_file(runner, tmp_path):
    path = write_csv(tmp_path / "secret.csv", TWEETS)
    path.chmod(0)
    result = runner.invoke(cli, train_args(path, tmp_path / "m"))
    assert result.output.strip() == f"Error: {path}: permission denied, cannot read the file"


@pytest.mark.parametrize(
    "encoding,prefix",
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b"")],
    ids=["utf-8", "utf-8-bom", "utf-16"],
)
def test_accepted_encodings(runner, tmp_path, encoding, prefix):
    path = _write(tmp_path / "d.csv", prefix + ("text,label\n" + GOOD * 2).encode(encoding))
    result = runner.invoke(cli, train_args(path, tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["n_train"] > 0


def test_long_lines_newlines_and_nul_bytes_are_accepted(runner, tmp_path):
    rows = TWEETS * 2 + [
        ("word " * 200_000, "positive"),
        ("two\nlines", "negative"),
        ("nul\x00byte", "neutral"),
    ]
    path = write_csv(tmp_path / "d.csv", rows)
    result = runner.invoke(cli, train_args(path, tmp_path / "m"))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["n_train"] + summary["n_val"] == len(rows)
    assert summary["truncated_train"] + summary["truncated_val"] == 1


def test_class_with_a_single_example_does_not_crash_the_split(runner, tmp_path):
    path = write_csv(tmp_path / "d.csv", TWEETS * 2 + [("meh", "mixed")])
    result = runner.invoke(cli, train_args(path, tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert (
        "Warning: validation split is not stratified (classes with one example: 'mixed')"
        in result.output
    )


def _break(folder, how):
    if how == "missing-file":
        (folder / "vocab.json").unlink()
        return "missing vocab.json"
    if how == "flipped-bytes":  # same size, still a valid zip: only the hash can tell
        with open(folder / "weights.npz", "r+b") as handle:
            handle.seek((folder / "weights.npz").stat().st_size // 2)
            handle.write(bytes(64))
        return "weights.npz was changed after the model was written"
    if how == "truncated-weights":
        data = (folder / "weights.npz").read_bytes()
        (folder / "weights.npz").write_bytes(data[: len(data) // 2])
        return "weights.npz has"
    if how == "missing-weights":
        (folder / "weights.npz").unlink()
        return "missing weights.npz"
    if how == "edited-vocab":
        vocab = json.loads((folder / "vocab.json").read_text())
        vocab["tokens"] = vocab["tokens"][:5]
        (folder / "vocab.json").write_text(json.dumps(vocab))
        return "vocab.json has"
    if how == "format-version":
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["format_version"] = 99
        (folder / "manifest.json").write_text(json.dumps(manifest))
        return "format version 99, this sentiment-cli (0.1.0) reads versions 1 to 3"
    if how == "edited-labels":
        (folder / "labels.json").write_text('["a", "b"]')
        return "labels.json has"
    if how == "not-a-model":
        (folder / "manifest.json").unlink()
        return "no manifest.json; not a sentiment-cli model folder"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "missing-file",
        "flipped-bytes",
        "truncated-weights",
        "missing-weights",
        "edited-vocab",
        "format-version",
        "edited-labels",
        "not-a-model",
    ],
)
def test_broken_model_folders(runner, trained_model, tmp_path, how):
    folder = tmp_path / "model"
    shutil.copytree(trained_model, folder)
    message = _break(folder, how)
    args = ["predict", "--model-dir", str(folder), "hello"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # click's exit, not a crash


def test_model_with_a_lambda_layer_is_refused(runner, trained_model, tmp_path):
    import keras

    folder = tmp_path / "model"
    shutil.copytree(trained_model, folder)
    inputs = keras.Input(shape=(12,), dtype="int32")
    x = keras.layers.Embedding(
        len(json.loads((folder / "vocab.json").read_text())["tokens"]), 4, name="embedding"
    )(inputs)
    x = keras.layers.Lambda(lambda t: t * 2.0)(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="classifier")(x)
    keras.Model(inputs, outputs).save(folder / "model.keras")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(format_version=2, files=sorted(p.name for p in folder.iterdir()))
    (folder / "manifest.json").write_text(json.dumps(manifest))  # a format-2 folder
    args = ["predict", "--model-dir", str(folder), "--runtime", "keras", "hello"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {folder / 'model.keras'}: refused to load: the model contains Python code "
        "(a Lambda layer or a serialized function), which could run anything; only models "
        "without code are loaded"
    )


def test_model_folder_holds_no_pickle(trained_model):
    for path in trained_model.iterdir():
        if path.suffix in (".keras", ".npz"):
            with zipfile.ZipFile(path) as archive:
                assert not [n for n in archive.namelist() if n.endswith((".pkl", ".pickle"))]
        if path.suffix == ".npz":
            # NpzFile is lazy: a pickled array raises only when it is read, so read all.
            with np.load(path, allow_pickle=False) as arrays:
                assert arrays.files
                for name in arrays.files:
                    assert arrays[name].dtype != object


_BUNDLES = {}


def _bundle(path):
    from sentiment_cli.models.keras_runtime import open_model

    if path not in _BUNDLES:
        _BUNDLES[path] = open_model(path)
    return _BUNDLES[path]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "😍😍😍",
        "http://a.co https://b.org/x?y=1",
        "x" * 10_000,
        "שלום עולם مرحبا بالعالم",
        "zero\u200bwidth\u200d",
        "\x00\x01\x1b[31mred\x7f",
        "   ",
        "\n\n",
    ],
    ids=["empty", "emoji", "urls", "10k", "rtl", "zero-width", "control", "spaces", "newlines"],
)
def test_odd_texts_get_a_prediction(trained_model, text):
    from sentiment_cli.runtime.predict import predict_proba

    probs = predict_proba(_bundle(trained_model), [text])
    assert probs.shape == (1, 3)
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=4))
def test_probabilities_sum_to_one_for_any_text(trained_model, texts):
    from sentiment_cli.runtime.predict import predict_proba

    probs = predict_proba(_bundle(trained_model), texts)
    assert probs.shape == (len(texts), 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs >= 0).all()


def test_predict_output_is_not_left_partial(runner, trained_model, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    bad = _write(tmp_path / "in.csv", b'text\n"fine"\n"never closed\n')
    result = runner.invoke(
        cli,
        ["predict", "--model-dir", str(trained_model), "-i", str(bad), "-f", "csv", "-o", str(out)],
    )
    assert result.exit_code == 1
    assert out.read_text() == "previous results\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_leftovers_of_a_killed_run_are_cleaned_up(runner, tiny_csv, tmp_path):
    out = tmp_path / "model"
    tmp = tmp_path / ".model.tmp-99999"
    tmp.mkdir()
    (tmp / "model.keras").write_bytes(b"half")
    result = runner.invoke(cli, train_args(tiny_csv, out))
    assert result.exit_code == 0, result.output
    assert f"removed the unfinished folder {tmp}" in result.output
    assert not tmp.exists()


def test_a_model_moved_aside_is_restored(tmp_path):
    from sentiment_cli.runtime.model_folder import recover_leftovers

    old = tmp_path / ".model.old-4242"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    notes = recover_leftovers(tmp_path / "model")
    assert (tmp_path / "model" / "manifest.json").exists()
    assert notes == [f"restored the previous model {tmp_path / 'model'} from {old}"]


def _spawn_training(data, out, *extra):
    args = [
        sys.executable,
        "-m",
        "sentiment_cli",
        "train",
        str(data),
        "-o",
        str(out),
        *tiny_sets("train.epochs=500", "train.early_stopping_patience=500"),
        *extra,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A shell's background job (as CI may be) starts with SIGINT ignored, and Python then
    # never raises KeyboardInterrupt; give the child the default, as a terminal would.
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(process, needle):
    seen = []
    for line in process.stdout:
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"never printed {needle!r}:\n{''.join(seen)[-2000:]}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_interrupted_training_leaves_the_existing_model_intact(trained_model, tmp_path, sig):
    out = tmp_path / "model"
    shutil.copytree(trained_model, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    data = write_csv(tmp_path / "d.csv", TWEETS * 5)
    process = _spawn_training(data, out, "--force")
    _wait_for(process, "Epoch 3/500")
    process.send_signal(sig)
    rest = process.communicate(timeout=60)[0]
    if sig == signal.SIGINT:
        assert process.returncode == 130
        assert f"Interrupted: {out} was not written or changed; continue with " in rest
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
    from sentiment_cli.models.keras_runtime import open_model

    assert open_model(out).labels == ["negative", "neutral", "positive"]


def test_resume_continues_an_interrupted_run(runner, tmp_path):
    out = tmp_path / "model"
    data = write_csv(tmp_path / "d.csv", TWEETS * 5)
    process = _spawn_training(data, out, "--set", "train.epochs=4")
    _wait_for(process, "Epoch 3/4")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert not out.exists()
    progress = json.loads((tmp_path / "model.checkpoint" / "state" / "progress.json").read_text())
    assert progress["epochs_done"] == 2

    result = runner.invoke(cli, ["train", "--resume", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "Resumed after epoch 2 of 4" in result.output
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 4
    assert not (tmp_path / "model.checkpoint").exists()


def test_a_new_run_refuses_to_drop_an_interrupted_one(runner, tiny_csv, tmp_path):
    (tmp_path / "model.checkpoint" / "state").mkdir(parents=True)
    (tmp_path / "model.checkpoint" / "state" / "progress.json").write_text("{}")
    result = runner.invoke(cli, train_args(tiny_csv, tmp_path / "model"))
    assert result.exit_code == 1
    assert (
        "holds an interrupted run; continue it with 'sentiment-cli train --resume" in result.output
    )


def test_same_seed_gives_identical_weights_in_two_fresh_processes(tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    weights = []
    for name in ("a", "b"):
        args = [
            sys.executable,
            "-m",
            "sentiment_cli",
            *train_args(data, tmp_path / name, "--set", "train.epochs=2"),
        ]
        subprocess.run(args, check=True, capture_output=True)
        weights.append(np.load(tmp_path / name / "weights.npz"))
    assert weights[0].files == weights[1].files
    for name in weights[0].files:
        np.testing.assert_array_equal(weights[0][name], weights[1][name])
    summaries = [json.loads((tmp_path / n / "summary.json").read_text()) for n in ("a", "b")]
    assert summaries[0]["validation"] == summaries[1]["validation"]


@pytest.mark.parametrize(
    "content,name,message",
    [
        (
            "text,label\ncafé,x\n".encode("latin-1"),
            "in.csv",
            "not UTF-8 text (another encoding, or not a text file): byte 0xe9 at line 2 "
            "(offset 14)",
        ),
        (b"text,text\nhi,x\n", "in.csv", "duplicate column name(s) 'text' in the header"),
        (b"text,label\na,b,c\n", "in.csv", "line 2 has 3 fields, expected 2 like the header"),
        (b'text\n"never closed\nmore\n', "in.csv", "unterminated quote: a quoted field"),
        (b"text\n", "in.csv", "has a header but no data rows"),
        (b"tweet\nhello\n", "in.csv", "no column 'text'; the columns are 'tweet'"),
        (b"\n\n  \n", "in.txt", "holds no text (empty, or only empty lines)"),
    ],
)
def test_predict_input_errors(runner, trained_model, tmp_path, content, name, message):
    path = _write(tmp_path / name, content)
    result = runner.invoke(cli, ["predict", "--model-dir", str(trained_model), "-i", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: {message}")
    assert len(result.output.strip().splitlines()) == 1


def test_predict_streams_a_large_input_in_chunks(runner, trained_model):
    lines = "".join(f"tweet number {i} :)\n" for i in range(5000))
    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "-i", "-", "-f", "jsonl"], input=lines
    )
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()
    assert len(rows) == 5000
    assert json.loads(rows[-1])["text"] == "tweet number 4999 :)"


def test_a_checkpoint_without_a_finished_epoch_is_replaced(runner, tiny_csv, tmp_path):
    (tmp_path / "model.checkpoint").mkdir()
    result = runner.invoke(cli, train_args(tiny_csv, tmp_path / "model"))
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "model.checkpoint").exists()


def test_reports_and_splits_are_never_written_into_a_model_folder(runner, trained_model, tmp_path):
    data = _write(tmp_path / "t.csv", b"text,label\nhi,positive\nho,negative\n")
    before = sorted(p.name for p in trained_model.iterdir())
    for args in (
        ["evaluate", "--model-dir", str(trained_model), str(data), "--report-dir"],
        ["split", str(data), "--output-dir"],
    ):
        result = runner.invoke(cli, [*args, str(trained_model)])
        assert result.exit_code == 2
        assert "is a model folder; write" in result.output
    assert sorted(p.name for p in trained_model.iterdir()) == before


def test_a_repeated_run_reads_its_tokens_from_the_cache(runner, tiny_csv, tmp_path):
    out = tmp_path / "m"
    first = runner.invoke(cli, train_args(tiny_csv, out))
    assert first.exit_code == 0 and "Tokens read from the cache" not in first.output
    weights = (out / "weights.npz").read_bytes()
    again = runner.invoke(cli, [*train_args(tiny_csv, out), "--force"])
    assert again.exit_code == 0 and "Tokens read from the cache" in again.output
    assert (out / "weights.npz").read_bytes() == weights
    assert len(list((tmp_path / ".m.tokens").glob("*.npz"))) == 2  # training and validation
    other = runner.invoke(
        cli, [*train_args(tiny_csv, out), "--force", "--set", "text.lowercase=false"]
    )
    assert other.exit_code == 0 and "Tokens read from the cache" not in other.output
