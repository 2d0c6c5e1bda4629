import json

import pytest
import yaml

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, tiny_sets, write_csv

pytest.importorskip("keras_tuner", reason="the tune extra (keras-tuner) is not installed")

SPACE = "model.units: [3, 5]\ntrain.learning_rate: {min: 0.001, max: 0.01, log: true}\n"


def tune_args(data, out, space, *extra):
    return ["tune", str(data), "-o", str(out), "--space", str(space), *tiny_sets(), *extra]


@pytest.fixture
def files(tmp_path):
    data = write_csv(tmp_path / "d.csv", TWEETS * 3)
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    return data, space


def test_tune_runs_trials_and_trains_the_best(runner, tmp_path, files):
    data, space = files
    out = tmp_path / "tuned"
    result = runner.invoke(cli, tune_args(data, out, space, "--max-trials", "3"))
    assert result.exit_code == 0, result.output
    assert "Search: 3 trial(s)" in result.output and "val MR" in result.output
    assert "Tokens read from the cache" in result.output  # the search tokenized once
    tuning = json.loads((out / "tuning.json").read_text())
    assert len(tuning["trials"]) == 3
    scores = [t["val_macro_recall"] for t in tuning["trials"]]
    best = tuning["best"]
    assert best["trial"] == tuning["trials"][scores.index(max(scores))]["trial"]
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["model"]["units"] == best["values"]["model.units"] in (3, 5)
    assert config["train"]["learning_rate"] == pytest.approx(best["values"]["train.learning_rate"])
    assert 0.001 <= config["train"]["learning_rate"] <= 0.01
    assert config["model"]["embedding_dim"] == 8  # --set applies to every trial
    assert (out / "weights.npz").exists()


def test_time_box_stops_the_search(runner, tmp_path, files):
    data, space = files
    args = tune_args(data, tmp_path / "t", space, "--max-minutes", "0.0001", "--max-trials", "9")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Search: 1 trial(s)" in result.output


@pytest.mark.parametrize(
    "space, message",
    [
        ("text.max_length: [10, 20]", "text.max_length cannot be searched"),
        ("train.seed: [1, 2]", "train.seed cannot be searched"),
        ("model.colour: [1, 2]", "unknown key 'model.colour'"),
        ("model.cell: [lstm, transformer]", "model.cell must be one of"),
        ("model.units: {min: 8, max: 4}", "model.units: expected min < max"),
        ("model.units: []", "the list of choices must be non-empty"),
        ("model.dropout: {min: 0, max: 1.5}", "model.dropout"),
        ("train.learning_rate: {min: 0, max: 1, log: true}", "log: true needs min > 0"),
        ("- a list", "expected a mapping of config keys"),
        ("units: [1]", "'units' is not a config key"),
    ],
)
def test_bad_search_space_is_refused_before_any_work(runner, tmp_path, files, space, message):
    data, _ = files
    path = tmp_path / "bad.yaml"
    path.write_text(space + "\n")
    result = runner.invoke(cli, tune_args(data, tmp_path / "t", path))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # click's exit, not a crash
    assert str(path) in result.output and message in result.output, result.output
    assert not (tmp_path / "t").exists()


def test_an_existing_model_folder_is_kept(runner, tmp_path, files, trained_model):
    data, space = files
    before = sorted(p.name for p in trained_model.iterdir())
    result = runner.invoke(cli, tune_args(data, trained_model, space))
    assert result.exit_code != 0 and "--force" in result.output
    assert sorted(p.name for p in trained_model.iterdir()) == before


def test_shipped_space_is_valid():
    from sentiment_cli.config import CONFIG_DIR, load_config
    from sentiment_cli.training.tune import load_space

    params = load_space(CONFIG_DIR / "tune" / "space.yaml", load_config(None))
    assert {p.key for p in params} >= {"model.units", "train.learning_rate"}


def test_tune_from_python_gives_what_the_command_gives(runner, tmp_path, files):
    """The workflow is a function (training.tune.tune): the command only renders it."""
    from sentiment_cli.config import load_config
    from sentiment_cli.training.tune import tune

    data, space = files
    command = runner.invoke(cli, tune_args(data, tmp_path / "cli", space, "--max-trials", "2"))
    assert command.exit_code == 0, command.output
    config = load_config(None, [s for s in tiny_sets() if s != "--set"])
    result = tune(data, tmp_path / "py", config, space=space, max_trials=2, log=lambda m: None)
    by_command = json.loads((tmp_path / "cli" / "tuning.json").read_text())
    assert result.best == by_command["best"] and result.trials == by_command["trials"]
    assert json.loads((tmp_path / "py" / "tuning.json").read_text()) == by_command
    assert (tmp_path / "py" / "weights.npz").read_bytes() == (
        tmp_path / "cli" / "weights.npz"
    ).read_bytes()


def test_trials_that_fail_give_their_error_not_a_traceback(runner, tmp_path, files, monkeypatch):
    from sentiment_cli.training import start

    def broken(*args, **kwargs):
        raise ValueError("a layer that cannot be built")

    monkeypatch.setattr(start, "new_model", broken)
    data, space = files
    result = runner.invoke(cli, tune_args(data, tmp_path / "t", space, "--max-trials", "4"))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "ValueError: a layer that cannot be built" in result.output
    assert not (tmp_path / "t").exists()
