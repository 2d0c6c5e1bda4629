"""TensorFlow's start-up chatter is dropped; real warnings still reach stderr."""

import os
import subprocess
import sys

from sentiment_cli.models.backend import filtered_stderr
from tests.conftest import ROOT, TWEETS, write_csv


def test_filtered_stderr_drops_chatter_and_keeps_the_rest(capfd):
    with filtered_stderr():
        os.write(2, b"I0000 00:00:1 port.cc:153] oneDNN custom operations are on. ...\n")
        os.write(2, b"E0000 00:00:1 cuda_executor.cc:1] failed call to cuInit: CUDA error\n")
        os.write(2, b"UserWarning: something the user should see\n")
    err = capfd.readouterr().err
    assert err == "UserWarning: something the user should see\n"


def test_tensorflows_retracing_hint_is_dropped_and_its_warnings_kept(caplog):
    import logging

    from sentiment_cli.models.backend import load

    load()
    logger = logging.getLogger("tensorflow")
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        logger.warning("5 out of the last 5 calls to <function f> triggered tf.function retracing.")
        logger.warning("a real warning")
    assert [r.getMessage() for r in caplog.records] == ["a real warning"]


def test_training_prints_no_tensorflow_start_up_lines(tmp_path):
    data = write_csv(tmp_path / "t.csv", TWEETS * 2)
    args = ["train", str(data), "-o", str(tmp_path / "m"), "-q", "--set", "train.epochs=1"]
    args += ["--set", "model.units=2", "--set", "model.embedding_dim=2"]
    result = subprocess.run(
        [sys.executable, "-m", "sentiment_cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    for marker in ("I0000", "E0000", "W0000", "oneDNN", "cuda", "absl"):
        assert marker not in result.stderr, result.stderr
    assert "Model written to" in result.stdout
