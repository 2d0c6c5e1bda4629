"""sentiment-cli predict: labels and probabilities for new texts."""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_cli.cli.options import (
    format_option,
    handle_errors,
    log,
    min_confidence_option,
    model_dir_option,
    runtime_option,
)
from sentiment_cli.errors import SentimentError


@click.command()
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
@min_confidence_option(
    "Answer 'uncertain' where the top probability is below P (the probabilities are "
    "still given); the model's probabilities are calibrated on its validation split."
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
    type=click.IntRange(1, 4096),
    default=None,
    help="With --engine ray and no --address: CPUs of the local Ray (default: all).",
)
@click.option("--force", is_flag=True, help="With --engine ray: replace an existing --output.")
@handle_errors
def predict(
    model_dir, texts, input_path, fmt, output, min_confidence, trace, gates, engine, **options
):
    """Predict the sentiment of TEXTS, or of every text in --input.

    Prints each text's label and the probability of every label.

    Without --model-dir, the built-in model answers (three classes, trained on the
    SemEval-2017 and Tweet Sentiment Extraction training splits).

    \b
    Example:
        sentiment-cli predict "I love this" "worst day ever"
        sentiment-cli predict --min-confidence 0.8 "meh, it was fine I guess"
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
    if min_confidence is not None and (trace or gates or engine == "ray"):
        raise SentimentError(
            "--min-confidence answers local predictions, not --trace, --gates or --engine ray"
        )
    if engine == "ray":
        from sentiment_cli.serving.ray_engine import predict_files

        return predict_files(model_dir, texts, input_path, fmt, output, log=log, **options)
    if output is not None and output.suffix.lower() == ".parquet" and fmt == "table":
        fmt = "parquet"
    if texts and input_path:
        raise SentimentError("give texts as arguments or with --input, not both")
    if not texts and not input_path:
        raise SentimentError("no texts: give them as arguments or with --input FILE (- for stdin)")
    if (trace or gates) and fmt not in ("table", "json"):
        raise SentimentError(f"--trace prints --format table or json, not {fmt}")
    from sentiment_cli.cli.render import progress_bar
    from sentiment_cli.models.keras_runtime import open_model
    from sentiment_cli.runtime.predict import predict_to, trace_to

    # The input is opened first: a missing file is refused before the model loads.
    bar = progress_bar(input_path)
    chunks = input_chunks(texts, input_path, options, bar)
    folder = open_model(model_dir, runtime=options["runtime"])
    if trace or gates:
        trace_to(folder, chunks, fmt, output, gates)
    elif bar is None:
        predict_to(folder, chunks, fmt, output, min_confidence)
    else:
        with bar:
            predict_to(folder, chunks, fmt, output, min_confidence)


def input_chunks(texts, input_path, options: dict, bar):
    """The texts to score, in chunks: the arguments as one, or --input's, read as they
    are needed (advancing the progress bar, where there is one)."""
    from sentiment_cli.io.streams import iter_texts

    if texts:
        return [list(texts)]
    column, fmt = options["text_column"], options["input_format"]
    return iter_texts(input_path, column, fmt, progress=bar and bar.advance)
