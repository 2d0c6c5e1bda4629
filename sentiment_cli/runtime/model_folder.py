"""The model folder: everything ``predict`` and ``evaluate`` need, in open formats.

    manifest.json   format version, tool version, the list of files (written last)
    weights.npz     every weight named by its role (embedding, rnn.forward.kernel, ...)
    network.json    the layer list: what the NumPy runtime (runtime.py) runs
    model.keras     the Keras model (loaded with safe_mode=True; export, --runtime keras)
    vocab.json      token list; id = position (0 padding, 1 OOV)
    config.yaml     the resolved config the model was trained with
    labels.json     label names in the order of the classifier's outputs
    history.json    loss/accuracy per epoch, train and validation
    summary.json    data sizes, label counts, truncation, parameters, time, best metrics
    baseline.json   bag-of-words baseline: n-gram vocabulary, labels  (optional)
    baseline.npz    bag-of-words baseline: idf, coefficients           (optional)

A folder is written beside its destination under a name that says it is temporary
(``.NAME.tmp-PID``) and renamed into place only when complete, so an existing model
survives any failure or interruption.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sentiment_cli import __version__
from sentiment_cli.config import Config, build_config
from sentiment_cli.errors import SentimentError
from sentiment_cli.text.vocabulary import Vocabulary

FORMAT_VERSION = 2  # 2: weights.npz + network.json beside model.keras
READABLE_VERSIONS = (1, 2)  # 1: model.keras only, read through Keras
MANIFEST = "manifest.json"
MODEL_FILE = "model.keras"
VOCAB_FILE = "vocab.json"
CONFIG_FILE = "config.yaml"
LABELS_FILE = "labels.json"
HISTORY_FILE = "history.json"
SUMMARY_FILE = "summary.json"
REQUIRED_FILES = [MODEL_FILE, VOCAB_FILE, CONFIG_FILE, LABELS_FILE, HISTORY_FILE, SUMMARY_FILE]
RUNTIME_FILES = ["weights.npz", "network.json"]  # runtime.WEIGHTS_FILE, runtime.NETWORK_FILE


def write_json(path: Path, payload: Any) -> None:
    Path(path).write_text(
        json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _leftovers(output_dir: Path, kind: str) -> list[Path]:
    return sorted(output_dir.parent.glob(f".{output_dir.name}.{kind}-*"))


def recover_leftovers(output_dir: Path) -> list[str]:
    """Clean up after a run that was killed: remove half-written temporary folders and
    put back a previous model that was moved aside but not yet replaced."""
    notes = []
    for tmp in _leftovers(output_dir, "tmp"):
        shutil.rmtree(tmp, ignore_errors=True)
        notes.append(f"removed the unfinished folder {tmp} left by an interrupted run")
    for old in _leftovers(output_dir, "old"):
        if not output_dir.exists():
            os.rename(old, output_dir)
            notes.append(f"restored the previous model {output_dir} from {old}")
        else:
            shutil.rmtree(old, ignore_errors=True)
    return notes


def check_output_dir(output_dir: Path, force: bool) -> None:
    """Refuse to overwrite anything but a model folder, and a model folder without --force."""
    if output_dir.exists():
        if not output_dir.is_dir():
            raise SentimentError(f"--output-dir {output_dir}: exists and is not a directory")
        is_model = (output_dir / MANIFEST).exists()
        if not force:
            raise SentimentError(
                f"--output-dir {output_dir}: already exists; use --force to replace it "
                f"(the old model is kept until the new one is complete)"
            )
        if not is_model and any(output_dir.iterdir()):
            raise SentimentError(
                f"--output-dir {output_dir}: exists, is not empty and is not a sentiment-cli "
                f"model folder; refusing to replace it even with --force"
            )


def is_model_folder(path: Path) -> bool:
    """Whether ``path`` holds a model folder (its manifest)."""
    return (Path(path) / MANIFEST).exists()


def write_model_dir(output_dir: Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp) to fill a temporary folder, then move it to output_dir in one step
    (replacing an existing model only after the new one is complete)."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_dir.parent / f".{output_dir.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        write(tmp)
        files = sorted(p.name for p in tmp.iterdir())
        write_json(
            tmp / MANIFEST,
            {
                "format_version": FORMAT_VERSION,
                "sentiment_cli_version": __version__,
                "files": files,
            },
        )
        if output_dir.exists():
            old = output_dir.parent / f".{output_dir.name}.old-{os.getpid()}"
            os.rename(output_dir, old)
            os.rename(tmp, output_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return output_dir


def read_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SentimentError(f"model folder {folder}: {name} cannot be read: {exc}") from None


@dataclass
class ModelDir:
    """A loaded model folder. ``network`` computes the probabilities in NumPy; the Keras
    model is loaded only when something asks for ``model`` (export, --runtime keras)."""

    path: Path
    vocab: Vocabulary
    config: Config
    labels: list[str]
    summary: dict
    history: dict
    network: Any  # runtime.Network
    runtime: str = "numpy"  # numpy | keras: which one predict_ids runs
    format_version: int = FORMAT_VERSION
    _keras: Any = field(default=None, repr=False)

    @property
    def model(self):
        if self._keras is None:
            self._keras = load_keras_model(self.path / MODEL_FILE)
        return self._keras


def check_model_dir(folder: Path) -> dict:
    """Check the folder's layout and format version; return the manifest."""
    folder = Path(folder)
    if not folder.exists():
        raise SentimentError(
            f"model folder {folder} does not exist; train one with 'sentiment-cli train'"
        )
    if not folder.is_dir():
        raise SentimentError(f"model folder {folder} is not a directory")
    if not (folder / MANIFEST).exists():
        raise SentimentError(
            f"model folder {folder}: no {MANIFEST}; not a sentiment-cli model folder "
            f"(or its training did not finish)"
        )
    manifest = read_json(folder, MANIFEST)
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version not in READABLE_VERSIONS:
        raise SentimentError(
            f"model folder {folder}: format version {version!r}, this sentiment-cli "
            f"({__version__}) reads versions {READABLE_VERSIONS[0]} to {FORMAT_VERSION}; retrain "
            f"the model or use the "
            f"version that wrote it ({manifest.get('sentiment_cli_version', 'unknown')})"
        )
    required = REQUIRED_FILES + (RUNTIME_FILES if version >= 2 else [])
    missing = [name for name in required if not (folder / name).exists()]
    if missing:
        raise SentimentError(f"model folder {folder}: missing {', '.join(missing)}")
    return manifest


def load_config_file(folder: Path) -> Config:
    try:
        raw = yaml.safe_load((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SentimentError(
            f"model folder {folder}: {CONFIG_FILE} cannot be read: {exc}"
        ) from None
    return build_config(raw, f"model folder {folder}: {CONFIG_FILE}")


def load_keras_model(path: Path):
    from sentiment_cli.models.backend import load

    keras = load()

    import sentiment_cli.models.layers  # noqa: F401  (registers the custom layers)

    try:
        # safe_mode refuses Lambda layers and other serialized Python code.
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc) or "lambda" in str(exc).lower():
            raise SentimentError(
                f"{path}: refused to load: the model contains Python code (a Lambda layer "
                f"or a serialized function), which could run anything; only models "
                f"without code are loaded"
            ) from None
        raise SentimentError(
            f"{path}: cannot load the Keras model; the file is corrupted or not a .keras "
            f"file ({detail[:200]})"
        ) from None


def load_model_dir(folder: str | Path, runtime: str = "numpy", warn=None) -> ModelDir:
    """Load a model folder for prediction. ``runtime`` numpy never imports TensorFlow
    for a current folder; a folder written before the NumPy runtime (format version 1)
    is read through Keras, and ``warn`` (stderr by default) says so once."""
    from sentiment_cli.runtime.network import Network, from_keras

    folder = Path(folder)
    version = check_model_dir(folder)["format_version"]
    config = load_config_file(folder)
    vocab = Vocabulary.load(folder / VOCAB_FILE)
    labels = read_json(folder, LABELS_FILE)
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise SentimentError(f"model folder {folder}: {LABELS_FILE} must be a list of strings")
    keras_model = None
    if version >= 2:
        network = Network.load(folder)
    else:
        (warn or _warn_once)(
            f"Note: {folder} was written by an older sentiment-cli (format version {version}): "
            f"its weights are read through Keras, which is slower to start; retrain it for "
            f"the TensorFlow-free runtime"
        )
        keras_model = load_keras_model(folder / MODEL_FILE)
        network = from_keras(keras_model, config)
    n_outputs = network.n_outputs
    if n_outputs != len(labels):
        raise SentimentError(
            f"model folder {folder}: the model has {n_outputs} outputs but {LABELS_FILE} "
            f"lists {len(labels)} labels"
        )
    if network.vocab_size != len(vocab):
        raise SentimentError(
            f"model folder {folder}: {VOCAB_FILE} has {len(vocab)} tokens but the model's "
            f"embedding expects {network.vocab_size}; the vocabulary does not belong to this "
            f"model"
        )
    bundle = ModelDir(
        path=folder,
        vocab=vocab,
        config=config,
        labels=labels,
        summary=read_json(folder, SUMMARY_FILE),
        history=read_json(folder, HISTORY_FILE),
        network=network,
        runtime=runtime,
        format_version=version,
        _keras=keras_model,
    )
    if runtime == "keras":
        bundle.model  # noqa: B018  (load it now: a broken model.keras is refused up front)
    return bundle


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    import sys

    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr)
