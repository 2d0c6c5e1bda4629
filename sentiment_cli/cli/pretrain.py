"""sentiment-cli pretrain: an encoder of your own from your own tweets."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sentiment_cli.cli.options import (
    column_options,
    config_option,
    engine_of,
    engine_options,
    force_option,
    handle_errors,
    output_dir_option,
    overrides_option,
    say,
)


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_dir_option("Encoder folder to write (written whole or not at all).")
@config_option("Config to train the encoder with (default: the default model's).")
@overrides_option
@column_options
@force_option("Replace an existing encoder folder.")
@click.option(
    "--neutral/--no-neutral",
    default=True,
    show_default=True,
    help="Where the corpus's labels are negative and positive only, make a neutral class "
    "of a third of its tweets, their sentiment words (VADER) and negators taken out.",
)
@click.option("--quiet", "-q", is_flag=True, help="No per-epoch progress bar.")
@engine_options
@handle_errors
def pretrain(
    corpus, output_dir, config_path, overrides, neutral, quiet, engine, workers, address,
    **options,
):  # fmt: skip
    """Build a tweet encoder from CORPUS, one or more files of tweets.

    A CSV with the label column gives its labels as they are (human ones, or distant
    ones such as Sentiment140's). A file without one (a CSV's text column, one tweet
    per line, or Parquet) is labelled by its emoticons and emoji: positive or negative
    where all of a tweet's markers agree; the markers are taken out of the text, and
    tweets with none are left out. Where the labels are negative and positive only, a
    neutral class is made of the corpus's own tweets (see --neutral). Models start
    from the encoder with --set model.encoder=OUTPUT_DIR.

    \b
    Example:
        sentiment-cli pretrain my_tweets.txt -o encoders/mine
        sentiment-cli pretrain labelled.csv more.parquet -o encoders/mine \\
            --set train.epochs=3 --set text.max_tokens=100000
        sentiment-cli pretrain big/*.parquet -o encoders/big --engine ray --workers 8
        sentiment-cli train labels.csv -o runs/mine --set model.encoder=encoders/mine
    """
    from sentiment_cli.config import load_config
    from sentiment_cli.training.pretrain import pretrain as run_pretraining

    ray_engine = engine_of(engine, workers, address)
    config = load_config(config_path, overrides)
    try:
        run_pretraining(
            list(corpus),
            output_dir,
            config,
            verbose=0 if quiet else (1 if sys.stdout.isatty() else 2),
            log=say,
            engine=ray_engine,
            neutral=neutral,
            **options,
        )
    except KeyboardInterrupt:
        say(f"Interrupted: {output_dir} was not written or changed", err=True)
        sys.exit(130)
