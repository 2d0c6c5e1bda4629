"""What the commands print: prediction formats and metric tables."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from sentiment_cli.errors import SentimentError

OVERALL = ["accuracy", "macro_precision", "macro_recall", "macro_f1", "f1_pn"]


def console(file: IO[str] | None = None):
    from rich.console import Console

    # Created per call: click's test runner swaps sys.stdout. Written to a file or a
    # pipe, tables get 120 columns instead of rich's default 80, so they do not wrap.
    file = file or sys.stdout
    width = None if file.isatty() else 120
    return Console(file=file, soft_wrap=False, highlight=False, width=width)


@contextlib.contextmanager
def atomic_output(path: Path | None) -> Iterator[IO[str]]:
    """Stdout, or a temporary file beside ``path`` renamed onto it only on success."""
    if path is None:
        yield sys.stdout
        return
    path = Path(path)
    if path.is_dir():
        raise SentimentError(f"--output {path}: is a directory")
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    except FileNotFoundError:
        tmp.unlink(missing_ok=True)
        raise SentimentError(f"--output {path}: folder {path.parent} does not exist") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def write_predictions(
    bundle, frames: Iterable[pd.DataFrame], fmt: str, output: Path | None
) -> None:
    from sentiment_cli.predict import records

    with atomic_output(output) as handle:
        if fmt == "table":
            from rich.table import Table

            table = Table(show_edge=False, header_style="bold")
            table.add_column("text", overflow="fold")
            table.add_column("label", style="bold")
            for label in bundle.labels:
                table.add_column(f"p({label})", justify="right")
            for frame in frames:
                for row in records(bundle, frame):
                    probs = [f"{row['probabilities'][lab]:.3f}" for lab in bundle.labels]
                    table.add_row(_short(row["text"]), row["label"], *probs)
            console(handle).print(table)
        elif fmt == "json":
            handle.write("[")
            first = True
            for frame in frames:
                for row in records(bundle, frame):
                    handle.write(
                        ("\n  " if first else ",\n  ") + json.dumps(row, ensure_ascii=False)
                    )
                    first = False
            handle.write("\n]\n")
        elif fmt == "jsonl":
            for frame in frames:
                for row in records(bundle, frame):
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            header = True
            for frame in frames:
                frame.to_csv(handle, index=False, header=header, float_format="%.6f")
                header = False


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def _diff(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    return f"{a - b:+.4f}"


def overall_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the overall table: RNN, and bag-of-words with the difference
    when the model folder has a baseline. Shared by the terminal and report.md."""
    base = metrics.get("baseline")
    header = ["metric", "RNN"] + (["bag-of-words", "RNN − BoW"] if base else [])
    rows = []
    for key in OVERALL:
        row = [key, _fmt(metrics[key])]
        if base:
            row += [_fmt(base[key]), _diff(metrics[key], base[key])]
        rows.append(row)
    return header, rows


PER_CLASS_HEADER = ["label", "precision", "recall", "f1", "support"]


def per_class_rows(metrics: dict[str, Any]) -> list[list[str]]:
    return [
        [label, _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"]), str(s["support"])]
        for label, s in metrics["per_class"].items()
    ]


def print_evaluation(metrics: dict[str, Any], file: IO[str] | None = None) -> None:
    """Overall metrics (model, baseline, difference), per-class scores, confusion matrix."""
    from rich.table import Table

    out = console(file)
    out.print(
        f"[bold]{metrics['model_dir']}[/bold] on {metrics['data']}: {metrics['n']} tweets, "
        f"{metrics['truncated']} truncated at max_length"
        + (
            f", {metrics['rows_dropped']} rows dropped (empty)"
            if metrics.get("rows_dropped")
            else ""
        )
    )
    overall = Table(title="Overall", show_edge=False, header_style="bold", title_justify="left")
    header, rows = overall_rows(metrics)
    for i, name in enumerate(header):
        overall.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        overall.add_row(*row)
    out.print(overall)

    per_class = Table(
        title="Per class (RNN)", show_edge=False, header_style="bold", title_justify="left"
    )
    for name in PER_CLASS_HEADER:
        per_class.add_column(name, justify="left" if name == "label" else "right")
    for row in per_class_rows(metrics):
        per_class.add_row(*row)
    out.print(per_class)

    cm = metrics["confusion_matrix"]
    matrix = Table(
        title="Confusion matrix (rows: true, columns: predicted)",
        show_edge=False,
        header_style="bold",
        title_justify="left",
    )
    matrix.add_column("true \\ pred")
    for label in cm["labels"]:
        matrix.add_column(label, justify="right")
    for label, row in zip(cm["labels"], cm["matrix"], strict=True):
        matrix.add_row(label, *(str(v) for v in row))
    out.print(matrix)


def short_names(paths: list[str]) -> list[str]:
    """Folder names, numbered when two models share one."""
    names = [Path(p).name or str(p) for p in paths]
    if len(set(names)) < len(names):
        names = [f"{i + 1}-{name}" for i, name in enumerate(names)]
    return names


def print_comparison(all_metrics: list[dict[str, Any]], file: IO[str] | None = None) -> None:
    """Several models on the same data, one column each (plus the first one's baseline)."""
    from rich.table import Table

    out = console(file)
    names = short_names([m["model_dir"] for m in all_metrics])
    for name, m in zip(names, all_metrics, strict=True):
        out.print(f"{name}: {m['model_dir']}")
    table = Table(
        title=f"{all_metrics[0]['n']} tweets of {all_metrics[0]['data']}",
        show_edge=False,
        header_style="bold",
        title_justify="left",
    )
    table.add_column("metric")
    for name in names:
        table.add_column(name, justify="right")
    base = all_metrics[0].get("baseline")
    if base:
        table.add_column("bag-of-words", justify="right")
    for key in OVERALL:
        row = [key, *(_fmt(m[key]) for m in all_metrics)]
        if base:
            row.append(_fmt(base[key]))
        table.add_row(*row)
    out.print(table)


GATE_HEADERS = {
    "forget": "f̄",
    "input": "ī",
    "output": "ō",
    "cell_norm": "‖C‖",
    "update": "z̄",
    "reset": "r̄",
    "state_norm": "‖h‖",
}


def write_traces(bundle, traces: list[dict], fmt: str, output: Path | None, gates: bool) -> None:
    with atomic_output(output) as handle:
        if fmt == "json":
            payload = traces[0] if len(traces) == 1 else traces
            handle.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
            return
        for result in traces:
            print_trace(bundle.labels, result, gates, handle)


def print_trace(labels: list[str], result: dict, gates: bool, file: IO[str] | None = None) -> None:
    """One row per word: the label probabilities if the tweet ended there (the most
    likely in bold), then the mean gate values of the last recurrent layer."""
    from rich import box
    from rich.table import Table

    out = console(file)
    out.print(f"[bold]{_short(result['text'], 76)}[/bold]")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), header_style="bold")
    table.add_column("t", justify="right")
    table.add_column("token", max_width=14, overflow="ellipsis", no_wrap=True)
    for label in labels:
        table.add_column(label, justify="right")
    gate_keys: list[str] = []
    if gates and result["steps"]:
        last = result["steps"][0]["gates"][-1]
        gate_keys = [k for k in last if k not in ("layer", "cell", "per_unit")]
        for key in gate_keys:
            table.add_column(GATE_HEADERS.get(key, key), justify="right")
    for step in result["steps"]:
        token = step["token"] + ("*" if step["oov"] else "")
        probs = [
            f"[bold]{step['probabilities'][lab]:.2f}[/bold]"
            if lab == step["label"]
            else f"{step['probabilities'][lab]:.2f}"
            for lab in labels
        ]
        row = [str(step["position"] + 1), token, *probs]
        if gate_keys:
            row += [f"{step['gates'][-1][k]:.2f}" for k in gate_keys]
        table.add_row(*row)
    out.print(table)
    notes = [f"final: {result['final']['label']}"]
    if any(step["oov"] for step in result["steps"]):
        notes.append("* out of vocabulary")
    if result["cut"]:
        notes.append(f"cut at max_length: {' '.join(result['cut'])}")
    if gate_keys:
        layer = result["steps"][0]["gates"][-1]
        names = ", ".join(f"{GATE_HEADERS.get(k, k)} {k.replace('_', ' ')}" for k in gate_keys)
        notes.append(f"{layer['cell']} layer '{layer['layer']}', means over units: {names}")
    out.print("; ".join(notes))


def print_compare(result: dict[str, Any], file: IO[str] | None = None) -> None:
    from rich.table import Table

    out = console(file)
    table = Table(
        show_edge=False,
        header_style="bold",
        title_justify="left",
        title=f"Compared on {result['data']}"
        + (f", tested on {result['test']}" if result["test"] else ""),
    )
    for name in (
        "model",
        "recurrent params",
        "total params",
        "train s",
        "val MR",
        "val acc",
        "test MR",
        "test acc",
    ):
        table.add_column(name, justify="left" if name == "model" else "right")
    rows = list(result["models"]) + ([result["baseline"]] if result["baseline"] else [])
    for row in rows:
        table.add_row(
            row["name"],
            f"{row['recurrent_parameters']:,}",
            "–" if row["total_parameters"] is None else f"{row['total_parameters']:,}",
            "–" if row["train_seconds"] is None else f"{row['train_seconds']:.1f}",
            _fmt(row["val_macro_recall"]),
            _fmt(row["val_accuracy"]),
            _fmt(row["test_macro_recall"]),
            _fmt(row["test_accuracy"]),
        )
    out.print(table)
    out.print("MR: macro-averaged recall")


def print_memory(result: dict[str, Any], file: IO[str] | None = None) -> None:
    from rich.table import Table

    out = console(file)
    table = Table(
        show_edge=False,
        header_style="bold",
        title_justify="left",
        title="Test accuracy after N filler words (chance = 0.5)",
    )
    table.add_column("cell")
    for distance in result["distances"]:
        table.add_column(f"N={distance}", justify="right")
    for cell in result["cells"]:
        table.add_row(cell, *(f"{a:.3f}" for a in result["accuracy"][cell]))
    out.print(table)
    longest = max(result["distances"])
    grads = Table(
        show_edge=False,
        header_style="bold",
        title_justify="left",
        title=f"‖∂L/∂h_t‖ at initialization (N={longest}): the gradient reaching step t",
    )
    grads.add_column("cell", no_wrap=True)
    steps = sorted({0, (longest + 1) // 3, 2 * (longest + 1) // 3, longest})
    for t in steps:
        grads.add_column(f"t={t + 1}", justify="right")
    grads.add_column("first / last", justify="right")
    for cell, norms in result["gradient_norms"].items():
        ratio = norms[0] / norms[-1] if norms[-1] else float("nan")
        grads.add_row(cell, *(f"{norms[t]:.1e}" for t in steps), f"{ratio:.1e}")
    out.print(grads)
