"""sentiment-cli tune: search hyperparameters on validation data, then train the best."""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_cli.cli.options import (
    FiniteFloatRange,
    column_options,
    config_option,
    force_option,
    handle_errors,
    output_dir_option,
    overrides_option,
    say,
    val_data_option,
)


@click.command()
@click.argument("data", type=click.Path(path_type=Path))
@output_dir_option("Model folder for the best config (written atomically).")
@click.option(
    "--space",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML search space (default: the shipped tune/space.yaml).",
)
@config_option("Config the trials start from: a shipped name or a YAML file (default: lstm).")
@overrides_option
@column_options
@val_data_option
@click.option(
    "--max-minutes",
    type=FiniteFloatRange(0, min_open=True, max=1e6),
    default=20.0,
    show_default=True,
    help="Time box of the search (a running trial stops at its next epoch end).",
)
@click.option(
    "--max-trials",
    type=click.IntRange(1, 100_000),
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
@force_option()
@handle_errors
def tune(data, output_dir, config_path, overrides, **options):
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
    from sentiment_cli.cli.render import print_trials
    from sentiment_cli.config import load_config
    from sentiment_cli.training.tune import tune as run_tune

    config = load_config(config_path, overrides)
    result = run_tune(data, output_dir, config, log=say, **options)
    print_trials(result.trials, result.best["trial"])
    say("Best: " + ", ".join(f"{k}={v}" for k, v in result.best["values"].items()))
    say(f"Best config: {output_dir / 'config.yaml'}; trials: {output_dir / 'tuning.json'}")
