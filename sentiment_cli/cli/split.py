"""sentiment-cli split: a stratified train/test split of a labelled CSV."""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_cli.cli.options import (
    FiniteFloatRange,
    column_options,
    handle_errors,
    not_a_model_folder,
    output_dir_option,
    say,
)


@click.command()
@click.argument("data", type=click.Path(path_type=Path))
@output_dir_option("Folder for train.csv and test.csv.", callback=not_a_model_folder)
@click.option(
    "--test-size",
    type=FiniteFloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Fraction of rows held out for testing.",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=42, show_default=True)
@column_options
@handle_errors
def split(data, output_dir, test_size, seed, text_column, label_column):
    """Split DATA into train.csv and test.csv, stratified by label.

    Hold a test set out before training, so evaluate reports on tweets the model
    never saw. The copies of a tweet (retweets, the same text with other links or
    mentions) go to one side together.

    \b
    Example:
        sentiment-cli split data/sample_tweets.csv --output-dir runs/split
    """
    from sentiment_cli.io.splits import split_file

    train_path, test_path, n_train, n_test = split_file(
        data, output_dir, test_size, seed, text_column, label_column, log=say
    )
    say(f"Wrote {n_train} rows to {train_path} and {n_test} rows to {test_path}")
