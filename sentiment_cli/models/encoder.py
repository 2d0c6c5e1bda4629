"""A pretrained tweet encoder: word vectors and a recurrent layer learnt once on all the
tweets we may use, where every new model starts instead of from random numbers.

An encoder is a folder (``ENCODERS`` holds the one shipped with the tool, built by
``make encoder``):

- ``encoder.json``: how it was built (sources, sizes, the command) and the text and
  model settings it was trained with;
- ``weights.npz``: ``embedding`` (one row per token of ``encoder.json``'s list),
  ``rnn.kernel``, ``rnn.recurrent_kernel`` and ``rnn.bias`` (the recurrent layer, named
  by role as in ``runtime.py``), and ``classifier.kernel`` and ``classifier.bias`` (the
  classifier of ``encoder.json``'s ``labels``; encoders built before it have none);
- ``seen.npy``: the fingerprints of every tweet it was trained on (``runtime/seen.py``),
  so that ``train`` can hold out for validation the tweets a model's start never read
  (``training/prepare.py``); encoders built before it have none.

A new model's vocabulary is its own training tokens plus the encoder's; the encoder's
words start from its vectors, the others start fresh. The recurrent layer starts from
the encoder's when its cell, width and input size match the model's first layer; the
classifier starts from the encoder's too (``model.encoder_classifier``) when, besides,
the model reads out the last state of one layer and its labels are among the
encoder's (negative / neutral / positive, or some of them): the whole network is then
transferred, and the run fine-tunes a working sentiment classifier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sentiment_cli.config import ModelConfig
from sentiment_cli.errors import SentimentError
from sentiment_cli.models.embeddings import random_start
from sentiment_cli.runtime import seen
from sentiment_cli.text.vocabulary import Vocabulary

ENCODERS = Path(__file__).resolve().parents[1] / "encoders"
SPEC_FILE = "encoder.json"
WEIGHTS_FILE = "weights.npz"
FORMAT = 1
RECURRENT = ("kernel", "recurrent_kernel", "bias")
HEAD = ("kernel", "bias")


@dataclass(frozen=True)
class Encoder:
    name: str  # as given in model.encoder
    spec: dict  # encoder.json
    tokens: tuple[str, ...]
    embedding: np.ndarray  # (len(tokens), dim), float32
    recurrent: tuple[np.ndarray, ...]  # kernel, recurrent_kernel, bias
    classifier: tuple[np.ndarray, np.ndarray] | None = None  # kernel, bias (spec's labels)

    @property
    def dim(self) -> int:
        return int(self.embedding.shape[1])


def shipped() -> list[str]:
    if not ENCODERS.is_dir():
        return []
    return sorted(p.name for p in ENCODERS.iterdir() if (p / SPEC_FILE).is_file())


def folder_of(name: str) -> Path:
    """A shipped encoder's name, or the path of an encoder folder."""
    if "/" not in name and "\\" not in name and (ENCODERS / name / SPEC_FILE).is_file():
        return ENCODERS / name
    path = Path(name)
    if (path / SPEC_FILE).is_file():
        return path
    raise SentimentError(
        f"model.encoder {name!r}: neither a shipped encoder ({', '.join(shipped()) or 'none'}) "
        f"nor a folder holding {SPEC_FILE}; set model.encoder=null to start from random vectors"
    )


@lru_cache(maxsize=2)
def load_encoder(name: str) -> Encoder:
    folder = folder_of(name)
    try:
        spec = json.loads((folder / SPEC_FILE).read_text(encoding="utf-8"))
        with np.load(folder / WEIGHTS_FILE) as arrays:
            embedding = arrays["embedding"].astype(np.float32)
            recurrent = tuple(arrays[f"rnn.{role}"].astype(np.float32) for role in RECURRENT)
            classifier = None
            if "classifier.kernel" in arrays.files:
                classifier = tuple(arrays[f"classifier.{n}"].astype(np.float32) for n in HEAD)
    except (OSError, ValueError, KeyError) as exc:
        raise SentimentError(f"model.encoder {name!r} ({folder}) cannot be read: {exc}") from None
    if spec.get("format") != FORMAT:
        raise SentimentError(
            f"model.encoder {name!r} ({folder}): format {spec.get('format')!r}, this version "
            f"of sentiment-cli reads format {FORMAT}"
        )
    tokens = tuple(spec["tokens"])
    if len(tokens) != len(embedding):
        raise SentimentError(
            f"model.encoder {name!r} ({folder}): {len(tokens)} tokens but "
            f"{len(embedding)} embedding rows"
        )
    labels = spec.get("labels")
    if classifier is not None and (
        not isinstance(labels, list) or classifier[0].shape[1:] != (len(labels),)
    ):
        raise SentimentError(
            f"model.encoder {name!r} ({folder}): its classifier does not match the labels "
            f"of {SPEC_FILE}"
        )
    return Encoder(name, spec, tokens, embedding, recurrent, classifier)


def fingerprints(name: str) -> np.ndarray | None:
    """The fingerprints of the tweets the encoder ``name`` was trained on
    (``runtime.seen``), or None where its folder keeps none."""
    folder = folder_of(name)
    if not (folder / seen.FILE).is_file():
        return None
    return seen.load(folder / seen.FILE, f"model.encoder {name!r} ({folder})")


def usable(model: ModelConfig, log) -> Encoder | None:
    """The encoder of ``model.encoder``, or None (with the reason logged) where there is
    none, where ``model.embeddings_file`` replaces it, or where the model's word vectors
    are of another size."""
    if not model.encoder or model.embeddings_file:
        return None
    encoder = load_encoder(model.encoder)
    if encoder.dim != model.embedding_dim:
        log(
            f"Encoder {model.encoder!r} not used: its word vectors have {encoder.dim} "
            f"dimensions, model.embedding_dim is {model.embedding_dim}"
        )
        return None
    return encoder


def embedding_matrix(encoder: Encoder, vocab: Vocabulary, seed: int) -> tuple[np.ndarray, int]:
    """(the start of the model's embedding, how many vocabulary words it knew): the
    encoder's vector for every word it knows, small random numbers for the others, zeros
    for padding."""
    matrix = random_start(len(vocab), encoder.dim, seed)
    known = np.array([vocab.index.get(token, -1) for token in encoder.tokens])
    rows = known >= 2  # padding and OOV keep their own rows
    matrix[known[rows]] = encoder.embedding[rows]
    return matrix, int(rows.sum())


def recurrent_start(encoder: Encoder, cell: str, units: int, input_dim: int):
    """The encoder's recurrent weights where they fit the model's first layer, else None."""
    spec = encoder.spec["model"]
    kernel = encoder.recurrent[0]
    if spec["cell"] != cell or spec["units"] != units or kernel.shape[0] != input_dim:
        return None
    return list(encoder.recurrent)


def classifier_start(encoder: Encoder, config, classes: list[str]):
    """[kernel, bias] of the encoder's classifier for ``classes`` (its columns in the
    model's label order), or None with the reason where it does not fit."""
    m = config.model
    if not m.encoder_classifier:
        return None, "model.encoder_classifier is false"
    if encoder.classifier is None:
        return None, "the encoder has no classifier (built before it was kept)"
    if m.pooling != "last" or m.layers != 1 or m.bidirectional:
        return None, "it reads out the last state of one unidirectional layer only"
    labels = encoder.spec["labels"]
    if not set(classes) <= set(labels):
        return None, f"the labels {classes} are not all among its {labels}"
    kernel, bias = encoder.classifier
    if kernel.shape[0] != m.units:
        return None, f"its input is {kernel.shape[0]} wide, model.units is {m.units}"
    columns = [labels.index(label) for label in classes]
    return [kernel[:, columns], bias[columns]], None


def keep_seen(folder: Path, read: np.ndarray, spec: dict) -> dict:
    """Write ``read``'s fingerprints to ``folder``; ``spec`` with their entry."""
    seen.save(folder, read)
    return {**spec, "seen": {"file": seen.FILE, "fingerprints": len(read)}}


def write(
    folder: Path, tokens: list[str], arrays: dict[str, np.ndarray], spec: dict, read=None
) -> None:
    """Write an encoder folder: the embedding in float16 (it is a starting point, and
    half the size), the recurrent layer and the classifier (where given) in float32,
    and ``read``'s fingerprints (``runtime.seen``; None: none kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    if read is not None:
        spec = keep_seen(folder, read, spec)
    payload = {"embedding": arrays["embedding"].astype(np.float16)}
    payload.update({f"rnn.{role}": arrays[f"rnn.{role}"].astype(np.float32) for role in RECURRENT})
    if "classifier.kernel" in arrays:
        payload.update(
            {f"classifier.{n}": arrays[f"classifier.{n}"].astype(np.float32) for n in HEAD}
        )
    np.savez_compressed(folder / WEIGHTS_FILE, **payload)
    spec = {"format": FORMAT, **spec, "tokens": tokens}
    (folder / SPEC_FILE).write_text(json.dumps(spec, ensure_ascii=False, indent=1), "utf-8")
