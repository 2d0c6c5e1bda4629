"""What the commands print: prediction formats and metric tables."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

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
def atomic_output(path: Path | None, binary: bool = False) -> Iterator[IO]:
    """Stdout, or a temporary file beside ``path`` renamed onto it only on success
    (opened for bytes with ``binary``). A path that exists and is not a regular file
    (/dev/null, a named pipe, a terminal) is written directly: renaming onto it would
    replace the device or pipe with a file."""
    if path is None:
        yield sys.stdout
        return
    path = Path(path)
    if path.is_dir():
        raise SentimentError(f"--output {path}: is a directory")
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    if path.exists() and not path.is_file():
        with open(path, "wb" if binary else "w", **text) as handle:
            yield handle
        return
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb" if binary else "w", **text) as handle:
            yield handle
        os.replace(tmp, path)
    except FileNotFoundError:
        tmp.unlink(missing_ok=True)
        raise SentimentError(f"--output {path}: folder {path.parent} does not exist") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def table(columns: list[str], title: str | None = None, left: int = 1, **options):
    """A rich Table in the tool's style: the first ``left`` columns left-aligned (names),
    the rest right-aligned (numbers)."""
    from rich.table import Table

    style = {"show_edge": False, "header_style": "bold", "title_justify": "left", **options}
    result = Table(title=title, **style)
    for i, name in enumerate(columns):
        result.add_column(name, justify="left" if i < left else "right")
    return result


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def write_predictions(bundle, results: Iterable, fmt: str, output: Path | None) -> None:
    """Write ``predict.Scored`` results as they come (bounded memory for any input)."""
    if fmt == "parquet":
        write_parquet(bundle, results, output)
        return
    with atomic_output(output) as handle:
        if fmt == "table":
            shown = table(["text", "label", *(f"p({label})" for label in bundle.labels)], left=2)
            shown.columns[0].overflow = "fold"
            shown.columns[1].style = "bold"
            for result in results:
                for text, label, *probs in result.rows():
                    shown.add_row(_short(text), label, *(f"{p:.3f}" for p in probs))
            console(handle).print(shown)
        elif fmt == "json":
            handle.write("[")
            first = True
            for result in results:
                for row in result.records():
                    handle.write(
                        ("\n  " if first else ",\n  ") + json.dumps(row, ensure_ascii=False)
                    )
                    first = False
            handle.write("\n]\n")
        elif fmt == "jsonl":
            for result in results:
                for row in result.records():
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(handle, lineterminator="\n")
            header = True
            for result in results:
                if header:
                    writer.writerow(result.columns())
                    header = False
                writer.writerows(
                    [text, label, *[f"{p:.6f}" for p in probs]]
                    for text, label, probs in zip(
                        result.texts, result.predicted, result.probabilities.tolist(), strict=True
                    )
                )


def write_parquet(bundle, results: Iterable, output: Path | None) -> None:
    """The CSV columns as Parquet (pyarrow), one row group per chunk, written beside
    ``output`` and renamed onto it when complete."""
    if output is None:
        raise SentimentError("--format parquet writes a file: give --output FILE.parquet")
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise SentimentError(
            "writing Parquet needs pyarrow: pip install 'sentiment-cli[parquet]'"
        ) from None
    columns = {"text": pa.string(), "label": pa.string()}
    columns.update({f"p_{label}": pa.float64() for label in bundle.labels})
    schema = pa.schema(list(columns.items()))
    with atomic_output(output, binary=True) as handle, pq.ParquetWriter(handle, schema) as writer:
        for result in results:
            data = {"text": result.texts, "label": result.predicted}
            for i, label in enumerate(bundle.labels):
                data[f"p_{label}"] = result.probabilities[:, i]
            writer.write_table(pa.table(data, schema=schema))


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
    header, rows = overall_rows(metrics)
    overall = table(header, "Overall")
    for row in rows:
        overall.add_row(*row)
    out.print(overall)

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


def short_names(paths: list[str]) -> list[str]:
    """Folder names, numbered when two models share one."""
    names = [Path(p).name or str(p) for p in paths]
    if len(set(names)) < len(names):
        names = [f"{i + 1}-{name}" for i, name in enumerate(names)]
    return names


def print_comparison(all_metrics: list[dict[str, Any]], file: IO[str] | None = None) -> None:
    """Several models on the same data, one column each (plus the first one's baseline)."""
    out = console(file)
    names = short_names([m["model_dir"] for m in all_metrics])
    for name, m in zip(names, all_metrics, strict=True):
        out.print(f"{name}: {m['model_dir']}")
    base = all_metrics[0].get("baseline")
    shown = table(
        ["metric", *names, *(["bag-of-words"] if base else [])],
        f"{all_metrics[0]['n']} tweets of {all_metrics[0]['data']}",
    )
    for key in OVERALL:
        row = [key, *(_fmt(m[key]) for m in all_metrics)]
        if base:
            row.append(_fmt(base[key]))
        shown.add_row(*row)
    out.print(shown)


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
            _fmt(row["val_macro_recall"]),
            _fmt(row["val_accuracy"]),
            _fmt(row["test_macro_recall"]),
            _fmt(row["test_accuracy"]),
            _fmt(row.get("probe_accuracy")),
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
        shown.add_row(row["trial"] + mark, *values, _fmt(row["val_macro_recall"]))
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
