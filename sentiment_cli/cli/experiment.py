"""sentiment-cli experiment: what recurrent networks are claimed to do, measured."""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_cli.cli.options import (
    FiniteFloatRange,
    column_options,
    float_list,
    format_option,
    handle_errors,
    int_list,
    log,
    model_dir_option,
    report_dir_option,
    seed_option,
)
from sentiment_cli.cli.render import show_result


@click.group()
def experiment():
    """Measure what recurrent networks are claimed to do: remember over distance, read
    word order, and need gradient clipping.

    \b
    Example:
        sentiment-cli experiment memory --distances 5,20,80
        sentiment-cli experiment order --model-dir runs/lstm test.csv
        sentiment-cli experiment exploding --radius 1.5,2.5
    """


@experiment.command()
@click.option(
    "--distances",
    default="5,10,20,50,100",
    show_default=True,
    callback=int_list,
    help="Filler words between the sentiment word and the end.",
)
@click.option(
    "--cells",
    default="simple_rnn:random_normal,simple_rnn,lstm,gru",
    show_default=True,
    help="Cells to train, comma-separated; CELL:INITIALIZER sets the recurrent "
    "initializer (default orthogonal).",
)
@click.option("--train-size", type=click.IntRange(10, 1_000_000), default=1000, show_default=True)
@click.option("--epochs", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--units", type=click.IntRange(1, 4096), default=16, show_default=True)
@seed_option
@report_dir_option("Write memory.json and memory.png here.")
@format_option(["table", "json"])
@handle_errors
def memory(distances, cells, report_dir, fmt, **options):
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

    result = memory_experiment(distances, parse_variants(cells), log=log, **options)
    show_result(result, fmt, report_dir, "memory", plot_memory)


@experiment.command()
@model_dir_option()
@click.argument("data", type=click.Path(path_type=Path))
@column_options
@click.option("--seeds", type=click.IntRange(1, 50), default=3, help="Shuffles (default 3).")
@report_dir_option("Write order.json and order.png here.")
@format_option(["table", "json"])
@handle_errors
def order(model_dir, data, report_dir, fmt, **options):
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

    result = order_experiment(model_dir, data, log=log, **options)
    show_result(result, fmt, report_dir, "order", plot_order)


@experiment.command()
@click.option(
    "--radius",
    "radii",
    default="1.5,2.5",
    show_default=True,
    callback=float_list,
    help="Spectral radii of the recurrent matrix U at the start, comma-separated.",
)
@click.option(
    "--clipnorm",
    type=FiniteFloatRange(0, 1e6, min_open=True),
    default=1.0,
    show_default=True,
    help="Gradient norm clipping for the clipped runs.",
)
@click.option("--length", type=click.IntRange(1, 1000), default=40, show_default=True)
@click.option("--steps", type=click.IntRange(1, 100_000), default=150, show_default=True)
@click.option(
    "--learning-rate", type=FiniteFloatRange(0, 10, min_open=True), default=0.1, show_default=True
)
@seed_option
@report_dir_option("Write exploding.json and exploding.png here.")
@format_option(["table", "json"])
@handle_errors
def exploding(radii, clipnorm, report_dir, fmt, **options):
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

    result = exploding_experiment(radii, clipnorm, log=log, **options)
    show_result(result, fmt, report_dir, "exploding", plot_exploding)
