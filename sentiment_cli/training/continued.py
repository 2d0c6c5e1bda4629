"""``train --from DIR``: a new model folder that continues a trained one on new rows.

The trained folder is read (and checked) as every command reads one, and left as it
is. Its config is the new run's, with ``--set`` changing how training goes
(``train.*``) and which new words join (``text.min_count``, ``text.max_tokens``), never
the network's shape or the tokenizer. Its words keep their ids, the new rows' words are
appended; its labels stay, new ones are added. Every weight starts from the folder's
(each member of an ensemble from its own): the word vectors of the words it knew, the
recurrent layers, the attention, and the classifier's column of every label it knew.
New words start from small random vectors and new labels from a zero column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment_cli.config import Config, build_config, parse_override, with_overrides
from sentiment_cli.errors import SentimentError
from sentiment_cli.text.vocabulary import Vocabulary

Log = Callable[[str], None]

# What --set may change in a continued run: the rest describes the network's weights
# or the ids its words have, which the folder fixes.
FREE = {"text.min_count", "text.max_tokens"}
FREE_SECTIONS = {"train"}
# Settings of the first run that do not apply to a continued one, and the value it gets.
RESET = {
    ("model", "subwords"): 0,  # the folder holds its n-gram means folded into each word
    ("train", "pretrain_data"): None,  # pretraining happened before the first run
}


@dataclass
class Origin:
    """The trained model folder a run continues."""

    path: Path
    config: Config
    vocab: Vocabulary
    labels: list[str]
    networks: list  # the NumPy Network of each member (one for a single model)
    weights_sha256: str
    seen: Any = None  # the fingerprints of the tweets it was trained on (runtime.seen)

    def summary(self, vocab: Vocabulary, classes: list[str]) -> dict[str, Any]:
        """The ``continued_from`` entry of the new folder's summary.json."""
        return {
            "model_dir": str(self.path),
            "weights_sha256": self.weights_sha256,
            "labels": self.labels,
            "new_labels": [c for c in classes if c not in self.labels],
            "words": len(self.vocab) - 2,
            "new_words": len(vocab) - len(self.vocab),
        }


def read_origin(folder: str | Path) -> Origin:
    """The model folder ``--from`` names, checked as ``predict`` checks it."""
    from sentiment_cli.runtime import seen
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.runtime.network import members

    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise SentimentError(f"--from {folder}: no such model folder")
    bundle = read_model_dir(folder)
    if bundle.format_version < 3:
        raise SentimentError(
            f"--from {folder}: written by an older sentiment-cli (format version "
            f"{bundle.format_version}); only format-3 folders can be continued: train it anew"
        )
    weights = bundle.manifest.get("files", {}).get("weights.npz", {})
    return Origin(
        path=folder,
        config=bundle.config,
        vocab=bundle.vocab,
        labels=list(bundle.labels),
        networks=members(bundle.network),
        weights_sha256=str(weights.get("sha256", "")),
        seen=seen.read(folder, bundle.manifest),
    )


def continued_config(origin: Origin, overrides: Sequence[str] = ()) -> Config:
    """The folder's config with ``overrides`` (``section.key=value``) applied: only the
    settings that leave its network and word ids as they are."""
    merged = with_overrides(origin.config, overrides).to_dict()  # unknown keys refused
    for text in overrides:
        (section, key), _ = parse_override(text)
        name = f"{section}.{key}"
        if section not in FREE_SECTIONS and name not in FREE:
            raise SentimentError(
                f"--set {text}: --from continues {origin.path} with its network and tokenizer "
                f"as they are; {name} cannot change (train.* settings, text.min_count and "
                f"text.max_tokens can)"
            )
    for (section, key), value in RESET.items():
        merged[section][key] = value
    config = build_config(merged, "--set")
    check_config(origin, config)
    return config


def check_config(origin: Origin, config: Config) -> None:
    """Refuse a config whose network or tokenizer differ from the folder's (the Python
    API's ``train(..., start_from=DIR, config=...)`` gets here with any config)."""
    old, new = origin.config.to_dict(), config.to_dict()
    for (section, key), value in RESET.items():
        old[section][key] = value
    for section in ("text", "model"):
        for key, value in old[section].items():
            name = f"{section}.{key}"
            if name not in FREE and new[section].get(key) != value:
                raise SentimentError(
                    f"--from {origin.path}: {name} is {value!r} in that model and "
                    f"{new[section].get(key)!r} here; a continued model keeps its network "
                    f"and tokenizer"
                )
    members = len(origin.networks)
    if config.train.members != members:
        raise SentimentError(
            f"--from {origin.path}: that model has {members} member(s); train.members "
            f"must stay {members} (each member continues from its own weights)"
        )


def check_labels(origin: Origin, classes: list[str], data_path) -> None:
    """The new rows must hold every label the model knows: a label with no row would
    be unlearned, not kept."""
    missing = [label for label in origin.labels if label not in classes]
    if missing:
        raise SentimentError(
            f"{data_path}: no row labelled {', '.join(map(repr, missing))}, which the model "
            f"in {origin.path} predicts; training on it would unlearn "
            f"{'that label' if len(missing) == 1 else 'those labels'}. Add such rows (the old "
            f"ones will do)"
        )


def start_member(
    origin: Origin, member: int, config: Config, vocab: Vocabulary, classes: list[str]
):
    """The Keras model of the continued run for ``member`` (0 for a single model): the
    folder's weights, the word table and classifier grown to ``vocab`` and ``classes``."""
    from sentiment_cli.models.build import build_model
    from sentiment_cli.models.embeddings import random_start
    from sentiment_cli.models.keras_runtime import set_inner_layers
    from sentiment_cli.training.batches import by_length

    net = origin.networks[member]
    arrays = net.arrays
    known = np.asarray(arrays["embedding"])
    embedding = random_start(len(vocab), known.shape[1], config.train.seed + member)
    embedding[: len(known)] = known
    lexicon = None
    if "lexicon" in arrays:
        from sentiment_cli.text.lexicon import lexicon_matrix

        lexicon, _ = lexicon_matrix(vocab)
        lexicon[: len(known)] = np.asarray(arrays["lexicon"])
    model = build_model(
        config, len(vocab), len(classes), embedding, lexicon, None, by_length(config)
    )
    set_inner_layers(model, net)
    model.get_layer("classifier").set_weights(
        grown_classifier(
            arrays["classifier.kernel"], arrays["classifier.bias"], origin.labels, classes
        )  # fmt: skip
    )
    return model


def grown_classifier(kernel, bias, labels: list[str], classes: list[str]):
    """[kernel, bias] with a column per class of ``classes``: a known label's column
    as trained, a new label's zeros with the mean bias (it starts as likely as the
    average label, and the fit moves it)."""
    kernel, bias = np.asarray(kernel), np.asarray(bias)
    new_kernel = np.zeros((kernel.shape[0], len(classes)), dtype=kernel.dtype)
    new_bias = np.full(len(classes), bias.mean(), dtype=bias.dtype)
    for j, label in enumerate(classes):
        if label in labels:
            new_kernel[:, j] = kernel[:, labels.index(label)]
            new_bias[j] = bias[labels.index(label)]
    return [new_kernel, new_bias]


def started(origin: Origin, member: int, config: Config, prepared, log: Log):
    """(compiled model, the ``pretrained_embeddings`` entry) for ``fit.model_and_progress``."""
    from sentiment_cli.models.build import compile_model

    classes = prepared.splits.classes
    model = start_member(origin, member, config, prepared.vocab, classes)
    compile_model(model, config.train)
    if member == 0:
        grown = origin.summary(prepared.vocab, classes)
        log(
            f"Continuing {origin.path}: {grown['words']} words and the weights as trained, "
            f"{grown['new_words']} new word(s)"
            + (f", new label(s) {', '.join(grown['new_labels'])}" if grown["new_labels"] else "")
        )
    found = {
        "source": f"model {origin.path}",
        "found": len(origin.vocab) - 2,
        "vocabulary": len(prepared.vocab) - 2,
    }
    return model, found


def same_folder(origin: Origin, output_dir: Path) -> bool:
    try:
        return Path(output_dir).resolve() == origin.path
    except (OSError, RuntimeError):
        return False


def reset_notes(origin: Origin) -> list[str]:
    """What the first run's config had that the continued run drops, as log lines."""
    notes = []
    for (section, key), value in RESET.items():
        was = getattr(getattr(origin.config, section), key)
        if was != value:
            notes.append(f"{section}.{key} was {was!r} in that run; a continued run uses {value!r}")
    return notes
