"""What a model folder is, in one page (``sentiment-cli info``), and whether every file
is as its manifest says (``sentiment-cli check``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sentiment_cli.config import Config
from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime import integrity
from sentiment_cli.runtime import model_folder as mf


def check(folder: str | Path) -> dict[str, Any]:
    """Every file of the folder against the manifest: {"folder", "format_version",
    "files": {name: bytes}, "problems": [...], "ok"}. A folder too broken to have a
    readable manifest raises SentimentError."""
    folder = Path(folder)
    manifest = mf.check_model_dir(folder)
    version = manifest["format_version"]
    listed = manifest.get("files")
    if version >= 3 and isinstance(listed, dict):
        problems = integrity.problems(folder, listed)
        extra = sorted(
            p.name for p in folder.iterdir() if p.name != mf.MANIFEST and p.name not in listed
        )
        problems += [f"{name} is not listed in the manifest" for name in extra]
    else:
        problems = [f"format version {version} records no hashes: only the layout was checked"]
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}
    ok = not problems or version < 3
    return {
        "folder": str(folder),
        "format_version": version,
        "files": files,
        "problems": problems,
        "ok": ok,
    }


def config_changes(config: Config) -> dict[str, dict[str, Any]]:
    """The config's values that differ from the tool's defaults, by dotted key."""
    changed = {}
    default = Config().to_dict()
    for section, values in config.to_dict().items():
        for key, value in values.items():
            if default[section].get(key) != value:
                changed[f"{section}.{key}"] = {"value": value, "default": default[section][key]}
    return changed


def card(folder: str | Path) -> dict[str, Any]:
    """The model's card: labels, architecture, data, config changes, validation
    metrics of the model and its baseline, format, files and integrity."""
    folder = Path(folder)
    integrity_report = check(folder)
    config = mf.read_config(folder)
    summary = mf.read_json(folder, mf.SUMMARY_FILE)
    if not isinstance(summary, dict):
        raise SentimentError(f"model folder {folder}: {mf.SUMMARY_FILE} must be a JSON object")
    m = config.model
    return {
        "folder": str(folder),
        "labels": mf.read_labels(folder),
        "model": {
            "cell": m.cell,
            "units": m.units,
            "layers": m.layers,
            "bidirectional": m.bidirectional,
            "embedding_dim": m.embedding_dim,
            "pooling": m.pooling,
            "members": config.train.members,
            "vocabulary_size": summary.get("vocabulary_size"),
            "max_length": config.text.max_length,
            "parameters": summary.get("total_parameters"),
        },
        "training_data": {
            "file": summary.get("train_data"),
            "sha256": summary.get("train_data_sha256"),
            "rows": summary.get("n_train"),
            "validation_rows": summary.get("n_val"),
            "label_counts": summary.get("label_counts_train"),
        },
        "config_changes": config_changes(config),
        "validation": _headline(summary.get("validation")),
        "baseline_validation": _headline(summary.get("baseline_validation")),
        "blend": _blend(summary.get("blend")),
        "format_version": integrity_report["format_version"],
        "files": integrity_report["files"],
        "integrity": {"ok": integrity_report["ok"], "problems": integrity_report["problems"]},
    }


def _headline(metrics: Any) -> dict | None:
    if not isinstance(metrics, dict):
        return None
    keys = ("n", "accuracy", "macro_recall", "macro_f1")
    return {k: metrics.get(k) for k in keys}


def _blend(blend: Any) -> dict | None:
    """The baseline's weight in predict's answers and the validation metrics of the
    blend (None where the model does not blend)."""
    if not isinstance(blend, dict) or not blend.get("baseline_weight"):
        return None
    return {
        "baseline_weight": blend["baseline_weight"],
        "network_decides": blend.get("network_decides", []),
        **_headline(blend.get("validation")),
    }
