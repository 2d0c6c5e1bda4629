"""train --engine ray: data-parallel training on a local Ray cluster of 2 workers."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from sentiment_cli.cli import cli
from sentiment_cli.training import checkpoint as ckpt
from sentiment_cli.training.batches import global_batches, row_weights
from sentiment_cli.training.checkpoint import ray_states
from sentiment_cli.training.distributed import next_run_name
from tests.conftest import ROOT, TWEETS, tiny_sets, train_args, write_csv

RAY = ["--engine", "ray", "--workers", "2"]


def ray_train():
    pytest.importorskip("ray.train", reason="the [ray] extra (Ray Train) is not installed")


# -- without Ray ---------------------------------------------------------------------


def test_ray_options_without_engine_ray_are_refused(runner, tiny_csv, tmp_path):
    for extra in (["--workers", "3"], ["--address", "10.0.0.1:6379"]):
        result = runner.invoke(cli, train_args(tiny_csv, tmp_path / "m", *extra))
        assert result.exit_code == 1
        assert f"{extra[0]} go with --engine ray" in result.output
    assert not (tmp_path / "m").exists()


def test_tensorboard_with_engine_ray_is_refused(runner, tiny_csv, tmp_path):
    pytest.importorskip("ray")
    args = train_args(tiny_csv, tmp_path / "m", *RAY, "--tensorboard", str(tmp_path / "tb"))
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and "drop it with --engine ray" in result.output


def test_an_address_where_no_cluster_listens_is_refused_before_the_data(runner, tmp_path):
    pytest.importorskip("ray")
    import socket

    with socket.socket() as free:  # a port nothing listens on once closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    args = train_args(tmp_path / "absent.csv", tmp_path / "m", *RAY)
    result = runner.invoke(cli, [*args, "--address", f"127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert f"--address 127.0.0.1:{port}: no Ray cluster answers there" in result.output
    assert not (tmp_path / "m").exists() and not ckpt.path_for(tmp_path / "m").exists()


def test_row_weights_are_the_class_weight_times_the_sample_weight():
    labels = np.array([0, 1, 2, 1])
    weights = row_weights(labels, {0: 2.0, 1: 0.5, 2: 1.0}, np.array([1.0, 1.0, 0.5, 0.2]))
    assert weights.tolist() == pytest.approx([2.0, 0.5, 0.5, 0.1])
    assert row_weights(labels, None, None).tolist() == [1.0] * 4


@pytest.mark.parametrize("overrides", [[], ["model.mask_padding=false"]])
def test_global_batches_cover_every_row_once_and_give_each_worker_one(overrides):
    from sentiment_cli.config import load_config

    config = load_config(None, ["train.batch_size=8", *overrides])
    lengths = np.random.default_rng(0).integers(1, 30, size=83)
    batches = global_batches(lengths, config, seed=5, workers=4)
    rows = np.concatenate(batches)
    assert len(set(rows.tolist())) == len(rows)  # no row twice
    assert len(rows) == 80  # 83 = 10 batches of 8 + 3 rows, fewer than the 4 workers
    assert all(len(b) >= 4 for b in batches)
    again = global_batches(lengths, config, seed=5, workers=4)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))
    other = global_batches(lengths, config, seed=6, workers=4)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, other, strict=False))


def write_progress(state, epochs_done):
    state.mkdir(parents=True)
    (state / "progress.json").write_text(json.dumps({"epochs_done": epochs_done}))


def test_resume_finds_the_ray_state_with_the_most_epochs(tmp_path):
    out = tmp_path / "model"
    checkpoint = ckpt.path_for(out)
    assert ckpt.last_state(checkpoint) is None
    write_progress(checkpoint / "ray" / "fit-1" / "checkpoint_a", 1)
    write_progress(checkpoint / "ray" / "fit-1" / "checkpoint_b", 2)
    write_progress(checkpoint / "ray" / "fit-2" / "checkpoint_c", 3)
    write_progress(checkpoint / "ray" / "scratch-1" / "checkpoint_d", 9)  # a member's end
    assert ckpt.last_state(checkpoint) == checkpoint / "ray" / "fit-2" / "checkpoint_c"
    assert "train --resume --output-dir" in ckpt.resume_hint(out)
    assert next_run_name(checkpoint / "ray", "fit") == "fit-3"
    assert next_run_name(checkpoint / "ray", "scratch") == "scratch-2"
    assert next_run_name(tmp_path / "none", "fit") == "fit-1"


def test_a_local_run_records_its_engine_and_batch_size(trained_model):
    summary = json.loads((trained_model / "summary.json").read_text())
    assert summary["engine"] == {"name": "keras", "workers": 1, "address": None}
    assert summary["batch_size"] == 16  # the fixture's train.batch_size


# -- on a local Ray cluster ----------------------------------------------------------


def rows(n):
    return [(f"{text} #{i}", label) for i, (text, label) in enumerate(TWEETS * n)]


def weights(folder):
    with np.load(folder / "weights.npz") as arrays:
        return {name: arrays[name] for name in arrays.files}


def test_two_workers_write_a_checked_folder_the_same_for_the_same_seed(runner, tmp_path):
    ray_train()
    data = write_csv(tmp_path / "tweets.csv", rows(6))
    args = [*tiny_sets("train.epochs=3", "train.early_stopping_patience=5"), "-q", *RAY]
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = runner.invoke(cli, ["train", str(data), "-o", str(out), *args])
        assert result.exit_code == 0, result.output
        assert "Training on Ray: 2 workers" in result.output
    assert runner.invoke(cli, ["check", str(first)]).exit_code == 0
    summary = json.loads((first / "summary.json").read_text())
    assert summary["engine"] == {"name": "ray", "workers": 2, "address": None}
    assert summary["epochs_run"] == 3
    history = json.loads((first / "history.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history["loss"][-1] < history["loss"][0]  # it learnt
    a, b = weights(first), weights(second)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not ckpt.path_for(first).exists()  # the checkpoint goes with the finished run


def cli_command(*args):
    return [sys.executable, "-m", "sentiment_cli", *args]


def wait_for_checkpoint(process, checkpoint, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"training ended early: {process.communicate()}")
        if ray_states(checkpoint):
            return
        time.sleep(1)
    process.kill()
    pytest.fail("no epoch checkpoint within the timeout")


def training_after_an_epoch(data, out, sets):
    """``train --engine ray`` in a process of its own, once its first checkpoint is in."""
    process = subprocess.Popen(
        cli_command("train", str(data), "-o", str(out), "-q", *sets, *RAY),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    wait_for_checkpoint(process, ckpt.path_for(out))
    return process


def train_workers():
    import psutil

    return [
        p
        for p in psutil.process_iter(["cmdline"])
        if any("RayTrainWorker" in part for part in (p.info["cmdline"] or []))
    ]


@pytest.mark.slow
def test_a_killed_worker_and_an_interrupted_driver_lose_no_epoch(tmp_path):
    """kill -9 of a worker: Ray restarts the group from the last checkpoint and the run
    ends. Ctrl-C of the driver: exit 130, the checkpoint stays; --resume finishes."""
    ray_train()
    data = write_csv(tmp_path / "tweets.csv", rows(6))
    sets = tiny_sets("train.epochs=6", "train.early_stopping_patience=10")
    out = tmp_path / "killed"
    process = training_after_an_epoch(data, out, sets)
    workers = train_workers()
    assert len(workers) == 2
    workers[-1].kill()
    output, _ = process.communicate(timeout=400)
    assert process.returncode == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_run"] == 6 and summary["engine"]["workers"] == 2

    out = tmp_path / "interrupted"
    process = training_after_an_epoch(data, out, sets)
    os.kill(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    assert "continue with 'sentiment-cli train --resume" in output
    assert not out.exists()
    resumed = subprocess.run(
        cli_command("train", "--resume", "-o", str(out), "-q"),
        cwd=ROOT, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resumed after epoch" in resumed.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed"] is True and summary["epochs_run"] == 6
    assert summary["engine"]["name"] == "ray"  # the run's own engine


@pytest.mark.slow
def test_pretrain_on_two_workers_builds_an_encoder(runner, tmp_path):
    ray_train()
    corpus = tmp_path / "tweets.txt"
    faces = [f"great day number {i} :)" for i in range(60)]
    faces += [f"awful day number {i} :(" for i in range(60)]
    corpus.write_text("\n".join(faces) + "\n", encoding="utf-8")
    out = tmp_path / "encoder"
    args = ["pretrain", str(corpus), "-o", str(out), "-q", *RAY]
    result = runner.invoke(cli, [*args, *tiny_sets()])
    assert result.exit_code == 0, result.output
    spec = json.loads((out / "encoder.json").read_text())
    assert spec["engine"] == {"name": "ray", "workers": 2, "address": None}
    made = spec["neutral_made"]  # faces give two labels: a neutral class is made too
    assert spec["labels"] == ["negative", "neutral", "positive"] and made["neutral"] > 0
    assert spec["rows"] == 120 - made["drawn"] + made["neutral"]


@pytest.mark.slow
def test_address_joins_a_running_cluster_and_leaves_it_running(tmp_path):
    """--address: the fit joins a cluster started with `ray start`, which is still
    there after the run (a local Ray started by the fit itself is stopped)."""
    ray_train()
    import shutil

    ray_cli = shutil.which("ray", path=os.path.dirname(sys.executable))
    if ray_cli is None:
        pytest.skip("the ray command is not installed beside this Python")
    port = "26479"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    head = [ray_cli, "start", "--head", "--port", port, "--num-cpus", "2"]
    subprocess.run([*head, "--include-dashboard=false"], check=True, env=env,
                   capture_output=True, timeout=120)  # fmt: skip
    try:
        import ray

        data = write_csv(tmp_path / "tweets.csv", rows(4))
        out = tmp_path / "joined"
        address = f"{ray.util.get_node_ip_address()}:{port}"
        args = ["train", str(data), "-o", str(out), "-q", *tiny_sets(), *RAY]
        joining = cli_command(*args, "--address", address)
        if env.get("RAY_AUTH_MODE") is None:  # Ray's default: the cluster wants its token
            refused = subprocess.run(joining, cwd=ROOT, env=env, capture_output=True,
                                     text=True, timeout=300)  # fmt: skip
            assert refused.returncode == 1 and "RAY_AUTH_MODE=token" in refused.stderr
        token = {**env, "RAY_AUTH_MODE": "token"}  # what a user of such a cluster exports
        joined = subprocess.run(joining, cwd=ROOT, env=token,
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert joined.returncode == 0, joined.stdout + joined.stderr
        summary = json.loads((out / "summary.json").read_text())
        assert summary["engine"] == {"name": "ray", "workers": 2, "address": address}
        more = ["train", str(data), "-o", str(tmp_path / "more"), "-q", *tiny_sets()]
        more = cli_command(*more, "--engine", "ray", "--workers", "3", "--address", address)
        more = subprocess.run(more, cwd=ROOT, env=token,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert more.returncode == 1
        assert "--workers 3: the cluster at" in more.stderr and "has 2 CPUs" in more.stderr
        status = subprocess.run([ray_cli, "status", "--address", address], env=token,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert status.returncode == 0, status.stdout + status.stderr
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True, timeout=120)
