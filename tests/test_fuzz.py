"""Property-based fuzz of every command, in-process: generated option values and CSV
files. Whatever the input, a command ends with exit 0 or with one ``Error:`` line and
a non-zero exit, never a traceback, and the existing model folder never changes."""

import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, tiny_sets, write_csv

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def folder_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory, trained_model):
    """Files the generated arguments point at: a copy of the model folder (watched for
    changes), a good CSV, a folder, a missing path, and odd CSVs."""
    base = tmp_path_factory.mktemp("fuzz")
    model = base / "model"
    shutil.copytree(trained_model, model)
    good = write_csv(base / "good.csv", TWEETS * 2)
    (base / "folder").mkdir()
    odd = {
        "latin1.csv": "text,label\ncafé,positive\n".encode("latin-1"),
        "bom16.csv": "text,label\nhi,positive\nho,negative\n".encode("utf-16"),
        "ragged.csv": b"text,label\na,b,c\n",
        "quote.csv": b'text,label\n"never closed,positive\n',
        "empty.csv": b"",
        "header.csv": b"text,label\n",
        "cols.csv": b"tweet,sentiment\nhi,positive\n",
        "dupe.csv": b"text,text\nhi,positive\n",
        "huge.csv": b"text,label\n" + b"x" * 200_000 + b",positive\nok,negative\n",
        "binary.csv": bytes(range(256)),
        "yaml.yaml": b"model:\n  units: [\n",
        "config.yaml": b"model:\n  units: 2\ntrain:\n  epochs: 1\n",
    }
    for name, content in odd.items():
        (base / name).write_bytes(content)
    paths = {
        "model": model,
        "good": good,
        "folder": base / "folder",
        "missing": base / "missing.csv",
        **{name: base / name for name in odd},
    }
    return {"paths": paths, "digest": folder_digest(model), "base": base}


PATH_KEYS = st.sampled_from(
    ["model", "good", "folder", "missing", "latin1.csv", "bom16.csv", "ragged.csv", "quote.csv",
     "empty.csv", "header.csv", "cols.csv", "dupe.csv", "huge.csv", "binary.csv", "yaml.yaml",
     "config.yaml"]
)  # fmt: skip
NUMBERS = st.one_of(
    st.integers(-5, 5),
    st.floats(-2, 2),
    st.sampled_from([float("nan"), float("inf")]),
    st.sampled_from(["", "ten", "1e9", "-0", "0.5", "nan", "1,2", "🙂"]),
)
OVERRIDES = st.lists(
    st.one_of(
        st.builds(
            lambda k, v: f"{k}={v}",
            st.sampled_from(
                [
                    "model.units",
                    "model.dropout",
                    "train.epochs",
                    "text.max_length",
                    "model.cell",
                    "train.learning_rate",
                    "model.nope",
                    "nope.units",
                    "model",
                    "text.padding",
                ]
            ),  # fmt: skip
            NUMBERS.map(str),
        ),
        st.text(max_size=12),
    ),
    max_size=2,
)


def check(result, world) -> None:
    output = result.output
    if not (result.exception is None or isinstance(result.exception, SystemExit)):
        raise result.exception
    if result.exit_code != 0:
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, output
    assert folder_digest(world["paths"]["model"]) == world["digest"]


def run(runner, args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=True)


@FUZZ
@given(
    model=PATH_KEYS,
    data=PATH_KEYS,
    text_column=st.sampled_from(["text", "label", "tweet", ""]),
    fmt=st.sampled_from(["table", "json", "csv", "xml"]),
    report=st.sampled_from([None, "good", "folder", "model", "new"]),
    ensemble=st.booleans(),
)
def test_evaluate(runner, world, model, data, text_column, fmt, report, ensemble):
    p = world["paths"]
    args = ["evaluate", "--model-dir", p[model], p[data], "--text-column", text_column]
    args += ["--format", fmt]
    if ensemble:
        args += ["--model-dir", p["model"], "--ensemble"]
    if report == "new":
        args += ["--report-dir", world["base"] / "reports"]
    elif report:
        args += ["--report-dir", p[report]]
    check(run(runner, args), world)


@FUZZ
@given(
    model=PATH_KEYS,
    source=st.one_of(st.none(), PATH_KEYS),
    texts=st.lists(st.text(max_size=40), max_size=3),
    fmt=st.sampled_from(["table", "json", "jsonl", "csv", "yaml"]),
    output=st.sampled_from([None, "good", "folder", "model", "new"]),
    trace=st.booleans(),
    input_format=st.sampled_from(["auto", "csv", "lines", "xls"]),
)
def test_predict(runner, world, model, source, texts, fmt, output, trace, input_format):
    p = world["paths"]
    args = ["predict", "--model-dir", p[model], "--format", fmt, "--input-format", input_format]
    if source:
        args += ["--input", p[source]]
    if output == "new":
        args += ["--output", world["base"] / "out.txt"]
    elif output and output != "model":
        args += ["--output", p[output]]
    if trace:
        args.append("--trace")
    check(run(runner, [*args, "--", *texts]), world)


@FUZZ
@given(
    data=PATH_KEYS,
    test_size=NUMBERS,
    seed=NUMBERS,
    out=st.sampled_from(["good", "folder", "new"]),
    label_column=st.sampled_from(["label", "text", "sentiment"]),
)
def test_split(runner, world, data, test_size, seed, out, label_column):
    p = world["paths"]
    target = world["base"] / "split" if out == "new" else p[out]
    args = ["split", p[data], "--output-dir", target, "--test-size", test_size, "--seed", seed]
    check(run(runner, [*args, "--label-column", label_column]), world)


@settings(FUZZ, max_examples=15)
@given(
    data=PATH_KEYS,
    out=st.sampled_from(["model", "good", "new"]),
    config=st.one_of(st.none(), PATH_KEYS),
    overrides=OVERRIDES,
    columns=st.sampled_from([("text", "label"), ("label", "label"), ("tweet", "label")]),
    val=st.one_of(st.none(), PATH_KEYS),
    force=st.booleans(),
    resume=st.booleans(),
)
def test_train(runner, world, data, out, config, overrides, columns, val, force, resume):
    p = world["paths"]
    target = world["base"] / "trained" if out == "new" else p[out]
    args = ["train", p[data], "--output-dir", target, "--quiet", *tiny_sets()]
    args += ["--set", "train.baseline=false", "--set", "train.checkpoint=false"]
    args += ["--text-column", columns[0], "--label-column", columns[1]]
    for override in overrides:
        args += ["--set", override]
    if config:
        args += ["--config", p[config]]
    if val:
        args += ["--val-data", p[val]]
    if force and out != "model":  # --force may replace it: that is what it is for
        args.append("--force")
    if resume:
        args.append("--resume")
    check(run(runner, args), world)


@settings(FUZZ, max_examples=10)
@given(
    distances=st.sampled_from(["2", "0", "2,x", "", "-1", "3,2"]),
    cells=st.sampled_from(["lstm", "gru,simple_rnn:glorot_uniform", "cnn", "lstm:nope", ","]),
    train_size=NUMBERS,
    report=st.sampled_from([None, "good", "folder"]),
)
def test_experiment_memory(runner, world, distances, cells, train_size, report):
    args = ["experiment", "memory", "--distances", distances, "--cells", cells]
    args += ["--train-size", train_size, "--epochs", "1", "--units", "2"]
    if report:
        args += ["--report-dir", world["paths"][report]]
    check(run(runner, args), world)


@settings(FUZZ, max_examples=10)
@given(
    data=PATH_KEYS,
    test=st.one_of(st.none(), PATH_KEYS),
    overrides=OVERRIDES,
    out=st.sampled_from([None, "good", "model"]),
)
def test_compare(runner, world, data, test, overrides, out):
    p = world["paths"]
    args = ["compare", p[data], *tiny_sets(), "--set", "train.baseline=false"]
    for override in overrides:
        args += ["--set", override]
    if test:
        args += ["--test", p[test]]
    if out:
        args += ["--output-dir", p[out]]
    check(run(runner, args), world)


# --- configs, model folders, server requests: the next class found by itself ---------

KEYS = [
    *("text.max_length", "model.units", "model.cell", "model.kernel_initializer"),
    *("train.seed", "train.learning_rate", "model.pooling", "text.padding", "nope.x", "x"),
]
YAMLISH = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["[1, 2]", "{a: 1}", "null", "&a [*a]", "!!python/object:os.system", "[" * 300]
    ),
)


@FUZZ
@given(key=st.sampled_from(KEYS), value=YAMLISH, sep=st.sampled_from(["=", "", "=="]))
def test_set_values_give_a_config_or_a_clear_error(key, value, sep):
    from sentiment_cli.config import Config, load_config
    from sentiment_cli.errors import SentimentError

    try:
        config = load_config(None, [f"{key}{sep}{value}"])
    except SentimentError as exc:
        assert str(exc).count("\n") == 0 and len(str(exc)) < 2000
    else:
        assert isinstance(config, Config)


@FUZZ
@given(text=st.text(max_size=300), tail=YAMLISH)
def test_config_files_give_a_config_or_a_clear_error(tmp_path_factory, text, tail):
    from sentiment_cli.config import Config, load_config
    from sentiment_cli.errors import SentimentError

    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(f"{text}\nmodel: {{units: {tail}}}\n", encoding="utf-8")
    try:
        assert isinstance(load_config(path), Config)
    except SentimentError as exc:
        assert str(path) in str(exc) and str(exc).count("\n") == 0


FOLDER_FILES = ["weights.npz", "network.json", "vocab.json", "labels.json", "config.yaml",
                "summary.json", "history.json", "manifest.json", "baseline.json",
                "baseline.npz"]  # fmt: skip


def mutate(folder: Path, name: str, how: str, at: float, data: bytes, rehash: bool) -> None:
    path = folder / name
    raw = path.read_bytes()
    cut = int(at * len(raw))
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(raw[:cut])
    elif how == "overwrite":
        path.write_bytes(raw[:cut] + data + raw[cut + len(data) :])
    else:  # insert
        path.write_bytes(raw[:cut] + data + raw[cut:])
    if rehash and name != "manifest.json" and path.exists():
        import json

        from sentiment_cli.runtime.integrity import describe

        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"].update(describe(folder, [name]))
        (folder / "manifest.json").write_text(json.dumps(manifest))


@settings(FUZZ, max_examples=60)
@given(
    name=st.sampled_from(FOLDER_FILES),
    how=st.sampled_from(["delete", "truncate", "overwrite", "insert"]),
    at=st.floats(0, 1),
    data=st.binary(min_size=1, max_size=64),
    rehash=st.booleans(),
)
def test_a_mutated_model_folder_gives_a_clean_error_or_a_correct_answer(
    trained_model, tmp_path_factory, name, how, at, data, rehash
):
    """Random damage to a valid folder, with the manifest updated to match or not:
    opening, predicting and evaluating (which reads the baseline too) end in
    SentimentError or in answers, never a crash."""
    import numpy as np

    from sentiment_cli.errors import SentimentError
    from sentiment_cli.evaluation.evaluate import score
    from sentiment_cli.models.keras_runtime import open_model
    from sentiment_cli.runtime.predict import predict_proba

    folder = tmp_path_factory.mktemp("mut") / "m"
    shutil.copytree(trained_model, folder)
    mutate(folder, name, how, at, data, rehash)
    data = folder.parent / "d.csv"
    data.write_text("text,label\nnot bad at all,positive\nworst day ever,negative\n")
    try:
        bundle = open_model(folder)
        probs = predict_proba(bundle, ["not bad at all", "worst day ever", ""])
        score(folder, data)
    except SentimentError as exc:
        assert str(exc).count("\n") == 0
        return
    assert probs.shape == (3, len(bundle.labels))
    assert np.isfinite(probs).all() and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


@settings(FUZZ, max_examples=80)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=6), inner, max_size=4)
            ),
            max_leaves=12,
        ).map(lambda v: __import__("json").dumps(v).encode()),
        st.lists(st.text(max_size=40), max_size=5).map(
            lambda texts: __import__("json").dumps({"texts": texts, "trace": True}).encode()
        ),
    )
)
def test_server_requests_get_an_answer_not_a_500(served, body):
    response = served.post("/predict", content=body)
    assert response.status_code in (200, 400, 413, 422), response.text
    assert response.status_code != 200 or isinstance(response.json(), list)


@pytest.fixture(scope="module")
def served(trained_model):
    from starlette.testclient import TestClient

    from sentiment_cli.serving.server import create_app

    return TestClient(create_app(trained_model))
