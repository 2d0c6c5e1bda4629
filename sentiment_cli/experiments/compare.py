"""Train several models on the same data and compare them in one table: by default
SimpleRNN, LSTM and GRU with the same embedding, width, epochs and seed, next to the
bag-of-words baseline."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentiment_cli.cells import CELLS
from sentiment_cli.config import Config
from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime import model_folder


def cell_variants(config: Config) -> list[tuple[str, Config]]:
    """The same config with each recurrent cell."""
    return [
        (cell, dataclasses.replace(config, model=dataclasses.replace(config.model, cell=cell)))
        for cell in CELLS
    ]


def candidates(configs: list[str], overrides: list[str]) -> list[tuple[str, Config]]:
    """What ``compare`` trains: the cells on one base config (``configs`` empty or one),
    or several configs as they are, named after their files."""
    from sentiment_cli.config import load_config

    if len(configs) > 1:
        chosen = [(Path(c).stem, load_config(c, overrides)) for c in configs]
        names = [name for name, _ in chosen]
        if len(set(names)) < len(names):
            raise SentimentError("--config files must have different names")
        return chosen
    return cell_variants(load_config(configs[0] if configs else None, overrides))


def compare(
    data_path: str | Path,
    candidates: list[tuple[str, Config]],
    *,
    test_path: str | Path | None = None,
    val_path: str | Path | None = None,
    output_dir: str | Path | None = None,
    text_column: str = "text",
    label_column: str = "label",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train every candidate; return {"models": [row, ...], "baseline": row}."""
    from sentiment_cli.evaluation.evaluate import evaluate
    from sentiment_cli.training.train import train

    keep = output_dir is not None
    if keep and (Path(output_dir) / model_folder.MANIFEST).exists():
        raise SentimentError(
            f"--output-dir {output_dir}: is a model folder; compare writes one model folder "
            f"per candidate inside --output-dir, choose another folder"
        )
    root = Path(output_dir) if keep else Path(tempfile.mkdtemp(prefix="sentiment-compare-"))
    rows = []
    baseline_row = None
    try:
        for name, config in candidates:
            log(f"== {name}: training")
            folder = root / name
            columns = {"text_column": text_column, "label_column": label_column}
            train(data_path, folder, config, **columns, val_path=val_path, force=True, verbose=0,
                  log=lambda message: None)  # fmt: skip
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            row = model_row(name, config, summary)
            probes = probe_metrics(folder)
            row["probe_accuracy"] = probes["accuracy"] if probes else None
            test_metrics = None
            if test_path is not None:
                test_metrics = evaluate(
                    folder, test_path, text_column=text_column, label_column=label_column
                )
                row["test_macro_recall"] = test_metrics["macro_recall"]
                row["test_accuracy"] = test_metrics["accuracy"]
            if baseline_row is None and summary.get("baseline_validation"):
                baseline = test_metrics["baseline"] if test_metrics else None
                baseline_row = _baseline_row(summary, baseline, probes)
            test_part = (
                f", test macro_recall {row['test_macro_recall']:.4f}" if test_metrics else ""
            )
            log(
                f"   val macro_recall {row['val_macro_recall']:.4f}{test_part} "
                f"({row['train_seconds']:.0f}s)"
            )
            rows.append(row)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "data": str(data_path),
        "test": None if test_path is None else str(test_path),
        "models": rows,
        "baseline": baseline_row,
    }


def model_row(name: str, config: Config, summary: dict) -> dict[str, Any]:
    """A trained candidate's row of the table, from its summary.json."""
    recurrent = sum(
        count for layer, count in summary["parameters"].items() if layer.startswith("rnn")
    )
    return {
        "name": name,
        "cell": CELLS[config.model.cell].keras_name,
        "bidirectional": config.model.bidirectional,
        "recurrent_parameters": recurrent,
        "total_parameters": summary["total_parameters"],
        "train_seconds": summary["fit_seconds"],
        "epochs_run": summary["epochs_run"],
        "val_macro_recall": summary["validation"]["macro_recall"],
        "val_accuracy": summary["validation"]["accuracy"],
        "test_macro_recall": None,
        "test_accuracy": None,
    }


def probe_metrics(folder: Path) -> dict | None:
    """The model's metrics on the shipped probe suite (negation, contrast, ...), the
    baseline's under "baseline"; None where the suite is not installed."""
    from sentiment_cli.evaluation.evaluate import PROBES, score

    return score(folder, PROBES).metrics if PROBES.exists() else None


def _baseline_row(summary: dict, test_metrics: dict | None, probes: dict | None) -> dict:
    val = summary.get("baseline_validation") or {}
    base_probes = (probes or {}).get("baseline")
    return {
        "name": "bag-of-words",
        "cell": "TF-IDF + logistic regression",
        "bidirectional": False,
        "recurrent_parameters": 0,
        "total_parameters": None,
        "train_seconds": summary.get("baseline_fit_seconds"),
        "epochs_run": None,
        "val_macro_recall": val.get("macro_recall"),
        "val_accuracy": val.get("accuracy"),
        "test_macro_recall": None if test_metrics is None else test_metrics["macro_recall"],
        "test_accuracy": None if test_metrics is None else test_metrics["accuracy"],
        "probe_accuracy": base_probes["accuracy"] if base_probes else None,
    }


def plot_comparison(result: dict[str, Any], path: Path) -> None:
    """Bars: macro recall (validation and test) and recurrent parameters per model."""
    from sentiment_cli.plots import grouped_bars, pyplot, save

    plt = pyplot()
    import numpy as np

    rows = list(result["models"]) + ([result["baseline"]] if result["baseline"] else [])
    names = [row["name"] for row in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    series = {
        label: ([row[key] for row in rows], None)
        for key, label in (("val_macro_recall", "validation"), ("test_macro_recall", "test"))
    }
    grouped_bars(left, names, series, "macro recall", "Macro recall")
    models = result["models"]
    bars = right.bar(
        np.arange(len(models)), [row["recurrent_parameters"] for row in models], color="tab:gray"
    )
    right.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    right.set_xticks(np.arange(len(models)), [row["name"] for row in models])
    right.set_ylabel("parameters")
    right.set_title("Parameters of the recurrent layers")
    save(fig, path)
