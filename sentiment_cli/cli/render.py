"""What the commands print on the terminal: metric tables, experiment results, the
progress bar."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO, Any

import click

from sentiment_cli.io.tables import (
    OVERALL,
    PER_CLASS_HEADER,
    abstention_line,
    bold,
    console,
    fmt,
    overall_rows,
    per_class_rows,
    printable,
    short_names,
    table,
)


def show_result(result: dict, fmt_: str, report_dir: Path | None, name: str, plot) -> None:
    """An experiment's result as a table or JSON; with a report dir, also NAME.json and
    NAME.png there."""
    from sentiment_cli.experiments.results import save_result

    if report_dir is not None:
        save_result(result, report_dir, name, plot)
        click.echo(printable(f"Report written to {report_dir}"), err=True)
    if fmt_ == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        PRINTERS[name](result)


def copies_lines(metrics: dict[str, Any]) -> list[str]:
    """Warnings that some scored rows are tweets the model, or its encoder, has read."""
    lines = []
    if metrics.get("copies_of_training_rows"):
        lines.append(
            f"Warning: {metrics['copies_of_training_rows']} of the {metrics['n']} rows are "
            f"tweets of the model's training file, or copies of them: the figures on them "
            f"flatter it"
        )
    if metrics.get("copies_of_rows_the_encoder_read"):
        lines.append(
            f"Warning: {metrics['copies_of_rows_the_encoder_read']} of the {metrics['n']} "
            f"rows are tweets the model's encoder was trained on, or copies of them: the "
            f"figures on them may flatter it"
        )
    return lines


def print_evaluation(metrics: dict[str, Any], file: IO[str] | None = None) -> None:
    """Overall metrics (model, baseline, difference), per-class scores, confusion matrix."""
    out = console(file)
    out.print(
        bold(str(metrics["model_dir"])),
        f"on {metrics['data']}: {metrics['n']} tweets, "
        f"{metrics['truncated']} truncated at max_length"
        + (
            f", {metrics['rows_dropped']} rows dropped (empty)"
            if metrics.get("rows_dropped")
            else ""
        ),
    )
    for line in copies_lines(metrics):
        out.print(line)
    header, rows = overall_rows(metrics)
    overall = table(header, "Overall")
    for row in rows:
        overall.add_row(*row)
    out.print(overall)
    if abstention_line(metrics):
        out.print(abstention_line(metrics))

    per_class = table(PER_CLASS_HEADER, "Per class (RNN)")
    for row in per_class_rows(metrics):
        per_class.add_row(*row)
    out.print(per_class)

    cm = metrics["confusion_matrix"]
    matrix = table(
        ["true \\ pred", *cm["labels"]], "Confusion matrix (rows: true, columns: predicted)"
    )
    for label, row in zip(cm["labels"], cm["matrix"], strict=True):
        matrix.add_row(label, *(str(v) for v in row))
    out.print(matrix)


def print_comparison(all_metrics: list[dict[str, Any]], file: IO[str] | None = None) -> None:
    """Several models on the same data, one column each (plus the first one's baseline)."""
    out = console(file)
    names = short_names([m["model_dir"] for m in all_metrics])
    for name, m in zip(names, all_metrics, strict=True):
        out.print(f"{name}: {m['model_dir']}")
        for line in copies_lines(m):
            out.print(f"  {line}")
    base = all_metrics[0].get("baseline")
    shown = table(
        ["metric", *names, *(["bag-of-words"] if base else [])],
        f"{all_metrics[0]['n']} tweets of {all_metrics[0]['data']}",
    )
    for key in OVERALL:
        row = [key, *(fmt(m.get(key)) for m in all_metrics)]
        if base:
            row.append(fmt(base.get(key)))
        shown.add_row(*row)
    out.print(shown)


def print_compare(result: dict[str, Any], file: IO[str] | None = None) -> None:
    out = console(file)
    title = f"Compared on {result['data']}" + (
        f", tested on {result['test']}" if result["test"] else ""
    )
    columns = ["model", "recurrent params", "total params", "train s", "val MR", "val acc"]
    shown = table([*columns, "test MR", "test acc", "probes acc"], title)
    rows = list(result["models"]) + ([result["baseline"]] if result["baseline"] else [])
    for row in rows:
        shown.add_row(
            row["name"],
            f"{row['recurrent_parameters']:,}",
            "–" if row["total_parameters"] is None else f"{row['total_parameters']:,}",
            "–" if row["train_seconds"] is None else f"{row['train_seconds']:.1f}",
            fmt(row["val_macro_recall"]),
            fmt(row["val_accuracy"]),
            fmt(row["test_macro_recall"]),
            fmt(row["test_accuracy"]),
            fmt(row.get("probe_accuracy")),
        )
    out.print(shown)
    out.print(
        "MR: macro-averaged recall; probes acc: accuracy on data/probes/probes.csv "
        "(negation, contrast, ...)"
    )


def print_trials(trials: list[dict[str, Any]], best: str | None, file: IO[str] | None = None):
    """The tuning trials in the order they ran, the best one marked."""
    out = console(file)
    keys = [k for k in trials[0] if k not in ("trial", "val_macro_recall")] if trials else []
    shown = table(["trial", *keys, "val MR"], "Trials (val MR: validation macro recall)")
    for row in trials:
        mark = " *" if row["trial"] == best else ""
        values = [v if isinstance(v, str) else f"{v:.4g}" for v in (row[k] for k in keys)]
        shown.add_row(row["trial"] + mark, *values, fmt(row["val_macro_recall"]))
    out.print(shown)


def print_memory(result: dict[str, Any], file: IO[str] | None = None) -> None:
    out = console(file)
    accuracy = table(
        ["cell", *(f"N={d}" for d in result["distances"])],
        "Test accuracy after N filler words (chance = 0.5): a plain RNN forgets over long "
        "distances",
    )
    for cell in result["cells"]:
        accuracy.add_row(cell, *(f"{a:.3f}" for a in result["accuracy"][cell]))
    out.print(accuracy)
    longest = max(result["distances"])
    steps = sorted({0, (longest + 1) // 3, 2 * (longest + 1) // 3, longest})
    grads = table(
        ["cell", *(f"t={t + 1}" for t in steps), "first / last"],
        f"‖∂L/∂h_t‖ at initialization (N={longest}): the gradient reaching step t",
    )
    for cell, norms in result["gradient_norms"].items():
        ratio = norms[0] / norms[-1] if norms[-1] else float("nan")
        grads.add_row(cell, *(f"{norms[t]:.1e}" for t in steps), f"{ratio:.1e}")
    out.print(grads)


def print_order(result: dict[str, Any], file: IO[str] | None = None) -> None:
    out = console(file)
    sides = ["model"] + (["baseline"] if result["has_baseline"] else [])
    names = {"model": "RNN", "baseline": "bag-of-words"}
    shown = table(
        ["words", *(f"{names[s]} {m}" for s in sides for m in ("MR", "acc"))],
        f"Word order moved: {result['n']} tweets of {result['data']} (MR: macro recall)",
    )
    for condition in result["conditions"]:
        cells = []
        for side in sides:
            for key in ("macro_recall", "accuracy"):
                value = f"{condition[side][key]:.4f}"
                if f"{key}_std" in condition[side]:
                    value += f" ± {condition[side][key + '_std']:.4f}"
                cells.append(value)
        shown.add_row(condition["name"], *cells)
    out.print(shown)
    negation = result["negation"]
    flips = table(
        ["model", "polar pairs", "polarity flipped", "label changed"],
        f"Negating a sentiment word: {negation['pairs']} pairs from {negation['words']} "
        f"words of the vocabulary rated by the lexicon",
    )
    for side in sides:
        row = negation[side]
        flips.add_row(
            names[side], str(row["polar_pairs"]), f"{row['flipped']:.3f}", f"{row['changed']:.3f}"
        )
    out.print(flips)


def print_exploding(result: dict[str, Any], file: IO[str] | None = None) -> None:
    out = console(file)
    settings = result["settings"]
    shown = table(
        ["setting", "max ‖g‖", "max ‖g‖ applied", "NaN/inf at step", "final loss", "accuracy"],
        f"Gradients explode without clipping: SimpleRNN over {settings['length']} steps, "
        f"SGD lr {settings['learning_rate']:g}, {settings['steps']} steps",
    )
    for run in result["runs"]:
        shown.add_row(
            run["name"],
            "–" if run["max_grad_norm"] is None else f"{run['max_grad_norm']:.3g}",
            "–" if run["max_applied_norm"] is None else f"{run['max_applied_norm']:.3g}",
            "–" if run["non_finite_step"] is None else str(run["non_finite_step"] + 1),
            f"{run['final_loss']:.3g}",
            "–" if run["accuracy"] is None else f"{run['accuracy']:.3f}",
        )
    out.print(shown)
    out.print(
        "‖g‖: gradient norm as computed by backpropagation through time; applied: after "
        "clipping, what moves the weights. Chance accuracy is 0.5."
    )


class ProgressBar:
    """Bytes of the input read, texts scored, rate and ETA, on stderr (rich)."""

    def __init__(self, total_bytes: int):
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.texts = 0
        self.progress = Progress(
            TextColumn("scoring"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[texts]:,} texts, {task.fields[rate]}"),
            TimeRemainingColumn(),
            console=console(sys.stderr),
            transient=False,
        )
        self.task = self.progress.add_task("scoring", total=total_bytes, texts=0, rate="")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()
        return False

    def advance(self, bytes_read: int, texts: int) -> None:
        self.texts += texts
        seconds = max(self.progress.tasks[0].elapsed or 0.0, 1e-9)
        self.progress.update(
            self.task, completed=bytes_read, texts=self.texts, rate=f"{self.texts / seconds:,.0f}/s"
        )


def progress_bar(input_path: str | None) -> ProgressBar | None:
    """A progress bar for a file input when stderr is a terminal; None otherwise (a pipe,
    a log file or a test gets nothing on stderr)."""
    if input_path is None or input_path == "-" or not sys.stderr.isatty():
        return None
    if not Path(input_path).is_file() or input_path.lower().endswith(".parquet"):
        return None  # folders, patterns and Parquet are not read byte by byte
    try:
        size = os.path.getsize(input_path)
    except OSError:
        return None
    return ProgressBar(size)


PRINTERS = {
    "comparison": print_compare,
    "memory": print_memory,
    "order": print_order,
    "exploding": print_exploding,
}


def print_card(card: dict[str, Any], file: IO[str] | None = None) -> None:
    """``info``: the model's card as a few short tables."""
    out = console(file)
    m, data = card["model"], card["training_data"]
    out.print(bold(f"{card['folder']}:"), f"labels {', '.join(card['labels'])}")
    shape = table(["model", ""], "Model", left=2)
    direction = "bidirectional " if m["bidirectional"] else ""
    shape.add_row("cell", f"{m['layers']} × {direction}{m['cell']} of {m['units']} units")
    for key in ("embedding_dim", "pooling", "members", "vocabulary_size", "max_length"):
        shape.add_row(key.replace("_", " "), str(m[key]))
    shape.add_row("parameters", "–" if m["parameters"] is None else f"{m['parameters']:,}")
    out.print(shape)
    trained = table(["training data", ""], "Training data", left=2)
    trained.add_row("file", str(data["file"]))
    trained.add_row("sha256", str(data["sha256"] or "–"))
    trained.add_row("rows (train / validation)", f"{data['rows']} / {data['validation_rows']}")
    out.print(trained)
    if card["config_changes"]:
        changes = table(["config key", "value", "default"], "Config changes from the defaults")
        for key, change in card["config_changes"].items():
            changes.add_row(key, str(change["value"]), str(change["default"]))
        out.print(changes)
    blend = card.get("blend")
    columns = ["validation", "RNN", "bag-of-words"]
    if blend:
        columns.append(f"blend ({blend['baseline_weight']:.1f} bag-of-words)")
    scores = table(columns, "Validation")
    for key in ("n", "accuracy", "macro_recall", "macro_f1"):
        values = [(card["validation"] or {}).get(key), (card["baseline_validation"] or {}).get(key)]
        if blend:
            values.append(blend.get(key))
        scores.add_row(key, *(v if isinstance(v, str) else _cell(v) for v in values))
    out.print(scores)
    if blend:
        out.print("predict answers with the blend (train.blend)")
    files = table(["file", "bytes"], f"Files (format version {card['format_version']})")
    for name, size in card["files"].items():
        files.add_row(name, f"{size:,}")
    files.add_row("total", f"{sum(card['files'].values()):,}")
    out.print(files)
    state = card["integrity"]
    out.print(
        "integrity: "
        + ("every file as the manifest says" if state["ok"] else "; ".join(state["problems"]))
    )


def _cell(value) -> str:
    if value is None:
        return "–"
    return str(value) if isinstance(value, int) else fmt(value)
