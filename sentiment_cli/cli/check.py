"""sentiment-cli info, check and configs: what a model folder is, whether it is intact,
and which configs ship with the tool."""

from __future__ import annotations

import click

from sentiment_cli.cli.options import (
    echo_json,
    format_option,
    handle_errors,
    model_dir_argument,
    say,
)
from sentiment_cli.errors import SentimentError


@click.command()
@model_dir_argument
@format_option(["table", "json"])
@handle_errors
def info(model_dir, fmt):
    """Show what the model in MODEL_DIR (default: the built-in model) is: labels, cell
    and widths, vocabulary, parameters, training data, config changes from the defaults,
    validation metrics of the model and its baseline, calibration, format, files and
    whether they are intact.

    \b
    Example:
        sentiment-cli info
        sentiment-cli info runs/lstm
        sentiment-cli info runs/lstm --format json
    """
    from sentiment_cli.cli.render import print_card
    from sentiment_cli.runtime.card import card

    result = card(model_dir)
    if fmt == "json":
        echo_json(result)
    else:
        print_card(result)


@click.command()
@model_dir_argument
@handle_errors
def check(model_dir):
    """Verify every file of MODEL_DIR (default: the built-in model) against the sizes and
    SHA-256 hashes its manifest recorded; exit 1 naming each damaged, missing or
    unlisted file.

    \b
    Example:
        sentiment-cli check
        sentiment-cli check runs/lstm
    """
    from sentiment_cli.runtime.card import check as check_folder

    result = check_folder(model_dir)
    for problem in result["problems"]:
        say(f"{model_dir}: {problem}", err=not result["ok"])
    if not result["ok"]:
        count = len(result["problems"])
        raise SentimentError(f"model folder {model_dir} is damaged ({count} problem(s))")
    version = result["format_version"]
    say(f"{model_dir}: {len(result['files'])} files intact (format version {version})")


@click.command()
@handle_errors
def configs():
    """List the configs shipped with the tool (use one with --config NAME).

    \b
    Example:
        sentiment-cli configs
        sentiment-cli train tweets.csv -o runs/gru --config gru
    """
    from sentiment_cli.config import CONFIG_DIR, read_yaml, shipped_configs

    for name in shipped_configs():
        path = CONFIG_DIR / f"{name}.yaml"
        first = path.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
        read_yaml(path)  # a shipped config that does not parse is a bug: say so here
        click.echo(f"{name:<12} {first}")
