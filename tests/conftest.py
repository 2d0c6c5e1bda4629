import csv
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# Tiny models keep the default test run fast on 2 cores.
TINY = [
    "model.units=4",
    "model.embedding_dim=8",
    "train.epochs=1",
    "train.batch_size=16",
    "text.max_length=12",
    "text.min_count=1",
]

TWEETS = [
    ("I love this so much :)", "positive"),
    ("what a great day, sooo happy 😍", "positive"),
    ("best coffee in town #blessed", "positive"),
    ("thank you @anna, you made my week", "positive"),
    ("amazing concert tonight!!!", "positive"),
    ("not bad at all, really good actually", "positive"),
    ("I hate mondays so much", "negative"),
    ("worst service ever, never again", "negative"),
    ("my flight got cancelled again :(", "negative"),
    ("this is terrible and boring", "negative"),
    ("so sad about the news today 😢", "negative"),
    ("ugh the train is late AGAIN", "negative"),
    ("the meeting is at 5pm in room 2", "neutral"),
    ("the store opens at 9 tomorrow", "neutral"),
    ("new episode out now http://t.co/abc", "neutral"),
    ("reading a book about rivers", "neutral"),
    ("bus 42 now leaves from platform 3", "neutral"),
    ("the vote is on sunday", "neutral"),
]


def tiny_sets(*overrides: str) -> list[str]:
    """``--set`` arguments for TINY, then ``overrides`` (a later --set wins)."""
    args: list[str] = []
    for override in (*TINY, *overrides):
        args += ["--set", override]
    return args


def train_args(data, out, *extra: str) -> list[str]:
    """``sentiment-cli train`` arguments for a tiny model; ``extra`` comes last and wins."""
    return ["train", str(data), "--output-dir", str(out), "--quiet", *tiny_sets(), *extra]


def write_csv(path: Path, rows, header=("text", "label")) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def tiny_csv(tmp_path):
    return write_csv(tmp_path / "tweets.csv", TWEETS * 2)


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """One tiny LSTM model folder shared by the tests that only read it."""
    from sentiment_cli.cli import cli

    base = tmp_path_factory.mktemp("trained")
    data = write_csv(base / "tweets.csv", TWEETS * 2)
    out = base / "model"
    result = CliRunner().invoke(cli, train_args(data, out), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def fresh_python(code: str) -> str:
    """Standard output of ``code`` run by a new Python process from the repository root
    (what a cold command imports and prints); its stderr is shown if it fails."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def shared_file(*parts: str) -> Path:
    """A file of ../shared/data. Absent, the test skips; under CI (CI=true) it fails,
    so a CI run cannot go green without the real-data tests."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"{path} is absent: the shared benchmark data is not on this machine"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)
    return path


def predict_csv(runner, model_dir, source):
    """``predict --input SOURCE -f csv`` in-process, as a DataFrame."""
    import io

    import pandas as pd

    from sentiment_cli.cli import cli

    args = ["predict", "--model-dir", str(model_dir), "-i", str(source), "-f", "csv"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout), keep_default_na=False)


def browser():
    """Headless Chromium through Selenium; the test skips, naming what is missing, where
    Debian's chromium or chromium-driver is not installed (``.ci/run`` installs them)."""
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )
    if chromium is None or driver is None:
        pytest.skip("headless browser test needs Debian's chromium and chromium-driver")
    pytest.importorskip("selenium", reason="the [test] extra's selenium is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=900,800")
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
