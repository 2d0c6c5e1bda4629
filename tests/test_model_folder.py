"""The model folder's owner: integrity (sizes and SHA-256 in the manifest), the
cross-checks made when a folder is opened, `info` and `check`, and the Keras model
rebuilt from the stored weights."""

import json
import shutil

import numpy as np
import pytest

from sentiment_cli.cli import cli
from sentiment_cli.errors import SentimentError
from tests.conftest import write_csv


@pytest.fixture
def folder(trained_model, tmp_path):
    """A copy of the shared tiny model, free to damage."""
    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    return copy


def flip_bytes(path, count=4000):
    """Zero ``count`` bytes in the middle: same size, and an NPZ stays a valid zip."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(size // 2 - min(count, size) // 2)
        handle.write(bytes(min(count, size)))


def rehash(folder):
    """Rewrite the manifest to match the files as they are now: a folder whose files
    are consistent with the manifest but not with each other (hand-made or buggy)."""
    from sentiment_cli.runtime.integrity import describe

    manifest = json.loads((folder / "manifest.json").read_text())
    names = [n for n in manifest["files"] if (folder / n).exists()]
    manifest["files"] = describe(folder, names)
    (folder / "manifest.json").write_text(json.dumps(manifest))


DAMAGE = {
    "flipped weights.npz": (lambda f: flip_bytes(f / "weights.npz"), "weights.npz was changed"),
    "truncated weights.npz": (
        lambda f: (f / "weights.npz").write_bytes((f / "weights.npz").read_bytes()[:9000]),
        "weights.npz has 9,000 bytes",
    ),
    "missing network.json": (lambda f: (f / "network.json").unlink(), "missing network.json"),
    "edited vocab.json": (
        lambda f: (f / "vocab.json").write_text(
            (f / "vocab.json").read_text().replace('"great"', '"grate"')
        ),
        "vocab.json was changed",
    ),
}


def test_the_manifest_records_each_files_size_and_sha256(trained_model):
    import hashlib

    manifest = json.loads((trained_model / "manifest.json").read_text())
    assert manifest["format_version"] == 3
    files = sorted(p.name for p in trained_model.iterdir() if p.name != "manifest.json")
    assert sorted(manifest["files"]) == files
    weights = (trained_model / "weights.npz").read_bytes()
    assert manifest["files"]["weights.npz"] == {
        "bytes": len(weights),
        "sha256": hashlib.sha256(weights).hexdigest(),
    }


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("command", ["predict", "evaluate", "check", "info"])
def test_a_damaged_folder_is_refused_naming_the_file(runner, folder, tiny_csv, damage, command):
    harm, message = DAMAGE[damage]
    harm(folder)
    args = {
        "predict": ["predict", "--model-dir", str(folder), "hello"],
        "evaluate": ["evaluate", "--model-dir", str(folder), str(tiny_csv)],
        "check": ["check", str(folder)],
        "info": ["info", str(folder)],
    }[command]
    result = runner.invoke(cli, args)
    if command == "info":  # the card is shown, saying what is wrong
        if "missing" in message:
            assert result.exit_code == 1 and message in result.output
        else:
            assert result.exit_code == 0 and message in result.output
        return
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert message in result.output
    assert "hello" not in result.output  # nothing was predicted


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_the_python_api_and_the_server_refuse_a_damaged_folder(folder, damage):
    from sentiment_cli import load_model
    from sentiment_cli.serving.server import create_app

    harm, message = DAMAGE[damage]
    harm(folder)
    with pytest.raises(SentimentError, match=message.replace(".", r"\.")):
        load_model(folder)
    with pytest.raises(SentimentError, match=message.replace(".", r"\.")):
        create_app(folder)


def test_check_passes_an_intact_folder_and_info_prints_its_card(runner, trained_model):
    result = runner.invoke(cli, ["check", str(trained_model)])
    assert result.exit_code == 0
    assert "13 files intact (format version 3)" in result.output
    card = json.loads(runner.invoke(cli, ["info", str(trained_model), "-f", "json"]).output)
    assert card["labels"] == ["negative", "neutral", "positive"]
    assert card["model"]["cell"] == "lstm" and card["model"]["units"] == 4
    assert card["integrity"] == {"ok": True, "problems": []}
    assert card["config_changes"]["model.units"] == {"value": 4, "default": 64}
    assert card["training_data"]["rows"] > 0 and len(card["training_data"]["sha256"]) == 64
    assert card["validation"]["macro_recall"] is not None
    assert card["baseline_validation"]["accuracy"] is not None
    table = runner.invoke(cli, ["info", str(trained_model)]).output
    assert "1 × lstm of 4 units" in table and "every file as the manifest says" in table


CROSS_CHECKS = {
    "a label twice": (
        lambda f: (f / "labels.json").write_text('["negative", "neutral", "negative"]'),
        "labels.json lists 'negative' more than once",
    ),
    "an unknown cell": (
        lambda f: (f / "network.json").write_text(
            (f / "network.json").read_text().replace('"lstm"', '"transformer"')
        ),
        "unknown cell",
    ),
    "an unknown pooling": (
        lambda f: (f / "network.json").write_text(
            (f / "network.json").read_text().replace('"last"', '"median"')
        ),
        "unknown pooling 'median'",
    ),
    "NaN weights": (
        lambda f: np.savez(
            f / "weights.npz",
            **{
                k: (v * np.nan if k == "classifier.bias" else v)
                for k, v in np.load(f / "weights.npz").items()
            },
        ),
        "classifier.bias holds NaN or infinite weights",
    ),
    "a missing array": (
        lambda f: np.savez(
            f / "weights.npz",
            **{k: v for k, v in np.load(f / "weights.npz").items() if k != "rnn.forward.bias"},
        ),
        "weights.npz has no array 'rnn.forward.bias'",
    ),
    "a wrong shape": (
        lambda f: np.savez(
            f / "weights.npz",
            **{
                k: (v[:, :2] if k == "classifier.kernel" else v)
                for k, v in np.load(f / "weights.npz").items()
            },
        ),
        "classifier.bias has shape (3,), network.json implies (2)",
    ),
    "a deeply nested labels.json": (
        lambda f: (f / "labels.json").write_text("[" * 5000 + "]" * 5000),
        "labels.json cannot be read: nested too deeply",
    ),
}


@pytest.mark.parametrize("case", list(CROSS_CHECKS))
def test_a_folder_whose_files_disagree_is_refused(runner, folder, case):
    """Files consistent with the manifest but not with each other: caught by the
    cross-checks, with a one-line error naming the file, before any prediction."""
    harm, message = CROSS_CHECKS[case]
    harm(folder)
    rehash(folder)
    result = runner.invoke(cli, ["predict", "--model-dir", str(folder), "hello"])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert message in result.output


@pytest.mark.parametrize(
    "overrides",
    [
        ["model.cell=lstm"],
        ["model.cell=gru", "model.bidirectional=true", "model.pooling=attention"],
        ["model.cell=simple_rnn", "model.layers=2", "model.pooling=max"],
        ["train.members=2"],
        ["model.subwords=64"],
    ],
    ids=lambda o: ",".join(o),
)
def test_the_rebuilt_keras_model_predicts_what_the_numpy_runtime_does(
    runner, tiny_csv, tmp_path, overrides
):
    from sentiment_cli.models.keras_runtime import open_model
    from tests.conftest import train_args

    sets = [a for o in overrides for a in ("--set", o)]
    result = runner.invoke(cli, [*train_args(tiny_csv, tmp_path / "m"), *sets])
    assert result.exit_code == 0, result.output
    bundle = open_model(tmp_path / "m", runtime="keras")
    ids = bundle.vocab.encode(
        ["not bad at all", "worst day ever", "", "#blessed :)"], bundle.config.text
    ).ids
    np.testing.assert_allclose(
        bundle.keras.predict(ids, verbose=0), bundle.network.predict_ids(ids), atol=1e-6
    )


def test_a_shipped_config_is_found_by_name_from_anywhere(runner, tmp_path, monkeypatch):
    from sentiment_cli.config import load_config

    monkeypatch.chdir(tmp_path)
    assert load_config("gru").model.cell == "gru"
    result = runner.invoke(cli, ["configs"])
    assert result.exit_code == 0 and "simple_rnn" in result.output and "bilstm" in result.output
    data = write_csv(tmp_path / "d.csv", [("a", "positive"), ("b", "negative")] * 3)
    bad = runner.invoke(cli, ["train", str(data), "-o", "m", "--config", "grv"])
    assert bad.exit_code == 1
    assert "--config 'grv': no such file, and not a shipped config" in bad.output
    assert "did you mean 'gru'?" in bad.output


def test_a_folder_from_before_negation_scope_keeps_the_clause_scope(folder):
    """A model is read with the tokenizer it was trained with: a config.yaml without
    text.negation_scope (written before it existed) means the clause rule, and one
    without text.normalize_emoji keeps skin tones and variation selectors."""
    import yaml

    from sentiment_cli.runtime.model_folder import read_config

    config = yaml.safe_load((folder / "config.yaml").read_text())
    del config["text"]["negation_scope"], config["text"]["normalize_emoji"]
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    old = read_config(folder).text
    assert old.negation_scope == "clause" and old.normalize_emoji is False
    config["text"].update(negation_scope="grammar", normalize_emoji=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    new = read_config(folder).text
    assert new.negation_scope == "grammar" and new.normalize_emoji is True
