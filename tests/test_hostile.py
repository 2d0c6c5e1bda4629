"""Hostile input meets a clear answer, by class: data loss, silent wrong answers, hangs,
OS errors, sizes that cannot fit, the server. Each case is an example of its class; the
fuzz tests (test_fuzz.py) look for the next one."""

import json
import os
import shutil

import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, tiny_sets, train_args, write_csv


def refused(result, message: str) -> None:
    """A one-line error, exit 1, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and message in errors[0], result.output


def test_export_force_never_replaces_a_foreign_folder_or_file(runner, trained_model, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    args = ["export", "--model-dir", str(trained_model), "-f", "onnx", "--force"]
    refused(runner.invoke(cli, [*args, "-o", str(precious)]), "is not a regular file")
    assert (precious / "thesis.tex").read_text() == "years of work"
    notes = tmp_path / "notes.onnx"
    notes.write_text("not a model")
    refused(runner.invoke(cli, [*args, "-o", str(notes)]), "is not an ONNX model")
    assert notes.read_text() == "not a model"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(runner.invoke(cli, [*args, "-o", str(fifo)]), "is not a regular file")
    assert not fifo.is_file()


def test_a_diverged_training_writes_no_model(runner, tiny_csv, tmp_path):
    out = tmp_path / "m"
    sets = ["--set", "train.learning_rate=1e38", "--set", "train.clipnorm=null"]
    result = runner.invoke(cli, [*train_args(tiny_csv, out), *sets, "--set", "train.epochs=2"])
    refused(result, "training diverged: ")
    assert not out.exists() and not (tmp_path / "m.checkpoint").exists()


@pytest.mark.parametrize("bad", [None, float("nan"), b"hi", 3])
def test_the_python_api_refuses_items_that_are_not_text(trained_model, bad):
    from sentiment_cli import load_model

    with pytest.raises(TypeError, match=r"texts\[1\] is"):
        load_model(trained_model).predict(["fine", bad])


def test_inputs_that_never_end_are_refused(runner, trained_model, tmp_path):
    limit = "longer than 1,000,000 bytes (or the input never ends)"
    predict = ["predict", "--model-dir", str(trained_model), "-i", "/dev/zero"]
    refused(runner.invoke(cli, predict), limit)
    refused(runner.invoke(cli, ["train", "/dev/zero", "-o", str(tmp_path / "m")]), limit)
    long_line = tmp_path / "long.txt"
    long_line.write_text("word " * 300_000)
    predict = ["predict", "--model-dir", str(trained_model), "-i", str(long_line)]
    refused(runner.invoke(cli, [*predict, "--input-format", "lines"]), "line 1 is longer")


def test_a_header_of_too_many_columns_is_refused_quickly(runner, tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n")
    result = runner.invoke(cli, ["train", str(wide), "-o", str(tmp_path / "m")])
    refused(result, "the header has 20,000 columns, more than the 10,000 accepted")


def test_a_200_kb_field_is_read_alike_by_predict_and_train(runner, trained_model, tmp_path):
    data = write_csv(tmp_path / "d.csv", [("x" * 200_000, "positive"), *TWEETS * 2])
    result = runner.invoke(cli, ["predict", "--model-dir", str(trained_model), "-i", str(data)])
    assert result.exit_code == 0, result.output


def test_a_text_made_to_make_the_tokenizer_backtrack_is_scored(runner, trained_model):
    text = "a.b.c." * 50_000
    result = runner.invoke(cli, ["predict", "--model-dir", str(trained_model), "-f", "csv", text])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 2


def test_a_billion_laughs_config_is_refused_briefly(runner, tiny_csv, tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    lines.append("model: {units: *i}")
    config = tmp_path / "laughs.yaml"
    config.write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        cli, ["train", str(tiny_csv), "-o", str(tmp_path / "m"), "-c", str(config)]
    )
    assert result.exit_code == 1 and len(result.output) < 1000, result.output[:300]


@pytest.mark.parametrize(
    "override, message",
    [
        ("model.units=60000", "this config needs about"),
        ("text.max_length=100000000", "text.max_length must be in [1, 10000]"),
        ("train.seed=-1", "train.seed must be in [0, 4294967295], got -1"),
        ("model.units=" + "[" * 5000 + "]" * 5000, "the value is nested too deeply"),
        (
            "model.recurrent_initializer={class_name: Orthogonal, config: {gain: abc}}",
            "model.recurrent_initializer: {'class_name': 'Orthogonal'",
        ),
    ],
    ids=["units", "max_length", "seed", "deep", "initializer"],
)
def test_configs_that_cannot_work_are_refused_before_the_work(
    runner, tiny_csv, tmp_path, override, message
):
    args = [*train_args(tiny_csv, tmp_path / "m"), "--set", override, "--set", "model.encoder=null"]
    refused(runner.invoke(cli, args), message)


@pytest.mark.parametrize(
    "args",
    [
        ["experiment", "exploding", "--learning-rate", "nan"],
        ["split", "x.csv", "-o", "out", "--seed", "-1"],
        ["split", "x.csv", "-o", "out", "--test-size", "nan"],
    ],
)
def test_options_out_of_range_are_usage_errors(runner, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2 and "Error: Invalid value for" in result.output


def test_outputs_the_os_refuses_are_named(runner, trained_model, tiny_csv, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    predict = ["predict", "--model-dir", str(trained_model), "hi"]
    refused(runner.invoke(cli, [*predict, "-o", "/dev/full"]), "/dev/full: cannot write: no space")
    refused(
        runner.invoke(cli, [*predict, "-o", str(a_file / "out.csv")]),
        "cannot write: a parent of it is not a folder",
    )
    refused(
        runner.invoke(cli, [*predict, "-o", str(tmp_path / ("n" * 300))]),
        "cannot write: the name is too long",
    )
    refused(
        runner.invoke(cli, ["split", str(tiny_csv), "-o", str(a_file / "split")]),
        "--output-dir",
    )
    refused(
        runner.invoke(
            cli,
            [
                "evaluate",
                "--model-dir",
                str(trained_model),
                str(tiny_csv),
                "--report-dir",
                str(a_file / "r"),
            ],
        ),  # fmt: skip
        "--report-dir",
    )
    refused(runner.invoke(cli, [*train_args(tiny_csv, a_file / "m")]), "--output-dir")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_named(runner, trained_model, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    predict = ["predict", "--model-dir", str(trained_model), "hi", "-o", str(locked / "o.csv")]
    refused(runner.invoke(cli, predict), "permission denied")


def test_the_page_escapes_the_labels_it_embeds(trained_model, tmp_path):
    from starlette.testclient import TestClient

    from sentiment_cli.runtime.integrity import describe
    from sentiment_cli.serving.server import create_app

    folder = tmp_path / "model"
    shutil.copytree(trained_model, folder)
    evil = "</script><script>alert(1)</script>"
    (folder / "labels.json").write_text(json.dumps(["negative", "neutral", evil]))
    summary = json.loads((folder / "summary.json").read_text())
    summary["blend"] = None  # a blended folder's baseline would refuse the renamed label
    (folder / "summary.json").write_text(json.dumps(summary))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = describe(folder, list(manifest["files"]))
    (folder / "manifest.json").write_text(json.dumps(manifest))
    client = TestClient(create_app(folder))
    page = client.get("/").text
    assert evil not in page and "\\u003c/script\\u003e" in page
    deep = client.post("/predict", content="[" * 100_000 + "]" * 100_000)
    assert deep.status_code == 400 and "nested too deeply" in deep.json()["error"]
    lone = client.post("/predict", content=b'{"texts": ["\\ud800"]}')
    assert lone.status_code == 422 and "lone surrogate" in lone.json()["error"]
    assert "alert" not in tiny_sets()[0]


# Model folders whose manifest is consistent but whose content is hostile: anyone who
# shares a folder can rewrite its manifest too.


def copied(trained_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(trained_model, folder)
    return folder


def remanifest(folder, names=None):
    """The manifest rewritten to vouch for the folder's files as they are now (or for
    ``names``, as given, whether they exist or not)."""
    from sentiment_cli.runtime.integrity import describe

    manifest = json.loads((folder / "manifest.json").read_text())
    real = [n for n in manifest["files"] if (folder / n).is_file()]
    manifest["files"] = describe(folder, real)
    for name in names or []:
        manifest["files"].setdefault(name, {"bytes": 1, "sha256": "0" * 64})
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_weights_file_that_inflates_past_its_size_is_refused(runner, trained_model, tmp_path):
    import zipfile

    import numpy as np

    folder = copied(trained_model, tmp_path)
    with np.load(folder / "weights.npz") as stored:
        arrays = {name: stored[name] for name in stored.files}
    rows = 200 * 2**20 // (4 * arrays["embedding"].shape[1])  # 200 MiB of zeros
    with zipfile.ZipFile(folder / "weights.npz", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            if name != "embedding":
                with archive.open(f"{name}.npy", "w") as member:
                    np.lib.format.write_array(member, array)
        with archive.open("embedding.npy", "w", force_zip64=True) as member:
            header = {"descr": "<f4", "fortran_order": False, "shape": (rows, 8)}
            np.lib.format.write_array_header_1_0(member, header)
            zeros = bytes(1 << 20)
            for _ in range(200):
                member.write(zeros)
    assert (folder / "weights.npz").stat().st_size < 2**20
    remanifest(folder)
    result = runner.invoke(cli, ["predict", "--model-dir", str(folder), "hello"])
    refused(result, "once inflated, more than the")


def test_optional_files_are_checked_and_never_block(runner, trained_model, tiny_csv, tmp_path):
    import numpy as np

    folder = copied(trained_model, tmp_path)
    with np.load(folder / "baseline.npz") as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["coef"] = -arrays["coef"]  # a baseline that answers the opposite
    np.savez(folder / "baseline.npz", **arrays)
    evaluate = ["evaluate", "--model-dir", str(folder), str(tiny_csv)]
    refused(runner.invoke(cli, evaluate), "baseline.npz was changed after the model")
    (folder / "baseline.json").unlink()
    os.mkfifo(folder / "baseline.json")  # reading it would wait for a writer forever
    remanifest(folder, ["baseline.json"])
    refused(runner.invoke(cli, evaluate), "baseline.json is not a regular file")


def test_a_manifest_never_leads_outside_the_folder(runner, trained_model, tmp_path):
    folder = copied(trained_model, tmp_path)
    (tmp_path / "secret.txt").write_text("not yours")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["../secret.txt"] = {"bytes": 9, "sha256": "0" * 64}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for command in (["check", str(folder)], ["predict", "--model-dir", str(folder), "hi"]):
        result = runner.invoke(cli, command)
        refused(result, "lists '../secret.txt', which is not a file name inside the folder")
        assert "9 bytes" not in result.output


@pytest.mark.parametrize(
    "key, value, command",
    [
        ("units", 8, ["--runtime", "keras"]),
        ("embedding_dim", 16, ["--runtime", "keras"]),
        ("pooling", "max", ["--trace"]),
        ("cell", "gru", []),
    ],
)
def test_a_config_that_disagrees_with_the_weights_is_refused(
    runner, trained_model, tmp_path, key, value, command
):
    import yaml

    folder = copied(trained_model, tmp_path)
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["model"][key] = value
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    remanifest(folder)
    result = runner.invoke(cli, ["predict", "--model-dir", str(folder), *command, "not bad"])
    refused(result, f"config.yaml says model.{key} is {value!r} but network.json")


# Terminal and markup injection: tweets, labels and paths are shown as they are.

ODD_LABELS = ["[/b]", "$_$", "a|b\x1b[31m"]


@pytest.fixture
def odd_model(trained_model, tmp_path):
    """The tiny model in a folder named like markup, its labels renamed to ODD_LABELS."""
    folder = tmp_path / "[/b][red]x"
    shutil.copytree(trained_model, folder)
    (folder / "labels.json").write_text(json.dumps(ODD_LABELS))
    baseline = json.loads((folder / "baseline.json").read_text())
    baseline["labels"] = ODD_LABELS
    (folder / "baseline.json").write_text(json.dumps(baseline))
    remanifest(folder)
    return folder


def test_markup_and_escape_sequences_are_shown_as_text(runner, odd_model, tmp_path):
    tweet = "[red]alert[/red] \x1b[2J :smile: \u202egnp.exe"
    for args in ([], ["--trace"], ["--gates"]):
        result = runner.invoke(cli, ["predict", "--model-dir", str(odd_model), *args, tweet])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\u202e" not in result.output
        assert "[red]alert[/red]" in result.output and "\\x1b" in result.output
    info = runner.invoke(cli, ["info", str(odd_model)])
    assert info.exit_code == 0, info.output
    assert "[/b][red]x" in info.output and "\x1b" not in info.output
    assert "a|b\\x1b[31m" in info.output


def test_odd_labels_survive_evaluate_and_its_report(runner, odd_model, tmp_path):
    rows = [(text, ODD_LABELS[i % 3]) for i, (text, _) in enumerate(TWEETS)]
    data = write_csv(tmp_path / "odd.csv", rows)
    report = tmp_path / "report"
    args = ["evaluate", "--model-dir", str(odd_model), str(data), "--report-dir", str(report)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "[/b]" in result.output
    assert (report / "confusion_matrix.png").stat().st_size > 0
    text = (report / "report.md").read_text()
    assert "a\\|b\\x1b[31m" in text and "\x1b" not in text
    import re

    tables, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append(len(re.findall(r"(?<!\\)\|", line)))
        elif current:
            tables, current = [*tables, current], []
    assert len(tables) >= 3 and all(len(set(cells)) == 1 for cells in tables), tables


def test_a_file_name_that_is_not_utf8_is_shown_escaped(runner, trained_model, tmp_path):
    odd = tmp_path / os.fsdecode(b"caf\xe9.csv")  # Latin-1 bytes: not UTF-8
    write_csv(odd, TWEETS * 2)
    result = runner.invoke(cli, ["evaluate", "--model-dir", str(trained_model), str(odd)])
    assert result.exit_code == 0, result.output
    assert "caf\\udce9.csv" in result.output
    result = runner.invoke(cli, ["split", str(odd), "-o", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output


def test_folders_and_files_named_in_latin1_train_and_serve(runner, tiny_csv, tmp_path):
    data = tmp_path / os.fsdecode(b"donn\xe9es.csv")
    shutil.copy(tiny_csv, data)
    out = tmp_path / os.fsdecode(b"mod\xe8le")
    result = runner.invoke(cli, train_args(data, out))
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["train_data"] == str(data.resolve())  # read back as it was written
    report = tmp_path / os.fsdecode(b"r\xe9sultats")
    args = ["evaluate", "--model-dir", str(out), str(data), "--report-dir", str(report)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "mod\\udce8le" in (report / "report.md").read_text(encoding="utf-8")
    pytest.importorskip("starlette", reason="the [serve] extra is not installed")
    from starlette.testclient import TestClient

    from sentiment_cli.serving.server import create_app

    health = TestClient(create_app(out)).get("/health")
    assert health.status_code == 200 and "mod\\xe8le" in health.json()["model"]


# The Python API: what pandas hands it.


def test_the_api_refuses_a_frame_where_texts_belong(trained_model):
    import pandas as pd

    from sentiment_cli import load_model

    model = load_model(trained_model)
    with pytest.raises(TypeError, match=r"not a DataFrame; .* predict_batch"):
        model.predict(pd.DataFrame({"text": ["good", "bad"]}))
    with pytest.raises(ValueError, match=r"texts\[1\] holds a lone surrogate"):
        model.predict(["fine", "caf\udce9"])


def test_predict_batch_reads_categorical_and_refuses_twin_columns(trained_model):
    import pandas as pd

    from sentiment_cli import load_model

    model = load_model(trained_model)
    frame = pd.DataFrame({"text": pd.Categorical(["good", None, "bad"])}, index=[7, 8, 9])
    result = model.predict_batch(frame)
    assert list(result.index) == [7, 8, 9] and list(result["text"]) == ["good", "", "bad"]
    twins = pd.DataFrame([["a", "b"]], columns=["text", "text"])
    with pytest.raises(ValueError, match="2 columns named 'text'"):
        model.predict_batch(twins)


def test_a_pickled_model_loads_in_another_working_directory(trained_model, tmp_path):
    import pickle

    from sentiment_cli import load_model

    here = os.getcwd()
    os.chdir(trained_model.parent)
    try:
        blob = pickle.dumps(load_model(trained_model.name))  # a relative path
    finally:
        os.chdir(here)
    os.chdir(tmp_path)
    try:
        assert list(pickle.loads(blob).predict(["good"])["text"]) == ["good"]
    finally:
        os.chdir(here)


# Text files and CSVs.


def test_utf32_and_mixed_line_endings_read_as_pandas_reads_them(runner, trained_model, tmp_path):
    import io

    import pandas as pd

    utf32 = tmp_path / "u32.txt"
    utf32.write_bytes("hello 😍\nworld 🙄\n".encode("utf-32"))
    args = ["predict", "--model-dir", str(trained_model), "-f", "json", "-i"]
    rows = json.loads(runner.invoke(cli, [*args, str(utf32)]).stdout)
    assert [row["text"] for row in rows] == ["hello 😍", "world 🙄"]
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(
        b'text,label\r\ngood day,positive\nbad day,negative\r\n"the vote\r\nis on sunday",'
        b"neutral\rfoo bar,neutral\n"
    )
    result = runner.invoke(cli, ["predict", "--model-dir", str(trained_model), "-i", str(mixed)])
    assert result.exit_code == 0, result.output
    csv_out = runner.invoke(cli, [*args[:-3], "-f", "csv", "-i", str(mixed)]).stdout
    assert len(pd.read_csv(io.StringIO(csv_out))) == len(pd.read_csv(mixed)) == 4


def test_labels_that_differ_only_in_normalisation_are_one_class(runner, tmp_path):
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    rows = [(t, composed if i % 2 else decomposed) if lab == "positive" else (t, lab)
            for i, (t, lab) in enumerate(TWEETS * 2)]  # fmt: skip
    data = write_csv(tmp_path / "d.csv", rows)
    result = runner.invoke(cli, train_args(data, tmp_path / "m"))
    assert result.exit_code == 0, result.output
    labels = json.loads((tmp_path / "m" / "labels.json").read_text(encoding="utf-8"))
    assert labels == sorted([composed, "negative", "neutral"])


def test_paths_that_lead_nowhere_or_cannot_take_files_are_named(
    runner, trained_model, tiny_csv, tmp_path
):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(tmp_path / "other.csv")
    (tmp_path / "other.csv").symlink_to(loop)
    message = "is a symbolic link that leads nowhere"
    refused(runner.invoke(cli, ["train", str(loop), "-o", str(tmp_path / "m")]), message)
    refused(runner.invoke(cli, ["predict", "-i", str(loop)]), message)
    if os.path.isdir("/proc/self"):
        predict = ["predict", "--model-dir", str(trained_model), "hi", "-o", "/proc/x.csv"]
        refused(runner.invoke(cli, predict), "its folder does not take new files")


def test_an_embeddings_file_with_nan_is_named(runner, tiny_csv, tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("good " + " ".join(["0.1"] * 7 + ["nan"]) + "\n")
    args = train_args(tiny_csv, tmp_path / "m", "--set", f"model.embeddings_file={vectors}")
    args += ["--set", "model.encoder=null"]
    result = runner.invoke(cli, args)
    refused(result, "vectors.txt': line 1 ('good') holds a value that is not a finite number")


# Training that diverges anyway.


def test_weights_that_blew_up_without_nan_are_refused(runner, tiny_csv, tmp_path):
    out = tmp_path / "m"
    sets = ["--set", "train.learning_rate=1e30", "--set", "train.clipnorm=null"]
    result = runner.invoke(cli, [*train_args(tiny_csv, out), *sets])  # one epoch
    refused(result, "training diverged: ")
    assert not out.exists()


@pytest.mark.parametrize(
    "mapping",
    [
        "{class_name: function, module: os}",
        "{class_name: system, module: os, registered_name: system}",
        "{class_name: Orthogonal, module: builtins}",
    ],
)
def test_an_initializer_mapping_never_reaches_outside_keras(runner, tiny_csv, tmp_path, mapping):
    args = train_args(tiny_csv, tmp_path / "m", "--set", f"model.kernel_initializer={mapping}")
    refused(runner.invoke(cli, args), "is not a Keras initializer")


def test_tensorflow_under_a_memory_limit_is_one_line_and_predict_still_runs(tiny_csv, tmp_path):
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "sentiment_cli", *args],
            capture_output=True, text=True, timeout=300, preexec_fn=limit,
        )  # fmt: skip

    trained = run("train", str(tiny_csv), "-o", str(tmp_path / "m"), "-q")
    if trained.returncode == 0:
        pytest.skip("TensorFlow loads within 2 GiB of address space on this machine")
    assert trained.returncode == 1 and "Traceback" not in trained.stderr, trained.stderr
    assert "Error: TensorFlow cannot be loaded (" in trained.stderr
    predicted = run("predict", "-f", "json", "I love it")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)[0]["label"] == "positive"


# Resume checkpoints and caches.


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A run stopped by SIGINT after two epochs: (its data, its output folder)."""
    import signal

    from tests.test_reliability import _spawn_training, _wait_for

    base = tmp_path_factory.mktemp("interrupted")
    data = write_csv(base / "d.csv", TWEETS * 5)
    process = _spawn_training(data, base / "model", "--set", "train.epochs=6")
    _wait_for(process, "Epoch 3/6")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert (base / "model.checkpoint" / "state" / "progress.json").exists()
    return data, base / "model"


def a_copy(interrupted, tmp_path):
    _, out = interrupted
    shutil.copytree(out.parent / "model.checkpoint", tmp_path / "model.checkpoint")
    return tmp_path / "model", tmp_path / "model.checkpoint"


@pytest.mark.parametrize(
    "name, damage",
    [
        ("run.json", lambda t: t[: len(t) // 2]),
        ("config.yaml", lambda t: t.replace("units: 4", "units: 12")),
        ("labels.json", lambda t: t.replace("neutral", "meh")),
        ("state/progress.json", lambda t: t.replace('"epochs_done": 2', '"epochs_done": "2"')),
        ("state/model.keras", None),
    ],
)
def test_a_damaged_or_edited_checkpoint_is_refused(runner, interrupted, tmp_path, name, damage):
    out, checkpoint = a_copy(interrupted, tmp_path)
    path = checkpoint / name
    if damage is None:
        path.write_bytes(path.read_bytes()[:1000])
    else:
        path.write_text(damage(path.read_text()))
    result = runner.invoke(cli, ["train", "--resume", "-o", str(out)])
    refused(result, "--resume: ")
    assert not out.exists()


def test_resume_refuses_data_that_changed_since_the_run_began(runner, interrupted, tmp_path):
    data, _ = interrupted
    out, _ = a_copy(interrupted, tmp_path)
    before = data.read_bytes()
    try:
        write_csv(data, TWEETS * 4)
        refused(runner.invoke(cli, ["train", "--resume", "-o", str(out)]), "changed since")
    finally:
        data.write_bytes(before)
    result = runner.invoke(cli, ["train", "--resume", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output


def test_a_checkpoint_that_is_a_link_is_never_followed(runner, tiny_csv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    (tmp_path / "model.checkpoint").symlink_to(elsewhere)
    for args in (train_args(tiny_csv, tmp_path / "model"), ["train", "--resume", "-o",
                 str(tmp_path / "model")]):  # fmt: skip
        refused(runner.invoke(cli, [*args, "--force"]), "is a symbolic link, not a checkpoint")
    assert (elsewhere / "keep.txt").read_text() == "mine"


def test_a_truncated_token_cache_is_tokenized_again(runner, tiny_csv, tmp_path):
    out = tmp_path / "m"
    assert runner.invoke(cli, train_args(tiny_csv, out)).exit_code == 0
    caches = list((tmp_path / ".m.tokens").glob("*.npz"))
    assert caches
    for cache in caches:
        cache.write_bytes(cache.read_bytes()[:100])
    result = runner.invoke(cli, [*train_args(tiny_csv, out), "--force"])
    assert result.exit_code == 0, result.output


# Signals and partial outputs: what belongs together is replaced together.


def test_a_split_that_fails_halfway_leaves_the_old_pair(runner, tiny_csv, tmp_path, monkeypatch):
    import pandas as pd

    out = tmp_path / "split"
    assert runner.invoke(cli, ["split", str(tiny_csv), "-o", str(out)]).exit_code == 0
    before = {name: (out / name).read_bytes() for name in ("train.csv", "test.csv")}
    real, calls = pd.DataFrame.to_csv, []

    def second_fails(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as a Ctrl-C or a kill between the two writes
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", second_fails)
    runner.invoke(cli, ["split", str(tiny_csv), "-o", str(out), "--seed", "7"])
    assert {name: (out / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in out.iterdir()) == ["test.csv", "train.csv"]


def test_a_report_that_fails_halfway_leaves_the_old_report(
    runner, trained_model, tiny_csv, tmp_path, monkeypatch
):
    import errno

    from sentiment_cli.evaluation import report as report_module

    report = tmp_path / "report"
    args = ["evaluate", "--model-dir", str(trained_model), str(tiny_csv), "--report-dir"]
    assert runner.invoke(cli, [*args, str(report)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in report.iterdir()}

    def too_large(*_):
        raise OSError(errno.EFBIG, "File too large")  # as under ulimit -f

    monkeypatch.setattr(report_module, "plot_reliability", too_large)
    other = write_csv(tmp_path / "other.csv", TWEETS[:12] * 3)  # another report's metrics
    args = ["evaluate", "--model-dir", str(trained_model), str(other), "--report-dir"]
    refused(runner.invoke(cli, [*args, str(report)]), "cannot write: the file grew too large")
    assert {p.name: p.read_bytes() for p in report.iterdir()} == before


def test_an_argument_that_is_not_utf8_is_scored_and_written_as_json(runner, trained_model):
    text = os.fsdecode(b"caf\xe9")  # a shell argument in Latin-1
    for fmt in ("json", "jsonl"):
        args = ["predict", "--model-dir", str(trained_model), "-f", fmt, text]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert '"caf\\udce9"' in result.output
