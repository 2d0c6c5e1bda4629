"""sentiment-cli evaluate: a model's metrics on labelled data, next to its baseline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sentiment_cli.cli.options import (
    column_options,
    format_option,
    handle_errors,
    min_confidence_option,
    model_dir_option,
    report_dir_option,
    runtime_option,
    say,
)


@click.command()
@model_dir_option(multiple=True)
@click.argument("data", type=click.Path(path_type=Path))
@column_options
@format_option(["table", "json"])
@report_dir_option(
    "Also write metrics.json, confusion_matrix.png, learning_curves.png, reliability.png, "
    "errors.csv "
    "and report.md here (one sub-folder per model when several)."
)
@click.option(
    "--ensemble",
    is_flag=True,
    help="Score the average of the --model-dir models' probabilities as one model.",
)
@min_confidence_option(
    "Also report the rows answered at this confidence: their share (coverage) and "
    "accuracy, next to all rows'."
)
@runtime_option
@handle_errors
def evaluate(
    model_dir, data, text_column, label_column, fmt, report_dir, ensemble, min_confidence, runtime
):
    """Score a model (and its bag-of-words baseline) on DATA, a labelled CSV.

    Accuracy, macro precision / recall / F1, macro_recall (the SemEval-2017 headline),
    f1_pn (mean F1 of positive and negative), per-class scores and the confusion
    matrix; and how far the probabilities can be trusted: ece (expected calibration
    error, 15 bins), brier and log_loss, lower is better. With several --model-dir, the
    models are shown side by side; without one, the built-in model is scored.

    \b
    Example:
        sentiment-cli evaluate test.csv
        sentiment-cli evaluate --model-dir runs/lstm test.csv
        sentiment-cli evaluate --model-dir runs/lstm test.csv --format json
        sentiment-cli evaluate --model-dir runs/lstm test.csv --min-confidence 0.8
        sentiment-cli evaluate --model-dir runs/lstm test.csv --report-dir reports/lstm
        sentiment-cli evaluate --model-dir runs/rnn --model-dir runs/lstm test.csv
        sentiment-cli evaluate --model-dir runs/s1 --model-dir runs/s2 --ensemble test.csv
    """
    from sentiment_cli.cli import render
    from sentiment_cli.evaluation.evaluate import evaluate_models

    evaluations = evaluate_models(
        list(model_dir),
        data,
        ensemble=ensemble,
        text_column=text_column,
        label_column=label_column,
        runtime=runtime,
        min_confidence=min_confidence,
    )
    if report_dir is not None:
        from sentiment_cli.evaluation.report import write_reports

        for path in write_reports(evaluations, report_dir):
            say(f"Report written to {path}", err=fmt == "json")
    metrics = [e.metrics for e in evaluations]
    if fmt == "json":
        click.echo(json.dumps(metrics[0] if len(metrics) == 1 else metrics, indent=2))
    elif len(metrics) == 1:
        render.print_evaluation(metrics[0])
    else:
        render.print_comparison(metrics)
