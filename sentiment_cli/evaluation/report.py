"""The evaluation report folder: metrics.json, confusion_matrix.png, learning_curves.png,
reliability.png, errors.csv and report.md (which embeds the rest and reads well on
GitHub)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment_cli.evaluation.evaluate import Evaluation
from sentiment_cli.io.atomic import together
from sentiment_cli.io.tables import (
    PER_CLASS_HEADER,
    abstention_line,
    overall_rows,
    per_class_rows,
    printable,
    short_names,
)

METRICS_FILE = "metrics.json"
CONFUSION_FILE = "confusion_matrix.png"
CURVES_FILE = "learning_curves.png"
RELIABILITY_FILE = "reliability.png"
ERRORS_FILE = "errors.csv"
REPORT_FILE = "report.md"


def plot_confusion_matrix(labels: list[str], matrix: list[list[int]], path: Path) -> None:
    """Row-normalized heatmap (recall per true class), raw counts annotated."""
    from sentiment_cli.plots import literal, pyplot, save

    plt = pyplot()
    labels = [literal(printable(label, keep="")) for label in labels]
    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    normalized = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = max(4.0, 1.1 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    image = ax.imshow(normalized, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if normalized[i, j] > 0.6 else "black"
            ax.text(
                j,
                i,
                f"{int(counts[i, j])}\n{normalized[i, j]:.0%}",
                ha="center",
                va="center",
                color=color,
                fontsize=9,
            )
    ax.set_title("Confusion matrix (rows normalized)")
    save(fig, path)


def plot_learning_curves(history: dict[str, list[float]], path: Path) -> None:
    """Loss and accuracy per epoch, training vs validation."""
    from sentiment_cli.plots import pyplot, save

    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    best = int(np.argmin(history["val_loss"])) + 1 if history.get("val_loss") else None
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        if best is not None:
            # early stopping restores these weights
            ax.axvline(best, color="grey", linestyle=":", label=f"best epoch ({best})")
        for key, style, name in (
            (metric, "-o", "training"),
            (f"val_{metric}", "--s", "validation"),
        ):
            values = history.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    save(fig, path)


def plot_reliability(evaluation: Evaluation, path: Path) -> None:
    """Left, the reliability diagram: accuracy against confidence per bin of the top
    probability (on the diagonal, p means what it says). Right, abstaining: the accuracy
    of the rows answered against their share, as the threshold rises."""
    from sentiment_cli.metrics import coverage_curve, reliability
    from sentiment_cli.plots import pyplot, save

    plt = pyplot()
    truth, labels = evaluation.data.labels, evaluation.bundle.labels
    probs, metrics = evaluation.probabilities, evaluation.metrics
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.3))
    bins = reliability(truth, probs, labels)
    left.plot([0, 1], [0, 1], ":", color="grey", label="calibrated")
    left.bar(
        [b["low"] for b in bins],
        [b["accuracy"] for b in bins],
        width=[b["high"] - b["low"] for b in bins],
        align="edge",
        alpha=0.6,
        edgecolor="black",
        label="accuracy in the bin",
    )
    left.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", ms=3)
    left.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top probability)", ylabel="accuracy")
    ece = metrics.get("ece")
    left.set_title("Reliability" + ("" if ece is None else f" (ECE {ece:.3f})"))
    left.legend(loc="upper left")
    curve = [row for row in coverage_curve(truth, probs, labels) if row["answered"]]
    right.plot([r["coverage"] for r in curve], [r["accuracy_answered"] for r in curve], "o-")
    for row in curve[::4]:
        right.annotate(
            f"≥{row['min_confidence']:.2f}",
            (row["coverage"], row["accuracy_answered"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    chosen = metrics.get("abstention")
    if chosen and chosen["accuracy_answered"] is not None:
        right.plot(
            chosen["coverage"],
            chosen["accuracy_answered"],
            "s",
            color="red",
            label=f"--min-confidence {chosen['min_confidence']:g}",
        )
        right.legend(loc="lower left")
    right.set(xlim=(0, 1.02), xlabel="coverage (share of rows answered)", ylabel="accuracy")
    right.set_title("Abstaining below a confidence")
    right.invert_xaxis()
    right.grid(alpha=0.3)
    save(fig, path)


def errors_frame(evaluation: Evaluation) -> pd.DataFrame:
    """Misclassified texts, most confident mistakes first."""
    probs = evaluation.probabilities
    frame = pd.DataFrame(
        {
            "text": evaluation.data.texts,
            "true_label": evaluation.data.labels,
            "predicted_label": evaluation.predicted,
            "probability": probs.max(axis=1) if len(probs) else [],
        }
    )
    index = {label: i for i, label in enumerate(evaluation.bundle.labels)}
    frame["probability_of_true_label"] = [
        probs[row, index[label]] for row, label in enumerate(evaluation.data.labels)
    ]
    wrong = frame[frame["true_label"] != frame["predicted_label"]]
    return wrong.sort_values("probability", ascending=False, kind="stable")


def _cell(text: str) -> str:
    """A table cell's text: a "|" would end the cell, a line break the row."""
    return " ".join(printable(str(text), keep="").replace("|", "\\|").split())


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(map(_cell, header)) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def markdown(metrics: dict, errors: pd.DataFrame, has_curves: bool) -> str:
    header, rows = overall_rows(metrics)
    per_class = per_class_rows(metrics)
    cm = metrics["confusion_matrix"]
    cm_rows = [
        [label, *map(str, row)] for label, row in zip(cm["labels"], cm["matrix"], strict=True)
    ]
    top = errors.head(10)
    error_rows = [
        [t, a, b, f"{p:.3f}"]
        for t, a, b, p in zip(
            top["text"], top["true_label"], top["predicted_label"], top["probability"], strict=True
        )
    ]
    parts = [
        "# Evaluation report",
        "",
        f"Model `{_cell(metrics['model_dir'])}` on `{_cell(metrics['data'])}`: "
        f"{metrics['n']} tweets, {metrics['truncated']} truncated at `max_length`.",
        "",
        "## Overall",
        "",
        _markdown_table(header, rows),
        "",
        "## Per class",
        "",
        _markdown_table(PER_CLASS_HEADER, per_class),
        "",
        "## Confusion matrix",
        "",
        _markdown_table(["true \\ predicted", *cm["labels"]], cm_rows),
        "",
        f"![Confusion matrix]({CONFUSION_FILE})",
        "",
    ]
    parts += ["## Probabilities", ""]
    if metrics.get("abstention"):
        parts += [abstention_line(metrics), ""]
    parts += [f"![Reliability and abstaining]({RELIABILITY_FILE})", ""]
    if has_curves:
        parts += ["## Learning curves", "", f"![Learning curves]({CURVES_FILE})", ""]
    parts += [
        f"## Most confident mistakes ({len(errors)} in all: [{ERRORS_FILE}]({ERRORS_FILE}))",
        "",
        _markdown_table(["text", "true", "predicted", "probability"], error_rows),
        "",
        f"All metrics: [{METRICS_FILE}]({METRICS_FILE}).",
        "",
    ]
    return "\n".join(parts)


def write_reports(evaluations: list[Evaluation], report_dir: str | Path) -> list[Path]:
    """One report per evaluation: in ``report_dir`` for one, in a sub-folder named after
    each model for several; returns the report.md paths."""
    report_dir = Path(report_dir)
    if len(evaluations) == 1:
        return [write_report(evaluations[0], report_dir) / REPORT_FILE]
    names = short_names([e.metrics["model_dir"] for e in evaluations])
    return [
        write_report(evaluation, report_dir / name) / REPORT_FILE
        for name, evaluation in zip(names, evaluations, strict=True)
    ]


REPORT_FILES = [METRICS_FILE, CONFUSION_FILE, CURVES_FILE, RELIABILITY_FILE, ERRORS_FILE]
REPORT_FILES.append(REPORT_FILE)


def write_report(evaluation: Evaluation, report_dir: str | Path) -> Path:
    """The report's files, replaced together (a report is never left half new)."""
    report_dir = Path(report_dir)
    with together(report_dir, REPORT_FILES, "--report-dir") as tmp:
        _write_report(evaluation, tmp)
    return report_dir


def _write_report(evaluation: Evaluation, report_dir: Path) -> Path:
    metrics = evaluation.metrics
    (report_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    cm = metrics["confusion_matrix"]
    plot_confusion_matrix(cm["labels"], cm["matrix"], report_dir / CONFUSION_FILE)
    plot_reliability(evaluation, report_dir / RELIABILITY_FILE)
    history = evaluation.bundle.history
    has_curves = bool(history.get("loss"))
    if has_curves:
        plot_learning_curves(history, report_dir / CURVES_FILE)
    errors = errors_frame(evaluation)
    errors.to_csv(report_dir / ERRORS_FILE, index=False, float_format="%.6f")
    (report_dir / REPORT_FILE).write_text(markdown(metrics, errors, has_curves), encoding="utf-8")
    return report_dir
