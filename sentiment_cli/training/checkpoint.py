"""The checkpoint of a training run in progress, ``OUTPUT_DIR.checkpoint/``.

It holds what the run started with (``run.json``: data and options; the vocabulary,
resolved config and labels) and, after every epoch, ``state/``: the model with its
optimizer state, the best weights so far and ``progress.json`` (epochs done,
early-stopping state, history). ``train --resume`` continues from it; it is removed
once the model folder is complete.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

from sentiment_cli.config import Config, build_config, dump_config
from sentiment_cli.errors import SentimentError
from sentiment_cli.runtime import model_folder
from sentiment_cli.runtime.integrity import file_hash
from sentiment_cli.text.vocabulary import Vocabulary

RUN_FILE = "run.json"
STATE = "state"  # replaced as a whole after every epoch
SEAL = "hashes.json"  # SHA-256 of the files beside it (and of the data), checked on resume
STATE_FILES = ("model.keras", "best_weights.npz", "progress.json")
RAY_DIR = "ray"  # train --engine ray: Ray's storage of the epoch states (distributed.py)


@dataclass(frozen=True)
class RunOptions:
    """What a run reads, as given on the command line; a resumed run reuses them."""

    data: str
    val_data: str | None
    text_column: str
    label_column: str
    force: bool
    unlabelled: str | None = None  # train --unlabelled: tweets for self-training
    start_from: str | None = None  # train --from: the model folder continued
    engine: dict | None = None  # train --engine ray: distributed.Engine's fields


def path_for(output_dir: str | Path) -> Path:
    return model_folder.neighbour(Path(output_dir), "checkpoint")


def last_state(checkpoint: Path) -> Path | None:
    """The last complete epoch state: ``state`` (or ``state.old`` if killed mid-swap),
    or of a run on Ray (``distributed.py``), the one with the most epochs done."""
    names = (STATE, f"{STATE}.old")
    local = [checkpoint / n for n in names if (checkpoint / n / "progress.json").exists()]
    found = local[:1] + sorted(ray_states(checkpoint))
    return max(found, key=_epochs_done, default=None)


def ray_states(checkpoint: Path) -> list[Path]:
    """The epoch states Ray kept under ``checkpoint`` (every fit to be resumed, every
    attempt), in no order; ``scratch-N`` fits are not resumed."""
    return [p.parent for p in (checkpoint / RAY_DIR).glob("fit-*/checkpoint_*/progress.json")]


def _epochs_done(state: Path) -> int:
    try:
        done = json.loads((state / "progress.json").read_text(encoding="utf-8"))["epochs_done"]
        return done if type(done) is int else -1
    except (OSError, ValueError, KeyError, TypeError):
        return -1


def resume_hint(output_dir: Path) -> str:
    """What an interrupted user can do next, or '' when there is nothing to resume."""
    if last_state(path_for(output_dir)) is None:
        return ""
    return f"; continue with 'sentiment-cli train --resume --output-dir {output_dir}'"


def start(
    checkpoint: Path, options: RunOptions, config: Config, vocab: Vocabulary, classes: list[str]
) -> None:
    checkpoint.mkdir(parents=True)
    vocab.save(checkpoint / model_folder.VOCAB_FILE)
    (checkpoint / model_folder.CONFIG_FILE).write_text(dump_config(config), encoding="utf-8")
    model_folder.write_json(checkpoint / model_folder.LABELS_FILE, classes)
    model_folder.write_json(checkpoint / RUN_FILE, asdict(options))
    data = {"data": options.data, "val_data": options.val_data}
    names = [model_folder.VOCAB_FILE, model_folder.CONFIG_FILE, model_folder.LABELS_FILE, RUN_FILE]
    seal(checkpoint, names, {f"{k}:{p}": file_hash(Path(p)) for k, p in data.items() if p})


def seal(folder: Path, names, more: dict[str, str] | None = None) -> None:
    """Record the SHA-256 of ``names`` in ``folder`` (and the entries of ``more``)."""
    digests = {name: file_hash(folder / name) for name in names if (folder / name).is_file()}
    model_folder.write_json(folder / SEAL, {**digests, **(more or {})})


def check_seal(folder: Path) -> None:
    """Refuse a checkpoint folder whose files (or training data) are not those it
    recorded: truncated, edited, or a different CSV at the same path. A folder written
    before seals existed has none and is read as it is."""
    if not (folder / SEAL).exists():
        return
    recorded = _read(folder, SEAL, json.loads)
    for name, digest in recorded.items() if isinstance(recorded, dict) else [(SEAL, None)]:
        kind, _, data = name.partition(":")
        path = Path(data) if data else folder / name
        if not path.is_file() or file_hash(path) != digest:
            what = f"the {kind} file {data}" if data else f"{name} in {folder}"
            raise SentimentError(
                f"--resume: {what} changed since the run began (or is damaged); start over "
                f"with --force, or put back what the run began with"
            )


def _read(folder: Path, name: str, parse):
    try:
        return parse((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError, RecursionError) as exc:
        raise SentimentError(
            f"--resume: {folder / name} cannot be read ({type(exc).__name__}); the checkpoint "
            f"is damaged: start over with --force"
        ) from None


def read_run(checkpoint: Path, output_dir: Path) -> tuple[RunOptions, Config]:
    """The options and config of the interrupted run that was writing ``output_dir``."""
    refuse_link(checkpoint)
    if last_state(checkpoint) is None:
        raise SentimentError(
            f"--resume {output_dir}: no checkpoint of an interrupted run at {checkpoint}"
        )
    check_seal(checkpoint)
    run = _read(checkpoint, RUN_FILE, json.loads)
    try:
        options = RunOptions(**run)
    except TypeError:
        raise SentimentError(f"--resume: {checkpoint / RUN_FILE} is not a run's options") from None
    raw = _read(checkpoint, model_folder.CONFIG_FILE, yaml.safe_load)
    return options, build_config(raw, f"checkpoint {checkpoint}")


def refuse_link(checkpoint: Path) -> None:
    if checkpoint.is_symlink():
        raise SentimentError(
            f"{checkpoint} is a symbolic link, not a checkpoint folder of this tool; remove it "
            f"(nothing it points to is touched)"
        )


def read_vocab_and_labels(checkpoint: Path) -> tuple[Vocabulary, list[str]]:
    labels = _read(checkpoint, model_folder.LABELS_FILE, json.loads)
    return Vocabulary.load(checkpoint / model_folder.VOCAB_FILE), labels


def write_state(checkpoint: Path, model, progress: dict, best_weights) -> None:
    """Replace ``checkpoint/state`` with this epoch's model (optimizer state included),
    best weights and progress, never leaving a half-written state behind."""
    tmp, old, final = checkpoint / f"{STATE}.tmp", checkpoint / f"{STATE}.old", checkpoint / STATE
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    model.save(tmp / "model.keras")
    if best_weights is not None:
        np.savez(tmp / "best_weights.npz", *best_weights)
    (tmp / "progress.json").write_text(json.dumps(progress, indent=2), encoding="utf-8")
    seal(tmp, STATE_FILES)
    if final.exists():
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def load_state(state: Path) -> tuple[object, dict, list | None]:
    """(compiled model with optimizer state, progress, best weights) from a state dir."""
    from sentiment_cli.models import backend

    keras = backend.keras()

    import sentiment_cli.models.layers  # noqa: F401  (registers the custom layers)
    import sentiment_cli.models.optimizers  # noqa: F401  (and the optimizers)

    check_seal(state)
    progress = _read(state, "progress.json", json.loads)
    try:
        model = keras.saving.load_model(state / "model.keras", safe_mode=True, compile=True)
        best = None
        if (state / "best_weights.npz").exists():
            with np.load(state / "best_weights.npz", allow_pickle=False) as arrays:
                best = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        Progress.check(progress)
    except Exception as exc:  # Keras, NumPy and a wrong progress.json raise many types
        raise SentimentError(
            f"--resume: the last epoch's state in {state} cannot be used "
            f"({type(exc).__name__}); start over with --force"
        ) from None
    return model, progress, best


@dataclass
class Progress:
    """Where fitting starts: epoch 0, or the state of an interrupted run."""

    initial_epoch: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    early_stopping: dict | None = None  # best, wait, best_epoch, best_weights
    stopped: bool = False  # early stopping had already ended the interrupted run
    epoch_seconds: list[float] | None = None  # --engine ray: each epoch's, on the workers

    @staticmethod
    def check(state: object) -> None:
        """Raise ValueError unless ``state`` (progress.json) has the shape a run writes."""
        ok = (
            isinstance(state, dict)
            and type(state.get("epochs_done")) is int
            and state["epochs_done"] >= 0
            and isinstance(state.get("history"), dict)
            and isinstance(state.get("early_stopping"), dict)
        )
        if not ok:
            raise ValueError("progress.json is not a run's progress")
