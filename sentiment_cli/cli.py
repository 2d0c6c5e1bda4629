"""Command-line interface: parses options, prints, turns our errors into ``Error: ...``.

TensorFlow is imported only inside the commands that need it, so ``--help`` and
input errors answer at once.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from sentiment_cli import __version__
from sentiment_cli.errors import SentimentError


def _quiet_tensorflow() -> None:
    # TensorFlow's C++ start-up chatter goes to stderr; keep only errors.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")


def handle_errors(func):
    """Show SentimentError as 'Error: message' with exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SentimentError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def column_options(func):
    func = click.option(
        "--label-column", default="label", show_default=True, help="Column holding the labels."
    )(func)
    func = click.option(
        "--text-column", default="text", show_default=True, help="Column holding the tweets."
    )(func)
    return func


def config_option(help_text: str):
    return click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        help=help_text,
    )


def overrides_option(func):
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a config key, e.g. --set model.units=64 (repeatable).",
    )(func)


def val_data_option(func):
    return click.option(
        "--val-data",
        type=click.Path(path_type=Path),
        default=None,
        help="Validation CSV; without it a stratified split of DATA is held out.",
    )(func)


def not_a_model_folder(ctx, param, value):
    """Reports and splits go elsewhere: a model folder is never written into."""
    if value is not None and (Path(value) / "manifest.json").exists():
        raise click.BadParameter(
            f"{value} is a model folder; write {param.name.replace('_', '-')} files elsewhere"
        )
    return value


def report_dir_option(help: str):
    return click.option(
        "--report-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        callback=not_a_model_folder,
        help=help,
    )


def format_option(choices: list[str]):
    return click.option(
        "--format", "-f", "fmt", type=click.Choice(choices), default="table", show_default=True
    )


def runtime_option(func):
    return click.option(
        "--runtime",
        type=click.Choice(["numpy", "keras"]),
        default="numpy",
        show_default=True,
        help="numpy: the TensorFlow-free runtime; keras: the Keras model (to verify).",
    )(func)


def model_dir_option(multiple: bool = False):
    return click.option(
        "--model-dir",
        "model_dir",
        required=True,
        multiple=multiple,
        type=click.Path(path_type=Path),
        help="Model folder written by 'sentiment-cli train'"
        + (" (repeat to compare several models)." if multiple else "."),
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sentiment-cli")
def cli():
    """Train, run and evaluate recurrent neural networks (SimpleRNN, LSTM, GRU) that
    classify the sentiment of tweets.

    \b
    Example:
        sentiment-cli train data/sample_tweets.csv --output-dir runs/lstm
        sentiment-cli predict --model-dir runs/lstm "not bad at all :)"
        sentiment-cli evaluate --model-dir runs/lstm test.csv
    """
    _quiet_tensorflow()


@cli.command()
@click.argument("data", type=click.Path(path_type=Path), required=False)
@click.option(
    "--output-dir",
    "-o",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Model folder to write (written atomically).",
)
@config_option("YAML config (default: configs/lstm.yaml).")
@overrides_option
@column_options
@val_data_option
@click.option("--force", is_flag=True, help="Replace an existing model folder.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run of --output-dir.")
@click.option("--quiet", "-q", is_flag=True, help="No per-epoch progress bar.")
@click.option(
    "--tensorboard",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    callback=not_a_model_folder,
    help="Write TensorBoard logs here (loss and accuracy per epoch, the graph).",
)
@handle_errors
def train(
    data,
    output_dir,
    config_path,
    overrides,
    text_column,
    label_column,
    val_data,
    force,
    resume,
    quiet,
    tensorboard,
):
    """Train a model on DATA, a CSV with a text and a label column.

    Writes a self-contained model folder: the Keras model, vocabulary, resolved
    config, labels, training history, summary and the bag-of-words baseline.
    After every epoch a checkpoint is kept in OUTPUT_DIR.checkpoint; if the run is
    interrupted, --resume continues it (weights, optimizer state, epoch counter,
    early-stopping state and vocabulary; DATA and options come from the checkpoint).

    \b
    Example:
        sentiment-cli train data/sample_tweets.csv --output-dir runs/lstm
        sentiment-cli train tweets.csv -o runs/gru --config configs/gru.yaml \\
            --set model.units=32 --set train.epochs=5 --val-data val.csv
        sentiment-cli train --resume -o runs/gru
        sentiment-cli train tweets.csv -o runs/lstm --tensorboard runs/tb
    """
    from sentiment_cli.training.train import train as run_training

    config = training_config(resume, data, config_path, overrides, val_data)
    try:
        run_training(
            data,
            output_dir,
            config,
            text_column=text_column,
            label_column=label_column,
            val_path=val_data,
            force=force,
            resume=resume,
            verbose=0 if quiet else (1 if sys.stdout.isatty() else 2),
            log=click.echo,
            tensorboard=tensorboard,
        )
    except KeyboardInterrupt:
        from sentiment_cli.training.checkpoint import resume_hint

        hint = resume_hint(output_dir)
        click.echo(f"Interrupted: {output_dir} was not written or changed{hint}", err=True)
        sys.exit(130)


def training_config(resume, data, config_path, overrides, val_data):
    """The config a new run trains with; None for --resume, which brings its own."""
    if resume:
        given = [
            name
            for name, value in (
                ("DATA", data),
                ("--config", config_path),
                ("--set", overrides),
                ("--val-data", val_data),
            )
            if value
        ]
        if given:
            raise SentimentError(
                f"--resume continues a run with its own data and config; drop {', '.join(given)}"
            )
        return None
    if data is None:
        raise SentimentError("missing DATA: the labelled CSV to train on (or use --resume)")
    from sentiment_cli.config import load_config

    return load_config(config_path, overrides)


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--output-dir",
    "-o",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Model folder for the best config (written atomically).",
)
@click.option(
    "--space",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML search space (default: configs/tune/space.yaml).",
)
@config_option("YAML config the trials start from (default: configs/lstm.yaml).")
@overrides_option
@column_options
@val_data_option
@click.option(
    "--max-minutes",
    type=click.FloatRange(0, min_open=True),
    default=20.0,
    show_default=True,
    help="Time box of the search (a running trial stops at its next epoch end).",
)
@click.option(
    "--max-trials",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="Most trials to run.",
)
@click.option(
    "--algorithm",
    type=click.Choice(["bayesian", "hyperband"]),
    default="bayesian",
    show_default=True,
    help="KerasTuner's search algorithm.",
)
@click.option("--force", is_flag=True, help="Replace an existing model folder.")
@handle_errors
def tune(data, output_dir, space, config_path, overrides, max_minutes, max_trials, **options):
    """Search hyperparameters on validation data with KerasTuner, then train the best.

    The search space (--space) maps config keys to the values to try. Every trial is
    scored by its validation macro recall (--val-data, or a stratified split of DATA).
    Prints the trials as a table and trains the best config into --output-dir, a
    normal model folder: its config.yaml is the best config, and tuning.json lists
    every trial. Needs the tune extra: pip install "sentiment-cli[tune]".

    \b
    Example:
        sentiment-cli tune tweets.csv -o runs/tuned --max-minutes 30
        sentiment-cli tune tweets.csv -o runs/tuned --space my_space.yaml --val-data val.csv
    """
    import importlib.util
    import tempfile

    from sentiment_cli.config import CONFIG_DIR, load_config
    from sentiment_cli.io import output as out
    from sentiment_cli.runtime.model_folder import check_output_dir
    from sentiment_cli.training import tune as tuning
    from sentiment_cli.training.token_cache import cache_dir
    from sentiment_cli.training.train import train as run_training

    if importlib.util.find_spec("keras_tuner") is None:
        raise SentimentError('tune needs KerasTuner: pip install "sentiment-cli[tune]"')
    check_output_dir(output_dir, options["force"])
    config = load_config(config_path, overrides)
    params = tuning.load_space(space or CONFIG_DIR / "tune" / "space.yaml", config)
    columns = {k: options[k] for k in ("text_column", "label_column")}
    with tempfile.TemporaryDirectory(prefix="sentiment-tune-") as work:
        best, trials = tuning.search(
            data,
            options["val_data"],
            config,
            params,
            max_minutes=max_minutes,
            max_trials=max_trials,
            algorithm=options["algorithm"],
            work_dir=Path(work),
            token_cache=cache_dir(output_dir),
            log=click.echo,
            **columns,
        )
    out.print_trials(trials, best["trial"])
    click.echo("Best: " + ", ".join(f"{k}={v}" for k, v in best["values"].items()))
    run_training(
        data,
        output_dir,
        tuning.with_values(config, best["values"], "tune"),
        val_path=options["val_data"],
        force=options["force"],
        verbose=0,
        log=click.echo,
        **columns,
    )
    tuning.write_trials(output_dir, trials, best, options["algorithm"])
    click.echo(f"Best config: {output_dir / 'config.yaml'}; trials: {output_dir / 'tuning.json'}")


@cli.command()
@model_dir_option()
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "-i",
    "input_path",
    default=None,
    metavar="FILE|-",
    help="Read texts from a CSV (its text column), a Parquet file, a text file (one per "
    "line), a folder of them or a glob pattern; '-' reads stdin.",
)
@click.option(
    "--input-format",
    type=click.Choice(["auto", "csv", "lines"]),
    default="auto",
    show_default=True,
    help="auto: CSV when the file name ends in .csv.",
)
@click.option(
    "--text-column",
    default="text",
    show_default=True,
    help="Column holding the texts in a CSV input.",
)
@format_option(["table", "json", "jsonl", "csv", "parquet"])
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the results to FILE (complete or not at all) instead of stdout; "
    "FILE.parquet writes Parquet.",
)
@click.option("--trace", is_flag=True, help="Show the prediction after every word.")
@click.option("--gates", is_flag=True, help="With the trace, show the cell's gates per word.")
@runtime_option
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="ray: score --input files on a Ray cluster into a folder of shards ([ray] extra).",
)
@click.option("--address", default=None, help="With --engine ray: join this Ray cluster.")
@click.option(
    "--num-cpus",
    type=click.IntRange(1),
    default=None,
    help="With --engine ray and no --address: CPUs of the local Ray (default: all).",
)
@click.option("--force", is_flag=True, help="With --engine ray: replace an existing --output.")
@handle_errors
def predict(
    model_dir,
    texts,
    input_path,
    input_format,
    text_column,
    fmt,
    output,
    trace,
    gates,
    runtime,
    engine,
    address,
    num_cpus,
    force,
):
    """Predict the sentiment of TEXTS, or of every text in --input.

    Prints each text's label and the probability of every label.

    \b
    Example:
        sentiment-cli predict --model-dir runs/lstm "I love this" "worst day ever"
        sentiment-cli predict --model-dir runs/lstm --input tweets.csv -f csv -o out.csv
        cat tweets.txt | sentiment-cli predict --model-dir runs/lstm -i - -f jsonl
        sentiment-cli predict --model-dir runs/lstm --trace "not bad at all"
        sentiment-cli predict --model-dir runs/lstm --gates -f json "not bad at all"
        sentiment-cli predict --model-dir runs/lstm -i "tweets/*.parquet" -o scored.parquet
        sentiment-cli predict --model-dir runs/lstm --engine ray -i tweets/ -o scored/

    From Python: sentiment_cli.load_model(DIR).predict(texts) returns the same
    columns as --format csv, without TensorFlow.

    --trace shows, for every word in order, the probabilities the model would output
    if the tweet ended there (the trained classifier applied to the recurrent state
    after that word); the last row is the ordinary prediction. --gates adds what the
    cell did at each word: LSTM forget / input / output gate means and the cell-state
    norm ‖C_t‖, GRU update / reset gates, SimpleRNN state norm.
    """
    from sentiment_cli.io import output as out

    if engine == "ray":
        return predict_on_ray(
            model_dir, texts, input_path, text_column, fmt, output, address, num_cpus, force
        )
    if output is not None and output.suffix.lower() == ".parquet" and fmt == "table":
        fmt = "parquet"
    if texts and input_path:
        raise SentimentError("give texts as arguments or with --input, not both")
    if not texts and not input_path:
        raise SentimentError("no texts: give them as arguments or with --input FILE (- for stdin)")
    from sentiment_cli.io.readers import iter_texts
    from sentiment_cli.runtime.model_folder import load_model_dir
    from sentiment_cli.runtime.predict import predict_chunks

    # The input is opened first: a missing file is refused before the model loads.
    bar = out.progress_bar(input_path)
    chunks = (
        [list(texts)]
        if texts
        else iter_texts(input_path, text_column, input_format, progress=bar and bar.advance)
    )
    bundle = load_model_dir(model_dir, runtime=runtime)
    if trace or gates:
        if fmt not in ("table", "json"):
            raise SentimentError(f"--trace prints --format table or json, not {fmt}")
        from sentiment_cli.runtime.trace import trace as run_trace

        traces = [run_trace(bundle, text, gates=gates) for chunk in chunks for text in chunk]
        out.write_traces(bundle, traces, fmt, output, gates)
        return
    if bar is None:
        out.write_predictions(bundle, predict_chunks(bundle, chunks), fmt, output)
        return
    with bar:
        out.write_predictions(bundle, predict_chunks(bundle, chunks), fmt, output)


def predict_on_ray(model_dir, texts, input_path, text_column, fmt, output, address, cpus, force):
    from sentiment_cli.io.readers import input_files
    from sentiment_cli.runtime.model_folder import check_model_dir
    from sentiment_cli.serving.ray_engine import predict_with_ray

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
        text_column=text_column,
        fmt="csv" if fmt == "csv" else "parquet",
        address=address,
        num_cpus=cpus,
        force=force,
        log=lambda message: click.echo(message, err=True),
    )


@cli.command()
@model_dir_option(multiple=True)
@click.argument("data", type=click.Path(path_type=Path))
@column_options
@format_option(["table", "json"])
@report_dir_option(
    "Also write metrics.json, confusion_matrix.png, learning_curves.png, errors.csv "
    "and report.md here (one sub-folder per model when several)."
)
@click.option(
    "--ensemble",
    is_flag=True,
    help="Score the average of the --model-dir models' probabilities as one model.",
)
@runtime_option
@handle_errors
def evaluate(model_dir, data, text_column, label_column, fmt, report_dir, ensemble, runtime):
    """Score a model (and its bag-of-words baseline) on DATA, a labelled CSV.

    Accuracy, macro precision / recall / F1, macro_recall (the SemEval-2017 headline),
    f1_pn (mean F1 of positive and negative), per-class scores and the confusion
    matrix. With several --model-dir, the models are shown side by side.

    \b
    Example:
        sentiment-cli evaluate --model-dir runs/lstm test.csv
        sentiment-cli evaluate --model-dir runs/lstm test.csv --format json
        sentiment-cli evaluate --model-dir runs/lstm test.csv --report-dir reports/lstm
        sentiment-cli evaluate --model-dir runs/rnn --model-dir runs/lstm test.csv
        sentiment-cli evaluate --model-dir runs/s1 --model-dir runs/s2 --ensemble test.csv
    """
    from sentiment_cli.evaluation.evaluate import score
    from sentiment_cli.io import output as out

    if ensemble:
        if len(model_dir) < 2:
            raise SentimentError("--ensemble needs at least two --model-dir")
        from sentiment_cli.evaluation.evaluate import score_ensemble

        evaluations = [
            score_ensemble(
                list(model_dir),
                data,
                text_column=text_column,
                label_column=label_column,
                runtime=runtime,
            )
        ]
    else:
        evaluations = [
            score(d, data, text_column=text_column, label_column=label_column, runtime=runtime)
            for d in model_dir
        ]
    if report_dir is not None:
        from sentiment_cli.evaluation.report import write_report

        names = out.short_names([e.metrics["model_dir"] for e in evaluations])
        for name, evaluation in zip(names, evaluations, strict=True):
            target = report_dir if len(evaluations) == 1 else report_dir / name
            write_report(evaluation, target)
            click.echo(f"Report written to {target / 'report.md'}", err=fmt == "json")
    if fmt == "json":
        metrics = [e.metrics for e in evaluations]
        click.echo(json.dumps(metrics[0] if len(metrics) == 1 else metrics, indent=2))
        return
    if len(evaluations) == 1:
        out.print_evaluation(evaluations[0].metrics)
    else:
        out.print_comparison([e.metrics for e in evaluations])


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--output-dir",
    "-o",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    callback=not_a_model_folder,
    help="Folder for train.csv and test.csv.",
)
@click.option(
    "--test-size",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Fraction of rows held out for testing.",
)
@click.option("--seed", type=int, default=42, show_default=True)
@column_options
@handle_errors
def split(data, output_dir, test_size, seed, text_column, label_column):
    """Split DATA into train.csv and test.csv, stratified by label.

    Hold a test set out before training, so evaluate reports on tweets the model
    never saw.

    \b
    Example:
        sentiment-cli split data/sample_tweets.csv --output-dir runs/split
    """
    from sentiment_cli.io.readers import split_file

    train_path, test_path, n_train, n_test = split_file(
        data, output_dir, test_size, seed, text_column, label_column, log=click.echo
    )
    click.echo(f"Wrote {n_train} rows to {train_path} and {n_test} rows to {test_path}")


def emit_result(result: dict, fmt: str, report_dir: Path | None, name: str, plot, show) -> None:
    """Print an experiment's result (table or JSON); with a report dir, also write
    NAME.json and NAME.png there."""
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        plot(result, report_dir / f"{name}.png")
        click.echo(f"Report written to {report_dir}", err=True)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        show(result)


@cli.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--test",
    "test_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Labelled CSV to score every model on.",
)
@val_data_option
@click.option(
    "--config",
    "-c",
    "config_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="One config: the base for SimpleRNN, LSTM and GRU. Several: compare "
    "these configs as they are.",
)
@overrides_option
@column_options
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Keep the trained model folders here (default: discard them).",
)
@report_dir_option("Write comparison.json and comparison.png here.")
@format_option(["table", "json"])
@handle_errors
def compare(
    data,
    test_path,
    val_data,
    config_paths,
    overrides,
    text_column,
    label_column,
    output_dir,
    report_dir,
    fmt,
):
    """Train SimpleRNN, LSTM and GRU on DATA with the same embedding, width, epochs
    and seed, and compare them with the bag-of-words baseline in one table.

    Columns: parameters of the recurrent layers and in total, training time,
    validation and test macro recall and accuracy. An LSTM has about four times the
    parameters of a SimpleRNN of the same width, a GRU about three times.

    \b
    Example:
        sentiment-cli compare data/sample_tweets.csv --set train.epochs=5
        sentiment-cli compare train.csv --test test.csv --val-data val.csv \\
            --report-dir reports/cells
        sentiment-cli compare train.csv --config configs/lstm.yaml --config configs/bilstm.yaml
    """
    from sentiment_cli.config import load_config
    from sentiment_cli.experiments.compare import cell_variants
    from sentiment_cli.experiments.compare import compare as run_compare
    from sentiment_cli.io import output as out

    if len(config_paths) > 1:
        candidates = [(Path(p).stem, load_config(p, overrides)) for p in config_paths]
        names = [name for name, _ in candidates]
        if len(set(names)) < len(names):
            raise SentimentError("--config files must have different names")
    else:
        base = load_config(config_paths[0] if config_paths else None, overrides)
        candidates = cell_variants(base)
    result = run_compare(
        data,
        candidates,
        test_path=test_path,
        val_path=val_data,
        output_dir=output_dir,
        text_column=text_column,
        label_column=label_column,
        log=lambda message: click.echo(message, err=True),
    )
    from sentiment_cli.experiments.compare import plot_comparison

    emit_result(result, fmt, report_dir, "comparison", plot_comparison, out.print_compare)


@cli.command(name="export")
@model_dir_option()
@click.option("--format", "-f", "fmt", type=click.Choice(["onnx", "savedmodel"]), required=True)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="File (onnx) or folder (savedmodel) to write.",
)
@click.option("--force", is_flag=True, help="Replace an existing --output.")
@handle_errors
def export_command(model_dir, fmt, output, force):
    """Export a model to ONNX or a TensorFlow SavedModel (servable by TF Serving).

    The exported model takes padded token ids (int32, batch × max_length, input
    "token_ids") and returns label probabilities (float32, batch × labels, in the
    order of labels.json). Tokenization stays in Python: vocab.json and config.yaml
    in the model folder say how text becomes ids. The export is checked against the
    Keras model (to 1e-5) before it is written. ONNX needs the [onnx] extra.

    \b
    Example:
        sentiment-cli export --model-dir runs/lstm --format onnx --output lstm.onnx
        sentiment-cli export --model-dir runs/lstm --format savedmodel --output serving/lstm/1
    """
    from sentiment_cli.serving.export import export

    result = export(model_dir, fmt, output, force)
    click.echo(
        f"Wrote {result['output']} ({fmt}): input token_ids int32 "
        f"[batch, {result['input']['shape'][1]}], output probabilities of "
        f"{', '.join(result['output_probabilities']['labels'])}; largest difference from "
        f"Keras on {result['checked_rows']} rows: {result['max_difference_from_keras']:.1e}"
    )


@cli.command()
@model_dir_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@handle_errors
def serve(model_dir, host, port):
    """Serve a model over HTTP: a JSON API and a page to try it (the [serve] extra).

    \b
    POST /predict  {"texts": [...], "trace": false}: what predict --format json prints;
                   "trace": true adds the prediction after every word
    GET  /health   {"status": "ok", "model": ..., "labels": [...]}
    GET  /         a page: type a tweet, see its label, probabilities and trace

    At most 1000 texts and 1 MB per request; a bad request gets a 4xx answer with
    {"error": ...}. Listens on 127.0.0.1 unless --host says otherwise.

    \b
    Example:
        sentiment-cli serve --model-dir runs/lstm --port 8080
        curl -d '{"texts": ["not bad at all"]}' localhost:8080/predict
    """
    import importlib.util

    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise SentimentError(
            f"serve needs {', '.join(missing)}: pip install 'sentiment-cli[serve]'"
        )
    from sentiment_cli.runtime.model_folder import check_model_dir
    from sentiment_cli.serving.server import serve as run_server

    check_model_dir(model_dir)
    click.echo(f"Serving {model_dir} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run_server(model_dir, host, port)


@cli.group()
def experiment():
    """Experiments that measure what recurrent networks are claimed to do: remember over
    distance, read word order, and need gradient clipping."""


def _int_list(ctx, param, value):
    try:
        numbers = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None
    if not numbers or min(numbers) < 1:
        raise click.BadParameter(f"expected positive integers, got {value!r}")
    return numbers


@experiment.command()
@click.option(
    "--distances",
    default="5,10,20,50,100",
    show_default=True,
    callback=_int_list,
    help="Filler words between the sentiment word and the end.",
)
@click.option(
    "--cells",
    default="simple_rnn:random_normal,simple_rnn,lstm,gru",
    show_default=True,
    help="Cells to train, comma-separated; CELL:INITIALIZER sets the recurrent "
    "initializer (default orthogonal).",
)
@click.option("--train-size", type=click.IntRange(10), default=1000, show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=20, show_default=True)
@click.option("--units", type=click.IntRange(1), default=16, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@report_dir_option("Write memory.json and memory.png here.")
@format_option(["table", "json"])
@handle_errors
def memory(distances, cells, train_size, epochs, units, seed, report_dir, fmt):
    """Can a cell remember one word across N filler words? Vanishing gradients, measured.

    Every synthetic sequence is a sentiment word followed by N random filler words;
    the label is that first word's polarity. Reports test accuracy for each cell
    and N, and ‖∂L/∂h_t‖ -- how much of the loss' gradient reaches step t -- at
    initialization for the largest N.

    \b
    Example:
        sentiment-cli experiment memory
        sentiment-cli experiment memory --distances 5,20,80 --cells simple_rnn,lstm \\
            --report-dir reports/memory
    """
    from sentiment_cli.experiments.memory import memory_experiment, parse_variants, plot_memory
    from sentiment_cli.io import output as out

    variants = parse_variants(cells)
    result = memory_experiment(
        distances,
        variants,
        train_size=train_size,
        epochs=epochs,
        units=units,
        seed=seed,
        log=lambda message: click.echo(message, err=True),
    )
    emit_result(result, fmt, report_dir, "memory", plot_memory, out.print_memory)


@experiment.command()
@model_dir_option()
@click.argument("data", type=click.Path(path_type=Path))
@column_options
@click.option(
    "--seeds", type=click.IntRange(1, 50), default=3, show_default=True, help="Shuffles to average."
)
@report_dir_option("Write order.json and order.png here.")
@format_option(["table", "json"])
@handle_errors
def order(model_dir, data, text_column, label_column, seeds, report_dir, fmt):
    """Does word order matter? Score a model and its bag-of-words baseline on DATA with
    the words of every tweet as written, shuffled and reversed, and count how often
    negating a sentiment word ("good" / "not good") flips the predicted polarity.

    A model that reads words in order loses accuracy when they are shuffled; a
    bag of unigrams cannot notice (the baseline's bigrams are all the order it sees).

    \b
    Example:
        sentiment-cli experiment order --model-dir runs/lstm test.csv
        sentiment-cli experiment order --model-dir runs/lstm test.csv --report-dir reports/order
    """
    from sentiment_cli.experiments.order import order_experiment, plot_order
    from sentiment_cli.io import output as out
    from sentiment_cli.runtime.model_folder import check_model_dir

    check_model_dir(model_dir)
    result = order_experiment(
        model_dir,
        data,
        seeds=seeds,
        text_column=text_column,
        label_column=label_column,
        log=lambda message: click.echo(message, err=True),
    )
    emit_result(result, fmt, report_dir, "order", plot_order, out.print_order)


def _float_list(ctx, param, value):
    try:
        numbers = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}") from None
    if not numbers or not all(0 < n < 1e3 for n in numbers):
        raise click.BadParameter(f"expected numbers in (0, 1000), got {value!r}")
    return numbers


@experiment.command()
@click.option(
    "--radius",
    "radii",
    default="1.5,2.5",
    show_default=True,
    callback=_float_list,
    help="Spectral radii of the recurrent matrix U at the start, comma-separated.",
)
@click.option(
    "--clipnorm",
    type=click.FloatRange(0, min_open=True),
    default=1.0,
    show_default=True,
    help="Gradient norm clipping for the clipped runs.",
)
@click.option("--length", type=click.IntRange(1, 1000), default=40, show_default=True)
@click.option("--steps", type=click.IntRange(1, 100_000), default=150, show_default=True)
@click.option(
    "--learning-rate", type=click.FloatRange(0, 10, min_open=True), default=0.1, show_default=True
)
@click.option("--seed", type=int, default=42, show_default=True)
@report_dir_option("Write exploding.json and exploding.png here.")
@format_option(["table", "json"])
@handle_errors
def exploding(radii, clipnorm, length, steps, learning_rate, seed, report_dir, fmt):
    """Gradients explode without clipping: a plain RNN whose recurrent matrix stretches
    (spectral radius above 1), trained with and without gradient clipping.

    Backpropagation through time multiplies the gradient by U once per step, so it
    can grow exponentially with the sequence length; one huge step throws the
    weights away. Reports per step the gradient norm (before and after clipping), the
    loss and whether it became NaN or infinite, and the accuracy at the end.

    \b
    Example:
        sentiment-cli experiment exploding
        sentiment-cli experiment exploding --radius 1.2,2,3 --length 60 \\
            --report-dir reports/exploding
    """
    from sentiment_cli.experiments.exploding import exploding_experiment, plot_exploding
    from sentiment_cli.io import output as out

    result = exploding_experiment(
        radii,
        clipnorm,
        length=length,
        steps=steps,
        learning_rate=learning_rate,
        seed=seed,
        log=lambda message: click.echo(message, err=True),
    )
    emit_result(result, fmt, report_dir, "exploding", plot_exploding, out.print_exploding)


def main() -> None:
    import atexit
    import gc

    # At exit Python collects garbage once more, walking every object the process still
    # holds (a model, a vocabulary, tokenizer caches): 40 ms of a 0.6 s predict. Frozen
    # objects are skipped; outputs are closed before then.
    atexit.register(gc.freeze)
    cli(prog_name="sentiment-cli")


if __name__ == "__main__":
    sys.exit(main())
