"""sentiment-cli compare: SimpleRNN, LSTM and GRU (or given configs) side by side."""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_cli.cli.options import (
    column_options,
    format_option,
    handle_errors,
    log,
    output_dir_option,
    overrides_option,
    report_dir_option,
    val_data_option,
)
from sentiment_cli.cli.render import show_result


@click.command()
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
    multiple=True,
    metavar="NAME|FILE",
    help="One config: the base for SimpleRNN, LSTM and GRU. Several: compare "
    "these configs as they are.",
)
@overrides_option
@column_options
@output_dir_option("Keep the trained model folders here (default: discard them).", required=False)
@report_dir_option("Write comparison.json and comparison.png here.")
@format_option(["table", "json"])
@handle_errors
def compare(data, test_path, val_data, config_paths, overrides, report_dir, fmt, **options):
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
        sentiment-cli compare train.csv --config lstm --config bilstm
    """
    from sentiment_cli.experiments.compare import candidates, plot_comparison
    from sentiment_cli.experiments.compare import compare as run_compare

    result = run_compare(
        data,
        candidates(config_paths, overrides),
        test_path=test_path,
        val_path=val_data,
        log=log,
        **options,
    )
    show_result(result, fmt, report_dir, "comparison", plot_comparison)
