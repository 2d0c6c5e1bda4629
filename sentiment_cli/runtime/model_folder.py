"""The model folder: everything ``predict`` and ``evaluate`` need, in open formats.
This module owns it: it names, writes, checks and reads every file
(``docs/model-folder.md`` is the spec).

    manifest.json   format version, tool version, each file's size and SHA-256 (last)
    weights.npz     every weight named by its role (embedding, rnn.forward.kernel, ...)
    network.json    the layer list: what the NumPy runtime (runtime/network.py) runs
    vocab.json      token list; id = position (0 padding, 1 OOV)
    config.yaml     the resolved config the model was trained with
    labels.json     label names in the order of the classifier's outputs
    history.json    loss/accuracy per epoch, train and validation
    summary.json    data sizes, label counts, truncation, parameters, time, best metrics
    baseline.json   bag-of-words baseline: n-gram vocabulary, labels  (optional)
    baseline.npz    bag-of-words baseline: idf, coefficients           (optional)
    blend_bag.*     the bag of words the model blends in, where not the baseline  (optional)
    tuning.json     the trials of ``tune``                             (optional)
    seen.npy        fingerprints of the training tweets (runtime/seen.py)  (optional)

The Keras model is not stored: it is rebuilt from config.yaml and weights.npz when
asked for (``models/keras_runtime.py``). Folders of format version 2 also hold
model.keras and are read as before, without file hashes.

A folder is written beside its destination under a name that says it is temporary
(``.NAME.tmp-PID``) and renamed into place only when complete, so an existing model
survives any failure or interruption.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sentiment_cli.config import Config, build_config
from sentiment_cli.errors import SentimentError
from sentiment_cli.io.atomic import writing
from sentiment_cli.io.writers import json_text
from sentiment_cli.runtime import integrity
from sentiment_cli.runtime.bow import Blend, read_blend
from sentiment_cli.runtime.network import NETWORK_FILE, WEIGHTS_FILE
from sentiment_cli.text.vocabulary import Vocabulary
from sentiment_cli.version import __version__

FORMAT_VERSION = 3  # 3: sizes and hashes in the manifest, no model.keras
READABLE_VERSIONS = (1, 2, 3)  # 1: model.keras only; 2: model.keras, weights.npz, network.json
MANIFEST = "manifest.json"
MODEL_FILE = "model.keras"  # format versions 1 and 2 only
VOCAB_FILE = "vocab.json"
CONFIG_FILE = "config.yaml"
LABELS_FILE = "labels.json"
HISTORY_FILE = "history.json"
SUMMARY_FILE = "summary.json"
DESCRIPTION = [CONFIG_FILE, LABELS_FILE, HISTORY_FILE, SUMMARY_FILE]
PREDICTION = [WEIGHTS_FILE, NETWORK_FILE, VOCAB_FILE, *DESCRIPTION]  # what predict reads
REQUIRED = {
    1: [MODEL_FILE, VOCAB_FILE, *DESCRIPTION],
    2: [MODEL_FILE, *PREDICTION],
    3: PREDICTION,
}


def neighbour(output_dir: Path, kind: str) -> Path:
    """The folders a run keeps beside its model folder DIR, all named here:
    ``DIR.checkpoint`` (resume state), ``.DIR.tokens`` (tokenized data), and the
    ``.DIR.tmp-PID`` / ``.DIR.old-PID`` of an atomic replacement."""
    output_dir = Path(output_dir)
    if kind == "checkpoint":
        return output_dir.parent / f"{output_dir.name}.checkpoint"
    if kind == "tokens":
        return output_dir.parent / f".{output_dir.name}.tokens"
    if kind in ("tmp", "old"):
        return output_dir.parent / f".{output_dir.name}.{kind}-{os.getpid()}"
    raise ValueError(f"unknown neighbour {kind!r}")


def write_json(path: Path, payload: Any) -> None:
    """``payload`` as UTF-8 JSON (``io.writers.json_text``: a path whose bytes were not
    UTF-8 is written in \\u escapes, read back as it was)."""
    Path(path).write_text(json_text(payload, indent=2) + "\n", encoding="utf-8")


def _leftovers(output_dir: Path, kind: str) -> list[Path]:
    return sorted(output_dir.parent.glob(f".{output_dir.name}.{kind}-*"))  # see neighbour


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
    """Refuse to overwrite anything but a model folder, and a model folder without
    --force; refuse a path that cannot be written before any work."""
    existing = next(p for p in (output_dir, *output_dir.parents) if p.exists() or p == p.parent)
    if existing != output_dir and not existing.is_dir():
        raise SentimentError(
            f"--output-dir {output_dir}: cannot write: a parent of it ({existing}) is not a folder"
        )
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
    """Call write(tmp) to fill a temporary folder, add the manifest (every file's size
    and hash), then move it to output_dir in one step (replacing an existing model only
    after the new one is complete)."""
    output_dir = Path(output_dir)
    with writing(output_dir, "--output-dir"):
        return _write_model_dir(output_dir, write)


def _write_model_dir(output_dir: Path, write: Callable[[Path], None]) -> Path:
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = neighbour(output_dir, "tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        write(tmp)
        names = sorted(p.name for p in tmp.iterdir())
        manifest = {
            "format_version": FORMAT_VERSION,
            "sentiment_cli_version": __version__,
            "files": integrity.describe(tmp, names),
        }
        write_json(tmp / MANIFEST, manifest)
        if output_dir.exists():
            old = neighbour(output_dir, "old")
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
    if (folder / name).exists() and not (folder / name).is_file():  # a FIFO would hang
        raise SentimentError(f"model folder {folder}: {name} is not a regular file")
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise SentimentError(f"model folder {folder}: {name} cannot be read: {reason}") from None


@dataclass
class ModelDir:
    """A loaded model folder. ``network`` computes the probabilities in NumPy; with
    ``--runtime keras`` (``models.keras_runtime.open_model``) ``keras`` holds the Keras
    model and ``keras_predict`` scores with it."""

    path: Path
    vocab: Vocabulary
    config: Config
    labels: list[str]
    summary: dict
    history: dict
    network: Any  # runtime.network.Network or Ensemble
    runtime: str = "numpy"  # numpy | keras: which one predict_ids runs
    format_version: int = FORMAT_VERSION
    manifest: dict | None = None
    keras: Any = None
    keras_predict: Callable | None = None
    bow: Any = None  # runtime.bow.BagOfWords, where the model blends a bag of words in
    blend: Blend = Blend()  # how much of which bag it mixes in, and where (summary.json)


def check_model_dir(folder: Path, verify: list[str] | tuple = ()) -> dict:
    """Check the folder's layout, format version and the files ``verify`` names (their
    sizes and hashes, from format version 3 on); return the manifest."""
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
    if type(version) is not int or version not in READABLE_VERSIONS:
        writer = manifest.get("sentiment_cli_version") if isinstance(manifest, dict) else None
        raise SentimentError(
            f"model folder {folder}: format version {version!r}, this sentiment-cli "
            f"({__version__}) reads versions {READABLE_VERSIONS[0]} to {FORMAT_VERSION}; retrain "
            f"the model or use the version that wrote it ({writer or 'unknown'})"
        )
    missing = [name for name in REQUIRED[version] if not (folder / name).is_file()]
    if missing:
        raise SentimentError(f"model folder {folder}: missing {', '.join(missing)}")
    if version >= 3:
        files = manifest.get("files")
        if not isinstance(files, dict):
            raise SentimentError(
                f"model folder {folder}: {MANIFEST} lists no file sizes and hashes"
            )
        outside = next((name for name in files if not is_plain_name(name)), None)
        if outside is not None:
            raise SentimentError(
                f"model folder {folder}: {MANIFEST} lists {outside!r}, which is not a file "
                f"name inside the folder; nothing outside a model folder is read"
            )
        if verify:
            integrity.verify(folder, files, list(verify))
    return manifest


def is_plain_name(name: object) -> bool:
    """Whether ``name`` names a file directly inside a folder (no path, no '..')."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
    )


def read_config(folder: Path) -> Config:
    try:
        raw = yaml.safe_load((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError, RecursionError) as exc:  # ValueError: not UTF-8
        raise SentimentError(
            f"model folder {folder}: {CONFIG_FILE} cannot be read: {type(exc).__name__}"
        ) from None
    if isinstance(raw, dict) and isinstance(raw.get("text"), dict):
        # Folders written before text.negation_scope existed marked to the clause's end;
        # those before text.normalize_emoji kept skin tones and variation selectors.
        legacy = {"negation_scope": "clause", "normalize_emoji": False}
        raw = {**raw, "text": {**legacy, **raw["text"]}}
    return build_config(raw, f"model folder {folder}: {CONFIG_FILE}")


def read_labels(folder: Path) -> list[str]:
    labels = read_json(folder, LABELS_FILE)
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise SentimentError(f"model folder {folder}: {LABELS_FILE} must be a list of strings")
    if len(set(labels)) < len(labels):
        twice = sorted({label for label in labels if labels.count(label) > 1})
        raise SentimentError(
            f"model folder {folder}: {LABELS_FILE} lists {', '.join(map(repr, twice))} more "
            f"than once; every label must be distinct"
        )
    return labels


def read_model_dir(folder: str | Path, network=None) -> ModelDir:
    """The folder, checked and read for the NumPy runtime; ``network`` replaces
    weights.npz / network.json (a format-1 folder's, rebuilt from its Keras model)."""
    from sentiment_cli.runtime.network import Network

    folder = Path(folder)
    manifest = check_model_dir(folder, verify=PREDICTION)
    version = manifest["format_version"]
    config = read_config(folder)
    vocab = Vocabulary.load(folder / VOCAB_FILE)
    labels = read_labels(folder)
    if network is None:
        if version < 2:
            raise SentimentError(
                f"model folder {folder}: format version 1 holds only a Keras model; "
                f"open it with models.keras_runtime.open_model"
            )
        network = Network.load(folder)
    if network.n_outputs != len(labels):
        raise SentimentError(
            f"model folder {folder}: the model has {network.n_outputs} outputs but "
            f"{LABELS_FILE} lists {len(labels)} labels"
        )
    if network.vocab_size != len(vocab):
        raise SentimentError(
            f"model folder {folder}: {VOCAB_FILE} has {len(vocab)} tokens but the model's "
            f"embedding expects {network.vocab_size}; the vocabulary does not belong to this "
            f"model"
        )
    check_agreement(folder, config, network)
    summary = read_json(folder, SUMMARY_FILE)
    blend = read_blend(summary.get("blend") if isinstance(summary, dict) else None,
                       f"model folder {folder}: {SUMMARY_FILE}")  # fmt: skip
    return ModelDir(
        path=folder,
        vocab=vocab,
        config=config,
        labels=labels,
        summary=summary,
        history=read_json(folder, HISTORY_FILE),
        network=network,
        format_version=version,
        manifest=manifest,
        bow=read_baseline(folder, manifest, labels, blend.bag) if blend.weight else None,
        blend=blend,
    )


def check_agreement(folder: Path, config: Config, network) -> None:
    """config.yaml against network.json and weights.npz: the Keras model is rebuilt from
    the first and the trace reads the config's pooling, so they must describe one
    network; a disagreement is refused, naming the key."""
    from sentiment_cli.runtime.network import members

    m, t = config.model, config.train
    nets = members(network)
    found = {
        "train.members": (t.members, len(nets)),
        "text.max_length": (config.text.max_length, network.spec.get("max_length")),
    }
    for net in nets:
        spec, layers, arrays = net.spec, net.spec["recurrent"], net.arrays
        units = arrays[f"{layers[0]['name']}.forward.recurrent_kernel"].shape[0]
        found.update(
            {
                "model.cell": (m.cell, ",".join(sorted({str(e.get("cell")) for e in layers}))),
                "model.layers": (m.layers, len(layers)),
                "model.units": (m.units, units),
                "model.bidirectional": (m.bidirectional, spec["bidirectional"]),
                "model.pooling": (m.pooling, spec["pooling"]),
                "model.mask_padding": (m.mask_padding, spec["mask_padding"]),
                "model.embedding_dim": (m.embedding_dim, arrays["embedding"].shape[1]),
                "model.lexicon": (m.lexicon != "none", "lexicon" in spec["inputs"]),
            }
        )
    # An older network.json may not record max_length: None is not a disagreement.
    wrong = [key for key, (said, built) in found.items() if built is not None and said != built]
    if wrong:
        key = wrong[0]
        raise SentimentError(
            f"model folder {folder}: {CONFIG_FILE} says {key} is {found[key][0]!r} but "
            f"{NETWORK_FILE} / {WEIGHTS_FILE} hold {found[key][1]!r}; the files do not belong "
            f"together"
        )


def read_baseline(folder: Path, manifest: dict, labels: list[str], stem: str = "baseline"):
    """The bag of words named ``stem`` (the baseline, or the ``blend_bag`` a model blends
    in), its files checked against the manifest first (a manifest before format 3 lists
    names without hashes: nothing to check them against)."""
    from sentiment_cli.runtime import bow

    if isinstance(manifest.get("files"), dict):
        integrity.verify(folder, manifest["files"], bow.files(stem))
    baseline = bow.BagOfWords.load(folder, stem)
    if sorted(baseline.labels) != sorted(labels):
        raise SentimentError(
            f"model folder {folder}: the {stem} predicts {baseline.labels} but "
            f"{LABELS_FILE} lists {labels}; the {stem} does not belong to this model"
        )
    return baseline
