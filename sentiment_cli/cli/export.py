"""sentiment-cli export: the network as ONNX or a TensorFlow SavedModel."""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_cli.cli.options import force_option, handle_errors, model_dir_option


@click.command(name="export")
@model_dir_option()
@click.option("--format", "-f", "fmt", type=click.Choice(["onnx", "savedmodel"]), required=True)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="File (onnx) or folder (savedmodel) to write.",
)
@force_option("Replace an --output that an earlier export wrote.")
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
    if result["baseline_weight_not_exported"]:
        click.echo(
            f"Note: {model_dir} blends its bag-of-words baseline into predict's answers "
            f"(weight {result['baseline_weight_not_exported']:.1f}, train.blend); the export "
            f"holds the network alone, so its probabilities differ from predict's",
            err=True,
        )
