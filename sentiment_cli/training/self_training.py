"""``train --unlabelled FILE``: self-training on the user's unlabelled tweets of the domain.

Users have far more unlabelled tweets of their domain than labels. The run reads up to
``MAX_UNLABELLED`` of them (a uniform sample of a larger file, in bounded memory); their
words join the vocabulary, so words of the domain that no label holds get a row of
their own. The model trained on the labels (the teacher) then labels them; of each
label, the tweets it is surest of are kept, in the shares the labels have, up to
``train.pseudo_labels`` per labelled training tweet. A new model (the student) starts
from the encoder again and trains on the labelled tweets and those, each pseudo-labelled
one weighing ``train.pseudo_weight`` of a labelled one, with the same validation split,
early stopping and everything after. ``summary.json``'s ``self_training`` records what
was read, chosen and how the teacher did on validation.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.errors import SentimentError

Log = Callable[[str], None]
MAX_UNLABELLED = 100_000  # tweets read from --unlabelled (a uniform sample of more)


def read_unlabelled(path: str | Path | None, text_column: str, seed: int, log: Log):
    """Up to MAX_UNLABELLED non-empty texts of ``path`` (a CSV's text column, a Parquet
    file, or one text per line), a uniform sample (seeded) where it holds more; None
    without a path. Read before TensorFlow loads, so bad input is refused at once."""
    if path is None:
        return None
    from sentiment_cli.io.streams import iter_texts

    rng = random.Random(seed)
    kept: list[str] = []
    seen = 0
    for chunk in iter_texts(str(path), text_column):
        for text in chunk:
            if not text.strip():
                continue
            seen += 1
            if len(kept) < MAX_UNLABELLED:
                kept.append(text)
            else:  # reservoir sampling: every text has the same chance to be kept
                slot = rng.randrange(seen)
                if slot < MAX_UNLABELLED:
                    kept[slot] = text
    if not kept:
        raise SentimentError(f"--unlabelled {path}: no text to read (column {text_column!r})")
    sampled = f", a random {len(kept):,} of them" if seen > len(kept) else ""
    log(f"Unlabelled: {seen:,} tweets in {path}{sampled}")
    return kept


def pseudo_labels(model, config: Config, prepared, log: Log) -> tuple[np.ndarray, np.ndarray, dict]:
    """(ids, label ids, summary) of the unlabelled tweets the teacher is surest of, in
    the shares of the training labels."""
    ids = prepared.unlabelled
    probs = model.predict(ids, batch_size=256, verbose=0)
    guess, confidence = probs.argmax(axis=1), probs.max(axis=1)
    real = prepared.real_train[0].labels
    classes = prepared.splits.classes
    budget = min(len(ids), int(round(config.train.pseudo_labels * len(real))))
    shares = Counter(real)
    chosen: list[np.ndarray] = []
    per_label = {}
    for c, label in enumerate(classes):
        quota = int(round(budget * shares[label] / len(real)))
        rows = np.flatnonzero(guess == c)
        rows = rows[np.argsort(-confidence[rows], kind="stable")][:quota]
        chosen.append(rows)
        per_label[label] = {
            "tweets": int(len(rows)),
            "lowest_confidence": round(float(confidence[rows].min()), 4) if len(rows) else None,
        }
    rows = np.concatenate(chosen)
    log(
        f"Self-training: {len(rows):,} of {len(ids):,} unlabelled tweets pseudo-labelled ("
        + ", ".join(f"{label}={v['tweets']}" for label, v in per_label.items())
        + f"), each weighing {config.train.pseudo_weight:g} of a labelled one"
    )
    summary = {"unlabelled_read": int(len(ids)), "pseudo_labelled": int(len(rows))}
    return ids[rows], guess[rows].astype("int32"), {**summary, "per_label": per_label}


def with_pseudo_labels(prepared, ids: np.ndarray, labels: np.ndarray):
    """``prepared`` with the pseudo-labelled tweets after its training rows."""
    from sentiment_cli.text.vocabulary import Encoded

    x = prepared.x_train
    width = x.ids.shape[1]
    lengths = (ids > 0).sum(axis=1)
    x_train = Encoded(
        ids=np.concatenate([x.ids, ids[:, :width]]),
        lengths=np.concatenate([x.lengths, lengths]),
        truncated=x.truncated,
    )
    return dataclasses.replace(
        prepared,
        x_train=x_train,
        y_train=np.concatenate([prepared.y_train, labels]),
        pseudo=len(labels),
    )


def self_train(model, config: Config, prepared, history, fitting, log: Log):
    """The student: (model, history, seconds fitting, members, ``self_training``
    entry). ``fitting(config, prepared)`` trains a new model as the run does."""
    from sentiment_cli.training.finish import validate

    teacher, best_epoch = validate(model, config, prepared, history, lambda message: None)
    ids, labels, summary = pseudo_labels(model, config, prepared, log)
    student = with_pseudo_labels(prepared, ids, labels)
    train = dataclasses.replace(config.train, checkpoint=False)
    model, history, seconds, members = fitting(dataclasses.replace(config, train=train), student)
    summary.update(
        weight=config.train.pseudo_weight,
        teacher_best_epoch=best_epoch,
        teacher_validation={k: teacher[k] for k in ("macro_f1", "macro_recall", "accuracy")},
    )
    return model, history, seconds, members, summary
