"""sentiment-cli train: a model folder from a labelled CSV."""

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
    not_a_model_folder,
    output_dir_option,
    overrides_option,
    say,
    val_data_option,
)


@click.command()
@click.argument("data", type=click.Path(path_type=Path), required=False)
@output_dir_option("Model folder to write (written atomically).")
@config_option("Shipped config name (lstm, gru, ...: see 'sentiment-cli configs') or YAML file.")
@overrides_option
@column_options
@val_data_option
@force_option()
@click.option(
    "--unlabelled",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Tweets of the same domain without labels (CSV with the text column, Parquet, or "
    "one per line): the model labels those it is surest of and trains again on them too "
    "(self-training; train.pseudo_labels, train.pseudo_weight).",
)
@click.option(
    "--from",
    "start_from",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Continue this trained model folder on DATA: its words keep their ids and new ones "
    "are added, its labels stay and new ones are added, every weight starts as trained; the "
    "folder itself is not changed. Its config is used; --set may change train.*, "
    "text.min_count and text.max_tokens.",
)
@click.option("--resume", is_flag=True, help="Continue the interrupted run of --output-dir.")
@click.option("--quiet", "-q", is_flag=True, help="No per-epoch progress bar.")
@click.option(
    "--tensorboard",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    callback=not_a_model_folder,
    help="Write TensorBoard logs here (loss and accuracy per epoch, the graph).",
)
@engine_options
@handle_errors
def train(
    data, output_dir, config_path, overrides, val_data, unlabelled, start_from, resume, quiet,
    engine, workers, address, **options,
):  # fmt: skip
    """Train a model on DATA, a CSV with a text and a label column.

    Writes a self-contained model folder: the model's weights, vocabulary, resolved
    config, labels, training history, summary and the bag-of-words baseline.
    After every epoch a checkpoint is kept in OUTPUT_DIR.checkpoint; if the run is
    interrupted, --resume continues it (weights, optimizer state, epoch counter,
    early-stopping state and vocabulary; DATA and options come from the checkpoint).

    \b
    Example:
        sentiment-cli train data/sample_tweets.csv --output-dir runs/lstm
        sentiment-cli train tweets.csv -o runs/gru --config gru \\
            --set model.units=32 --set train.epochs=5 --val-data val.csv
        sentiment-cli train --resume -o runs/gru
        sentiment-cli train tweets.csv -o runs/lstm --tensorboard runs/tb
        sentiment-cli train labelled.csv -o runs/mine --unlabelled more_tweets.csv
        sentiment-cli train new_rows.csv -o runs/mine2 --from runs/mine
        sentiment-cli train tweets.csv -o runs/big --engine ray --workers 4
    """
    from sentiment_cli.training.train import train as run_training
    from sentiment_cli.training.train import training_config

    if engine == "ray" and options.get("tensorboard") is not None:
        from sentiment_cli.errors import SentimentError

        raise SentimentError("--tensorboard logs a fit in this process; drop it with --engine ray")
    ray_engine = engine_of(engine, workers, address)

    if start_from is not None and not resume:
        config = continuing_config(start_from, config_path, overrides, data)
    else:
        config = training_config(resume, data, config_path, overrides, val_data)
    try:
        run_training(
            data,
            output_dir,
            config,
            val_path=val_data,
            unlabelled_path=unlabelled,
            start_from=start_from,
            resume=resume,
            engine=ray_engine,
            verbose=0 if quiet else (1 if sys.stdout.isatty() else 2),
            log=say,
            **options,
        )
    except KeyboardInterrupt:
        from sentiment_cli.training.checkpoint import resume_hint

        hint = resume_hint(output_dir)
        say(f"Interrupted: {output_dir} was not written or changed{hint}", err=True)
        sys.exit(130)


def continuing_config(start_from, config_path, overrides, data):
    """The config of ``train --from``: the folder's, changed by --set only."""
    from sentiment_cli.errors import SentimentError
    from sentiment_cli.training.continued import continued_config, read_origin

    if config_path is not None:
        raise SentimentError(
            f"--from {start_from} trains with that model's config; drop --config (--set may "
            f"change train.*, text.min_count and text.max_tokens)"
        )
    if data is None:
        raise SentimentError("missing DATA: the labelled CSV of new rows to continue on")
    return continued_config(read_origin(start_from), overrides)
