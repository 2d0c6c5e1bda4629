"""The tool as a user installs it: a wheel in a fresh virtual environment, run from an
empty folder far from the repository (configs, the tune space and the probes must come
with the package)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TWEETS, tiny_sets, write_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The sentiment-cli command of a fresh venv holding the wheel built from here."""
    base = tmp_path_factory.mktemp("wheel")
    # Nothing of the checkout may leak in: no PYTHONPATH, and the build's egg-info in the
    # source tree would make pip think the package is installed already.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = {"check": True, "capture_output": True, "text": True, "timeout": 900, "env": env}
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", str(ROOT), "-w", str(base)], **run
    )
    # Building prints no warning (setuptools used to warn about each data folder of the
    # package); pip's own notes on this machine's package indexes are not the build's.
    warnings = [
        line
        for line in (built.stdout + built.stderr).splitlines()
        if "warn" in line.lower() and not line.startswith("WARNING: Location ")
    ]
    assert not warnings, "\n".join(warnings)
    (wheel,) = base.glob("sentiment_cli-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], **run)
    pip = base / "venv" / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", f"{wheel}[tune]"], cwd=base, **run)
    command = base / "venv" / "bin" / "sentiment-cli"
    assert command.exists(), "pip installed no sentiment-cli command"
    return command


def test_installed_tool_runs_every_workflow_from_an_empty_folder(installed, tmp_path):
    def cli(*args):
        result = subprocess.run(
            [str(installed), *map(str, args)],
            cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    # The built-in model answers before anything is trained.
    rows = json.loads(cli("predict", "-f", "json", "I love it", "worst day ever, I hate it"))
    assert [row["label"] for row in rows] == ["positive", "negative"]
    assert "files intact" in cli("check")
    write_csv(tmp_path / "tweets.csv", TWEETS * 3)
    # each of the 18 tweets three times: a fifth of the tweets (4) held out, copies together
    assert "Wrote 42 rows" in cli("split", "tweets.csv", "-o", "split")
    tiny = [*tiny_sets(), "--set", "model.encoder=null"]
    assert "Model written" in cli(
        "train", "split/train.csv", "-o", "m", "-q", "--config", "gru", *tiny
    )
    assert json.loads(cli("info", "m", "-f", "json"))["model"]["cell"] == "gru"
    rows = json.loads(cli("predict", "--model-dir", "m", "-f", "json", "not bad at all"))
    assert rows[0]["label"] in ("negative", "neutral", "positive")
    metrics = json.loads(cli("evaluate", "--model-dir", "m", "split/test.csv", "-f", "json"))
    assert metrics["n"] == 12 and metrics["baseline"] is not None
    assert metrics["copies_of_training_rows"] == 0
    out = cli("tune", "split/train.csv", "-o", "t", "--max-trials", "1", *tiny)
    assert "Best config" in out
    compared = json.loads(cli("compare", "split/train.csv", "-f", "json", *tiny))
    assert [row["name"] for row in compared["models"]] == ["simple_rnn", "lstm", "gru"]
    assert compared["models"][0]["probe_accuracy"] is not None  # the shipped probes
    order = json.loads(
        cli("experiment", "order", "--model-dir", "m", "split/test.csv", "-f", "json")
    )
    assert [c["name"] for c in order["conditions"]][0] == "as written"
    assert "gru" in cli("configs")
