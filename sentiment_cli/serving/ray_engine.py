"""``predict --engine ray``: score CSV/Parquet files on a Ray cluster (the ``[ray]`` extra).

Ray Data reads the inputs, actors that hold the TensorFlow-free runtime score them
(``map_batches`` with a callable class, each actor loading the model folder once), and
the results are written as Parquet or CSV shards into a folder, with ``_SUCCESS``
written last. The folder is built beside its destination and renamed into place, so
a failed or interrupted job leaves no partial output.

Without ``--address`` a local Ray is started with ``--num-cpus`` CPUs. Actors ask for
half a CPU each: on a small machine, actors that take every CPU starve Ray's read and
write tasks and the job never finishes.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentiment_cli.errors import SentimentError

ACTOR_CPUS = 0.5
SUCCESS = "_SUCCESS"


class Scorer:
    """One Ray actor: the model loaded once, then scoring batch after batch. The folder
    and column are class attributes (see ``scorer_for``), so the actor is built without
    constructor arguments in Ray's object store."""

    model_dir = ""
    text_column = "text"

    def __init__(self):
        from sentiment_cli.serving.api import load_model

        self.model = load_model(self.model_dir)

    def __call__(self, batch):
        return self.model.predict_batch(batch, self.text_column).reset_index(drop=True)


def predict_with_ray(
    model_dir: str | Path,
    files: list[str],
    output_dir: str | Path,
    *,
    text_column: str = "text",
    fmt: str = "parquet",
    address: str | None = None,
    num_cpus: int | None = None,
    batch_size: int = 2048,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    try:
        import ray
    except ImportError:
        raise SentimentError("--engine ray needs Ray: pip install 'sentiment-cli[ray]'") from None
    output_dir = Path(output_dir)
    if output_dir.exists() and not (force and output_dir.is_dir()):
        raise SentimentError(
            f"--output {output_dir}: exists; --engine ray writes a new folder of shards "
            f"(--force replaces a folder)"
        )
    kinds = {Path(f).suffix.lower() for f in files}
    if not kinds <= {".csv", ".parquet"}:
        raise SentimentError("--engine ray reads .csv and .parquet files")
    started = time.perf_counter()
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        ray.init(address=address, **quiet)
    else:
        cpus = num_cpus or os.cpu_count() or 1
        ray.init(num_cpus=cpus, include_dashboard=False, **quiet)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    actors = max(1, int((num_cpus or os.cpu_count() or 1) / ACTOR_CPUS) // 2)
    tmp = output_dir.parent / f".{output_dir.name}.tmp-{os.getpid()}"
    try:
        data = read(ray, files)
        scorer = type(
            "Scorer",
            (Scorer,),
            {"model_dir": str(Path(model_dir).resolve()), "text_column": text_column},
        )
        scored = data.map_batches(
            scorer,
            batch_format="pandas",
            batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=ACTOR_CPUS,
        )
        target = str(tmp.resolve())
        if fmt == "csv":
            scored.write_csv(target)
        else:
            scored.write_parquet(target)
        (tmp / SUCCESS).write_text("")
        if output_dir.exists():
            shutil.rmtree(output_dir)
        tmp.rename(output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        ray.shutdown()
    shards = sorted(p.name for p in output_dir.iterdir() if p.name != SUCCESS)
    seconds = time.perf_counter() - started
    log(f"Wrote {len(shards)} {fmt} shard(s) and {SUCCESS} to {output_dir} in {seconds:.1f}s")
    return {"output": str(output_dir), "shards": shards, "seconds": seconds, "actors": actors}


def read(ray, files: list[str]):
    """One Ray dataset over every input file (CSV and Parquet can be mixed), by
    absolute path, so that actors on other nodes find them on a shared mount."""
    parquet = [str(Path(f).resolve()) for f in files if f.lower().endswith(".parquet")]
    csv = [str(Path(f).resolve()) for f in files if f.lower().endswith(".csv")]
    parts = []
    if parquet:
        parts.append(ray.data.read_parquet(parquet))
    if csv:
        import pyarrow.csv

        # A tweet may hold line breaks inside its quotes; without this, Arrow's chunked
        # reader loses its place in a file over one block (a megabyte) and fails.
        quoted = pyarrow.csv.ParseOptions(newlines_in_values=True)
        parts.append(ray.data.read_csv(csv, parse_options=quoted))
    return parts[0] if len(parts) == 1 else parts[0].union(*parts[1:])


def predict_files(model_dir, texts, input_path, fmt, output, log=print, **options):
    """``predict --engine ray``: check the options, then score the input files into a
    folder of shards."""
    from sentiment_cli.io.streams import input_files
    from sentiment_cli.runtime.model_folder import check_model_dir

    if texts or not input_path or input_path == "-":
        raise SentimentError("--engine ray scores files: give --input FILE|FOLDER|PATTERN")
    if output is None:
        raise SentimentError("--engine ray writes a folder of shards: give --output FOLDER")
    if fmt not in ("table", "parquet", "csv"):
        raise SentimentError(f"--engine ray writes parquet or csv shards, not {fmt}")
    check_model_dir(model_dir)
    predict_with_ray(
        model_dir,
        input_files(input_path),
        output,
        text_column=options["text_column"],
        fmt="csv" if fmt == "csv" else "parquet",
        address=options["address"],
        num_cpus=options["num_cpus"],
        force=options["force"],
        log=log,
    )
